"""/api/v1/links/ and /api/v1/sync-events/: the links and their history, read-only."""

import pytest

from sync.models import LinkStatus, SyncEvent
from tests.factories import (
    ContactLinkFactory,
    MatterLinkFactory,
    SyncEventFactory,
    TimeEntryLinkFactory,
)

from .conftest import ids, queries_for

pytestmark = pytest.mark.django_db

LINKS = "/api/v1/links/"
EVENTS = "/api/v1/sync-events/"
VIEW_LINK = "sync.view_link"
VIEW_EVENT = "sync.view_syncevent"


def test_it_lists_links_with_their_record_and_indicator(api_with):
    link = MatterLinkFactory(
        status=LinkStatus.ERROR, error_code="already_assigned", message="number taken"
    )

    response = api_with(VIEW_LINK).get(LINKS)

    assert response.status_code == 200
    row = response.json()["results"][0]
    assert row["id"] == link.pk
    assert row["record_type"] == "matter"
    assert row["record_id"] == link.matter_id
    assert row["record_name"] == str(link.matter)
    assert row["status"] == "error"
    assert row["error_code"] == "already_assigned"
    assert row["message"] == "number taken"
    assert (row["pm_id"], row["la_id"]) == (link.pm_id, link.la_id)


def test_it_shows_one_link(api_with):
    link = TimeEntryLinkFactory()

    response = api_with(VIEW_LINK).get(f"{LINKS}{link.pk}/")

    assert response.status_code == 200
    assert response.json()["record_type"] == "time_entry"
    assert response.json()["record_id"] == link.time_entry_id


def test_links_filter_by_record_type(api_with):
    contact_link = ContactLinkFactory()
    MatterLinkFactory()
    TimeEntryLinkFactory()

    assert ids(api_with(VIEW_LINK).get(LINKS, {"record_type": "contact"})) == {contact_link.pk}


def test_links_filter_by_link_status_error_code_and_system(api_with):
    failed = ContactLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned", la_id=None)
    waiting = MatterLinkFactory(status=LinkStatus.UNSYNCED, pm_id=None, la_id=None)
    synced = TimeEntryLinkFactory(status=LinkStatus.SYNCED)
    client = api_with(VIEW_LINK)

    assert ids(client.get(LINKS, {"link_status": "error"})) == {failed.pk}
    assert ids(client.get(LINKS, {"link_status": "unsynced"})) == {waiting.pk}
    assert ids(client.get(LINKS, {"error_code": "already_assigned"})) == {failed.pk}
    assert ids(client.get(LINKS, {"system": "pm"})) == {failed.pk, synced.pk}
    assert ids(client.get(LINKS, {"system": "la"})) == {synced.pk}


@pytest.mark.parametrize(
    ("name", "value"), [("record_type", "invoice"), ("link_status", "red"), ("system", "x")]
)
def test_an_unknown_link_filter_value_is_a_400_naming_the_parameter(api_with, name, value):
    response = api_with(VIEW_LINK).get(LINKS, {name: value})

    assert response.status_code == 400
    assert response.json()["error"]["fields"].keys() == {name}


def test_links_are_read_only(api_with):
    link = ContactLinkFactory()
    client = api_with(VIEW_LINK, "sync.change_link", "sync.add_link", "sync.delete_link")

    assert client.post(LINKS, {}, format="json").status_code == 405
    assert client.patch(f"{LINKS}{link.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"{LINKS}{link.pk}/").status_code == 405


def test_reading_links_needs_the_view_permission(api, api_with):
    link = ContactLinkFactory()

    assert api.get(LINKS).status_code == 401
    assert api_with("contacts.view_contact").get(LINKS).status_code == 403
    assert api_with("contacts.view_contact").get(f"{LINKS}{link.pk}/").status_code == 403
    assert api_with(VIEW_LINK).get(f"{LINKS}{link.pk}/").status_code == 200


def test_listing_links_costs_the_same_queries_for_3_or_30(api_with):
    client = api_with(VIEW_LINK)
    ContactLinkFactory()
    MatterLinkFactory()
    TimeEntryLinkFactory()
    few = queries_for(client, LINKS)

    ContactLinkFactory.create_batch(9)
    MatterLinkFactory.create_batch(9)
    TimeEntryLinkFactory.create_batch(9)
    many = queries_for(client, LINKS)

    assert few == many


def test_it_lists_sync_events_newest_first(api_with):
    older = SyncEventFactory(message="first")
    newer = SyncEventFactory(link=older.link, outcome=SyncEvent.Outcome.ERROR, message="second")

    response = api_with(VIEW_EVENT).get(EVENTS)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [newer.pk, older.pk]
    assert rows[0] == {
        "id": newer.pk,
        "link": older.link_id,
        "record_type": "contact",
        "occurred_at": rows[0]["occurred_at"],
        "direction": "pm_to_la",
        "action": "create",
        "outcome": "error",
        "message": "second",
        "duration_ms": 42,
        "details": {},
    }


def test_it_shows_one_sync_event(api_with):
    event = SyncEventFactory()

    response = api_with(VIEW_EVENT).get(f"{EVENTS}{event.pk}/")

    assert response.status_code == 200
    assert response.json()["message"] == event.message


def test_sync_events_filter_by_link_and_outcome(api_with):
    mine = SyncEventFactory(outcome=SyncEvent.Outcome.RETRY)
    mine_too = SyncEventFactory(link=mine.link, outcome=SyncEvent.Outcome.SUCCESS)
    other = SyncEventFactory(outcome=SyncEvent.Outcome.RETRY)
    client = api_with(VIEW_EVENT)

    assert ids(client.get(EVENTS, {"link": mine.link_id})) == {mine.pk, mine_too.pk}
    assert ids(client.get(EVENTS, {"outcome": "retry"})) == {mine.pk, other.pk}
    assert ids(client.get(EVENTS, {"link": mine.link_id, "outcome": "retry"})) == {mine.pk}


@pytest.mark.parametrize(("name", "value"), [("link", "abc"), ("link", "0"), ("outcome", "meh")])
def test_an_unknown_sync_event_filter_value_is_a_400_naming_the_parameter(api_with, name, value):
    response = api_with(VIEW_EVENT).get(EVENTS, {name: value})

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{name}: ")


def test_reading_sync_events_needs_the_view_permission(api, api_with):
    assert api.get(EVENTS).status_code == 401
    assert api_with(VIEW_LINK).get(EVENTS).status_code == 403
    assert api_with(VIEW_EVENT).get(EVENTS).status_code == 200


def test_listing_sync_events_costs_the_same_queries_for_3_or_30(api_with):
    client = api_with(VIEW_EVENT)
    SyncEventFactory.create_batch(3)
    few = queries_for(client, EVENTS)

    SyncEventFactory.create_batch(27)
    many = queries_for(client, EVENTS)

    assert few == many
