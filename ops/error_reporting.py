"""Error reporting to Sentry, when `SENTRY_DSN` is set; nothing at all otherwise."""

from __future__ import annotations


def error_reporting_init(*, dsn: str, environment: str, traces_sample_rate: float) -> bool:
    """Start sentry-sdk in this process (web or task worker); True when it was started.

    Without a DSN it is not imported. Personal data is not sent (`send_default_pii`
    off: no user, cookies or addresses), and Sentry's scrubber drops values under
    names like token, secret, password and authorization. Errors logged at ERROR — a
    failed django-q2 task included — are reported along with unhandled exceptions.
    """
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration()],
    )
    return True
