"""Static checks of deploy/: no container engine runs in the test environment, so these check
what can be checked without one. The production smoke test runs the same commands for real."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# Every `env.<type>("NAME"`, `required("NAME"` and `os.environ.get("NAME"` in the code that
# production runs.
_READ = re.compile(r'(?:env\.\w+|required|os\.environ\.get)\(\s*"([A-Z][A-Z0-9_]+)"')


def _variables_read() -> set[str]:
    sources = [
        path
        for folder in ("config", "tenants", "tenant_apps", "shared_apps")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "test.py" and "migrations" not in path.parts
    ]
    found = {name for path in sources for name in _READ.findall(path.read_text())}
    # Set by the image and by config/celery.py itself, not by an operator.
    return found - {"DJANGO_SETTINGS_MODULE"}


def _documented() -> set[str]:
    text = (DEPLOY / "env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_documents_every_variable_the_settings_read():
    missing = _variables_read() - _documented()

    assert not missing, f"add to deploy/env.example: {sorted(missing)}"


def test_env_example_sets_production_and_leaves_the_secrets_empty():
    text = (DEPLOY / "env.example").read_text()

    assert "\nDJANGO_ENV=production\n" in text
    for secret in (
        "DJANGO_SECRET_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "BILLING_FIELD_KEY",
    ):
        assert re.search(rf"^{secret}=$", text, flags=re.MULTILINE), secret


def test_compose_runs_every_service_from_one_image():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]

    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat", "proxy"}
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["image"] == "swasth:latest"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["web"]["command"][:2] == ["gunicorn", "config.wsgi"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    assert services["migrate"]["command"][-1] == "migrate_platform"


def test_the_image_installs_the_lock_with_hashes_and_runs_as_a_user():
    dockerfile = (DEPLOY / "Dockerfile").read_text()

    assert "--require-hashes" in dockerfile
    assert "requirements/app.lock" in dockerfile
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER swasth$", dockerfile, flags=re.MULTILINE)
    assert 'CMD ["gunicorn", "config.wsgi"' in dockerfile


def test_the_proxy_serves_the_platform_domain_and_every_subdomain():
    caddyfile = (DEPLOY / "Caddyfile").read_text()

    assert "{$PLATFORM_DOMAIN}, *.{$PLATFORM_DOMAIN} {" in caddyfile
    assert "tls /etc/caddy/certs/fullchain.pem /etc/caddy/certs/privkey.pem" in caddyfile
    assert "reverse_proxy web:8000" in caddyfile
