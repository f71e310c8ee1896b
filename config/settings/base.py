"""Settings shared by every environment.

Every value that differs between deployments is read from the environment with
django-environ; README.md lists each variable with its default.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as csp

from ops.csp import inline_handler_hashes, url_origin

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "django_q",
    "axes",
    "contacts",
    "matters",
    "timekeeping",
    "sync",
    # After django_q and sync: its admin narrows theirs (config/security/admin.py).
    "config.security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sync.context_processors.pm_connection",
            ],
        },
    },
]


def sqlite_database(path: Path) -> dict:
    """SQLite tuned for a web process and a worker writing at the same time.

    WAL lets readers run beside one writer; IMMEDIATE transactions take the write
    lock when the transaction starts, so two writers queue on busy_timeout instead
    of failing half-way with "database is locked".
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            ),
        },
    }


def database_from_url(url: str, fallback: Path) -> dict:
    if not url:
        return sqlite_database(fallback)
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return sqlite_database(Path(config["NAME"]))
    config.setdefault("CONN_MAX_AGE", 60)
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env("DATABASE_URL", default="")
DATABASES = {"default": database_from_url(DATABASE_URL, BASE_DIR / "db.sqlite3")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "admin:login"

# Admin login: django-axes refuses a username from an address after
# ADMIN_LOGIN_FAILURE_LIMIT wrong passwords, for ADMIN_LOGIN_COOLOFF_MINUTES (even the
# right password), and a success clears the count. It sits first among the backends.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The caller's address as the API's throttles see it (TRUSTED_PROXY_COUNT below).
AXES_CLIENT_IP_CALLABLE = "config.throttles.client_address"

# Bodies larger than this are refused before a view reads them (webhooks, API).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=1_048_576)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Token <key>`; only a hash of each key is stored (django-rest-knox).
        "config.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # The hub's endpoints throttle by these (config/throttles.py): callers without valid
    # credentials by address, signed-in users by user.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON_RATE", default="30/minute"),
        "user": env("API_THROTTLE_USER_RATE", default="1200/minute"),
    },
    # How many proxies in front of the hub append to X-Forwarded-For. 0: the caller is
    # REMOTE_ADDR, and a client can't pick its address by sending the header itself.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
}

# API tokens (django-rest-knox): a token made in the admin expires after this many days by
# default (0: never); only a hash of it is stored, and the key is shown once.
API_TOKEN_LIFETIME_DAYS = env.int("API_TOKEN_LIFETIME_DAYS", default=365)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=API_TOKEN_LIFETIME_DAYS) if API_TOKEN_LIFETIME_DAYS else None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PM ⇄ LA integration hub API",
    "DESCRIPTION": "Contacts, matters, time and matter balances linked between "
    "Practice Management and Legal Accounting, with the Link Indicator of each record.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["config.schema.only_api_v1"],
    # Two fields named "status" with different choices: each enum gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "BillingBatchStatusEnum": "timekeeping.models.BillingBatch.Status",
        "EntryResultStatusEnum": ["sent", "error", "queued", "skipped"],
    },
}

# django-q2. A task may run for at most `timeout` seconds; the broker hands an
# unacknowledged task to another worker after `retry` seconds, which must be longer
# than `timeout` or a slow task would run twice at once. The engine keeps its own
# backoff on the link row, so the broker redelivers only what a dead worker dropped:
# `max_attempts` caps that, and `ack_failures` keeps failed tasks from looping.
REDIS_URL = env("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env("Q_CLUSTER_NAME", default="hub"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "poll": 0.5,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# The API's throttles count in the cache: shared by every process when Redis is there,
# else each process counts on its own (Django's local-memory cache).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": Q_CLUSTER["name"],
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# The sandbox: working emulators of both external systems, with their own database.
SANDBOX_APPS = ["sandbox", "sandbox.pm", "sandbox.la"]
DATABASE_ROUTERS = ["sandbox.routers.SandboxRouter"]


def sandbox_database_url() -> str:
    """SANDBOX_DATABASE_URL, else the hub's PostgreSQL server with `<name>_sandbox`."""
    explicit = env("SANDBOX_DATABASE_URL", default="")
    if explicit or not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        return explicit
    base, _, name = DATABASE_URL.rpartition("/")
    name, sep, query = name.partition("?")
    return f"{base}/{name}_sandbox{sep}{query}"


SANDBOX_DATABASE = database_from_url(sandbox_database_url(), BASE_DIR / "sandbox.sqlite3")

# Where the hub finds the two systems. The defaults are the sandbox's own address; its
# credentials are set by local.py and test.py only (production has no default for them).
HUB_BASE_URL = env("HUB_BASE_URL", default="http://127.0.0.1:8000")

# PM is reached the way real Actionstep is: an OAuth2 authorization-code grant that a
# person of the firm consents to (Admin > Practice Management connection). The token
# answer names the REST base (`api_endpoint`); the tokens are stored encrypted.
PM_AUTHORIZE_URL = env("PM_AUTHORIZE_URL", default=f"{HUB_BASE_URL}/sandbox/pm/api/oauth/authorize")
PM_TOKEN_URL = env("PM_TOKEN_URL", default=f"{HUB_BASE_URL}/sandbox/pm/api/oauth/token")
PM_REDIRECT_URI = env(
    "PM_REDIRECT_URI", default=f"{HUB_BASE_URL}/admin/sync/pmconnection/callback/"
)
# Whether Actionstep accepts PKCE is not published; send it only when told it does.
PM_OAUTH_PKCE = env.bool("PM_OAUTH_PKCE", default=False)
# Actionstep's refresh tokens last 21 days (API wiki, Authorization); the hub refreshes
# well before, and warns when an idle hub would let the grant lapse.
PM_REFRESH_TOKEN_DAYS = env.int("PM_REFRESH_TOKEN_DAYS", default=21)
# The participant property that holds the contact Reference (LA's Contact Number); the
# public spec has none named so (docs/actionstep-fidelity.md).
PM_CONTACT_REFERENCE_FIELD = env("PM_CONTACT_REFERENCE_FIELD", default="importExternalReference")
# The participant type a matter's client has in PM (its id differs per org).
PM_CLIENT_PARTICIPANT_TYPE = env("PM_CLIENT_PARTICIPANT_TYPE", default="Client")
PM_ACTION_TYPE_ID = env.int("PM_ACTION_TYPE_ID", default=1)
# Connect to the sandbox's PM by itself on `make run` (local settings only).
PM_CONNECT_SANDBOX_ON_START = env.bool("PM_CONNECT_SANDBOX_ON_START", default=False)
# Resthook deliveries kept this long after they were processed.
WEBHOOK_RECEIPT_RETENTION_DAYS = env.int("WEBHOOK_RECEIPT_RETENTION_DAYS", default=14)
# While every webhook is registered and active and the last pass read everything, the
# scheduled poll (every minute) reads PM and LA only this often: webhooks bring changes
# within seconds, and the poll is there for what a lost delivery missed. 0: every minute.
POLL_QUIET_MINUTES = env.int("POLL_QUIET_MINUTES", default=15)
# Long tasks that work through the links that can wait (a first sync, retries) at the
# request budget's pace (sync/services/runner.py); keep a worker free for live changes.
LINK_RUNNERS = env.int("LINK_RUNNERS", default=1)

LA_API_URL = env("LA_API_URL", default=f"{HUB_BASE_URL}/sandbox/la/api/v1/")
SYNC_HTTP_TIMEOUT = env.float("SYNC_HTTP_TIMEOUT", default=10.0)
# One request budget per system, shared by every process of the hub (Redis when
# REDIS_URL is set, the database otherwise). Actionstep throttles per user, org and IP
# with limits it does not publish (docs.actionstep.com/api-limits): stay well below.
PM_REQUESTS_PER_MINUTE = env.int("PM_REQUESTS_PER_MINUTE", default=120)
LA_REQUESTS_PER_MINUTE = env.int("LA_REQUESTS_PER_MINUTE", default=600)
# Where the budget is kept: "redis", "database" or "process" (this process only). Empty:
# Redis when REDIS_URL is set, else the database.
REQUEST_BUDGET_STORE = env("REQUEST_BUDGET_STORE", default="")

# Fernet keys for the secrets the hub stores (sync/encryption.py): the first encrypts,
# all decrypt. No default here; local and test settings set a fixed development key.
HUB_ENCRYPTION_KEY = env.list("HUB_ENCRYPTION_KEY", default=[])

# The sandbox's settings; its credentials (what the emulated systems accept) are in
# local.py and test.py, beside the hub's, which match them.
# The scopes Actionstep support pre-granted to the client ("all" = every scope), and the
# hosts its redirect URIs may use (standing in for the redirect URIs a firm registers).
SANDBOX_PM_CLIENT_SCOPES = env.list("SANDBOX_PM_CLIENT_SCOPES", default=["all"])
SANDBOX_PM_REDIRECT_HOSTS = env.list(
    "SANDBOX_PM_REDIRECT_HOSTS", default=["127.0.0.1", "localhost", "testserver"]
)
# The wiki's "60 minute lifespan" (28800 s has also been observed) and "21 day lifespan".
SANDBOX_PM_ACCESS_TOKEN_SECONDS = env.int("SANDBOX_PM_ACCESS_TOKEN_SECONDS", default=3600)
SANDBOX_PM_REFRESH_TOKEN_DAYS = env.int("SANDBOX_PM_REFRESH_TOKEN_DAYS", default=21)
SANDBOX_PM_ORGKEY = env("SANDBOX_PM_ORGKEY", default="sandboxfirm")

# Where an admin opens a linked record's page in each system: a URL per record type,
# with "{id}" standing for that system's id. The defaults are the sandbox's admin pages.
SANDBOX_ADMIN_URL = f"{HUB_BASE_URL}/sandbox/admin"
PM_RECORD_URLS = {
    "contact": env(
        "PM_CONTACT_URL", default=f"{SANDBOX_ADMIN_URL}/sandbox_pm/participant/{{id}}/change/"
    ),
    "matter": env("PM_MATTER_URL", default=f"{SANDBOX_ADMIN_URL}/sandbox_pm/action/{{id}}/change/"),
    "time_entry": env(
        "PM_TIME_ENTRY_URL", default=f"{SANDBOX_ADMIN_URL}/sandbox_pm/timeentry/{{id}}/change/"
    ),
}
LA_RECORD_URLS = {
    "contact": env(
        "LA_CONTACT_URL", default=f"{SANDBOX_ADMIN_URL}/sandbox_la/contact/{{id}}/change/"
    ),
    "matter": env("LA_MATTER_URL", default=f"{SANDBOX_ADMIN_URL}/sandbox_la/file/{{id}}/change/"),
    "time_entry": env(
        "LA_TIME_ENTRY_URL", default=f"{SANDBOX_ADMIN_URL}/sandbox_la/timeentry/{{id}}/change/"
    ),
}

# Operations (ops/, docs/deployment.md): /healthz, /readyz and /metrics, answered by the
# first middleware (so they need no ALLOWED_HOSTS entry and are never redirected to
# HTTPS). /readyz asks LA with READYZ_TIMEOUT and keeps its answer READYZ_CACHE_SECONDS.
# /metrics and a task host's exporter (METRICS_HOST:METRICS_PORT, `manage.py run_worker`)
# answer only `Authorization: Bearer <METRICS_TOKEN>`, and nothing while it is unset.
INSTALLED_APPS = [*INSTALLED_APPS, "ops"]
MIDDLEWARE = ["ops.middleware.OperationsEndpointsMiddleware", *MIDDLEWARE]
READYZ_TIMEOUT = env.float("READYZ_TIMEOUT", default=2.0)
READYZ_CACHE_SECONDS = env.int("READYZ_CACHE_SECONDS", default=60)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_HOST = env("METRICS_HOST", default="127.0.0.1")
METRICS_PORT = env.int("METRICS_PORT", default=0)

# Logs: "plain" lines locally, one JSON object a line in production (LOG_FORMAT). Each
# line carries the link, record type, system and task it is about when they are known
# (sync/log_context.py).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING["formatters"]["json"] = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(levelname)s %(name)s %(message)s",
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": True,
}
LOGGING["filters"] = {"log_context": {"()": "sync.log_context.LogContextFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["log_context"]
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT

# Error reporting to Sentry, only when SENTRY_DSN is set (ops/error_reporting.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)

# Where `collectstatic` gathers static files (production serves them with WhiteNoise).
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(STATIC_ROOT)))

# API docs: Swagger UI from the hub itself (drf-spectacular-sidecar, no CDN), and the
# schema and docs for signed-in users only (config/urls.py).
INSTALLED_APPS = [*INSTALLED_APPS, "drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Content-Security-Policy (django-csp): only the hub's own scripts, styles, images and
# fonts. Inline styles are allowed (the admin's templates and Swagger UI use them); inline
# scripts only with the request's nonce, and the templates' inline event handlers (the
# admin's confirmations) by their hashes (ops/csp.py). Forms may post to the hub and
# continue to PM's authorize page (Connect).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE, csp.UNSAFE_HASHES, *inline_handler_hashes(BASE_DIR)],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "form-action": [csp.SELF, url_origin(PM_AUTHORIZE_URL)],
    },
}

# The admin a firm lives in (sync/admin.py, sync/health.py, sync/advice.py).
# Times show in TIME_ZONE with the zone named, dates as year-month-day (sync/formats).
FORMAT_MODULE_PATH = ["sync.formats"]
# The scheduled balance refresh may spend this share of each system's request budget
# (PM_/LA_REQUESTS_PER_MINUTE); a firm with more matters than fit is refreshed in turn,
# oldest first (matters/services.py).
BALANCE_REFRESH_BUDGET_SHARE = env.float("BALANCE_REFRESH_BUDGET_SHARE", default=0.25)
# django-q2 keeps each running cluster's status in a cache: Redis with the Redis broker;
# with the ORM broker, Django's default cache is this process's memory, where the health
# page can't see a cluster running in another process. A file cache that every process
# of this machine shares takes its place (the ORM broker serves one machine; under
# systemd, var/ is the folder the services may write: deploy/systemd).
if not REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "cluster_status": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env(
                "Q_STATUS_CACHE_DIR",
                default=str(BASE_DIR / "var" / f"cluster-status-{Q_CLUSTER['name']}"),
            ),
        },
    }
    Q_CLUSTER["cache"] = "cluster_status"
# Alerts (sync/alerts): one email digest per ALERT_DIGEST_MINUTES to the active users of
# the group ALERT_GROUP when links turn red; none while nothing does.
INSTALLED_APPS = [*INSTALLED_APPS, "sync.alerts"]
ALERT_DIGEST_MINUTES = env.int("ALERT_DIGEST_MINUTES", default=15)
ALERT_GROUP = env("ALERT_GROUP", default="Integration admins")
ALERT_FROM_EMAIL = env("ALERT_FROM_EMAIL", default="pm-la-hub@localhost")
ALERT_SUBJECT_PREFIX = env("ALERT_SUBJECT_PREFIX", default="PM ⇄ LA hub")
