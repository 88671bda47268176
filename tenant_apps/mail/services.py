from django.db import IntegrityError, transaction

from config.celery import enqueue_on_commit
from tenant_apps.accounts.models import User
from tenant_apps.mail.models import EmailDelivery


def queue_email(
    *, kind: str, key: str, recipient: User, object_id: int | None = None
) -> EmailDelivery:
    """Record an email to send and enqueue its delivery after commit.

    Queuing the same key twice is harmless: the second call finds the first row.
    """
    try:
        with transaction.atomic():
            delivery = EmailDelivery.objects.create(
                key=key,
                kind=kind,
                recipient=recipient,
                to_email=recipient.email,
                object_id=object_id,
            )
    except IntegrityError:
        return EmailDelivery.objects.get(key=key)

    from tenant_apps.mail.tasks import deliver_email

    enqueue_on_commit(deliver_email, delivery.pk)
    return delivery
