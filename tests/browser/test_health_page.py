"""The sync health page, as an operator opens it from the admin index."""

import pytest
from playwright.sync_api import expect

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus, WebhookReceipt
from sync.services.subscriptions import la_webhooks_ensure, pm_resthooks_ensure
from tests.browser.helpers import log_in, screenshot
from tests.sync.helpers import hub_entry, record_time, send, sync_everything

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


def test_the_health_page_shows_the_bars_and_the_latest_error(page, admin_user, firm):
    la_services.contact_create(
        data={"first_name": "Ann", "last_name": "Holder", "contact_number": "1001"}
    )
    for first, last in [("Carla", "Mendes"), ("Dev", "Patel"), ("Erin", "Walsh")]:
        pm_services.participant_create(first_name=first, last_name=last)
    pm_services.participant_create(
        first_name="Bob", last_name="Clash", import_external_reference="1001"
    )
    sent = record_time(firm, "1.50")
    record_time(firm, "0.75")
    sync_everything()
    send(hub_entry(sent))
    # Subscribe to both systems' webhooks, then change a contact on each side: each
    # system calls the live server back, which the page shows as "last webhook".
    pm_resthooks_ensure()
    la_webhooks_ensure()
    holder = la.Contact.objects.get(contact_number="1001")
    la_services.contact_update(contact=holder, data={"email": "ann@holder.test"})
    pm_services.participant_update(
        pm.Participant.objects.get(last_name="Patel"), email="dev@patel.test"
    )

    assert set(WebhookReceipt.objects.values_list("system", flat=True)) == {"pm", "la"}

    log_in(page, admin_user.username)
    page.get_by_role("link", name="Sync health").click()

    expect(page.locator("h1")).to_have_text("Sync health")
    contacts = page.locator("#health-contact")
    expect(contacts.locator(".health-segment--error")).to_have_attribute("title", "Error: 1")
    expect(contacts.locator(".health-segment--synced")).to_be_visible()
    expect(contacts.locator(".health-count--synced strong")).to_have_text("5")
    expect(page.locator("#health-matter .health-count--synced strong")).to_have_text("1")
    time_entries = page.locator("#health-time_entry")
    expect(time_entries.locator(".type")).to_contain_text("2 records")
    expect(time_entries.locator(".health-count--synced strong")).to_have_text("1")
    latest = page.locator("#health-errors tbody tr").first
    expect(latest).to_contain_text("Clash, Bob")
    expect(latest).to_contain_text("1001")
    for system in ["pm", "la"]:
        for column in [2, 3]:  # last successful poll, last webhook
            cell = page.locator(f"#health-system-{system} td:nth-child({column})")
            expect(cell).to_contain_text("minutes ago")
    screenshot(page, "health")

    page.get_by_role("button", name="Resync all errors (1)").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Resync requested for 1 contact link in error"
    )
    expect(contacts.locator(".health-count--pending strong")).to_have_text("1")
    expect(page.locator("#health-errors")).to_contain_text("No link is in error.")
    link = Link.objects.get(contact__last_name="Clash")
    assert (link.status, link.attempts) == (LinkStatus.PENDING, 0)
