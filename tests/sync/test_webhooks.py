"""Webhook receivers authenticate, record only validated ids, and enqueue; bad requests
change nothing. PM's resthooks are unsigned, so the secret is in their URL; LA's are
signed with an HMAC of the body."""

import json

import pytest

from sandbox.la import services as la_services
from sandbox.la.webhooks import signature_for as la_sandbox_signature
from sync.models import PmConnection, WebhookReceipt
from sync.webhooks import MAX_IDS, la_signature_for

SECRET = "s3cret-in-the-target-url-0123456789abcdef"


@pytest.fixture
def hook_secret(db):
    PmConnection.objects.update_or_create(pk=1, defaults={"resthook_secret": SECRET})
    return SECRET


def pm_url(event: str = "ParticipantCreated", secret: str = SECRET) -> str:
    return f"/webhooks/pm/{event}/{secret}/"


def jsonapi(resource: str, *ids) -> dict:
    """A delivery as Actionstep's demo app reads one (JSON:API `data`)."""
    data = [{"type": resource, "id": str(i), "attributes": {}} for i in ids]
    return {
        "data": data[0] if len(data) == 1 else data,
        "meta": {"debug": {"resthook": {"id": 4, "event_name": "X"}}},
    }


def post_pm(client, payload, *, event="ParticipantCreated", secret=SECRET):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(pm_url(event, secret), body, content_type="application/json")


class TestPmResthooks:
    def test_a_delivery_to_the_secret_url_is_recorded_with_only_its_ids(
        self, client, hook_secret, django_capture_on_commit_callbacks
    ):
        payload = jsonapi("participants", 12)
        payload["data"]["attributes"] = {"firstName": "Evil", "notes": "x" * 5000}

        with django_capture_on_commit_callbacks() as callbacks:
            response = post_pm(client, payload)

        assert response.status_code == 200
        receipt = WebhookReceipt.objects.get()
        assert (receipt.system, receipt.event, receipt.payload) == (
            "pm",
            "ParticipantCreated",
            {"ids": ["12"]},
        )
        assert len(callbacks) == 1

    def test_the_record_as_a_get_answers_it_is_accepted_too(self, client, hook_secret):
        response = post_pm(
            client,
            {"actions": [{"id": 7, "name": "Sale"}, {"id": 8, "name": "Lease"}]},
            event="ActionUpdated",
        )

        assert response.status_code == 200
        assert WebhookReceipt.objects.get().payload == {"ids": ["7", "8"]}

    def test_an_action_participant_is_named_by_its_composite_id(self, client, hook_secret):
        response = post_pm(
            client, jsonapi("actionparticipants", "40--27--7"), event="ActionParticipantAdded"
        )

        assert response.status_code == 200
        assert WebhookReceipt.objects.get().payload == {"ids": ["40--27--7"]}

    @pytest.mark.parametrize("secret", ["wrong-secret", SECRET[:-1], SECRET + "x", "é"])
    def test_a_wrong_secret_is_401_and_stores_nothing(self, client, hook_secret, secret):
        response = post_pm(client, jsonapi("participants", 12), secret=secret)

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unknown_hook"
        assert not WebhookReceipt.objects.exists()

    def test_no_delivery_is_accepted_before_hooks_were_registered(self, client, db):
        response = post_pm(client, jsonapi("participants", 12), secret="anything")

        assert response.status_code == 401
        assert not WebhookReceipt.objects.exists()

    def test_the_same_delivery_twice_is_stored_once(self, client, hook_secret):
        payload = jsonapi("participants", 12)

        first = post_pm(client, payload)
        second = post_pm(client, payload)

        assert (first.status_code, second.status_code) == (200, 200)
        assert second.json()["duplicate"] is True
        assert WebhookReceipt.objects.count() == 1

    def test_repeated_ids_are_taken_once_and_at_most_max_ids(self, client, hook_secret):
        ids = [12] * 500 + list(range(1000, 1000 + 2 * MAX_IDS))

        response = post_pm(client, jsonapi("participants", *ids))

        assert response.status_code == 200
        stored = WebhookReceipt.objects.get().payload["ids"]
        assert stored[0] == "12"
        assert len(stored) == MAX_IDS == len(set(stored))

    @pytest.mark.parametrize(
        ("payload", "event"),
        [
            ({"data": {"type": "actions", "id": "7"}}, "ParticipantCreated"),
            ({"data": {"type": "participants", "id": "abc"}}, "ParticipantCreated"),
            ({"data": {"type": "participants", "id": True}}, "ParticipantCreated"),
            ({"data": {"type": "participants"}}, "ParticipantCreated"),
            ({"data": []}, "ParticipantCreated"),
            ({"data": [[1]]}, "ParticipantCreated"),
            ({"ids": [1]}, "ParticipantCreated"),
            ({"data": {"type": "actionparticipants", "id": "40--7"}}, "ActionParticipantAdded"),
        ],
    )
    def test_a_delivery_that_names_no_record_the_pm_way_is_400(
        self, client, hook_secret, payload, event
    ):
        response = post_pm(client, payload, event=event)

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_body"
        assert not WebhookReceipt.objects.exists()

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            (b'{"data": ', 400, "invalid_json"),
            (b"[1, 2]", 400, "invalid_body"),
            (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
        ],
    )
    def test_a_body_that_is_not_a_json_object_is_400(self, client, hook_secret, body, status, code):
        response = post_pm(client, body)

        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        assert not WebhookReceipt.objects.exists()

    def test_an_event_the_hub_does_not_register_is_400(self, client, hook_secret):
        response = post_pm(client, jsonapi("timeentries", 3), event="TimeEntryDeleted")

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_event"

    def test_an_oversized_body_is_refused_before_it_is_read(self, client, hook_secret, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        payload = {**jsonapi("participants", 12), "pad": "x" * 2000}

        assert post_pm(client, payload).status_code == 413
        assert not WebhookReceipt.objects.exists()

    def test_a_get_is_not_allowed(self, client, hook_secret):
        assert client.get(pm_url()).status_code == 405


def post_la(client, body: bytes, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        headers["HTTP_X_LA_SIGNATURE"] = la_signature_for(body)
    elif signature is not None:
        headers["HTTP_X_LA_SIGNATURE"] = signature
    return client.post("/webhooks/la/", body, content_type="application/json", **headers)


def la_event(event_id: str, *, age=None, **fields) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    moment = timezone.now() - (age or timedelta(0))
    return {
        "id": event_id,
        "event": "contact.updated",
        "occurred_at": moment.isoformat(),
        "data": {"id": 7},
        **fields,
    }


class TestLaWebhooks:
    def test_our_signature_matches_what_the_la_sandbox_sends(self):
        body = b'{"event":"x"}'

        assert la_signature_for(body) == la_sandbox_signature(body)

    @pytest.mark.django_db
    def test_a_signed_event_is_recorded_with_only_its_ids(
        self, client, django_capture_on_commit_callbacks
    ):
        payload = {**la_event("e1"), "event": "contact.created", "data": {"id": 7, "n": "x" * 99}}
        with django_capture_on_commit_callbacks() as callbacks:
            response = post_la(client, json.dumps(payload).encode())

        assert response.status_code == 200
        receipt = WebhookReceipt.objects.get()
        assert receipt.payload == {"event": "contact.created", "data": {"id": 7}}
        assert len(callbacks) == 1

    @pytest.mark.django_db
    def test_an_event_replayed_is_taken_once(self, client):
        body = json.dumps(la_event("evt-1")).encode()

        answers = [post_la(client, body) for _ in range(25)]

        assert {answer.status_code for answer in answers} == {200}
        assert WebhookReceipt.objects.count() == 1
        assert all(answer.json().get("duplicate") for answer in answers[1:])

    @pytest.mark.django_db
    def test_the_same_event_id_with_another_body_is_still_taken_once(self, client):
        post_la(client, json.dumps(la_event("evt-2")).encode())
        response = post_la(client, json.dumps(la_event("evt-2", data={"id": 8})).encode())

        assert response.json().get("duplicate") is True
        assert WebhookReceipt.objects.count() == 1

    @pytest.mark.django_db
    @pytest.mark.parametrize("minutes", [6, -6, 60 * 24])
    def test_an_event_from_outside_the_time_window_is_refused(self, client, minutes):
        from datetime import timedelta

        body = json.dumps(la_event("evt-3", age=timedelta(minutes=minutes))).encode()

        response = post_la(client, body)

        assert response.status_code == 400
        assert "occurred_at" in response.json()["error"]["fields"]
        assert not WebhookReceipt.objects.exists()

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"event": "contact.updated", "occurred_at": "x", "data": {"id": 1}}, "id"),
            ({"id": 5, "event": "contact.updated", "data": {"id": 1}}, "id"),
            ({"id": "e", "event": "contact.updated", "data": {"id": 1}}, "occurred_at"),
            (
                {"id": "e", "event": "contact.updated", "occurred_at": "2026-01-01T00:00:00"},
                "occurred_at",
            ),
        ],
    )
    def test_an_event_without_its_id_or_time_is_refused(self, client, payload, field):
        response = post_la(client, json.dumps(payload).encode())

        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("case", "body", "signature", "status", "code"),
        [
            ("missing", b'{"event":"contact.created"}', None, 401, "signature_missing"),
            ("wrong", b'{"event":"contact.created"}', "sha256=00", 403, "signature_invalid"),
            ("not ascii", b'{"event":"contact.created"}', "sha256=é", 403, "signature_invalid"),
            ("malformed json", b'{"event": ', "sign", 400, "invalid_json"),
            ("not an object", b"[1, 2]", "sign", 400, "invalid_body"),
            ("deeply nested", b"[" * 100_000 + b"]" * 100_000, "sign", 400, "invalid_json"),
            ("unknown event", b'{"event":"Exploded"}', "sign", 400, "unknown_event"),
        ],
    )
    def test_a_bad_request_gets_a_clear_4xx_and_changes_nothing(
        self, client, case, body, signature, status, code
    ):
        response = post_la(client, body, signature)

        assert response.status_code == status, case
        assert response.json()["error"]["code"] == code
        assert not WebhookReceipt.objects.exists()


@pytest.mark.django_db
def test_receipts_older_than_the_retention_are_pruned(settings):
    from datetime import timedelta

    from django.utils import timezone

    from sync.services.changes import webhook_receipts_prune

    settings.WEBHOOK_RECEIPT_RETENTION_DAYS = 14
    old = WebhookReceipt.objects.create(system="pm", event="ParticipantCreated")
    recent = WebhookReceipt.objects.create(system="pm", event="ParticipantUpdated")
    WebhookReceipt.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=15))

    assert webhook_receipts_prune() == 1
    assert list(WebhookReceipt.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_an_la_webhook_brings_the_new_contact_into_pm(systems):
    from sandbox.pm import models as pm
    from sync.services import link_sync, links_collected
    from sync.services.changes import webhook_receipt_process

    contact = la_services.contact_create(data={"first_name": "Hook", "last_name": "La"})
    receipt = WebhookReceipt.objects.create(
        system="la", event="contact.created", payload={"data": {"id": contact.pk}}
    )

    with links_collected() as queued:
        webhook_receipt_process(receipt_id=receipt.pk)
    for link_id in queued:
        link_sync(link_id=link_id)

    contact.refresh_from_db()
    made = pm.Participant.objects.filter(import_external_reference=contact.contact_number)
    assert made.count() == 1
