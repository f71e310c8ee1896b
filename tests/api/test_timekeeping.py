"""/api/v1/timekeepers/ and /api/v1/time-entries/: read-only lists and details."""

import pytest

from sync.models import LinkStatus
from tests.factories import TimeEntryFactory, TimeEntryLinkFactory, TimekeeperFactory

from .conftest import ids, queries_for

pytestmark = pytest.mark.django_db

TIMEKEEPERS = "/api/v1/timekeepers/"
ENTRIES = "/api/v1/time-entries/"
VIEW_TIMEKEEPER = "timekeeping.view_timekeeper"
VIEW_ENTRY = "timekeeping.view_timeentry"


def test_it_lists_timekeepers_with_their_ids_in_both_systems(api_with):
    lawyer = TimekeeperFactory(name="Sam Law", pm_user_id="39", la_fee_earner_id="FE-1")

    response = api_with(VIEW_TIMEKEEPER).get(TIMEKEEPERS)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": lawyer.pk,
            "name": "Sam Law",
            "email": lawyer.email,
            "pm_user_id": "39",
            "la_fee_earner_id": "FE-1",
            "active": True,
        }
    ]


def test_it_shows_one_timekeeper(api_with):
    lawyer = TimekeeperFactory()

    response = api_with(VIEW_TIMEKEEPER).get(f"{TIMEKEEPERS}{lawyer.pk}/")

    assert response.status_code == 200
    assert response.json()["email"] == lawyer.email


def test_timekeepers_are_read_only(api_with):
    lawyer = TimekeeperFactory()
    client = api_with(
        VIEW_TIMEKEEPER, "timekeeping.add_timekeeper", "timekeeping.change_timekeeper"
    )

    created = client.post(TIMEKEEPERS, {"name": "X", "email": "x@example.com"}, format="json")
    changed = client.patch(f"{TIMEKEEPERS}{lawyer.pk}/", {"name": "X"}, format="json")

    assert created.status_code == 405
    assert changed.status_code == 405
    assert created.json()["error"]["code"] == "method_not_allowed"


def test_reading_timekeepers_needs_the_view_permission(api, api_with):
    assert api.get(TIMEKEEPERS).status_code == 401
    assert api_with(VIEW_ENTRY).get(TIMEKEEPERS).status_code == 403
    assert api_with(VIEW_TIMEKEEPER).get(TIMEKEEPERS).status_code == 200


def test_listing_timekeepers_costs_the_same_queries_for_3_or_30(api_with):
    client = api_with(VIEW_TIMEKEEPER)
    TimekeeperFactory.create_batch(3)
    few = queries_for(client, TIMEKEEPERS)

    TimekeeperFactory.create_batch(27)
    many = queries_for(client, TIMEKEEPERS)

    assert few == many


def test_it_lists_time_entries_with_matter_timekeeper_and_link(api_with):
    link = TimeEntryLinkFactory(status=LinkStatus.SYNCED)
    entry = link.time_entry

    response = api_with(VIEW_ENTRY).get(ENTRIES)

    assert response.status_code == 200
    row = response.json()["results"][0]
    assert row["id"] == entry.pk
    assert row["matter"] == {
        "id": entry.matter_id,
        "name": entry.matter.name,
        "file_reference": entry.matter.file_reference,
    }
    assert row["timekeeper"]["email"] == entry.timekeeper.email
    assert row["billable_hours"] == "1.50"
    assert row["amount"] == "450.00"
    assert row["billing_behaviour"] == "bill"
    assert row["billing_status"] == "unsent"
    assert row["link"]["status"] == "synced"
    assert row["link"]["pm_id"] == link.pm_id


def test_a_time_entry_with_no_link_yet_shows_an_unsynced_link_block(api_with):
    entry = TimeEntryFactory()

    response = api_with(VIEW_ENTRY).get(f"{ENTRIES}{entry.pk}/")

    assert response.status_code == 200
    assert response.json()["link"]["status"] == "unsynced"
    assert response.json()["link"]["la_id"] is None


def test_time_entries_filter_by_link_status_error_code_and_system(api_with):
    failed = TimeEntryLinkFactory(
        status=LinkStatus.ERROR, error_code="timekeeper_not_in_la", la_id=None
    ).time_entry
    synced = TimeEntryLinkFactory(status=LinkStatus.SYNCED).time_entry
    unlinked = TimeEntryFactory()
    client = api_with(VIEW_ENTRY)

    assert ids(client.get(ENTRIES, {"link_status": "error"})) == {failed.pk}
    assert ids(client.get(ENTRIES, {"link_status": "unsynced"})) == {unlinked.pk}
    assert ids(client.get(ENTRIES, {"error_code": "timekeeper_not_in_la"})) == {failed.pk}
    assert ids(client.get(ENTRIES, {"system": "pm"})) == {failed.pk, synced.pk}
    assert ids(client.get(ENTRIES, {"system": "la"})) == {synced.pk}


def test_an_unknown_time_entry_filter_value_is_a_400_naming_the_parameter(api_with):
    response = api_with(VIEW_ENTRY).get(ENTRIES, {"link_status": "green"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"].keys() == {"link_status"}


def test_time_entries_are_read_only_for_now(api_with):
    entry = TimeEntryFactory()
    client = api_with(VIEW_ENTRY, "timekeeping.add_timeentry", "timekeeping.change_timeentry")

    assert client.post(ENTRIES, {}, format="json").status_code == 405
    assert client.patch(f"{ENTRIES}{entry.pk}/", {}, format="json").status_code == 405


def test_reading_time_entries_needs_the_view_permission(api, api_with):
    entry = TimeEntryFactory()

    assert api.get(ENTRIES).status_code == 401
    assert api_with(VIEW_TIMEKEEPER).get(ENTRIES).status_code == 403
    assert api_with(VIEW_TIMEKEEPER).get(f"{ENTRIES}{entry.pk}/").status_code == 403
    assert api_with(VIEW_ENTRY).get(f"{ENTRIES}{entry.pk}/").status_code == 200


def test_listing_time_entries_costs_the_same_queries_for_3_or_30(api_with):
    client = api_with(VIEW_ENTRY)
    TimeEntryLinkFactory.create_batch(2)
    TimeEntryFactory()
    few = queries_for(client, ENTRIES)

    TimeEntryLinkFactory.create_batch(17)
    TimeEntryFactory.create_batch(10)
    many = queries_for(client, ENTRIES)

    assert few == many
