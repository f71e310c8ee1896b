"""Disconnect and purge: stop syncing and forget which records are twins.

For a firm that connected the hub to the wrong org, or wants to link its two systems
afresh: the hub stops syncing (Practice Management is disconnected, so nothing syncs
with it, docs/decisions.md 22), open sends for billing are cancelled (their entries go
back to unsent), and every link forgets its PM id, LA id, snapshots and the balances it
wrote into PM. The hub's contacts, matters and time entries stay, and so does the sync
history: the link rows stay, as unsynced, each saying what it was linked to. Nothing is
written to PM or LA.

Linking again is onboarding's work: `manage.py link_existing` pairs PM's and LA's
records by their stored foreign ids, then their numbers (sync/services/onboarding.py),
and Connect resumes the sync.

`FORGOTTEN` marks a forgotten link (its error code, on an unsynced link): the admin
refuses to resync such a record or to queue it when it is saved, since syncing a
record with no ids would create it again in both systems.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from matters.models import MatterBalance
from sync.models import Link, LinkStatus, RecordType
from timekeeping.models import BillingBatch

from .connection import connection_disconnect

FORGOTTEN = "forgotten"


@dataclass(frozen=True)
class PurgeCounts:
    """What a purge forgets (a dry run answers this and changes nothing)."""

    links: dict[str, int]  # per record type
    with_pm_id: int
    with_la_id: int
    open_batches: int
    balances_in_pm: int

    @property
    def total(self) -> int:
        return sum(self.links.values())


def purge_counts() -> PurgeCounts:
    """The dry run: what a purge would forget, in four aggregate queries."""
    per_type = dict(Link.objects.order_by().values_list("record_type").annotate(n=Count("pk")))
    ids = Link.objects.aggregate(
        pm=Count("pk", filter=Q(pm_id__isnull=False)),
        la=Count("pk", filter=Q(la_id__isnull=False)),
    )
    return PurgeCounts(
        links={record_type: per_type.get(record_type, 0) for record_type in RecordType},
        with_pm_id=ids["pm"],
        with_la_id=ids["la"],
        open_batches=BillingBatch.objects.filter(status__in=_open_batch_statuses()).count(),
        balances_in_pm=MatterBalance.objects.exclude(pm_record_id="").count(),
    )


def _open_batch_statuses() -> list[str]:
    from timekeeping.services import OPEN

    return list(OPEN)


def links_purge(*, user) -> PurgeCounts:
    """Stop the sync and forget every link (see the module doc); answers what it forgot.

    Writes nothing to PM or LA. Each link keeps its history and says what it was linked
    to; its record stays in the hub."""
    from timekeeping.services import billing_batch_cancel

    counts = purge_counts()
    connection_disconnect(user=user)
    for batch in BillingBatch.objects.filter(status__in=_open_batch_statuses()):
        billing_batch_cancel(batch)
    _forget(Link.objects.all(), user=user, why="purge")
    return counts


def links_forget(*, links, user) -> int:
    """Forget the given links only (the admin's "forget link" action): what a purge does
    to them, without stopping the sync. Answers how many."""
    return _forget(
        Link.objects.filter(pk__in=list(links.values_list("pk", flat=True))),
        user=user,
        why="forget link",
    )


def _forget(links, *, user, why: str) -> int:
    """One UPDATE for the links, one for the balances they wrote into PM."""
    who = getattr(user, "get_username", lambda: "")() or "an admin"
    now = timezone.now()
    with transaction.atomic():
        MatterBalance.objects.filter(matter__link__in=links).update(
            pm_data_collection_id="", pm_record_id="", pm_written={}, pm_written_at=None
        )
        return links.update(
            # Each link says what it was linked to (the expressions read the old ids).
            message=Concat(
                Value(f"Forgotten by {who} on {now:%Y-%m-%d %H:%M} UTC ({why}); it was PM id "),
                Coalesce("pm_id", Value("—")),
                Value(", LA id "),
                Coalesce("la_id", Value("—")),
                Value(". Link it again with manage.py link_existing."),
            ),
            pm_id=None,
            la_id=None,
            pm_create_marker="",
            pm_snapshot=None,
            la_snapshot=None,
            pm_hash="",
            la_hash="",
            # What a poll or a delivery read of the twins, kept for the next sync.
            pm_seen=None,
            la_seen=None,
            pm_seen_modified=None,
            la_seen_modified=None,
            pm_synced_modified=None,
            la_synced_modified=None,
            la_absent_checked=False,
            status=LinkStatus.UNSYNCED,
            error_code=FORGOTTEN,
            error_system="",
            status_changed_at=now,
            attempts=0,
            next_retry_at=None,
            lease_token=None,
            lease_expires_at=None,
            dirty=False,
            updated_at=now,
        )


def link_forgotten(link: Link | None) -> bool:
    """Whether a purge (or "forget link") left this link without its ids."""
    return bool(link and link.error_code == FORGOTTEN and not (link.pm_id or link.la_id))
