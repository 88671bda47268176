"""Test settings: the real PostgreSQL and Redis, with Redis databases of their own.

Importing this module runs config/settings/__init__.py (its parent package) first, so an
environment default set here would come too late: the values are assigned below instead.
"""

from urllib.parse import urlsplit

from config.settings import *  # noqa: F403
from config.settings import CACHES, DATABASES
from config.settings.environment import env
from config.settings.services import mailers

# Never the development database 0: every test clears the cache with FLUSHDB. bin/test
# exports REDIS_URL (database 15 of whichever server it found); plain pytest gets the default.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {"default": {**CACHES["default"], "LOCATION": REDIS_URL, "KEY_PREFIX": "swasth-test"}}
# Tasks run in-process. A worker started by tests/integration takes them from a queue of its
# own on a database that no test flushes (this run's and a concurrent run's tests clear the
# cache's): the same server, database 12. Celery itself prefers CELERY_BROKER_URL if exported.
CELERY_BROKER_URL = urlsplit(REDIS_URL)._replace(path="/12").geturl()
DATABASES = {"default": {**DATABASES["default"], "CONN_MAX_AGE": 0}}

# Hashing speed is not what these tests are about; Argon2 stays the production default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks run in-process and mail goes to the locmem outbox, except in a real worker started by
# tests/integration (tests/worker.py), which takes tasks from the broker and writes mail to
# files. Only that process reads these two from its environment, so a developer's .env (say,
# EMAIL_BACKEND=console) cannot change what the test process does.
IN_TEST_WORKER: bool = env.bool("SWASTH_TEST_WORKER", default=False)
MAILERS = (
    mailers(env.str("EMAIL_BACKEND"), file_path=env.str("EMAIL_FILE_PATH", default=""))
    if IN_TEST_WORKER
    else mailers("django.core.mail.backends.locmem.EmailBackend")
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER") if IN_TEST_WORKER else True
if IN_TEST_WORKER:
    # Tasks enqueued by tasks go to the test worker's own queue, like those the tests send.
    CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# No spare practice schemas: the provisioning tests see the replay, and those about spares ask
# for them (tests/tenants/test_spares.py), also from the worker they start.
PRACTICE_SPARE_SCHEMAS = env.int("PRACTICE_SPARE_SCHEMAS", default=0) if IN_TEST_WORKER else 0
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
