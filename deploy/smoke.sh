#!/usr/bin/env bash
# Production smoke test: run what the container image runs, with production settings, against
# a local PostgreSQL and Redis, and check that the platform and a practice answer.
#
#   1. production settings refuse to start without DJANGO_SECRET_KEY, naming it;
#   2. collectstatic, `manage.py check --deploy`, `manage.py migrate_platform` on a database
#      of its own (created here, dropped at the end);
#   3. gunicorn (config.wsgi) on a loopback port, a Celery worker and Celery beat;
#   4. provision a practice, then:
#        GET /health/ on the platform host        -> 200 (database, Redis, worker, storage)
#        GET / on <slug>.<PLATFORM_DOMAIN>        -> 200 (the practice's portal)
#        the same without X-Forwarded-Proto       -> 301 to https (SECURE_SSL_REDIRECT)
#        GET /health/ on the practice host        -> 404 (platform host only)
#        every line gunicorn, the worker and beat wrote is JSON with a schema_name, and the
#        portal request's line names the practice's schema
#   5. stop everything and drop the database, also on failure or Ctrl-C.
#
# The requests carry X-Forwarded-Proto: https, as the reverse proxy in deploy/ sends them.
#
# Environment (all optional):
#   SMOKE_DATABASE_URL  postgres://postgres@127.0.0.1:5432/swasth_smoke  (dropped and recreated)
#   SMOKE_REDIS_URL     redis://127.0.0.1:6379/13                        (cache)
#   SMOKE_BROKER_URL    redis://127.0.0.1:6379/14                        (Celery broker)
#   SMOKE_WAIT_SECONDS  90   how long to wait for gunicorn and the worker to answer
#   PYTHON              .venv/bin/python in the checkout
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WAIT_SECONDS="${SMOKE_WAIT_SECONDS:-90}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/swasth-smoke.XXXXXX")"
PIDS=()
DATABASE_CREATED=""

say() { printf 'smoke: %s\n' "$*"; }
fail() {
    printf 'smoke: FAILED: %s\n' "$*" >&2
    exit 1
}

# Production settings with throwaway secrets; nothing here reaches Stripe or sends mail.
export DJANGO_SETTINGS_MODULE=config.settings
export DJANGO_ENV=production
export DJANGO_DEBUG=false
export DJANGO_SECRET_KEY="smoke-test-secret-key-not-for-production-use-0123456789abcdefghij"
export STRIPE_SECRET_KEY=sk_test_smoke
export STRIPE_WEBHOOK_SECRET=whsec_smoke
export BILLING_FIELD_KEY="smoke-test-billing-key-not-for-production-use"
export PLATFORM_DOMAIN=smoke.test
export PORTAL_URL_SCHEME=http
export DATABASE_URL="${SMOKE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/swasth_smoke}"
export DATABASE_CONN_MAX_AGE=0
export REDIS_URL="${SMOKE_REDIS_URL:-redis://127.0.0.1:6379/13}"
export CELERY_BROKER_URL="${SMOKE_BROKER_URL:-redis://127.0.0.1:6379/14}"
export CACHE_KEY_PREFIX="swasth-smoke"
export DOCUMENTS_STORAGE=filesystem
export DOCUMENTS_ROOT="$WORK/documents"
export MEDIA_ROOT="$WORK/media"
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
export EMAIL_FILE_PATH="$WORK/mail"
# The deploy checks refuse a file backend in production: here it is the point.
export SILENCED_SYSTEM_CHECKS=mail.E001
# INFO, so that the access lines (tenants/access_log.py) are there to check.
export LOG_LEVEL=INFO
# Nothing from the calling environment may loosen production (a test process, say).
unset LOG_FORMAT USE_X_FORWARDED_HOST SWASTH_TEST_WORKER CELERY_TASK_ALWAYS_EAGER \
    DJANGO_ALLOW_ASYNC_UNSAFE \
    CELERY_TASK_DEFAULT_QUEUE EMAIL_HOST PORTAL_URL_PORT DOCUMENTS_S3_BUCKET
mkdir -p "$DOCUMENTS_ROOT" "$MEDIA_ROOT" "$EMAIL_FILE_PATH"
cd "$ROOT"

# Create or drop the smoke database through the server's maintenance database.
database() {
    "$PYTHON" - "$1" <<'PY'
import os
import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

url = urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    if sys.argv[1] == "create":
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY
}

stop_all() {
    local status=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    if [[ $status -ne 0 ]]; then
        for log in "$WORK"/*.log; do
            [[ -f $log ]] || continue
            printf '\n----- %s (last 40 lines) -----\n' "$(basename "$log")" >&2
            tail -n 40 "$log" >&2
        done
    fi
    if [[ -n $DATABASE_CREATED ]]; then
        database drop || say "could not drop the smoke database"
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Start a long-running process in a process group of its own, so that stopping it stops its
# children too (gunicorn's workers, Celery's pool).
start() {
    local name=$1
    shift
    setsid "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
}

alive() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || return 1
    done
}

# status_of HOST PATH [curl options...]: print the HTTP status of one request to gunicorn.
status_of() {
    local host=$1 path=$2
    shift 2
    curl --silent --max-time 10 --output "$WORK/body" --write-out '%{http_code}' \
        --header "Host: $host" "$@" "http://127.0.0.1:$PORT$path" || true
}

say "production settings refuse to start without DJANGO_SECRET_KEY"
if env -u DJANGO_SECRET_KEY "$PYTHON" manage.py check >"$WORK/no-secret.out" 2>&1; then
    fail "manage.py check started without DJANGO_SECRET_KEY"
fi
grep -q "DJANGO_SECRET_KEY" "$WORK/no-secret.out" ||
    fail "the error for a missing secret does not name DJANGO_SECRET_KEY"

say "collectstatic"
"$PYTHON" manage.py collectstatic --noinput --verbosity 0

say "manage.py check --deploy"
"$PYTHON" manage.py check --deploy --fail-level ERROR >"$WORK/check.log" 2>&1 ||
    fail "manage.py check --deploy: $(cat "$WORK/check.log")"

say "creating database $(basename "$DATABASE_URL")"
database create
DATABASE_CREATED=yes

say "manage.py migrate_platform"
"$PYTHON" manage.py migrate_platform --verbosity 0

say "provisioning practice 'smoke'"
"$PYTHON" manage.py provision_practice --name "Smoke Practice" --slug smoke \
    --owner-email owner@smoke.test --plan professional >"$WORK/provision.log" 2>&1 ||
    fail "provision_practice: $(cat "$WORK/provision.log")"

PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
say "starting gunicorn on 127.0.0.1:$PORT, a Celery worker and Celery beat"
start web "$PYTHON" -m gunicorn config.wsgi --config deploy/gunicorn_config.py \
    --bind "127.0.0.1:$PORT" --workers 2
start worker "$PYTHON" -m celery --app config --quiet worker --loglevel INFO --concurrency 1 \
    --hostname "smoke-$$@%h" --without-mingle --without-gossip
start beat "$PYTHON" -m celery --app config --quiet beat --loglevel INFO \
    --schedule "$WORK/celerybeat-schedule"

say "waiting up to ${WAIT_SECONDS}s for GET /health/ to answer 200"
deadline=$((SECONDS + WAIT_SECONDS))
health=""
while ((SECONDS < deadline)); do
    alive || fail "a process exited during startup"
    health="$(status_of "$PLATFORM_DOMAIN" /health/ --header 'X-Forwarded-Proto: https')"
    [[ $health == 200 ]] && break
    sleep 0.5
done
[[ $health == 200 ]] || fail "GET /health/ answered ${health:-nothing}: $(cat "$WORK/body" 2>/dev/null)"
say "health: $(cat "$WORK/body")"

portal="$(status_of "smoke.$PLATFORM_DOMAIN" / --header 'X-Forwarded-Proto: https')"
[[ $portal == 200 ]] || fail "the practice portal answered $portal"
grep -q "Smoke Practice" "$WORK/body" || fail "the practice portal does not name its practice"
say "portal of smoke.$PLATFORM_DOMAIN: 200"

plain="$(status_of "smoke.$PLATFORM_DOMAIN" /)"
[[ $plain == 301 ]] || fail "plain HTTP answered $plain, not a redirect to https"

elsewhere="$(status_of "smoke.$PLATFORM_DOMAIN" /health/ --header 'X-Forwarded-Proto: https')"
[[ $elsewhere == 404 ]] || fail "GET /health/ on a practice host answered $elsewhere, not 404"

alive || fail "a process exited"
grep -q "beat: Starting" "$WORK/beat.log" || fail "Celery beat did not start"

say "every log line is JSON with a schema_name"
"$PYTHON" - "$WORK" <<'PY' || fail "the logs are not JSON with the schema on every line"
import json
import pathlib
import sys

work = pathlib.Path(sys.argv[1])
problems, portal = [], set()
for name in ("web", "worker", "beat"):
    for number, line in enumerate((work / f"{name}.log").read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"{name}.log:{number} is not JSON: {line[:160]}")
            continue
        if not record.get("schema_name"):
            problems.append(f"{name}.log:{number} has no schema_name: {line[:160]}")
        if record.get("logger") == "tenants.access_log" and record.get("message") == "GET / 200":
            portal.add(record["schema_name"])
if not portal or "public" in portal:
    problems.append(f"the portal's access lines carry the schemas {sorted(portal)}")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
say "OK"
