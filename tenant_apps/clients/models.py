import base64
import hashlib
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tenant_apps.accounts.models import normalize_email

INVITATION_LIFETIME = timedelta(days=7)
RESEND_COOLDOWN = timedelta(seconds=60)


class Client(models.Model):
    """A person the practice serves. A portal account (`user`) exists once they accept an
    invitation; until then the record is the practice's alone."""

    class Status(models.TextChoices):
        PROSPECTIVE = "prospective", "Prospective"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    legal_first_name = models.CharField("legal first name", max_length=100)
    legal_last_name = models.CharField("legal last name", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True, help_text="Needed to invite the client to the portal.")
    mobile_phone = models.CharField(max_length=32, blank=True)
    home_phone = models.CharField(max_length=32, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_phone = models.CharField(max_length=32, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    insurance_payer = models.CharField(max_length=120, blank=True)
    insurance_member_id = models.CharField(max_length=60, blank=True)
    insurance_group_number = models.CharField(max_length=60, blank=True)
    insurance_policy_holder = models.CharField(max_length=150, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    assigned_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_clients",
    )
    staff_notes = models.TextField("notes for staff", blank=True)
    # Set when this client's portal email belongs to another client who is their contact
    # (a parent, say); only then may two clients share an address.
    contact_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="dependants"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client_record",
    )
    requested_access_at = models.DateTimeField(null=True, blank=True)
    # The one-time token of the workspace form that added this client: the same form sent
    # again (a double click, a retried request) finds this row instead of adding a twin.
    form_token = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["legal_last_name", "legal_first_name", "id"]
        indexes: ClassVar = [
            models.Index(Lower("email"), name="clients_client_email_ci"),
            models.Index(fields=["status", "assigned_clinician"]),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email="") & models.Q(contact_of__isnull=True),
                name="clients_client_portal_email_unique",
            ),
            models.UniqueConstraint(
                fields=["form_token"],
                condition=~models.Q(form_token=""),
                name="clients_client_form_token_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Client #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}".strip()

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}".strip()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class PortalInvitation(models.Model):
    """A single-use link that lets a client set a password and open their portal.

    Only a hash of the token is stored, and only once the email is built: the raw token
    exists in the email alone. A newer invitation supersedes older ones.

    The token is derived (a keyed HMAC of the invitation's id and creation time), not random:
    delivery is at-least-once, and a worker killed after the mail server took the message but
    before the commit sends it again. The second copy then carries the same working link.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Invitation #{self.pk}"

    @classmethod
    def new_expiry(cls) -> Any:
        return timezone.now() + INVITATION_LIFETIME

    def issue_token(self) -> str:
        digest = salted_hmac(
            "tenant_apps.clients.PortalInvitation",
            f"{self.pk}:{self.created_at.isoformat()}",
            algorithm="sha256",
        ).digest()
        raw = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        self.token_hash = hash_token(raw)
        self.save(update_fields=["token_hash"])
        return raw

    def is_usable_at(self, moment: Any) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.superseded_at is None
            and moment < self.expires_at
        )

    @property
    def resend_available_at(self) -> Any:
        return self.created_at + RESEND_COOLDOWN


# What a client may update through a demographic information request, in form order.
DEMOGRAPHIC_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "email",
    "mobile_phone",
    "home_phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "insurance_payer",
    "insurance_member_id",
    "insurance_group_number",
    "insurance_policy_holder",
)


class DemographicRequest(models.Model):
    """The practice asks a client to confirm or update their details.

    The client's draft is saved as they type; what they submit waits for a staff review
    and only accepted fields are written to the client record.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the client"
        SUBMITTED = "submitted", "Ready for review"
        REVIEWED = "reviewed", "Reviewed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="demographic_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    draft = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    submitted_values = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    accepted_fields = models.JSONField(default=list, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Demographic request #{self.pk}"

    @property
    def is_open_for_client(self) -> bool:
        return self.status == self.Status.PENDING
