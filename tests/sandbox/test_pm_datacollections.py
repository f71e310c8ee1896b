"""The PM emulator's data collections, as Actionstep serves them
(docs/actionstep-fidelity.md; forsyteco's datacollection* schemas; Actionstep's demo
app), validated against
supplement.openapi.yml: collections per action type, fields with composite ids, one
record per action, string values with composite ids, and their resthooks."""

import functools
import json
from pathlib import Path

import pytest
import responses
import yaml
from jsonschema import Draft7Validator

from sandbox.pm import services
from sandbox.pm.models import (
    ActionType,
    DataCollection,
    DataCollectionRecord,
    DataCollectionRecordValue,
)

from .test_pm_support import (
    PM,
    action_type,
    body_of,
    errors_of,
    make_action,
    pointers_of,
    records_of,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

SUPPLEMENT = Path(services.__file__).parent / "openapi" / "supplement.openapi.yml"
PAGED = {
    "datacollections": "PagedDataCollections",
    "datacollectionfields": "PagedDataCollectionFields",
    "datacollectionrecords": "PagedDataCollectionRecords",
    "datacollectionrecordvalues": "PagedDataCollectionRecordValues",
}


@functools.cache
def components() -> dict:
    return yaml.safe_load(SUPPLEMENT.read_text())["components"]


def validate(instance, schema: str) -> None:
    validator = Draft7Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": components()}
    )
    problems = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert not problems, problems


def answer(response, resource: str) -> dict:
    """An answer's body, checked against the supplement's paged schema."""
    assert response.status_code == 200, response.content
    body = body_of(response)
    validate(json.loads(response.content), PAGED[resource])
    return body


def collection(pm, type_id: int, name: str = "Balances") -> dict:
    response = pm.post(
        "datacollections",
        {
            "datacollections": {
                "name": name,
                "description": "What the matter holds in accounting.",
                "label": "Legal Accounting balances",
                "links": {"actionType": str(type_id)},
            }
        },
    )
    return answer(response, "datacollections")["datacollections"]


def field(pm, collection_id, name: str, data_type: str = "Money") -> dict:
    response = pm.post(
        "datacollectionfields",
        {
            "datacollectionfields": {
                "name": name,
                "dataType": data_type,
                "label": name,
                "links": {"dataCollection": str(collection_id)},
            }
        },
    )
    return answer(response, "datacollectionfields")["datacollectionfields"]


def record(pm, collection_id, action_id):
    return pm.post(
        "datacollectionrecords",
        {
            "datacollectionrecords": {
                "links": {"action": action_id, "dataCollection": collection_id}
            }
        },
    )


TARGET = "http://hub.test/hook"


@pytest.fixture
def pm():
    return PM()


@pytest.fixture
def announced(django_capture_on_commit_callbacks):
    """Run `change()` as a committed transaction; the events the hooks delivered."""

    def run(change):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
            http.post(TARGET, status=200)
            with django_capture_on_commit_callbacks(using="sandbox", execute=True):
                result = change()
            events = [
                json.loads(call.request.body)["meta"]["debug"]["resthook"] for call in http.calls
            ]
            return result, sorted(event["event_name"] for event in events)

    return run


@pytest.fixture
def setup(pm):
    """A collection of the action type with two fields, and an action of that type."""
    kind = action_type()
    made = collection(pm, kind.pk)
    trust = field(pm, made["id"], "Trust")
    as_of = field(pm, made["id"], "AsOf", "DateTime")
    return {"collection": made, "fields": [trust, as_of], "action": make_action(), "type": kind}


def test_it_creates_a_collection_and_fields_with_composite_ids(pm, setup):
    made, (trust, as_of) = setup["collection"], setup["fields"]

    assert made["links"] == {"actionType": str(setup["type"].pk)}
    assert made["multipleRecords"] == "F"
    assert trust["id"] == f"{made['id']}--Trust"
    assert as_of["dataType"] == "DateTime"
    listed = answer(
        pm.get("datacollectionfields", {"dataCollection": made["id"]}), "datacollectionfields"
    )
    assert [row["id"] for row in records_of(listed, "datacollectionfields")] == [
        trust["id"],
        as_of["id"],
    ]
    one = answer(pm.get(f"datacollectionfields/{trust['id']}"), "datacollectionfields")
    assert one["datacollectionfields"]["name"] == "Trust"
    found = answer(
        pm.get("datacollections", {"name": "balances", "actionType": setup["type"].pk}),
        "datacollections",
    )
    assert found["datacollections"]["id"] == made["id"]


def test_a_collection_needs_a_name_a_description_and_an_action_type(pm):
    response = pm.post("datacollections", {"datacollections": {"name": "X"}})

    assert response.status_code == 500
    assert pointers_of(response) == {
        "/datacollections/description",
        "/datacollections/links/actionType",
    }


def test_a_field_name_is_fixed_once_created_and_its_type_is_checked(pm, setup):
    trust = setup["fields"][0]

    renamed = pm.put(
        f"datacollectionfields/{trust['id']}",
        {"datacollectionfields": {"name": "Other", "label": "Trust balance"}},
    )
    bad_type = pm.post(
        "datacollectionfields",
        {
            "datacollectionfields": {
                "name": "X",
                "dataType": "Float",
                "links": {"dataCollection": 1},
            }
        },
    )

    body = answer(renamed, "datacollectionfields")["datacollectionfields"]
    assert (body["name"], body["label"]) == ("Trust", "Trust balance")
    assert bad_type.status_code == 500
    assert "/datacollectionfields/dataType" in pointers_of(bad_type)


def test_a_record_is_made_with_an_empty_value_per_field_whose_ids_are_composite(pm, setup):
    made, action = setup["collection"], setup["action"]

    created = answer(record(pm, made["id"], action.pk), "datacollectionrecords")

    new = created["datacollectionrecords"]
    assert new["links"] == {"action": str(action.pk), "dataCollection": str(made["id"])}
    values = answer(
        pm.get("datacollectionrecordvalues", {"action": action.pk}), "datacollectionrecordvalues"
    )
    ids = [row["id"] for row in records_of(values, "datacollectionrecordvalues")]
    assert ids == [f"{made['id']}--Trust--{new['id']}", f"{made['id']}--AsOf--{new['id']}"]
    assert {row["stringValue"] for row in records_of(values, "datacollectionrecordvalues")} == {
        None
    }


def test_the_demo_apps_three_steps_write_a_value_and_fire_its_hooks(pm, setup, announced):
    """Find a value (none: 204), create the record, PUT the value on its composite id."""
    made, action = setup["collection"], setup["action"]
    for event in ("DataCollectionRecordValueUpdated", "DataCollectionRecordUpdated"):
        services.resthook_create(event_name=event, target_url=TARGET)

    assert (
        pm.get(
            "datacollectionrecords", {"dataCollection": made["id"], "action": action.pk}
        ).status_code
        == 204
    )
    record_id = body_of(record(pm, made["id"], action.pk))["datacollectionrecords"]["id"]
    value_id = f"{made['id']}--Trust--{record_id}"
    written, events = announced(
        lambda: pm.put(
            f"datacollectionrecordvalues/{value_id}",
            {"datacollectionrecordvalues": {"stringValue": "1250.50"}},
        )
    )

    value = answer(written, "datacollectionrecordvalues")["datacollectionrecordvalues"]
    assert value["stringValue"] == "1250.50"
    assert value["links"] == {
        "action": str(action.pk),
        "dataCollectionField": f"{made['id']}--Trust",
        "dataCollectionRecord": str(record_id),
        "dataCollection": str(made["id"]),
    }
    assert value["last_modified_by_user_id"] == pm_user_id(pm)
    assert events == ["DataCollectionRecordUpdated", "DataCollectionRecordValueUpdated"]


def test_the_same_value_again_changes_nothing_and_fires_nothing(pm, setup, announced):
    made, action = setup["collection"], setup["action"]
    record_id = body_of(record(pm, made["id"], action.pk))["datacollectionrecords"]["id"]
    value = DataCollectionRecordValue.objects.get(record_id=record_id, field__name="Trust")
    services.data_collection_value_update(value, string_value="10.00")
    before = DataCollectionRecordValue.objects.get(pk=value.pk).modified_at
    services.resthook_create(event_name="DataCollectionRecordUpdated", target_url=TARGET)

    _, events = announced(
        lambda: pm.put(
            f"datacollectionrecordvalues/{value.composite_id}",
            {"datacollectionrecordvalues": {"stringValue": "10.00"}},
        )
    )

    assert DataCollectionRecordValue.objects.get(pk=value.pk).modified_at == before
    assert events == []


def test_a_value_is_checked_against_its_data_type_and_must_be_given(pm, setup):
    made, action = setup["collection"], setup["action"]
    record_id = body_of(record(pm, made["id"], action.pk))["datacollectionrecords"]["id"]

    not_money = pm.put(
        f"datacollectionrecordvalues/{made['id']}--Trust--{record_id}",
        {"datacollectionrecordvalues": {"stringValue": "a lot"}},
    )
    not_a_time = pm.put(
        f"datacollectionrecordvalues/{made['id']}--AsOf--{record_id}",
        {"datacollectionrecordvalues": {"stringValue": "yesterday"}},
    )
    missing = pm.put(
        f"datacollectionrecordvalues/{made['id']}--AsOf--{record_id}",
        {"datacollectionrecordvalues": {}},
    )
    fine = pm.put(
        f"datacollectionrecordvalues/{made['id']}--AsOf--{record_id}",
        {"datacollectionrecordvalues": {"stringValue": "2026-03-02T14:05:00+13:00"}},
    )

    for refused in (not_money, not_a_time, missing):
        assert refused.status_code == 500
        assert pointers_of(refused) == {"/datacollectionrecordvalues/stringValue"}
    assert "Money" in errors_of(not_money)[0]["detail"]
    assert fine.status_code == 200


def test_one_record_per_action_and_only_on_an_action_of_the_collections_type(pm, setup):
    made, action = setup["collection"], setup["action"]
    assert record(pm, made["id"], action.pk).status_code == 200
    other_type = ActionType.objects.create(name="Data collection test type")
    elsewhere = make_action(action_type=other_type)

    twice = record(pm, made["id"], action.pk)
    wrong_type = record(pm, made["id"], elsewhere.pk)
    no_links = pm.post("datacollectionrecords", {"datacollectionrecords": {}})

    assert twice.status_code == wrong_type.status_code == 500
    assert "already has a record" in errors_of(twice)[0]["detail"]
    assert "belongs to action type" in errors_of(wrong_type)[0]["detail"]
    assert pointers_of(no_links) == {
        "/datacollectionrecords/links/action",
        "/datacollectionrecords/links/dataCollection",
    }
    assert DataCollectionRecord.objects.count() == 1


def test_a_value_can_be_posted_with_its_four_links_for_a_field_added_later(pm, setup):
    made, action = setup["collection"], setup["action"]
    record_id = body_of(record(pm, made["id"], action.pk))["datacollectionrecords"]["id"]
    DataCollectionRecordValue.objects.filter(record_id=record_id, field__name="Trust").delete()
    links = {
        "action": str(action.pk),
        "dataCollectionField": f"{made['id']}--Trust",
        "dataCollectionRecord": str(record_id),
        "dataCollection": str(made["id"]),
    }

    created = pm.post(
        "datacollectionrecordvalues",
        {"datacollectionrecordvalues": {"stringValue": "5", "links": links}},
    )
    again = pm.post(
        "datacollectionrecordvalues",
        {"datacollectionrecordvalues": {"stringValue": "6", "links": links}},
    )
    wrong = pm.post(
        "datacollectionrecordvalues",
        {"datacollectionrecordvalues": {"stringValue": "6", "links": {**links, "action": "999"}}},
    )
    later = field(pm, made["id"], "Currency", "Str255")

    assert (
        answer(created, "datacollectionrecordvalues")["datacollectionrecordvalues"]["stringValue"]
        == "5"
    )
    assert again.status_code == wrong.status_code == 500
    assert "PUT it" in errors_of(again)[0]["detail"]
    assert DataCollectionRecordValue.objects.filter(
        record_id=record_id, field__name=later["name"]
    ).exists()


def test_deleting_a_record_deletes_its_values_and_announces_it(pm, setup, announced):
    made, action = setup["collection"], setup["action"]
    record_id = body_of(record(pm, made["id"], action.pk))["datacollectionrecords"]["id"]
    services.resthook_create(event_name="DataCollectionRecordDeleted", target_url=TARGET)

    response, events = announced(lambda: pm.delete(f"datacollectionrecords/{record_id}"))

    assert response.status_code == 204
    assert not DataCollectionRecordValue.objects.filter(record_id=record_id).exists()
    assert events == ["DataCollectionRecordDeleted"]
    value_id = f"{made['id']}--Trust--{record_id}"
    assert pm.delete(f"datacollectionrecordvalues/{value_id}").status_code == 405


def test_values_include_their_fields_as_the_demo_app_reads_them(pm, setup):
    made, action = setup["collection"], setup["action"]
    record(pm, made["id"], action.pk)

    body = answer(
        pm.get(
            "datacollectionrecordvalues", {"action": action.pk, "include": "dataCollectionField"}
        ),
        "datacollectionrecordvalues",
    )

    assert [row["id"] for row in body["linked"]["datacollectionfields"]] == [
        f"{made['id']}--Trust",
        f"{made['id']}--AsOf",
    ]


def test_a_token_without_the_data_collection_scopes_is_refused():
    limited = PM(scopes=("actions",))

    response = limited.get("datacollections")

    assert response.status_code == 403
    assert DataCollection.objects.count() == 0


def pm_user_id(pm) -> int:
    return body_of(pm.get("users/current"))["users"]["id"]


def test_the_sandbox_admin_shows_collections_records_and_an_action_s_values(
    admin_client, pm, setup
):
    from django.urls import reverse

    made, action = setup["collection"], setup["action"]
    record_id = body_of(record(pm, made["id"], action.pk))["datacollectionrecords"]["id"]
    value = DataCollectionRecordValue.objects.get(record_id=record_id, field__name="Trust")
    services.data_collection_value_update(value, string_value="321.00")

    pages = [
        reverse("sandbox_admin:sandbox_pm_datacollection_changelist"),
        reverse("sandbox_admin:sandbox_pm_datacollection_change", args=[made["id"]]),
        reverse("sandbox_admin:sandbox_pm_datacollectionrecord_changelist"),
        reverse("sandbox_admin:sandbox_pm_datacollectionrecord_change", args=[record_id]),
    ]
    for url in pages:
        assert admin_client.get(url).status_code == 200, url
    action_page = admin_client.get(
        reverse("sandbox_admin:sandbox_pm_action_change", args=[action.pk])
    )
    assert "<strong>Trust</strong>: 321.00" in action_page.content.decode()
