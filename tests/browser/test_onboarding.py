"""Onboarding, as a firm's admin walks it in the browser: the paused hub,
the matching job's progress, the ambiguous records side by side, a decision, the
confirmed go-live, and the health page showing the sync live."""

import pytest
from playwright.sync_api import expect

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus, MatchingRun, SyncSwitch
from sync.services.switch import sync_pause
from tests.browser.helpers import log_in, screenshot
from tests.sync.helpers import sync_everything

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


def test_an_admin_matches_decides_and_goes_live(page, admin_user, systems):
    sync_pause(reason="Connected to systems that already hold records.")
    ann = pm_services.participant_create(
        first_name="Ann", last_name="Lee", import_external_reference="C-100"
    )
    la_services.contact_create(
        data={"first_name": "Ann", "last_name": "Lee", "contact_number": "C-100"}
    )
    jane = pm_services.participant_create(first_name="Jane", last_name="Doe", email="jane@x.test")
    for number, street in (("J-1", "1 Queen Street"), ("J-2", "9 Beach Road")):
        la_services.contact_create(
            data={
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "jane@x.test",
                "contact_number": number,
                "main_line1": street,
            }
        )
    pm_services.participant_create(first_name="Pia", last_name="Only")
    sync_everything()  # taken in while paused: nothing written
    assert not la.Contact.objects.filter(last_name="Only").exists()
    # A run under way, as the page shows it while the job reads the systems.
    running = MatchingRun.objects.create(
        state=MatchingRun.State.RUNNING, step="PM contacts read", done=3, total=6
    )

    log_in(page, admin_user.username)
    expect(page.locator(".sync-paused-banner")).to_contain_text("The sync is paused")
    page.get_by_role("link", name="Sync health").click()
    expect(page.locator("#health-switch-state")).to_have_text("paused")
    page.locator("#health-switch").get_by_role("link", name="Onboarding").click()

    expect(page.locator("h1")).to_have_text("Onboarding")
    expect(page.locator("#run-step")).to_have_text("PM contacts read: 3 of 6")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "50")
    expect(page.locator("#match-form input[type=submit]")).to_be_disabled()
    MatchingRun.objects.filter(pk=running.pk).update(state=MatchingRun.State.DONE, report={})
    # The page follows the run by itself.
    expect(page.locator("#run-state")).to_contain_text("Done")

    page.get_by_role("button", name="Match again").click()

    expect(page.locator(".messagelist")).to_contain_text("Matching started")
    expect(page.locator("#counts-contacts .matched").nth(1)).to_have_text("1")  # by number
    expect(page.locator("#counts-contacts .ambiguous")).to_have_text("1")
    case = page.locator(".onboarding-case").first
    expect(case).to_contain_text("Needs a decision")
    expect(case).to_contain_text("9 Beach Road")
    screenshot(page, "onboarding")
    j1 = la.Contact.objects.get(contact_number="J-1")
    case.locator(f"input[name=twin_pm][value='{jane.pk}']").check()
    case.locator(f"input[name=twin_la][value='{j1.pk}']").check()
    case.get_by_role("button", name="Link the chosen pair as twins").click()

    expect(page.locator(".messagelist")).to_contain_text("as twins")
    expect(page.locator("#no-cases")).to_have_text("Nothing to decide.")
    page.get_by_role("link", name="Go live…").click()

    expect(page.locator("h1")).to_have_text("Go live")
    # Pia in LA; in PM, J-2, decided a different record.
    expect(page.locator("#create-in-la strong")).to_have_text("1")
    expect(page.locator("#create-in-pm strong")).to_have_text("1")
    page.get_by_role("button", name="Go live").click()

    expect(page.locator("h1")).to_have_text("Sync health")
    expect(page.locator("#health-switch-state")).to_have_text("live")
    expect(page.locator(".sync-paused-banner")).to_have_count(0)
    assert SyncSwitch.objects.get().state == SyncSwitch.State.LIVE
    assert la.Contact.objects.filter(last_name="Only").count() == 1
    assert la.Contact.objects.filter(last_name="Lee").count() == 1
    assert pm.Participant.objects.filter(last_name="Doe").count() == 2
    assert Link.objects.get(record_type="contact", pm_id=str(ann.pk)).status == LinkStatus.SYNCED
