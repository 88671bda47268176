"""Each kind of email is built by a function registered by the app that owns it."""

from collections.abc import Callable

from django.core.mail import EmailMultiAlternatives

from tenant_apps.mail.models import EmailDelivery

# A builder returns the message, or None when there is nothing left to send.
Builder = Callable[[EmailDelivery], EmailMultiAlternatives | None]

_builders: dict[str, Builder] = {}


def email_kind(kind: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        _builders[kind] = builder
        return builder

    return register


def build_message(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    try:
        builder = _builders[delivery.kind]
    except KeyError:
        raise LookupError(f"No email builder registered for kind {delivery.kind!r}") from None
    return builder(delivery)
