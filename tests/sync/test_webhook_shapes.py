"""A signed event whose record ids are not the shape the system sends is refused and
stores nothing: its task could only fail on it. Found by benchmarks/webhook_fuzz.py."""

import json

import pytest

from sync.models import WebhookReceipt
from sync.webhooks import signature_for

URLS = {"pm": "/webhooks/pm/", "la": "/webhooks/la/"}
HEADERS = {"pm": "HTTP_X_PM_SIGNATURE", "la": "HTTP_X_LA_SIGNATURE"}


def post_signed(client, system: str, payload: dict):
    body = json.dumps(payload).encode()
    return client.post(
        URLS[system],
        body,
        content_type="application/json",
        **{HEADERS[system]: signature_for(system, body)},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("system", "payload", "field"),
    [
        ("pm", {"event": "ParticipantUpdated"}, "ids"),
        ("pm", {"event": "ParticipantUpdated", "ids": []}, "ids"),
        ("pm", {"event": "ActionCreated", "ids": "1,2"}, "ids"),
        ("pm", {"event": "TimeEntryDeleted", "ids": ["abc"]}, "ids"),
        ("pm", {"event": "ParticipantCreated", "ids": [[[1]]]}, "ids"),
        ("pm", {"event": "ParticipantCreated", "ids": [True]}, "ids"),
        ("la", {"event": "contact.created"}, "data"),
        ("la", {"event": "contact.updated", "data": [1]}, "data"),
        ("la", {"event": "contact.updated", "data": {"id": "abc"}}, "data.id"),
        ("la", {"event": "time_entry.updated", "data": {"id": -3}}, "data.id"),
        ("la", {"event": "time_entries.billed", "data": {"file": 1}}, "data.time_entries"),
        ("la", {"event": "time_entries.billed", "data": {"time_entries": [1]}}, "data.file"),
    ],
)
def test_it_refuses_an_event_that_does_not_name_its_records(client, system, payload, field):
    response = post_signed(client, system, payload)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_body"
    assert field in response.json()["error"]["fields"]
    assert not WebhookReceipt.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("system", "payload"),
    [
        ("pm", {"event": "ParticipantUpdated", "resource": "participants", "ids": [7, "8"]}),
        ("la", {"event": "contact.updated", "data": {"id": 7, "fields": ["email"]}}),
        (
            "la",
            {"event": "time_entries.billed", "data": {"file": 2, "time_entries": [5, 6]}},
        ),
    ],
)
def test_it_accepts_the_shapes_the_systems_send(client, system, payload):
    assert post_signed(client, system, payload).status_code == 200
    assert WebhookReceipt.objects.count() == 1
