from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "sync.alerts"
    label = "sync_alerts"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"
