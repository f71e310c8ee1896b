"""The link runners work through what can wait; live changes get tasks of their own
(sync/services/runner.py). Against the sandbox over real HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.la import models as la
from sandbox.pm import services as pm_services
from sync import services
from sync.models import Link, LinkStatus, RecordType, WebhookReceipt, WorkLease
from sync.services import runner
from sync.services.changes import links_sweep, poll_all, webhook_receipt_handle

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def queued(monkeypatch):
    """The tasks queued, kept here instead of run: (function, *args)."""
    tasks: list[tuple] = []

    def keep(func, *args, **kwargs):
        tasks.append((func, *args))

    monkeypatch.setattr(runner, "async_task", keep)
    monkeypatch.setattr(services, "async_task", keep)
    return tasks


def contacts_in_pm(count: int) -> None:
    for number in range(count):
        pm_services.participant_create(first_name="Pat", last_name=f"Client {number}")


def test_a_first_poll_hands_its_records_to_the_runner_not_a_task_each(systems, queued):
    contacts_in_pm(25)

    poll_all()

    assert queued == [("sync.tasks.links_run_task", 0)]  # one, however many records
    due = runner.links_due().filter(record_type=RecordType.CONTACT)
    assert due.count() == 25


def test_the_runner_syncs_every_due_link_and_lets_go(systems, queued):
    contacts_in_pm(6)
    poll_all()
    queued.clear()

    assert runner.links_run(0) == 6

    assert la.Contact.objects.count() == 6
    assert not runner.links_due().exists()
    assert Link.objects.filter(status=LinkStatus.SYNCED).count() == 6
    assert WorkLease.objects.get(name="link-runner-0").token is None
    assert queued == []  # nothing left for another runner


def test_a_runner_hands_over_to_a_fresh_task_after_its_time(systems, queued, monkeypatch):
    contacts_in_pm(5)
    poll_all()
    queued.clear()
    monkeypatch.setattr(runner, "RUNNER_SECONDS", 0)
    monkeypatch.setattr(runner, "RUNNER_BATCH", 2)

    assert runner.links_run(0) == 2

    assert queued == [("sync.tasks.links_run_task", 0)]
    assert runner.links_due().count() == 3


def test_only_one_runner_task_is_queued_while_one_waits_to_start(systems, queued):
    assert runner.runners_ensure() == 1
    assert runner.runners_ensure() == 0
    # Lost with its cluster: after a while another is queued.
    WorkLease.objects.filter(name="link-runner-0").update(
        queued_at=timezone.now() - runner.QUEUED_TOO_LONG - timedelta(seconds=1)
    )
    assert runner.runners_ensure() == 1


def test_a_live_change_during_a_backfill_gets_a_task_of_its_own(systems, queued):
    contacts_in_pm(10)
    poll_all()  # the backfill, waiting for the runner
    queued.clear()
    live = pm_services.participant_create(first_name="Walk", last_name="In")
    receipt = WebhookReceipt.objects.create(
        system="pm", event="ParticipantCreated", payload={"ids": [live.pk]}
    )

    webhook_receipt_handle(receipt_id=receipt.pk)

    # Synced right in the receipt's task, ahead of the ten the runner has not reached.
    live_link = Link.objects.get(pm_id=str(live.pk))
    assert live_link.status == LinkStatus.SYNCED
    assert runner.links_due().count() == 10


def test_a_bug_on_one_link_does_not_stop_the_runner(systems, queued, monkeypatch):
    contacts_in_pm(3)
    poll_all()
    broken = runner.links_due().order_by("pk").first()
    real_sync = runner.record_sync

    def sync_or_fail(link_id):
        if link_id == broken.pk:
            raise RuntimeError("a bug")
        return real_sync(link_id)

    monkeypatch.setattr(runner, "record_sync", sync_or_fail)

    runner.links_run(0)

    broken.refresh_from_db()
    assert broken.status == LinkStatus.UNKNOWN
    assert broken.next_retry_at > timezone.now()
    assert Link.objects.filter(status=LinkStatus.SYNCED).count() == 2


def test_two_runners_share_the_links_between_them(systems, queued, settings):
    settings.LINK_RUNNERS = 2
    contacts_in_pm(8)
    poll_all()
    ids = set(runner.links_due().values_list("pk", flat=True))

    first = runner.links_run(0)

    assert first == len([pk for pk in ids if pk % 2 == 0])
    assert set(runner.links_due().values_list("pk", flat=True)) == {pk for pk in ids if pk % 2 == 1}


def test_the_sweep_makes_a_lost_link_due_and_queues_the_runner(systems, queued):
    contacts_in_pm(1)
    poll_all()
    queued.clear()
    # Queued long ago as a task of its own, which a killed cluster took with it.
    Link.objects.update(next_retry_at=None, status_changed_at=timezone.now() - timedelta(minutes=5))
    WorkLease.objects.all().delete()

    assert links_sweep() == 1

    assert queued == [("sync.tasks.links_run_task", 0)]
