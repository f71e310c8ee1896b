"""Webhook receivers verify, record and enqueue; bad requests change nothing."""

import json

import pytest

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.la.webhooks import signature_for as la_sandbox_signature
from sandbox.pm import services as pm_services
from sandbox.pm.hooks import resthook_signature
from sync.models import Link, LinkStatus, WebhookReceipt
from sync.services import link_sync, links_collected
from sync.services.changes import webhook_receipt_process
from sync.webhooks import signature_for

URLS = {"pm": "/webhooks/pm/", "la": "/webhooks/la/"}
HEADERS = {"pm": "HTTP_X_PM_SIGNATURE", "la": "HTTP_X_LA_SIGNATURE"}
EVENTS = {
    "pm": {"event": "ParticipantCreated", "resource": "participants", "ids": [1]},
    "la": {"id": "e1", "event": "contact.created", "occurred_at": "x", "data": {"id": 1}},
}


def post(client, system, body: bytes, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        headers[HEADERS[system]] = signature_for(system, body)
    elif signature is not None:
        headers[HEADERS[system]] = signature
    return client.post(URLS[system], body, content_type="application/json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize("system", ["pm", "la"])
def test_a_signed_event_is_recorded_and_answered_200(
    client, system, django_capture_on_commit_callbacks
):
    body = json.dumps(EVENTS[system]).encode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, system, body)
    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert (receipt.system, receipt.event) == (system, EVENTS[system]["event"])
    assert len(callbacks) == 1


def test_our_signature_matches_what_each_sandbox_sends():
    body = b'{"event":"x"}'
    assert signature_for("pm", body) == resthook_signature(body)
    assert signature_for("la", body) == la_sandbox_signature(body)


@pytest.mark.django_db
@pytest.mark.parametrize("system", ["pm", "la"])
@pytest.mark.parametrize(
    ("case", "body", "signature", "status", "code"),
    [
        ("missing signature", b'{"event":"ParticipantCreated"}', None, 401, "signature_missing"),
        ("bad signature", b'{"event":"ParticipantCreated"}', "sha256=00", 403, "signature_invalid"),
        ("malformed json", b'{"event": ', "sign", 400, "invalid_json"),
        ("not an object", b"[1, 2]", "sign", 400, "invalid_body"),
        ("deeply nested", b"[" * 100_000 + b"]" * 100_000, "sign", 400, "invalid_json"),
        ("unknown event", b'{"event":"Exploded"}', "sign", 400, "unknown_event"),
    ],
)
def test_a_bad_request_gets_a_clear_4xx_and_changes_nothing(
    client, system, case, body, signature, status, code
):
    response = post(client, system, body, signature)
    assert response.status_code == status, case
    assert response.json()["error"]["code"] == code
    assert not WebhookReceipt.objects.exists()


@pytest.mark.django_db
def test_an_oversized_body_is_refused_before_it_is_read(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"event": "ParticipantCreated", "pad": "x" * 2000}).encode()
    response = post(client, "pm", body)
    assert response.status_code == 413
    assert not WebhookReceipt.objects.exists()


@pytest.mark.django_db
def test_a_get_is_not_allowed(client):
    assert client.get(URLS["pm"]).status_code == 405


@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_a_pm_resthook_brings_the_new_contact_into_la(systems):
    participant = pm_services.participant_create(first_name="Hook", last_name="Person")
    receipt = WebhookReceipt.objects.create(
        system="pm", event="ParticipantCreated", payload={"ids": [participant.pk]}
    )

    with links_collected() as queued:
        webhook_receipt_process(receipt_id=receipt.pk)
    for link_id in queued:
        link_sync(link_id=link_id)

    receipt.refresh_from_db()
    assert receipt.processed_at is not None
    assert la.Contact.objects.filter(pm_contact_id=str(participant.pk)).count() == 1
    assert Link.objects.get(pm_id=str(participant.pk)).status == LinkStatus.SYNCED


@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_an_la_webhook_brings_the_new_contact_into_pm(systems):
    from sandbox.pm import models as pm

    contact = la_services.contact_create(data={"first_name": "Hook", "last_name": "La"})
    receipt = WebhookReceipt.objects.create(
        system="la", event="contact.created", payload={"data": {"id": contact.pk}}
    )

    with links_collected() as queued:
        webhook_receipt_process(receipt_id=receipt.pk)
    for link_id in queued:
        link_sync(link_id=link_id)

    assert pm.Participant.objects.filter(import_external_reference=f"LA:{contact.pk}").count() == 1
