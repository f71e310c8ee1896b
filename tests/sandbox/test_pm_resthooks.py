"""REST hook delivery: who is told, what the POST carries, and when a hook is disabled."""

import hashlib
import hmac
import json

import pytest
import requests
import responses
from django.conf import settings

from sandbox.pm import services
from sandbox.pm.models import RestHook

from .test_pm_support import PM, make_action, make_participant, make_time_entry, make_user

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

TARGET = "http://hub.test/pm/hooks"


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """Run `change()` as a committed transaction and return the POSTs the hooks sent."""

    def run(change):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
            http.post(TARGET, status=200)
            http.post(f"{TARGET}/broken", status=500)
            with django_capture_on_commit_callbacks(using="sandbox", execute=True):
                change()
            return [call.request for call in http.calls]

    return run


def register(event: str, url: str = TARGET) -> RestHook:
    return services.resthook_create(event_name=event, target_url=url)


def expected_signature(body: bytes) -> str:
    secret = settings.SANDBOX_PM_WEBHOOK_SECRET.encode()
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_it_posts_a_signed_announcement_when_a_participant_is_created_through_the_api(
    delivered,
):
    register("ParticipantCreated")
    pm = PM()

    calls = delivered(lambda: pm.post("participants", {"participants": {"lastName": "Bond"}}))

    assert len(calls) == 1
    request = calls[0]
    payload = json.loads(request.body)
    participant_id = pm.get("participants").json()["participants"][0]["id"]
    assert payload["event"] == "ParticipantCreated"
    assert payload["resource"] == "participants"
    assert payload["ids"] == [participant_id]
    assert payload["timestamp"]
    assert request.headers["X-PM-Signature"] == expected_signature(request.body)
    assert request.headers["X-PM-Event"] == "ParticipantCreated"
    assert request.headers["Content-Type"] == "application/json"


CHANGES = {
    "ParticipantUpdated": lambda: services.participant_update(make_participant(), last_name="New"),
    "ActionCreated": lambda: make_action(),
    "ActionUpdated": lambda: services.action_update(make_action(), reference="000123"),
    "TimeEntryCreated": lambda: make_time_entry(make_action(), make_user()),
    "TimeEntryUpdated": lambda: services.time_entry_update(
        make_time_entry(make_action(), make_user()), description="Changed"
    ),
    "TimeEntryDeleted": lambda: services.time_entry_delete(
        make_time_entry(make_action(), make_user())
    ),
}


@pytest.mark.parametrize("event", CHANGES)
def test_it_announces_each_kind_of_change_to_the_hooks_for_that_event(delivered, event):
    register(event)

    calls = delivered(CHANGES[event])

    payloads = [json.loads(request.body) for request in calls]
    assert [payload["event"] for payload in payloads] == [event]
    assert len(payloads[0]["ids"]) == 1


def test_it_tells_only_active_hooks_registered_for_the_event(delivered):
    wanted = register("ParticipantCreated")
    register("ActionCreated")
    disabled = register("ParticipantCreated", f"{TARGET}/disabled")
    RestHook.objects.filter(pk=disabled.pk).update(status=RestHook.Status.DISABLED)

    calls = delivered(make_participant)

    assert [request.url for request in calls] == [TARGET]
    wanted.refresh_from_db()
    assert wanted.triggered_count == 1
    assert wanted.last_status_code == 200


def test_it_disables_a_hook_whose_target_answers_anything_but_200(delivered):
    broken = register("ParticipantCreated", f"{TARGET}/broken")

    first = delivered(make_participant)
    broken.refresh_from_db()
    second = delivered(make_participant)

    assert len(first) == 1
    assert broken.status == RestHook.Status.DISABLED
    assert broken.last_status_code == 500
    assert "500" in broken.last_error
    assert second == []


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


def test_it_disables_a_hook_whose_target_cannot_be_reached(django_capture_on_commit_callbacks):
    hook = register("ParticipantCreated")

    with responses.RequestsMock() as http:
        http.post(TARGET, body=requests.ConnectTimeout("timed out"))
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            make_participant()

    hook.refresh_from_db()
    assert hook.status == RestHook.Status.DISABLED
    assert hook.last_status_code is None
    assert "ConnectTimeout" in hook.last_error


def test_registering_again_is_how_a_disabled_hook_comes_back(delivered):
    register("ParticipantCreated", f"{TARGET}/broken")
    delivered(make_participant)

    register("ParticipantCreated")
    calls = delivered(make_participant)

    assert [request.url for request in calls] == [TARGET]


def test_a_rejected_write_announces_nothing(delivered):
    register("ParticipantCreated")
    pm = PM()

    calls = delivered(
        lambda: pm.post("participants", {"participants": {"lastName": "Bond", "reference": "A B"}})
    )

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
