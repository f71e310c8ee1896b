"""System checks: what must hold before the hub serves or syncs anything."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def encryption_key_check(app_configs, **kwargs):
    """HUB_ENCRYPTION_KEY must be usable Fernet keys: the PM tokens are stored with it."""
    from .encryption import cipher

    try:
        cipher()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="sync.E001", hint="Set HUB_ENCRYPTION_KEY.")]
    return []
