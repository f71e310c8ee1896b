"""The receipt task syncs the one record a webhook changed in the same task, a broker hop
less between an edit and the other system; several changed records get a task each
(sync/services/changes.py). Found by benchmarks/propagation.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.la import models as la
from sandbox.pm import services as pm_services
from sync import services
from sync.models import Link, LinkStatus, WebhookReceipt
from sync.services.changes import webhook_receipt_handle

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def queued(monkeypatch):
    """The link sync tasks queued, instead of running them."""
    calls = []
    monkeypatch.setattr(services, "async_task", lambda func, *args, **kw: calls.append(args[0]))
    return calls


def receipt_for(*participants) -> WebhookReceipt:
    return WebhookReceipt.objects.create(
        system="pm", event="ParticipantCreated", payload={"ids": [p.pk for p in participants]}
    )


def test_the_one_record_a_webhook_changed_is_synced_in_the_same_task(systems, queued):
    participant = pm_services.participant_create(first_name="Inline", last_name="Sync")

    webhook_receipt_handle(receipt_id=receipt_for(participant).pk)

    assert queued == []
    assert Link.objects.get(pm_id=str(participant.pk)).status == LinkStatus.SYNCED
    assert la.Contact.objects.filter(pm_contact_id=str(participant.pk)).count() == 1


def test_several_records_changed_by_one_webhook_get_a_task_each(systems, queued):
    first = pm_services.participant_create(first_name="One", last_name="Of Two")
    second = pm_services.participant_create(first_name="Two", last_name="Of Two")

    webhook_receipt_handle(receipt_id=receipt_for(first, second).pk)

    links = Link.objects.filter(pm_id__in=[str(first.pk), str(second.pk)])
    assert sorted(queued) == sorted(links.values_list("pk", flat=True))
    assert set(links.values_list("status", flat=True)) == {LinkStatus.PENDING}
    assert not la.Contact.objects.exists()


def test_a_record_pm_cannot_serve_now_leaves_the_receipt_waiting_not_the_task_failed(
    systems, queued, faults
):
    """Found by the soak: a fault of PM failed the whole receipt task. Now the rest of the
    delivery is taken in and the receipt retries with backoff."""
    known = pm_services.participant_create(first_name="Known", last_name="Before")
    webhook_receipt_handle(receipt_id=receipt_for(known).pk)
    faults("pm", error_rate=1.0)
    receipt = WebhookReceipt.objects.create(
        system="pm", event="ParticipantUpdated", payload={"ids": [str(known.pk)]}
    )

    webhook_receipt_handle(receipt_id=receipt.pk)  # raises nothing

    receipt.refresh_from_db()
    assert receipt.processed_at is None
    assert (receipt.attempts, receipt.next_attempt_at is not None) == (1, True)
    assert "could not be read" in receipt.error
    link = Link.objects.get(pm_id=str(known.pk))
    assert (link.status, link.next_retry_at) == (LinkStatus.PENDING, receipt.next_attempt_at)

    faults("pm", error_rate=0.0)
    WebhookReceipt.objects.filter(pk=receipt.pk).update(next_attempt_at=timezone.now())
    from sync.services.changes import webhook_receipts_sweep

    assert webhook_receipts_sweep() == 1
    receipt.refresh_from_db()
    assert receipt.processed_at is not None and receipt.error == ""


def test_a_receipt_no_task_ever_took_is_queued_again_by_the_sweep(systems, queued):
    from sync.services.changes import webhook_receipts_sweep

    participant = pm_services.participant_create(first_name="Lost", last_name="Task")
    receipt = receipt_for(participant)
    assert webhook_receipts_sweep() == 0  # its task may still be on its way
    WebhookReceipt.objects.filter(pk=receipt.pk).update(
        received_at=timezone.now() - timedelta(minutes=2)
    )

    assert webhook_receipts_sweep() == 1
    receipt.refresh_from_db()
    assert receipt.processed_at is not None


def test_a_receipt_is_closed_with_its_reason_after_its_last_attempt(systems, queued, faults):
    from sync.services.changes import RECEIPT_ATTEMPTS

    participant = pm_services.participant_create(first_name="Never", last_name="Served")
    receipt = receipt_for(participant)
    WebhookReceipt.objects.filter(pk=receipt.pk).update(attempts=RECEIPT_ATTEMPTS - 1)
    faults("pm", error_rate=1.0)

    webhook_receipt_handle(receipt_id=receipt.pk)

    receipt.refresh_from_db()
    assert receipt.processed_at is not None
    assert receipt.error.startswith(f"Gave up after {RECEIPT_ATTEMPTS} attempts")
