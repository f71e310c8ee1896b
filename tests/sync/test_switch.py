"""The sync switch's rules without HTTP: the first connection decides, and only once;
the sandbox demo goes live by itself unless asked to onboard."""

import pytest

from sync.connectors.base import ConnectorError, ErrorKind
from sync.management.commands.pm_connect_sandbox import demo_live
from sync.models import SyncSwitch
from sync.services import switch
from sync.services.switch import sync_live, sync_pause, sync_switch_decide

pytestmark = pytest.mark.django_db

PAUSED, LIVE = SyncSwitch.State.PAUSED, SyncSwitch.State.LIVE


def test_a_hub_without_a_switch_is_live():
    assert sync_live()


@pytest.mark.parametrize("holds, state", [(True, PAUSED), (False, LIVE)])
def test_the_first_connection_decides_by_what_the_systems_hold(monkeypatch, holds, state):
    monkeypatch.setattr(switch, "systems_hold_records", lambda: holds)

    assert sync_switch_decide().state == state
    assert sync_live() is (state == LIVE)


def test_a_later_connection_leaves_the_switch_as_it_is(monkeypatch):
    sync_pause(reason="An admin paused it.")
    monkeypatch.setattr(switch, "systems_hold_records", lambda: False)

    assert sync_switch_decide().state == PAUSED


def test_systems_that_cant_be_asked_count_as_holding_records(monkeypatch):
    def refused(resource):
        raise ConnectorError(message="down", kind=ErrorKind.TRANSIENT, system="la")

    monkeypatch.setattr("sync.services.onboarding._pm_count", refused)

    assert switch.systems_hold_records() is True


def test_the_sandbox_demo_goes_live_unless_a_switch_is_set():
    demo_live()
    assert SyncSwitch.objects.get().state == LIVE

    sync_pause()
    demo_live()
    assert SyncSwitch.objects.get().state == PAUSED
