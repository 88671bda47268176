"""Reads of documents, always scoped to what the asking person may see.

Owners and clinicians handle documents; a clinician without practice-wide access sees the
library, what they uploaded, and the documents of their own clients. Billers see none: these
are clinical documents. A client sees what is shared with them now, and what they sent.
"""

from collections.abc import Sequence

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Window
from django.http import Http404

from tenant_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import clients_for_staff
from tenant_apps.documents.models import Document, DocumentSettings, DocumentShare

DOCUMENT_ROLES = frozenset({Role.OWNER, Role.CLINICIAN})


def handles_documents(user: User) -> bool:
    return user.role in DOCUMENT_ROLES


def _sees_every_client(user: User) -> bool:
    return user.role == Role.OWNER or (
        user.role == Role.CLINICIAN and user.has_practice_wide_access
    )


def documents_for_staff(user: User) -> QuerySet[Document]:
    documents = Document.objects.all()
    if not handles_documents(user):
        return documents.none()
    if _sees_every_client(user):
        return documents
    visible = clients_for_staff(user)
    shared_with_visible = DocumentShare.objects.filter(document=OuterRef("pk"), client__in=visible)
    return documents.filter(
        Q(in_library=True)
        | Q(uploaded_by=user)
        | Q(client__in=visible)
        | Q(Exists(shared_with_visible))
    )


def _pk_or_404(pk: int | str) -> int:
    if not str(pk).isdigit():
        raise Http404("No such document")
    return int(pk)


def get_document_for_staff(user: User, pk: int | str) -> Document:
    found = (
        documents_for_staff(user)
        .select_related("client", "uploaded_by")
        .filter(pk=_pk_or_404(pk))
        .first()
    )
    if found is None:
        raise Http404("No such document")
    return found


def shares_for_staff(user: User) -> QuerySet[DocumentShare]:
    if not handles_documents(user):
        return DocumentShare.objects.none()
    return DocumentShare.objects.filter(client__in=clients_for_staff(user))


def get_share_for_staff(user: User, pk: int | str) -> DocumentShare:
    found = (
        shares_for_staff(user)
        .select_related("document", "client")
        .filter(pk=_pk_or_404(pk))
        .first()
    )
    if found is None:
        raise Http404("No such share")
    return found


def library_documents(user: User) -> QuerySet[Document]:
    return documents_for_staff(user).filter(in_library=True).select_related("uploaded_by")


def unseen_client_uploads(user: User) -> QuerySet[Document]:
    """Files clients sent that no staff member has opened yet, newest first."""
    if not handles_documents(user):
        return Document.objects.none()
    return Document.objects.filter(
        source=Document.Source.CLIENT,
        staff_seen_at__isnull=True,
        client__in=clients_for_staff(user),
    ).select_related("client")


def shares_of_client_for_staff(client: Client) -> QuerySet[DocumentShare]:
    """Every share of this client, current and revoked; the caller has checked the client."""
    return client.document_shares.select_related("document", "shared_by").order_by(
        "revoked_at", "-shared_at", "-id"
    )


def uploads_of_client(client: Client) -> QuerySet[Document]:
    return client.uploaded_documents.all()


def storage_used_bytes() -> int:
    return int(Document.objects.aggregate(total=Sum("size"))["total"] or 0)


def document_settings() -> DocumentSettings:
    return DocumentSettings.load()


# The client's side --------------------------------------------------------------------------


def shared_with_client(client: Client) -> QuerySet[DocumentShare]:
    """What the client may open now, newest first."""
    return (
        DocumentShare.objects.filter(client=client, revoked_at__isnull=True)
        .select_related("document")
        .order_by("-shared_at", "-id")
    )


def get_document_for_client(client: Client, pk: int | str) -> tuple[Document, DocumentShare | None]:
    """A document this client may open: shared with them and not revoked, or one they sent.

    Anything else (another client's, another practice's id, an unshared or revoked document)
    is a 404, indistinguishable from an id that does not exist.
    """
    document_pk = _pk_or_404(pk)
    share = (
        DocumentShare.objects.select_related("document")
        .filter(client=client, document_id=document_pk, revoked_at__isnull=True)
        .first()
    )
    if share is not None:
        return share.document, share
    own = Document.objects.filter(
        pk=document_pk, client=client, source=Document.Source.CLIENT
    ).first()
    if own is None:
        raise Http404("No such document")
    return own, None


def home_summary(user: User, *, latest: int) -> tuple[int, Sequence[DocumentShare]]:
    """For the portal home, in one query: how many shares are new to this client, and the
    latest few. The count is a window over every current share, taken before the limit."""
    shares = list(
        DocumentShare.objects.filter(client__user=user, revoked_at__isnull=True)
        .select_related("document")
        .annotate(
            new_total=Window(
                Count(
                    "pk",
                    filter=Q(first_viewed_at__isnull=True, first_downloaded_at__isnull=True),
                )
            )
        )
        .order_by("-shared_at", "-id")[:latest]
    )
    return (int(shares[0].new_total) if shares else 0), shares
