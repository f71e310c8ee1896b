"""One package per external system; `pm_client()` and `la_client()` give each process one
client per configuration, so the HTTP session is shared by everything the process does.

This is also where the connectors meet the hub: the PM client takes its tokens from the
hub's one PM connection (sync/services/connection.py) and both spend the request budget
every process of the hub shares (sync/budget.py).
"""

from functools import lru_cache

from django.conf import settings

from sync.metrics import http_client_instrument

from .actionstep.client import ActionstepClient
from .legal_accounting.client import LegalAccountingClient


@lru_cache(maxsize=4)
def _pm_client(token_url: str, client_id: str, budget_key: tuple) -> ActionstepClient:
    from sync.budget import request_budget
    from sync.services.connection import HubTokenSource

    return http_client_instrument(
        ActionstepClient(
            tokens=HubTokenSource(),
            timeout=settings.SYNC_HTTP_TIMEOUT,
            budget=request_budget("pm"),
            client_participant_type=settings.PM_CLIENT_PARTICIPANT_TYPE,
        )
    )


@lru_cache(maxsize=4)
def _la_client(api_url: str, token: str, budget_key: tuple) -> LegalAccountingClient:
    from sync.budget import request_budget

    client = LegalAccountingClient.from_settings()
    client.limiter = request_budget("la")
    return http_client_instrument(client)


def _budget_key() -> tuple:
    return (
        settings.PM_REQUESTS_PER_MINUTE,
        settings.LA_REQUESTS_PER_MINUTE,
        settings.REQUEST_BUDGET_STORE,
        settings.REDIS_URL,
    )


def pm_client() -> ActionstepClient:
    return _pm_client(settings.PM_TOKEN_URL, settings.PM_CLIENT_ID, _budget_key())


def la_client() -> LegalAccountingClient:
    return _la_client(settings.LA_API_URL, settings.LA_API_TOKEN, _budget_key())


def clients_reset() -> None:
    """Forget the cached clients, tokens and budgets (after settings change, in tests and
    benchmarks)."""
    from sync.budget import budgets_reset
    from sync.services.connection import credentials_forget

    _pm_client.cache_clear()
    _la_client.cache_clear()
    budgets_reset()
    credentials_forget()
