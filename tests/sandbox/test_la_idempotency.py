import pytest

from sandbox.la.models import Contact, IdempotencyKey, TimeEntry
from sandbox.models import FaultConfig

from .test_la_support import LA, make_fee_earner, make_file

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def la():
    return LA()


def post_contact(la, key: str, last_name: str = "Smith"):
    return la.post("contacts", {"last_name": last_name}, headers={"Idempotency-Key": key})


def test_a_repeated_key_answers_the_original_response_and_creates_nothing(la):
    first = post_contact(la, "key-1")
    again = post_contact(la, "key-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Contact.objects.count() == 1


def test_a_repeated_key_replays_an_error_answer_too(la):
    post_contact(la, "first")
    clash = {"contact_number": "1", "last_name": "Jones"}

    refused = la.post("contacts", clash, headers={"Idempotency-Key": "key-2"})
    again = la.post("contacts", clash, headers={"Idempotency-Key": "key-2"})

    assert refused.status_code == again.status_code == 409
    assert again.json() == refused.json()


def test_different_keys_create_different_records(la):
    post_contact(la, "key-1")
    post_contact(la, "key-2")

    assert Contact.objects.count() == 2


def test_a_key_reused_for_a_different_body_answers_422_and_creates_nothing(la):
    post_contact(la, "key-1", last_name="Smith")

    response = post_contact(la, "key-1", last_name="Jones")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Contact.objects.values_list("last_name", flat=True)) == ["Smith"]


def test_a_batch_retried_with_its_key_answers_the_original_results(la):
    file, ann = make_file(), make_fee_earner()
    item = {
        "file": file.pk,
        "fee_earner": ann.pk,
        "date": "2025-03-03",
        "hours": "1.00",
        "rate": "100.00",
    }
    body = {"entries": [item, item]}

    first = la.post("time-entries/batch", body, headers={"Idempotency-Key": "batch-1"})
    again = la.post("time-entries/batch", body, headers={"Idempotency-Key": "batch-1"})

    assert again.json() == first.json()
    assert TimeEntry.objects.count() == 2


def test_the_key_recovers_a_write_whose_response_was_dropped(la):
    faults = FaultConfig.objects.create(system="la", drop_rate=1.0, hang_seconds=0)

    dropped = post_contact(la, "key-1")
    faults.drop_rate = 0.0
    faults.save()
    retried = post_contact(la, "key-1")

    assert dropped.status_code == 504
    assert dropped.json()["error"]["code"] == "dropped"
    assert retried.status_code == 201
    assert retried["Idempotent-Replayed"] == "true"
    assert retried.json()["id"] == Contact.objects.get().pk


def test_a_request_refused_by_a_fault_leaves_the_key_free(la):
    faults = FaultConfig.objects.create(system="la", error_rate=1.0)

    refused = post_contact(la, "key-1")
    faults.error_rate = 0.0
    faults.save()
    retried = post_contact(la, "key-1")

    assert refused.status_code == 503
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Contact.objects.count() == 1


def test_an_unauthenticated_request_does_not_spend_the_key(la):
    LA(authorization="Bearer wrong").post(
        "contacts", {"last_name": "Smith"}, headers={"Idempotency-Key": "key-1"}
    )

    response = post_contact(la, "key-1")

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().status_code == 201
