"""The sweep brings back what a dead worker or a busy client left waiting
(ARCHITECTURE §4 rule 2). Found by benchmarks/soak.py: after a qcluster worker was
killed, a link marked dirty under its lease, and a matter whose backoff grew while
its client was leased, waited minutes past the moment they could have synced."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sync.links import link_lease_acquire
from sync.models import Link, LinkStatus
from sync.services import links_collected
from sync.services.changes import links_sweep
from tests.factories import ContactLinkFactory, MatterLinkFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pm_connection_up")]


def swept() -> list[int]:
    with links_collected() as queued:
        links_sweep()
    return queued


def test_it_requeues_a_link_left_dirty_by_a_worker_whose_lease_expired():
    link = ContactLinkFactory(status=LinkStatus.PENDING)
    assert link_lease_acquire(link.pk) is not None
    assert link_lease_acquire(link.pk) is None  # a change arrives meanwhile: dirty
    assert swept() == []  # the holder is alive: it runs the change itself

    Link.objects.filter(pk=link.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert swept() == [link.pk]
    # The run the dead holder owed is the runners' now: its lease and flag are taken
    # back, and it is due.
    link.refresh_from_db()
    assert (link.dirty, link.lease_token) == (False, None)
    assert link.next_retry_at <= timezone.now()


def test_it_leaves_a_clean_link_whose_lease_expired_until_it_is_due():
    link = ContactLinkFactory(status=LinkStatus.SYNCED)
    link_lease_acquire(link.pk)
    Link.objects.filter(pk=link.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert swept() == []


def test_it_requeues_a_matter_that_waited_for_its_client_once_the_client_is_synced():
    waiting = MatterLinkFactory(
        status=LinkStatus.PENDING,
        error_code="client_pending",
        attempts=6,
        next_retry_at=timezone.now() + timedelta(minutes=5),
    )
    client = ContactLinkFactory(contact=waiting.matter.client, status=LinkStatus.PENDING)
    assert swept() == []

    Link.objects.filter(pk=client.pk).update(status=LinkStatus.SYNCED)

    assert swept() == [waiting.pk]


def test_nothing_is_queued_while_pm_is_not_connected(pm_connection_up):
    from sync.models import PmConnection
    from sync.services.connection import credentials_forget

    link = ContactLinkFactory(status=LinkStatus.PENDING, next_retry_at=timezone.now())
    PmConnection.objects.filter(pk=1).update(state=PmConnection.State.NEEDS_REAUTHORISATION)
    credentials_forget()

    assert swept() == []
    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING


def test_a_link_whose_task_was_lost_is_queued_again_within_two_minutes(pm_connection_up):
    """Found by the soak: with Redis, a killed cluster's tasks are gone, and their links
    waited for the ten-minute rule."""
    link = ContactLinkFactory(status=LinkStatus.PENDING)
    assert swept() == []  # just queued: its task is on its way

    Link.objects.filter(pk=link.pk).update(status_changed_at=timezone.now() - timedelta(seconds=91))

    assert swept() == [link.pk]


def test_while_the_broker_has_a_backlog_a_waiting_link_is_not_queued_twice(
    pm_connection_up, monkeypatch
):
    from sync.services import changes

    link = ContactLinkFactory(status=LinkStatus.PENDING)
    Link.objects.filter(pk=link.pk).update(status_changed_at=timezone.now() - timedelta(minutes=5))
    monkeypatch.setattr(changes, "broker_backlog", lambda: changes.SWEEP_BATCH + 1)

    assert swept() == []
