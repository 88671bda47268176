"""The ledger: balances are the sum of entries, totals come from the server, no floats."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenant_apps.billing import selectors, services
from tenant_apps.billing.models import BillingProfile, Invoice, LedgerEntry, Payment
from tenant_apps.clients.models import Client
from tenants.models import Practice
from tests.billing.conftest import issue

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

# An operation: ("invoice", fee, units) | ("pay", amount, apply_to_index, apply_part)
# | ("void", index) | ("write_off", index, amount).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(1, 500_000), st.integers(1, 4)),
        st.tuples(
            st.just("pay"), st.integers(1, 900_000), st.integers(0, 9), st.integers(0, 900_000)
        ),
        st.tuples(st.just("void"), st.integers(0, 9)),
        st.tuples(st.just("write_off"), st.integers(0, 9), st.integers(1, 500_000)),
    ),
    min_size=1,
    max_size=12,
)


def _check_ledger(client, expected_balance):
    entries = list(LedgerEntry.objects.filter(client=client).values_list("amount", flat=True))
    balance = selectors.client_balance(client)
    assert type(balance) is int and all(type(amount) is int for amount in entries)
    assert balance == sum(entries) == expected_balance
    invoices = list(selectors.with_balances(client.invoices.all()))
    open_due = sum(invoice.balance_due for invoice in invoices)
    assert all(type(invoice.balance_due) is int for invoice in invoices)
    assert all(invoice.balance_due >= 0 for invoice in invoices)
    # What the open invoices still owe, less the credit on account, is the balance.
    assert open_due - selectors.unapplied_credit(client) == balance
    for invoice in invoices:
        if invoice.status == Invoice.Status.VOID:
            assert invoice.balance_due == 0
        elif invoice.balance_due == 0:
            assert invoice.status == Invoice.Status.PAID
        elif invoice.balance_due < invoice.total:
            assert invoice.status == Invoice.Status.PARTIALLY_PAID


def _run(client, ops):
    """Apply `ops` through the services; return the balance a plain model expects."""
    invoices: list[Invoice] = []
    expected = 0
    for op in ops:
        try:
            with transaction.atomic():
                if op[0] == "invoice":
                    invoice = issue(client, fee=op[1], units=op[2])
                    invoices.append(invoice)
                    expected += op[1] * op[2]
                elif op[0] == "pay":
                    applications = []
                    if invoices and op[3]:
                        target = invoices[op[2] % len(invoices)]
                        due = selectors.invoice_balance_due(target)
                        part = min(op[3], op[1], due)
                        if target.status not in ("void",) and part > 0:
                            target.refresh_from_db()
                            if target.is_open:
                                applications = [(target, part)]
                    services.record_payment(
                        client,
                        actor=None,
                        method=Payment.Method.CASH,
                        amount=op[1],
                        received_at=NOW,
                        applications=applications,
                    )
                    expected -= op[1]
                elif op[0] == "void" and invoices:
                    target = invoices[op[1] % len(invoices)]
                    remaining = sum(
                        LedgerEntry.objects.filter(invoice=target).values_list("amount", flat=True)
                    )
                    services.void_invoice(target, actor=None, reason="Entered in error")
                    expected -= remaining
                elif op[0] == "write_off" and invoices:
                    target = invoices[op[1] % len(invoices)]
                    services.write_off(target, actor=None, amount=op[2], reason="Hardship")
                    expected -= op[2]
        except ValidationError:
            pass  # refused operations (void twice, write off too much) change nothing
    return expected


@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_any_sequence_of_operations_keeps_the_balance_equal_to_the_ledger(
    sunrise, in_sunrise, currency
):
    Practice.objects.filter(pk=sunrise.pk).update(currency=currency)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ops=operations)
    def check(ops):
        with transaction.atomic():
            client = Client.objects.create(legal_first_name="Prop", legal_last_name="Test")
            expected = _run(client, ops)
            _check_ledger(client, expected)
            assert set(
                LedgerEntry.objects.filter(client=client).values_list("currency", flat=True)
            ) <= {currency}
            transaction.set_rollback(True)

    check()


def test_an_invoice_total_is_computed_by_the_server_with_tax_on_taxable_lines(
    sunrise, in_sunrise, carol_record
):
    from tenant_apps.billing.models import Service

    BillingProfile.objects.update_or_create(pk=1, defaults={"tax_rate_basis_points": 825})
    taxable = Service.objects.create(name="Workbook", fee=2000, cpt_code="90889", taxable=True)
    invoice = services.create_invoice(
        carol_record,
        actor=None,
        lines=[
            services.LineInput(date_of_service=date(2026, 11, 3), unit_fee=15000, adjustment=1000),
            services.LineInput(date_of_service=date(2026, 11, 3), unit_fee=2000, service=taxable),
        ],
    )
    issued = services.issue_invoice(invoice, actor=None)
    assert (issued.subtotal, issued.tax, issued.total) == (16000, 165, 16165)
    assert selectors.client_balance(carol_record) == 16165


def test_a_draft_keeps_its_totals_and_issuing_refuses_tax_beyond_the_cap(
    sunrise, in_sunrise, carol_record
):
    from tenant_apps.billing.models import Service

    taxable = Service.objects.create(name="Package", fee=100_000_000, taxable=True)
    line = services.LineInput(
        date_of_service=date(2026, 11, 3), unit_fee=100_000_000, service=taxable
    )
    draft = services.create_invoice(carol_record, actor=None, lines=[line])
    assert (draft.subtotal, draft.tax, draft.total) == (100_000_000, 0, 100_000_000)

    BillingProfile.objects.update_or_create(pk=1, defaults={"tax_rate_basis_points": 825})
    with pytest.raises(ValidationError, match=r"at most \$1,000,000.00"):
        services.issue_invoice(draft, actor=None)
    draft.refresh_from_db()
    assert (draft.status, draft.total) == ("draft", 100_000_000)
    assert selectors.client_balance(carol_record) == 0


def test_invoice_numbers_are_sequential_per_practice(sunrise, harbor, carol_record, ivan_record):
    from django_tenants.utils import schema_context

    with schema_context(sunrise.schema_name):
        first, second = issue(carol_record), issue(carol_record)
    with schema_context(harbor.schema_name):
        other = issue(ivan_record)
    assert (first.number, second.number, other.number) == (1, 2, 1)


def test_a_payment_is_applied_and_the_rest_stays_as_credit(sunrise, in_sunrise, carol_record):
    invoice = issue(carol_record, fee=15000)
    services.record_payment(
        carol_record,
        actor=None,
        method="check",
        amount=20000,
        received_at=NOW,
        reference="1042",
        applications=[(invoice, 15000)],
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert selectors.unapplied_credit(carol_record) == 5000
    assert selectors.client_balance(carol_record) == -5000

    later = issue(carol_record, fee=8000)
    services.apply_credit(carol_record, actor=None, applications=[(later, 5000)])
    later.refresh_from_db()
    assert later.status == Invoice.Status.PARTIALLY_PAID
    assert selectors.invoice_balance_due(later) == 3000
    assert selectors.unapplied_credit(carol_record) == 0


def test_voiding_returns_applied_payments_to_credit(sunrise, in_sunrise, carol_record):
    invoice = issue(carol_record, fee=15000)
    services.record_payment(
        carol_record,
        actor=None,
        method="cash",
        amount=6000,
        received_at=NOW,
        applications=[(invoice, 6000)],
    )
    services.void_invoice(invoice, actor=None, reason="Duplicate")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert selectors.invoice_balance_due(invoice) == 0
    assert selectors.unapplied_credit(carol_record) == 6000
    assert selectors.client_balance(carol_record) == -6000


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda inv: services.write_off(inv, actor=None, amount=20000, reason="x"),
            "cannot exceed",
        ),
        (lambda inv: services.write_off(inv, actor=None, amount=100, reason=" "), "reason"),
        (lambda inv: services.void_invoice(inv, actor=None, reason=""), "reason"),
    ],
)
def test_it_refuses_bad_write_offs_and_voids_with_a_clear_message(
    sunrise, in_sunrise, carol_record, call, message
):
    invoice = issue(carol_record, fee=15000)
    with pytest.raises(ValidationError) as error:
        call(invoice)
    assert message in " ".join(error.value.messages)
    assert selectors.client_balance(carol_record) == 15000


def test_it_refuses_float_amounts(sunrise, in_sunrise, carol_record):
    with pytest.raises(TypeError):
        services.record_payment(
            carol_record, actor=None, method="cash", amount=150.0, received_at=NOW
        )
    with pytest.raises(TypeError):
        services.create_invoice(
            carol_record,
            actor=None,
            lines=[services.LineInput(date_of_service=date(2026, 11, 3), unit_fee=150.0)],
        )
    assert not LedgerEntry.objects.exists()


def test_a_payment_cannot_be_applied_to_another_clients_invoice(
    sunrise, in_sunrise, carol_record, dave_record
):
    daves = issue(dave_record, fee=15000)
    with pytest.raises(ValidationError):
        services.record_payment(
            carol_record,
            actor=None,
            method="cash",
            amount=15000,
            received_at=NOW,
            applications=[(daves, 15000)],
        )
    assert selectors.invoice_balance_due(daves) == 15000
    assert selectors.client_balance(carol_record) == 0
