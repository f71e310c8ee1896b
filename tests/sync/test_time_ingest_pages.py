"""A page of PM time entries new to the hub is taken in with a fixed number of queries,
whatever its size; the rest of the page still goes one by one (sync/services/
time_entries.py). Found by benchmarks/backfill.py: seven queries per entry made the
first poll of a firm's time the slowest part of a backfill."""

import pytest

from sync.models import Link, LinkStatus, RecordType
from sync.services.time_entries import time_entries_ingest
from tests.factories import MatterLinkFactory, TimekeeperFactory
from timekeeping.models import TimeEntry

pytestmark = pytest.mark.django_db


def pm_entry(pm_id: int, *, action: str, owner: str, hours: str = "1.50") -> dict:
    return {
        "id": pm_id,
        "timestampDate": "2026-02-01",
        "description": f"Drafting {pm_id}",
        "actualHours": hours,
        "billableHours": hours,
        "rateUnitPrice": "300.00",
        "billableAmount": "450.00",
        "billingBehavior": "Bill",
        "links": {"action": int(action), "owner": int(owner)},
    }


@pytest.fixture
def known():
    matter_link = MatterLinkFactory(pm_id="77")
    timekeeper = TimekeeperFactory(pm_user_id="9")
    return matter_link, timekeeper


def queries_for(size, start, django_assert_max_num_queries, known) -> int:
    raws = [pm_entry(start + n, action="77", owner="9") for n in range(size)]
    with django_assert_max_num_queries(1000) as captured:
        time_entries_ingest(raws=raws)
    return len(captured.captured_queries)


def test_a_page_of_new_entries_costs_the_same_queries_at_3_and_at_30(
    django_assert_max_num_queries, known
):
    at_three = queries_for(3, 100, django_assert_max_num_queries, known)
    at_thirty = queries_for(30, 200, django_assert_max_num_queries, known)

    assert at_three == at_thirty
    assert TimeEntry.objects.count() == 33


def test_new_entries_arrive_unsent_and_gray_with_their_pm_values(known):
    matter_link, timekeeper = known

    time_entries_ingest(raws=[pm_entry(5, action="77", owner="9", hours="2.25")])

    link = Link.objects.get(record_type=RecordType.TIME_ENTRY, pm_id="5")
    entry = link.time_entry
    assert (entry.matter_id, entry.timekeeper_id) == (matter_link.matter_id, timekeeper.pk)
    assert str(entry.billable_hours) == "2.25"
    assert entry.billing_status == TimeEntry.BillingStatus.UNSENT
    assert link.status == LinkStatus.UNSYNCED
    assert link.pm_snapshot["billable_hours"] == "2.25"


def test_a_known_entry_in_the_page_follows_the_correction_rule(known):
    time_entries_ingest(raws=[pm_entry(5, action="77", owner="9")])

    time_entries_ingest(
        raws=[
            pm_entry(5, action="77", owner="9", hours="3.00"),
            pm_entry(6, action="77", owner="9"),
        ]
    )

    assert TimeEntry.objects.count() == 2
    assert str(Link.objects.get(pm_id="5", record_type="time_entry").time_entry.billable_hours) == (
        "3.00"
    )
