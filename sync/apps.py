from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync: links and history"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
