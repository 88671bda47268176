"""Settings for bench/provisioning.py: the project's own, plus a generated tenant app.

`BENCH_EXTRA_APP_DIR` names the folder holding the generated `bench_extra` app (see
bench/extra_app.py); it goes on TENANT_APPS like any app that lives in practice schemas.
"""

import os
import sys

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, TENANT_APPS

sys.path.insert(0, os.environ["BENCH_EXTRA_APP_DIR"])

TENANT_APPS = [*TENANT_APPS, "bench_extra"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench_extra"]

# Owners are created with unusable passwords (they set one from the invitation), so no
# password is hashed while provisioning; this only keeps any stray hashing cheap.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Provisioning replays the template unless a measurement asks for spare schemas itself
# (bench/provisioning.py, the "spare" rows), so that seeding never waits for one.
PRACTICE_SPARE_SCHEMAS = 0
