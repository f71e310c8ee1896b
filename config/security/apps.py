from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """The hub's access controls that belong to no record app: the deploy check on
    secrets, API tokens, and the admin narrowed for django-q2 and the sync history."""

    name = "config.security"
    label = "security"
    verbose_name = "Security"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
