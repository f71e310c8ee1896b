"""Matter balances from LA: figures, staleness, and who may see them (ARCHITECTURE §2)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from matters.models import MatterBalance
from matters.services import matter_balance_view
from sandbox.la import models as la
from sandbox.la import services as la_services
from sync.connectors import clients_reset
from tests.sync.helpers import hub_entry_after_sync, send

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_the_balance_matches_la_s_ledger_after_billing_payments_and_trust(firm):
    billed = hub_entry_after_sync(firm, hours="2.00")  # 600.00
    unbilled = hub_entry_after_sync(firm, hours="1.00")  # 300.00, sent after the bill
    send(billed)
    file = la.File.objects.get()
    la_services.transaction_record(file=file, kind="disbursement", amount=Decimal("55.50"))
    la_services.file_bill(file=file)  # invoice: 600.00 + 55.50
    send(unbilled)
    la_services.transaction_record(file=file, kind="payment", amount=Decimal("700.00"))
    la_services.transaction_record(file=file, kind="trust_deposit", amount=Decimal("1000.00"))
    la_services.transaction_record(file=file, kind="trust_withdrawal", amount=Decimal("250.00"))

    view = matter_balance_view(matter=billed.matter, refresh=True)

    balance = view.balance
    assert not view.stale
    assert balance.trust == Decimal("750.00")
    assert balance.wip_fees == Decimal("300.00")
    assert balance.wip_disbursements == Decimal("0.00")
    assert balance.accounts_receivable == Decimal("0.00")
    assert balance.unallocated_credit == Decimal("44.50")
    expected = la_services.file_balance(file=file)
    assert balance.trust == expected.trust and balance.wip_fees == expected.wip_fees
    assert balance.as_of is not None


def test_with_la_down_the_last_balance_is_served_stale_with_the_reason(firm, settings):
    entry = hub_entry_after_sync(firm)
    send(entry)
    first = matter_balance_view(matter=entry.matter, refresh=True)
    assert first.balance.wip_fees == Decimal("450.00")
    settings.LA_API_URL = "http://127.0.0.1:9/api/v1/"
    clients_reset()

    view = matter_balance_view(matter=entry.matter, refresh=True)

    assert view.stale is True
    assert "unreachable" in view.reason
    assert view.balance.wip_fees == Decimal("450.00")


def panel_user(django_user_model, *, balances: bool):
    user = django_user_model.objects.create_user(
        username=f"staff-{balances}", password="pw", is_staff=True
    )
    codenames = ["view_matter", "change_matter"] + (["view_matter_balance"] if balances else [])
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.mark.parametrize("balances", [True, False])
def test_the_balance_panel_shows_only_with_the_permission(
    firm, client, django_user_model, balances
):
    entry = hub_entry_after_sync(firm)
    MatterBalance.objects.create(matter=entry.matter, wip_fees=Decimal("12.34"))
    client.force_login(panel_user(django_user_model, balances=balances))

    page = client.get(reverse("admin:matters_matter_change", args=[entry.matter.pk]))

    assert ("balance-panel" in page.content.decode()) is balances
    refresh = client.post(reverse("admin:matters_matter_refresh_balance", args=[entry.matter.pk]))
    assert refresh.status_code == (302 if balances else 403)


def test_the_refresh_button_reads_la_again(firm, admin_client):
    entry = hub_entry_after_sync(firm)
    send(entry)

    admin_client.post(reverse("admin:matters_matter_refresh_balance", args=[entry.matter.pk]))

    assert MatterBalance.objects.get(matter=entry.matter).wip_fees == Decimal("450.00")
