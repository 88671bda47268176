import hashlib

from django.conf import settings
from django.db import connection, models


class EmailDelivery(models.Model):
    """One email we decided to send. The unique key makes sending idempotent: a retried or
    duplicated task finds the row already sent and sends nothing.

    Only ids and the kind are stored; the message is built when it is sent, so no email body
    (and no link token) rests in the database.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=64)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    to_email = models.EmailField()
    # The row the email is about (an invitation, a request), read by its builder.
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set instead of sent_at when, by sending time, there was nothing left to say (for
    # example an invitation revoked before the worker got to it).
    skipped_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    def message_id(self) -> str:
        schema = getattr(connection, "schema_name", "public")
        digest = hashlib.sha256(f"{schema}:{self.key}".encode()).hexdigest()
        return f"<{digest[:40]}@{settings.PLATFORM_DOMAIN}>"
