"""The sync engine: one pass over one link, the same for every record type.

For a link it reads both systems, merges field by field against the last-synced
snapshots (sync/merge.py), writes only what differs, and records the outcome. The
invariants of ARCHITECTURE §4 and where they are kept:

1. No duplicates: the link is leased (sync/links.py) so one worker at a time works on
   it; before creating, the other system is searched by the foreign id; creates in LA
   carry an idempotency key; a new foreign id is stored the moment it is known.
2. Nothing lost: a change that arrives while the link is leased marks it dirty, and the
   holder runs again before letting go; failures schedule a retry on the link.
3. No echo loops: a side is written only where its value differs from the merge.
4. Conflicts are visible: they are resolved by the owner rule (sync/fields.py) and
   written to the history.
5. Errors are classified (sync/connectors/base.py, sync/links.py).
6. Every attempt is a SyncEvent.

Record types plug in through an adapter (sync/services/contacts.py, matters.py).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sync.connectors.base import ConnectorError, ErrorKind
from sync.fields import LA, PM, SharedField, field_names
from sync.links import (
    NEEDS_DECISION_MESSAGE,
    link_event,
    link_failed,
    link_held,
    link_la_absence_forget,
    link_lease_acquire,
    link_lease_drop,
    link_store_create_marker,
    link_store_foreign_id,
    link_store_written,
    link_succeeded,
    record_modified,
    snapshot_hash,
    written_fields,
)
from sync.log_context import log_context_add, logged_with
from sync.merge import merge
from sync.models import Link, SyncEvent

from .connection import pm_connected

logger = logging.getLogger(__name__)

MAX_ROUNDS = 3
# A matter the hub creates in PM carries `LA:<LA id>` as its import reference.
LA_ID_PREFIX = "LA:"
Direction = SyncEvent.Direction
Outcome = SyncEvent.Outcome


class Seen(enum.Enum):
    """What taking a record in from PM or LA found."""

    UNCHANGED = "unchanged"  # it equals what the last sync left there (our own echo)
    CHANGED = "changed"  # a record the hub knows changed: mark its link pending, queue it
    NEW = "new"  # new to the hub: its link was made pending with it; queue it


class SyncHeld(Exception):
    """The record waits for an admin's decision before it may be created in the other
    system (onboarding found several candidates for it there)."""


class SyncBlocked(Exception):
    """The record can't be synced as it is; `code` and the message say why."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Remote:
    """One record as a system holds it: its id, its raw JSON, and its hub-shaped values."""

    id: str
    raw: dict
    values: dict[str, Any]


@dataclass
class PassReport:
    writes: list[str] = field(default_factory=list)
    pm_snapshot: dict | None = None  # what each side holds now, for the next merge
    la_snapshot: dict | None = None
    pm_modified: datetime.datetime | None = None  # each record's stamp as the pass left it
    la_modified: datetime.datetime | None = None


class RecordAdapter:
    """What the engine needs to know about one record type. Subclasses fill it in."""

    record_type: str
    fields: tuple[SharedField, ...]
    la_pm_id_field: str = ""  # where LA keeps the PM id ("pm_contact_id", "pm_matter_id")
    la_collection: str = ""  # LA's collection of the type ("contacts", "files")

    def hub_values(self, record) -> dict[str, Any]:
        return {f.name: getattr(record, f.name) for f in self.fields}

    def hub_apply(self, record, values: dict[str, Any]) -> bool:
        changed = [name for name, value in values.items() if getattr(record, name) != value]
        for name in changed:
            setattr(record, name, values[name])
        if changed:
            record.save(update_fields=[*changed, "updated_at"])
        return bool(changed)

    def pass_scope(self) -> AbstractContextManager:
        """Entered around one sync pass (prepare and reconcile), for per-pass state."""
        return nullcontext()

    def check(self, record) -> None:
        """Raise SyncBlocked for what may not be sent at all (checked before any call)."""

    def prepare(self, link: Link, record) -> None:
        """Bring dependencies in line first (a matter's client)."""

    def pm_marker(self, values: dict, link: Link, record) -> str:
        """What a record created in PM carries for `pm_find` and ingest to know it again."""
        return ""

    def pm_from_raw(self, raw: dict) -> Remote: ...
    def la_from_raw(self, raw: dict) -> Remote: ...
    def pm_read(self, pm_id: str) -> Remote | None: ...
    def pm_find(self, link: Link, record) -> Remote | None: ...
    def pm_create(self, values: dict, link: Link, record) -> Remote: ...
    def pm_update(self, remote: Remote, changes: dict) -> Remote: ...
    def la_read(self, la_id: str) -> Remote | None: ...
    def la_find(self, link: Link, record) -> Remote | None: ...
    def la_create(self, values: dict, link: Link, record) -> Remote: ...
    def la_update(self, remote: Remote, changes: dict) -> Remote: ...

    def la_remember_pm_id(self, remote: Remote, pm_id: str) -> None:
        """Tell LA the PM id of its record, so LA keeps the foreign id too."""


def idempotency_key(link: Link, payload: dict) -> str:
    """The key for creating this link's record with this payload.

    A retry of the same create (after a dropped answer) replays the first answer; a
    create with corrected data (a fixed number after a clash) is a new request.
    """
    digest = snapshot_hash(payload)[:16]
    return f"hub-{link.record_type}-{link.pk}-{digest}"


def remote_changed(snapshot: dict | None, values: dict) -> bool:
    """Whether a system's record differs from what the last sync left there.

    False for the echo of our own write, and for a red link whose data nobody touched
    (it waits for a data change or a resync, ARCHITECTURE §4 rule 5).
    """
    if not snapshot:
        return True
    return any(snapshot.get(name) != value for name, value in values.items() if name in snapshot)


def differences(target: dict, current: dict, names: list[str]) -> dict:
    return {name: target[name] for name in names if current.get(name) != target.get(name)}


ADAPTERS: dict[str, RecordAdapter] = {}


def adapter_register(adapter: RecordAdapter) -> RecordAdapter:
    """Make the engine sync links of `adapter.record_type` with this adapter."""
    ADAPTERS[adapter.record_type] = adapter
    return adapter


@logged_with("link_id")
def record_sync(link_id: int) -> bool:
    """Sync one link now. False when another worker holds it (it will run again).

    A first sync that creates the record in LA costs eight queries: take the lease,
    load the link with its record, note that a create may now have been made, store LA's
    id with what the create left there, store what was written to PM, save what LA
    assigned to the hub record, write the history row, and record the outcome together
    with letting go of the lease. And two requests, when the poll that
    took the record in read it and searched LA for it already: the create in LA and the
    number written back to PM.
    """
    if not pm_connected():
        # Every record type reads PM; while the connection needs a person the link stays
        # as it is, and reconnecting queues it again (sync/services/connection.py).
        return False
    # Paused for onboarding, the lease is refused: nothing is written to PM or LA, and
    # the link stays pending and due until going live (sync/services/switch.py).
    token = link_lease_acquire(link_id)
    if token is None:
        return False
    for _ in range(MAX_ROUNDS):
        try:
            released = _sync_once(link_id, token)
        except Exception:
            link_lease_drop(link_id, token)
            raise
        if released:
            return True
    # Still changing after MAX_ROUNDS: let go and queue it rather than hold the worker.
    link_lease_drop(link_id, token)
    link = Link.objects.get(pk=link_id)
    from sync.services import link_enqueue  # the package imports this module first

    link_enqueue(link, message="Changed again while syncing; sync queued.")
    return True


def _sync_once(link_id: int, token: uuid.UUID) -> bool:
    """One pass over the link under our lease; False when it changed meanwhile (the
    outcome is recorded and the lease kept for one more pass)."""
    link = Link.objects.select_related("contact", "matter__client__link").get(pk=link_id)
    adapter = ADAPTERS[link.record_type]
    log_context_add(record_type=link.record_type)
    record = link.record
    started = time.monotonic()
    direction = Direction.PM_TO_LA if link.pm_id else Direction.LA_TO_PM
    try:
        with adapter.pass_scope():
            adapter.check(record)
            adapter.prepare(link, record)
            report = _reconcile(adapter, link, record)
    except SyncHeld:
        link_event(
            link,
            direction=direction,
            action="hold",
            outcome=Outcome.SKIPPED,
            message=NEEDS_DECISION_MESSAGE,
            duration_ms=_ms(started),
        )
        return link_held(link, lease=token)
    except SyncBlocked as blocked:
        link_event(
            link,
            direction=direction,
            action="check",
            outcome=Outcome.ERROR,
            message=blocked.message,
            duration_ms=_ms(started),
        )
        logger.warning("Sync blocked: %s", blocked.message)
        return link_failed(link, blocked.message, code=blocked.code, lease=token)
    except ConnectorError as error:
        if error.kind == ErrorKind.CONNECTION:
            # The connection needs a person: no attempt was made on the record itself.
            link_lease_drop(link_id, token)
            return True
        if error.kind == ErrorKind.REFUSED and _refused_before(link, error):
            # The same refusal on retry is the system's answer, not a passing fault.
            error = dataclasses.replace(error, kind=ErrorKind.PERMANENT)
        link_event(
            link,
            direction=Direction.PM_TO_LA if error.system == LA else Direction.LA_TO_PM,
            action="sync",
            outcome=Outcome.ERROR if error.permanent else Outcome.RETRY,
            message=error.message,
            duration_ms=_ms(started),
            details={
                "status": error.status,
                "code": error.code,
                "field": error.field,
                "system": error.system,
            },
        )
        logger.warning(
            "Sync failed: %s",
            error.message,
            extra={"system": error.system, "error_code": error.code},
        )
        return link_failed(link, error, lease=token)
    link_event(
        link,
        direction=direction,
        action="sync",
        outcome=Outcome.SUCCESS if report.writes else Outcome.SKIPPED,
        message="; ".join(report.writes) or "Both systems already agree.",
        duration_ms=_ms(started),
    )
    return link_succeeded(
        link,
        pm_snapshot=report.pm_snapshot,
        la_snapshot=report.la_snapshot,
        lease=token,
        pm_modified=report.pm_modified,
        la_modified=report.la_modified,
    )


def _refused_before(link: Link, error: ConnectorError) -> bool:
    """Whether the link's last attempt met the same refusal (system and code)."""
    last = (
        SyncEvent.objects.filter(link=link)
        .order_by("-occurred_at", "-pk")
        .values_list("outcome", "details")
        .first()
    )
    if last is None or last[0] != Outcome.RETRY:
        return False
    details = last[1] or {}
    return details.get("code") == error.code and details.get("system", error.system) == error.system


def _pm_now(adapter: RecordAdapter, link: Link) -> Remote | None:
    """PM's record: the copy a poll or delivery kept, when it is newer than what the
    last sync saw (`Link.pm_seen`); else read now."""
    if _seen_usable(link, PM):
        return adapter.pm_from_raw(link.pm_seen)
    return adapter.pm_read(link.pm_id)


def _la_now(adapter: RecordAdapter, link: Link) -> Remote | None:
    if _seen_usable(link, LA):
        return adapter.la_from_raw(link.la_seen)
    return adapter.la_read(link.la_id)


def _seen_usable(link: Link, system: str) -> bool:
    """Whether the copy kept of the link's record in `system` may stand for it: the
    record's, and on the first sync, or modified after what the last sync read or wrote
    (by the record's own stamp; a copy of the same second is read again)."""
    raw = getattr(link, f"{system}_seen")
    if not raw or str(raw.get("id")) != getattr(link, f"{system}_id"):
        return False
    if link.last_synced_at is None:
        return True
    seen = getattr(link, f"{system}_seen_modified")
    synced = getattr(link, f"{system}_synced_modified")
    return seen is not None and synced is not None and seen > synced


def _reconcile(adapter: RecordAdapter, link: Link, record) -> PassReport:
    """One merge and the writes it calls for. Reads cost requests, so each side is read
    at most once, and a new record not at all when the poll or delivery that took it in
    read it (`Link.pm_seen`, `la_seen`); LA is searched for a record created from PM only
    when a poll did not search for it already (`Link.la_absent_checked`)."""
    report = PassReport()
    pm = _pm_now(adapter, link) if link.pm_id else None
    la = _la_now(adapter, link) if link.la_id else None
    if la is None and link.pm_id and not link.la_absent_checked:
        la = adapter.la_find(link, record)
        if la is not None:
            link_store_foreign_id(link, la_id=la.id)
    if pm is None and link.la_id:
        pm = adapter.pm_find(link, record)
        if pm is not None:
            link_store_foreign_id(link, pm_id=pm.id)

    result = merge(
        adapter.fields,
        hub=adapter.hub_values(record),
        pm=pm.values if pm else None,
        la=la.values if la else None,
        pm_base=link.pm_snapshot,
        la_base=link.la_snapshot,
    )
    target = result.values
    for conflict in result.conflicts:
        link_event(
            link,
            direction=Direction.PM_TO_LA,
            action="conflict",
            outcome=Outcome.CONFLICT,
            message=f"{conflict.field}: kept the {conflict.chosen.upper()} value "
            f"{conflict.values[conflict.chosen]!r}; other values "
            + ", ".join(
                f"{side.upper()} {value!r}"
                for side, value in conflict.values.items()
                if side != conflict.chosen
            ),
            details={"field": conflict.field, "chosen": conflict.chosen},
        )

    # The base of the next merge for each side: what it answered, except after an update
    # (_written_over).
    pm_base = la_base = None
    # LA first: it assigns the numbers that PM and the hub then take.
    la_names = [f.name for f in adapter.fields if LA in f.systems]
    if la is None:
        if link.needs_decision:
            raise SyncHeld
        if link.la_absent_checked:
            # From here on a create may have been made: later attempts search first.
            link_la_absence_forget(link)
        la = adapter.la_create(target, link, record)
        written = written_fields(LA, _snapshot(la, la_names), la.raw)
        link_store_foreign_id(link, la_id=la.id, written=written)
        report.writes.append(f"created in LA as {la.id}")
    else:
        updatable = [
            f.name for f in adapter.fields if LA in f.systems and LA not in f.create_only_in
        ]
        changes = differences(target, la.values, updatable)
        if changes:
            read = _snapshot(la, la_names)
            la = adapter.la_update(la, changes)
            la_base = _written_over(read, _snapshot(la, la_names), changes)
            link_store_written(link, LA, la_base, la.raw)
            report.writes.append("updated in LA: " + ", ".join(sorted(changes)))
    for shared in adapter.fields:
        if shared.owner == LA and LA in shared.systems:
            target[shared.name] = la.values[shared.name]

    pm_names = field_names(adapter.fields, PM)
    pm_updatable = [
        f.name for f in adapter.fields if PM in f.systems and PM not in f.create_only_in
    ]
    if pm is None:
        if link.needs_decision:
            raise SyncHeld
        # Stored before the call: PM's resthook for the new record may come first.
        link_store_create_marker(link, adapter.pm_marker(target, link, record))
        pm = adapter.pm_create(target, link, record)
        written = written_fields(PM, _snapshot(pm, pm_names), pm.raw)
        link_store_foreign_id(link, pm_id=pm.id, written=written)
        report.writes.append(f"created in PM as {pm.id}")
    else:
        changes = differences(target, pm.values, pm_updatable)
        if changes:
            read = _snapshot(pm, pm_names)
            pm = adapter.pm_update(pm, changes)
            pm_base = _written_over(read, _snapshot(pm, pm_names), changes)
            link_store_written(link, PM, pm_base, pm.raw)
            report.writes.append("updated in PM: " + ", ".join(sorted(changes)))

    if str(la.raw.get(adapter.la_pm_id_field) or "") != pm.id:
        # Also after a create whose answer was lost: LA must keep the PM id.
        adapter.la_remember_pm_id(la, pm.id)
        report.writes.append("gave LA the PM id")

    if adapter.hub_apply(record, target):
        report.writes.append("updated the hub")
    report.pm_snapshot = pm_base if pm_base is not None else _snapshot(pm, pm_names)
    report.la_snapshot = la_base if la_base is not None else _snapshot(la, la_names)
    report.pm_modified = record_modified(PM, pm.raw)
    report.la_modified = record_modified(LA, la.raw)
    return report


def _snapshot(remote: Remote, names: list[str]) -> dict:
    """What a side holds, in the hub's names: the base of the next merge."""
    return {name: remote.values.get(name) for name in names}


def _written_over(read: dict, answered: dict, written: dict) -> dict:
    """The base after an update: the fields the hub wrote as the system answered them,
    every other field as the hub read it. An update answers the whole record, with
    whatever a person changed there since the hub read it; taking that as the base would
    make the person's change look synced, and it would never reach the other side."""
    return {**read, **{name: answered.get(name) for name in written}}


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
