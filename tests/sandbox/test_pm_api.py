"""The PM emulator's REST API over HTTP: envelopes, paging, filters, records and rules."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from sandbox.pm.models import Action, Participant, RestHook, TimeEntry

from .test_pm_support import (
    PM,
    action_type,
    assert_matches_schema,
    body_of,
    make_action,
    make_participant,
    make_time_entry,
    make_user,
    sandbox_queries,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def pm():
    return PM()


@pytest.fixture
def many_participants():
    Participant.objects.bulk_create(
        Participant(first_name="Client", last_name=f"Number{n}", display_name=f"Number{n}, Client")
        for n in range(450)
    )


# Envelope and paging -----------------------------------------------------------------


def test_it_lists_participants_in_the_actionstep_envelope(pm):
    make_participant(last_name="Bond", first_name="James", reference="C-1")
    make_participant(company_name="Acme Ltd", is_company=True, first_name="", last_name="")

    response = pm.get("participants")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.api+json"
    body = body_of(response)
    assert set(body) == {"links", "participants", "linked", "meta"}
    assert [p["displayName"] for p in body["participants"]] == ["Bond, James", "Acme Ltd"]
    assert body["participants"][0]["reference"] == "C-1"
    assert body["participants"][1]["isCompany"] == "T"
    assert body["meta"]["paging"]["participants"] == {
        "recordCount": 2,
        "pageCount": 1,
        "page": 1,
        "pageSize": 50,
        "prevPage": None,
        "nextPage": None,
    }
    assert_matches_schema(body, "participants")


def test_it_pages_450_participants_in_three_pages_of_200(pm, many_participants):
    pages, ids = [], []
    response = pm.get("participants", {"pageSize": 200})
    while True:
        body = body_of(response)
        paging = body["meta"]["paging"]["participants"]
        pages.append(paging)
        ids += [record["id"] for record in body["participants"]]
        if not paging["nextPage"]:
            break
        response = pm.http.get(paging["nextPage"])

    assert [paging["page"] for paging in pages] == [1, 2, 3]
    assert {paging["recordCount"] for paging in pages} == {450}
    assert {paging["pageCount"] for paging in pages} == {3}
    assert len(ids) == len(set(ids)) == 450
    assert pages[0]["nextPage"].startswith("http://testserver/sandbox/pm/api/rest/participants?")
    assert "page=2" in pages[0]["nextPage"] and "pageSize=200" in pages[0]["nextPage"]
    assert "page=1" in pages[1]["prevPage"]
    assert pages[2]["nextPage"] is None


def test_it_clamps_a_page_size_over_200_to_200(pm, many_participants):
    body = body_of(pm.get("participants", {"pageSize": 1000}))

    assert len(body["participants"]) == 200
    assert body["meta"]["paging"]["participants"]["pageSize"] == 200
    assert body["meta"]["paging"]["participants"]["pageCount"] == 3


@pytest.mark.parametrize("params", [{"pageSize": 0}, {"page": "two"}, {"page": -1}])
def test_it_rejects_a_page_or_page_size_that_is_not_a_positive_number(pm, params):
    response = pm.get("participants", params)

    assert response.status_code == 400
    assert body_of(response)["error"]["field"] == next(iter(params))


def test_it_answers_an_empty_list_past_the_last_page(pm):
    make_participant()

    body = body_of(pm.get("participants", {"page": 5}))

    assert body["participants"] == []
    assert body["meta"]["paging"]["participants"]["recordCount"] == 1
    assert body["meta"]["paging"]["participants"]["prevPage"].endswith("page=4")


def test_it_sorts_by_modified_timestamp_descending_on_request(pm):
    older, newer = make_participant(last_name="Older"), make_participant(last_name="Newer")
    Participant.objects.filter(pk=older.pk).update(modified_at=timezone.now())

    body = body_of(pm.get("participants", {"sort": "-modifiedTimestamp"}))

    assert [p["id"] for p in body["participants"]] == [older.pk, newer.pk]


# Filters -----------------------------------------------------------------------------


def test_it_filters_by_modified_timestamp_gt(pm):
    old, recent = make_participant(last_name="Old"), make_participant(last_name="Recent")
    cursor = datetime.datetime(2025, 1, 31, 9, 0, tzinfo=datetime.UTC)
    Participant.objects.filter(pk=old.pk).update(modified_at=cursor - datetime.timedelta(hours=1))
    Participant.objects.filter(pk=recent.pk).update(
        modified_at=cursor + datetime.timedelta(seconds=1)
    )

    encoded = body_of(pm.get("participants", {"modifiedTimestamp_gt": "2025-01-31T09:00:00+00:00"}))
    unencoded_plus = body_of(
        pm.http.get(
            "/sandbox/pm/api/rest/participants?modifiedTimestamp_gt=2025-01-31T09:00:00+00:00"
        )
    )
    zulu = body_of(pm.get("participants", {"modifiedTimestamp_gt": "2025-01-31T09:00:00Z"}))

    for body in (encoded, unencoded_plus, zulu):
        assert [p["id"] for p in body["participants"]] == [recent.pk]


def test_it_rejects_a_modified_timestamp_filter_that_is_not_a_timestamp(pm):
    response = pm.get("participants", {"modifiedTimestamp_gt": "yesterday"})

    assert response.status_code == 400
    assert body_of(response)["error"]["field"] == "modifiedTimestamp_gt"


def test_it_filters_participants_by_reference_email_and_import_external_reference(pm):
    wanted = make_participant(
        reference="C-42", email="Jane@Example.com", import_external_reference="HUB-1"
    )
    make_participant(reference="C-43", email="other@example.com", import_external_reference="HUB-2")
    blank = make_participant(reference="")

    by_reference = body_of(pm.get("participants", {"reference": "C-42"}))
    by_email = body_of(pm.get("participants", {"email": "jane@example.com"}))
    by_import = body_of(pm.get("participants", {"importExternalReference": "HUB-1"}))
    without_reference = body_of(pm.get("participants", {"reference": ""}))

    for body in (by_reference, by_email, by_import):
        assert [p["id"] for p in body["participants"]] == [wanted.pk]
    assert [p["id"] for p in without_reference["participants"]] == [blank.pk]


def test_it_refuses_an_unknown_filter_parameter(pm):
    response = pm.get("participants", {"refrence": "C-1"})

    assert response.status_code == 400
    assert body_of(response)["error"]["fields"] == {"refrence": ["Unknown parameter."]}


# Detail paths ------------------------------------------------------------------------


def test_it_answers_one_object_for_one_id_and_a_list_for_several(pm):
    first, second, third = (make_participant(last_name=name) for name in ("A", "B", "C"))

    one = body_of(pm.get(f"participants/{second.pk}"))
    several = body_of(pm.get(f"participants/{first.pk},{second.pk},{third.pk}"))

    assert isinstance(one["participants"], dict)
    assert one["participants"]["id"] == second.pk
    assert_matches_schema(one, "participants")
    assert [p["id"] for p in several["participants"]] == [first.pk, second.pk, third.pk]
    assert several["meta"]["paging"]["participants"]["recordCount"] == 3
    assert_matches_schema(several, "participants")


def test_it_leaves_unknown_ids_out_of_a_list_and_answers_404_when_none_exists(pm):
    known = make_participant()

    partial = body_of(pm.get(f"participants/{known.pk},999999"))
    missing = pm.get("participants/999998,999999")
    not_a_number = pm.get("participants/abc")

    assert [p["id"] for p in partial["participants"]] == [known.pk]
    assert missing.status_code == 404
    assert body_of(missing)["error"]["code"] == "not_found"
    assert not_a_number.status_code == 404


def test_it_answers_json_404_for_an_unknown_resource(pm):
    response = pm.get("matters")

    assert response.status_code == 404
    assert body_of(response)["error"]["code"] == "not_found"


def test_it_accepts_a_trailing_slash(pm):
    participant = make_participant()

    assert pm.get("participants/").status_code == 200
    assert pm.get(f"participants/{participant.pk}/").status_code == 200


def test_the_index_lists_every_resource(pm):
    body = body_of(pm.http.get("/sandbox/pm/api/rest/"))

    assert body["links"]["participants"] == "http://testserver/sandbox/pm/api/rest/participants"
    assert {"actions", "actioncreate", "timeentries", "users", "resthooks"} <= set(body["links"])


# Participants ------------------------------------------------------------------------

JAMES_BOND = {
    "salutation": "Mr",
    "firstName": "James",
    "middleName": "Herbert",
    "lastName": "Bond",
    "suffix": "Jnr",
    "preferredName": "007",
    "reference": "C-007",
    "email": "james.bond@example.com",
    "physicalAddressLine1": "85 Albert Embankment",
    "physicalCity": "London",
    "physicalPostCode": "SE1 7TP",
    "mailingAddressLine1": "PO Box 7",
    "mailingCity": "London",
    "phone1Label": "Business",
    "phone1Country": 44,
    "phone1Area": 20,
    "phone1Number": "7930 9000",
    "phone2Label": "Mobile",
    "phone2Number": "7700 900007",
    "fax": "20 7930 9001",
    "importExternalReference": "HUB-C-1",
    "links": {"physicalCountry": "GB", "mailingCountry": "GB"},
}


def test_it_creates_a_participant_from_an_actionstep_wrapped_body(pm):
    response = pm.post("participants", {"participants": JAMES_BOND})

    assert response.status_code == 200
    body = body_of(response)
    record = body["participants"]
    assert_matches_schema(body, "participants")
    stored = Participant.objects.get(pk=record["id"])
    assert record["displayName"] == "Bond, James"
    assert record["displayInitials"] == "JB"
    assert record["links"] == {"physicalCountry": "GB", "mailingCountry": "GB"}
    assert record["phone1Country"] == 44 and record["phone3Number"] is None
    assert (stored.reference, stored.preferred_name, stored.phone2_label) == (
        "C-007",
        "007",
        "Mobile",
    )
    assert record["modifiedTimestamp"] == record["createdTimestamp"]


def test_it_accepts_a_bare_application_json_body(pm):
    response = pm.post(
        "participants",
        {"companyName": "Acme Ltd", "isCompany": "T"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert body_of(response)["participants"]["displayName"] == "Acme Ltd"


def test_it_accepts_a_one_record_list_in_the_wrapper(pm):
    response = pm.post("participants", {"participants": [{"lastName": "Listed"}]})

    assert response.status_code == 200
    assert body_of(response)["participants"]["lastName"] == "Listed"


def test_it_refuses_a_body_that_is_not_json(pm):
    not_json = pm.post("participants", "{not json")
    wrong_type = pm.post("participants", "lastName=Bond", content_type="text/plain")

    assert not_json.status_code == 400
    assert wrong_type.status_code == 415
    assert not Participant.objects.exists()


@pytest.mark.parametrize("reference", ["C 1", "C*1", "C\t1", " C1"])
def test_it_rejects_a_reference_with_spaces_or_an_asterisk(pm, reference):
    response = pm.post(
        "participants", {"participants": {"lastName": "Bond", "reference": reference}}
    )

    assert response.status_code == 422
    error = body_of(response)["error"]
    assert error["field"] == "reference"
    assert error["fields"]["reference"] == ["A Reference may not contain '*' or spaces."]
    assert not Participant.objects.exists()


def test_it_rejects_a_reference_with_spaces_on_update_too(pm):
    participant = make_participant(reference="C-1")

    response = pm.put(f"participants/{participant.pk}", {"participants": {"reference": "C 1"}})

    assert response.status_code == 422
    assert body_of(response)["error"]["field"] == "reference"
    participant.refresh_from_db()
    assert participant.reference == "C-1"


def test_it_names_every_property_that_is_unknown_or_of_the_wrong_type(pm):
    response = pm.post(
        "participants",
        {"participants": {"lastName": "Bond", "phone1Country": "forty-four", "nickname": "Jim"}},
    )

    assert response.status_code == 422
    fields = body_of(response)["error"]["fields"]
    assert fields == {"phone1Country": ["Expected an integer."], "nickname": ["Unknown property."]}


def test_it_names_every_property_that_breaks_a_rule(pm):
    response = pm.post(
        "participants",
        {
            "participants": {
                "lastName": "Bond",
                "email": "not-an-email",
                "reference": "C 1",
                "links": {"physicalCountry": "Britain"},
            }
        },
    )

    assert response.status_code == 422
    fields = body_of(response)["error"]["fields"]
    assert set(fields) == {"email", "reference", "links.physicalCountry"}
    assert not Participant.objects.exists()


def test_it_needs_a_name_of_some_kind(pm):
    response = pm.post("participants", {"participants": {"email": "nobody@example.com"}})

    assert response.status_code == 422
    assert body_of(response)["error"]["field"] == "displayName"


def test_it_updates_a_participant_with_put_and_moves_its_modified_timestamp(pm):
    participant = make_participant(first_name="Jane", last_name="Smith", email="jane@example.com")
    Participant.objects.filter(pk=participant.pk).update(
        modified_at=timezone.now() - datetime.timedelta(days=1)
    )
    before = body_of(pm.get(f"participants/{participant.pk}"))["participants"]

    response = pm.put(
        f"participants/{participant.pk}",
        {"participants": {**before, "lastName": "Jones", "modifiedTimestamp": "ignored"}},
    )

    assert response.status_code == 200
    after = body_of(response)["participants"]
    assert after["lastName"] == "Jones"
    assert after["displayName"] == "Jones, Jane"
    assert after["email"] == "jane@example.com"
    assert after["modifiedTimestamp"] > before["modifiedTimestamp"]


def test_it_leaves_the_modified_timestamp_alone_when_an_update_changes_nothing(pm):
    participant = make_participant(last_name="Same")
    then = timezone.now() - datetime.timedelta(days=1)
    Participant.objects.filter(pk=participant.pk).update(modified_at=then)

    response = pm.put(f"participants/{participant.pk}", {"participants": {"lastName": "Same"}})

    assert response.status_code == 200
    participant.refresh_from_db()
    assert participant.modified_at == then


def test_it_answers_404_when_updating_an_unknown_participant(pm):
    response = pm.put("participants/999999", {"participants": {"lastName": "Ghost"}})

    assert response.status_code == 404


def test_it_updates_one_record_at_a_time(pm):
    first, second = make_participant(), make_participant()

    response = pm.put(f"participants/{first.pk},{second.pk}", {"participants": {"lastName": "X"}})

    assert response.status_code == 400


def test_it_does_not_delete_participants(pm):
    participant = make_participant()

    response = pm.delete(f"participants/{participant.pk}")

    assert response.status_code == 405
    assert Participant.objects.filter(pk=participant.pk).exists()


# Actions -----------------------------------------------------------------------------


def test_it_creates_an_action_through_actioncreate(pm):
    lawyer = make_user()
    first, second = make_participant(last_name="Buyer"), make_participant(last_name="Co-buyer")
    matter_type = action_type()

    response = pm.post(
        "actioncreate",
        {
            "actioncreate": {
                "actionName": "Purchase of 222 Beach Rd",
                "importExternalReference": "HUB-M-1",
                "links": {
                    "actionType": matter_type.pk,
                    "assignedTo": lawyer.pk,
                    "primaryParticipants": [second.pk, first.pk],
                },
            }
        },
    )

    assert response.status_code == 200
    body = body_of(response)
    created = body["actioncreate"]
    action = Action.objects.get(pk=created["links"]["action"])
    assert created["id"] == action.pk
    assert action.primary_participant_ids == [second.pk, first.pk]
    assert body["actions"]["name"] == "Purchase of 222 Beach Rd"
    assert body["actions"]["reference"] is None
    assert body["actions"]["status"] == "Active"
    assert body["actions"]["links"] == {
        "assignedTo": lawyer.pk,
        "actionType": matter_type.pk,
        "primaryParticipants": [second.pk, first.pk],
    }
    assert_matches_schema(body_of(pm.get(f"actions/{action.pk}")), "actions")


def test_it_creates_an_action_with_the_type_in_the_url(pm):
    matter_type = action_type()
    client = make_participant()

    response = pm.post(
        f"actioncreate/{matter_type.pk}",
        {"actionName": "Estate of the late J Smith", "links": {"primaryParticipants": [client.pk]}},
        content_type="application/json",
    )

    assert response.status_code == 200
    action = Action.objects.get(pk=body_of(response)["actioncreate"]["id"])
    assert action.action_type_id == matter_type.pk
    assert action.primary_participant_ids == [client.pk]


def test_it_accepts_assigned_to_participant_as_another_name_for_assigned_to(pm):
    lawyer = make_user()

    response = pm.post(
        "actioncreate",
        {
            "actioncreate": {
                "actionName": "General advice",
                "links": {"actionType": action_type().pk, "assignedToParticipant": lawyer.pk},
            }
        },
    )

    assert body_of(response)["actions"]["links"]["assignedTo"] == lawyer.pk


def test_it_refuses_actioncreate_without_a_name_or_an_action_type(pm):
    response = pm.post("actioncreate", {"actioncreate": {"links": {}}})

    assert response.status_code == 422
    assert set(body_of(response)["error"]["fields"]) == {"actionName", "links.actionType"}
    assert not Action.objects.exists()


def test_it_refuses_unknown_action_types_and_clients(pm):
    unknown_type = pm.post(
        "actioncreate", {"actioncreate": {"actionName": "X", "links": {"actionType": 999999}}}
    )
    unknown_client = pm.post(
        "actioncreate",
        {
            "actioncreate": {
                "actionName": "X",
                "links": {"actionType": action_type().pk, "primaryParticipants": [999999]},
            }
        },
    )
    url_mismatch = pm.post(
        f"actioncreate/{action_type().pk}",
        {"actioncreate": {"actionName": "X", "links": {"actionType": 999999}}},
    )

    assert unknown_type.status_code == 422
    assert body_of(unknown_type)["error"]["field"] == "links.actionType"
    assert unknown_client.status_code == 422
    assert body_of(unknown_client)["error"]["field"] == "links.primaryParticipants"
    assert url_mismatch.status_code == 422
    assert not Action.objects.exists()


def test_it_does_not_create_actions_by_post_to_actions(pm):
    response = pm.post("actions", {"actions": {"name": "Nope"}})

    assert response.status_code == 405


@pytest.mark.parametrize("method", ["patch", "put"])
def test_it_updates_an_action_with_patch_or_put(pm, method):
    action = make_action()
    Action.objects.filter(pk=action.pk).update(
        modified_at=timezone.now() - datetime.timedelta(days=1),
        status_changed_at=timezone.now() - datetime.timedelta(days=1),
    )
    before = body_of(pm.get(f"actions/{action.pk}"))["actions"]
    lawyer = make_user()

    response = getattr(pm, method)(
        f"actions/{action.pk}",
        {
            "actions": {
                "reference": "000123",
                "status": "Closed",
                "links": {"assignedTo": lawyer.pk},
            }
        },
    )

    assert response.status_code == 200
    after = body_of(response)["actions"]
    assert_matches_schema(body_of(response), "actions")
    assert after["reference"] == "000123"
    assert after["name"] == before["name"]
    assert after["links"]["assignedTo"] == lawyer.pk
    assert after["links"]["primaryParticipants"] == before["links"]["primaryParticipants"]
    assert after["modifiedTimestamp"] > before["modifiedTimestamp"]
    assert after["statusTimestamp"] > before["statusTimestamp"]


def test_it_rejects_an_unknown_action_status(pm):
    action = make_action()

    response = pm.patch(f"actions/{action.pk}", {"actions": {"status": "Archived"}})

    assert response.status_code == 422
    assert body_of(response)["error"]["field"] == "status"


def test_it_fills_linked_with_the_records_named_by_include(pm):
    lawyer = make_user(first_name="James", last_name="Bond")
    client = make_participant(last_name="Client")
    make_action(client=client, assigned_to=lawyer)

    plain = body_of(pm.get("actions"))
    included = body_of(pm.get("actions", {"include": "assignedTo,primaryParticipants"}))

    assert plain["linked"] == {}
    assert [p["id"] for p in included["linked"]["participants"]] == [lawyer.pk, client.pk]
    assert included["linked"]["participants"][0]["displayName"] == "Bond, James"
    assert plain["links"]["actions.assignedTo"] == {
        "href": "http://testserver/sandbox/pm/api/rest/participants/{actions.assignedTo}",
        "type": "participants",
    }
    assert_matches_schema(included, "actions")


def test_it_refuses_an_include_the_resource_does_not_have(pm):
    response = pm.get("actions", {"include": "owner"})

    assert response.status_code == 400
    assert body_of(response)["error"]["field"] == "include"


def test_it_filters_actions_by_reference_and_client(pm):
    client = make_participant()
    wanted = make_action(client=client, reference="000123")
    make_action(reference="000124")

    by_reference = body_of(pm.get("actions", {"reference": "000123"}))
    by_client = body_of(pm.get("actions", {"primaryParticipants": client.pk}))

    assert [a["id"] for a in by_reference["actions"]] == [wanted.pk]
    assert [a["id"] for a in by_client["actions"]] == [wanted.pk]


# Time entries ------------------------------------------------------------------------


def test_it_creates_a_time_entry_with_defaults_from_its_owner(pm):
    owner, action = make_user(hourly_rate=Decimal("350.00")), make_action()

    response = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31",
                "description": "Review contract",
                "actualHours": 1.25,
                "importExternalReference": "HUB-T-1",
                "links": {"action": action.pk, "owner": owner.pk},
            }
        },
    )

    assert response.status_code == 200
    body = body_of(response)
    assert_matches_schema(body, "timeentries")
    record = body["timeentries"]
    assert record["timestampDate"].startswith("2025-01-31T00:00:00")
    assert record["billableHours"] == Decimal("1.25")
    assert record["rateUnitPrice"] == Decimal("350")
    assert record["billableAmount"] == Decimal("437.5")
    assert record["billableAmountType"] == "Calculated"
    assert record["billingBehavior"] == "Bill"
    assert record["isBillable"] == "T"
    assert record["links"] == {"action": action.pk, "owner": owner.pk, "createdBy": owner.pk}


def test_it_rounds_a_calculated_amount_half_up_to_the_cent(pm):
    entry = make_time_entry(
        make_action(), make_user(), actual_hours=Decimal("0.33"), rate_unit_price=Decimal("12.50")
    )

    assert entry.billable_amount == Decimal("4.13")


def test_it_keeps_a_billable_amount_given_as_fixed(pm):
    owner, action = make_user(), make_action()

    response = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31T00:00:00+13:00",
                "actualHours": 2,
                "billableHours": 1.5,
                "billingBehavior": "No charge",
                "billableAmount": 100,
                "links": {"action": action.pk, "owner": owner.pk},
            }
        },
    )

    record = body_of(response)["timeentries"]
    assert record["billableAmount"] == 100
    assert record["billableAmountType"] == "Fixed"
    assert record["isBillable"] == "F"


def test_it_updates_a_time_entry_with_put_and_recalculates_its_amount(pm):
    entry = make_time_entry(make_action(), make_user(hourly_rate=Decimal("200.00")))
    before = body_of(pm.get(f"timeentries/{entry.pk}"))["timeentries"]

    response = pm.put(
        f"timeentries/{entry.pk}",
        {"timeentries": {"billableHours": 2.5, "billingBehavior": "Hide"}},
    )

    assert response.status_code == 200
    after = body_of(response)["timeentries"]
    assert after["billableAmount"] == Decimal("500")
    assert after["billingBehavior"] == "Hide"
    assert after["actualHours"] == before["actualHours"]
    assert after["modifiedTimestamp"] >= before["modifiedTimestamp"]


def test_it_deletes_a_time_entry(pm):
    entry = make_time_entry(make_action(), make_user())

    deleted = pm.delete(f"timeentries/{entry.pk}")
    again = pm.get(f"timeentries/{entry.pk}")

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert not TimeEntry.objects.exists()


def test_it_names_the_missing_and_unknown_parts_of_a_time_entry(pm):
    missing = pm.post("timeentries", {"timeentries": {"description": "No hours"}})
    unknown = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31",
                "actualHours": 1,
                "billingBehavior": "Maybe",
                "links": {"action": 999999, "owner": 999999},
            }
        },
    )

    assert missing.status_code == 422
    assert set(body_of(missing)["error"]["fields"]) == {
        "timestampDate",
        "actualHours",
        "links.action",
        "links.owner",
    }
    assert unknown.status_code == 422
    assert set(body_of(unknown)["error"]["fields"]) == {"billingBehavior"}
    assert not TimeEntry.objects.exists()


def test_it_refuses_a_time_entry_for_an_unknown_action_or_owner(pm):
    response = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31",
                "actualHours": 1,
                "links": {"action": 999999, "owner": 999999},
            }
        },
    )

    assert response.status_code == 422
    assert set(body_of(response)["error"]["fields"]) == {"links.action", "links.owner"}


@pytest.mark.parametrize("hours", [1.255, -1, 25])
def test_it_refuses_hours_with_more_than_two_places_or_out_of_range(pm, hours):
    response = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31",
                "actualHours": hours,
                "links": {"action": make_action().pk, "owner": make_user().pk},
            }
        },
    )

    assert response.status_code == 422
    assert "actualHours" in body_of(response)["error"]["fields"]


def test_it_lists_time_entries_of_one_action_with_their_linked_action(pm):
    owner, action = make_user(), make_action()
    wanted = make_time_entry(action, owner)
    make_time_entry(make_action(), owner)

    body = body_of(pm.get("timeentries", {"action": action.pk, "include": "action,owner"}))

    assert [t["id"] for t in body["timeentries"]] == [wanted.pk]
    assert [a["id"] for a in body["linked"]["actions"]] == [action.pk]
    assert [p["id"] for p in body["linked"]["participants"]] == [owner.pk]
    assert_matches_schema(body, "timeentries")


# Users and action types --------------------------------------------------------------


def test_it_lists_users_and_finds_one_by_email(pm):
    ann = make_user(first_name="Ann", last_name="Lawyer")
    make_user(first_name="Bob", last_name="Clerk", is_active=False)

    everyone = body_of(pm.get("users"))
    found = body_of(pm.get("users", {"email": "ANN.LAWYER@example-law.test"}))
    one = body_of(pm.get(f"users/{ann.pk}"))

    assert [u["email"] for u in everyone["users"]] == [
        "ann.lawyer@example-law.test",
        "bob.clerk@example-law.test",
    ]
    assert everyone["users"][1]["isActive"] == "F"
    assert [u["id"] for u in found["users"]] == [ann.pk]
    assert one["users"] == {
        "id": ann.pk,
        "name": "Ann Lawyer",
        "firstName": "Ann",
        "lastName": "Lawyer",
        "email": "ann.lawyer@example-law.test",
        "isActive": "T",
        "links": {"participant": ann.pk},
    }


def test_a_users_id_is_its_participant_id(pm):
    user = make_user(first_name="James", last_name="Bond")

    participant = body_of(pm.get(f"participants/{user.pk}"))["participants"]

    assert participant["displayName"] == "Bond, James"
    assert participant["email"] == user.email


def test_users_are_read_only(pm):
    assert pm.post("users", {"users": {"email": "x@example.com"}}).status_code == 405


def test_it_lists_action_types(pm):
    matter_type = action_type()

    body = body_of(pm.get("actiontypes", {"name": "general matter"}))

    assert body["actiontypes"] == [{"id": matter_type.pk, "name": "General Matter"}]


# REST hook registrations -------------------------------------------------------------


def test_it_registers_lists_and_deletes_a_resthook(pm):
    created = pm.post(
        "resthooks",
        {"resthooks": {"eventName": "ParticipantCreated", "targetUrl": "http://hub:8000/pm/hooks"}},
    )

    assert created.status_code == 200
    hook = body_of(created)["resthooks"]
    assert hook["status"] == "Active"
    assert hook["triggeredCount"] == 0
    assert_matches_schema(body_of(created), "resthooks")
    listed = body_of(pm.get("resthooks"))
    assert_matches_schema(listed, "resthooks")
    assert [h["id"] for h in listed["resthooks"]] == [hook["id"]]

    deleted = pm.delete(f"resthooks/{hook['id']}")

    assert deleted.status_code == 204
    assert not RestHook.objects.exists()


@pytest.mark.parametrize(
    ("registration", "field"),
    [
        ({"eventName": "MatterExploded", "targetUrl": "https://hub.test/h"}, "eventName"),
        ({"eventName": "ActionCreated", "targetUrl": "ftp://hub.test/h"}, "targetUrl"),
        ({"eventName": "ActionCreated"}, "targetUrl"),
    ],
)
def test_it_refuses_a_resthook_with_an_unknown_event_or_a_bad_url(pm, registration, field):
    response = pm.post("resthooks", {"resthooks": registration})

    assert response.status_code == 422
    assert body_of(response)["error"]["field"] == field


# N+1 guards --------------------------------------------------------------------------


def _grow(resource: str, count: int) -> None:
    owner, client = make_user(email=f"owner{count}@example-law.test"), make_participant()
    for n in range(count):
        if resource == "participants":
            make_participant(last_name=f"P{n}")
        elif resource == "actions":
            make_action(client=client, assigned_to=owner)
        elif resource == "timeentries":
            make_time_entry(make_action(client=client), owner)
        elif resource == "users":
            make_user(first_name=f"U{n}", email=f"u{n}.{count}@example-law.test")
        else:
            RestHook.objects.create(event_name="ActionCreated", target_url="http://hub.test/h")


@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("participants", {}),
        ("actions", {"include": "assignedTo,primaryParticipants,actionType"}),
        ("timeentries", {"include": "action,owner"}),
        ("users", {}),
        ("resthooks", {}),
    ],
)
def test_listing_takes_as_many_queries_for_30_records_as_for_3(pm, resource, params):
    _grow(resource, 3)
    few = sandbox_queries(lambda: pm.get(resource, params))
    _grow(resource, 27)

    many = sandbox_queries(lambda: pm.get(resource, params))

    assert many == few
