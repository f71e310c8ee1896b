"""A send for billing is a durable job: nothing a dead worker or a passing fault leaves
behind stays stuck, nothing is sent twice, and a stale File Reference is never trusted.
Against the sandbox over real HTTP."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sync.models import LinkStatus
from tests.sync.helpers import hub_entry, hub_entry_after_sync, record_time, send, sync_everything
from timekeeping.models import BillingBatch, TimeEntry
from timekeeping.services import (
    billing_batch_create,
    billing_batch_results,
    billing_batches_sweep,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
Status = TimeEntry.BillingStatus


def entries_of(*entries):
    return TimeEntry.objects.filter(pk__in=[entry.pk for entry in entries])


def test_a_batch_whose_worker_died_mid_send_is_taken_up_and_sends_each_entry_once(firm):
    entries = [hub_entry_after_sync(firm, description=f"Entry {n}") for n in range(3)]
    batch = billing_batch_create(entries=entries_of(*entries), queue=False)
    # A worker took it, sent one entry to LA, and died before recording anything.
    from timekeeping import services

    first = entries[0]
    services._create_in_la(
        [services._la_item(first, first.link, {"fee_earners": {}})],
        key="the-dead-worker",
    )
    BillingBatch.objects.filter(pk=batch.pk).update(
        status=BillingBatch.Status.SENDING,
        lease_token="3f3e4fae-5c1e-4a43-9f43-2d3f4a1b6a11",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert billing_batches_sweep() == 1  # its task runs at once in tests

    batch.refresh_from_db()
    assert (batch.status, batch.sent_count) == (BillingBatch.Status.DONE, 3)
    assert la.TimeEntry.objects.count() == 3
    assert not la.TimeEntry.objects.values("external_id").annotate(n=Count("pk")).filter(n__gt=1)
    assert set(entries_of(*entries).values_list("billing_status", flat=True)) == {Status.SENT}


def test_a_batch_whose_task_never_ran_is_taken_up_after_a_minute(firm):
    entry = hub_entry_after_sync(firm)
    batch = billing_batch_create(entries=entries_of(entry), queue=False)  # its task was lost

    assert billing_batches_sweep() == 0  # a moment later: its task may still be queued
    BillingBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    assert billing_batches_sweep() == 1

    entry.refresh_from_db()
    assert entry.billing_status == Status.SENT


def test_a_batch_held_by_a_live_worker_is_left_to_it(firm):
    entry = hub_entry_after_sync(firm)
    batch = billing_batch_create(entries=entries_of(entry), queue=False)
    BillingBatch.objects.filter(pk=batch.pk).update(
        status=BillingBatch.Status.SENDING,
        lease_token="3f3e4fae-5c1e-4a43-9f43-2d3f4a1b6a11",
        lease_expires_at=timezone.now() + timedelta(minutes=2),
    )

    assert billing_batches_sweep() == 0
    assert not la.TimeEntry.objects.exists()


def test_an_entry_whose_prerequisites_cannot_be_checked_now_waits_not_red(firm, faults):
    entry = hub_entry_after_sync(firm)
    faults("la", error_rate=1.0)

    batch, results = send(entry)

    assert results[0].status == Status.QUEUED
    assert results[0].message.startswith("LA could not be asked")
    entry.refresh_from_db()
    assert entry.billing_status == Status.QUEUED
    assert entry.link.status == LinkStatus.PENDING
    assert entry.link.next_retry_at == batch.next_attempt_at
    assert batch.status == BillingBatch.Status.RETRYING


def test_time_on_a_matter_still_syncing_waits_for_its_number(firm):
    """A new matter whose number is not written back to PM yet: the entry waits."""
    entry = hub_entry_after_sync(firm)
    entry.matter.link.status = LinkStatus.PENDING
    entry.matter.link.save()

    _, results = send(entry)

    assert results[0].status == Status.QUEUED
    assert "the matter is still syncing" in results[0].message
    assert not la.TimeEntry.objects.exists()


def test_time_on_a_matter_renumbered_in_pm_to_a_clash_is_refused_with_the_reason(firm):
    """PM's File Reference changed to a number LA gives another matter: the matter turns
    red, and its time is not sent although the hub's old copy still matched LA."""
    other = la_services.file_create(
        data={
            "description": "Someone else's",
            "contact": la.Contact.objects.first(),
            "file_number": "777777",
        }
    )
    entry = hub_entry_after_sync(firm)
    pm.Action.objects.filter(pk=firm["action"].pk).update(reference=other.file_number)
    sync_everything()
    link_sync_matter(entry)
    entry.matter.link.refresh_from_db()
    assert entry.matter.link.status == LinkStatus.ERROR

    _, results = send(entry)

    assert results[0].status == Status.ERROR
    assert results[0].message.startswith("the matter's link is in error")
    assert not la.TimeEntry.objects.exists()


def link_sync_matter(entry):
    from sync.services import link_sync

    link_sync(link_id=entry.matter.link.pk)


def test_a_claimed_entry_ends_sent_error_or_unsent_whatever_happens(firm, faults):
    good = hub_entry_after_sync(firm, description="Good")
    stranger_entry = record_time(firm, description="Also good")
    sync_everything()
    faults("la", error_rate=1.0)
    batch, _ = send(good, hub_entry(stranger_entry))
    faults("la", error_rate=0.0)

    BillingBatch.objects.filter(pk=batch.pk).update(next_attempt_at=timezone.now())
    billing_batches_sweep()

    batch.refresh_from_db()
    assert batch.status == BillingBatch.Status.DONE
    assert {r.status for r in billing_batch_results(batch)} == {Status.SENT}
    assert not TimeEntry.objects.filter(billing_status=Status.QUEUED).exists()
