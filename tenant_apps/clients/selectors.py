"""Reads of client records, always scoped to what the asking person may see."""

from django.db.models import Q, QuerySet
from django.http import Http404

from tenant_apps.accounts.models import Role, User, normalize_email
from tenant_apps.clients.models import Client, DemographicRequest, PortalInvitation


def clients_for_staff(user: User) -> QuerySet[Client]:
    """Owners and billers see every client; a clinician sees their own clients unless the
    owner granted practice-wide access."""
    clients = Client.objects.all()
    if user.role in (Role.OWNER, Role.BILLER):
        return clients
    if user.role == Role.CLINICIAN:
        if user.has_practice_wide_access:
            return clients
        return clients.filter(assigned_clinician=user)
    return clients.none()


def get_client_for_staff(user: User, pk: int | str) -> Client:
    # An id that is not a number names no client (filtering by it would raise ValueError).
    found = None
    if str(pk).isdigit():
        clients = clients_for_staff(user).select_related("assigned_clinician", "user")
        found = clients.filter(pk=pk).first()
    if found is None:
        raise Http404("No such client")
    return found


def search_clients(
    user: User, *, query: str = "", status: str = "", clinician_id: str = ""
) -> QuerySet[Client]:
    clients = clients_for_staff(user).select_related("assigned_clinician", "user")
    if query:
        for word in query.split():
            clients = clients.filter(
                Q(legal_first_name__icontains=word)
                | Q(legal_last_name__icontains=word)
                | Q(preferred_name__icontains=word)
                | Q(email__icontains=word)
            )
    if status:
        clients = clients.filter(status=status)
    if clinician_id.isdigit():
        clients = clients.filter(assigned_clinician_id=int(clinician_id))
    return clients


def client_added_by_form(user: User, form_token: str) -> Client | None:
    """The client that the new-client form with this one-time token already added."""
    if not form_token:
        return None
    return clients_for_staff(user).filter(form_token=form_token[:64]).first()


def latest_invitation(client: Client) -> PortalInvitation | None:
    return client.invitations.order_by("-created_at", "-id").first()


def client_for_portal_user(user: User) -> Client:
    client = Client.objects.filter(user=user).first()
    if client is None:
        raise Http404("No client record for this account")
    return client


def email_used_by_another(client: Client, email: str) -> bool:
    """Whether `email` is another client's portal address or another account's sign-in, so
    that it cannot become this client's (see services.save_client)."""
    email = normalize_email(email)
    if not email:
        return False
    clients = Client.objects.filter(email=email, contact_of__isnull=True).exclude(pk=client.pk)
    if client.contact_of_id is None and clients.exists():
        return True
    if client.user_id is None:
        return False
    return User.objects.filter(email=email).exclude(pk=client.user_id).exists()


def get_demographic_request_for_client(client: Client, pk: int | str) -> DemographicRequest:
    found = client.demographic_requests.filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404("No such request")
    return found


def get_demographic_request_for_staff(
    user: User, client_pk: int | str, pk: int | str
) -> DemographicRequest:
    client = get_client_for_staff(user, client_pk)
    return get_demographic_request_for_client(client, pk)


def open_demographic_requests(client: Client) -> QuerySet[DemographicRequest]:
    return client.demographic_requests.filter(status=DemographicRequest.Status.PENDING)


def clinicians(user: User) -> QuerySet[User]:
    del user  # every staff member may see who the clinicians are
    return User.objects.filter(role__in=[Role.OWNER, Role.CLINICIAN], is_active=True).order_by(
        "full_name"
    )
