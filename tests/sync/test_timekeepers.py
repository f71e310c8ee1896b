"""Timekeepers are matched, not synced: PM users and LA fee earners by email, refreshed
by every ParticipantCreated resthook — so several refreshes run at once."""

import pytest
from django.db import connection as db_connection
from django.db.models import Count

from sandbox.la import services as la_services
from sandbox.pm import services as pm_services
from sync.services.timekeepers import timekeepers_refresh
from timekeeping.models import Timekeeper

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

REFRESHER = """
from sync.services.timekeepers import timekeepers_refresh

try:
    timekeepers_refresh()
    print(json.dumps({"error": None}))
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
"""


def make_people(count: int) -> None:
    for n in range(count):
        email = f"person{n}@example-law.test"
        pm_services.user_create(first_name="Person", last_name=f"No{n}", email=email)
        la_services.fee_earner_create(name=f"Person No{n}", email=email)


def test_a_refresh_matches_users_and_fee_earners_by_email(systems):
    make_people(2)

    timekeepers_refresh()

    matched = Timekeeper.objects.exclude(la_fee_earner_id=None).exclude(pm_user_id=None)
    assert matched.filter(email__startswith="person").count() == 2


def test_a_timekeeper_another_refresh_just_made_is_updated_not_made_twice(systems):
    make_people(1)
    Timekeeper.objects.create(name="Made meanwhile", email="PERSON0@example-law.test")

    timekeepers_refresh()

    assert Timekeeper.objects.filter(email__iexact="person0@example-law.test").count() == 1
    assert Timekeeper.objects.get(email__iexact="person0@example-law.test").pm_user_id


@pytest.mark.skipif(
    "db_connection.vendor != 'postgresql'",
    reason="processes share the test database only on PostgreSQL (SQLite's lives in memory)",
)
def test_processes_refreshing_timekeepers_at_once_make_each_one_once(systems):
    """Found by the chaos run: two ParticipantCreated hooks at once collided on the
    email's unique constraint, and the delivery's record waited for the next poll."""
    from tests.sync.processes import run_in_processes

    make_people(12)

    results = run_in_processes(
        REFRESHER, base_url=systems.url, database=db_connection.settings_dict, processes=4
    )

    assert [result["error"] for result in results] == [None] * 4
    per_email = Timekeeper.objects.values("email").annotate(n=Count("pk"))
    assert {row["n"] for row in per_email} == {1}
    assert Timekeeper.objects.filter(email__startswith="person").count() == 12
