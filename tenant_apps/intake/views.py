"""Workspace views for form templates, sending forms to a client and reviewing submissions."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import get_client_for_staff
from tenant_apps.intake import definitions, rendering, selectors, services
from tenant_apps.intake.forms import DefinitionForm, SendFormsForm, posted_signature
from tenant_apps.intake.models import AnswerFile, FormRequest, FormTemplate, Submission

PAGE_SIZE = 50
View = Callable[..., HttpResponseBase]


def forms_staff_required(view: View) -> View:
    """Owners and clinicians; a biller is told the area is not theirs (and sees no answers)."""

    # staff_required is typed for HttpResponse views; file downloads stream a FileResponse.
    @staff_required  # type: ignore[arg-type]
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not selectors.can_use_forms(acting_user(request)):
            return render(request, "intake/not_allowed.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def private[R: HttpResponseBase](response: R) -> R:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Templates --------------------------------------------------------------------------------------


@forms_staff_required
def template_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    archived = request.GET.get("archived") == "1"
    return render(
        request,
        "intake/template_list.html",
        {"templates": selectors.template_list(user, archived=archived), "archived": archived},
    )


def _builder(
    request: HttpRequest,
    *,
    template: FormTemplate | None,
    definition: Any,
    form: DefinitionForm,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "intake/builder.html",
        {
            "template": template,
            "definition": definition,
            "question_types": definitions.QUESTION_TYPES,
            "kinds": definitions.KINDS,
            "form": form,
            "versions": template.versions.order_by("-number")[:20] if template else [],
        },
        status=status,
    )


def _save_builder(request: HttpRequest, template: FormTemplate | None) -> HttpResponse:
    user = acting_user(request)
    form = DefinitionForm(request.POST)
    if form.is_valid():
        try:
            saved, created = services.save_template(
                template, actor=user, definition=form.cleaned_data["definition"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if created:
                version = saved.current_version
                messages.success(request, f"Saved as version {version.number if version else 1}.")
            else:
                messages.info(request, "No changes to save.")
            return redirect("intake:template_edit", pk=saved.pk)
    # Whatever was posted goes back into the builder, so nothing typed is lost.
    posted = form.cleaned_data.get("definition") if hasattr(form, "cleaned_data") else None
    if posted is None:
        posted = (
            template.current_version.definition if template and template.current_version else {}
        )
    return _builder(request, template=template, definition=posted, form=form, status=400)


@forms_staff_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_builder(request, None)
    blank: dict[str, Any] = {
        "title": "",
        "kind": "intake",
        "description": "",
        "questions": [],
        "scoring": None,
    }
    return _builder(request, template=None, definition=blank, form=DefinitionForm())


@forms_staff_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: str) -> HttpResponse:
    template = selectors.get_template_for_staff(acting_user(request), pk)
    if request.method == "POST":
        return _save_builder(request, template)
    current = template.current_version
    definition = current.definition if current else {"title": template.name, "questions": []}
    return _builder(request, template=template, definition=definition, form=DefinitionForm())


@forms_staff_required
def template_preview(request: HttpRequest, pk: str) -> HttpResponse:
    template = selectors.get_template_for_staff(acting_user(request), pk)
    number = request.GET.get("version", "")
    versions = template.versions.all()
    version = (
        versions.filter(number=int(number)).first()
        if number.isdigit()
        else template.current_version
    )
    if version is None:
        raise Http404("No such version")
    return render(
        request,
        "intake/preview.html",
        {
            "template": template,
            "version": version,
            "definition": version.definition,
            "rows": rendering.rows(version.definition, {}),
        },
    )


@forms_staff_required
@require_POST
def template_duplicate(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    template = selectors.get_template_for_staff(user, pk)
    try:
        copy = services.duplicate_template(template, actor=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("intake:template_list")
    messages.success(request, "Copy created. Edit it below.")
    return redirect("intake:template_edit", pk=copy.pk)


@forms_staff_required
@require_POST
def template_archive(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    template = selectors.get_template_for_staff(user, pk)
    archived = request.POST.get("archived") != "0"
    services.set_archived(template, actor=user, archived=archived)
    messages.success(request, "Form archived." if archived else "Form restored.")
    return redirect("intake:template_list")


# Sending ----------------------------------------------------------------------------------------


@forms_staff_required
@require_http_methods(["GET", "POST"])
def send(request: HttpRequest, client_pk: str) -> HttpResponse:
    user = acting_user(request)
    client = get_client_for_staff(user, client_pk)
    available = list(selectors.sendable_templates(user))
    form = SendFormsForm(request.POST if request.method == "POST" else None)
    chosen_ids = [pk for pk in request.POST.getlist("template") if pk.isdigit()]
    if request.method == "POST" and form.is_valid():
        by_id = {str(t.pk): t for t in available}
        if any(pk not in by_id for pk in chosen_ids):
            form.add_error(None, "A chosen form is no longer available. Choose again.")
        else:
            try:
                services.send_forms(
                    client,
                    actor=user,
                    templates=[by_id[pk] for pk in chosen_ids],
                    due_date=form.cleaned_data["due_date"],
                    message=form.cleaned_data["message"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                count = len(set(chosen_ids))
                messages.success(request, f"{count} form(s) sent. The client was emailed.")
                return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "intake/send.html",
        {"client": client, "form": form, "available": available, "chosen": chosen_ids},
        status=400 if request.method == "POST" else 200,
    )


@forms_staff_required
@require_POST
def request_remind(request: HttpRequest, client_pk: str, pk: str) -> HttpResponse:
    user = acting_user(request)
    form_request = selectors.get_request_for_staff(user, client_pk, pk)
    try:
        services.remind(form_request, actor=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Reminder sent.")
    return redirect("clients:detail", pk=form_request.client_id)


@forms_staff_required
@require_POST
def request_cancel(request: HttpRequest, client_pk: str, pk: str) -> HttpResponse:
    user = acting_user(request)
    form_request = selectors.get_request_for_staff(user, client_pk, pk)
    services.cancel_request(form_request, actor=user)
    messages.success(request, "Request cancelled. Completed forms are kept.")
    return redirect("clients:detail", pk=form_request.client_id)


def _request_rows(client: Client) -> list[dict[str, Any]]:
    today = services.practice_today()
    result = []
    for form_request in selectors.requests_for_client(client):
        items = list(form_request.submissions.all())
        result.append(
            {
                "request": form_request,
                "status": _request_status(form_request, items, today),
                "items": [{"submission": s, "status": s.status_on(today)} for s in items],
                "open": form_request.cancelled_at is None and any(s.is_open for s in items),
            }
        )
    return result


def _request_status(
    form_request: FormRequest, items: list[Submission], today: Any
) -> tuple[str, str]:
    if form_request.cancelled_at is not None:
        return "cancelled", "Cancelled"
    statuses = {s.status for s in items}
    if statuses <= {Submission.Status.COMPLETED, Submission.Status.CANCELLED}:
        return "completed", "Completed"
    if any(s.is_overdue_on(today) for s in items):
        return "overdue", "Overdue"
    if statuses & {Submission.Status.IN_PROGRESS, Submission.Status.COMPLETED}:
        return "in_progress", "In progress"
    if Submission.Status.VIEWED in statuses:
        return "viewed", "Viewed"
    return "sent", "Sent"


def client_panel(request: HttpRequest, user: User, client: Client) -> dict[str, Any]:
    """The "Forms" panel on a client's page (owners and clinicians only)."""
    return {"client": client, "requests": _request_rows(client)}


# Review -----------------------------------------------------------------------------------------


@forms_staff_required
def review_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    awaiting = request.GET.get("show") != "all"
    submissions = selectors.review_queue(user, awaiting_only=awaiting)
    page = Paginator(submissions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "intake/review_list.html", {"page": page, "awaiting": awaiting})


@forms_staff_required
@require_http_methods(["GET", "POST"])
def submission_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    submission = selectors.get_submission_for_staff(user, pk)
    practice = request.tenant  # type: ignore[attr-defined]
    signature_errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "reviewed":
                services.mark_reviewed(submission, actor=user)
                messages.success(request, "Marked as reviewed.")
            elif action == "countersign":
                signature, signature_errors = posted_signature(
                    request, allowed_relationships=("clinician",)
                )
                if signature is not None:
                    services.countersign(
                        submission,
                        actor=user,
                        signing=services.signing_context(request, signature),
                    )
                    messages.success(request, "Countersigned.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        if not signature_errors:
            return redirect("intake:submission_detail", pk=submission.pk)
        submission = selectors.get_submission_for_staff(user, pk)

    record_event(user, "intake.submission_viewed", target=submission, request=request)
    context = rendering.submission_context(submission, practice, for_staff=True)
    roles = {s["signature"].role for s in context["signatures"]}
    context.update(
        {
            "client": submission.client,
            "verified": services.verify(submission),
            "can_countersign": submission.is_completed
            and submission.version.definition.get("countersign")
            and "countersigner" not in roles,
            "signature_errors": signature_errors,
            "files": {f.pk: f for f in submission.files.all()},
        }
    )
    return render(
        request, "intake/submission.html", context, status=400 if signature_errors else 200
    )


@forms_staff_required
def submission_pdf(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    submission = selectors.get_submission_for_staff(user, pk)
    if not submission.is_completed:
        raise Http404("This form is not completed")
    pdf = rendering.render_pdf(submission, request.tenant, for_staff=True)  # type: ignore[attr-defined]
    record_event(user, "intake.pdf_downloaded", target=submission, request=request)
    return pdf_response(pdf, submission)


def pdf_response(pdf: bytes, submission: Submission) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="form-{submission.pk}.pdf"'
    return private(response)


@forms_staff_required
def submission_file(request: HttpRequest, pk: str, file_pk: str) -> HttpResponseBase:
    user = acting_user(request)
    answer_file = selectors.get_file_for_staff(user, pk, file_pk)
    record_event(user, "intake.file_downloaded", target=answer_file, request=request)
    return file_response(answer_file)


def file_response(answer_file: AnswerFile) -> FileResponse:
    try:
        handle = default_storage.open(answer_file.storage_key, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("No such file") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=answer_file.original_name,
        content_type=answer_file.content_type,
    )
    return private(response)
