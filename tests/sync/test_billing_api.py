"""The billing and balance endpoints of API v1, against the sandbox over HTTP."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from sandbox.la import models as la
from sandbox.pm import services as pm_services
from sync.connectors import clients_reset
from tests.sync.helpers import hub_entry_after_sync, send
from timekeeping.models import TimeEntry

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
SEND = "/api/v1/time-entries/send-for-billing/"


@pytest.fixture
def api_with(django_user_model):
    made = []

    def make(*codenames: str) -> APIClient:
        made.append(codenames)
        user = django_user_model.objects.create_user(username=f"api-user-{len(made)}")
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_send_for_billing_answers_a_batch_and_a_result_per_entry(firm, api_with):
    good = hub_entry_after_sync(firm, description="Good")
    stranger = pm_services.user_create(
        first_name="No", last_name="Earner", email="no@example-law.test"
    )
    bad = hub_entry_after_sync(firm, owner=stranger)
    client = api_with("send_time_for_billing")

    response = client.post(SEND, {"matter": good.matter_id}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["batch"] and (body["sent"], body["errors"]) == (1, 1)
    results = {row["entry"]: row for row in body["results"]}
    assert results[good.pk]["status"] == "sent" and results[good.pk]["la_id"]
    assert results[bad.pk]["status"] == "error"
    assert "unknown in LA" in results[bad.pk]["message"]
    assert la.TimeEntry.objects.count() == 1


def test_send_for_billing_by_ids_reports_entries_already_sent(firm, api_with):
    entry = hub_entry_after_sync(firm)
    send(entry)

    body = api_with("send_time_for_billing").post(SEND, {"ids": [entry.pk]}, format="json").json()

    assert body["results"] == [
        {"entry": entry.pk, "status": "skipped", "message": "entry already sent", "la_id": None}
    ]


def test_send_for_billing_needs_its_permission_and_a_selection(firm, api_with):
    entry = hub_entry_after_sync(firm)

    forbidden = api_with("view_timeentry").post(SEND, {"ids": [entry.pk]}, format="json")
    empty = api_with("send_time_for_billing").post(SEND, {}, format="json")
    backwards = api_with("send_time_for_billing").post(
        SEND, {"date_from": "2026-02-02", "date_to": "2026-02-01"}, format="json"
    )

    assert forbidden.status_code == 403
    assert empty.status_code == 400 and "ids" in empty.json()["error"]["fields"]
    assert backwards.status_code == 400 and "date_to" in backwards.json()["error"]["fields"]
    assert TimeEntry.objects.get().billing_status == TimeEntry.BillingStatus.UNSENT


def test_the_balance_endpoint_reads_la_and_serves_money_as_decimal_strings(firm, api_with):
    entry = hub_entry_after_sync(firm)
    send(entry)
    url = f"/api/v1/matters/{entry.matter_id}/balance/"

    body = api_with("view_matter_balance").get(url, {"refresh": "true"}).json()

    assert body["wip_fees"] == "450.00" and body["trust"] == "0.00"
    assert body["currency"] == "USD" and body["as_of"]
    assert (body["stale"], body["stale_reason"]) == (False, "")


def test_the_balance_endpoint_answers_the_last_figures_stale_when_la_is_down(
    firm, api_with, settings
):
    entry = hub_entry_after_sync(firm)
    send(entry)
    url = f"/api/v1/matters/{entry.matter_id}/balance/"
    client = api_with("view_matter_balance")
    client.get(url, {"refresh": "true"})
    settings.LA_API_URL = "http://127.0.0.1:9/api/v1/"
    clients_reset()

    response = client.get(url, {"refresh": "true"})

    assert response.status_code == 200
    body = response.json()
    assert body["stale"] is True and "unreachable" in body["stale_reason"]
    assert Decimal(body["wip_fees"]) == Decimal("450.00")


def test_the_balance_endpoint_needs_its_permission(firm, api_with):
    entry = hub_entry_after_sync(firm)
    url = f"/api/v1/matters/{entry.matter_id}/balance/"

    assert api_with("view_matter").get(url).status_code == 403
    assert APIClient().get(url).status_code == 401
