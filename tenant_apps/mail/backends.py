"""An email backend for trying the product locally: prints each message readably.

Django's console backend prints the MIME source, where long links are folded with
quoted-printable soft line breaks and cannot be pasted into a browser as they are.
"""

import sys
import threading
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class ReadableConsoleBackend(BaseEmailBackend):
    _lock = threading.Lock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with self._lock:
            for message in email_messages:
                sys.stdout.write(
                    f"\n----- email -----\nTo: {', '.join(message.to)}\n"
                    f"Subject: {message.subject}\n\n{message.body}\n----- end of email -----\n"
                )
            sys.stdout.flush()
        return len(email_messages)
