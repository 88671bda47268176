"""Settings, split by topic. Every value that differs between machines comes from the environment.

Each topic module sets names of its own; none overrides another, so their order is free.
"""

from config.settings.core import *  # noqa: F403
from config.settings.logs import *  # noqa: F403
from config.settings.security import *  # noqa: F403
from config.settings.services import *  # noqa: F403
from config.settings.tenancy import *  # noqa: F403
