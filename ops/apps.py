from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the hub in production: health and readiness, metrics, structured logs,
    error reporting (docs/deployment.md)."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from django.conf import settings

        from sync import metrics
        from sync.log_context import task_context_connect
        from sync.models import RecordType, SyncEvent, System

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .error_reporting import error_reporting_init

        task_context_connect()
        metrics.labels_initialise(
            record_types=list(RecordType.values),
            outcomes=list(SyncEvent.Outcome.values),
            systems=list(System.values),
        )
        error_reporting_init(
            dsn=settings.SENTRY_DSN,
            environment=settings.SENTRY_ENVIRONMENT,
            traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        )
