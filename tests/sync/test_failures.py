"""Failures are classified on the Link Indicator and every attempt is in the history
(ARCHITECTURE §4 rules 5 and 6); the sweep brings back what is due."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from sandbox.la import models as la
from sandbox.pm import services as pm_services
from sync.connectors import clients_reset
from sync.models import Link, LinkStatus, SyncEvent
from sync.services import link_sync, links_collected
from sync.services.changes import links_sweep
from tests.sync.helpers import sync_everything

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def new_pm_contact() -> Link:
    participant = pm_services.participant_create(first_name="Fay", last_name="Lure")
    from sync.services.changes import poll_all

    with links_collected() as queued:
        poll_all()
    return Link.objects.get(pk=queued[0], pm_id=str(participant.pk))


def test_a_server_error_keeps_the_link_pending_with_a_retry_time(systems, faults):
    link = new_pm_contact()
    faults("la", error_rate=1.0)

    link_sync(link_id=link.pk)

    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING
    assert link.attempts == 1
    assert link.next_retry_at > timezone.now()
    event = link.events.get()
    assert event.outcome == SyncEvent.Outcome.RETRY
    assert "unavailable" in event.message
    assert event.duration_ms is not None


def test_a_rate_limit_waits_at_least_retry_after(systems, faults):
    link = new_pm_contact()
    faults("la", rate_limit_rate=1.0, retry_after_seconds=120)

    link_sync(link_id=link.pk)

    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING
    assert link.next_retry_at >= timezone.now() + timedelta(seconds=115)


def test_an_unreachable_system_turns_the_link_unknown(systems, settings):
    link = new_pm_contact()
    settings.LA_API_URL = "http://127.0.0.1:9/api/v1/"  # the discard port: nothing listens
    clients_reset()

    link_sync(link_id=link.pk)

    link.refresh_from_db()
    assert link.status == LinkStatus.UNKNOWN
    assert "unreachable" in link.message
    assert link.next_retry_at is not None


def test_refused_credentials_turn_the_link_unknown(systems, settings):
    link = new_pm_contact()
    settings.LA_API_TOKEN = "expired-token"
    clients_reset()

    link_sync(link_id=link.pk)

    link.refresh_from_db()
    assert link.status == LinkStatus.UNKNOWN
    assert link.error_code


def test_the_sweep_requeues_due_links_and_they_recover(systems, faults):
    link = new_pm_contact()
    faults("la", error_rate=1.0)
    link_sync(link_id=link.pk)
    faults("la", error_rate=0.0)
    Link.objects.filter(pk=link.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))

    with links_collected() as queued:
        assert links_sweep() == 1
    for link_id in queued:
        link_sync(link_id=link_id)

    link.refresh_from_db()
    assert link.status == LinkStatus.SYNCED
    assert link.attempts == 0
    assert list(link.events.order_by("occurred_at").values_list("outcome", flat=True)) == [
        SyncEvent.Outcome.RETRY,
        SyncEvent.Outcome.SUCCESS,
    ]


def test_the_sweep_leaves_red_links_and_links_not_yet_due(systems, faults):
    link = new_pm_contact()
    faults("la", error_rate=1.0)
    link_sync(link_id=link.pk)
    red = new_pm_contact()
    Link.objects.filter(pk=red.pk).update(status=LinkStatus.ERROR, next_retry_at=None)

    with links_collected() as queued:
        assert links_sweep() == 0
    assert queued == []


def test_sync_now_runs_a_full_pass(systems):
    pm_services.participant_create(first_name="Now", last_name="Sync")
    out = StringIO()

    call_command("sync_now", stdout=out)

    assert la.Contact.objects.filter(last_name="Sync").count() == 1
    assert "Synced 1 links." in out.getvalue()
    # A second pass finds nothing to do.
    out = StringIO()
    call_command("sync_now", stdout=out)
    assert "Synced 0 links." in out.getvalue()
    assert la.Contact.objects.filter(last_name="Sync").count() == 1


def test_a_synced_link_is_not_touched_again_without_a_change(systems):
    link = new_pm_contact()
    link_sync(link_id=link.pk)
    queued = sync_everything()
    assert link.pk not in queued


def test_sync_now_full_reads_records_dated_before_the_last_poll(systems):
    from datetime import timedelta

    from django.utils import timezone

    from sandbox.pm import models as pm

    call_command("sync_now", stdout=StringIO())  # the cursors now stand at this moment
    # Added the way sandbox_seed adds records: in bulk, dated in the past, no resthook.
    past = timezone.now() - timedelta(days=30)
    pm.Participant.objects.create(
        first_name="Back", last_name="Dated", display_name="Dated, Back", modified_at=past
    )

    call_command("sync_now", stdout=StringIO())
    assert not la.Contact.objects.filter(last_name="Dated").exists()

    call_command("sync_now", "--full", stdout=StringIO())
    assert la.Contact.objects.filter(last_name="Dated").count() == 1
