from django.db.models import QuerySet
from django.http import Http404

from tenant_apps.accounts.models import STAFF_ROLES, User


def staff_members() -> QuerySet[User]:
    return User.objects.filter(role__in=STAFF_ROLES).order_by("full_name")


def get_staff_member(pk: str) -> User:
    found = staff_members().filter(pk=pk).first() if pk.isdigit() else None
    if found is None:
        raise Http404("No such staff member")
    return found
