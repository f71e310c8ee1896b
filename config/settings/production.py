"""Production: secrets are required, the sandbox is off, HTTPS everywhere."""

from .base import *  # noqa: F403
from .base import env

# No default for any secret: a missing one stops the start. The deploy check refuses a
# value published in this repository or a known weak one (config/security/checks.py).
SECRET_KEY = env("DJANGO_SECRET_KEY")
# Encrypts the PM tokens and the resthook secret at rest (sync/encryption.py).
HUB_ENCRYPTION_KEY = env.list("HUB_ENCRYPTION_KEY")
PM_CLIENT_ID = env("PM_CLIENT_ID")
PM_CLIENT_SECRET = env("PM_CLIENT_SECRET")
LA_API_TOKEN = env("LA_API_TOKEN")
LA_WEBHOOK_SECRET = env("LA_WEBHOOK_SECRET")
DEBUG = False
SANDBOX_ENABLED = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Serving: gunicorn runs the app (deploy/gunicorn.conf.py, through deploy/entrypoint.sh
# web); WhiteNoise serves the static files `collectstatic` gathered at build or deploy,
# under names that carry their content's hash (cached for ever) and compressed.
MIDDLEWARE.insert(  # noqa: F405
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,  # noqa: F405
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# One JSON object a log line unless LOG_FORMAT says "plain" (config/settings/base.py).
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
