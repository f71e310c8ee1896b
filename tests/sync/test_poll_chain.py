"""The scheduled poll runs as a chain of bounded tasks, one chain at a time, and a chain
whose worker died is taken up where its cursor stopped (sync/services/subscriptions.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact
from sandbox.pm import services as pm_services
from sync.connectors.actionstep import client as pm_client_module
from sync.models import PollCursor, System, WorkLease
from sync.services import subscriptions

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def queued(monkeypatch):
    """The poll tasks a chain queues, kept here instead of run."""
    tasks: list[tuple] = []
    monkeypatch.setattr(
        subscriptions, "async_task", lambda func, *args, **kwargs: tasks.append((func, *args))
    )
    return tasks


@pytest.fixture
def small_pages(monkeypatch):
    """PM answers 2 participants a page and a poll task reads 1 page."""
    monkeypatch.setattr(pm_client_module, "PAGE_SIZE", 2)
    monkeypatch.setattr(subscriptions, "POLL_PAGES_PER_TASK", 1)


def participants(count: int) -> None:
    for number in range(count):
        pm_services.participant_create(first_name="Client", last_name=f"Number {number}")


def run_chain(queued) -> int:
    """Run the queued continuations until the chain ends; answers how many ran."""
    ran = 0
    while queued:
        func, token, step, people_read = queued.pop(0)
        assert func == "sync.tasks.poll_continue_task"
        subscriptions.poll_chain_continue(token, step, people_read)
        ran += 1
    return ran


def test_a_first_pass_over_many_records_runs_as_a_chain_of_bounded_tasks(
    systems, small_pages, queued
):
    participants(7)

    counts = subscriptions.poll_chain_start()

    assert counts == {"pm participants": 2}  # one page, then handed on
    cursor = PollCursor.objects.get(system=System.PM, resource="participants")
    assert "page=2" in cursor.resume_url
    assert cursor.modified_since is None  # the pass has not ended
    assert len(queued) == 1

    continuations = run_chain(queued)

    # 7 participants and the integration user: 4 pages, then LA's and the rest.
    assert continuations >= 3
    assert Contact.objects.count() == 7
    cursor.refresh_from_db()
    assert cursor.resume_url == ""
    assert cursor.modified_since is not None
    assert WorkLease.objects.get(name="poll").token is None  # released at the end


def test_one_chain_runs_at_a_time(systems, small_pages, queued):
    participants(5)
    subscriptions.poll_chain_start()

    assert subscriptions.poll_chain_start() == {}  # the schedule fires again meanwhile

    assert len(queued) == 1
    run_chain(queued)
    assert Contact.objects.count() == 5


def test_a_chain_whose_worker_died_is_taken_up_where_its_cursor_stopped(
    systems, small_pages, queued
):
    participants(7)
    subscriptions.poll_chain_start()
    subscriptions.poll_chain_continue(*queued.pop(0)[1:])  # second page read, then killed
    orphan = queued.pop(0)
    WorkLease.objects.filter(name="poll").update(expires_at=timezone.now() - timedelta(seconds=1))

    counts = subscriptions.poll_chain_start()

    assert counts == {"pm participants": 2}  # the third page, not the first again
    run_chain(queued)
    # The dead chain's queued task, run late, finds its lease taken and does nothing.
    assert subscriptions.poll_chain_continue(*orphan[1:]) == {}
    assert Contact.objects.count() == 7


def test_a_fault_mid_pass_keeps_the_place_reached(systems, small_pages, queued, faults):
    participants(7)
    subscriptions.poll_chain_start()
    faults("pm", error_rate=1.0)

    subscriptions.poll_chain_continue(*queued.pop(0)[1:])

    cursor = PollCursor.objects.get(system=System.PM, resource="participants")
    assert "page=2" in cursor.resume_url
    assert cursor.last_error
    faults("pm", error_rate=0.0)
    run_chain(queued)
    subscriptions.poll_chain_start()
    run_chain(queued)
    assert Contact.objects.count() == 7


@pytest.fixture
def hooks_in_place(systems, settings):
    """Every resthook and LA webhook registered, and a quiet interval of 15 minutes."""
    settings.POLL_QUIET_MINUTES = 15
    subscriptions.pm_resthooks_ensure()
    subscriptions.la_webhooks_ensure()


def test_a_quiet_hub_reads_pm_and_la_only_every_quiet_interval(hooks_in_place, calls):
    subscriptions.poll_chain_start()
    assert calls  # the first pass read both systems
    calls.clear()

    for _ in range(3):  # the schedule fires every minute
        assert subscriptions.poll_chain_start() == {}

    assert calls == []
    WorkLease.objects.filter(name="poll").update(next_run_at=timezone.now() - timedelta(seconds=1))
    subscriptions.poll_chain_start()
    assert {system for system, _, _ in calls} == {"pm", "la"}


def test_a_hook_found_disabled_brings_the_next_pass_at_the_next_schedule(hooks_in_place, calls):
    from sandbox.pm import models as pm

    pm.RestHook.objects.filter(event_name="ParticipantUpdated").update(
        status=pm.RestHook.Status.DISABLED
    )
    subscriptions.poll_chain_start()  # finds it disabled and registers it again
    calls.clear()

    subscriptions.poll_chain_start()

    assert calls  # not quiet: a change may have gone unannounced meanwhile


def test_a_pass_left_unfinished_goes_on_at_once_even_when_quiet(
    hooks_in_place, small_pages, queued, calls
):
    participants(5)
    subscriptions.poll_chain_start()  # one page read, the rest handed on
    queued.clear()  # ...and that task was lost with its cluster
    WorkLease.objects.filter(name="poll").update(expires_at=timezone.now() - timedelta(seconds=1))
    calls.clear()

    subscriptions.poll_chain_start()

    assert ("pm", "GET", "/sandbox/pm/api/rest/participants") in calls
