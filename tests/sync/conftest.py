"""Integration fixtures: the hub's engine talks to the sandbox over real HTTP."""

import pytest

from sandbox.faults import fault_config
from sandbox.la import services as la_services
from sandbox.pm import services as pm_services
from sync.connectors import clients_reset
from tests.sync.helpers import pm_matter, sync_everything


@pytest.fixture
def systems(live_server, settings):
    """Point the connectors at a live server that hosts both emulators."""
    url = live_server.url
    settings.HUB_BASE_URL = url
    settings.PM_API_URL = f"{url}/sandbox/pm/api/rest/"
    settings.PM_TOKEN_URL = f"{url}/sandbox/pm/oauth/token"
    settings.LA_API_URL = f"{url}/sandbox/la/api/v1/"
    settings.SYNC_HTTP_TIMEOUT = 3.0
    clients_reset()
    yield live_server
    clients_reset()


@pytest.fixture
def faults():
    """Set a system's injected faults: faults("la", error_rate=0.3, seed=7)."""

    def configure(system: str, **fields):
        config = fault_config(system)
        for name, value in fields.items():
            setattr(config, name, value)
        config.save()
        return config

    return configure


@pytest.fixture
def lawyer(systems):
    """A timekeeper known in both systems by the same email."""
    user = pm_services.user_create(first_name="Sam", last_name="Law", email="sam@example-law.test")
    fee_earner = la_services.fee_earner_create(name="Sam Law", email="sam@example-law.test")
    return user, fee_earner


@pytest.fixture
def firm(lawyer):
    """The lawyer and a matter of theirs synced to LA."""
    user, fee_earner = lawyer
    action = pm_matter(assigned=user)
    sync_everything()
    action.refresh_from_db()
    return {"user": user, "fee_earner": fee_earner, "action": action}
