"""Deploy checks on the hub's secrets (`manage.py check --deploy`).

A secret published in this repository (the sandbox's credentials and the development
keys, config/security/published.py) or a well-known weak one is refused: anyone could
sign LA webhooks, call LA or PM as the hub, or read the PM tokens stored with it.
Values are never printed, only the names of the settings that hold them.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register

from .published import PUBLISHED_SECRETS

# (setting, environment variable, judged by length too). An OAuth client id is not
# secret in itself and has no length to judge, but the sandbox's must not reach PM.
SECRETS = [
    ("SECRET_KEY", "DJANGO_SECRET_KEY", False),  # Django's own check judges its strength
    ("HUB_ENCRYPTION_KEY", "HUB_ENCRYPTION_KEY", False),  # Fernet keys: 32 random bytes
    ("PM_CLIENT_ID", "PM_CLIENT_ID", False),
    ("PM_CLIENT_SECRET", "PM_CLIENT_SECRET", True),
    ("LA_API_TOKEN", "LA_API_TOKEN", True),
    ("LA_WEBHOOK_SECRET", "LA_WEBHOOK_SECRET", True),
]

# Shorter than this, a secret can be guessed or was typed by a person.
MIN_SECRET_LENGTH = 16

WEAK_SECRETS = frozenset(
    {
        "",
        "admin",
        "change-me",
        "change_me",
        "changeit",
        "changeme",
        "default",
        "dev",
        "development",
        "example",
        "insecure",
        "none",
        "null",
        "passw0rd",
        "password",
        "secret",
        "test",
        "token",
        "xxx",
    }
)


def secret_values(name: str) -> list[str]:
    value = getattr(settings, name, None)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


@register(Tags.security, deploy=True)
def secrets_check(app_configs, **kwargs):
    errors = []
    for name, variable, judge_length in SECRETS:
        for value in secret_values(name):
            if value in PUBLISHED_SECRETS:
                errors.append(
                    Error(
                        f"{variable} holds a value published in this repository for the "
                        "sandbox, local runs or tests.",
                        hint=f"Set {variable} to the real system's value or a new random one.",
                        id="secrets.E001",
                    )
                )
            elif value.strip().lower() in WEAK_SECRETS or (
                judge_length and len(value) < MIN_SECRET_LENGTH
            ):
                errors.append(
                    Error(
                        f"{variable} holds a well-known weak value or one shorter than "
                        f"{MIN_SECRET_LENGTH} characters.",
                        hint=f"Set {variable} to the real system's value or a new random one.",
                        id="secrets.E002",
                    )
                )
    return errors
