"""Values read once per request (tenants/request_memo.py)."""

from django.core.cache import cache
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


def test_a_prefetched_entry_answers_once_and_a_change_drops_it(sunrise, monkeypatch):
    monkeypatch.setattr(request_memo, "PREFETCHED_KEYS", ["prefetch-test"])
    with schema_context(sunrise.schema_name):
        cache.set("prefetch-test", "before")
        with request_memo.request_scope():
            assert request_memo.get_many_with_prefetch(["other"]) == {}
            cache.set("prefetch-test", "changed without telling")
            # Answered from the prefetch: the round trip was saved.
            assert request_memo.cache_get("prefetch-test") == "before"

        with request_memo.request_scope():
            request_memo.get_many_with_prefetch([])
            cache.set("prefetch-test", "after")
            request_memo.forget("prefetch-test")
            assert request_memo.cache_get("prefetch-test") == "after"


def test_a_prefetch_in_one_practice_does_not_answer_for_another(sunrise, harbor, monkeypatch):
    monkeypatch.setattr(request_memo, "PREFETCHED_KEYS", ["prefetch-test"])
    with schema_context(sunrise.schema_name):
        cache.set("prefetch-test", "sunrise")
    with schema_context(harbor.schema_name):
        cache.set("prefetch-test", "harbor")

    with request_memo.request_scope():
        with schema_context(sunrise.schema_name):
            request_memo.get_many_with_prefetch([])
        with schema_context(harbor.schema_name):
            assert request_memo.cache_get("prefetch-test") == "harbor"
