"""Deploy checks of the operations settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from config.security.checks import MIN_SECRET_LENGTH, WEAK_SECRETS
from config.security.published import PUBLISHED_SECRETS


@register(Tags.security, deploy=True)
def metrics_token_check(app_configs, **kwargs):
    """`METRICS_TOKEN` may be unset (metrics off); when set it must be a real secret:
    the metrics name record types, queue depth and the PM connection's state."""
    token = settings.METRICS_TOKEN
    if not token:
        return []
    if (
        token in PUBLISHED_SECRETS
        or token.strip().lower() in WEAK_SECRETS
        or len(token) < MIN_SECRET_LENGTH
    ):
        return [
            Error(
                "METRICS_TOKEN holds a published, well-known weak value or one shorter than "
                f"{MIN_SECRET_LENGTH} characters.",
                hint="Set METRICS_TOKEN to a new random value, or leave it unset to turn "
                "metrics off.",
                id="ops.E001",
            )
        ]
    return []
