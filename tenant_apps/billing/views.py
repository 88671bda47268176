"""Workspace views for billing. Owners and billers manage billing; clinicians see the billing
of the clients they may see, read-only, and keep those clients' diagnosis codes."""

from collections.abc import Callable
from datetime import datetime, time
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.billing import codes, documents, runs, selectors, services, statements
from tenant_apps.billing.forms import (
    BillingProfileForm,
    DiagnosisForm,
    InvoiceForm,
    InvoiceLineFormSet,
    LocationForm,
    PaymentForm,
    ServiceForm,
    StatementForm,
    SuperbillForm,
    VoidForm,
    WriteOffForm,
)
from tenant_apps.billing.identifiers import mask_tax_id
from tenant_apps.billing.models import (
    BillingDocument,
    BillingProfile,
    BillingRun,
    Invoice,
    InvoiceLine,
    Location,
    Payment,
    Service,
)
from tenant_apps.billing.money import format_amount, parse_amount
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import clients_for_staff
from tenant_apps.payments.card_requests import expiring_default_cards
from tenant_apps.practice.form_tokens import posted_form_token
from tenants.models import Practice

PAGE_SIZE = 50
View = Callable[..., HttpResponse]


def _practice(request: HttpRequest) -> Practice:
    practice = request.tenant  # type: ignore[attr-defined]
    assert isinstance(practice, Practice)
    return practice


def managers_only(view: View) -> View:
    """Staff sign-in, then the owner or a biller; others get a 403 page."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.can_manage_billing(acting_user(request)):
            return render(request, "billing/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# Overview, services, profile ---------------------------------------------------------------


@managers_only
def home(request: HttpRequest) -> HttpResponse:
    invoices = selectors.with_balances(
        Invoice.objects.select_related("client").order_by("-created_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in Invoice.Status.values:
        invoices = invoices.filter(status=status)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/home.html",
        {
            "page": page,
            "statuses": Invoice.Status.choices,
            "status": status,
            "expiring_cards": expiring_default_cards(),
        },
    )


@managers_only
def service_list(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/services.html", {"services": Service.objects.all()})


@managers_only
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, pk: str | None = None) -> HttpResponse:
    service = selectors.get_service(pk) if pk is not None else Service()
    form = ServiceForm(request.POST or None, instance=service, currency=_practice(request).currency)
    if request.method == "POST" and form.is_valid():
        services.save_service(form.instance, actor=acting_user(request))
        messages.success(request, "Service saved.")
        return redirect("billing:services")
    return render(
        request,
        "billing/service_form.html",
        {"form": form, "service": service, "cpt_codes": codes.cpt_codes()},
    )


@staff_required
def cpt_search(request: HttpRequest) -> JsonResponse:
    found = codes.search(codes.cpt_codes(), request.GET.get("q", ""))
    return JsonResponse(
        {"results": [{"code": c.code, "description": c.description} for c in found]}
    )


@staff_required
def icd_search(request: HttpRequest) -> JsonResponse:
    found = codes.search(codes.icd10_codes(), request.GET.get("q", ""))
    return JsonResponse(
        {"results": [{"code": c.code, "description": c.description} for c in found]}
    )


@managers_only
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    practice = _practice(request)
    billing_profile = BillingProfile.load()
    form = BillingProfileForm(
        request.POST or None, instance=billing_profile, initial={"currency": practice.currency}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_billing_profile(
                form.instance,
                actor=acting_user(request),
                changed=form.changed_data,
                tax_id=form.cleaned_data.get("tax_id", ""),
                currency=form.cleaned_data["currency"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Billing profile saved.")
            return redirect("billing:profile")
    billing_profile.refresh_from_db()
    return render(
        request,
        "billing/profile.html",
        {
            "form": form,
            "masked_tax_id": mask_tax_id(billing_profile.tax_id_last4, billing_profile.tax_id_kind),
            "locations": Location.objects.all(),
        },
    )


@managers_only
@require_http_methods(["GET", "POST"])
def location_edit(request: HttpRequest, pk: str | None = None) -> HttpResponse:
    location = selectors.get_location(pk) if pk is not None else Location()
    form = LocationForm(request.POST or None, instance=location)
    if request.method == "POST" and form.is_valid():
        services.save_location(form.instance, actor=acting_user(request))
        messages.success(request, "Location saved.")
        return redirect("billing:profile")
    return render(request, "billing/location_form.html", {"form": form, "location": location})


# A client's billing ------------------------------------------------------------------------


def client_panel(request: HttpRequest, user: User, client: Client) -> dict[str, Any]:
    """The billing panel on the client's page in the workspace."""
    return {
        "billing_client": client,
        "balance": selectors.client_balance(client),
        "open_invoice_count": selectors.open_invoices(client).count(),
        "currency": _practice(request).currency,
    }


@staff_required
def client_billing(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_billing_client(user, pk)
    record_event(user, "billing.client_viewed", target=client, request=request)
    return render(
        request,
        "billing/client.html",
        {
            "client": client,
            "balance": selectors.client_balance(client),
            "credit": selectors.unapplied_credit(client),
            "invoices": selectors.client_invoices(client),
            "payments": selectors.payments_with_refunds(client),
            "documents": client.billing_documents.all(),
            "diagnoses": client.diagnoses.all(),
            "diagnosis_form": DiagnosisForm(),
            "can_manage": selectors.can_manage_billing(user),
            "can_diagnose": selectors.can_edit_diagnoses(user),
            "currency": _practice(request).currency,
        },
    )


def _same_invoice(invoice: Invoice, lines: list[dict[str, Any]]) -> bool:
    """Whether posted invoice lines are the ones `invoice` was made from (by count and fees)."""
    posted = [
        InvoiceLine(
            units=line["units"], unit_fee=line["unit_fee"], adjustment=line.get("adjustment") or 0
        )
        for line in lines
        if line
    ]
    fees = sum(line.amount for line in posted)
    return len(posted) == invoice.lines.count() and fees == invoice.subtotal


def _same_payment(payment: Payment, data: QueryDict, currency: str) -> bool:
    """Whether posted payment details are those of `payment`; read from the raw post, since
    the invoices the first submit paid are no longer offered by the form."""
    try:
        amount = parse_amount(str(data.get("amount", "")), currency)
    except ValidationError:
        return False
    return (amount, data.get("method"), str(data.get("reference", "")).strip()) == (
        payment.amount,
        payment.method,
        payment.reference,
    )


@managers_only
@require_http_methods(["GET", "POST"])
def invoice_create(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_billing_client(user, pk)
    currency = _practice(request).currency
    form = InvoiceForm(request.POST or None)
    lines = InvoiceLineFormSet(request.POST or None, currency=currency, prefix="lines")  # type: ignore[call-arg]
    token = posted_form_token(request.POST) if request.method == "POST" else ""
    earlier = selectors.invoice_made_by_form(client, token)
    if earlier is not None:
        # The same form sent again (a double click, a retry) shows what the first one made;
        # sent again with other lines (Back, edit, save), it says nothing more was made.
        if lines.is_valid() and _same_invoice(earlier, lines.cleaned_data):
            messages.success(request, "Invoice saved.")
            return redirect("billing:invoice", pk=earlier.pk)
        form.refuse_used_token(
            f"This form was already saved as {earlier.label} "
            f"({format_amount(earlier.subtotal, earlier.currency)}), and nothing else was "
            "saved. Check the lines and save again to make another invoice."
        )
    elif request.method == "POST" and form.is_valid() and lines.is_valid():
        items = [
            services.LineInput(
                service=line["service"],
                description=line.get("description", ""),
                date_of_service=line["date_of_service"],
                units=line["units"],
                unit_fee=line["unit_fee"],
                adjustment=line.get("adjustment") or 0,
                adjustment_reason=line.get("adjustment_reason", ""),
                modifiers=line.get("modifiers", ""),
            )
            for line in lines.cleaned_data
            if line
        ]
        try:
            invoice = services.create_invoice(
                client,
                actor=user,
                lines=items,
                location=form.cleaned_data["location"],
                form_token=form.cleaned_data["form_token"],
            )
            if request.POST.get("action") == "issue":
                services.issue_invoice(invoice, actor=user)
        except services.AlreadySaved as saved:
            messages.success(request, "Invoice saved.")
            return redirect("billing:invoice", pk=saved.earlier.pk)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Invoice saved.")
            return redirect("billing:invoice", pk=invoice.pk)
    return render(
        request,
        "billing/invoice_form.html",
        {"client": client, "form": form, "lines": lines, "currency": currency},
    )


@staff_required
def invoice_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    invoice = selectors.get_invoice_for_staff(user, pk)
    currency = invoice.currency
    return render(
        request,
        "billing/invoice.html",
        {
            "invoice": invoice,
            "client": invoice.client,
            "lines": invoice.lines.all(),
            "balance_due": selectors.invoice_balance_due(invoice),
            "applications": invoice.applications.select_related("payment"),
            "entries": invoice.ledger_entries.all(),
            "document": BillingDocument.objects.filter(invoice=invoice).first(),
            "can_manage": selectors.can_manage_billing(user),
            "void_form": VoidForm(),
            "write_off_form": WriteOffForm(currency=currency),
            "currency": currency,
        },
    )


def _invoice_action(
    request: HttpRequest, pk: str, action: Callable[[Invoice, User], str]
) -> HttpResponse:
    user = acting_user(request)
    invoice = selectors.get_invoice_for_staff(user, pk)
    try:
        done = action(invoice, user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, done)
    return redirect("billing:invoice", pk=invoice.pk)


@managers_only
@require_POST
def invoice_issue(request: HttpRequest, pk: str) -> HttpResponse:
    def issue(invoice: Invoice, user: User) -> str:
        issued = services.issue_invoice(invoice, actor=user)
        return f"Invoice {issued.number} issued."

    return _invoice_action(request, pk, issue)


@managers_only
@require_POST
def invoice_void(request: HttpRequest, pk: str) -> HttpResponse:
    form = VoidForm(request.POST)

    def void(invoice: Invoice, user: User) -> str:
        if not form.is_valid():
            raise ValidationError("Give a reason for voiding the invoice.")
        services.void_invoice(invoice, actor=user, reason=form.cleaned_data["reason"])
        return "Invoice voided."

    return _invoice_action(request, pk, void)


@managers_only
@require_POST
def invoice_write_off(request: HttpRequest, pk: str) -> HttpResponse:
    def write_off(invoice: Invoice, user: User) -> str:
        form = WriteOffForm(request.POST, currency=invoice.currency)
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.write_off(
            invoice,
            actor=user,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
        )
        return "Write-off recorded."

    return _invoice_action(request, pk, write_off)


@managers_only
@require_http_methods(["GET", "POST"])
def payment_create(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_billing_client(user, pk)
    practice = _practice(request)
    zone = ZoneInfo(practice.time_zone)
    open_invoices = list(selectors.open_invoices(client))
    form = PaymentForm(
        request.POST or None,
        currency=practice.currency,
        invoices=open_invoices,
        initial={"received_on": timezone.localdate(timezone.now(), zone)},
    )
    token = posted_form_token(request.POST) if request.method == "POST" else ""
    earlier = selectors.payment_made_by_form(client, token)
    if earlier is not None:
        # The same form sent again (a double click, a retry) shows what the first one did;
        # sent again with other details (Back, edit, save), it says nothing more was recorded.
        if _same_payment(earlier, request.POST, practice.currency):
            messages.success(request, "Payment recorded.")
            return redirect("billing:client", pk=client.pk)
        form.refuse_used_token(
            "This form already recorded a payment of "
            f"{format_amount(earlier.amount, earlier.currency)}, and nothing else was recorded. "
            "Check the details and save again to record another payment."
        )
    elif request.method == "POST" and form.is_valid():
        received_on = form.cleaned_data["received_on"]
        today = timezone.localdate(timezone.now(), zone)
        # Today's payments carry the moment they were recorded; earlier ones local noon.
        received_at = (
            timezone.now()
            if received_on == today
            else datetime.combine(received_on, time(12), tzinfo=zone)
        )
        try:
            services.record_payment(
                client,
                actor=user,
                method=form.cleaned_data["method"],
                amount=form.cleaned_data["amount"],
                received_at=received_at,
                reference=form.cleaned_data["reference"],
                applications=form.applications(),
                form_token=form.cleaned_data["form_token"],
            )
        except services.AlreadySaved:
            messages.success(request, "Payment recorded.")
            return redirect("billing:client", pk=client.pk)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Payment recorded.")
            return redirect("billing:client", pk=client.pk)
    return render(
        request,
        "billing/payment_form.html",
        {"client": client, "form": form, "invoices": open_invoices, "currency": practice.currency},
    )


@managers_only
@require_http_methods(["GET", "POST"])
def statement_create(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_billing_client(user, pk)
    zone = ZoneInfo(_practice(request).time_zone)
    start, end = statements.previous_month(timezone.localdate(timezone.now(), zone))
    form = StatementForm(request.POST or None, initial={"start": start, "end": end})
    if request.method == "POST" and form.is_valid():
        document = documents.create_statement(
            client, actor=user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        messages.success(request, "Statement created. Review it, then send it to the client.")
        return redirect("billing:document", pk=document.pk)
    return render(
        request, "billing/statement_form.html", {"client": client, "form": form, "zone": zone}
    )


@managers_only
@require_http_methods(["GET", "POST"])
def superbill_create(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_billing_client(user, pk)
    form = SuperbillForm(request.POST or None, dates=documents.service_dates(client))
    if request.method == "POST" and form.is_valid():
        try:
            document = documents.create_superbill(
                client,
                actor=user,
                dates=form.cleaned_data["dates"],
                hide_diagnosis_descriptions=form.cleaned_data["hide_diagnosis_descriptions"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Superbill created. Review it, then send it to the client.")
            return redirect("billing:document", pk=document.pk)
    return render(request, "billing/superbill_form.html", {"client": client, "form": form})


@staff_required
@require_POST
def diagnosis_add(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_billing_client(user, pk)
    if not selectors.can_edit_diagnoses(user):
        return render(request, "billing/forbidden.html", status=403)
    form = DiagnosisForm(request.POST)
    if form.is_valid():
        try:
            services.add_diagnosis(client, actor=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, "Diagnosis code added.")
    else:
        messages.error(request, " ".join(str(error) for error in form.errors["code"]))
    return redirect("billing:client", pk=client.pk)


@staff_required
@require_POST
def diagnosis_remove(request: HttpRequest, pk: str, diagnosis_pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_billing_client(user, pk)
    if not selectors.can_edit_diagnoses(user):
        return render(request, "billing/forbidden.html", status=403)
    services.remove_diagnosis(selectors.get_diagnosis(client, diagnosis_pk), actor=user)
    messages.success(request, "Diagnosis code removed.")
    return redirect("billing:client", pk=client.pk)


# Documents -----------------------------------------------------------------------------


@staff_required
def document_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    document = selectors.get_document_for_staff(user, pk)
    return render(
        request,
        "billing/document.html",
        {
            "document": document,
            "client": document.client,
            "can_manage": selectors.can_manage_billing(user),
        },
    )


def pdf_response(document: BillingDocument, *, download: bool) -> HttpResponse:
    """The stored PDF (rendered now if it is the first request), never cached by browsers."""
    documents.ensure_pdf(document)
    with document.pdf.open("rb") as stored:
        content = stored.read()
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{document.kind}-{document.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
def document_pdf(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    document = selectors.get_document_for_staff(user, pk)
    download = request.GET.get("download") == "1"
    record_event(
        user,
        "billing.document_downloaded" if download else "billing.document_viewed",
        target=document,
        request=request,
    )
    return pdf_response(document, download=download)


@managers_only
@require_POST
def documents_send(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    ids = [pk for pk in request.POST.getlist("document") if pk.isdigit()]
    chosen = BillingDocument.objects.filter(
        pk__in=ids, client__in=clients_for_staff(user)
    ).select_related("client__user")
    outcomes = services.send_documents(chosen, actor=user)
    sent = sum(1 for outcome in outcomes if outcome.outcome == "sent")
    reasons = sorted({outcome.reason for outcome in outcomes if outcome.outcome == "skipped"})
    text = f"Sent: {sent}. Skipped: {len(outcomes) - sent}."
    if reasons:
        text += " " + " ".join(reasons)
    messages.success(request, text)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/practice/billing/") else "billing:home")


# Statement runs ------------------------------------------------------------------------


@managers_only
@require_http_methods(["GET", "POST"])
def run_list(request: HttpRequest) -> HttpResponse:
    zone = ZoneInfo(_practice(request).time_zone)
    start, end = statements.previous_month(timezone.localdate(timezone.now(), zone))
    if request.method == "POST":
        run = runs.start_run(actor=acting_user(request), start=start, end=end)
        return redirect("billing:run", pk=run.pk)
    return render(
        request,
        "billing/runs.html",
        {"runs": BillingRun.objects.all()[:24], "period_start": start, "period_end": end},
    )


@managers_only
def run_detail(request: HttpRequest, pk: str) -> HttpResponse:
    run = selectors.get_run(pk)
    ids = {row["client"] for row in run.report}
    clients = {client.pk: client.display_name for client in Client.objects.filter(pk__in=ids)}
    rows = [{**row, "name": clients.get(row["client"], "—")} for row in run.report]
    return render(request, "billing/run.html", {"run": run, "rows": rows})


@managers_only
def run_status(request: HttpRequest, pk: str) -> JsonResponse:
    run = selectors.get_run(pk)
    return JsonResponse(
        {
            "status": run.status,
            "clients_total": run.clients_total,
            "clients_checked": run.clients_checked,
            "total": run.total,
            "processed": run.processed,
            "sent": run.sent,
            "skipped": run.skipped,
            "failed": run.failed,
            "done": run.is_done,
        }
    )
