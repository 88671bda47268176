"""Settings, split by topic. Every value that differs between machines comes from the environment.

The modules are applied in order; a later one may read what an earlier one set.
"""

from config.settings.core import *  # noqa: F403
from config.settings.tenancy import *  # noqa: F403
from config.settings.services import *  # noqa: F403
from config.settings.security import *  # noqa: F403
from config.settings.logs import *  # noqa: F403
