from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models

from tenant_apps.clients.models import Client
from tenant_apps.documents.files import KINDS, FileKind


def default_quota_bytes() -> int:
    return int(settings.DOCUMENTS_DEFAULT_QUOTA_BYTES)


class DocumentSettings(models.Model):
    """The practice's document settings: one row per practice schema (pk 1)."""

    clients_may_upload = models.BooleanField(
        "clients may upload files",
        default=False,
        help_text="Clients can send files (an insurance card photo, a referral letter) "
        "from Documents in the portal.",
    )
    # Set by the platform per plan; the owner sees usage against it.
    quota_bytes = models.BigIntegerField("storage quota (bytes)", default=default_quota_bytes)

    class Meta:
        verbose_name_plural = "document settings"
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(pk=1), name="documents_settings_singleton"),
        ]

    def __str__(self) -> str:
        return "Document settings"

    @classmethod
    def load(cls) -> "DocumentSettings":
        found, _created = cls.objects.get_or_create(pk=1)
        return found


class Document(models.Model):
    """A file the practice keeps: shared by staff, kept in the library, or sent by a client.

    The bytes live in private storage under `storage_key`; `original_name` is metadata only.
    Deleting through `services.delete_document` removes the bytes too. Rows that go with a
    deleted client (CASCADE) leave their objects behind: clients are made inactive in the
    product, not deleted, so that only happens from a shell.
    """

    class Source(models.TextChoices):
        STAFF = "staff", "Practice"
        CLIENT = "client", "Client"

    title = models.CharField(max_length=200)
    original_name = models.CharField(max_length=255)
    storage_key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16, choices=[(k.value, v.label) for k, v in KINDS.items()])
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.STAFF)
    in_library = models.BooleanField(default=False)
    # For files a client sent: whose they are, and whether any staff member has opened them.
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="uploaded_documents",
    )
    staff_seen_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["in_library", "-created_at"]),
            models.Index(
                fields=["client", "staff_seen_at"], name="documents_client_uploads_unseen"
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="documents_not_empty"),
            models.CheckConstraint(
                condition=models.Q(source="staff") | models.Q(client__isnull=False),
                name="documents_client_upload_has_client",
            ),
        ]

    def __str__(self) -> str:
        return f"Document #{self.pk}"

    @property
    def file_kind(self) -> FileKind:
        return FileKind(self.kind)

    @property
    def content_type(self) -> str:
        return KINDS[self.file_kind].content_type

    @property
    def kind_label(self) -> str:
        return KINDS[self.file_kind].label

    @property
    def previews_inline(self) -> bool:
        return KINDS[self.file_kind].inline

    @property
    def is_new_for_staff(self) -> bool:
        return self.source == self.Source.CLIENT and self.staff_seen_at is None


class DocumentShare(models.Model):
    """One document shared with one client, until revoked. Sharing again after a revoke is a
    new share, new to the client again."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="shares")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="document_shares")
    message = models.TextField(blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    first_downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-shared_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["client", "revoked_at", "-shared_at"]),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["document", "client"],
                condition=models.Q(revoked_at__isnull=True),
                name="documents_one_active_share",
            ),
        ]

    def __str__(self) -> str:
        return f"Share #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def first_opened_at(self) -> datetime | None:
        moments = [m for m in (self.first_viewed_at, self.first_downloaded_at) if m]
        return min(moments) if moments else None

    @property
    def is_new(self) -> bool:
        return self.first_viewed_at is None and self.first_downloaded_at is None
