"""Local development: SQLite, the sandbox on, debug on."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, SANDBOX_APPS, SANDBOX_DATABASE, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-key-not-for-production")
# A fixed Fernet key so a fresh clone runs; production has none and refuses to start.
HUB_ENCRYPTION_KEY = env.list(
    "HUB_ENCRYPTION_KEY", default=["bG9jYWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1wcm9kISE="]
)

SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)
if SANDBOX_ENABLED:
    INSTALLED_APPS = [*INSTALLED_APPS, *SANDBOX_APPS]
    DATABASES["sandbox"] = SANDBOX_DATABASE  # noqa: F405

# `make run` connects to the sandbox's PM through the authorization-code flow by itself.
PM_CONNECT_SANDBOX_ON_START = env.bool("PM_CONNECT_SANDBOX_ON_START", default=SANDBOX_ENABLED)

# The sandbox runs on this machine: no need to hold back as with a real system's quota.
PM_REQUESTS_PER_MINUTE = env.int("PM_REQUESTS_PER_MINUTE", default=6000)
LA_REQUESTS_PER_MINUTE = env.int("LA_REQUESTS_PER_MINUTE", default=6000)
