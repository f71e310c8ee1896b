from decimal import Decimal

import pytest
import responses
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sandbox.la import services
from sandbox.la.models import (
    Contact,
    FeeEarner,
    File,
    Invoice,
    LASettings,
    LedgerTransaction,
    TimeEntry,
    Webhook,
    WebhookDelivery,
)

from .test_la_support import make_contact, make_fee_earner, make_file, make_time_entry

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def url(model, view: str, *args) -> str:
    return reverse(f"sandbox_admin:sandbox_la_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def records():
    """One record of every LA model, made the way LA makes them."""
    file, ann = make_file(), make_fee_earner()
    entry = make_time_entry(file, ann, external_id="pm-1")
    disbursement = services.transaction_record(file=file, kind="disbursement", amount=Decimal(5))
    invoice = services.file_bill(file=file)
    webhook = services.webhook_create(url="https://hub.example/la", events=["contact.created"])
    return {
        Contact: file.contact,
        FeeEarner: ann,
        File: file,
        TimeEntry: entry,
        Invoice: invoice,
        LedgerTransaction: disbursement,
        LASettings: LASettings.load(),
        Webhook: webhook,
        WebhookDelivery: WebhookDelivery.objects.create(
            webhook=webhook, event_id="6f1f4b9e-1c1a-4c39-9c43-6a4f3f0f6a11", event="x", body="{}"
        ),
    }


@pytest.mark.parametrize(
    "model",
    [
        Contact,
        FeeEarner,
        File,
        TimeEntry,
        Invoice,
        LedgerTransaction,
        LASettings,
        Webhook,
        WebhookDelivery,
    ],
)
def test_each_admin_shows_its_changelist_and_change_page(admin_client, records, model):
    changelist = admin_client.get(url(model, "changelist"), follow=True)
    change = admin_client.get(url(model, "change", records[model].pk))

    assert changelist.status_code == 200
    assert change.status_code == 200


@pytest.mark.parametrize("model", [Contact, FeeEarner, File, TimeEntry, LedgerTransaction, Webhook])
def test_each_admin_that_allows_adding_shows_its_add_page(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", [Invoice, WebhookDelivery, LASettings])
def test_invoices_deliveries_and_settings_cannot_be_added_by_hand(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 403


def test_the_settings_list_opens_the_one_settings_row(admin_client):
    response = admin_client.get(url(LASettings, "changelist"))
    assert response.status_code == 302
    assert response.url == url(LASettings, "change", LASettings.load().pk)


def test_a_contact_created_in_the_admin_is_numbered_and_announced(
    admin_client, django_capture_on_commit_callbacks
):
    services.webhook_create(url="https://hub.example/la", events=["contact.created"])

    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "https://hub.example/la", status=200)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            response = admin_client.post(
                url(Contact, "add"), {"kind": "vendor", "is_company": "on", "company_name": "Acme"}
            )
        assert len(mock.calls) == 1

    assert response.status_code == 302
    assert Contact.objects.get().contact_number == "V~1"


def test_the_contact_admin_shows_las_message_for_a_clashing_number(admin_client):
    make_contact(contact_number="1001", first_name="Jane", last_name="Smith")

    response = admin_client.post(
        url(Contact, "add"), {"kind": "client", "contact_number": "1001", "last_name": "Jones"}
    )

    assert response.status_code == 200
    assert "contact number 1001 is already assigned to Smith, Jane" in response.text
    assert Contact.objects.count() == 1


def test_a_contact_changed_in_the_admin_goes_through_the_service(admin_client):
    contact = make_contact(contact_number="5")
    form = {"kind": "client", "contact_number": "5", "first_name": "Janet", "last_name": "Smith"}

    response = admin_client.post(url(Contact, "change", contact.pk), form)

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Janet"


def test_a_time_entry_added_in_the_admin_is_priced_by_the_service(admin_client):
    file, ann = make_file(), make_fee_earner()
    form = {
        "file": file.pk,
        "fee_earner": ann.pk,
        "date": "2025-03-03",
        "hours": "2.00",
        "rate": "150.00",
        "billing_behaviour": "bill",
    }

    response = admin_client.post(url(TimeEntry, "add"), form)

    assert response.status_code == 302
    assert TimeEntry.objects.get().amount == Decimal("300.00")


def test_a_billed_time_entry_is_view_only_in_the_admin(admin_client, records):
    response = admin_client.get(url(TimeEntry, "change", records[TimeEntry].pk))

    assert response.status_code == 200
    assert 'name="_save"' not in response.text


def test_the_bill_action_bills_the_selected_files(admin_client):
    file = make_file()
    make_time_entry(file, make_fee_earner())

    response = admin_client.post(
        url(File, "changelist"), {"action": "bill", "_selected_action": [file.pk]}
    )

    assert response.status_code == 302
    assert Invoice.objects.get().file == file


def test_the_transaction_admin_refuses_an_overdrawn_trust_withdrawal(admin_client):
    file = make_file()
    form = {"file": file.pk, "kind": "trust_withdrawal", "amount": "10.00", "date": "2025-03-03"}

    response = admin_client.post(url(LedgerTransaction, "add"), form)

    assert response.status_code == 200
    assert "exceeds the trust balance" in response.text
    assert not LedgerTransaction.objects.exists()


@pytest.mark.parametrize("model", [Contact, File, TimeEntry])
def test_a_changelist_costs_the_same_queries_for_3_and_30_rows(admin_client, model):
    ann = make_fee_earner()

    def queries_for(count: int) -> int:
        for _ in range(count - model.objects.count()):
            make_time_entry(make_file(assigned_fee_earner=ann), ann)
        with CaptureQueriesContext(connections["sandbox"]) as captured:
            assert admin_client.get(url(model, "changelist")).status_code == 200
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_a_time_entry_changed_in_the_admin_with_the_amount_cleared_is_repriced(admin_client):
    time_entry = make_time_entry(make_file(), make_fee_earner(), amount=Decimal("999.00"))
    form = {
        "file": time_entry.file_id,
        "fee_earner": time_entry.fee_earner_id,
        "date": "2025-03-03",
        "description": "Drafting",
        "hours": "2.00",
        "rate": "200.00",
        "amount": "",
        "billing_behaviour": "bill",
    }

    response = admin_client.post(url(TimeEntry, "change", time_entry.pk), form)

    assert response.status_code == 302
    time_entry.refresh_from_db()
    assert (time_entry.hours, time_entry.amount) == (Decimal("2.00"), Decimal("400.00"))
