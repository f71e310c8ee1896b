import hashlib
import hmac
import json
import uuid
from decimal import Decimal

import pytest
import responses

from sandbox.la.models import WebhookDelivery

from .test_la_support import LA, make_contact, make_fee_earner, make_file, make_time_entry

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

HOOK = "https://hub.example/hooks/la"
ALL_EVENTS = ["contact.created", "contact.updated", "time_entries.billed", "time_entry.updated"]


@pytest.fixture
def la():
    return LA()


@pytest.fixture
def receiver():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, HOOK, status=200)
        yield mock


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the sandbox's on-commit callbacks (webhooks) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(using="sandbox", execute=True)


def subscribe(la, events=None) -> dict:
    response = la.post("webhooks", {"url": HOOK, "events": events or ALL_EVENTS})
    assert response.status_code == 201
    return response.json()


def sent(receiver) -> list[dict]:
    return [json.loads(call.request.body) for call in receiver.calls]


def test_it_delivers_contact_created_with_a_verifiable_signature(la, receiver, committed, settings):
    subscribe(la)

    with committed():
        contact = la.post("contacts", {"last_name": "Smith", "pm_contact_id": "56"}).json()

    assert len(receiver.calls) == 1
    request = receiver.calls[0].request
    secret = settings.SANDBOX_LA_WEBHOOK_SECRET.encode()
    expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-LA-Signature"] == f"sha256={expected}"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert uuid.UUID(body["id"])
    assert body["event"] == "contact.created"
    assert body["occurred_at"].endswith("Z")
    assert body["data"] == {
        "id": contact["id"],
        "contact_number": contact["contact_number"],
        "pm_contact_id": "56",
    }
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code == 200
    assert delivery.succeeded


def test_a_signature_made_with_another_secret_does_not_match(la, receiver, committed):
    subscribe(la)

    with committed():
        la.post("contacts", {"last_name": "Smith"})

    request = receiver.calls[0].request
    forged = hmac.new(b"not-the-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-LA-Signature"] != f"sha256={forged}"


def test_it_sends_only_the_events_a_webhook_subscribed_to(la, receiver, committed):
    subscribe(la, ["time_entries.billed"])

    with committed():
        la.post("contacts", {"last_name": "Smith"})

    assert len(receiver.calls) == 0


def test_it_sends_contact_updated_with_the_changed_fields_and_nothing_for_no_change(
    la, receiver, committed
):
    contact = make_contact(email="a@example.com")
    subscribe(la)

    with committed():
        la.patch(f"contacts/{contact.pk}", {"email": "b@example.com", "last_name": "Smith"})
        la.patch(f"contacts/{contact.pk}", {"email": "b@example.com"})

    assert [(body["event"], body["data"]["fields"]) for body in sent(receiver)] == [
        ("contact.updated", ["email"])
    ]


def test_it_sends_nothing_for_a_refused_change(la, receiver, committed):
    make_contact(contact_number="1001")
    subscribe(la)

    with committed():
        response = la.post("contacts", {"contact_number": "1001", "last_name": "Jones"})

    assert response.status_code == 409
    assert len(receiver.calls) == 0


def test_it_sends_time_entries_billed_with_the_entries_and_their_external_ids(
    la, receiver, committed
):
    file, ann = make_file(), make_fee_earner()
    first = make_time_entry(file, ann, external_id="pm-1")
    second = make_time_entry(file, ann, external_id="pm-2")
    subscribe(la)

    with committed():
        invoice = la.post(f"files/{file.pk}/bill").json()

    [body] = sent(receiver)
    assert body["event"] == "time_entries.billed"
    assert body["data"] == {
        "file": file.pk,
        "invoice": invoice["id"],
        "time_entries": [first.pk, second.pk],
        "external_ids": ["pm-1", "pm-2"],
    }


def test_it_sends_time_entry_updated_when_time_changes_in_la(la, receiver, committed):
    time_entry = make_time_entry(make_file(), make_fee_earner(), external_id="pm-9")
    subscribe(la)

    with committed():
        la.patch(f"time-entries/{time_entry.pk}", {"description": "Drafting and filing"})

    [body] = sent(receiver)
    assert body["event"] == "time_entry.updated"
    assert body["data"] == {
        "id": time_entry.pk,
        "file": time_entry.file_id,
        "external_id": "pm-9",
        "fields": ["description"],
    }


def test_a_failing_receiver_is_recorded_and_the_change_still_stands(la, committed):
    subscribe(la)

    with responses.RequestsMock() as mock, committed():
        mock.add(responses.POST, HOOK, status=500)
        response = la.post("contacts", {"last_name": "Smith"})

    assert response.status_code == 201
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code == 500
    assert delivery.error == "The receiver answered 500."
    assert not delivery.succeeded


def test_it_refuses_a_webhook_with_an_unknown_event(la):
    response = la.post("webhooks", {"url": HOOK, "events": ["contact.deleted"]})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "events"


def test_a_deleted_webhook_gets_nothing_more(la, receiver, committed):
    webhook = subscribe(la)
    assert la.get("webhooks").json()["results"] == [webhook]

    assert la.delete(f"webhooks/{webhook['id']}").status_code == 204
    with committed():
        la.post("contacts", {"last_name": "Smith"})

    assert len(receiver.calls) == 0
    assert la.get("webhooks").json()["count"] == 0


def test_billing_without_time_sends_no_billed_event(la, receiver, committed):
    file = make_file()
    file.transactions.create(kind="disbursement", amount=Decimal("9.00"))
    subscribe(la)

    with committed():
        assert la.post(f"files/{file.pk}/bill").status_code == 201

    assert len(receiver.calls) == 0
