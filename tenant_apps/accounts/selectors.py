from django.db.models import QuerySet
from django.http import Http404

from tenant_apps.accounts.models import STAFF_ROLES, User, normalize_email


def staff_members() -> QuerySet[User]:
    return User.objects.filter(role__in=STAFF_ROLES).order_by("full_name")


def get_staff_member(pk: str) -> User:
    found = staff_members().filter(pk=pk).first() if pk.isdigit() else None
    if found is None:
        raise Http404("No such staff member")
    return found


def invited_staff_member(*, full_name: str, email: str, role: str) -> User | None:
    """The staff member of exactly these details still waiting on an invitation: what the
    invite form sent twice (a double click) added the first time."""
    found = staff_members().filter(email=normalize_email(email), full_name=full_name, role=role)
    return next((user for user in found if not user.has_usable_password()), None)
