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


def test_send_for_billing_answers_202_with_the_batch_that_fills_in(firm, api_with):
    good = hub_entry_after_sync(firm, description="Good")
    stranger = pm_services.user_create(
        first_name="No", last_name="Earner", email="no@example-law.test"
    )
    bad = hub_entry_after_sync(firm, owner=stranger)
    client = api_with("send_time_for_billing")

    response = client.post(SEND, {"matter": good.matter_id}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"]
    assert type(response.headers["Location"]) is str  # a WSGI server refuses str subclasses
    assert body["id"] and body["entry_count"] == 2
    # The batch's task ran when the request committed (tasks run inline in tests).
    batch = client.get(body["url"]).json()
    assert (batch["status"], batch["sent_count"], batch["error_count"]) == ("done", 1, 1)
    results = {row["entry"]: row for row in batch["results"]}
    assert results[good.pk]["status"] == "sent" and results[good.pk]["la_id"]
    assert results[bad.pk]["status"] == "error"
    assert "unknown in LA" in results[bad.pk]["message"]
    assert la.TimeEntry.objects.count() == 1


def test_send_for_billing_by_ids_reports_entries_already_sent(firm, api_with):
    entry = hub_entry_after_sync(firm)
    send(entry)
    client = api_with("send_time_for_billing")

    body = client.post(SEND, {"ids": [entry.pk]}, format="json").json()

    assert (body["status"], body["entry_count"]) == ("done", 0)
    assert body["skipped"] == [{"entry": entry.pk, "reason": "entry already sent"}]
    results = client.get(body["url"]).json()["results"]
    assert results == [
        {"entry": entry.pk, "status": "skipped", "message": "entry already sent", "la_id": None}
    ]


def test_a_waiting_batch_can_be_sent_again_or_cancelled_through_the_api(firm, api_with, faults):
    entries = [hub_entry_after_sync(firm, description=f"Entry {n}") for n in range(2)]
    client = api_with("send_time_for_billing")
    faults("la", error_rate=1.0)

    body = client.post(SEND, {"ids": [e.pk for e in entries]}, format="json").json()
    waiting = client.get(body["url"]).json()
    assert waiting["status"] == "retrying"
    assert {row["status"] for row in waiting["results"]} == {"queued"}
    faults("la", error_rate=0.0)

    resent = client.post(f"{body['url']}resend/")
    assert resent.status_code == 202
    assert client.get(body["url"]).json()["sent_count"] == 2
    assert client.post(f"{body['url']}resend/").status_code == 409  # finished
    assert client.post(f"{body['url']}cancel/").status_code == 409
    assert la.TimeEntry.objects.count() == 2


def test_cancelling_a_waiting_batch_puts_its_entries_back_to_unsent(firm, api_with, faults):
    entry = hub_entry_after_sync(firm)
    client = api_with("send_time_for_billing")
    faults("la", error_rate=1.0)
    body = client.post(SEND, {"ids": [entry.pk]}, format="json").json()

    cancelled = client.post(f"{body['url']}cancel/")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    entry.refresh_from_db()
    assert (entry.billing_status, entry.batch_id) == (TimeEntry.BillingStatus.UNSENT, None)
    assert entry.link.status == "unsynced"
    assert not la.TimeEntry.objects.exists()


def test_billing_batches_need_a_billing_permission(firm, api_with):
    entry = hub_entry_after_sync(firm)
    batch, _ = send(entry)
    url = f"/api/v1/billing-batches/{batch.pk}/"

    assert api_with("view_timeentry").get(url).status_code == 403
    assert api_with("view_billingbatch").get(url).status_code == 200
    assert api_with("view_billingbatch").post(f"{url}resend/").status_code == 403


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
