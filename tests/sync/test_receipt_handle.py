"""The receipt task syncs the one record a webhook changed in the same task, a broker hop
less between an edit and the other system; several changed records get a task each
(sync/services/changes.py). Found by benchmarks/propagation.py."""

import pytest

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
