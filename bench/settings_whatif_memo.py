"""The practice server with host resolutions memoized per process (bench/whatif.py)."""

from bench.settings_practice import *  # noqa: F403
from bench.settings_practice import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.whatif.HostMemoConfig"]
