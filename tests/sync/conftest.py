"""Integration fixtures: the hub's engine talks to the sandbox over real HTTP."""

import pytest

from sandbox.faults import fault_config
from sync.connectors import clients_reset


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
