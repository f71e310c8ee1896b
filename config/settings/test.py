"""Test settings: the sandbox on, tasks run in-process, a fast password hasher."""

import os
import tempfile
from pathlib import Path

from config.security import published

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, Q_CLUSTER, REST_FRAMEWORK, SANDBOX_APPS, SANDBOX_DATABASE, env

SECRET_KEY = published.TEST_SECRET_KEY
HUB_ENCRYPTION_KEY = [published.TEST_ENCRYPTION_KEY]
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SANDBOX_ENABLED = True
INSTALLED_APPS = [*INSTALLED_APPS, *SANDBOX_APPS]
DATABASES["sandbox"] = SANDBOX_DATABASE  # noqa: F405

# The hub's credentials and the sandbox's, which match them (published; see local.py).
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

# django-q2 reads Q_CLUSTER once at import, so `sync` must be set here, not in a test.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}

# The suite signs in and calls the API far faster than a person, from one address; the
# throttle tests set their own rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
}

SANDBOX_PM_ACCESS_TOKEN_SECONDS = 300
# Tests count the engine's queries; the shared stores have tests of their own. The
# sandbox runs in the test process: no need to hold back as with a real system.
REQUEST_BUDGET_STORE = "process"
PM_REQUESTS_PER_MINUTE = 6000
LA_REQUESTS_PER_MINUTE = 6000
SYNC_HTTP_TIMEOUT = 5.0

# Each test process keeps its clusters' status apart (tests of the health page write it),
# unless a test names the folder for the processes it starts.
if "cluster_status" in CACHES:  # noqa: F405 (no such cache with Redis)
    CACHES["cluster_status"]["LOCATION"] = env(  # noqa: F405
        "Q_STATUS_CACHE_DIR",
        default=str(Path(tempfile.gettempdir()) / f"hub-test-cluster-status-{os.getpid()}"),
    )
