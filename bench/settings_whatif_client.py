"""The practice server with the Redis client kept between cache calls (bench/whatif.py)."""

from bench.settings_practice import *  # noqa: F403
from bench.settings_practice import CACHES

CACHES = {"default": {**CACHES["default"], "BACKEND": "bench.whatif.ReusedClientRedisCache"}}
