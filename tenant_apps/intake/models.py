"""Form templates and their immutable versions, the forms sent to clients, their answers and
signatures.

A template's questions are never edited in place: every save that changes them creates a
`FormVersion`, a JSON snapshot whose hash is stored beside it, and a form sent to a client is
pinned to the version current when it was sent. Once a client submits, the database refuses
to change the answers (see migration 0002); signatures are append-only.
"""

from datetime import date, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from tenant_apps.clients.models import Client
from tenant_apps.intake.canonical import sha256_hex
from tenant_apps.intake.definitions import KINDS

REMINDER_COOLDOWN = timedelta(minutes=15)


class FormTemplate(models.Model):
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=list(KINDS.items()), default="other")
    current_version = models.ForeignKey(
        "FormVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set on the templates of the built-in library; seeding skips a key it finds.
    library_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # A standard measure whose items and scoring must stay as published: duplicate to adapt.
    is_standard = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return f"Form template #{self.pk}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class FormVersion(models.Model):
    """One immutable snapshot of a template's definition (see definitions.py)."""

    template = models.ForeignKey(FormTemplate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    # SHA-256 of the definition's canonical JSON.
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["template", "-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["template", "number"], name="intake_version_number"),
        ]

    def __str__(self) -> str:
        return f"Form version #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Form versions are immutable; create a new version")
        self.content_hash = sha256_hex(self.definition)
        super().save(*args, **kwargs)

    @property
    def title(self) -> str:
        return str(self.definition["title"])

    @property
    def question_count(self) -> int:
        return sum(
            1 for q in self.definition["questions"] if q["type"] not in ("heading", "instructions")
        )


class FormRequest(models.Model):
    """Forms sent to a client together (an intake packet), in the order chosen."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="form_requests")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Shown to the client in the portal only, never in an email.
    message = models.TextField(blank=True, max_length=1000)
    # A day in the practice's zone: overdue from the next day on.
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Form request #{self.pk}"

    def reminder_available_at(self) -> Any:
        last = self.last_reminded_at or self.created_at
        return last + REMINDER_COOLDOWN


class Submission(models.Model):
    """One form of a request: the version the client sees, their answers and their status.

    While open, `answers` is the client's draft, saved as they type; on submit it becomes the
    cleaned answers and the row is frozen (the database refuses later changes to them).
    """

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        VIEWED = "viewed", "Viewed"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES: ClassVar = (Status.SENT, Status.VIEWED, Status.IN_PROGRESS)

    request = models.ForeignKey(FormRequest, on_delete=models.PROTECT, related_name="submissions")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="form_submissions")
    template = models.ForeignKey(FormTemplate, on_delete=models.PROTECT, related_name="sent_forms")
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="submissions")
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENT)
    answers = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # SHA-256 over the rendered document, the answers and the signature (services.py).
    document_hash = models.CharField(max_length=64, blank=True)
    score = models.IntegerField(null=True, blank=True)
    score_band = models.CharField(max_length=80, blank=True)
    # Notes for the clinician (e.g. a safety follow-up); never shown to the client or emailed.
    alerts = models.JSONField(default=list, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["request", "position", "id"]
        indexes: ClassVar = [
            models.Index(fields=["client", "status"]),
            models.Index(fields=["status", "reviewed_at"]),
        ]

    def __str__(self) -> str:
        return f"Form submission #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED

    def is_overdue_on(self, today: date) -> bool:
        due = self.request.due_date
        return self.is_open and due is not None and today > due

    def status_on(self, today: date) -> tuple[str, str]:
        """(code, label) as staff and client see it; overdue is derived from the due date."""
        if self.is_overdue_on(today):
            return "overdue", "Overdue"
        return self.status, self.get_status_display()


class Signature(models.Model):
    """An electronic signature on a submission: by the client (or their parent or guardian),
    or a clinician's countersignature. Append-only (the database refuses UPDATE/DELETE)."""

    class Role(models.TextChoices):
        SIGNER = "signer", "Signer"
        COUNTERSIGNER = "countersigner", "Countersigner"

    class Relationship(models.TextChoices):
        SELF = "self", "Self"
        PARENT = "parent", "Parent"
        GUARDIAN = "guardian", "Legal guardian"
        OTHER = "other", "Other"
        CLINICIAN = "clinician", "Clinician"

    class Method(models.TextChoices):
        DRAWN = "drawn", "Drawn"
        TYPED = "typed", "Typed"

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="signatures")
    role = models.CharField(max_length=16, choices=Role.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The signer's account id at signing time, kept even if the account is later removed.
    signer_user_id = models.BigIntegerField()
    full_name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    relationship_detail = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=8, choices=Method.choices)
    # A PNG data URL for a drawn signature; empty for a typed one.
    image = models.TextField(blank=True)
    typed_text = models.CharField(max_length=150, blank=True)
    agreed_to_sign_electronically = models.BooleanField()
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    document_hash = models.CharField(max_length=64)

    class Meta:
        ordering: ClassVar = ["signed_at", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["submission", "role"], name="intake_one_signature_per_role"
            ),
            models.CheckConstraint(
                condition=models.Q(agreed_to_sign_electronically=True),
                name="intake_signature_needs_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"Signature #{self.pk}"


class AnswerFile(models.Model):
    """A file a client attached to a file-upload question, kept in private storage under
    the practice's prefix and served only through the checked download views."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="files")
    question_key = models.CharField(max_length=40)
    storage_key = models.CharField(max_length=300, unique=True)
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"Answer file #{self.pk}"
