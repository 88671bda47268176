"""Writes for documents: storing uploads, sharing, unsharing, opening, client uploads.

Storing is all or nothing: every file of an upload is checked before any byte is stored, the
quota is checked under a lock on the settings row, and if anything fails after bytes reached
storage, those objects are deleted again before the error goes on.
"""

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import number_format

from tenant_apps.accounts.models import Role, User
from tenant_apps.audit.services import record_event
from tenant_apps.clients.models import Client
from tenant_apps.documents.files import (
    FileKind,
    UnacceptableFile,
    clean_filename,
    name_for_kind,
    sniff,
    title_from_name,
)
from tenant_apps.documents.models import Document, DocumentSettings, DocumentShare
from tenant_apps.documents.selectors import storage_used_bytes
from tenant_apps.documents.storage import document_storage, new_key
from tenant_apps.mail.services import queue_email
from tenants.schemas import connection

logger = logging.getLogger(__name__)

DOCUMENTS_SHARED = "documents_shared"


def megabytes(size: int) -> str:
    return f"{number_format(size / (1024 * 1024), 1)} MB"


@dataclass(frozen=True)
class CheckedUpload:
    """An uploaded file whose bytes were checked; nothing is stored yet."""

    fileobj: UploadedFile
    name: str
    kind: FileKind
    size: int
    sha256: str


def check_upload(uploaded: UploadedFile) -> CheckedUpload:
    """Check one uploaded file, or raise UnacceptableFile with a message for people."""
    name = clean_filename(uploaded.name or "")
    if not name:
        raise UnacceptableFile("This file has no usable name. Rename it and try again.")
    size = int(uploaded.size or 0)
    if size == 0:
        raise UnacceptableFile("This file is empty.")
    limit = settings.DOCUMENTS_MAX_FILE_BYTES
    if size > limit:
        raise UnacceptableFile(
            f"This file is {megabytes(size)}; files can be at most {megabytes(limit)}."
        )
    kind = sniff(uploaded, size)
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return CheckedUpload(
        fileobj=uploaded,
        name=name_for_kind(name, kind),
        kind=kind,
        size=size,
        sha256=digest.hexdigest(),
    )


class QuotaExceeded(ValidationError):
    pass


def _lock_settings() -> DocumentSettings:
    """The settings row, locked: uploads of one practice check the quota one at a time. The
    lock is held while bytes are written, which serializes large concurrent uploads of one
    practice; other practices are unaffected."""
    DocumentSettings.objects.get_or_create(pk=1)
    return DocumentSettings.objects.select_for_update().get(pk=1)


def _store(
    uploads: Sequence[CheckedUpload],
    *,
    actor: User,
    title: str,
    source: str,
    in_library: bool,
    client: Client | None,
    stored_keys: list[str],
) -> list[Document]:
    """Save the bytes and create the rows; call inside a transaction. Every key that reached
    storage is appended to `stored_keys`, so the caller can remove them if anything fails."""
    settings_row = _lock_settings()
    incoming = sum(upload.size for upload in uploads)
    used = storage_used_bytes()
    if used + incoming > settings_row.quota_bytes:
        raise QuotaExceeded(
            "The practice's document storage is full "
            f"({megabytes(used)} of {megabytes(settings_row.quota_bytes)} used)."
        )

    storage = document_storage()
    documents = []
    for upload in uploads:
        upload.fileobj.seek(0)
        key = storage.save(new_key(connection.schema_name), File(upload.fileobj))
        stored_keys.append(key)
        document_title = title or title_from_name(upload.name)
        if title and len(uploads) > 1:
            document_title = f"{title} — {title_from_name(upload.name)}"
        document = Document.objects.create(
            title=document_title[:200],
            original_name=upload.name,
            storage_key=key,
            kind=upload.kind.value,
            size=upload.size,
            sha256=upload.sha256,
            source=source,
            in_library=in_library,
            client=client,
            uploaded_by=actor,
        )
        record_event(
            actor, "document.uploaded", target=document, kind=upload.kind.value, size=upload.size
        )
        documents.append(document)
    return documents


def _remove_stored(keys: Iterable[str]) -> None:
    storage = document_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            # The row is gone either way; an orphaned object costs space, not privacy.
            logger.exception("Could not delete stored document object %s", key)


def _share(
    documents: Sequence[Document], clients: Sequence[Client], *, actor: User, message: str
) -> list[DocumentShare]:
    shares = []
    for client in clients:
        created_for_client = []
        for document in documents:
            active = DocumentShare.objects.filter(
                document=document, client=client, revoked_at__isnull=True
            ).exists()
            if active:
                continue
            share = DocumentShare.objects.create(
                document=document, client=client, message=message, shared_by=actor
            )
            record_event(
                actor, "document.shared", target=document, share=share.pk, client=client.pk
            )
            created_for_client.append(share)
        # One email per client and sharing, only to an active portal account.
        portal_user = (
            User.objects.filter(pk=client.user_id, is_active=True).first()
            if created_for_client and client.user_id
            else None
        )
        if portal_user is not None:
            first = created_for_client[0]
            queue_email(
                kind=DOCUMENTS_SHARED,
                key=f"{DOCUMENTS_SHARED}:{first.pk}",
                recipient=portal_user,
                object_id=first.pk,
            )
        shares.extend(created_for_client)
    return shares


def share_new_files(
    uploads: Sequence[CheckedUpload],
    *,
    actor: User,
    title: str = "",
    message: str = "",
    clients: Sequence[Client] = (),
    keep_in_library: bool = False,
) -> list[Document]:
    """Store checked uploads and share each with every client given, all or nothing."""
    if not uploads:
        raise ValidationError("Choose at least one file.")
    if not clients and not keep_in_library:
        raise ValidationError("Choose who to share with, or keep the files in the library.")
    stored: list[str] = []
    try:
        with transaction.atomic():
            documents = _store(
                uploads,
                actor=actor,
                title=title,
                source=Document.Source.STAFF,
                in_library=keep_in_library,
                client=None,
                stored_keys=stored,
            )
            _share(documents, clients, actor=actor, message=message)
    except BaseException:
        _remove_stored(stored)
        raise
    return documents


def share_document(
    document: Document, *, actor: User, clients: Sequence[Client], message: str = ""
) -> list[DocumentShare]:
    """Share a stored document (a library file, say) with more clients."""
    with transaction.atomic():
        return _share([document], clients, actor=actor, message=message)


def unshare(share: DocumentShare, *, actor: User) -> DocumentShare:
    """The client loses access at once: every open path checks for an unrevoked share."""
    revoked = DocumentShare.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    if revoked:
        record_event(
            actor,
            "document.unshared",
            target=share.document,
            share=share.pk,
            client=share.client_id,
        )
    share.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return share


def delete_document(document: Document, *, actor: User) -> None:
    """Remove a document, its shares and, once that has committed, its bytes."""
    if actor.role != Role.OWNER and document.uploaded_by_id != actor.pk:
        raise PermissionError("Only the owner or the person who uploaded it can delete it.")
    key = document.storage_key
    with transaction.atomic():
        record_event(actor, "document.deleted", target=document, size=document.size)
        document.delete()
        transaction.on_commit(lambda: _remove_stored([key]))


def record_open(
    document: Document,
    *,
    actor: User,
    share: DocumentShare | None,
    inline: bool,
    request: HttpRequest,
) -> None:
    """Audit a view or download; a client's first one is remembered on the share."""
    action = "document.viewed" if inline else "document.downloaded"
    if share is not None:
        field = "first_viewed_at" if inline else "first_downloaded_at"
        DocumentShare.objects.filter(pk=share.pk, **{f"{field}__isnull": True}).update(
            **{field: timezone.now()}
        )
    elif actor.is_practice_staff and document.is_new_for_staff:
        Document.objects.filter(pk=document.pk, staff_seen_at__isnull=True).update(
            staff_seen_at=timezone.now()
        )
    record_event(
        actor,
        action,
        target=document,
        request=request,
        share=share.pk if share is not None else None,
    )


def mark_upload_seen(document: Document, *, actor: User) -> None:
    updated = Document.objects.filter(
        pk=document.pk, source=Document.Source.CLIENT, staff_seen_at__isnull=True
    ).update(staff_seen_at=timezone.now())
    if updated:
        record_event(actor, "document.client_upload_seen", target=document)


class UploadsClosed(ValidationError):
    pass


def client_upload(
    uploads: Sequence[CheckedUpload], *, client: Client, actor: User, title: str = ""
) -> list[Document]:
    """A client sends files to the practice, if the practice allows it; staff see them as new
    on the documents page and on the client's page."""
    if not uploads:
        raise ValidationError("Choose at least one file.")
    stored: list[str] = []
    try:
        with transaction.atomic():
            if not _lock_settings().clients_may_upload:
                raise UploadsClosed("This practice does not accept files through the portal.")
            documents = _store(
                uploads,
                actor=actor,
                title=title,
                source=Document.Source.CLIENT,
                in_library=False,
                client=client,
                stored_keys=stored,
            )
    except BaseException:
        _remove_stored(stored)
        raise
    logger.info("Client %s sent %s file(s)", client.pk, len(documents))
    return documents


def update_document_settings(*, actor: User, clients_may_upload: bool) -> DocumentSettings:
    if actor.role != Role.OWNER:
        raise PermissionError("Only the owner changes document settings")
    with transaction.atomic():
        settings_row = _lock_settings()
        settings_row.clients_may_upload = clients_may_upload
        settings_row.save(update_fields=["clients_may_upload"])
        record_event(actor, "documents.settings_changed", clients_may_upload=clients_may_upload)
    return settings_row
