"""The PM seed: realistic, repeatable, fast, and silent (no REST hooks)."""

import random
import re

import pytest
import responses

from sandbox.pm import services
from sandbox.pm.models import Action, ActionParticipant, Participant, TimeEntry, User
from sandbox.pm.seed import seed_pm

from .test_pm_support import PM, body_of, records_of, sandbox_queries

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def _seed(seed: int = 1, **counts):
    counts = {"contacts": 40, "matters": 30, "time_entries": 120, "users": 5, **counts}
    return seed_pm(rng=random.Random(seed), **counts)


def _snapshot() -> tuple:
    return (
        list(Participant.objects.order_by("pk").values_list("display_name", "email")),
        list(Action.objects.order_by("pk").values_list("name", "status")),
        list(TimeEntry.objects.order_by("pk").values_list("actual_hours", "billing_behavior")),
    )


def _clear() -> None:
    TimeEntry.objects.all().delete()
    ActionParticipant.objects.all().delete()
    Action.objects.all().delete()
    User.objects.all().delete()
    Participant.objects.all().delete()


def test_it_creates_the_requested_counts_and_returns_them():
    counts = _seed(contacts=40, matters=30, time_entries=120, users=5)

    assert counts == {
        "users": 5,
        "contacts": 40,
        "matters": 30,
        "time_entries": 120,
        "clashing_references": 0,
    }
    assert User.objects.count() == 5
    assert Participant.objects.count() == 45
    assert Action.objects.count() == 30
    assert TimeEntry.objects.count() == 120


def test_users_have_firm_emails_and_are_participants():
    _seed()

    for user in User.objects.select_related("participant"):
        assert re.fullmatch(r"[a-z']+\.[a-z']+@example-law\.test", user.email)
        assert user.email == f"{user.first_name}.{user.last_name}@example-law.test".lower()
        assert user.participant.email == user.email


def test_contacts_get_blank_import_references_except_the_clashing_ones():
    _seed(clashing_references=["000001", "V~123", "A 1"])

    references = sorted(
        Participant.objects.exclude(import_external_reference="").values_list(
            "import_external_reference", flat=True
        )
    )
    assert references == ["000001", "A 1", "V~123"]
    clashing = Participant.objects.exclude(import_external_reference="")
    assert not clashing.filter(user__isnull=False).exists()


def test_matters_have_a_seeded_client_and_a_lawyer():
    _seed()
    contacts = set(Participant.objects.filter(user__isnull=True).values_list("pk", flat=True))
    users = set(User.objects.values_list("pk", flat=True))

    for action in Action.objects.select_related("action_type").prefetch_related(
        "participant_links"
    ):
        assert action.name
        assert action.primary_participant_ids
        assert set(action.primary_participant_ids) <= contacts
        assert action.assigned_to_id in users


def test_matter_clients_are_action_participants_of_the_client_type_numbered_from_1():
    _seed()

    links = ActionParticipant.objects.select_related("participant_type", "action__action_type")
    assert {link.participant_type.name for link in links} == {"Client"}
    for link in links:
        assert link.participant_type_id == link.action.action_type.primary_participant_type_id
    first_numbers = links.filter(participant_number=1).count()
    assert first_numbers == Action.objects.count()


def test_time_entries_spread_across_users_matters_and_billing_behaviours():
    _seed(time_entries=300)

    entries = TimeEntry.objects.all()
    assert {entry.billing_behavior for entry in entries} == {"Bill", "Hide", "No charge"}
    assert len({entry.owner_id for entry in entries}) == 5
    assert len({entry.action_id for entry in entries}) > 20
    for entry in entries:
        assert entry.billable_amount == services.time_entry_amount(
            entry.billable_hours, entry.rate_unit_price
        )


def test_the_same_seed_gives_the_same_data():
    _seed(seed=7)
    first = _snapshot()
    _clear()

    _seed(seed=7)

    assert _snapshot() == first
    _clear()
    _seed(seed=8)
    assert _snapshot() != first


def test_seeding_fires_no_resthooks(django_capture_on_commit_callbacks):
    for event in ("ParticipantCreated", "ActionCreated", "TimeEntryCreated"):
        services.resthook_create(event_name=event, target_url="http://hub.test/h")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.post("http://hub.test/h", status=200)
        with django_capture_on_commit_callbacks(using="sandbox", execute=True) as callbacks:
            _seed()
        sent = len(http.calls)

    assert (len(callbacks), sent) == (0, 0)


def test_it_seeds_thousands_of_records_in_bulk_not_one_query_per_row():
    counts = {"contacts": 2000, "matters": 1000, "time_entries": 3000}

    queries = sandbox_queries(lambda: _seed(**counts))

    assert Participant.objects.count() == 2005
    # SQLite caps parameters per statement, so a wide participant row batches in dozens.
    assert queries < sum(counts.values()) / 10


def test_seeded_records_are_served_by_the_api():
    _seed()

    body = body_of(PM().get("actions", {"include": "primaryParticipants", "pageSize": 5}))
    clients = body_of(PM().get("actionparticipants", {"pageSize": 200}))

    assert body["meta"]["paging"]["actions"]["recordCount"] == 30
    assert len(body["actions"]) == 5
    assert body["linked"]["participants"]
    assert len(records_of(clients, "actionparticipants")) >= 30


def test_it_needs_contacts_for_matters_and_matters_for_time():
    with pytest.raises(ValueError, match="contacts"):
        _seed(contacts=0)
    with pytest.raises(ValueError, match="matters"):
        _seed(matters=0)
