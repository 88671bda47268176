"""An email backend for real-worker tests (tests/worker.py), selected through the worker's
EMAIL_BACKEND environment variable; the application never uses it.

It is Django's file backend with two differences:

- every message gets a file of its own. Django names a file by the second and the id() of its
  backend object, and CPython reuses ids, so two messages sent within one second can land in
  one file, which tests/worker.py rightly refuses to read;
- `SWASTH_TEST_EMAIL_HOLD` = `before:N` or `after:N` holds this process's Nth message, before
  it is written or after it is written and before `send_messages` returns, and touches the
  file named by `SWASTH_TEST_EMAIL_HOLD_MARKER` so the test knows. The hold lasts until the
  process is killed, which is the point: a test kills the worker at a moment it chose rather
  than at a moment it hoped for. (It gives up after `HOLD_LIMIT` seconds and raises, so a test
  that forgot to kill fails instead of hanging.)
"""

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends import filebased

HOLD_LIMIT = 60.0

_sent_by_this_process = 0


def _hold(moment: str) -> None:
    setting = os.environ.get("SWASTH_TEST_EMAIL_HOLD", "")
    if not setting:
        return
    held_moment, _, number = setting.partition(":")
    if held_moment != moment or int(number) != _sent_by_this_process:
        return
    Path(os.environ["SWASTH_TEST_EMAIL_HOLD_MARKER"]).touch()
    time.sleep(HOLD_LIMIT)
    raise RuntimeError(f"email {number} was held {moment} sending and never killed")


class FilePerMessageBackend(filebased.EmailBackend):
    def _get_filename(self) -> str:
        # Nanoseconds first, so that sorting the names still lists the oldest first.
        return os.path.join(self.file_path, f"{time.time_ns()}-{uuid.uuid4().hex}.log")

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        global _sent_by_this_process
        sent = 0
        for message in email_messages:
            _sent_by_this_process += 1
            _hold("before")
            # The file backend opens a file per call when it has none open: one per message.
            sent += super().send_messages([message]) or 0
            _hold("after")
        return sent
