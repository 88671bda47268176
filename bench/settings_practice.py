"""The practice server of bench/http.py: the project's settings, with the trivial view added
to the practice URLs (PracticeHostMiddleware routes practice hosts to ROOT_URLCONF)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_practice"
