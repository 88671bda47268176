from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.accounts.models import Role, User
from tenant_apps.audit.models import AuditEvent
from tenants.models import Practice

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, help_text="For example client. or account.")
    actor = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    object_type = forms.CharField(required=False)
    object_id = forms.CharField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


@staff_required
def audit_list(request: HttpRequest) -> HttpResponse:
    """The owner browses the trail; nothing here (or anywhere in the app) edits it."""
    if acting_user(request).role != Role.OWNER:
        return render(request, "workspace/owner_only.html", status=403)
    practice = request.tenant  # type: ignore[attr-defined]
    assert isinstance(practice, Practice)

    form = AuditFilterForm(request.GET or None)
    form.fields["actor"].queryset = User.objects.order_by("full_name")  # type: ignore[attr-defined]
    events = AuditEvent.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action__startswith=data["action"])
        if data["actor"]:
            events = events.filter(actor_id=data["actor"].pk)
        if data["object_type"]:
            events = events.filter(object_type=data["object_type"])
        if data["object_id"]:
            events = events.filter(object_id=data["object_id"])
        zone = ZoneInfo(practice.time_zone)
        if data["since"]:
            events = events.filter(created_at__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            events = events.filter(created_at__lte=datetime.combine(data["until"], time.max, zone))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    actors = {u.pk: u for u in User.objects.filter(pk__in={e.actor_id for e in page})}
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "page": page,
            "rows": [(event, actors.get(event.actor_id or 0)) for event in page],
            "form": form,
            "query_string": query.urlencode(),
        },
    )
