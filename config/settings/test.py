"""Test settings: the sandbox on, tasks run in-process, a fast password hasher."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, Q_CLUSTER, SANDBOX_APPS, SANDBOX_DATABASE

SECRET_KEY = "test-key-not-for-production"
HUB_ENCRYPTION_KEY = ["dGVzdC1lbmNyeXB0aW9uLWtleS1ub3QtZm9yLXByb2Q="]
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SANDBOX_ENABLED = True
INSTALLED_APPS = [*INSTALLED_APPS, *SANDBOX_APPS]
DATABASES["sandbox"] = SANDBOX_DATABASE  # noqa: F405

# django-q2 reads Q_CLUSTER once at import, so `sync` must be set here, not in a test.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}

SANDBOX_PM_ACCESS_TOKEN_SECONDS = 300
# Tests count the engine's queries; the shared stores have tests of their own. The
# sandbox runs in the test process: no need to hold back as with a real system.
REQUEST_BUDGET_STORE = "process"
PM_REQUESTS_PER_MINUTE = 6000
LA_REQUESTS_PER_MINUTE = 6000
SYNC_HTTP_TIMEOUT = 5.0
