from django.core.checks import run_checks

from tenants.checks import check_production_secrets, check_tenancy


def _ids(messages):
    return {message.id for message in messages}


def test_the_shipped_settings_pass_the_tenancy_checks(settings):
    assert check_tenancy(None) == []
    assert not [m for m in run_checks() if m.id and m.id.startswith("swasth.E")]


def test_it_flags_a_public_app_listed_as_a_tenant_app(settings):
    settings.TENANT_APPS = [*settings.TENANT_APPS, "tenants"]
    assert "swasth.E001" in _ids(check_tenancy(None))


def test_it_flags_a_server_time_zone_other_than_utc(settings):
    settings.TIME_ZONE = "America/New_York"
    assert "swasth.E002" in _ids(check_tenancy(None))


def test_it_flags_cache_keys_without_the_schema(settings):
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_FUNCTION": None}}
    assert "swasth.E003" in _ids(check_tenancy(None))


def test_it_flags_cookies_shared_across_practice_hosts(settings):
    settings.SESSION_COOKIE_DOMAIN = ".localhost"
    assert "swasth.E004" in _ids(check_tenancy(None))


def test_it_warns_about_missing_stripe_keys_on_deploy(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert "swasth.W001" in _ids(check_production_secrets(None))
