"""Local development: SQLite, the sandbox on, debug on."""

from config.security import published

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, SANDBOX_APPS, SANDBOX_DATABASE, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default=published.LOCAL_SECRET_KEY)
# A fixed Fernet key so a fresh clone runs; production has none and refuses to start.
HUB_ENCRYPTION_KEY = env.list("HUB_ENCRYPTION_KEY", default=[published.LOCAL_ENCRYPTION_KEY])

SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)
if SANDBOX_ENABLED:
    INSTALLED_APPS = [*INSTALLED_APPS, *SANDBOX_APPS]
    DATABASES["sandbox"] = SANDBOX_DATABASE  # noqa: F405

# The hub's credentials for PM and LA default to the sandbox's, which match them.
# Both are published in this repository: production has no default and refuses them.
PM_CLIENT_ID = env("PM_CLIENT_ID", default=published.SANDBOX_PM_CLIENT_ID)
PM_CLIENT_SECRET = env("PM_CLIENT_SECRET", default=published.SANDBOX_PM_CLIENT_SECRET)
LA_API_TOKEN = env("LA_API_TOKEN", default=published.SANDBOX_LA_API_TOKEN)
LA_WEBHOOK_SECRET = env("LA_WEBHOOK_SECRET", default=published.SANDBOX_LA_WEBHOOK_SECRET)
SANDBOX_PM_CLIENT_ID = env("SANDBOX_PM_CLIENT_ID", default=published.SANDBOX_PM_CLIENT_ID)
SANDBOX_PM_CLIENT_SECRET = env(
    "SANDBOX_PM_CLIENT_SECRET", default=published.SANDBOX_PM_CLIENT_SECRET
)
SANDBOX_LA_API_TOKEN = env("SANDBOX_LA_API_TOKEN", default=published.SANDBOX_LA_API_TOKEN)
SANDBOX_LA_WEBHOOK_SECRET = env(
    "SANDBOX_LA_WEBHOOK_SECRET", default=published.SANDBOX_LA_WEBHOOK_SECRET
)

# `make run` connects to the sandbox's PM through the authorization-code flow by itself.
PM_CONNECT_SANDBOX_ON_START = env.bool("PM_CONNECT_SANDBOX_ON_START", default=SANDBOX_ENABLED)

# The sandbox runs on this machine: no need to hold back as with a real system's quota.
PM_REQUESTS_PER_MINUTE = env.int("PM_REQUESTS_PER_MINUTE", default=6000)
LA_REQUESTS_PER_MINUTE = env.int("LA_REQUESTS_PER_MINUTE", default=6000)
