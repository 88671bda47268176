"""Reads of form templates, requests and submissions, scoped to who is asking.

Owners and clinicians work with forms; a clinician sees the submissions of the clients they
may see (`clients_for_staff`). Billers never see form answers. A client sees their own forms.
"""

from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.http import Http404

from tenant_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import clients_for_staff, get_client_for_staff
from tenant_apps.intake.models import AnswerFile, FormRequest, FormTemplate, Submission

FORM_ROLES = frozenset({Role.OWNER, Role.CLINICIAN})


def can_use_forms(user: User) -> bool:
    return user.role in FORM_ROLES


def _first[M: Model](queryset: QuerySet[M], pk: int | str) -> M | None:
    """The row with this id in the scoped queryset; None for any id that is not a number."""
    return queryset.filter(pk=int(pk)).first() if str(pk).isdigit() else None


# Templates --------------------------------------------------------------------------------------


def templates_for_staff(user: User) -> QuerySet[FormTemplate]:
    if not can_use_forms(user):
        return FormTemplate.objects.none()
    return FormTemplate.objects.select_related("current_version")


def template_list(user: User, *, archived: bool = False) -> QuerySet[FormTemplate]:
    """Templates with their current version and how often each was sent and completed, in
    one query however many templates, questions or submissions there are."""
    return (
        templates_for_staff(user)
        .filter(archived_at__isnull=not archived)
        .annotate(
            sent_count=Count("sent_forms", distinct=True),
            completed_count=Count(
                "sent_forms",
                filter=Q(sent_forms__status=Submission.Status.COMPLETED),
                distinct=True,
            ),
        )
    )


def get_template_for_staff(user: User, pk: int | str) -> FormTemplate:
    found = _first(templates_for_staff(user), pk)
    if found is None:
        raise Http404("No such form")
    return found


def sendable_templates(user: User) -> QuerySet[FormTemplate]:
    return templates_for_staff(user).filter(archived_at__isnull=True, current_version__isnull=False)


# Requests and submissions (staff) -----------------------------------------------------------


def submissions_for_staff(user: User) -> QuerySet[Submission]:
    if not can_use_forms(user):
        return Submission.objects.none()
    return Submission.objects.filter(client__in=clients_for_staff(user))


def get_submission_for_staff(user: User, pk: int | str) -> Submission:
    found = _first(
        submissions_for_staff(user)
        .select_related("version", "client", "request", "reviewed_by", "submitted_by")
        .prefetch_related("signatures", "files"),
        pk,
    )
    if found is None:
        raise Http404("No such form")
    return found


def review_queue(user: User, *, awaiting_only: bool) -> QuerySet[Submission]:
    submissions = (
        submissions_for_staff(user)
        .filter(status=Submission.Status.COMPLETED)
        .select_related("client", "version", "reviewed_by")
        .order_by("-submitted_at", "-id")
    )
    if awaiting_only:
        submissions = submissions.filter(reviewed_at__isnull=True)
    return submissions


def requests_for_client(client: Client) -> QuerySet[FormRequest]:
    """A client's requests with their forms and versions, in two queries."""
    return client.form_requests.prefetch_related(
        Prefetch(
            "submissions",
            queryset=Submission.objects.select_related("version").order_by("position", "id"),
        )
    )


def get_request_for_staff(user: User, client_pk: int | str, pk: int | str) -> FormRequest:
    if not can_use_forms(user):
        raise Http404("No such request")
    client = get_client_for_staff(user, client_pk)
    found = _first(client.form_requests.all(), pk)
    if found is None:
        raise Http404("No such request")
    return found


def get_file_for_staff(user: User, submission_pk: int | str, pk: int | str) -> AnswerFile:
    submission = get_submission_for_staff(user, submission_pk)
    return _file_of(submission, pk)


def _file_of(submission: Submission, pk: int | str) -> AnswerFile:
    found = _first(submission.files.all(), pk)
    if found is None:
        raise Http404("No such file")
    return found


# The client's own forms ------------------------------------------------------------------------


def client_for_portal_user(user: User) -> Client:
    client = Client.objects.filter(user=user).first()
    if client is None:
        raise Http404("No client record for this account")
    return client


def submissions_for_client(client: Client) -> QuerySet[Submission]:
    return client.form_submissions.select_related("version", "request").order_by(
        "request__created_at", "request_id", "position", "id"
    )


def outstanding_for_user(user: User) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(client__user=user, status__in=Submission.OPEN_STATUSES)
        .select_related("version", "request")
        .order_by("request__created_at", "request_id", "position", "id")
    )


def get_submission_for_client(client: Client, pk: int | str) -> Submission:
    found = _first(submissions_for_client(client).prefetch_related("signatures"), pk)
    if found is None:
        raise Http404("No such form")
    return found


def get_file_for_client(client: Client, submission_pk: int | str, pk: int | str) -> AnswerFile:
    return _file_of(get_submission_for_client(client, submission_pk), pk)
