"""Writes for clients: records, portal invitations, access requests, demographic requests."""

import logging
from datetime import date
from typing import Any

from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from tenant_apps.accounts.models import Role, User, normalize_email
from tenant_apps.accounts.user_cache import forget_user
from tenant_apps.audit.services import record_event
from tenant_apps.clients import selectors
from tenant_apps.clients.models import (
    DEMOGRAPHIC_FIELDS,
    Client,
    DemographicRequest,
    PortalInvitation,
    hash_token,
)
from tenant_apps.mail.services import queue_email
from tenant_apps.portal.null_characters import refuse_null_characters

logger = logging.getLogger(__name__)

CLIENT_INVITATION = "client_invitation"
DEMOGRAPHICS_REQUESTED = "demographics_requested"
ACCESS_REQUESTED = "access_requested"

# What a client is told when the address they chose is taken: it must not confirm that
# someone else in the practice uses it.
EMAIL_REFUSED_FOR_CLIENT_MESSAGE = (
    "This email address can't be used for your portal sign-in. Please contact the practice."
)
EMAIL_IN_USE_MESSAGE = (
    "Another client of this practice already uses this email address for the portal. "
    "Two clients can share an address only when one is the other's contact."
)


def _check_email_free(email: str, *, client: Client | None) -> None:
    if not email or (client is not None and client.contact_of_id is not None):
        return
    others = Client.objects.filter(email=email, contact_of__isnull=True)
    if client is not None and client.pk:
        others = others.exclude(pk=client.pk)
    if others.exists():
        raise ValidationError({"email": EMAIL_IN_USE_MESSAGE})


def save_client(client: Client, *, actor: User, changed: list[str] | None = None) -> Client:
    """Create or update a client record; `changed` names the fields the form changed."""
    creating = client.pk is None
    client.email = normalize_email(client.email)
    _check_email_free(client.email, client=client)
    try:
        with transaction.atomic():
            if creating:
                client.save()
            else:
                client.save(update_fields=[*(changed or []), "updated_at"] if changed else None)
            if client.user_id and changed and "email" in changed and client.email:
                User.objects.filter(pk=client.user_id).update(email=client.email)
                forget_user(client.user_id)
            record_event(
                actor,
                "client.created" if creating else "client.updated",
                target=client,
                fields=sorted(changed or []),
            )
    except IntegrityError as error:
        raise ValidationError({"email": EMAIL_IN_USE_MESSAGE}) from error
    return client


def add_client(client: Client, *, actor: User, form_token: str) -> Client:
    """Create a client from the workspace form. Its one-time token makes the same form sent
    twice, even at the same moment, return the client the first submit added. (The view looks
    for that client before validating the form; here the unique token settles a race.)"""
    client.form_token = form_token[:64]
    try:
        return save_client(client, actor=actor)
    except ValidationError:
        # A concurrent submit of the same form took the token (or the email address) first.
        earlier = selectors.client_added_by_form(actor, form_token)
        if earlier is None:
            raise
        return earlier


# Invitations ---------------------------------------------------------------------------


class InvitationError(ValidationError):
    pass


def invite_client(client: Client, *, actor: User) -> PortalInvitation:
    """Send a new portal invitation; it supersedes every earlier one of this client."""
    if not client.email:
        raise InvitationError("Add an email address before inviting this client.")
    if client.user and client.user.is_active and client.user.has_usable_password():
        raise InvitationError("This client already has an active portal account.")

    now = timezone.now()
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        previous = locked.invitations.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, superseded_at__isnull=True
        )
        last = previous.order_by("-created_at").first()
        if last is not None and now < last.resend_available_at:
            wait = int((last.resend_available_at - now).total_seconds()) + 1
            raise InvitationError(f"An invitation was just sent. You can resend in {wait} s.")
        previous.update(superseded_at=now)
        invitation = PortalInvitation.objects.create(
            client=locked, sent_by=actor, expires_at=PortalInvitation.new_expiry()
        )
        user = _portal_user_for(locked)
        queue_email(
            kind=CLIENT_INVITATION,
            key=f"{CLIENT_INVITATION}:{invitation.pk}",
            recipient=user,
            object_id=invitation.pk,
        )
        record_event(actor, "client.invited", target=locked, invitation=invitation.pk)
    return invitation


def _portal_user_for(client: Client) -> User:
    """The client's account, created without a password until they accept an invitation."""
    if client.user_id:
        user = User.objects.get(pk=client.user_id)
        if user.email != client.email:
            user.email = client.email
            user.save(update_fields=["email"])
        return user
    if User.objects.filter(email=client.email).exists():
        raise InvitationError(
            "This email address already belongs to another portal account of this practice."
        )
    user = User.objects.create_user(client.email, full_name=client.display_name, role=Role.CLIENT)
    client.user = user
    client.save(update_fields=["user", "updated_at"])
    return user


def revoke_invitation(client: Client, *, actor: User) -> int:
    now = timezone.now()
    with transaction.atomic():
        revoked = client.invitations.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, superseded_at__isnull=True
        ).update(revoked_at=now)
        if client.user_id:
            User.objects.filter(pk=client.user_id, role=Role.CLIENT).update(is_active=False)
            forget_user(client.user_id)
        record_event(actor, "client.invitation_revoked", target=client, count=revoked)
    return revoked


def find_usable_invitation(raw_token: str) -> PortalInvitation | None:
    invitation = (
        PortalInvitation.objects.select_related("client", "client__user")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    if invitation is None or not invitation.is_usable_at(timezone.now()):
        return None
    return invitation


def accept_invitation(raw_token: str, *, password: str, request: HttpRequest) -> Client:
    """Activate the client's account with their chosen password and sign them in.

    The token is single use: the row is locked, checked and marked accepted in one
    transaction, so a double submit or a replay finds it used.
    """
    with transaction.atomic():
        invitation = (
            PortalInvitation.objects.select_for_update()
            .filter(token_hash=hash_token(raw_token))
            .first()
        )
        if invitation is None or not invitation.is_usable_at(timezone.now()):
            raise InvitationError("This invitation link has expired or was already used.")
        client = invitation.client
        user = _portal_user_for(client)
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        if client.status == Client.Status.PROSPECTIVE:
            client.status = Client.Status.ACTIVE
            client.save(update_fields=["status", "updated_at"])
        record_event(user, "client.invitation_accepted", target=client, request=request)

    login(request, user, backend="tenant_apps.accounts.backends.EmailBackend")
    return client


def portal_status(client: Client, latest: PortalInvitation | None) -> dict[str, Any]:
    """What the client page says about portal access."""
    user = client.user
    if user is not None and user.is_active and user.has_usable_password():
        return {"code": "active", "label": "Active", "last_sign_in": user.last_login}
    if latest is None:
        return {"code": "not_invited", "label": "Not invited"}
    if latest.revoked_at is not None:
        return {"code": "revoked", "label": "Revoked", "since": latest.revoked_at}
    if latest.is_usable_at(timezone.now()):
        return {
            "code": "invited",
            "label": "Invited",
            "sent": latest.created_at,
            "expires": latest.expires_at,
        }
    return {"code": "expired", "label": "Invitation expired", "since": latest.expires_at}


# Access requests from the practice's shared link ---------------------------------------


def request_access(
    *, first_name: str, last_name: str, email: str, phone: str, request: HttpRequest
) -> None:
    """A new client asks for portal access: a prospective record for the practice to
    review, and no account until the practice invites. Answers the same whether or not the
    address is known, so it reveals nothing."""
    email = normalize_email(email)
    with transaction.atomic():
        existing = Client.objects.filter(email=email, contact_of__isnull=True).first()
        if existing is None:
            try:
                with transaction.atomic():
                    client = Client.objects.create(
                        legal_first_name=first_name,
                        legal_last_name=last_name,
                        email=email,
                        mobile_phone=phone,
                        status=Client.Status.PROSPECTIVE,
                        requested_access_at=timezone.now(),
                    )
            except IntegrityError:
                # The same request sent twice at once (a double click): the other one added
                # the record after this one looked, and the unique address refused a twin.
                existing = Client.objects.filter(email=email, contact_of__isnull=True).first()
                if existing is None:
                    raise
            else:
                record_event(None, "client.access_requested", target=client, request=request)
                return
        record_event(None, "client.access_requested_again", target=existing, request=request)


# Demographic information requests ---------------------------------------------------------


def request_demographics(client: Client, *, actor: User) -> DemographicRequest:
    if not client.email:
        raise ValidationError("Add an email address before sending a request.")
    with transaction.atomic():
        open_request = client.demographic_requests.filter(
            status=DemographicRequest.Status.PENDING
        ).first()
        if open_request is not None:
            return open_request
        demographic_request = DemographicRequest.objects.create(client=client, requested_by=actor)
        if client.user_id:
            queue_email(
                kind=DEMOGRAPHICS_REQUESTED,
                key=f"{DEMOGRAPHICS_REQUESTED}:{demographic_request.pk}",
                recipient=User.objects.get(pk=client.user_id),
                object_id=demographic_request.pk,
            )
        record_event(actor, "client.demographics_requested", target=client)
    return demographic_request


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def save_demographic_draft(
    demographic_request: DemographicRequest, *, actor: User, values: dict[str, Any]
) -> DemographicRequest:
    """Keep what the client typed so far; only known fields, only while still open.

    A value holding a NUL character, which the draft's JSON column cannot store, raises
    ValidationError with the code NULL_CHARACTERS_CODE, and nothing is saved."""
    if not demographic_request.is_open_for_client:
        raise ValidationError("This request is already completed.")
    draft = {k: str(v)[:300] for k, v in values.items() if k in DEMOGRAPHIC_FIELDS}
    refuse_null_characters(draft)
    demographic_request.draft = draft
    demographic_request.draft_saved_at = timezone.now()
    demographic_request.save(update_fields=["draft", "draft_saved_at"])
    return demographic_request


def submit_demographics(
    demographic_request: DemographicRequest, *, actor: User, values: dict[str, Any]
) -> DemographicRequest:
    """Keep the client's answers for the practice's review. A new email address that is
    already another client's or account's is refused now, with a message that does not say
    so, rather than when the practice accepts it."""
    with transaction.atomic():
        locked = (
            DemographicRequest.objects.select_for_update()
            .select_related("client")
            .get(pk=demographic_request.pk)
        )
        if not locked.is_open_for_client:
            raise ValidationError("This request is already completed.")
        client = locked.client
        email = normalize_email(str(values.get("email") or ""))
        if email != client.email and selectors.email_used_by_another(client, email):
            raise ValidationError({"email": EMAIL_REFUSED_FOR_CLIENT_MESSAGE})
        locked.submitted_values = _jsonable(
            {k: v for k, v in values.items() if k in DEMOGRAPHIC_FIELDS}
        )
        locked.submitted_at = timezone.now()
        locked.status = DemographicRequest.Status.SUBMITTED
        locked.draft = {}
        locked.save(update_fields=["submitted_values", "submitted_at", "status", "draft"])
        record_event(actor, "client.demographics_submitted", target=client)
    return locked


def _current_value(client: Client, field: str) -> str:
    value = getattr(client, field)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def demographic_changes(demographic_request: DemographicRequest) -> list[dict[str, str]]:
    """The fields whose submitted value differs from the record, in form order."""
    client = demographic_request.client
    submitted = demographic_request.submitted_values
    changes = []
    for field in DEMOGRAPHIC_FIELDS:
        if field not in submitted:
            continue
        current, proposed = _current_value(client, field), str(submitted[field] or "")
        if current != proposed:
            label = getattr(Client._meta.get_field(field), "verbose_name", field)
            changes.append(
                {"field": field, "label": str(label), "current": current, "proposed": proposed}
            )
    return changes


def review_demographics(
    demographic_request: DemographicRequest, *, actor: User, accepted: list[str]
) -> DemographicRequest:
    """Write only the accepted fields; the rest of the submission is discarded."""
    with transaction.atomic():
        locked = (
            DemographicRequest.objects.select_for_update()
            .select_related("client")
            .get(pk=demographic_request.pk)
        )
        if locked.status != DemographicRequest.Status.SUBMITTED:
            raise ValidationError("This request is not waiting for a review.")
        changed = {c["field"] for c in demographic_changes(locked)}
        fields = [f for f in accepted if f in changed]
        client = locked.client
        for field in fields:
            value = locked.submitted_values[field]
            if field == "date_of_birth":
                value = date.fromisoformat(value) if value else None
            setattr(client, field, value)
        if fields:
            save_client(client, actor=actor, changed=fields)
        locked.status = DemographicRequest.Status.REVIEWED
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.accepted_fields = fields
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "accepted_fields"])
        record_event(actor, "client.demographics_reviewed", target=client, accepted=sorted(fields))
    return locked


def cancel_demographic_request(
    demographic_request: DemographicRequest, *, actor: User
) -> DemographicRequest:
    demographic_request.status = DemographicRequest.Status.CANCELLED
    demographic_request.save(update_fields=["status"])
    record_event(actor, "client.demographics_cancelled", target=demographic_request.client)
    return demographic_request


def set_practice_wide_access(staff: User, *, actor: User, allowed: bool) -> User:
    if actor.role != Role.OWNER:
        raise PermissionError("Only the owner grants practice-wide access")
    staff.has_practice_wide_access = allowed
    staff.save(update_fields=["has_practice_wide_access"])
    record_event(actor, "staff.practice_wide_access", target=staff, allowed=allowed)
    return staff


def unlock_sign_in(client: Client, *, actor: User) -> None:
    """Clear the failed sign-in attempts that locked this client out."""
    from axes.utils import reset

    if client.user_id is None:
        return
    user = User.objects.get(pk=client.user_id)
    reset(username=user.email)
    record_event(actor, "client.sign_in_unlocked", target=client)
