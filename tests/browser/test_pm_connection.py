"""Connecting PM from the admin as a firm would, in Chromium: Connect, the sandbox's
consent page, back to the hub connected; Disconnect; Reconnect."""

import pytest
from playwright.sync_api import expect

from sandbox.pm import services as pm_services
from sync.models import PmConnection
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT
from tests.browser.helpers import log_in, screenshot
from tests.sync.conftest import point_at

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


@pytest.fixture
def not_connected(live_server, settings, admin_user):
    point_at(settings, live_server.url)
    pm_services.user_create(first_name="Ida", last_name="Integration", email="ida@firm.test")
    return live_server


def consent(page) -> None:
    """The sandbox's consent page: sign in as the integration user and allow."""
    expect(page.locator("select[name=user]")).to_be_visible()
    page.select_option("select[name=user]", label="Ida Integration (ida@firm.test)")
    page.click("button[value=allow]")


def test_an_admin_connects_disconnects_and_reconnects_pm(browser, not_connected):
    context = browser.new_context(viewport=VIEWPORT, base_url=not_connected.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, "admin")
    page.goto("/admin/")
    expect(page.locator(".pm-connection-banner")).to_contain_text("not connected")

    page.click(".pm-connection-banner__link")
    expect(page.locator(".pm-connection-state")).to_have_text("Not connected")
    page.click("button.pm-connect")
    consent(page)

    expect(page.locator(".pm-connection-state")).to_have_text("Connected")
    expect(page.locator(".messagelist")).to_contain_text("Practice Management is connected")
    expect(page.locator(".pm-connection-banner")).to_have_count(0)
    screenshot(page, "pm-connection")
    assert PmConnection.objects.get().orgkey == "sandboxfirm"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.pm-disconnect")
    expect(page.locator(".pm-connection-state")).to_have_text("Not connected")
    expect(page.locator(".pm-connection-banner")).to_contain_text("Disconnected by admin")

    page.click("button.pm-connect")
    consent(page)
    expect(page.locator(".pm-connection-state")).to_have_text("Connected")
    assert PmConnection.objects.get().state == PmConnection.State.CONNECTED
    context.close()
