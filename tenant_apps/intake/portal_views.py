"""Portal views: the client's forms, filled in with autosave, signed and downloaded."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.intake import definitions, rendering, selectors, services
from tenant_apps.intake.forms import posted_answers, posted_signature
from tenant_apps.intake.models import Submission
from tenant_apps.intake.signatures import SignatureInput
from tenant_apps.intake.views import file_response, pdf_response
from tenant_apps.portal.registry import PortalTask

View = Callable[..., HttpResponse]


def client_json_required(view: View) -> View:
    """For the page's background saves: a signed-out client gets a 401 the script can
    explain, instead of a redirect to the sign-in page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or not getattr(user, "is_client", False):
            return JsonResponse(
                {"error": "You were signed out. Sign in again; your saved answers are kept."},
                status=401,
            )
        return view(request, *args, **kwargs)

    return wrapped


def _own_submission(request: HttpRequest, pk: str) -> Submission:
    client = selectors.client_for_portal_user(acting_user(request))
    return selectors.get_submission_for_client(client, pk)


@client_required
def form_list(request: HttpRequest) -> HttpResponse:
    client = selectors.client_for_portal_user(acting_user(request))
    submissions = [
        s
        for s in selectors.submissions_for_client(client)
        if s.status != Submission.Status.CANCELLED
    ]
    today = services.practice_today()
    return render(
        request,
        "intake/portal/list.html",
        {
            "outstanding": [(s, s.status_on(today)) for s in submissions if s.is_open],
            "completed": [s for s in submissions if s.is_completed],
        },
    )


def _fill_page(
    request: HttpRequest,
    submission: Submission,
    *,
    errors: dict[str, str] | None = None,
    signature_errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    definition = submission.version.definition
    today = services.practice_today()
    return render(
        request,
        "intake/portal/fill.html",
        {
            "submission": submission,
            "definition": definition,
            "rows": rendering.rows(definition, submission.answers, errors),
            "errors": errors or {},
            "signature_errors": signature_errors or {},
            "signature_values": request.POST if request.method == "POST" else {},
            "status": submission.status_on(today),
            "upload_max_mb": services.MAX_UPLOAD_BYTES // (1024 * 1024),
        },
        status=status,
    )


def _completed_page(
    request: HttpRequest, submission: Submission, *, status: int = 200
) -> HttpResponse:
    practice = request.tenant  # type: ignore[attr-defined]
    context = rendering.submission_context(submission, practice, for_staff=False)
    return render(request, "intake/portal/completed.html", context, status=status)


@client_required
@require_http_methods(["GET", "POST"])
def form_fill(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    submission = _own_submission(request, pk)
    if submission.status == Submission.Status.CANCELLED:
        return render(request, "intake/portal/withdrawn.html", status=410)
    if submission.is_completed:
        if request.method == "POST":
            # A replayed or double submit changes nothing.
            messages.info(request, "This form was already submitted and can no longer change.")
            return _completed_page(request, submission, status=409)
        record_event(user, "intake.completed_form_viewed", target=submission, request=request)
        return _completed_page(request, submission)

    if request.method == "GET":
        services.mark_viewed(submission, actor=user)
        return _fill_page(request, submission)

    definition = submission.version.definition
    for question in definition["questions"]:
        upload = request.FILES.get(f"upload_{question['key']}")
        if upload is not None and question["type"] == definitions.FILE:
            try:
                services.attach_file(
                    submission, actor=user, question_key=question["key"], upload=upload
                )
            except ValidationError as error:
                return _fill_page(
                    request,
                    submission,
                    errors={question["key"]: " ".join(error.messages)},
                    status=400,
                )
    signature: SignatureInput | None = None
    signature_errors: dict[str, str] = {}
    if definitions.signature_question(definition) is not None:
        signature, signature_errors = posted_signature(request)
    try:
        services.submit(
            submission,
            actor=user,
            raw=posted_answers(definition, request.POST),
            signing=services.signing_context(request, signature) if signature else None,
            signature_errors=signature_errors,
        )
    except services.FormClosed:
        submission.refresh_from_db()
        return _completed_page(request, submission, status=409)
    except services.SubmissionErrors as error:
        submission.refresh_from_db()
        return _fill_page(
            request,
            submission,
            errors=error.by_question,
            signature_errors=signature_errors,
            status=400,
        )
    messages.success(request, "Thank you. Your form was submitted.")
    next_open = selectors.outstanding_for_user(user).first()
    if next_open is not None:
        return redirect("intake_portal:fill", pk=next_open.pk)
    return redirect("intake_portal:list")


@client_json_required
@require_POST
def form_draft(request: HttpRequest, pk: str) -> HttpResponse:
    """Autosave: the page posts its fields as the client types and when it is hidden."""
    user = acting_user(request)
    submission = _own_submission(request, pk)
    definition = submission.version.definition
    try:
        saved, errors = services.save_draft(
            submission, actor=user, raw=posted_answers(definition, request.POST)
        )
    except services.FormClosed as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=409)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse(
        {
            "saved_at": saved.draft_saved_at.isoformat() if saved.draft_saved_at else None,
            "errors": errors,
        }
    )


@client_json_required
@require_POST
def form_upload(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    submission = _own_submission(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "Choose a file to attach."}, status=400)
    try:
        answer_file = services.attach_file(
            submission, actor=user, question_key=request.POST.get("question", ""), upload=upload
        )
    except services.FormClosed as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=409)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse(
        {
            "file": answer_file.pk,
            "name": answer_file.original_name,
            "url": reverse("intake_portal:file", args=[submission.pk, answer_file.pk]),
        }
    )


# client_required is typed for HttpResponse views; a FileResponse streams instead.
@client_required  # type: ignore[arg-type]
def form_file(request: HttpRequest, pk: str, file_pk: str) -> HttpResponseBase:
    user = acting_user(request)
    client = selectors.client_for_portal_user(user)
    answer_file = selectors.get_file_for_client(client, pk, file_pk)
    record_event(user, "intake.file_downloaded", target=answer_file, request=request)
    return file_response(answer_file)


@client_required
def form_pdf(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    submission = _own_submission(request, pk)
    if not submission.is_completed:
        raise Http404("This form is not completed")
    pdf = rendering.render_pdf(submission, request.tenant, for_staff=False)  # type: ignore[attr-defined]
    record_event(user, "intake.pdf_downloaded", target=submission, request=request)
    return pdf_response(pdf, submission)


# The portal home -------------------------------------------------------------------------------


def outstanding_form_tasks(user: User) -> list[PortalTask]:
    """Forms waiting for the client, in the order the practice chose."""
    return [
        PortalTask(
            label=f"Complete: {submission.version.title}",
            url=reverse("intake_portal:fill", args=[submission.pk]),
        )
        for submission in selectors.outstanding_for_user(user)
    ]


def forms_section(request: HttpRequest, user: User) -> dict[str, Any]:
    """The home's "Forms" card links to the forms page; it costs the home no query (the
    outstanding forms are already listed as tasks)."""
    return {"url": reverse("intake_portal:list")}
