"""The resources the reference files lack, validated against supplement.openapi.yml:
users, participanttypes, actiontypes and actionparticipants."""

import datetime

import pytest
from django.utils import timezone

from sandbox.pm import services
from sandbox.pm.models import Action, ActionParticipant, ParticipantType

from .test_pm_support import (
    PM,
    action_type,
    assert_matches_schema,
    body_of,
    errors_of,
    ids_of,
    make_action,
    make_participant,
    make_user,
    participant_types,
    pointers_of,
    records_of,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


# Users -------------------------------------------------------------------------------


def test_it_lists_users_with_email_address_and_flags_and_no_names():
    ann = make_user(first_name="Ann", last_name="Lawyer")
    bob = make_user(first_name="Bob", last_name="Clerk", is_active=False)
    pm = PM(user=ann)

    body = body_of(pm.get("users"))
    one = body_of(pm.get(f"users/{bob.pk}"))

    assert_matches_schema(body, "users")
    assert_matches_schema(one, "users")
    assert one["users"] == {
        "id": bob.pk,
        "emailAddress": "bob.clerk@example-law.test",
        "isActive": "F",
        "isCurrent": "F",
        "hasAuthority": "T",
        "links": {"participant": str(bob.pk)},
    }
    assert [user["isCurrent"] for user in body["users"]] == ["T", "F"]


def test_users_current_is_the_user_whose_token_asks_and_includes_its_participant():
    ann = make_user(first_name="Ann", last_name="Lawyer")
    make_user(first_name="Bob", last_name="Clerk")

    body = body_of(PM(user=ann).get("users/current", {"include": "participant"}))

    assert_matches_schema(body, "users")
    assert body["users"]["id"] == ann.pk
    assert body["users"]["isCurrent"] == "T"
    [participant] = records_of(body["linked"], "participants")
    assert (participant["id"], participant["firstName"], participant["lastName"]) == (
        ann.pk,
        "Ann",
        "Lawyer",
    )


def test_it_finds_users_by_email_address_ignoring_case_and_by_is_active():
    ann = make_user(first_name="Ann", last_name="Lawyer")
    bob = make_user(first_name="Bob", last_name="Clerk", is_active=False)
    pm = PM(user=ann)

    assert ids_of(pm.get("users", {"emailAddress": "ANN.LAWYER@example-law.test"}), "users") == [
        ann.pk
    ]
    assert ids_of(pm.get("users", {"isActive": "F"}), "users") == [bob.pk]
    assert pm.get("users", {"email": "ann.lawyer@example-law.test"}).status_code == 400


def test_a_users_id_is_its_participant_id():
    user = make_user(first_name="James", last_name="Bond")

    participant = body_of(PM(user=user).get(f"participants/{user.pk}"))["participants"]

    assert participant["displayName"] == "Bond, James"
    assert participant["email"] == user.email


def test_users_are_read_only():
    pm = PM()

    assert pm.post("users", {"users": {"emailAddress": "x@example.com"}}).status_code == 405
    assert pm.put("users/current", {"users": {"isActive": "F"}}).status_code == 405


# Participant types and action types --------------------------------------------------


def test_it_lists_the_seeded_participant_types_and_client_is_not_id_1():
    types = participant_types()
    pm = PM()

    body = body_of(pm.get("participanttypes", {"sort": "id"}))
    client = body_of(pm.get("participanttypes", {"name": "Client"}))

    assert_matches_schema(body, "participanttypes")
    assert [t["name"] for t in body["participanttypes"]][:3] == ["Staff", "Client", "Other side"]
    assert client["participanttypes"] == {
        "id": types["Client"].pk,
        "name": "Client",
        "description": "The firm's client on the matter.",
        "companyFlag": "F",
        "isBaseParticipantType": "F",
    }
    assert types["Client"].pk != 1
    assert types["Client"].pk > types["Staff"].pk


def test_it_finds_participant_types_with_ilike_and_they_are_read_only():
    participant_types()
    pm = PM()

    found = body_of(pm.get("participanttypes", {"name_ilike": "other*"}))
    created = pm.post("participanttypes", {"participanttypes": {"name": "Witness"}})

    assert found["participanttypes"]["name"] == "Other side"
    assert created.status_code == 405
    assert not ParticipantType.objects.filter(name="Witness").exists()


def test_every_action_type_has_client_as_its_primary_participant_type():
    matter_type = action_type()

    body = body_of(PM().get(f"actiontypes/{matter_type.pk}", {"include": "primaryParticipantType"}))

    assert body["actiontypes"] == {
        "id": matter_type.pk,
        "name": "General Matter",
        "links": {"primaryParticipantType": str(participant_types()["Client"].pk)},
    }
    assert records_of(body["linked"], "participanttypes")[0]["name"] == "Client"


# Action participants -----------------------------------------------------------------


@pytest.fixture
def pm():
    return PM()


def _link(action, participant, participant_type) -> dict:
    return {
        "actionparticipants": {
            "links": {
                "action": str(action.pk),
                "participantType": str(participant_type.pk),
                "participant": participant.pk,
            }
        }
    }


def test_it_adds_a_participant_to_an_action_with_a_composite_id(pm):
    action = make_action()
    seller = make_participant(last_name="Seller")
    other_side = participant_types()["Other side"]

    response = pm.post("actionparticipants", _link(action, seller, other_side))

    assert response.status_code == 200
    body = body_of(response)
    assert_matches_schema(body, "actionparticipants")
    assert body["actionparticipants"] == {
        "id": f"{action.pk}--{other_side.pk}--{seller.pk}",
        "participantNumber": 2,
        "links": {
            "action": str(action.pk),
            "participantType": str(other_side.pk),
            "participant": str(seller.pk),
        },
    }


def test_it_reads_action_participants_by_composite_id_and_by_filters(pm):
    action = make_action()
    client_id = action.primary_participant_ids[0]
    client_type = participant_types()["Client"]
    composite = f"{action.pk}--{client_type.pk}--{client_id}"
    make_action()

    one = body_of(pm.get(f"actionparticipants/{composite}"))
    by_action = pm.get("actionparticipants", {"action": action.pk})
    by_type = pm.get(
        "actionparticipants", {"participantType_in": f"{client_type.pk}", "participant": client_id}
    )
    missing = pm.get(f"actionparticipants/{action.pk}--{client_type.pk}--999999")
    malformed = pm.get("actionparticipants/12")

    assert_matches_schema(one, "actionparticipants")
    assert one["actionparticipants"]["id"] == composite
    assert ids_of(by_action, "actionparticipants") == [composite]
    assert ids_of(by_type, "actionparticipants") == [composite]
    assert (missing.status_code, malformed.status_code) == (404, 404)


def test_adding_a_client_changes_primary_participants_and_the_modified_timestamp(pm):
    action = make_action()
    then = timezone.now() - datetime.timedelta(days=1)
    Action.objects.filter(pk=action.pk).update(modified_at=then)
    second = make_participant(last_name="Co-buyer")

    pm.post("actionparticipants", _link(action, second, participant_types()["Client"]))

    record = body_of(pm.get(f"actions/{action.pk}"))["actions"]
    first = action.primary_participant_ids[0]
    assert record["links"]["primaryParticipants"] == [str(first), str(second.pk)]
    action.refresh_from_db()
    assert action.modified_at > then


def test_adding_a_participant_in_another_role_leaves_the_action_alone(pm):
    action = make_action()
    then = timezone.now() - datetime.timedelta(days=1)
    Action.objects.filter(pk=action.pk).update(modified_at=then)

    pm.post("actionparticipants", _link(action, make_participant(), participant_types()["Staff"]))

    action.refresh_from_db()
    assert action.modified_at == then
    assert len(action.primary_participant_ids) == 1


def test_removing_a_client_changes_primary_participants_and_the_modified_timestamp(pm):
    client = make_participant()
    action = make_action(client=client)
    then = timezone.now() - datetime.timedelta(days=1)
    Action.objects.filter(pk=action.pk).update(modified_at=then)
    composite = f"{action.pk}--{participant_types()['Client'].pk}--{client.pk}"

    response = pm.delete(f"actionparticipants/{composite}")

    assert response.status_code == 204
    assert not ActionParticipant.objects.exists()
    record = body_of(pm.get(f"actions/{action.pk}"))["actions"]
    assert record["links"]["primaryParticipants"] == []
    action.refresh_from_db()
    assert action.modified_at > then


def test_it_refuses_a_duplicate_or_incomplete_action_participant(pm):
    client = make_participant()
    action = make_action(client=client)

    duplicate = pm.post("actionparticipants", _link(action, client, participant_types()["Client"]))
    incomplete = pm.post("actionparticipants", {"actionparticipants": {"links": {}}})
    unknown = pm.post(
        "actionparticipants",
        {
            "actionparticipants": {
                "links": {"action": 999999, "participantType": 999999, "participant": 999999}
            }
        },
    )

    assert duplicate.status_code == 500
    assert errors_of(duplicate)[0]["code"] == "1300"
    assert incomplete.status_code == 500
    assert pointers_of(incomplete) == {
        "/actionparticipants/links/action",
        "/actionparticipants/links/participantType",
        "/actionparticipants/links/participant",
    }
    assert unknown.status_code == 500
    assert pointers_of(unknown) == pointers_of(incomplete)
    assert ActionParticipant.objects.count() == 1


def test_action_participants_cannot_be_changed_only_added_and_removed(pm):
    action = make_action()
    composite = (
        f"{action.pk}--{participant_types()['Client'].pk}--{action.primary_participant_ids[0]}"
    )

    response = pm.put(f"actionparticipants/{composite}", {"actionparticipants": {}})

    assert response.status_code == 405


def test_participants_are_numbered_in_the_order_they_were_added(pm):
    action = services.action_create(
        name="Sale", action_type=action_type(), primary_participant_ids=[]
    )
    people = [make_participant(last_name=name) for name in ("A", "B", "C")]
    for person in people:
        pm.post("actionparticipants", _link(action, person, participant_types()["Client"]))

    body = body_of(pm.get("actionparticipants", {"action": action.pk, "sort": "participantNumber"}))

    assert [link["participantNumber"] for link in body["actionparticipants"]] == [1, 2, 3]
    assert action.primary_participant_ids == [person.pk for person in people]
