"""The PM emulator's REST API over HTTP: envelopes, paging, errors, and the records
participants, actions (with actioncreate), time entries and REST hook registrations."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from sandbox.pm.models import Action, ActionParticipant, Participant, RestHook, TimeEntry

from .test_pm_support import (
    PM,
    action_type,
    assert_actioncreate_matches_schema,
    assert_matches_schema,
    body_of,
    errors_of,
    ids_of,
    make_action,
    make_participant,
    make_time_entry,
    make_user,
    participant_types,
    pointers_of,
    records_of,
    sandbox_queries,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def pm():
    return PM()


@pytest.fixture
def many_participants(pm):
    """450 participants in all, the API user among them."""
    Participant.objects.bulk_create(
        Participant(first_name="Client", last_name=f"Number{n}", display_name=f"Number{n}, Client")
        for n in range(450 - Participant.objects.count())
    )


# Envelope and paging -----------------------------------------------------------------


def test_it_lists_participants_in_the_actionstep_envelope(pm):
    make_participant(last_name="Bond", first_name="James", import_external_reference="C-1")
    make_participant(company_name="Acme Ltd", is_company=True, first_name="", last_name="")

    response = pm.get("participants")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.api+json"
    body = body_of(response)
    assert set(body) == {"links", "participants", "linked", "meta"}
    names = [p["displayName"] for p in body["participants"]]
    assert names == ["Clerk, Api", "Bond, James", "Acme Ltd"]
    assert body["participants"][1]["importExternalReference"] == "C-1"
    assert body["participants"][2]["isCompany"] == "T"
    assert body["meta"]["paging"]["participants"] == {
        "recordCount": 3,
        "pageCount": 1,
        "page": 1,
        "pageSize": 50,
        "prevPage": None,
        "nextPage": None,
    }
    assert_matches_schema(body, "participants")


def test_it_answers_a_collection_of_one_record_as_an_object_not_a_list(pm):
    wanted = make_participant(last_name="Only")

    body = body_of(pm.get("participants", {"lastName": "Only"}))

    assert body["participants"]["id"] == wanted.pk
    assert body["meta"]["paging"]["participants"]["recordCount"] == 1
    assert_matches_schema(body, "participants")


def test_it_answers_204_with_no_body_when_no_record_matches(pm):
    response = pm.get("participants", {"lastName": "Nobody"})

    assert response.status_code == 204
    assert response.content == b""


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
    [error] = errors_of(response)
    assert error["code"] == "bad_request"
    assert error["source"] == {"parameter": next(iter(params))}


def test_it_answers_204_past_the_last_page(pm):
    assert pm.get("participants", {"page": 5}).status_code == 204


def test_it_sorts_by_modified_timestamp_descending_on_request(pm):
    older, newer = make_participant(last_name="Older"), make_participant(last_name="Newer")
    Participant.objects.filter(pk=older.pk).update(modified_at=timezone.now())

    response = pm.get(
        "participants", {"sort": "-modifiedTimestamp", "id_in": f"{older.pk},{newer.pk}"}
    )

    assert ids_of(response, "participants") == [older.pk, newer.pk]


def test_it_sorts_by_a_comma_separated_list(pm):
    first, second = make_participant(last_name="A"), make_participant(last_name="B")
    same = timezone.now()
    Participant.objects.filter(pk__in=[first.pk, second.pk]).update(modified_at=same)

    response = pm.get(
        "participants", {"sort": "-modifiedTimestamp,-id", "id_in": f"{first.pk},{second.pk}"}
    )

    assert ids_of(response, "participants") == [second.pk, first.pk]


def test_it_refuses_a_sort_the_resource_does_not_have(pm):
    response = pm.get("participants", {"sort": "displayName"})

    assert response.status_code == 400
    assert errors_of(response)[0]["source"] == {"parameter": "sort"}


# Errors ------------------------------------------------------------------------------


def test_every_error_is_an_errors_list_with_status_code_title_and_detail(pm):
    answers = {
        404: pm.get("matters"),
        405: pm.delete(f"participants/{make_participant().pk}"),
        415: pm.post("participants", "lastName=Bond", content_type="text/plain"),
        400: pm.post("participants", "{not json"),
        401: PM(token="").get("participants"),
    }

    for status, response in answers.items():
        assert response.status_code == status
        assert response["Content-Type"] == "application/vnd.api+json"
        [error] = errors_of(response)
        assert error["title"] and error["detail"]
        assert set(body_of(response)) == {"errors"}


def test_it_answers_a_broken_rule_with_500_and_an_actionstep_code(pm):
    response = pm.post("participants", {"participants": {"lastName": "Bond"}})

    assert response.status_code == 500
    [error] = errors_of(response)
    assert error == {
        "status": "500",
        "code": "1300",
        "title": "The request could not be handled.",
        "detail": "This property is required.",
        "source": {"pointer": "/participants/displayName"},
    }


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


def test_it_leaves_unknown_ids_out_and_answers_404_when_none_exists(pm):
    known = make_participant()

    partial = body_of(pm.get(f"participants/{known.pk},999999"))
    missing = pm.get("participants/999998,999999")
    not_a_number = pm.get("participants/abc")

    assert records_of(partial, "participants")[0]["id"] == known.pk
    assert missing.status_code == 404
    assert errors_of(missing)[0]["code"] == "not_found"
    assert not_a_number.status_code == 404


def test_it_answers_404_for_an_unknown_resource(pm):
    response = pm.get("matters")

    assert response.status_code == 404
    assert errors_of(response)[0]["code"] == "not_found"


def test_it_accepts_a_trailing_slash(pm):
    participant = make_participant()

    assert pm.get("participants/").status_code == 200
    assert pm.get(f"participants/{participant.pk}/").status_code == 200


def test_the_index_lists_every_resource(pm):
    body = body_of(pm.http.get("/sandbox/pm/api/rest/"))

    assert body["links"]["participants"] == "http://testserver/sandbox/pm/api/rest/participants"
    assert {
        "actions",
        "actioncreate",
        "actionparticipants",
        "participanttypes",
        "timeentries",
        "users",
        "resthooks",
    } <= set(body["links"])


# Participants ------------------------------------------------------------------------

JAMES_BOND = {
    "displayName": "Bond, James",
    "salutation": "Mr",
    "firstName": "James",
    "middleName": "Herbert",
    "lastName": "Bond",
    "suffix": "Jnr",
    "preferredName": "007",
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
    "importExternalReference": "C-007",
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
    assert record["importExternalReference"] == "C-007"
    assert (stored.preferred_name, stored.phone2_label) == ("007", "Mobile")
    assert record["modifiedTimestamp"] == record["createdTimestamp"]


def test_a_participant_has_no_reference_property(pm):
    created = pm.post("participants", {"participants": {**JAMES_BOND, "reference": "C-1"}})
    read = body_of(pm.get(f"participants/{make_participant().pk}"))["participants"]

    assert created.status_code == 400
    assert pointers_of(created) == {"/participants/reference"}
    assert "reference" not in read


def test_it_keeps_the_display_name_a_create_gives(pm):
    response = pm.post(
        "participants",
        {"participants": {"displayName": "Jimmy Bond", "firstName": "James", "lastName": "Bond"}},
    )

    assert body_of(response)["participants"]["displayName"] == "Jimmy Bond"


def test_it_requires_a_display_name_to_create_a_participant(pm):
    response = pm.post("participants", {"participants": {"lastName": "Bond"}})

    assert response.status_code == 500
    [error] = errors_of(response)
    assert (error["code"], error["source"]) == ("1300", {"pointer": "/participants/displayName"})
    assert not Participant.objects.filter(last_name="Bond").exists()


def test_it_refuses_is_company_other_than_t_or_f_with_code_p01(pm):
    response = pm.post("participants", {"participants": {"displayName": "Acme", "isCompany": "Y"}})

    assert response.status_code == 500
    [error] = errors_of(response)
    assert error["code"] == "P01"
    assert error["source"] == {"pointer": "/participants/isCompany"}


def test_it_accepts_a_bare_application_json_body(pm):
    response = pm.post(
        "participants",
        {"displayName": "Acme Ltd", "companyName": "Acme Ltd", "isCompany": "T"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert body_of(response)["participants"]["displayName"] == "Acme Ltd"


def test_it_accepts_a_one_record_list_in_the_wrapper(pm):
    response = pm.post(
        "participants", {"participants": [{"displayName": "Listed", "lastName": "Listed"}]}
    )

    assert response.status_code == 200
    assert body_of(response)["participants"]["lastName"] == "Listed"


def test_it_refuses_a_body_that_is_not_json_or_not_one_record(pm):
    not_json = pm.post("participants", "{not json")
    wrong_type = pm.post("participants", "lastName=Bond", content_type="text/plain")
    two = pm.post("participants", {"participants": [{"lastName": "A"}, {"lastName": "B"}]})
    links = pm.post("participants", {"participants": {"displayName": "A", "links": ["GB"]}})

    assert [r.status_code for r in (not_json, wrong_type, two, links)] == [400, 415, 400, 400]
    assert errors_of(wrong_type)[0]["code"] == "unsupported_media_type"
    assert not Participant.objects.filter(last_name__in=["A", "B", "Bond"]).exists()


def test_it_answers_400_naming_every_unknown_property(pm):
    response = pm.post(
        "participants",
        {"participants": {"displayName": "Bond", "nickname": "Jim", "links": {"planet": "Earth"}}},
    )

    assert response.status_code == 400
    assert {error["code"] for error in errors_of(response)} == {"bad_request"}
    assert pointers_of(response) == {"/participants/nickname", "/participants/links/planet"}


def test_it_answers_500_naming_every_property_that_breaks_a_rule(pm):
    response = pm.post(
        "participants",
        {
            "participants": {
                "displayName": "Bond",
                "phone1Country": "forty-four",
                "email": "not-an-email",
                "links": {"physicalCountry": "Britain"},
            }
        },
    )

    assert response.status_code == 500
    assert pointers_of(response) == {"/participants/phone1Country"}
    response = pm.post(
        "participants",
        {
            "participants": {
                "displayName": "Bond",
                "email": "not-an-email",
                "links": {"physicalCountry": "Britain"},
            }
        },
    )
    assert response.status_code == 500
    assert pointers_of(response) == {"/participants/email", "/participants/links/physicalCountry"}
    assert {error["code"] for error in errors_of(response)} == {"1300"}
    assert not Participant.objects.filter(display_name="Bond").exists()


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


def test_an_update_ignores_display_name_and_derives_it_from_the_names(pm):
    participant = make_participant(first_name="Jane", last_name="Smith")

    renamed = pm.put(
        f"participants/{participant.pk}",
        {"participants": {"displayName": "Lady Jane", "lastName": "Jones"}},
    )
    only_display_name = pm.put(
        f"participants/{participant.pk}", {"participants": {"displayName": "Lady Jane"}}
    )

    assert body_of(renamed)["participants"]["displayName"] == "Jones, Jane"
    assert body_of(only_display_name)["participants"]["displayName"] == "Jones, Jane"


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
    assert errors_of(response)[0]["code"] == "method_not_allowed"
    assert Participant.objects.filter(pk=participant.pk).exists()


# Actions and actioncreate ------------------------------------------------------------


def test_it_creates_an_action_through_actioncreate_with_participants_by_type(pm):
    lawyer = make_user()
    types = participant_types()
    client, other_side = make_participant(last_name="Buyer"), make_participant(last_name="Seller")
    matter_type = action_type()

    response = pm.post(
        "actioncreate",
        {
            "actioncreate": {
                "actionName": "Purchase of 222 Beach Rd",
                "fileReference": "000123",
                "status": "Active",
                "priority": "2",
                "importExternalReference": "HUB-M-1",
                "links": {
                    "actionType": str(matter_type.pk),
                    "assignedToParticipant": str(lawyer.pk),
                    f"participantType{types['Client'].pk}": [str(client.pk)],
                    f"participantType{types['Other side'].pk}": [other_side.pk],
                },
            }
        },
    )

    assert response.status_code == 200
    body = body_of(response)
    assert_actioncreate_matches_schema(body)
    action = Action.objects.get()
    assert body == {
        "actioncreate": {
            "id": action.pk,
            "actionName": "Purchase of 222 Beach Rd",
            "fileReference": "000123",
            "links": {
                "action": str(action.pk),
                "actionType": str(matter_type.pk),
                "assignedToParticipant": str(lawyer.pk),
            },
        }
    }
    read = body_of(pm.get(f"actions/{action.pk}"))
    assert_matches_schema(read, "actions")
    record = read["actions"]
    assert (record["reference"], record["priority"], record["importExternalReference"]) == (
        "000123",
        2,
        "HUB-M-1",
    )
    assert record["links"] == {
        "assignedTo": str(lawyer.pk),
        "actionType": str(matter_type.pk),
        "primaryParticipants": [str(client.pk)],
    }
    roles = ActionParticipant.objects.filter(action=action).values_list(
        "participant_type__name", "participant_id", "participant_number"
    )
    assert list(roles) == [("Client", client.pk, 1), ("Other side", other_side.pk, 2)]


def test_it_creates_an_action_with_the_type_in_the_url(pm):
    matter_type = action_type()

    response = pm.post(
        f"actioncreate/{matter_type.pk}",
        {"actionName": "Estate of the late J Smith"},
        content_type="application/json",
    )

    assert response.status_code == 200
    action = Action.objects.get(pk=body_of(response)["actioncreate"]["id"])
    assert action.action_type_id == matter_type.pk
    assert body_of(response)["actioncreate"]["links"]["assignedToParticipant"] is None


def test_an_actions_created_timestamp_is_a_date_and_link_ids_are_strings(pm):
    action = make_action(assigned_to=make_user())

    record = body_of(pm.get(f"actions/{action.pk}"))["actions"]

    assert record["createdTimestamp"] == timezone.localdate(action.created_at).isoformat()
    assert isinstance(record["id"], int)
    links = record["links"]
    assert isinstance(links["assignedTo"], str) and isinstance(links["actionType"], str)
    assert record["links"]["primaryParticipants"] == [str(action.primary_participant_ids[0])]


def test_it_refuses_actioncreate_without_a_name_or_an_action_type(pm):
    response = pm.post("actioncreate", {"actioncreate": {"links": {}}})

    assert response.status_code == 500
    assert pointers_of(response) == {"/actioncreate/actionName", "/actioncreate/links/actionType"}
    assert not Action.objects.exists()


def test_it_refuses_an_actioncreate_status_or_priority_with_the_wiki_codes(pm):
    response = pm.post(
        "actioncreate",
        {
            "actioncreate": {
                "actionName": "X",
                "status": "Archived",
                "priority": "high",
                "links": {"actionType": action_type().pk},
            }
        },
    )

    assert response.status_code == 500
    assert {error["code"] for error in errors_of(response)} == {"A01", "A02"}


def test_it_refuses_unknown_action_types_participant_types_and_participants(pm):
    unknown_type = pm.post(
        "actioncreate", {"actioncreate": {"actionName": "X", "links": {"actionType": 999999}}}
    )
    unknown_participants = pm.post(
        "actioncreate",
        {
            "actioncreate": {
                "actionName": "X",
                "links": {"actionType": action_type().pk, "participantType999999": ["999999"]},
            }
        },
    )
    url_mismatch = pm.post(
        f"actioncreate/{action_type().pk}",
        {"actioncreate": {"actionName": "X", "links": {"actionType": 999999}}},
    )
    old_names = pm.post(
        "actioncreate",
        {
            "actioncreate": {
                "actionName": "X",
                "links": {"actionType": 1, "primaryParticipants": []},
            }
        },
    )

    assert unknown_type.status_code == 500
    assert pointers_of(unknown_type) == {"/actioncreate/links/actionType"}
    assert unknown_participants.status_code == 500
    details = [error["detail"] for error in errors_of(unknown_participants)]
    assert any("participant type with id 999999" in detail for detail in details)
    assert any("participant with id 999999" in detail for detail in details)
    assert url_mismatch.status_code == 500
    assert old_names.status_code == 400
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
                **before,
                "reference": "000123",
                "status": "Closed",
                "links": {**before["links"], "assignedTo": str(lawyer.pk)},
            }
        },
    )

    assert response.status_code == 200
    after = body_of(response)["actions"]
    assert_matches_schema(body_of(response), "actions")
    assert after["reference"] == "000123"
    assert after["name"] == before["name"]
    assert after["links"]["assignedTo"] == str(lawyer.pk)
    assert after["links"]["primaryParticipants"] == before["links"]["primaryParticipants"]
    assert after["modifiedTimestamp"] > before["modifiedTimestamp"]
    assert after["statusTimestamp"] > before["statusTimestamp"]


def test_it_refuses_an_unknown_action_status_with_a01_and_a_bad_priority_with_a02(pm):
    action = make_action()

    status = pm.patch(f"actions/{action.pk}", {"actions": {"status": "Archived"}})
    priority = pm.patch(f"actions/{action.pk}", {"actions": {"priority": "urgent"}})

    assert (status.status_code, priority.status_code) == (500, 500)
    assert [(e["code"], e["source"]) for e in errors_of(status)] == [
        ("A01", {"pointer": "/actions/status"})
    ]
    assert [(e["code"], e["source"]) for e in errors_of(priority)] == [
        ("A02", {"pointer": "/actions/priority"})
    ]


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
    assert errors_of(response)[0]["source"] == {"parameter": "include"}


def test_it_filters_actions_by_reference_and_client(pm):
    client = make_participant()
    wanted = make_action(client=client, reference="000123")
    make_action(reference="000124")

    by_reference = pm.get("actions", {"reference": "000123"})
    by_client = pm.get("actions", {"primaryParticipants": client.pk})
    by_clients = pm.get("actions", {"primaryParticipants_in": f"{client.pk},999999"})

    for response in (by_reference, by_client, by_clients):
        assert ids_of(response, "actions") == [wanted.pk]


def test_a_participant_in_another_role_is_not_a_primary_participant(pm):
    action = make_action()
    other_side = make_participant(last_name="Seller")
    ActionParticipant.objects.create(
        action=action,
        participant=other_side,
        participant_type=participant_types()["Other side"],
        participant_number=2,
    )

    response = pm.get("actions", {"primaryParticipants": other_side.pk})

    assert response.status_code == 204
    assert other_side.pk not in action.primary_participant_ids


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
                "links": {
                    "action": str(action.pk),
                    "owner": str(owner.pk),
                    "createdBy": owner.pk,
                },
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
    assert record["links"] == {
        "action": str(action.pk),
        "owner": str(owner.pk),
        "createdBy": str(owner.pk),
    }


def test_a_time_entry_has_a_created_timestamp_and_no_modified_timestamp(pm):
    entry = make_time_entry(make_action(), make_user())

    record = body_of(pm.get(f"timeentries/{entry.pk}"))["timeentries"]
    by_modified = pm.get("timeentries", {"modifiedTimestamp_gt": "2025-01-01T00:00:00"})
    sorted_by_modified = pm.get("timeentries", {"sort": "-modifiedTimestamp"})

    assert "modifiedTimestamp" not in record
    assert record["createdTimestamp"]
    assert by_modified.status_code == 400
    assert sorted_by_modified.status_code == 400


def test_it_filters_and_sorts_time_entries_by_created_timestamp(pm):
    owner, action = make_user(), make_action()
    old, recent = make_time_entry(action, owner), make_time_entry(action, owner)
    cursor = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)
    TimeEntry.objects.filter(pk=old.pk).update(created_at=cursor - datetime.timedelta(hours=1))
    TimeEntry.objects.filter(pk=recent.pk).update(created_at=cursor)

    since = pm.get("timeentries", {"createdTimestamp_gteq": "2025-03-01T12:00:00"})
    newest_first = pm.get("timeentries", {"sort": "-createdTimestamp"})

    assert ids_of(since, "timeentries") == [recent.pk]
    assert ids_of(newest_first, "timeentries") == [recent.pk, old.pk]


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
                "links": {"action": action.pk, "owner": owner.pk, "createdBy": owner.pk},
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


def test_it_deletes_a_time_entry(pm):
    entry = make_time_entry(make_action(), make_user())

    deleted = pm.delete(f"timeentries/{entry.pk}")
    again = pm.get(f"timeentries/{entry.pk}")

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert again.status_code == 404
    assert not TimeEntry.objects.exists()


def test_it_names_the_missing_parts_of_a_time_entry(pm):
    response = pm.post("timeentries", {"timeentries": {"description": "No hours"}})

    assert response.status_code == 500
    assert pointers_of(response) == {
        "/timeentries/timestampDate",
        "/timeentries/actualHours",
        "/timeentries/links/action",
        "/timeentries/links/owner",
        "/timeentries/links/createdBy",
    }
    assert not TimeEntry.objects.exists()


def test_it_refuses_an_owner_or_creator_who_is_not_a_user_with_tr03(pm):
    action, client = make_action(), make_participant()

    response = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31",
                "actualHours": 1,
                "billingBehavior": "Maybe",
                "links": {"action": action.pk, "owner": client.pk, "createdBy": 999999},
            }
        },
    )

    assert response.status_code == 500
    codes = {error["source"]["pointer"]: error["code"] for error in errors_of(response)}
    assert codes == {"/timeentries/billingBehavior": "1300"}
    response = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31",
                "actualHours": 1,
                "links": {"action": action.pk, "owner": client.pk, "createdBy": 999999},
            }
        },
    )
    codes = {error["source"]["pointer"]: error["code"] for error in errors_of(response)}
    assert codes == {"/timeentries/links/owner": "TR03", "/timeentries/links/createdBy": "TR03"}
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize("hours", [1.255, -1, 25])
def test_it_refuses_hours_with_more_than_two_places_or_out_of_range(pm, hours):
    owner = make_user()
    response = pm.post(
        "timeentries",
        {
            "timeentries": {
                "timestampDate": "2025-01-31",
                "actualHours": hours,
                "links": {"action": make_action().pk, "owner": owner.pk, "createdBy": owner.pk},
            }
        },
    )

    assert response.status_code == 500
    assert "/timeentries/actualHours" in pointers_of(response)


def test_it_lists_time_entries_of_one_action_with_their_linked_action(pm):
    owner, action = make_user(), make_action()
    wanted = make_time_entry(action, owner)
    make_time_entry(make_action(), owner)

    body = body_of(pm.get("timeentries", {"action": action.pk, "include": "action,owner"}))

    assert body["timeentries"]["id"] == wanted.pk
    assert records_of(body["linked"], "actions")[0]["id"] == action.pk
    assert [p["id"] for p in body["linked"]["participants"]] == [owner.pk]
    assert_matches_schema(body, "timeentries")


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
    assert hook["triggeredLastTimestamp"] is None
    assert_matches_schema(body_of(created), "resthooks")
    listed = body_of(pm.get("resthooks"))
    assert_matches_schema(listed, "resthooks")
    assert listed["resthooks"]["id"] == hook["id"]

    deleted = pm.delete(f"resthooks/{hook['id']}")

    assert deleted.status_code == 204
    assert not RestHook.objects.exists()


def test_it_registers_a_resthook_sent_in_the_old_wikis_list_form(pm):
    response = pm.post(
        "resthooks",
        {"resthooks": [{"eventName": "ActionCreated", "targetUrl": "https://hub.test/h?id=1"}]},
    )

    assert response.status_code == 200
    assert RestHook.objects.get().target_url == "https://hub.test/h?id=1"


def test_it_deletes_several_resthooks_by_a_comma_list(pm):
    first, second, kept = (
        RestHook.objects.create(event_name="ActionCreated", target_url=f"http://hub.test/{n}")
        for n in range(3)
    )

    deleted = pm.delete(f"resthooks/{first.pk},{second.pk}")
    missing = pm.delete(f"resthooks/{kept.pk},999999")

    assert deleted.status_code == 204
    assert missing.status_code == 404
    assert list(RestHook.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_put_changes_a_resthook_and_makes_it_active_again(pm):
    hook = RestHook.objects.create(
        event_name="ActionCreated",
        target_url="http://hub.test/old",
        status=RestHook.Status.DISABLED,
    )

    response = pm.put(
        f"resthooks/{hook.pk}",
        {"resthooks": {"eventName": "ActionUpdated", "targetUrl": "http://hub.test/new"}},
    )

    assert response.status_code == 200
    record = body_of(response)["resthooks"]
    assert (record["eventName"], record["targetUrl"], record["status"]) == (
        "ActionUpdated",
        "http://hub.test/new",
        "Active",
    )


@pytest.mark.parametrize(
    ("registration", "pointer"),
    [
        ({"eventName": "TimeEntryDeleted", "targetUrl": "https://hub.test/h"}, "eventName"),
        ({"eventName": "ActionParticipantCreated", "targetUrl": "https://hub.test/h"}, "eventName"),
        ({"eventName": "ActionCreated", "targetUrl": "ftp://hub.test/h"}, "targetUrl"),
        ({"eventName": "ActionCreated"}, "targetUrl"),
    ],
)
def test_it_refuses_an_undocumented_event_or_a_bad_url(pm, registration, pointer):
    response = pm.post("resthooks", {"resthooks": registration})

    assert response.status_code == 500
    [error] = errors_of(response)
    assert (error["code"], error["source"]) == ("1300", {"pointer": f"/resthooks/{pointer}"})
    assert not RestHook.objects.exists()


def test_it_accepts_every_one_of_the_21_documented_events(pm):
    for event in RestHook.Event.values:
        response = pm.post(
            "resthooks", {"resthooks": {"eventName": event, "targetUrl": "https://hub.test/h"}}
        )
        assert response.status_code == 200, event

    assert RestHook.objects.count() == 21


# N+1 guards --------------------------------------------------------------------------


def _grow(resource: str, count: int) -> None:
    owner, client = make_user(email=f"owner{count}@example-law.test"), make_participant()
    for n in range(count):
        if resource == "participants":
            make_participant(last_name=f"P{n}")
        elif resource in ("actions", "actionparticipants"):
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
        ("actionparticipants", {"include": "action,participant,participantType"}),
        ("timeentries", {"include": "action,owner,createdBy"}),
        ("users", {"include": "participant"}),
        ("resthooks", {}),
    ],
)
def test_listing_takes_as_many_queries_for_30_records_as_for_3(pm, resource, params):
    _grow(resource, 3)
    few = sandbox_queries(lambda: pm.get(resource, params))
    _grow(resource, 27)

    many = sandbox_queries(lambda: pm.get(resource, params))

    assert many == few
