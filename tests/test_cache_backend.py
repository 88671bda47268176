from django.core.cache import cache


def test_the_cache_reuses_one_redis_client_and_still_round_trips(db):
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client
    cache.set("reuse-check", {"n": 1}, 30)
    assert cache.get("reuse-check") == {"n": 1}
