"""The Link Indicator's state machine, backoff and lease (sync/links.py)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sync import links
from sync.connectors.base import ConnectorError, ErrorKind
from sync.links import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    backoff_seconds,
    link_failed,
    link_lease_acquire,
    link_lease_drop,
    link_lease_release,
    link_succeeded,
    snapshot_hash,
)
from sync.models import Link, LinkStatus
from tests.factories import ContactLinkFactory


def connector_error(kind: str, **extra) -> ConnectorError:
    return ConnectorError(message=f"{kind} failure", kind=kind, system="la", **extra)


@pytest.mark.django_db
class TestLinkFailed:
    @pytest.mark.parametrize(
        ("kind", "status"),
        [
            (ErrorKind.TRANSIENT, LinkStatus.PENDING),
            (ErrorKind.UNREACHABLE, LinkStatus.UNKNOWN),
            (ErrorKind.AUTH, LinkStatus.UNKNOWN),
            (ErrorKind.PERMANENT, LinkStatus.ERROR),
        ],
    )
    def test_each_kind_of_error_sets_its_indicator(self, kind, status):
        link = ContactLinkFactory(attempts=2)

        link_failed(link, connector_error(kind, code="some_code"))

        link.refresh_from_db()
        assert link.status == status
        assert link.attempts == 3
        assert link.message == f"{kind} failure"
        assert link.error_code == "some_code"

    @pytest.mark.parametrize("kind", [ErrorKind.TRANSIENT, ErrorKind.UNREACHABLE, ErrorKind.AUTH])
    def test_a_retryable_error_schedules_the_next_attempt(self, kind):
        link = ContactLinkFactory()
        before = timezone.now()

        link_failed(link, connector_error(kind))

        link.refresh_from_db()
        assert link.next_retry_at > before

    def test_a_permanent_error_schedules_no_retry(self):
        link = ContactLinkFactory(next_retry_at=timezone.now())

        link_failed(link, connector_error(ErrorKind.PERMANENT))

        link.refresh_from_db()
        assert link.next_retry_at is None

    def test_the_next_retry_is_never_sooner_than_retry_after(self):
        link = ContactLinkFactory()
        before = timezone.now()

        link_failed(link, connector_error(ErrorKind.TRANSIENT, retry_after=120))

        link.refresh_from_db()
        assert link.next_retry_at >= before + timedelta(seconds=120)

    def test_a_hub_reason_is_an_error_with_its_code(self):
        link = ContactLinkFactory()

        link_failed(link, "Reference 'A 1': no spaces.", code="invalid_reference")

        link.refresh_from_db()
        assert (link.status, link.error_code) == (LinkStatus.ERROR, "invalid_reference")
        assert link.next_retry_at is None

    def test_without_a_code_the_kind_is_recorded(self):
        link = ContactLinkFactory()

        link_failed(link, connector_error(ErrorKind.UNREACHABLE))

        link.refresh_from_db()
        assert link.error_code == ErrorKind.UNREACHABLE

    def test_a_change_of_state_moves_status_changed_at(self):
        long_ago = timezone.now() - timedelta(days=3)
        link = ContactLinkFactory()
        Link.objects.filter(pk=link.pk).update(status_changed_at=long_ago)
        link.refresh_from_db()

        link_failed(link, connector_error(ErrorKind.PERMANENT))

        link.refresh_from_db()
        assert link.status_changed_at > long_ago


class TestBackoff:
    def test_the_ceiling_doubles_with_each_attempt(self, monkeypatch):
        monkeypatch.setattr(links.random, "uniform", lambda low, high: high)

        delays = [backoff_seconds(attempts) for attempts in (1, 2, 3, 4)]

        base = BACKOFF_BASE_SECONDS
        assert delays == [base, base * 2, base * 4, base * 8]

    def test_it_is_capped(self, monkeypatch):
        monkeypatch.setattr(links.random, "uniform", lambda low, high: high)

        assert backoff_seconds(50) == BACKOFF_CAP_SECONDS

    @pytest.mark.parametrize("attempts", [1, 3, 6, 30])
    def test_the_jitter_stays_between_half_the_ceiling_and_the_ceiling(self, attempts):
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))

        delays = [backoff_seconds(attempts) for _ in range(200)]

        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1

    def test_it_waits_at_least_the_retry_after(self):
        assert backoff_seconds(1, retry_after=7) >= 7


@pytest.mark.django_db
class TestLinkSucceeded:
    def test_it_turns_the_link_green_and_resets_the_attempts(self):
        link = ContactLinkFactory(
            status=LinkStatus.ERROR,
            attempts=4,
            error_code="already_assigned",
            next_retry_at=timezone.now(),
        )

        link_succeeded(link, pm_snapshot={"first_name": "Jane"}, la_snapshot={"kind": "client"})

        link.refresh_from_db()
        assert link.status == LinkStatus.SYNCED
        assert (link.attempts, link.error_code, link.next_retry_at) == (0, "", None)
        assert link.last_synced_at is not None

    def test_it_stores_the_snapshots_and_their_hashes(self):
        link = ContactLinkFactory()
        pm_snapshot = {"first_name": "Jane", "reference": "25"}
        la_snapshot = {"first_name": "Jane", "kind": "client"}

        link_succeeded(link, pm_snapshot=pm_snapshot, la_snapshot=la_snapshot)

        link.refresh_from_db()
        assert (link.pm_snapshot, link.la_snapshot) == (pm_snapshot, la_snapshot)
        assert link.pm_hash == snapshot_hash(pm_snapshot)
        assert link.la_hash == snapshot_hash(la_snapshot)
        assert link.pm_hash != link.la_hash

    def test_the_hash_ignores_key_order_and_is_blank_without_a_snapshot(self):
        assert snapshot_hash({"a": 1, "b": 2}) == snapshot_hash({"b": 2, "a": 1})
        assert len(snapshot_hash({"a": 1})) == 64
        assert snapshot_hash(None) == ""


@pytest.mark.django_db
class TestLease:
    def test_a_second_acquire_fails_and_marks_the_link_dirty(self):
        link = ContactLinkFactory()

        token = link_lease_acquire(link.pk)
        second = link_lease_acquire(link.pk)

        link.refresh_from_db()
        assert isinstance(token, uuid.UUID)
        assert second is None
        assert link.dirty
        assert link.lease_token == token

    def test_release_answers_false_while_dirty_and_then_true(self):
        link = ContactLinkFactory()
        token = link_lease_acquire(link.pk)
        link_lease_acquire(link.pk)

        assert link_lease_release(link.pk, token) is False
        link.refresh_from_db()
        assert (link.lease_token, link.dirty) == (token, False)

        assert link_lease_release(link.pk, token) is True
        link.refresh_from_db()
        assert (link.lease_token, link.lease_expires_at) == (None, None)

    def test_a_released_link_can_be_taken_again(self):
        link = ContactLinkFactory()
        link_lease_release(link.pk, link_lease_acquire(link.pk))

        assert link_lease_acquire(link.pk) is not None

    def test_an_expired_lease_can_be_taken(self):
        stale = uuid.uuid4()
        link = ContactLinkFactory()
        Link.objects.filter(pk=link.pk).update(
            lease_token=stale, lease_expires_at=timezone.now() - timedelta(seconds=1)
        )

        token = link_lease_acquire(link.pk)

        link.refresh_from_db()
        assert token is not None and token != stale
        assert link.lease_token == token
        assert link.lease_expires_at > timezone.now()
        assert not link.dirty

    def test_a_lease_taken_over_by_another_worker_is_not_released_or_rerun(self):
        link = ContactLinkFactory()
        mine = link_lease_acquire(link.pk)
        theirs = uuid.uuid4()
        Link.objects.filter(pk=link.pk).update(lease_token=theirs, dirty=True)

        assert link_lease_release(link.pk, mine) is True
        link_lease_drop(link.pk, mine)

        link.refresh_from_db()
        assert link.lease_token == theirs

    def test_dropping_gives_up_our_lease_even_when_dirty(self):
        link = ContactLinkFactory()
        token = link_lease_acquire(link.pk)
        link_lease_acquire(link.pk)

        link_lease_drop(link.pk, token)

        link.refresh_from_db()
        assert (link.lease_token, link.lease_expires_at) == (None, None)


@pytest.mark.django_db
class TestOutcomeWithRelease:
    """A sync's outcome and the release of its lease are one statement."""

    def test_success_under_our_lease_is_written_and_lets_go_in_one_query(
        self, django_assert_num_queries
    ):
        link = ContactLinkFactory(status=LinkStatus.PENDING)
        token = link_lease_acquire(link.pk)

        with django_assert_num_queries(1):
            done = link_succeeded(link, pm_snapshot={"a": 1}, la_snapshot={"b": 2}, lease=token)

        link.refresh_from_db()
        assert done is True
        assert (link.status, link.pm_snapshot, link.la_snapshot) == (
            LinkStatus.SYNCED,
            {"a": 1},
            {"b": 2},
        )
        assert (link.lease_token, link.lease_expires_at) == (None, None)

    def test_a_change_meanwhile_keeps_the_lease_for_one_more_run_and_keeps_the_outcome(self):
        link = ContactLinkFactory(status=LinkStatus.PENDING, attempts=2)
        token = link_lease_acquire(link.pk)
        link_lease_acquire(link.pk)  # a change arrives: dirty

        done = link_failed(link, connector_error(ErrorKind.TRANSIENT), lease=token)

        link.refresh_from_db()
        assert done is False
        assert (link.lease_token, link.dirty) == (token, False)
        assert link.lease_expires_at > timezone.now()
        assert (link.status, link.attempts, link.error_code) == (
            LinkStatus.PENDING,
            3,
            ErrorKind.TRANSIENT,
        )

    def test_a_lease_lost_to_another_worker_writes_nothing(self):
        link = ContactLinkFactory(status=LinkStatus.PENDING, message="Sync queued.")
        mine = link_lease_acquire(link.pk)
        theirs = uuid.uuid4()
        Link.objects.filter(pk=link.pk).update(lease_token=theirs)

        done = link_succeeded(link, pm_snapshot={"a": 1}, la_snapshot={"b": 2}, lease=mine)

        link.refresh_from_db()
        assert done is True  # nothing more for us to do: the new holder's outcome stands
        assert (link.status, link.pm_snapshot, link.lease_token) == (
            LinkStatus.PENDING,
            None,
            theirs,
        )
