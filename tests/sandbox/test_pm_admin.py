"""Admin screens of the PM emulator: every screen answers, and saves go through the services."""

import json
from decimal import Decimal

import pytest
import responses
from django.urls import reverse

from sandbox.pm import services
from sandbox.pm.models import (
    AccessToken,
    Action,
    ActionType,
    Participant,
    RestHook,
    TimeEntry,
    User,
)

from .test_pm_support import (
    PM,
    action_type,
    make_action,
    make_participant,
    make_time_entry,
    make_user,
    sandbox_queries,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def _one_of_each() -> dict:
    owner = make_user()
    action = make_action(assigned_to=owner)
    services.token_issue()
    return {
        "participant": action.primary_participant_ids[0],
        "user": owner.pk,
        "actiontype": action.action_type_id,
        "action": action.pk,
        "timeentry": make_time_entry(action, owner).pk,
        "resthook": services.resthook_create(
            event_name="ActionCreated", target_url="http://hub.test/h"
        ).pk,
        "accesstoken": AccessToken.objects.get().pk,
    }


MODELS = ["participant", "user", "actiontype", "action", "timeentry", "resthook", "accesstoken"]


@pytest.mark.parametrize("model", MODELS)
def test_every_pm_admin_screen_answers(admin_client, model):
    pk = _one_of_each()[model]

    changelist = admin_client.get(reverse(f"admin:sandbox_pm_{model}_changelist"))
    add = admin_client.get(reverse(f"admin:sandbox_pm_{model}_add"))
    change = admin_client.get(reverse(f"admin:sandbox_pm_{model}_change", args=[pk]))

    assert changelist.status_code == 200
    assert add.status_code == (403 if model == "accesstoken" else 200)
    assert change.status_code == 200


def test_a_participant_added_in_the_admin_can_be_read_back_from_the_api(admin_client):
    response = admin_client.post(
        reverse("admin:sandbox_pm_participant_add"),
        {
            "first_name": "James",
            "last_name": "Bond",
            "reference": "C-007",
            "email": "james.bond@example.com",
            "physical_city": "London",
            "physical_country": "GB",
            "phone1_label": "Mobile",
            "phone1_number": "7700 900007",
        },
    )

    assert response.status_code == 302
    participant = Participant.objects.get()
    body = PM().get(f"participants/{participant.pk}").json()["participants"]
    assert body["displayName"] == "Bond, James"
    assert body["reference"] == "C-007"
    assert body["physicalCity"] == "London"
    assert body["links"]["physicalCountry"] == "GB"
    assert body["phone1Number"] == "7700 900007"


def test_the_admin_refuses_a_reference_with_spaces(admin_client):
    response = admin_client.post(
        reverse("admin:sandbox_pm_participant_add"), {"last_name": "Bond", "reference": "C 7"}
    )

    assert response.status_code == 200
    assert "A Reference may not contain" in response.content.decode()
    assert not Participant.objects.exists()


def test_a_change_saved_in_the_admin_fires_the_hook(
    admin_client, django_capture_on_commit_callbacks
):
    participant = make_participant(first_name="Jane", last_name="Smith")
    services.resthook_create(event_name="ParticipantUpdated", target_url="http://hub.test/h")
    before = participant.modified_at

    with responses.RequestsMock() as http:
        http.post("http://hub.test/h", status=200)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            response = admin_client.post(
                reverse("admin:sandbox_pm_participant_change", args=[participant.pk]),
                {"first_name": "Jane", "last_name": "Jones"},
            )
        payloads = [json.loads(call.request.body) for call in http.calls]

    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.display_name == "Jones, Jane"
    assert participant.modified_at > before
    assert payloads == [
        {**payloads[0], "event": "ParticipantUpdated", "ids": [participant.pk]},
    ]


def test_a_user_added_in_the_admin_is_a_participant_too(admin_client):
    response = admin_client.post(
        reverse("admin:sandbox_pm_user_add"),
        {
            "first_name": "Ann",
            "last_name": "Lawyer",
            "email": "Ann.Lawyer@Example-Law.test",
            "is_active": "on",
            "hourly_rate": "300.00",
        },
    )

    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "ann.lawyer@example-law.test"
    assert Participant.objects.get(pk=user.pk).display_name == "Lawyer, Ann"


def test_the_admin_refuses_a_second_user_with_the_same_email(admin_client):
    make_user(email="ann.lawyer@example-law.test")

    response = admin_client.post(
        reverse("admin:sandbox_pm_user_add"),
        {
            "first_name": "Ann",
            "last_name": "Other",
            "email": "ANN.LAWYER@example-law.test",
            "hourly_rate": "1",
        },
    )

    assert response.status_code == 200
    assert User.objects.count() == 1


def test_an_action_added_in_the_admin_keeps_its_clients_in_order(admin_client):
    first, second = make_participant(last_name="First"), make_participant(last_name="Second")
    lawyer = make_user()

    response = admin_client.post(
        reverse("admin:sandbox_pm_action_add"),
        {
            "name": "Purchase of 222 Beach Rd",
            "action_type": action_type().pk,
            "assigned_to": lawyer.pk,
            "status": "Active",
            "priority": "0",
            "primary_participants": f"{second.pk}, {first.pk}",
        },
    )

    assert response.status_code == 302
    action = Action.objects.get()
    assert action.primary_participant_ids == [second.pk, first.pk]
    assert PM().get(f"actions/{action.pk}").json()["actions"]["links"]["assignedTo"] == lawyer.pk


def test_the_admin_refuses_unknown_clients_on_an_action(admin_client):
    response = admin_client.post(
        reverse("admin:sandbox_pm_action_add"),
        {
            "name": "X",
            "action_type": action_type().pk,
            "status": "Active",
            "priority": "0",
            "primary_participants": "999999",
        },
    )

    assert response.status_code == 200
    assert "No participant with id 999999." in response.content.decode()
    assert not Action.objects.exists()


def test_a_time_entry_added_in_the_admin_takes_its_owners_rate(admin_client):
    owner, action = make_user(hourly_rate=Decimal("250.00")), make_action()

    response = admin_client.post(
        reverse("admin:sandbox_pm_timeentry_add"),
        {
            "action": action.pk,
            "owner": owner.pk,
            "timestamp_date": "2025-01-31",
            "description": "Review contract",
            "actual_hours": "2.00",
            "billable_hours": "2.00",
            "billing_behavior": "Bill",
            "rate_unit_price": "0",
            "billable_amount_type": "Calculated",
            "billable_amount": "0",
        },
    )

    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert entry.rate_unit_price == Decimal("250.00")
    assert entry.billable_amount == Decimal("500.00")
    assert entry.created_by_id == owner.pk


def test_a_time_entry_deleted_in_the_admin_goes_through_the_service(
    admin_client, django_capture_on_commit_callbacks
):
    entry = make_time_entry(make_action(), make_user())
    services.resthook_create(event_name="TimeEntryDeleted", target_url="http://hub.test/h")

    with responses.RequestsMock() as http:
        http.post("http://hub.test/h", status=200)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            admin_client.post(
                reverse("admin:sandbox_pm_timeentry_delete", args=[entry.pk]), {"post": "yes"}
            )
        events = [json.loads(call.request.body)["event"] for call in http.calls]

    assert not TimeEntry.objects.exists()
    assert events == ["TimeEntryDeleted"]


def test_a_resthook_added_in_the_admin_is_active_and_cannot_be_edited(admin_client):
    response = admin_client.post(
        reverse("admin:sandbox_pm_resthook_add"),
        {"event_name": "ActionCreated", "target_url": "http://hub:8000/hooks/pm"},
    )
    hook = RestHook.objects.get()
    edit = admin_client.post(
        reverse("admin:sandbox_pm_resthook_change", args=[hook.pk]),
        {"event_name": "ActionUpdated", "target_url": "http://elsewhere.test/"},
    )

    assert response.status_code == 302
    assert hook.status == RestHook.Status.ACTIVE
    hook.refresh_from_db()
    assert edit.status_code == 302
    assert (hook.event_name, hook.target_url) == ("ActionCreated", "http://hub:8000/hooks/pm")


def _grow(model: str, count: int) -> None:
    owner = make_user(email=f"owner{count}@example-law.test")
    client = make_participant()
    for n in range(count):
        if model == "action":
            make_action(client=client, assigned_to=owner)
        elif model == "timeentry":
            make_time_entry(make_action(client=client, assigned_to=owner), owner)
        elif model == "participant":
            make_participant(last_name=f"P{n}")
        elif model == "user":
            make_user(first_name=f"U{n}", email=f"u{n}.{count}@example-law.test")
        elif model == "actiontype":
            ActionType.objects.create(name=f"Type {count}-{n}")
        elif model == "resthook":
            services.resthook_create(event_name="ActionCreated", target_url="http://hub.test/h")
        else:
            services.token_issue()


@pytest.mark.parametrize("model", MODELS)
def test_a_changelist_takes_as_many_queries_for_30_rows_as_for_3(admin_client, model):
    url = reverse(f"admin:sandbox_pm_{model}_changelist")
    _grow(model, 3)
    few = sandbox_queries(lambda: admin_client.get(url))
    _grow(model, 27)

    many = sandbox_queries(lambda: admin_client.get(url))

    assert many == few
