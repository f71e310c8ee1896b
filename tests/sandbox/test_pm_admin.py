"""Admin screens of the PM emulator: every screen answers, and saves go through the services."""

import json
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.urls import reverse

from sandbox.pm import services
from sandbox.pm.models import (
    AccessToken,
    Action,
    ActionParticipant,
    ActionType,
    Grant,
    Participant,
    RefreshToken,
    RestHook,
    TimeEntry,
    User,
)

from .test_pm_support import (
    PM,
    action_type,
    body_of,
    client_type,
    make_action,
    make_participant,
    make_time_entry,
    make_user,
    participant_types,
    sandbox_queries,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def _grant(user: User | None = None) -> Grant:
    user = user or make_user(email=f"grant{Grant.objects.count()}@example-law.test")
    grant = services.grant_create(
        user=user, client_id=settings.SANDBOX_PM_CLIENT_ID, scopes=["all"]
    )
    services.token_issue(grant=grant)
    return grant


def _one_of_each() -> dict:
    owner = make_user()
    action = make_action(assigned_to=owner)
    grant = _grant(owner)
    return {
        "participant": action.primary_participant_ids[0],
        "user": owner.pk,
        "participanttype": client_type().pk,
        "actiontype": action.action_type_id,
        "action": action.pk,
        "timeentry": make_time_entry(action, owner).pk,
        "resthook": services.resthook_create(
            event_name="ActionCreated", target_url="http://hub.test/h"
        ).pk,
        "grant": grant.pk,
        "accesstoken": AccessToken.objects.get(grant=grant).pk,
        "refreshtoken": RefreshToken.objects.get(grant=grant).pk,
    }


MODELS = [
    "participant",
    "user",
    "participanttype",
    "actiontype",
    "action",
    "timeentry",
    "resthook",
    "grant",
    "accesstoken",
    "refreshtoken",
]
READ_ONLY = {"participanttype", "grant", "accesstoken", "refreshtoken"}


@pytest.mark.parametrize("model", MODELS)
def test_every_pm_admin_screen_answers(admin_client, model):
    pk = _one_of_each()[model]

    changelist = admin_client.get(reverse(f"sandbox_admin:sandbox_pm_{model}_changelist"))
    add = admin_client.get(reverse(f"sandbox_admin:sandbox_pm_{model}_add"))
    change = admin_client.get(reverse(f"sandbox_admin:sandbox_pm_{model}_change", args=[pk]))

    assert changelist.status_code == 200
    assert add.status_code == (403 if model in READ_ONLY else 200)
    assert change.status_code == 200


@pytest.mark.parametrize("model", sorted(READ_ONLY))
def test_grants_tokens_and_participant_types_cannot_be_changed_in_the_admin(admin_client, model):
    pk = _one_of_each()[model]

    page = admin_client.get(reverse(f"sandbox_admin:sandbox_pm_{model}_change", args=[pk]))

    assert 'name="_save"' not in page.content.decode()


def test_a_participant_added_in_the_admin_can_be_read_back_from_the_api(admin_client):
    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_participant_add"),
        {
            "first_name": "James",
            "last_name": "Bond",
            "import_external_reference": "C-007",
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
    assert body["importExternalReference"] == "C-007"
    assert body["physicalCity"] == "London"
    assert body["links"]["physicalCountry"] == "GB"
    assert body["phone1Number"] == "7700 900007"


def test_the_participant_admin_labels_and_searches_the_import_reference(admin_client):
    wanted = make_participant(last_name="Found", import_external_reference="REF-42")
    make_participant(last_name="Other")

    page = admin_client.get(
        reverse("sandbox_admin:sandbox_pm_participant_changelist"), {"q": "REF-42"}
    )
    form = admin_client.get(
        reverse("sandbox_admin:sandbox_pm_participant_change", args=[wanted.pk])
    )

    assert page.context["cl"].result_count == 1
    assert "Import reference (Reference)" in form.content.decode()
    assert 'name="reference"' not in form.content.decode()


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
                reverse("sandbox_admin:sandbox_pm_participant_change", args=[participant.pk]),
                {"first_name": "Jane", "last_name": "Jones"},
            )
        payloads = [json.loads(call.request.body) for call in http.calls]

    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.display_name == "Jones, Jane"
    assert participant.modified_at > before
    [payload] = payloads
    assert payload["data"]["id"] == str(participant.pk)
    assert payload["data"]["attributes"]["displayName"] == "Jones, Jane"
    assert payload["meta"]["debug"]["resthook"]["event_name"] == "ParticipantUpdated"


def test_a_user_added_in_the_admin_is_a_participant_too(admin_client):
    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_user_add"),
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
        reverse("sandbox_admin:sandbox_pm_user_add"),
        {
            "first_name": "Ann",
            "last_name": "Other",
            "email": "ANN.LAWYER@example-law.test",
            "hourly_rate": "1",
        },
    )

    assert response.status_code == 200
    assert User.objects.count() == 1


def _inline(rows: list[tuple[int, int]], existing: list[ActionParticipant] = (), delete=()) -> dict:
    prefix = "participant_links"
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(existing) + len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(existing)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, link in enumerate(existing):
        data[f"{prefix}-{n}-id"] = str(link.pk)
        data[f"{prefix}-{n}-action"] = str(link.action_id)
        if link.pk in delete:
            data[f"{prefix}-{n}-DELETE"] = "on"
    for n, (type_id, participant_id) in enumerate(rows, start=len(existing)):
        data[f"{prefix}-{n}-participant_type"] = str(type_id)
        data[f"{prefix}-{n}-participant"] = str(participant_id)
    return data


def test_an_action_added_in_the_admin_keeps_its_clients_in_order(
    admin_client, django_capture_on_commit_callbacks
):
    first, second = make_participant(last_name="First"), make_participant(last_name="Second")
    seller = make_participant(last_name="Seller")
    lawyer = make_user()
    types = participant_types()
    services.resthook_create(event_name="ActionCreated", target_url="http://hub.test/h")

    with responses.RequestsMock() as http:
        http.post("http://hub.test/h", status=200)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            response = admin_client.post(
                reverse("sandbox_admin:sandbox_pm_action_add"),
                {
                    "name": "Purchase of 222 Beach Rd",
                    "action_type": action_type().pk,
                    "assigned_to": lawyer.pk,
                    "status": "Active",
                    "priority": "0",
                    **_inline(
                        [
                            (types["Client"].pk, second.pk),
                            (types["Other side"].pk, seller.pk),
                            (types["Client"].pk, first.pk),
                        ]
                    ),
                },
            )
        [delivery] = [json.loads(call.request.body) for call in http.calls]

    assert response.status_code == 302, response.context and response.context["errors"]
    action = Action.objects.get()
    assert action.primary_participant_ids == [second.pk, first.pk]
    record = body_of(PM().get(f"actions/{action.pk}"))["actions"]
    assert record["links"]["assignedTo"] == str(lawyer.pk)
    clients = delivery["data"]["relationships"]["primaryParticipants"]["data"]
    assert [client["id"] for client in clients] == [str(second.pk), str(first.pk)]


def test_clients_added_and_removed_on_the_action_page_go_through_the_services(admin_client):
    action = make_action(client=make_participant(last_name="Old"))
    existing = list(ActionParticipant.objects.filter(action=action))
    newcomer = make_participant(last_name="New")

    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_action_change", args=[action.pk]),
        {
            "name": action.name,
            "action_type": action.action_type_id,
            "status": "Active",
            "priority": "0",
            **_inline(
                [(client_type().pk, newcomer.pk)],
                existing=existing,
                delete={existing[0].pk},
            ),
        },
    )

    assert response.status_code == 302
    action = Action.objects.get(pk=action.pk)
    assert action.primary_participant_ids == [newcomer.pk]


def test_the_admin_refuses_unknown_participants_on_an_action(admin_client):
    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_action_add"),
        {
            "name": "X",
            "action_type": action_type().pk,
            "status": "Active",
            "priority": "0",
            **_inline([(client_type().pk, 999999)]),
        },
    )

    assert response.status_code == 200
    assert not Action.objects.exists()


def test_an_action_type_added_in_the_admin_defaults_to_the_client_type(admin_client):
    page = admin_client.get(reverse("sandbox_admin:sandbox_pm_actiontype_add"))

    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_actiontype_add"),
        {"name": "Probate", "primary_participant_type": client_type().pk},
    )

    assert f'<option value="{client_type().pk}" selected>' in page.content.decode()
    assert response.status_code == 302
    assert ActionType.objects.get(name="Probate").primary_participant_type == client_type()


def test_a_time_entry_added_in_the_admin_takes_its_owners_rate(admin_client):
    owner, action = make_user(hourly_rate=Decimal("250.00")), make_action()

    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_timeentry_add"),
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


def test_a_time_entry_deleted_in_the_admin_goes_through_the_service_and_announces_nothing(
    admin_client, django_capture_on_commit_callbacks
):
    entry = make_time_entry(make_action(), make_user())
    for event in ("TimeEntryCreated", "TimeEntryUpdated"):
        services.resthook_create(event_name=event, target_url="http://hub.test/h")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.post("http://hub.test/h", status=200)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True):
            admin_client.post(
                reverse("sandbox_admin:sandbox_pm_timeentry_delete", args=[entry.pk]),
                {"post": "yes"},
            )
        sent = len(http.calls)

    assert not TimeEntry.objects.exists()
    assert sent == 0


def test_a_resthook_added_in_the_admin_is_active_and_cannot_be_edited(admin_client):
    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_resthook_add"),
        {"event_name": "ActionCreated", "target_url": "http://hub:8000/hooks/pm"},
    )
    hook = RestHook.objects.get()
    edit = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_resthook_change", args=[hook.pk]),
        {"event_name": "ActionUpdated", "target_url": "http://elsewhere.test/"},
    )

    assert response.status_code == 302
    assert hook.status == RestHook.Status.ACTIVE
    hook.refresh_from_db()
    assert edit.status_code == 302
    assert (hook.event_name, hook.target_url) == ("ActionCreated", "http://hub:8000/hooks/pm")


def test_the_resthook_list_shows_and_filters_deleted_hooks(admin_client):
    hook = services.resthook_create(event_name="ActionCreated", target_url="http://hub.test/h")
    RestHook.objects.filter(pk=hook.pk).update(status=RestHook.Status.DELETED)

    page = admin_client.get(
        reverse("sandbox_admin:sandbox_pm_resthook_changelist"), {"status": "Deleted"}
    )

    assert page.context["cl"].result_count == 1
    assert "Deleted" in page.content.decode()


def test_revoke_access_in_the_grant_admin_ends_its_tokens(admin_client):
    grant = _grant()
    token = services.token_issue(grant=grant).access_token
    assert PM(token).get("users/current").status_code == 200

    response = admin_client.post(
        reverse("sandbox_admin:sandbox_pm_grant_changelist"),
        {"action": "revoke_access", "_selected_action": [grant.pk]},
    )

    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert PM(token).get("users/current").status_code == 401


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
        elif model == "participanttype":
            services.participant_types_create_defaults()
        elif model == "resthook":
            services.resthook_create(event_name="ActionCreated", target_url="http://hub.test/h")
        else:
            _grant(owner)


@pytest.mark.parametrize("model", MODELS)
def test_a_changelist_takes_as_many_queries_for_30_rows_as_for_3(admin_client, model):
    url = reverse(f"sandbox_admin:sandbox_pm_{model}_changelist")
    _grow(model, 3)
    few = sandbox_queries(lambda: admin_client.get(url))
    _grow(model, 27)

    many = sandbox_queries(lambda: admin_client.get(url))

    assert many == few


def test_the_action_page_takes_as_many_queries_for_30_participants_as_for_3(admin_client):
    action = make_action()
    url = reverse("sandbox_admin:sandbox_pm_action_change", args=[action.pk])

    def grow(count):
        for n in range(count):
            services.action_participant_create(
                action_id=action.pk,
                participant_type_id=client_type().pk,
                participant_id=make_participant(last_name=f"C{n}-{count}").pk,
            )

    grow(2)
    few = sandbox_queries(lambda: admin_client.get(url))
    grow(27)

    assert sandbox_queries(lambda: admin_client.get(url)) == few
