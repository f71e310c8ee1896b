"""Time from PM to LA for billing, corrections, locking (ARCHITECTURE §2 "Time")."""

from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.models import LinkStatus, WebhookReceipt
from sync.services.changes import webhook_receipt_process
from sync.services.time_entries import time_entries_reconcile
from tests.sync.helpers import (
    hub_entry,
    hub_entry_after_sync,
    pm_matter,
    record_time,
    send,
    sync_everything,
)
from timekeeping.models import BillingBatch, TimeEntry
from timekeeping.services import billing_batch_results, billing_batches_sweep

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
Status = TimeEntry.BillingStatus


def hub_entry_link_status(entry) -> str:
    entry.link.refresh_from_db()
    return entry.link.status


def test_time_recorded_in_pm_reaches_the_hub_unsent_and_gray(firm):
    pm_entry = record_time(firm)

    sync_everything()

    entry = hub_entry(pm_entry)
    assert entry.billing_status == Status.UNSENT
    assert (entry.billable_hours, entry.amount) == (Decimal("1.50"), Decimal("450.00"))
    assert entry.timekeeper.email == "sam@example-law.test"
    assert entry.link.status == LinkStatus.UNSYNCED


def test_sending_creates_the_entry_in_la_and_marks_it_sent(firm):
    pm_entry = record_time(firm, behaviour="No charge")
    sync_everything()
    entry = hub_entry(pm_entry)

    batch, results = send(entry)

    assert [r.status for r in results] == [Status.SENT]
    la_entry = la.TimeEntry.objects.get(external_id=str(pm_entry.pk))
    assert (la_entry.hours, la_entry.amount) == (Decimal("1.50"), Decimal("450.00"))
    assert la_entry.billing_behaviour == "no_charge"
    assert la_entry.fee_earner_id == firm["fee_earner"].pk
    entry.refresh_from_db()
    assert entry.billing_status == Status.SENT and entry.batch_id == batch.pk
    assert entry.link.status == LinkStatus.SYNCED and entry.link.la_id == str(la_entry.pk)


def test_each_unmet_prerequisite_is_its_own_message(firm):
    stranger = pm_services.user_create(
        first_name="No", last_name="Earner", email="no@example-law.test"
    )
    unknown_timekeeper = record_time(firm, owner=stranger)
    unlinked_matter = record_time(firm, action=pm_matter("Never synced"))
    renumbered = record_time(firm)
    sync_everything()
    hub_entry(unlinked_matter).matter.link.delete()
    # Changed in PM a moment ago; the hub has not heard of it yet: PM's value counts.
    pm.Action.objects.filter(pk=renumbered.action_id).update(reference="999999")

    batch, results = send(
        hub_entry(unknown_timekeeper), hub_entry(unlinked_matter), hub_entry(renumbered)
    )

    messages = {r.entry_id: r.message for r in results}
    assert (
        "timekeeper No Earner <no@example-law.test> unknown in LA"
        in messages[hub_entry(unknown_timekeeper).pk]
    )
    assert messages[hub_entry(unlinked_matter).pk].startswith("matter not in LA")
    assert (
        "File Reference '999999' in PM differs from LA's matter number"
        in messages[hub_entry(renumbered).pk]
    )
    assert {r.status for r in results} == {Status.ERROR}
    assert batch.error_count == 3 and batch.sent_count == 0
    assert not la.TimeEntry.objects.exists()
    assert hub_entry(renumbered).link.status == LinkStatus.ERROR


def test_an_entry_already_sent_is_reported_and_not_sent_again(firm):
    entry = hub_entry_after_sync(firm)
    send(entry)

    _, results = send(entry)

    assert results[0].message == "entry already sent"
    assert la.TimeEntry.objects.count() == 1
    entry.refresh_from_db()
    assert entry.billing_status == Status.SENT


def test_a_batch_with_mixed_valid_and_invalid_entries_sends_the_valid_ones(firm):
    good = [hub_entry_after_sync(firm, description=f"Good {n}") for n in range(3)]
    stranger = pm_services.user_create(
        first_name="No", last_name="Earner", email="no@example-law.test"
    )
    bad = hub_entry_after_sync(firm, owner=stranger)

    batch, _ = send(*good, bad)

    assert batch.sent_count == 3 and batch.error_count == 1
    assert la.TimeEntry.objects.count() == 3
    assert TimeEntry.objects.get(pk=bad.pk).billing_status == Status.ERROR


def test_an_unsent_entry_edited_in_pm_goes_with_its_new_values(firm):
    pm_entry = record_time(firm)
    sync_everything()
    pm_services.time_entry_update(
        pm_entry, actual_hours=Decimal("2.00"), billable_hours=Decimal("2.00")
    )
    sync_everything()
    entry = hub_entry(pm_entry)
    assert entry.billable_hours == Decimal("2.00")

    send(entry)

    assert la.TimeEntry.objects.get().hours == Decimal("2.00")


def test_an_entry_edited_in_pm_after_sending_is_flagged_and_not_pushed(firm):
    pm_entry = record_time(firm)
    sync_everything()
    send(hub_entry(pm_entry))
    pm_entry.refresh_from_db()

    pm_services.time_entry_update(pm_entry, description="Changed afterwards")
    sync_everything()

    entry = hub_entry(pm_entry)
    assert entry.changed_after_sending is True
    assert entry.link.status == LinkStatus.ERROR
    assert entry.link.message == "changed after sending; correct it in Legal Accounting"
    assert la.TimeEntry.objects.get().description == "Drafting"
    correction = entry.link.events.get(action="correction")
    assert correction.details["pm_values"]["description"] == "Changed afterwards"


def test_a_change_made_in_la_to_a_sent_entry_is_reflected_in_the_hub(firm):
    entry = hub_entry_after_sync(firm)
    send(entry)
    la_entry = la.TimeEntry.objects.get()

    la_services.time_entry_update(time_entry=la_entry, data={"description": "Corrected in LA"})
    sync_everything()

    entry.refresh_from_db()
    assert entry.description == "Corrected in LA"


def test_billing_in_la_marks_the_entry_billed_and_locks_it(firm):
    entry = hub_entry_after_sync(firm)
    send(entry)
    la_entry = la.TimeEntry.objects.get()
    file = la_entry.file
    la_services.file_bill(file=file)
    receipt = WebhookReceipt.objects.create(
        system="la",
        event="time_entries.billed",
        payload={"data": {"file": file.pk, "time_entries": [la_entry.pk]}},
    )

    webhook_receipt_process(receipt_id=receipt.pk)

    entry.refresh_from_db()
    assert entry.billing_status == Status.BILLED and entry.billed_at is not None
    _, results = send(entry)
    assert results[0].message == "entry already sent"
    assert entry.matter.balance.wip_fees == Decimal("0.00")
    assert entry.matter.balance.accounts_receivable == Decimal("450.00")


def test_a_send_retried_after_a_lost_answer_leaves_one_entry_in_la(firm, faults):
    entries = [hub_entry_after_sync(firm, description=f"Entry {n}") for n in range(3)]
    faults("la", drop_rate=1.0, hang_seconds=0.0)

    batch, first = send(*entries)
    faults("la", drop_rate=0.0)
    # A lost answer is a passing fault: the entries wait, light blue, for a retry.
    assert {r.status for r in first} == {Status.QUEUED}
    assert all("it will be tried again" in r.message for r in first)
    assert batch.status == BillingBatch.Status.RETRYING and batch.next_attempt_at
    assert {hub_entry_link_status(e) for e in entries} == {LinkStatus.PENDING}
    assert la.TimeEntry.objects.count() == 3  # committed, but the answer was lost

    BillingBatch.objects.filter(pk=batch.pk).update(next_attempt_at=timezone.now())
    assert billing_batches_sweep() == 1  # the batch's task runs at once in tests

    batch.refresh_from_db()
    assert (batch.status, batch.sent_count) == (BillingBatch.Status.DONE, 3)
    assert {r.status for r in billing_batch_results(batch)} == {Status.SENT}
    assert la.TimeEntry.objects.count() == 3
    assert not la.TimeEntry.objects.values("external_id").annotate(n=Count("pk")).filter(n__gt=1)


def test_two_sends_at_once_claim_each_entry_once(firm):
    entry = hub_entry_after_sync(firm)
    TimeEntry.objects.filter(pk=entry.pk).update(billing_status=Status.QUEUED)

    _, results = send(entry)

    assert results[0].message == "entry already queued in another batch"
    assert not la.TimeEntry.objects.exists()


def test_confirming_in_the_admin_queues_a_batch_whose_page_shows_each_entry(firm, admin_client):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.urls import reverse

    entries = [hub_entry_after_sync(firm, description=f"Admin {n}") for n in range(2)]

    response = admin_client.post(
        reverse("admin:timekeeping_timeentry_changelist"),
        {
            "action": "send_for_billing",
            ACTION_CHECKBOX_NAME: [e.pk for e in entries],
            "confirm": "1",
        },
        follow=True,
    )

    batch = BillingBatch.objects.get()
    assert response.redirect_chain == [
        (reverse("admin:timekeeping_billingbatch_change", args=[batch.pk]), 302)
    ]
    body = response.content.decode()
    assert "entries queued for billing" in body
    # The batch's task ran as the request committed (tasks run inline in tests).
    assert batch.sent_count == 2
    assert body.count("Sent to LA for billing.") == 2
    assert la.TimeEntry.objects.count() == 2


def test_a_time_entry_resthook_brings_the_entry_into_the_hub(firm):
    pm_entry = record_time(firm, description="From the hook")
    receipt = WebhookReceipt.objects.create(
        system="pm", event="TimeEntryCreated", payload={"ids": [pm_entry.pk]}
    )

    webhook_receipt_process(receipt_id=receipt.pk)

    assert hub_entry(pm_entry).description == "From the hook"


def test_an_entry_deleted_in_pm_before_sending_leaves_the_hub_at_reconciliation(firm):
    """Actionstep announces no deletion of time: reconciliation finds it, and only PM's
    404 for the entry counts."""
    pm_entry = record_time(firm)
    kept = record_time(firm, description="Kept")
    sync_everything()
    entry = hub_entry(pm_entry)
    pm_services.time_entry_delete(pm_entry)

    counts = time_entries_reconcile()

    assert counts == {"read": 1, "changed": 0, "deleted": 1}
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()
    assert hub_entry(kept).description == "Kept"


def test_an_entry_deleted_in_pm_after_sending_is_kept_and_flagged(firm):
    pm_entry = record_time(firm)
    sync_everything()
    send(hub_entry(pm_entry))
    entry = hub_entry(pm_entry)
    pm_services.time_entry_delete(pm_entry)

    time_entries_reconcile()

    entry.refresh_from_db()
    assert entry.changed_after_sending is True
    assert entry.link.message.startswith("deleted in PM after sending")
    assert la.TimeEntry.objects.count() == 1


def test_an_entry_pm_still_has_is_never_deleted_on_a_deliverys_word(firm):
    pm_entry = record_time(firm)
    sync_everything()
    entry = hub_entry(pm_entry)
    # A delivery naming the entry (whatever its event) makes the hub read PM, which
    # still has it: nothing is deleted.
    receipt = WebhookReceipt.objects.create(
        system="pm", event="TimeEntryUpdated", payload={"ids": [str(pm_entry.pk)]}
    )

    webhook_receipt_process(receipt_id=receipt.pk)
    time_entries_reconcile()

    assert TimeEntry.objects.filter(pk=entry.pk).exists()


def test_an_edit_whose_resthook_was_lost_is_found_by_reconciliation(firm):
    pm_entry = record_time(firm, description="Drafting")
    sync_everything()
    pm.TimeEntry.objects.filter(pk=pm_entry.pk).update(description="Drafting and filing")

    counts = time_entries_reconcile()

    assert counts["changed"] == 1
    assert hub_entry(pm_entry).description == "Drafting and filing"


def test_sending_3_or_30_entries_costs_the_same_queries(firm, django_assert_max_num_queries):
    """One LA batch: the same queries whatever it holds (at most 100 entries)."""

    def queries_to_send(count: int) -> int:
        pm_entries = [record_time(firm, description=f"Drafting {n}") for n in range(count)]
        sync_everything()
        entries = [hub_entry(pm_entry) for pm_entry in pm_entries]
        with django_assert_max_num_queries(1000) as captured:
            _batch, results = send(*entries)
        assert {r.status for r in results} == {Status.SENT}
        return len(captured.captured_queries)

    assert queries_to_send(3) == queries_to_send(30)
    sent = TimeEntry.objects.select_related("link").filter(billing_status=Status.SENT)
    assert sent.count() == 33
    la_ids = {entry.link.la_id for entry in sent}
    assert la_ids == {str(pk) for pk in la.TimeEntry.objects.values_list("pk", flat=True)}
    assert all(entry.link.la_snapshot["billed"] is False for entry in sent)
