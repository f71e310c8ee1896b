"""The Link Indicator's state machine, the per-link lease, and the sync history.

Every attempt is a SyncEvent (ARCHITECTURE §4 rule 6). Failures are classified (rule 5):
transient → pending with backoff; unreachable or refused credentials → unknown with
backoff; permanent → error, no retry until the data changes or an admin resyncs.
Writes to the link are targeted `.filter(pk=…).update(…)` so two workers never
overwrite each other's fields with stale copies.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import Exists, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .connectors.base import ConnectorError, ErrorKind
from .metrics import sync_attempt_count
from .models import RECORD_FIELDS, Link, LinkStatus, RecordType, SyncEvent, SyncSwitch

# A little longer than django-q2 lets a task run: a worker killed mid-sync frees its
# links this long after it took them, and no live task can outlast its lease.
LEASE_SECONDS = settings.Q_CLUSTER["timeout"] + 30
BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 3600

STATUS_FOR_KIND = {
    ErrorKind.TRANSIENT: LinkStatus.PENDING,
    ErrorKind.REFUSED: LinkStatus.PENDING,  # once; the engine turns a repeat permanent
    ErrorKind.CONNECTION: LinkStatus.PENDING,  # the engine leaves the link alone instead
    ErrorKind.UNREACHABLE: LinkStatus.UNKNOWN,
    ErrorKind.AUTH: LinkStatus.UNKNOWN,
    ErrorKind.PERMANENT: LinkStatus.ERROR,
}


def snapshot_hash(snapshot: dict[str, Any] | None) -> str:
    if snapshot is None:
        return ""
    text = json.dumps(snapshot, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never sooner than the system's Retry-After."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0)


PAUSED_MESSAGE = "Sync paused: waiting for onboarding."


def link_lease_acquire(link_id: int) -> uuid.UUID | None:
    """Take the link for one sync; None when another worker holds it (marked dirty), or
    when the sync is paused for onboarding (the link says so and stays due).

    The switch is read in the same conditional UPDATE that takes the lease, so a sync
    never starts after the switch was paused, on any host, and costs no extra query."""
    now = timezone.now()
    token = uuid.uuid4()
    paused = SyncSwitch.objects.filter(pk=1, state=SyncSwitch.State.PAUSED)
    taken = (
        Link.objects.filter(pk=link_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .filter(~Exists(paused))
        .update(
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=LEASE_SECONDS),
            dirty=False,
        )
    )
    if taken:
        return token
    if paused.exists():
        # A record held for a decision keeps its reason, and waits for the decision.
        Link.objects.filter(pk=link_id, status=LinkStatus.PENDING).exclude(
            error_code=NEEDS_DECISION
        ).update(message=PAUSED_MESSAGE, next_retry_at=Coalesce(F("next_retry_at"), Value(now)))
        return None
    Link.objects.filter(pk=link_id).update(dirty=True)
    return None


def link_lease_release(link_id: int, token: uuid.UUID, outcome: dict | None = None) -> bool:
    """Let go of the link, writing the attempt's `outcome` fields in the same statement;
    False when a change arrived meanwhile: run once more.

    The outcome is then written and the lease kept (renewed) for that run. A lease that
    expired and was taken by another worker is not ours any more: write nothing, answer
    True and leave the link to its new holder, whose outcome is the newer one.
    """
    outcome = outcome or {}
    released = Link.objects.filter(pk=link_id, lease_token=token, dirty=False).update(
        lease_token=None, lease_expires_at=None, **outcome
    )
    if released:
        return True
    renewed = Link.objects.filter(pk=link_id, lease_token=token).update(
        dirty=False,
        lease_expires_at=timezone.now() + timedelta(seconds=LEASE_SECONDS),
        **outcome,
    )
    return not renewed


def link_lease_drop(link_id: int, token: uuid.UUID) -> None:
    """Give up our lease whatever its state (after a crash), never someone else's."""
    Link.objects.filter(pk=link_id, lease_token=token).update(
        lease_token=None, lease_expires_at=None
    )


def link_mark_pending(link: Link, message: str = "Sync queued.", **seen) -> None:
    """Queued for sync: light blue. Callers queue a red link only for a data change or
    an admin's resync (ARCHITECTURE §4 rule 5), never on their own. `seen` sets the
    copies kept of the records (`pm_seen=None` drops PM's)."""
    Link.objects.filter(pk=link.pk).update(
        status=LinkStatus.PENDING,
        message=message,
        error_code="",
        error_system="",
        status_changed_at=timezone.now(),
        next_retry_at=None,
        **seen,
    )


# A sync that ends, whatever its outcome, has used the copies kept for it.
SEEN_SPENT = {"pm_seen": None, "la_seen": None, "pm_seen_modified": None, "la_seen_modified": None}


def record_modified(system: str, raw: dict | None) -> datetime.datetime | None:
    """When a record was last modified, by its own stamp (PM's `modifiedTimestamp`, to
    the second; LA's `modified_at`); None when it has none."""
    value = (raw or {}).get("modifiedTimestamp" if system == "pm" else "modified_at")
    try:
        moment = parse_datetime(str(value)) if value else None
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return moment


def seen_fields(system: str, raw: dict) -> dict:
    """The link fields that keep `raw` as its copy of the record in `system`."""
    return {f"{system}_seen": raw, f"{system}_seen_modified": record_modified(system, raw)}


def link_seen_keep(link: Link, system: str, raw: dict) -> None:
    """Keep `raw`, a copy of the link's record in `system` just read, for its next sync,
    unless the copy kept already is as new or newer: deliveries and polls are taken in
    in any order, and an older copy must never stand for what the record holds now. A
    copy with no stamp can't be ordered and is not kept (the sync reads the record)."""
    modified = record_modified(system, raw)
    if modified is None:
        return
    older = Q(**{f"{system}_seen_modified__isnull": True}) | Q(
        **{f"{system}_seen_modified__lt": modified}
    )
    Link.objects.filter(pk=link.pk).filter(older).update(**seen_fields(system, raw))


def link_event(
    link: Link,
    *,
    direction: str,
    action: str,
    outcome: str,
    message: str = "",
    duration_ms: int | None = None,
    details: dict | None = None,
) -> SyncEvent:
    sync_attempt_count(record_type=link.record_type, outcome=outcome)
    return SyncEvent.objects.create(
        link=link,
        direction=direction,
        action=action,
        outcome=outcome,
        message=message[:2000],
        duration_ms=duration_ms,
        details=details or {},
    )


def link_succeeded(
    link: Link,
    *,
    pm_snapshot: dict | None,
    la_snapshot: dict | None,
    message: str = "",
    lease: uuid.UUID | None = None,
    pm_modified: datetime.datetime | None = None,
    la_modified: datetime.datetime | None = None,
) -> bool:
    """Record a successful sync with both snapshots, and each record's modification
    stamp as the sync left it. Given the `lease` it was made under, it also lets go of
    the link (see `link_lease_release`, whose answer it returns)."""
    now = timezone.now()
    fields = {
        "status": LinkStatus.SYNCED,
        "error_code": "",
        "error_system": "",
        "message": message,
        "last_synced_at": now,
        "attempts": 0,
        "next_retry_at": None,
        "pm_snapshot": pm_snapshot,
        "la_snapshot": la_snapshot,
        "pm_hash": snapshot_hash(pm_snapshot),
        "la_hash": snapshot_hash(la_snapshot),
        "pm_synced_modified": pm_modified,
        "la_synced_modified": la_modified,
        **SEEN_SPENT,
    }
    if link.status != LinkStatus.SYNCED:
        fields["status_changed_at"] = now
    done = _link_write(link, fields, lease)
    for name, value in fields.items():
        setattr(link, name, value)
    return done


def link_failed(
    link: Link, error: ConnectorError | str, *, code: str = "", lease: uuid.UUID | None = None
) -> bool:
    """Record a failed attempt on the link: the indicator, the reason, the next retry.
    Given the `lease`, it also lets go of the link, as `link_succeeded` does."""
    now = timezone.now()
    if isinstance(error, ConnectorError):
        status = STATUS_FOR_KIND[error.kind]
        message = error.message
        code = code or error.code or error.kind
        retry_after = error.retry_after
        system = error.system
    else:
        status, message, retry_after, system = LinkStatus.ERROR, error, None, "hub"
    attempts = link.attempts + 1
    next_retry_at = None
    if status != LinkStatus.ERROR:
        next_retry_at = now + timedelta(seconds=backoff_seconds(attempts, retry_after))
    fields = {
        "status": status,
        "error_code": code[:64],
        "error_system": system,
        "message": message,
        "next_retry_at": next_retry_at,
        **SEEN_SPENT,
    }
    if link.status != status:
        fields["status_changed_at"] = now
    done = _link_write(link, {**fields, "attempts": F("attempts") + 1}, lease)
    for name, value in fields.items():
        setattr(link, name, value)
    link.attempts = attempts
    return done


# Onboarding found several candidates for the record in the other system.
NEEDS_DECISION = "needs_decision"
NEEDS_DECISION_MESSAGE = (
    "Needs a decision: the other system holds records that may be this one. Pick its "
    "twin, or mark them different records, on the onboarding page."
)


def link_held(link: Link, *, lease: uuid.UUID | None = None) -> bool:
    """The record waits for an admin's decision (onboarding): amber, pending, not due,
    keeping the reason onboarding wrote when it names the candidates."""
    fields = {
        "status": LinkStatus.PENDING,
        "error_code": NEEDS_DECISION,
        "error_system": "hub",
        "next_retry_at": None,
    }
    if link.error_code != NEEDS_DECISION or not link.message:
        fields["message"] = NEEDS_DECISION_MESSAGE
    if link.status != LinkStatus.PENDING:
        fields["status_changed_at"] = timezone.now()
    done = _link_write(link, fields, lease)
    for name, value in fields.items():
        setattr(link, name, value)
    return done


def _link_write(link: Link, fields: dict, lease: uuid.UUID | None) -> bool:
    if lease is not None:
        return link_lease_release(link.pk, lease, fields)
    Link.objects.filter(pk=link.pk).update(**fields)
    return True


def link_mark_error(link: Link, *, code: str, system: str, message: str, **fields) -> None:
    """Turn the link red with a reason, outside a sync attempt (a failed prerequisite, a
    correction PM made after sending); no retry is scheduled."""
    Link.objects.filter(pk=link.pk).update(
        status=LinkStatus.ERROR,
        error_code=code,
        error_system=system,
        message=message,
        status_changed_at=timezone.now(),
        next_retry_at=None,
        **fields,
    )


def link_la_absence_forget(link: Link) -> None:
    """About to create the record in LA: a later attempt must search LA first."""
    Link.objects.filter(pk=link.pk).update(la_absent_checked=False)
    link.la_absent_checked = False


def link_store_create_marker(link: Link, marker: str) -> None:
    """Persist what a record about to be created in PM carries to be known again."""
    if marker and marker != link.pm_create_marker:
        Link.objects.filter(pk=link.pk).update(pm_create_marker=marker[:100])
        link.pm_create_marker = marker[:100]


def link_store_foreign_id(
    link: Link, *, pm_id: str | None = None, la_id: str | None = None, written: dict | None = None
):
    """Persist a foreign id the moment it is known (ARCHITECTURE §4 rule 1); with
    `written`, what the create left in that system too (`link_store_written`)."""
    fields = dict(written or {})
    if pm_id is not None:
        fields["pm_id"] = link.pm_id = str(pm_id)
        if link.pm_create_marker:
            fields["pm_create_marker"] = link.pm_create_marker = ""
    if la_id is not None:
        fields["la_id"] = link.la_id = str(la_id)
    Link.objects.filter(pk=link.pk).update(**fields)


def written_fields(system: str, snapshot: dict, raw: dict) -> dict:
    """The link fields saying what the hub just wrote to `system`: its snapshot and the
    record's stamp. Stored the moment the write is answered, so the echo of the write (the
    system's webhook, a poll) is known as ours — equal to the snapshot — and not taken
    for a change someone made, which would cost a second pass and its reads."""
    return {
        f"{system}_snapshot": snapshot,
        f"{system}_hash": snapshot_hash(snapshot),
        f"{system}_synced_modified": record_modified(system, raw),
    }


def link_store_written(link: Link, system: str, snapshot: dict, raw: dict) -> None:
    fields = written_fields(system, snapshot, raw)
    Link.objects.filter(pk=link.pk).update(**fields)
    for name, value in fields.items():
        setattr(link, name, value)


def links_store_la_copies(rows: list[tuple[int, str, dict]]) -> None:
    """Store LA's id and copy for many links at once: rows of (link pk, LA id, snapshot).

    One statement run for every row (`executemany`, one round trip): Django's
    `bulk_update` builds a CASE per row and field whose construction cost more than the
    hundred UPDATEs it replaced (benchmarks/backfill.py, sending 100 entries a batch).
    """
    if not rows:
        return
    connection = connections[router.db_for_write(Link)]
    quote = connection.ops.quote_name
    snapshot_field = Link._meta.get_field("la_snapshot")
    # Identifiers from the model's own metadata, quoted; every value is a parameter.
    sql = "UPDATE {} SET {} = %s, {} = %s, {} = %s WHERE {} = %s".format(  # noqa: S608
        quote(Link._meta.db_table),
        quote("la_id"),
        quote("la_snapshot"),
        quote("la_hash"),
        quote("id"),
    )
    params = [
        (
            str(la_id),
            snapshot_field.get_db_prep_save(snapshot, connection),
            snapshot_hash(snapshot),
            pk,
        )
        for pk, la_id, snapshot in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


RECORD_TYPE_OF_MODEL = {
    "contacts.contact": RecordType.CONTACT,
    "matters.matter": RecordType.MATTER,
    "timekeeping.timeentry": RecordType.TIME_ENTRY,
}


def link_for(record) -> Link:
    """The record's link, made (unsynced) if it has none yet."""
    record_type = RECORD_TYPE_OF_MODEL[record._meta.label_lower]
    link, _ = Link.objects.get_or_create(
        **{RECORD_FIELDS[record_type]: record}, defaults={"record_type": record_type}
    )
    return link
