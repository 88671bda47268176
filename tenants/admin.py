from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from shared_apps.plans.models import Plan
from tenant_apps.practice.forms import time_zone_names
from tenants import services
from tenants.hosts import host_for_slug
from tenants.models import Domain, Practice
from tenants.slugs import normalize_slug, validate_slug


class ProvisionForm(forms.Form):
    name = forms.CharField(max_length=120, label="Practice name")
    slug = forms.CharField(max_length=40, help_text="The portal address: <slug>.<platform>.")
    owner_email = forms.EmailField()
    owner_name = forms.CharField(max_length=150, required=False)
    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), empty_label=None)
    time_zone = forms.ChoiceField(choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]  # type: ignore[attr-defined]
        self.fields["time_zone"].initial = "America/New_York"

    def clean_slug(self) -> str:
        return validate_slug(self.cleaned_data["slug"])


class DomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Domain
    extra = 0
    can_delete = False
    readonly_fields = ("domain", "is_primary")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug_display", "plan", "status", "locked", "created_at")
    list_filter = ("plan", "status")
    search_fields = ("name", "domains__domain")
    list_select_related = ("plan",)
    ordering = ("-created_at",)
    fields = ("name", "plan", "status", "schema_name", "portal_locked_at", "created_at")
    readonly_fields = ("name", "schema_name", "portal_locked_at", "created_at")
    inlines = (DomainInline,)
    actions = ("suspend", "restore", "unlock_portal_url")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Practice]:
        return super().get_queryset(request).prefetch_related("domains")

    @admin.display(description="Portal address")
    def slug_display(self, obj: Practice) -> str:
        primary = next((d.domain for d in obj.domains.all() if d.is_primary), "")
        return primary

    @admin.display(boolean=True, description="Locked")
    def locked(self, obj: Practice) -> bool:
        return obj.is_portal_locked

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Practice, form: Any, change: bool) -> None:
        """Route the console's edits through the services so that each one is audited."""
        stored = Practice.objects.get(pk=obj.pk)
        if obj.plan_id != stored.plan_id:
            services.change_plan(stored, operator=request.user, plan=obj.plan)  # type: ignore[arg-type]
        if obj.status != stored.status:
            services.set_practice_status(stored, operator=request.user, status=obj.status)  # type: ignore[arg-type]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        form = ProvisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            practice: Practice | None
            try:
                practice = services.provision_practice(
                    actor=request.user,
                    name=data["name"],
                    slug=data["slug"],
                    owner_email=data["owner_email"],
                    owner_name=data["owner_name"],
                    plan_code=data["plan"].code,
                    time_zone=data["time_zone"],
                )
            except ValidationError as error:
                # Sent twice (a double click): the first submit took the slug for this practice.
                practice = _just_provisioned(slug=data["slug"], name=data["name"])
                if practice is None:
                    form.add_error("slug", error)
            if practice is not None:
                self.message_user(
                    request,
                    f"Provisioned {practice.name}; the owner's invitation is on its way.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:tenants_practice_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Provision a practice",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/practice/provision.html", context)

    @admin.action(description="Suspend selected practices")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Practice]) -> None:
        self._set_status(request, queryset, Practice.Status.SUSPENDED, done="Suspended")

    @admin.action(description="Restore selected practices")
    def restore(self, request: HttpRequest, queryset: QuerySet[Practice]) -> None:
        self._set_status(request, queryset, Practice.Status.ACTIVE, done="Restored")

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[Practice], status: str, *, done: str
    ) -> None:
        selected = list(queryset)
        changing = [practice for practice in selected if practice.status != status]
        for practice in changing:
            services.set_practice_status(practice, operator=request.user, status=status)  # type: ignore[arg-type]
        self._report(request, done, changed=len(changing), unchanged=len(selected) - len(changing))

    @admin.action(description="Unlock the portal address of selected practices")
    def unlock_portal_url(self, request: HttpRequest, queryset: QuerySet[Practice]) -> None:
        selected = list(queryset)
        changing = [practice for practice in selected if practice.portal_locked_at is not None]
        for practice in changing:
            services.unlock_portal_url(practice, operator=request.user)  # type: ignore[arg-type]
        self._report(
            request, "Unlocked", changed=len(changing), unchanged=len(selected) - len(changing)
        )
        if changing:
            self.message_user(request, "Old addresses stay reserved and redirect.")

    def _report(self, request: HttpRequest, done: str, *, changed: int, unchanged: int) -> None:
        """Say what the action changed, and what it left because it was that way already."""
        if changed:
            self.message_user(request, f"{done} {changed} practice(s).")
        if unchanged:
            self.message_user(
                request,
                f"{unchanged} practice(s) left as they were: nothing to do.",
                level=messages.WARNING,
            )


def _just_provisioned(*, slug: str, name: str) -> Practice | None:
    """The practice of this name made at this slug in the last two minutes, if any."""
    return Practice.objects.filter(
        domains__domain=host_for_slug(normalize_slug(slug)),
        name=name,
        created_at__gte=timezone.now() - timedelta(minutes=2),
    ).first()


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "code", "features")
