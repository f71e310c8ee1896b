"""Matter balances from LA show only to those allowed to see them."""

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from matters.models import Matter
from tests.browser.helpers import log_in
from tests.sync.helpers import hub_entry_after_sync, send

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


def staff_with(django_user_model, username: str, *codenames: str):
    user = django_user_model.objects.create_user(
        username=username, password="password", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="matters", codename__in=codenames)
    )
    return user


def test_the_balance_panel_shows_with_the_permission_and_not_without(
    new_page, firm, django_user_model
):
    send(hub_entry_after_sync(firm, hours="2.00"))  # 600.00 of unbilled time in LA
    matter = Matter.objects.get(link__pm_id=str(firm["action"].pk))
    url = f"/admin/matters/matter/{matter.pk}/change/"
    accountant = staff_with(django_user_model, "accountant", "view_matter", "view_matter_balance")
    clerk = staff_with(django_user_model, "clerk", "view_matter")

    page = new_page()
    log_in(page, accountant.username)
    page.goto(url)
    panel = page.locator(".balance-panel")
    expect(panel).to_be_visible()
    page.get_by_role("button", name="Refresh balances").click()
    expect(page.locator(".messagelist")).to_contain_text("Balances refreshed from LA.")
    expect(panel.locator("tr", has_text="Unbilled time (WIP fees)")).to_contain_text("600.00")

    other = new_page()
    log_in(other, clerk.username)
    other.goto(url)
    expect(other.locator(".field-name")).to_contain_text(matter.name)
    expect(other.locator(".balance-panel")).to_have_count(0)
    expect(other.get_by_text("Balances in LA")).to_have_count(0)
