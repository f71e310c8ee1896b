"""Integration fixtures: the hub's engine talks to the sandbox over real HTTP."""

from urllib.parse import urlsplit

import pytest

from sandbox.faults import fault_config
from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.connectors import clients_reset
from sync.connectors.base import JsonHttpClient
from sync.models import PollCursor
from sync.services.connection import sandbox_connect
from tests.sync.helpers import pm_matter, sync_everything
from timekeeping.models import Timekeeper

INTEGRATION_USER_EMAIL = "integration@example-law.test"


def point_at(settings, url: str) -> None:
    """Settings for a hub served at `url` that hosts both emulators."""
    settings.HUB_BASE_URL = url
    settings.PM_AUTHORIZE_URL = f"{url}/sandbox/pm/api/oauth/authorize"
    settings.PM_TOKEN_URL = f"{url}/sandbox/pm/api/oauth/token"
    settings.PM_REDIRECT_URI = f"{url}/admin/sync/pmconnection/callback/"
    settings.LA_API_URL = f"{url}/sandbox/la/api/v1/"
    settings.SYNC_HTTP_TIMEOUT = 3.0
    clients_reset()


@pytest.fixture
def systems(live_server, settings):
    """A live server hosting both emulators, with the hub connected to its PM through
    the authorization-code flow, consenting as the firm's integration user."""
    point_at(settings, live_server.url)
    pm_services.user_create(
        first_name="Integration", last_name="User", email=INTEGRATION_USER_EMAIL
    )
    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    # Connecting registered the resthooks and LA's webhooks and ran a first pass; tests
    # drive the sync themselves, from a hub that has seen nothing yet, and register hooks
    # only where a test is about them.
    pm.RestHook.objects.all().delete()
    la.Webhook.objects.all().delete()
    Timekeeper.objects.all().delete()
    PollCursor.objects.all().delete()
    yield live_server
    clients_reset()


@pytest.fixture
def calls(monkeypatch):
    """Every request the connectors send: (system, method, path)."""
    made: list[tuple[str, str, str]] = []
    original = JsonHttpClient.send

    def counting(client, method, path, **kwargs):
        made.append((client.system, method, urlsplit(client.url(path)).path))
        return original(client, method, path, **kwargs)

    monkeypatch.setattr(JsonHttpClient, "send", counting)
    return made


@pytest.fixture
def pm_not_connected(live_server, settings):
    """The live server and both emulators, with PM not connected yet."""
    point_at(settings, live_server.url)
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
