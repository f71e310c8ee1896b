"""REST hook delivery: who is told, what the POST carries, and when a hook is disabled
or deleted."""

import json

import pytest
import requests
import responses

from sandbox.pm import services
from sandbox.pm.models import ActionParticipant, RestHook

from .test_pm_support import (
    PM,
    action_type,
    body_of,
    make_action,
    make_participant,
    make_time_entry,
    make_user,
    participant_types,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

TARGET = "http://hub.test/pm/hooks?secret=s3"


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """Run `change()` as a committed transaction and return the POSTs the hooks sent."""

    def run(change):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
            http.post(TARGET, status=200)
            http.post("http://hub.test/broken", status=500)
            http.post("http://hub.test/gone", status=401)
            with django_capture_on_commit_callbacks(using="sandbox", execute=True):
                change()
            return [call.request for call in http.calls]

    return run


def register(event: str, url: str = TARGET) -> RestHook:
    return services.resthook_create(event_name=event, target_url=url)


def payloads(calls) -> list[dict]:
    return [json.loads(request.body) for request in calls]


def test_it_posts_the_record_unsigned_as_json_api_data_to_the_exact_target_url(delivered):
    hook = register("ParticipantCreated")
    pm = PM()

    calls = delivered(
        lambda: pm.post(
            "participants",
            {
                "participants": {
                    "displayName": "Bond, James",
                    "lastName": "Bond",
                    "firstName": "James",
                }
            },
        )
    )

    [request] = calls
    assert request.url == TARGET
    assert request.headers["Content-Type"] == "application/json"
    assert not [name for name in request.headers if name.lower().startswith("x-")]
    payload = json.loads(request.body)
    record = body_of(pm.get("participants", {"lastName": "Bond"}))["participants"]
    assert set(payload) == {"data", "meta"}
    assert payload["meta"] == {
        "debug": {"resthook": {"id": hook.pk, "event_name": "ParticipantCreated"}}
    }
    data = payload["data"]
    assert (data["type"], data["id"]) == ("participants", str(record["id"]))
    assert data["attributes"] == {
        name: value for name, value in record.items() if name not in ("id", "links")
    }
    assert data["relationships"] == {
        "physicalCountry": {"data": None},
        "mailingCountry": {"data": None},
    }


def test_an_action_delivery_carries_relationships_with_string_ids(delivered):
    register("ActionCreated")
    lawyer, client = make_user(), make_participant()

    calls = delivered(lambda: make_action(client=client, assigned_to=lawyer))

    [payload] = payloads(calls)
    data = payload["data"]
    assert data["type"] == "actions"
    assert data["attributes"]["name"] == "Purchase of 222 Beach Rd"
    assert data["relationships"]["assignedTo"] == {
        "data": {"type": "participants", "id": str(lawyer.pk)}
    }
    assert data["relationships"]["primaryParticipants"] == {
        "data": [{"type": "participants", "id": str(client.pk)}]
    }
    assert data["relationships"]["actionType"]["data"]["type"] == "actiontypes"


def _participant_link(action):
    return ActionParticipant.objects.get(action=action)


def _add_other_side():
    action = services.action_create(name="Sale of 1 Main St", action_type=action_type())
    return services.action_participant_create(
        action_id=action.pk,
        participant_type_id=participant_types()["Other side"].pk,
        participant_id=make_participant().pk,
    )


CHANGES = {
    "ParticipantCreated": lambda: make_participant(),
    "ParticipantUpdated": lambda: services.participant_update(make_participant(), last_name="New"),
    "ActionCreated": lambda: make_action(),
    "ActionUpdated": lambda: services.action_update(make_action(), reference="000123"),
    "ActionParticipantAdded": _add_other_side,
    "ActionParticipantDeleted": lambda: services.action_participant_delete(
        _participant_link(make_action())
    ),
    "TimeEntryCreated": lambda: make_time_entry(make_action(), make_user()),
    "TimeEntryUpdated": lambda: services.time_entry_update(
        make_time_entry(make_action(), make_user()), description="Changed"
    ),
}
RESOURCES = {
    "Participant": "participants",
    "Action": "actions",
    "ActionParticipant": "actionparticipants",
    "TimeEntry": "timeentries",
}


@pytest.mark.parametrize("event", CHANGES)
def test_it_announces_each_kind_of_change_to_the_hooks_for_that_event(delivered, event):
    register(event)

    calls = delivered(CHANGES[event])

    [payload] = payloads(calls)
    assert payload["meta"]["debug"]["resthook"]["event_name"] == event
    resource = next(
        RESOURCES[prefix]
        for prefix in sorted(RESOURCES, key=len, reverse=True)
        if event.startswith(prefix)
    )
    assert payload["data"]["type"] == resource


def test_a_deletion_event_carries_the_record_as_it_was(delivered):
    register("ActionParticipantDeleted")
    client = make_participant()
    action = make_action(client=client)
    link = _participant_link(action)

    [payload] = payloads(delivered(lambda: services.action_participant_delete(link)))

    data = payload["data"]
    assert data["id"] == link.composite_id
    assert data["attributes"] == {"participantNumber": 1}
    assert data["relationships"]["participant"] == {
        "data": {"type": "participants", "id": str(client.pk)}
    }
    assert not ActionParticipant.objects.exists()


def test_adding_a_client_also_announces_the_action_as_updated(delivered):
    register("ActionUpdated")
    action = make_action()

    calls = delivered(
        lambda: services.action_participant_create(
            action_id=action.pk,
            participant_type_id=participant_types()["Client"].pk,
            participant_id=make_participant().pk,
        )
    )

    [payload] = payloads(calls)
    assert len(payload["data"]["relationships"]["primaryParticipants"]["data"]) == 2


def test_nothing_is_announced_when_a_time_entry_is_deleted(delivered):
    for event in RestHook.Event.values:
        register(event)
    entry = make_time_entry(make_action(), make_user())

    assert delivered(lambda: services.time_entry_delete(entry)) == []


def test_it_tells_only_active_hooks_registered_for_the_event(delivered):
    wanted = register("ParticipantCreated")
    register("ActionCreated")
    for status in (RestHook.Status.DISABLED, RestHook.Status.DELETED):
        hook = register("ParticipantCreated", f"http://hub.test/{status}")
        RestHook.objects.filter(pk=hook.pk).update(status=status)

    calls = delivered(make_participant)

    assert [request.url for request in calls] == [TARGET]
    wanted.refresh_from_db()
    assert wanted.triggered_count == 1
    assert wanted.triggered_last_at is not None
    assert wanted.last_status_code == 200


def test_a_401_answer_deletes_the_hook_and_nothing_is_sent_after(delivered):
    gone = register("ParticipantCreated", "http://hub.test/gone")

    first = delivered(make_participant)
    gone.refresh_from_db()
    second = delivered(make_participant)

    assert len(first) == 1
    assert gone.status == RestHook.Status.DELETED
    assert gone.last_status_code == 401
    assert second == []


def test_a_500_answer_disables_the_hook_and_nothing_is_sent_after(delivered):
    broken = register("ParticipantCreated", "http://hub.test/broken")

    first = delivered(make_participant)
    broken.refresh_from_db()
    second = delivered(make_participant)

    assert len(first) == 1
    assert broken.status == RestHook.Status.DISABLED
    assert broken.last_status_code == 500
    assert "500" in broken.last_error
    assert second == []


def test_the_api_shows_a_deleted_hook_as_deleted(delivered):
    register("ParticipantCreated", "http://hub.test/gone")
    delivered(make_participant)

    body = body_of(PM().get("resthooks"))

    assert body["resthooks"]["status"] == "Deleted"
    assert body["resthooks"]["triggeredCount"] == 1


@pytest.mark.parametrize("status", [201, 204, 302, 404])
def test_even_a_success_other_than_200_disables_the_hook(
    django_capture_on_commit_callbacks, status
):
    hook = register("ParticipantCreated")

    with responses.RequestsMock() as http:
        http.post(TARGET, status=status)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            make_participant()

    hook.refresh_from_db()
    assert hook.status == RestHook.Status.DISABLED
    assert hook.last_status_code == status


@pytest.mark.parametrize(
    "failure", [requests.ConnectTimeout("timed out"), requests.ConnectionError("refused")]
)
def test_it_disables_a_hook_whose_target_cannot_be_reached(
    django_capture_on_commit_callbacks, failure
):
    hook = register("ParticipantCreated")

    with responses.RequestsMock() as http:
        http.post(TARGET, body=failure)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            make_participant()

    hook.refresh_from_db()
    assert hook.status == RestHook.Status.DISABLED
    assert hook.last_status_code is None
    assert type(failure).__name__ in hook.last_error


def test_registering_again_or_a_put_is_how_a_hook_comes_back(delivered):
    broken = register("ParticipantCreated", "http://hub.test/broken")
    delivered(make_participant)

    register("ParticipantCreated")
    services.resthook_update(RestHook.objects.get(pk=broken.pk), target_url=TARGET)
    calls = delivered(make_participant)

    assert [request.url for request in calls] == [TARGET, TARGET]


def test_a_rejected_write_announces_nothing(delivered):
    register("ParticipantCreated")
    pm = PM()

    calls = delivered(lambda: pm.post("participants", {"participants": {"lastName": "Bond"}}))

    assert calls == []


def test_an_update_that_changes_nothing_announces_nothing(delivered):
    participant = make_participant(last_name="Same")
    register("ParticipantUpdated")

    calls = delivered(lambda: services.participant_update(participant, last_name="Same"))

    assert calls == []


def test_nothing_is_sent_before_the_change_commits(django_capture_on_commit_callbacks):
    register("ParticipantCreated")

    with responses.RequestsMock() as http:
        http.post(TARGET, status=200)
        with django_capture_on_commit_callbacks(using="sandbox") as callbacks:
            make_participant()
        sent_before_commit = len(http.calls)
        for callback in callbacks:
            callback()
        sent_after_commit = len(http.calls)

    assert (sent_before_commit, sent_after_commit) == (0, 1)
