from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from sandbox.la.models import TimeEntry

from .test_la_support import LA, make_fee_earner, make_file, make_time_entry

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def la():
    return LA()


@pytest.fixture
def file():
    return make_file()


@pytest.fixture
def ann():
    return make_fee_earner()


def entry(on, by, **fields) -> dict:
    return {
        "file": on.pk,
        "fee_earner": by.pk,
        "date": "2025-03-03",
        "description": "Drafting",
        "hours": "1.50",
        "rate": "200.00",
        **fields,
    }


def test_it_creates_valid_items_and_names_the_field_of_each_invalid_one(la, file, ann):
    entries = [
        entry(file, ann, external_id="pm-1"),
        entry(file, ann, file=999, external_id="pm-2"),
        entry(file, ann, fee_earner=999, external_id="pm-3"),
        entry(file, ann, hours="lots", external_id="pm-4"),
        entry(file, ann, external_id="pm-5", billing_behaviour="no_charge", amount="0.00"),
    ]

    response = la.post("time-entries/batch", {"entries": entries})

    results = response.json()["results"]
    assert response.status_code == 200
    assert [result["index"] for result in results] == [0, 1, 2, 3, 4]
    assert [result["status"] for result in results] == [
        "created",
        "error",
        "error",
        "error",
        "created",
    ]
    assert [result["error"]["field"] for result in results[1:4]] == ["file", "fee_earner", "hours"]
    assert results[1]["error"] == {
        "code": "does_not_exist",
        "message": "no file has id 999",
        "field": "file",
    }
    assert results[1]["id"] is None
    created = TimeEntry.objects.order_by("pk")
    assert [e.external_id for e in created] == ["pm-1", "pm-5"]
    assert [e.pk for e in created] == [results[0]["id"], results[4]["id"]]


def test_it_prices_an_entry_without_an_amount_at_hours_times_rate(la, file, ann):
    item = entry(file, ann, hours="0.3333", rate="300.00", external_id="pm-1")

    result = la.post("time-entries/batch", {"entries": [item]}).json()["results"][0]

    created = la.get(f"time-entries/{result['id']}").json()
    assert created["hours"] == "0.33"
    assert created["amount"] == "99.00"
    assert created["status"] == "unbilled"
    assert created["billing_behaviour"] == "bill"


def test_it_answers_exists_for_an_external_id_it_already_has_and_creates_nothing(la, file, ann):
    first = la.post("time-entries/batch", {"entries": [entry(file, ann, external_id="pm-1")]})
    original = first.json()["results"][0]["id"]

    again = la.post(
        "time-entries/batch",
        {"entries": [entry(file, ann, external_id="pm-1"), entry(file, ann, external_id="pm-2")]},
    )

    results = again.json()["results"]
    assert results[0] == {"index": 0, "status": "exists", "id": original, "error": None}
    assert results[1]["status"] == "created"
    assert TimeEntry.objects.count() == 2


def test_it_creates_an_external_id_repeated_within_one_batch_once(la, file, ann):
    items = [entry(file, ann, external_id="pm-1"), entry(file, ann, external_id="pm-1")]

    results = la.post("time-entries/batch", {"entries": items}).json()["results"]

    assert [result["status"] for result in results] == ["created", "exists"]
    assert results[0]["id"] == results[1]["id"]
    assert TimeEntry.objects.count() == 1


def test_it_refuses_a_batch_of_more_than_100_entries(la, file, ann):
    items = [entry(file, ann, external_id=f"pm-{n}") for n in range(101)]

    response = la.post("time-entries/batch", {"entries": items})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "entries"
    assert response.json()["error"]["code"] == "too_many"
    assert not TimeEntry.objects.exists()


def test_it_accepts_a_batch_of_exactly_100_entries(la, file, ann):
    items = [entry(file, ann, external_id=f"pm-{n}") for n in range(100)]

    response = la.post("time-entries/batch", {"entries": items})

    assert response.status_code == 200
    assert TimeEntry.objects.count() == 100


def test_it_refuses_a_batch_without_a_list_of_entries(la):
    response = la.post("time-entries/batch", {"entries": {"file": 1}})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "entries"


def test_it_changes_an_unbilled_entry_and_reprices_it(la, file, ann):
    time_entry = make_time_entry(file, ann)
    before = time_entry.modified_at

    response = la.patch(f"time-entries/{time_entry.pk}", {"hours": "2.00"})

    assert response.status_code == 200
    assert response.json()["hours"] == "2.00"
    assert response.json()["amount"] == "400.00"
    time_entry.refresh_from_db()
    assert time_entry.modified_at > before


def test_it_locks_a_billed_entry_against_change_and_deletion(la, file, ann):
    time_entry = make_time_entry(file, ann)
    invoice = la.post(f"files/{file.pk}/bill").json()

    patched = la.patch(f"time-entries/{time_entry.pk}", {"hours": "9.00"})
    deleted = la.delete(f"time-entries/{time_entry.pk}")

    for response in [patched, deleted]:
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "locked"
        assert response.json()["error"]["invoice"]["number"] == invoice["number"]
    time_entry.refresh_from_db()
    assert time_entry.hours == Decimal("1.50")


def test_it_deletes_an_unbilled_entry(la, file, ann):
    time_entry = make_time_entry(file, ann)

    response = la.delete(f"time-entries/{time_entry.pk}")

    assert response.status_code == 204
    assert not TimeEntry.objects.exists()


def test_it_filters_time_entries_by_file_external_id_and_status(la, ann):
    billed_file, open_file = make_file(), make_file()
    billed = make_time_entry(billed_file, ann, external_id="pm-1")
    la.post(f"files/{billed_file.pk}/bill")
    unbilled = make_time_entry(open_file, ann, external_id="pm-2")

    def ids(**params):
        return [result["id"] for result in la.get("time-entries", **params).json()["results"]]

    assert ids(file=open_file.pk) == [unbilled.pk]
    assert ids(external_id="pm-1") == [billed.pk]
    assert ids(status="billed") == [billed.pk]
    assert ids(status="unbilled") == [unbilled.pk]
    assert la.get("time-entries", status="lost").status_code == 400


def test_billing_moves_an_entry_into_modified_since(la, file, ann):
    time_entry = make_time_entry(file, ann)
    TimeEntry.objects.filter(pk=time_entry.pk).update(modified_at="2020-01-01T00:00:00Z")
    assert la.get("time-entries", modified_since="2024-01-01").json()["count"] == 0

    la.post(f"files/{file.pk}/bill")

    results = la.get("time-entries", modified_since="2024-01-01").json()["results"]
    assert [result["id"] for result in results] == [time_entry.pk]
    assert results[0]["status"] == "billed"


def test_the_time_entry_list_costs_the_same_queries_for_3_and_30_entries(la, file, ann):
    def queries_for(count: int) -> int:
        TimeEntry.objects.all().delete()
        for _ in range(count):
            make_time_entry(file, ann)
        with CaptureQueriesContext(connections["sandbox"]) as captured:
            assert len(la.get("time-entries").json()["results"]) == count
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_it_answers_exists_for_a_known_external_id_even_if_the_item_is_now_invalid(la, file, ann):
    original = make_time_entry(file, ann, external_id="pm-1")

    item = entry(file, ann, external_id="pm-1", hours="lots")
    results = la.post("time-entries/batch", {"entries": [item]}).json()["results"]

    assert results == [{"index": 0, "status": "exists", "id": original.pk, "error": None}]


def test_it_answers_an_item_that_is_not_an_object_with_an_error(la, file, ann):
    items = ["pm-1", entry(file, ann)]

    results = la.post("time-entries/batch", {"entries": items}).json()["results"]

    assert results[0]["status"] == "error"
    assert results[0]["error"]["field"] is None
    assert results[1]["status"] == "created"
