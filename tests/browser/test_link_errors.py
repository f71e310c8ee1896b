"""A firm admin finds a red link, reads why, fixes the record and resyncs it."""

import re

import pytest
from playwright.sync_api import expect

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus
from tests.browser.helpers import log_in, screenshot
from tests.sync.helpers import sync_everything

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


def test_a_clashing_reference_shows_red_and_turns_green_after_the_fix_and_resync(page, admin_user):
    la_services.contact_create(
        data={"first_name": "Ann", "last_name": "Holder", "contact_number": "1001"}
    )
    pm_services.participant_create(
        first_name="Carla", last_name="Mendes", import_external_reference=""
    )
    pm_services.participant_create(
        first_name="Bob", last_name="Clash", import_external_reference="1001"
    )
    sync_everything()

    log_in(page, admin_user.username)
    page.goto("/admin/contacts/contact/")
    row = page.locator("#result_list tbody tr", has_text="Clash, Bob")
    badge = row.locator(".link-badge")
    expect(badge).to_have_text("Error")
    expect(badge).to_have_attribute("title", re.compile(r"1001.*Holder|Holder.*1001"))
    expect(page.locator("#result_list .link-badge--synced")).to_have_count(2)
    badge.hover()
    screenshot(page, "red-badge")

    row.get_by_role("link", name="Clash, Bob").click()
    expect(page.locator(".field-link_details")).to_contain_text("1001")
    page.fill("#id_reference", "1002")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("#id_reference")).to_have_value("1002")

    page.get_by_role("button", name="Resync now").click()
    expect(page.locator(".messagelist")).to_contain_text("Resync of “Clash, Bob” queued.")
    expect(page.locator(".field-link_indicator .link-badge")).to_have_text("Synced")
    expect(page.locator(".field-sync_history")).to_contain_text("Success")

    link = Link.objects.get(contact__last_name="Clash")
    assert link.status == LinkStatus.SYNCED
    assert la.Contact.objects.get(pk=link.la_id).contact_number == "1002"
