"""The Stripe webhook endpoint on the platform host: verify, deduplicate, route, process."""

import pytest
from django_tenants.utils import schema_context

from shared_apps.payments import handlers
from shared_apps.payments.models import RejectedWebhook, StripeAccount, WebhookEvent
from shared_apps.payments.selectors import connection_status
from tenants.schemas import connection
from tests.conftest import host_client
from tests.payments.conftest import WEBHOOK_URL, connect, deliver, event_payload, sign


def test_account_updated_refreshes_the_practice_from_stripe(
    platform_client, sunrise, fake_stripe, after_commit
):
    account = connect(fake_stripe, sunrise)
    assert connection_status(sunrise).cards_available is False
    fake_stripe.enable_charges(account.account_id)
    payload = event_payload(account.account_id)

    with after_commit():
        response = deliver(platform_client, payload, sign(payload))

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.charges_enabled is True
    assert account.requirements_due == []
    # The cached "not yet" was dropped, so clients see cards at once.
    assert connection_status(sunrise).cards_available is True
    event = WebhookEvent.objects.get()
    assert (event.status, event.practice) == (WebhookEvent.Status.PROCESSED, sunrise)
    assert event.processed_at is not None


def test_the_status_comes_from_stripe_not_from_the_event(
    platform_client, sunrise, fake_stripe, after_commit
):
    # The payload claims charges are enabled; Stripe says otherwise. Stripe wins, so a stale
    # event delivered late cannot turn card payments back on.
    account = connect(fake_stripe, sunrise)
    payload = event_payload(account.account_id)

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    account.refresh_from_db()
    assert account.charges_enabled is False


def test_the_same_event_three_times_is_processed_once(
    platform_client, sunrise, fake_stripe, after_commit
):
    account = connect(fake_stripe, sunrise)
    payload = event_payload(account.account_id, event_id="evt_same")

    with after_commit():
        responses = [deliver(platform_client, payload, sign(payload)) for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert [response.content for response in responses] == [b"queued", b"duplicate", b"duplicate"]
    assert WebhookEvent.objects.filter(event_id="evt_same").count() == 1
    assert len(fake_stripe.calls_to(f"/v1/accounts/{account.account_id}")) == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=deadbeef",
        sign(event_payload("acct_x"), secret="whsec_someone_else"),
    ],
    ids=["missing", "empty", "garbage", "other-secret"],
)
def test_a_bad_signature_is_rejected_and_recorded(platform_client, sunrise, fake_stripe, signature):
    account = connect(fake_stripe, sunrise)
    payload = event_payload(account.account_id)

    response = deliver(platform_client, payload, signature)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    rejected = RejectedWebhook.objects.get()
    assert rejected.reason == "bad_signature"
    assert rejected.body_bytes == len(payload)
    assert fake_stripe.calls == []


def test_a_signed_body_that_was_altered_is_rejected(platform_client, sunrise, fake_stripe):
    account = connect(fake_stripe, sunrise)
    payload = event_payload(account.account_id)
    signature = sign(payload)

    response = deliver(
        platform_client, payload.replace(b"account.updated", b"account.updatex"), signature
    )

    assert response.status_code == 400
    assert RejectedWebhook.objects.count() == 1


def test_a_forged_delivery_cannot_use_up_a_real_event_id(
    platform_client, sunrise, fake_stripe, after_commit
):
    account = connect(fake_stripe, sunrise)
    payload = event_payload(account.account_id, event_id="evt_real")
    deliver(platform_client, payload, "t=1,v1=forged")

    with after_commit():
        response = deliver(platform_client, payload, sign(payload))

    assert response.content == b"queued"
    assert WebhookEvent.objects.get(event_id="evt_real").status == WebhookEvent.Status.PROCESSED


def test_an_event_for_an_unknown_account_is_acknowledged_and_recorded(
    platform_client, fake_stripe, after_commit
):
    payload = event_payload("acct_nobody_here")

    with after_commit():
        response = deliver(platform_client, payload, sign(payload))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.note, event.practice) == (
        WebhookEvent.Status.IGNORED,
        "unknown_account",
        None,
    )
    assert fake_stripe.calls == []


def test_events_are_routed_to_the_practice_that_owns_the_account(
    platform_client, sunrise, harbor, fake_stripe, after_commit
):
    sunrise_account = connect(fake_stripe, sunrise)
    harbor_account = connect(fake_stripe, harbor)
    fake_stripe.enable_charges(harbor_account.account_id)
    payload = event_payload(harbor_account.account_id)

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    assert WebhookEvent.objects.get().practice == harbor
    assert StripeAccount.objects.get(pk=harbor_account.pk).charges_enabled is True
    assert StripeAccount.objects.get(pk=sunrise_account.pk).charges_enabled is False
    assert [call.path for call in fake_stripe.calls] == [
        f"/v1/accounts/{harbor_account.account_id}"
    ]


def test_event_types_without_a_handler_are_recorded_and_ignored(
    platform_client, sunrise, fake_stripe, after_commit
):
    account = connect(fake_stripe, sunrise)
    payload = event_payload(account.account_id, event_type="customer.created")

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    event = WebhookEvent.objects.get()
    assert (event.status, event.note) == (WebhookEvent.Status.IGNORED, "unhandled_type")
    assert fake_stripe.calls == []


def test_the_endpoint_lives_only_on_the_platform_host(sunrise, fake_stripe):
    account = connect(fake_stripe, sunrise)
    payload = event_payload(account.account_id)

    response = deliver(host_client("sunrise.localhost"), payload, sign(payload))

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_the_endpoint_accepts_only_post(platform_client, fake_stripe):
    assert platform_client.get(WEBHOOK_URL).status_code == 405


def test_an_event_is_processed_only_in_its_own_practices_schema(sunrise, harbor, fake_stripe):
    from shared_apps.payments.tasks import process_webhook_event

    account = connect(fake_stripe, sunrise)
    event = WebhookEvent.objects.create(
        event_id="evt_direct",
        type="account.updated",
        account_id=account.account_id,
        practice=sunrise,
    )

    with schema_context(harbor.schema_name):
        assert process_webhook_event.apply(args=[event.pk]).result == "skipped"
    assert fake_stripe.calls == []
    with schema_context(sunrise.schema_name):
        assert process_webhook_event.apply(args=[event.pk]).result == "processed"
        assert process_webhook_event.apply(args=[event.pk]).result == "skipped"
    assert len(fake_stripe.calls) == 1


def test_without_a_signing_secret_nothing_is_accepted(
    platform_client, sunrise, fake_stripe, settings
):
    account = connect(fake_stripe, sunrise)
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event_payload(account.account_id)

    response = deliver(platform_client, payload, sign(payload, secret=""))

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert RejectedWebhook.objects.get().reason == "bad_signature"


def test_a_signed_body_that_is_not_json_is_rejected_as_a_bad_payload(platform_client, fake_stripe):
    payload = b"not json at all"

    response = deliver(platform_client, payload, sign(payload))

    assert response.status_code == 400
    assert RejectedWebhook.objects.get().reason == "bad_payload"


def test_a_registered_handler_gets_the_object_id_in_the_practice_schema(
    platform_client, sunrise, fake_stripe, after_commit, monkeypatch
):
    account = connect(fake_stripe, sunrise)
    seen: list[tuple[str, str, str]] = []

    def handler(object_id: str, account_id: str) -> str:
        seen.append((object_id, account_id, connection.schema_name))
        return "handled"

    monkeypatch.setitem(handlers._handlers, "test.example", handler)
    payload = event_payload(
        account.account_id, event_type="test.example", data_object={"id": "obj_123"}
    )

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    event = WebhookEvent.objects.get()
    assert (event.object_id, event.status, event.note) == (
        "obj_123",
        WebhookEvent.Status.PROCESSED,
        "handled",
    )
    assert seen == [("obj_123", account.account_id, sunrise.schema_name)]
