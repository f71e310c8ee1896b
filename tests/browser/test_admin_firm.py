"""The admin a firm lives in, in Chromium against the live server and both emulators:
reason and fix at the top of a red record, time entries read as billing in a 1,400-pixel
window, the hub's own admin without the sandbox, the health page, the field mapping, the
balances at the top of a matter, and disconnect and purge."""

import pytest
from playwright.sync_api import expect

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus, PmConnection
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.helpers import log_in, screenshot
from tests.sync import test_balances_in_pm
from tests.sync.helpers import hub_entry_after_sync, record_time, send, sync_everything
from timekeeping.models import TimeEntry

# The hub connected with the data collection scopes (tests/sync/test_balances_in_pm.py).
datacollection_scopes = test_balances_in_pm.datacollection_scopes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


def in_view(page, selector: str) -> bool:
    """Whether the element is inside the window without scrolling."""
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight
                && box.left >= 0 && box.right <= window.innerWidth;
        }""",
        selector,
    )


def clashing_contact():
    """Ann Holder holds LA's number 1001; Bob Clash was given 1001 in PM: red."""
    la_services.contact_create(
        data={"first_name": "Ann", "last_name": "Holder", "contact_number": "1001"}
    )
    pm_services.participant_create(first_name="Carla", last_name="Mendes")
    pm_services.participant_create(
        first_name="Bob", last_name="Clash", import_external_reference="1001"
    )
    sync_everything()
    return Link.objects.get(contact__last_name="Clash")


def test_a_red_contact_shows_why_and_what_to_do_at_the_top_and_the_fix_turns_it_green(
    page, systems, admin_user
):
    link = clashing_contact()
    assert link.status == LinkStatus.ERROR

    log_in(page, admin_user.username)
    page.goto("/admin/contacts/contact/")
    first = page.locator("#result_list tbody tr").first
    expect(first).to_contain_text("Clash, Bob")  # errors first
    expect(first.locator(".link-reason")).to_have_text("Number already used in LA")
    first.get_by_role("link", name="Clash, Bob").click()

    problem = page.locator("#link-problem")
    expect(problem).to_contain_text("Legal Accounting says:")
    expect(problem).to_contain_text("1001")
    expect(problem).to_contain_text("Holder, Ann")
    expect(problem.locator(".link-problem__advice")).to_contain_text(
        "Legal Accounting already uses this number"
    )
    assert in_view(page, "#link-problem .link-problem__message")
    assert in_view(page, "#link-problem .link-problem__advice")
    reference = page.locator("#id_reference")
    expect(reference).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".form-row.field-reference .link-problem-help")).to_contain_text("1001")
    screenshot(page, "red-contact")

    # The advice: a number LA does not use (or none, and LA assigns one). Saving syncs.
    reference.fill("")
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".field-link_indicator .link-badge")).to_have_text("Synced")
    expect(page.locator("#link-problem")).to_have_count(0)
    expect(page.locator("#id_reference")).not_to_have_value("")
    link.refresh_from_db()
    assert link.status == LinkStatus.SYNCED
    assert la.Contact.objects.get(pk=link.la_id).contact_number == link.contact.reference


def test_the_time_entry_list_fits_1400_pixels_and_reads_as_billing(
    new_page, systems, firm, admin_user
):
    for hours in ("1.50", "2.00", "0.25"):
        record_time(firm, hours, description="Drafting the contract of sale for the purchaser")
    sync_everything()
    send(*TimeEntry.objects.all()[:2])
    sent = TimeEntry.objects.filter(billing_status="sent").first()
    TimeEntry.objects.filter(pk=sent.pk).update(changed_after_sending=True)
    Link.objects.filter(time_entry=sent).update(
        status=LinkStatus.ERROR, error_code="changed_after_sending", message="changed after sending"
    )

    page = new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, admin_user.username)
    page.goto("/admin/timekeeping/timeentry/")

    headers = page.locator("#result_list thead th")
    expect(headers).to_have_count(9)  # the checkbox and eight columns
    for index in range(headers.count()):
        header = headers.nth(index)
        expect(header).to_be_visible()
        box = header.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1400, header.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(
        "document.querySelector('#changelist .results').scrollWidth"
        " <= document.querySelector('#changelist .results').clientWidth"
    )
    first = page.locator("#result_list tbody tr").first
    expect(first.locator(".billing-badge")).to_have_text("Needs correction")
    expect(page.locator(".billing-badge--sent")).to_have_count(1)
    expect(page.locator(".billing-badge--unsent")).to_have_count(1)
    expect(page.locator("#result_list .link-badge")).to_have_count(1)  # only the red one
    screenshot(page, "time-entries")

    first.locator("th a, td a").first.click()
    field = page.locator(".field-changed_after_sending_text")
    expect(field).to_contain_text("Yes: correct it in Legal Accounting")
    other = TimeEntry.objects.exclude(pk=sent.pk).first()
    page.goto(f"/admin/timekeeping/timeentry/{other.pk}/change/")
    expect(page.locator(".field-changed_after_sending_text .readonly")).to_have_text("No")
    expect(page.locator(".field-changed_after_sending_text img")).to_have_count(0)


def test_the_hub_s_admin_is_its_own_and_the_sandbox_has_a_site_apart(page, systems, admin_user):
    log_in(page, admin_user.username)
    page.goto("/")

    expect(page).to_have_url(f"{systems.url}/admin/")
    expect(page.locator("#site-name")).to_have_text("PM ⇄ LA integration hub")
    expect(page).to_have_title(
        "Contacts, matters and time linked between PM and LA | PM ⇄ LA integration hub"
    )
    page.goto("/admin/contacts/contact/")
    sidebar = page.locator("#nav-sidebar")
    expect(sidebar).to_contain_text("Contacts")
    expect(sidebar).not_to_contain_text("Sandbox")
    expect(page.locator("#content-main")).not_to_contain_text("Sandbox")

    page.click(".sandbox-admin-link")
    expect(page).to_have_url(f"{systems.url}/sandbox/admin/")
    expect(page.locator("#content-main")).to_contain_text("Sandbox: Practice Management")
    expect(page.locator("#content-main")).to_contain_text("Sandbox: Legal Accounting")
    page.click(".hub-admin-link")
    expect(page).to_have_url(f"{systems.url}/admin/")


def test_the_health_page_shows_trends_clusters_and_both_connections(
    page, systems, firm, admin_user
):
    clashing_contact()
    send(hub_entry_after_sync(firm, hours="1.00"))

    log_in(page, admin_user.username)
    page.get_by_role("link", name="Sync health").first.click()

    expect(page.locator('meta[http-equiv="refresh"]')).to_have_attribute("content", "60")
    contacts = page.locator("#health-trend-contact")
    expect(contacts.locator("svg.trend-chart")).to_have_count(2)
    expect(contacts.locator(".trend-failed")).to_contain_text("1 failed")
    expect(page.locator("#health-trend-time_entry svg.trend-chart").first).to_be_visible()
    expect(page.locator("#health-clusters")).to_contain_text("none")
    expect(page.locator("#health-pm-connection")).to_contain_text("Connected")
    expect(page.locator("#health-la-connection")).to_contain_text("answers")
    expect(page.locator(".health-failures-link")).to_be_visible()
    expect(page.locator("#health-errors tbody tr").first).to_contain_text(
        "Number already used in LA"
    )
    screenshot(page, "health-trends")


def test_the_field_mapping_page_lists_the_shared_fields(page, systems, admin_user):
    log_in(page, admin_user.username)
    page.get_by_role("link", name="Field mapping").click()

    expect(page.locator("h1")).to_have_text("Field mapping")
    reference = page.locator('#mapping-contact tr[data-hub-field="reference"]')
    expect(reference).to_contain_text("importExternalReference")
    expect(reference).to_contain_text("contact_number")
    expect(page.locator('#mapping-matter tr[data-hub-field="file_reference"]')).to_contain_text(
        "file_number"
    )
    screenshot(page, "field-mapping")


def test_the_balances_are_the_first_thing_on_a_matter_s_page(
    page, datacollection_scopes, firm, admin_user
):
    send(hub_entry_after_sync(firm, hours="2.00"))
    matter = Link.objects.get(record_type="matter").matter

    log_in(page, admin_user.username)
    page.goto(f"/admin/matters/matter/{matter.pk}/change/")
    page.get_by_role("button", name="Refresh balances").click()

    panel = page.locator(".balance-panel")
    expect(panel.locator("tr", has_text="Unbilled time (WIP fees)")).to_contain_text("600.00 USD")
    expect(panel).to_contain_text("As of")
    page.reload()  # the write into PM ran in a task of its own
    expect(panel.locator(".balance-in-pm")).to_contain_text("Written into the matter in PM")
    assert in_view(page, ".balance-panel")
    name_row = page.locator(".form-row.field-name").bounding_box()
    assert panel.bounding_box()["y"] < name_row["y"]
    screenshot(page, "matter-balances")


def test_a_superuser_purges_after_a_dry_run_count(page, systems, firm, admin_user):
    linked = Link.objects.filter(pm_id__isnull=False).count()
    assert linked

    log_in(page, admin_user.username)
    page.click(".sync-purge-link")
    expect(page.locator("#purge-total")).to_have_text(f"{Link.objects.count()} links")
    screenshot(page, "purge")
    page.fill("#id_confirm", "no")
    page.click(".purge-confirm")
    expect(page.locator(".errorlist")).to_contain_text("nothing was changed")
    assert Link.objects.filter(pm_id__isnull=False).count() == linked

    page.fill("#id_confirm", "PURGE")
    page.click(".purge-confirm")

    expect(page.locator(".messagelist")).to_contain_text("Purged:")
    expect(page.locator(".pm-connection-banner")).to_be_visible()
    assert not Link.objects.filter(pm_id__isnull=False).exists()
    assert PmConnection.objects.get().state == PmConnection.State.NOT_CONNECTED


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pictures_of_a_red_contact_at_1280_pixels_in_light_and_dark(
    browser, systems, admin_user, scheme
):
    """The README's pictures: a red contact's page in a 1,280-pixel window, in the light
    and the dark colour scheme."""
    clashing_contact()
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=systems.url, color_scheme=scheme
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, admin_user.username)
    page.goto("/admin/contacts/contact/")
    page.get_by_role("link", name="Clash, Bob").click()
    expect(page.locator("#link-problem")).to_be_visible()
    assert in_view(page, "#link-problem .link-problem__advice")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(255, 255, 255)") is (scheme == "light")
    screenshot(page, f"red-contact-1280-{scheme}")
    page.goto("/admin/sync/link/health/")
    screenshot(page, f"health-1280-{scheme}")
    context.close()


def test_a_superuser_forgets_one_link_after_a_confirmation(page, systems, firm, admin_user):
    link = Link.objects.get(record_type="matter")
    pm_id = link.pm_id

    log_in(page, admin_user.username)
    page.goto(f"/admin/sync/link/{link.pk}/change/")
    expect(page.locator("input[name=_save]")).to_have_count(0)
    page.click(".forget-link-button")
    expect(page.locator(".forget-link")).to_contain_text(f"PM {pm_id}")
    page.click(".forget-confirm")

    expect(page.locator(".messagelist")).to_contain_text("no longer syncs")
    link.refresh_from_db()
    assert (link.pm_id, link.la_id) == (None, None)
    page.goto(f"/admin/matters/matter/{link.matter_id}/change/")
    expect(page.locator("#link-problem")).to_contain_text("link_existing")
