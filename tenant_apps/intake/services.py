"""Writes for intake and consent forms: templates and versions, sending, drafts, signing,
countersigning and review."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from tenant_apps.accounts.models import User
from tenant_apps.audit.services import client_ip, record_event
from tenant_apps.clients.models import Client
from tenant_apps.intake import definitions
from tenant_apps.intake.canonical import sha256_hex
from tenant_apps.intake.models import (
    AnswerFile,
    FormRequest,
    FormTemplate,
    FormVersion,
    Signature,
    Submission,
)
from tenant_apps.intake.signatures import SignatureInput, image_sha256
from tenant_apps.mail.services import queue_email
from tenant_apps.portal.null_characters import refuse_null_characters
from tenants.schemas import connection, current_practice

logger = logging.getLogger(__name__)

FORMS_REQUESTED = "intake_forms_requested"
FORMS_REMINDER = "intake_forms_reminder"
# What the document hash covers; a change to `hash_payload` needs a new scheme name.
HASH_SCHEME = "swasth-intake-v1"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_FORMS_PER_REQUEST = 12


def practice_today() -> date:
    return timezone.localdate(timezone=ZoneInfo(current_practice().time_zone))


# Templates and versions ---------------------------------------------------------------------


def save_template(
    template: FormTemplate | None, *, actor: User, definition: Any
) -> tuple[FormTemplate, bool]:
    """Create a template, or give an existing one a new version when its definition changed.
    Returns the template and whether a version was created. Sent and submitted forms keep
    the version they were sent with."""
    cleaned = definitions.clean_definition(definition)
    if template is not None and template.is_standard:
        raise ValidationError(
            "This standard measure cannot be edited, so that its scores stay comparable. "
            "Duplicate it to make your own version."
        )
    with transaction.atomic():
        if template is None:
            template = FormTemplate.objects.create(
                name=cleaned["title"], kind=cleaned["kind"], created_by=actor
            )
            current = None
        else:
            template = FormTemplate.objects.select_for_update().get(pk=template.pk)
            current = template.current_version
        if current is not None and current.content_hash == sha256_hex(cleaned):
            return template, False
        number = (current.number if current else 0) + 1
        version = FormVersion.objects.create(
            template=template, number=number, definition=cleaned, created_by=actor
        )
        template.current_version = version
        template.name, template.kind = cleaned["title"], cleaned["kind"]
        template.save(update_fields=["current_version", "name", "kind", "updated_at"])
        record_event(
            actor,
            "intake.template_created" if number == 1 else "intake.template_versioned",
            target=template,
            version=version.number,
        )
    return template, True


def duplicate_template(template: FormTemplate, *, actor: User) -> FormTemplate:
    if template.current_version is None:
        raise ValidationError("This form has no questions to copy yet.")
    definition = dict(template.current_version.definition)
    definition["title"] = f"Copy of {definition['title']}"[: definitions.MAX_TITLE]
    copy, _ = save_template(None, actor=actor, definition=definition)
    record_event(actor, "intake.template_duplicated", target=copy, source=template.pk)
    return copy


def set_archived(template: FormTemplate, *, actor: User, archived: bool) -> FormTemplate:
    template.archived_at = timezone.now() if archived else None
    template.save(update_fields=["archived_at", "updated_at"])
    record_event(
        actor,
        "intake.template_archived" if archived else "intake.template_restored",
        target=template,
    )
    return template


# Sending --------------------------------------------------------------------------------------


def send_forms(
    client: Client,
    *,
    actor: User,
    templates: list[FormTemplate],
    due_date: date | None = None,
    message: str = "",
) -> FormRequest:
    """Send forms to a client as one request, in the order given, each pinned to its
    template's current version. The client gets an email (after commit) and a portal task."""
    if not templates:
        raise ValidationError("Choose at least one form to send.")
    if len(templates) > MAX_FORMS_PER_REQUEST:
        raise ValidationError(f"Send at most {MAX_FORMS_PER_REQUEST} forms at a time.")
    if client.user_id is None:
        raise ValidationError("Invite this client to the Client Portal first, then send forms.")
    if due_date is not None and due_date < practice_today():
        raise ValidationError("The due date is in the past.")
    unique: dict[int, tuple[FormTemplate, int]] = {}
    for template in templates:
        if template.is_archived or template.current_version_id is None:
            raise ValidationError("An archived form cannot be sent. Restore it first.")
        unique.setdefault(template.pk, (template, template.current_version_id))

    with transaction.atomic():
        form_request = FormRequest.objects.create(
            client=client, sent_by=actor, due_date=due_date, message=message.strip()[:1000]
        )
        Submission.objects.bulk_create(
            Submission(
                request=form_request,
                client=client,
                template=template,
                version_id=version_id,
                position=position,
            )
            for position, (template, version_id) in enumerate(unique.values())
        )
        queue_email(
            kind=FORMS_REQUESTED,
            key=f"{FORMS_REQUESTED}:{form_request.pk}",
            recipient=User.objects.get(pk=client.user_id),
            object_id=form_request.pk,
        )
        record_event(
            actor,
            "intake.forms_sent",
            target=client,
            request_id=form_request.pk,
            templates=list(unique),
        )
    return form_request


def remind(form_request: FormRequest, *, actor: User) -> FormRequest:
    """Email the client again about the request's open forms (at most once per cooldown)."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            FormRequest.objects.select_for_update().select_related("client").get(pk=form_request.pk)
        )
        if locked.cancelled_at is not None:
            raise ValidationError("This request was cancelled.")
        if not locked.submissions.filter(status__in=Submission.OPEN_STATUSES).exists():
            raise ValidationError("Every form in this request is already completed.")
        if locked.client.user_id is None:
            raise ValidationError("This client has no portal account.")
        if now < locked.reminder_available_at():
            wait = int((locked.reminder_available_at() - now).total_seconds() // 60) + 1
            raise ValidationError(f"A reminder was just sent. You can send another in {wait} min.")
        locked.reminder_count += 1
        locked.last_reminded_at = now
        locked.save(update_fields=["reminder_count", "last_reminded_at"])
        queue_email(
            kind=FORMS_REMINDER,
            key=f"{FORMS_REMINDER}:{locked.pk}:{locked.reminder_count}",
            recipient=User.objects.get(pk=locked.client.user_id),
            object_id=locked.pk,
        )
        record_event(actor, "intake.reminder_sent", target=locked.client, request_id=locked.pk)
    return locked


def cancel_request(form_request: FormRequest, *, actor: User) -> FormRequest:
    """Withdraw the request's open forms; completed ones stay as they are."""
    with transaction.atomic():
        locked = FormRequest.objects.select_for_update().get(pk=form_request.pk)
        if locked.cancelled_at is None:
            locked.cancelled_at = timezone.now()
            locked.cancelled_by = actor
            locked.save(update_fields=["cancelled_at", "cancelled_by"])
            locked.submissions.filter(status__in=Submission.OPEN_STATUSES).update(
                status=Submission.Status.CANCELLED
            )
            record_event(
                actor, "intake.request_cancelled", target=locked.client, request_id=locked.pk
            )
    return locked


# Filling in -----------------------------------------------------------------------------------


class FormClosed(ValidationError):
    """The form no longer takes answers: submitted, or cancelled by the practice."""


def _closed_message(submission: Submission) -> str:
    if submission.status == Submission.Status.CANCELLED:
        return "This form was withdrawn by the practice."
    return "This form is already completed and can no longer change."


def _lock_open(submission: Submission) -> Submission:
    locked = (
        Submission.objects.select_for_update()
        .select_related("version", "client")
        .get(pk=submission.pk)
    )
    if not locked.is_open:
        raise FormClosed(_closed_message(locked))
    return locked


def mark_viewed(submission: Submission, *, actor: User) -> Submission:
    if submission.viewed_at is None and submission.is_open:
        Submission.objects.filter(pk=submission.pk, viewed_at__isnull=True).update(
            viewed_at=timezone.now()
        )
        Submission.objects.filter(pk=submission.pk, status=Submission.Status.SENT).update(
            status=Submission.Status.VIEWED
        )
        submission.refresh_from_db(fields=["viewed_at", "status"])
        record_event(actor, "intake.form_viewed", target=submission)
    return submission


def _phone_region() -> str:
    return current_practice().country or "US"


def save_draft(
    submission: Submission, *, actor: User, raw: dict[str, Any]
) -> tuple[Submission, dict[str, str]]:
    """Keep what the client typed so far, valid or not, and say which answers need fixing
    (required questions are only insisted on at submit). An answer holding a NUL character
    raises ValidationError and nothing is saved: the answers' JSON column cannot store it."""
    refuse_null_characters(raw)
    with transaction.atomic():
        locked = _lock_open(submission)
        definition = locked.version.definition
        files = {k: v for k, v in locked.answers.items() if isinstance(v, dict)}
        merged = {**files, **raw}
        locked.answers = definitions.draft_values(definition, merged)
        locked.draft_saved_at = timezone.now()
        if locked.answers:
            locked.status = Submission.Status.IN_PROGRESS
        locked.save(update_fields=["answers", "draft_saved_at", "status"])
    checked = definitions.clean_answers(
        definition, locked.answers, require=False, phone_region=_phone_region()
    )
    return locked, checked.errors


def _sniff_upload(head: bytes) -> str | None:
    return next((kind for magic, kind in UPLOAD_TYPES.items() if head.startswith(magic)), None)


def attach_file(
    submission: Submission, *, actor: User, question_key: str, upload: UploadedFile
) -> AnswerFile:
    """Store a file for a file-upload question privately, under the practice's prefix, and
    make it that question's answer (replacing an earlier file)."""
    size = upload.size or 0
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError("This file is larger than 10 MB.")
    if size == 0:
        raise ValidationError("This file is empty.")
    head = upload.read(8)
    upload.seek(0)
    content_type = _sniff_upload(head)
    if content_type is None:
        raise ValidationError("Attach a PDF, PNG or JPEG file.")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (upload.name or "file").replace("/", "_").replace("\\", "_").strip()[-100:] or "file"

    with transaction.atomic():
        locked = _lock_open(submission)
        question = next(
            (
                q
                for q in locked.version.definition["questions"]
                if q["key"] == question_key and q["type"] == definitions.FILE
            ),
            None,
        )
        if question is None:
            raise ValidationError("This question does not take a file.")
        key = f"{connection.schema_name}/intake/{secrets.token_urlsafe(24)}"
        # Stored before the row: a rollback leaves an unreferenced object behind, never a
        # row without its bytes.
        stored_key = default_storage.save(key, upload)
        answer_file = AnswerFile.objects.create(
            submission=locked,
            question_key=question_key,
            storage_key=stored_key,
            original_name=name,
            content_type=content_type,
            size=size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        locked.answers = {
            **locked.answers,
            question_key: {
                "file": answer_file.pk,
                "name": name,
                "sha256": answer_file.sha256,
                "size": size,
            },
        }
        locked.status = Submission.Status.IN_PROGRESS
        locked.draft_saved_at = timezone.now()
        locked.save(update_fields=["answers", "status", "draft_saved_at"])
        record_event(actor, "intake.file_attached", target=locked, file=answer_file.pk)
    return answer_file


@dataclass(frozen=True)
class Signing:
    """Who is signing, from where: recorded with the signature."""

    input: SignatureInput
    ip_address: str | None
    user_agent: str


def signing_context(request: HttpRequest, signature: SignatureInput) -> Signing:
    return Signing(
        input=signature,
        ip_address=client_ip(request),
        # A NUL cannot be stored in a text column; it has no meaning in a browser's name.
        user_agent=request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:500],
    )


class SubmissionErrors(ValidationError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(list(errors.values()))
        self.by_question = errors


def _signature_fields(
    *, role: str, signer: User, signing: Signing, signed_at: datetime
) -> dict[str, Any]:
    data = signing.input
    return {
        "role": role,
        "signer_user_id": signer.pk,
        "full_name": data.full_name,
        "relationship": data.relationship,
        "relationship_detail": data.relationship_detail,
        "method": data.method,
        "image": data.image,
        "typed_text": data.typed_text,
        "agreed_to_sign_electronically": data.agreed,
        "signed_at": signed_at,
        "ip_address": signing.ip_address,
        "user_agent": signing.user_agent,
    }


def _signature_payload(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": fields["role"],
        "signer_user_id": fields["signer_user_id"],
        "full_name": fields["full_name"],
        "relationship": fields["relationship"],
        "relationship_detail": fields["relationship_detail"],
        "method": fields["method"],
        "image_sha256": image_sha256(fields["image"]),
        "typed_text": fields["typed_text"],
        "agreed_to_sign_electronically": bool(fields["agreed_to_sign_electronically"]),
        "signed_at": fields["signed_at"].astimezone(UTC).isoformat(),
        "ip_address": fields["ip_address"] or "",
        "user_agent": fields["user_agent"],
    }


def hash_payload(
    *,
    submission_id: int,
    client_id: int,
    version: FormVersion,
    answers: dict[str, Any],
    submitted_at: datetime,
    signature: dict[str, Any] | None,
) -> dict[str, Any]:
    """Everything a submission's SHA-256 covers: the exact version, the document rendered
    as text with the answers, the answers themselves and the signature with its audit data."""
    return {
        "scheme": HASH_SCHEME,
        "submission": submission_id,
        "client": client_id,
        "version": {
            "id": version.pk,
            "number": version.number,
            "content_hash": version.content_hash,
        },
        "document": definitions.document_text(version.definition, answers),
        "answers": answers,
        "submitted_at": submitted_at.astimezone(UTC).isoformat(),
        "signature": _signature_payload(signature) if signature else None,
    }


def countersign_payload(document_hash: str, signature: dict[str, Any]) -> dict[str, Any]:
    return {"scheme": HASH_SCHEME, "countersigns": document_hash, **_signature_payload(signature)}


def submit(
    submission: Submission,
    *,
    actor: User,
    raw: dict[str, Any],
    signing: Signing | None,
    signature_errors: dict[str, str] | None = None,
) -> Submission:
    """Check every shown answer, sign when the form has a signature question, score it and
    freeze it. Raises SubmissionErrors (keyed by question, and `signature`) or FormClosed;
    on an error the answers are still kept as the draft."""
    with transaction.atomic():
        locked = _lock_open(submission)
        version = locked.version
        definition = version.definition
        files = {k: v for k, v in locked.answers.items() if isinstance(v, dict)}
        checked = definitions.clean_answers(
            definition, {**files, **raw}, require=True, phone_region=_phone_region()
        )
        errors = dict(checked.errors)
        signature_question = definitions.signature_question(definition)
        needs_signature = signature_question is not None
        if needs_signature and (signing is None or signature_errors):
            errors["signature"] = "Sign the form to submit it."
        if errors:
            locked.answers = definitions.draft_values(definition, {**files, **raw})
            locked.draft_saved_at = timezone.now()
            locked.status = Submission.Status.IN_PROGRESS
            locked.save(update_fields=["answers", "draft_saved_at", "status"])
        else:
            _freeze(locked, actor=actor, answers=checked.values, signing=signing)
    if errors:
        raise SubmissionErrors(errors)
    return locked


def _freeze(
    locked: Submission, *, actor: User, answers: dict[str, Any], signing: Signing | None
) -> None:
    version = locked.version
    now = timezone.now()
    signature_fields = None
    if signing is not None and definitions.signature_question(version.definition) is not None:
        signature_fields = _signature_fields(
            role=Signature.Role.SIGNER, signer=actor, signing=signing, signed_at=now
        )
    payload = hash_payload(
        submission_id=locked.pk,
        client_id=locked.client_id,
        version=version,
        answers=answers,
        submitted_at=now,
        signature=signature_fields,
    )
    document_hash = sha256_hex(payload)
    scored = definitions.score(version.definition, answers)

    locked.answers = answers
    locked.status = Submission.Status.COMPLETED
    locked.submitted_at = now
    locked.submitted_by = actor
    locked.document_hash = document_hash
    locked.score = scored.total if scored else None
    locked.score_band = scored.band if scored else ""
    locked.alerts = scored.alerts if scored else []
    locked.save(
        update_fields=[
            "answers",
            "status",
            "submitted_at",
            "submitted_by",
            "document_hash",
            "score",
            "score_band",
            "alerts",
        ]
    )
    if signature_fields is not None:
        Signature.objects.create(
            submission=locked,
            signer=actor,
            version=version,
            document_hash=document_hash,
            **signature_fields,
        )
    record_event(
        actor,
        "intake.form_signed" if signature_fields else "intake.form_submitted",
        target=locked,
        version=version.pk,
        hash=document_hash,
    )
    logger.info("Submission %s completed (version %s)", locked.pk, version.pk)


def verify(submission: Submission) -> bool:
    """Recompute the document hash (and any countersignature's) from the stored rows."""
    if submission.submitted_at is None:
        return False
    signatures = {s.role: s for s in submission.signatures.all()}
    signer = signatures.get(Signature.Role.SIGNER)
    payload = hash_payload(
        submission_id=submission.pk,
        client_id=submission.client_id,
        version=submission.version,
        answers=submission.answers,
        submitted_at=submission.submitted_at,
        signature=_stored_fields(signer) if signer else None,
    )
    expected = sha256_hex(payload)
    if expected != submission.document_hash:
        return False
    if signer is not None and signer.document_hash != expected:
        return False
    counter = signatures.get(Signature.Role.COUNTERSIGNER)
    return counter is None or counter.document_hash == sha256_hex(
        countersign_payload(expected, _stored_fields(counter))
    )


def _stored_fields(signature: Signature) -> dict[str, Any]:
    return {
        "role": signature.role,
        "signer_user_id": signature.signer_user_id,
        "full_name": signature.full_name,
        "relationship": signature.relationship,
        "relationship_detail": signature.relationship_detail,
        "method": signature.method,
        "image": signature.image,
        "typed_text": signature.typed_text,
        "agreed_to_sign_electronically": signature.agreed_to_sign_electronically,
        "signed_at": signature.signed_at,
        "ip_address": signature.ip_address,
        "user_agent": signature.user_agent,
    }


# Review ---------------------------------------------------------------------------------------


def countersign(submission: Submission, *, actor: User, signing: Signing) -> Signature:
    with transaction.atomic():
        locked = (
            Submission.objects.select_for_update().select_related("version").get(pk=submission.pk)
        )
        if not locked.is_completed:
            raise ValidationError("Only a completed form can be countersigned.")
        if not locked.version.definition.get("countersign"):
            raise ValidationError("This form does not take a countersignature.")
        if locked.signatures.filter(role=Signature.Role.COUNTERSIGNER).exists():
            raise ValidationError("This form is already countersigned.")
        fields = _signature_fields(
            role=Signature.Role.COUNTERSIGNER,
            signer=actor,
            signing=signing,
            signed_at=timezone.now(),
        )
        signature = Signature.objects.create(
            submission=locked,
            signer=actor,
            version=locked.version,
            document_hash=sha256_hex(countersign_payload(locked.document_hash, fields)),
            **fields,
        )
        record_event(actor, "intake.form_countersigned", target=locked)
    return signature


def mark_reviewed(submission: Submission, *, actor: User) -> Submission:
    if not submission.is_completed:
        raise ValidationError("Only a completed form can be marked reviewed.")
    if submission.reviewed_at is None:
        submission.reviewed_at = timezone.now()
        submission.reviewed_by = actor
        submission.save(update_fields=["reviewed_at", "reviewed_by"])
        record_event(actor, "intake.form_reviewed", target=submission)
    return submission
