"""One package per external system; `pm_client()` and `la_client()` give each process one
client per configuration, so the OAuth token, the HTTP session and the rate limit are
shared by everything the process does.
"""

from functools import lru_cache

from django.conf import settings

from .actionstep.client import ActionstepClient
from .legal_accounting.client import LegalAccountingClient


@lru_cache(maxsize=4)
def _pm_client(api_url: str, token_url: str, client_id: str) -> ActionstepClient:
    return ActionstepClient.from_settings()


@lru_cache(maxsize=4)
def _la_client(api_url: str, token: str) -> LegalAccountingClient:
    return LegalAccountingClient.from_settings()


def pm_client() -> ActionstepClient:
    return _pm_client(settings.PM_API_URL, settings.PM_TOKEN_URL, settings.PM_CLIENT_ID)


def la_client() -> LegalAccountingClient:
    return _la_client(settings.LA_API_URL, settings.LA_API_TOKEN)


def clients_reset() -> None:
    """Forget the cached clients (after settings change, in tests and benchmarks)."""
    _pm_client.cache_clear()
    _la_client.cache_clear()
