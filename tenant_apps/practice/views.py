import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.accounts.models import Role
from tenant_apps.accounts.selectors import get_staff_member, invited_staff_member, staff_members
from tenant_apps.accounts.services import add_staff_member
from tenant_apps.clients.services import set_practice_wide_access
from tenant_apps.practice import handoff
from tenant_apps.practice.forms import (
    PortalAddressForm,
    PracticeDetailsForm,
    StaffInviteForm,
    time_zone_names,
)
from tenants import services
from tenants.models import Practice

logger = logging.getLogger(__name__)


def _practice(request: HttpRequest) -> Practice:
    practice = request.tenant  # type: ignore[attr-defined]
    assert isinstance(practice, Practice)
    return practice


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/home.html")


def _owner_only(request: HttpRequest) -> HttpResponse | None:
    if acting_user(request).role != Role.OWNER:
        return render(request, "workspace/owner_only.html", status=403)
    return None


@staff_required
@require_http_methods(["GET", "POST"])
def practice_details(request: HttpRequest) -> HttpResponse:
    if (denied := _owner_only(request)) is not None:
        return denied
    practice = _practice(request)
    form = PracticeDetailsForm(request.POST or None, instance=practice)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            services.update_practice_details(practice, actor=acting_user(request), **changed)
        messages.success(request, "Practice details saved.")
        return redirect("workspace:practice_details")
    if request.method == "POST":
        # Validation copied the typed values onto the instance; reload it so the page header
        # keeps showing the saved name while the form keeps what was typed.
        practice.refresh_from_db()
    return render(
        request,
        "workspace/practice_details.html",
        {"form": form, "time_zones": time_zone_names()},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def client_portal_settings(request: HttpRequest) -> HttpResponse:
    if (denied := _owner_only(request)) is not None:
        return denied
    practice = _practice(request)
    form = PortalAddressForm(request.POST or None, initial={"slug": practice.slug})
    action = request.POST.get("action", "save")

    if request.method == "POST" and practice.is_portal_locked:
        messages.error(request, "The portal address is locked and can no longer change.")
        return redirect("workspace:client_portal")

    if request.method == "POST" and form.is_valid():
        slug = form.cleaned_data["slug"]
        if action == "lock" and request.POST.get("confirmed") != "yes":
            return render(request, "workspace/confirm_lock.html", {"slug": slug, "form": form})
        try:
            if action == "lock":
                services.lock_portal_url(practice, actor=request.user, slug=slug)
                notice = "Your portal address is saved and locked."
            else:
                services.change_portal_slug(practice, actor=request.user, slug=slug)
                notice = "Your portal address is saved."
        except ValidationError as error:
            form.add_error("slug", error)
        else:
            # The practice moved host and cookies are host-only: hand the signed-in staff
            # member over to the new host with a short-lived, single-use link.
            return redirect(
                handoff.handoff_url(
                    practice, acting_user(request), next_path=request.path, notice=notice
                )
            )

    return render(request, "workspace/client_portal.html", {"form": form})


def accept_handoff(request: HttpRequest, token: str) -> HttpResponse:
    arrival = handoff.accept_handoff(request, token)
    if arrival is None:
        if request.user.is_authenticated and request.user.is_practice_staff:  # type: ignore[union-attr]
            # A spent link opened again (back button, reload) by someone signed in here.
            return redirect("workspace:home")
        messages.info(request, "Please sign in to continue.")
        return redirect("accounts:staff_login")
    if arrival.notice:
        messages.success(request, arrival.notice)
    return redirect(arrival.next_path)


@staff_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest) -> HttpResponse:
    """The owner invites staff and decides which clinicians see every client."""
    if (denied := _owner_only(request)) is not None:
        return denied
    owner = acting_user(request)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and "staff" in request.POST:
        staff = get_staff_member(request.POST["staff"])
        set_practice_wide_access(staff, actor=owner, allowed=request.POST.get("allowed") == "1")
        messages.success(request, f"Access updated for {staff.full_name}.")
        return redirect("workspace:team")
    if request.method == "POST" and form.is_valid():
        try:
            add_staff_member(actor=owner, **form.cleaned_data)
        except ValidationError as error:
            # Sent twice (a double click): the first submit added and invited this person.
            if invited_staff_member(**form.cleaned_data) is None:
                form.add_error("email", error)
        if not form.errors:
            messages.success(request, "Invitation sent.")
            return redirect("workspace:team")
    return render(request, "workspace/team.html", {"form": form, "staff": staff_members()})
