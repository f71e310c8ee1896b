"""A firm admin sends time to LA for billing through the confirmation page."""

import re

import pytest
from playwright.sync_api import expect

from sandbox.la import models as la
from tests.browser.helpers import log_in, screenshot
from tests.sync.helpers import record_time, sync_everything
from timekeeping.models import TimeEntry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


def test_time_is_sent_for_billing_after_the_grouped_confirmation(page, admin_user, firm):
    record_time(firm, "1.50", description="Drafting the contract")
    record_time(firm, "2.00", description="Reviewing the title")
    record_time(firm, "0.50", behaviour="No charge", description="Phone call")
    sync_everything()
    assert TimeEntry.objects.count() == 3

    log_in(page, admin_user.username)
    page.goto("/admin/timekeeping/timeentry/")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "send_for_billing")
    page.click("button[name=index]")

    summary = page.locator("#billing-summary")
    expect(summary).to_contain_text("Sam Law <sam@example-law.test>")
    expect(summary).to_contain_text("Purchase of 222 Beach Rd")
    # Totals: 3 entries, 4 hours. SQLite drops a sum's trailing zeros, PostgreSQL keeps them.
    expect(summary.locator("tfoot th")).to_have_text(
        ["Total", "3", re.compile(r"^4(\.00)?$"), re.compile(r".+")]
    )
    screenshot(page, "send-for-billing")

    page.get_by_role("button", name="Send 3 entries for billing").click()

    # The request queues a batch and shows its page; its task sends it (inline in tests).
    expect(page.locator(".messagelist")).to_contain_text("3 entries queued for billing")
    expect(page.locator("#billing-status")).to_contain_text("Done")
    expect(page.locator("#billing-results tr.result-sent")).to_have_count(3)
    assert la.TimeEntry.objects.count() == 3
    assert set(TimeEntry.objects.values_list("billing_status", flat=True)) == {"sent"}
