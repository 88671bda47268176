"""Values read once per request (tenants/request_memo.py)."""

from django_tenants.utils import schema_context

from tenant_apps.booking.models import BookingSettings
from tenants import request_memo


def test_it_loads_once_within_a_request_and_every_time_outside_one():
    loads = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert request_memo.remembered("key", load) == 1
    assert request_memo.remembered("key", load) == 2
    with request_memo.request_scope():
        assert request_memo.remembered("key", load) == 3
        assert request_memo.remembered("key", load) == 3
    assert request_memo.remembered("key", load) == 4


def test_it_keeps_each_practice_apart(sunrise, harbor):
    with request_memo.request_scope():
        with schema_context(sunrise.schema_name):
            assert request_memo.remembered("key", lambda: "sunrise") == "sunrise"
        with schema_context(harbor.schema_name):
            assert request_memo.remembered("key", lambda: "harbor") == "harbor"
        with schema_context(sunrise.schema_name):
            assert request_memo.remembered("key", lambda: "other") == "sunrise"


def test_a_saved_setting_is_seen_by_the_rest_of_the_request(sunrise):
    with schema_context(sunrise.schema_name), request_memo.request_scope():
        assert BookingSettings.load().enabled is False
        settings = BookingSettings.objects.get()
        settings.enabled = True
        settings.save()

        assert BookingSettings.load().enabled is True
