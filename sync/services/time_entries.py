"""Time recorded in PM, mirrored in the hub, and LA's view of it (ARCHITECTURE §2 "Time").

- New PM entries (resthook or polling) become hub entries, `unsent`, with a link
  holding the PM id; the link stays gray (unsynced) until the entry is sent.
- Correction rule: an entry not yet sent simply takes PM's new values. An entry
  already sent (or billed) is never pushed again: the PM change is kept in the
  history with its values and the entry is flagged "changed after sending; correct
  it in Legal Accounting" (red), so nothing is lost and nothing is silently pushed.
- LA is the truth after sending: a change made there (webhook or polling) is copied
  into the hub; LA's "billed" marks the entry billed, after which it is locked.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from matters.models import Matter
from sync.connectors import la_client, pm_client
from sync.connectors.actionstep import mapping as pm_mapping
from sync.connectors.legal_accounting import mapping as la_mapping
from sync.links import link_event, link_mark_error, snapshot_hash
from sync.models import Link, LinkStatus, RecordType, SyncEvent
from timekeeping.models import TimeEntry, Timekeeper

from .engine import SyncBlocked, remote_changed
from .timekeepers import timekeepers_refresh

logger = logging.getLogger(__name__)

CHANGED_AFTER_SENDING = "changed after sending; correct it in Legal Accounting"
SENT_STATUSES = {TimeEntry.BillingStatus.SENT, TimeEntry.BillingStatus.BILLED}
EDITABLE_STATUSES = {TimeEntry.BillingStatus.UNSENT, TimeEntry.BillingStatus.ERROR}
ENTRY_FIELDS = [
    "date",
    "description",
    "actual_hours",
    "billable_hours",
    "rate",
    "amount",
    "billing_behaviour",
]


def _matter_for(pm_action_id) -> Matter:
    from .changes import pm_record_seen

    link = (
        Link.objects.select_related("matter")
        .filter(record_type=RecordType.MATTER, pm_id=str(pm_action_id))
        .first()
    )
    if link is None:
        raw = pm_client().get("actions", str(pm_action_id))
        link = pm_record_seen("actions", raw, firm_people=set()) if raw else None
    if link is None or link.matter_id is None:
        raise SyncBlocked(f"PM matter {pm_action_id} is not in the hub.", code="matter_unknown")
    return link.matter


def _timekeeper_for(pm_owner_id) -> Timekeeper:
    timekeeper = Timekeeper.objects.filter(pm_user_id=str(pm_owner_id)).first()
    if timekeeper is None:
        timekeepers_refresh()
        timekeeper = Timekeeper.objects.filter(pm_user_id=str(pm_owner_id)).first()
    if timekeeper is None:
        raise SyncBlocked(f"PM user {pm_owner_id} is not a known timekeeper.", code="no_timekeeper")
    return timekeeper


def _jsonable(values: dict) -> dict:
    return {
        name: str(value) if isinstance(value, (Decimal, datetime.date)) else value
        for name, value in values.items()
    }


def _new_link(entry: TimeEntry, pm_id: str, snapshot: dict) -> Link:
    """The gray link of an entry just taken in from PM: recorded, not sent yet."""
    return Link(
        record_type=RecordType.TIME_ENTRY,
        time_entry=entry,
        pm_id=pm_id,
        pm_snapshot=snapshot,
        pm_hash=snapshot_hash(snapshot),
        status=LinkStatus.UNSYNCED,
        message="Recorded in PM; not sent for billing yet.",
    )


def time_entry_ingest(*, raw: dict) -> Link:
    """Bring one PM time entry into the hub, applying the correction rule."""
    values = pm_mapping.time_entry_from_pm(raw)
    pm_id = str(raw["id"])
    snapshot = _jsonable(values)
    link = (
        Link.objects.select_related("time_entry")
        .filter(record_type=RecordType.TIME_ENTRY, pm_id=pm_id)
        .first()
    )
    if link is None:
        fields = {name: values[name] for name in ENTRY_FIELDS}
        try:
            with transaction.atomic():
                entry = TimeEntry.objects.create(
                    matter=_matter_for(values["action"]),
                    timekeeper=_timekeeper_for(values["owner"]),
                    **fields,
                )
                link = _new_link(entry, pm_id, snapshot)
                link.save(force_insert=True)
                return link
        except IntegrityError:
            return Link.objects.get(record_type=RecordType.TIME_ENTRY, pm_id=pm_id)
    if not remote_changed(link.pm_snapshot, snapshot):
        return link
    with transaction.atomic():
        entry = TimeEntry.objects.select_for_update().get(pk=link.time_entry_id)
        if entry.billing_status in EDITABLE_STATUSES:
            for name in ENTRY_FIELDS:
                setattr(entry, name, values[name])
            entry.save()
            Link.objects.filter(pk=link.pk).update(
                pm_snapshot=snapshot, pm_hash=snapshot_hash(snapshot)
            )
            link_event(
                link,
                direction=SyncEvent.Direction.PM_TO_HUB,
                action="update",
                outcome=SyncEvent.Outcome.SUCCESS,
                message="Changed in PM before sending; the new values will be sent.",
            )
        else:
            _flag_after_sending(
                link,
                code="changed_after_sending",
                message=CHANGED_AFTER_SENDING,
                details={"pm_values": snapshot},
                pm_snapshot=snapshot,
                pm_hash=snapshot_hash(snapshot),
            )
    link.refresh_from_db()
    return link


def time_entries_ingest(*, raws: list[dict]) -> None:
    """Bring a page of PM time entries into the hub, as `time_entry_ingest` does one.

    Entries new to the hub whose matter and timekeeper it already knows are created
    together, in a few queries for the whole page (a firm's first poll reads years of
    time). The others go one by one: known entries follow the correction rule, and an
    entry whose matter or timekeeper must be fetched first fetches it. If another
    worker took some of the page meanwhile, the whole page goes one by one."""
    by_id = {str(raw["id"]): raw for raw in raws}
    known = set(
        Link.objects.filter(record_type=RecordType.TIME_ENTRY, pm_id__in=list(by_id)).values_list(
            "pm_id", flat=True
        )
    )
    fresh = {
        pm_id: pm_mapping.time_entry_from_pm(raw)
        for pm_id, raw in by_id.items()
        if pm_id not in known
    }
    matters = dict(
        Link.objects.filter(
            record_type=RecordType.MATTER,
            pm_id__in={str(values["action"]) for values in fresh.values()},
        ).values_list("pm_id", "matter_id")
    )
    timekeepers = dict(
        Timekeeper.objects.filter(
            pm_user_id__in={str(values["owner"]) for values in fresh.values()}
        ).values_list("pm_user_id", "pk")
    )
    ready = {
        pm_id: values
        for pm_id, values in fresh.items()
        if matters.get(str(values["action"])) and str(values["owner"]) in timekeepers
    }
    if ready:
        try:
            with transaction.atomic():
                entries = TimeEntry.objects.bulk_create(
                    TimeEntry(
                        matter_id=matters[str(values["action"])],
                        timekeeper_id=timekeepers[str(values["owner"])],
                        **{name: values[name] for name in ENTRY_FIELDS},
                    )
                    for values in ready.values()
                )
                snapshots = [_jsonable(values) for values in ready.values()]
                Link.objects.bulk_create(
                    _new_link(entry, pm_id, snapshot)
                    for pm_id, entry, snapshot in zip(ready, entries, snapshots, strict=True)
                )
        except IntegrityError:
            ready = {}
    for pm_id, raw in by_id.items():
        if pm_id in ready:
            continue
        try:
            time_entry_ingest(raw=raw)
        except SyncBlocked as blocked:
            logger.warning("PM time entry %s not taken in: %s", pm_id, blocked.message)


def la_time_entry_seen(*, raw: dict) -> Link | None:
    """Copy LA's version of a sent entry into the hub (LA is the truth after sending)."""
    link = (
        Link.objects.select_related("time_entry")
        .filter(record_type=RecordType.TIME_ENTRY, la_id=str(raw["id"]))
        .first()
    )
    if link is None:
        return None
    values = la_mapping.time_entry_from_la(raw)
    snapshot = _jsonable(values)
    if not remote_changed(link.la_snapshot, snapshot):
        return link
    entry = link.time_entry
    changed = []
    for name in ("date", "description", "billable_hours", "rate", "amount", "billing_behaviour"):
        if getattr(entry, name) != values[name]:
            setattr(entry, name, values[name])
            changed.append(name)
    if values["billed"] and entry.billing_status != TimeEntry.BillingStatus.BILLED:
        entry.billing_status = TimeEntry.BillingStatus.BILLED
        entry.billed_at = timezone.now()
        changed += ["billing_status", "billed_at"]
    if changed:
        entry.save(update_fields=[*changed, "updated_at"])
    Link.objects.filter(pk=link.pk).update(la_snapshot=snapshot, la_hash=snapshot_hash(snapshot))
    link_event(
        link,
        direction=SyncEvent.Direction.LA_TO_HUB,
        action="billed" if "billing_status" in changed else "update",
        outcome=SyncEvent.Outcome.SUCCESS if changed else SyncEvent.Outcome.SKIPPED,
        message=("Changed in LA: " + ", ".join(changed)) if changed else "No change.",
    )
    return link


def la_time_entries_refresh(*, la_ids: list[str]) -> int:
    """Read the given LA time entries and reflect them (billing webhook, corrections)."""
    seen = 0
    for la_id in la_ids:
        la_time_entry_seen(raw=la_client().time_entry_get(str(la_id)))
        seen += 1
    return seen


def time_entries_reconcile(*, page_size: int = 200) -> dict[str, int]:
    """Read again, a page of ids at a time, every PM time entry the hub holds that LA has
    not billed, and take in what changed; an entry PM no longer lists is read on its own,
    and only PM's 404 for it counts as a deletion.

    Actionstep's time entries have no `modifiedTimestamp` and no deletion event
    (docs/actionstep-fidelity.md): their resthook announces edits, and this pass finds
    what a lost hook did not, and every deletion. One request per `page_size` entries.
    """
    counts = {"read": 0, "changed": 0, "deleted": 0}
    pm_ids = list(
        Link.objects.filter(record_type=RecordType.TIME_ENTRY, pm_id__isnull=False)
        .exclude(time_entry__billing_status=TimeEntry.BillingStatus.BILLED)
        .order_by("pk")
        .values_list("pm_id", flat=True)
    )
    for start in range(0, len(pm_ids), page_size):
        _reconcile_chunk(pm_ids[start : start + page_size], counts)
    return counts


def _reconcile_chunk(pm_ids: list[str], counts: dict[str, int]) -> None:
    snapshots = dict(
        Link.objects.filter(record_type=RecordType.TIME_ENTRY, pm_id__in=pm_ids).values_list(
            "pm_id", "pm_snapshot"
        )
    )
    found = {
        str(raw["id"]): raw for raw in pm_client().list_all("timeentries", id_in=",".join(pm_ids))
    }
    counts["read"] += len(found)
    for pm_id, raw in found.items():
        snapshot = _jsonable(pm_mapping.time_entry_from_pm(raw))
        if remote_changed(snapshots.get(pm_id), snapshot):
            time_entry_ingest(raw=raw)
            counts["changed"] += 1
    for pm_id in pm_ids:
        if pm_id not in found and pm_client().get("timeentries", pm_id) is None:
            time_entry_deleted_in_pm(pm_id=pm_id)
            counts["deleted"] += 1


def time_entry_deleted_in_pm(*, pm_id: str) -> None:
    """An entry deleted in PM: gone from the hub if it was never sent; if it was sent,
    kept and flagged, because only LA can take it back."""
    link = (
        Link.objects.select_related("time_entry")
        .filter(record_type=RecordType.TIME_ENTRY, pm_id=pm_id)
        .first()
    )
    if link is None:
        return
    entry = link.time_entry
    if entry.billing_status in EDITABLE_STATUSES:
        entry.delete()
        return
    _flag_after_sending(
        link,
        code="deleted_after_sending",
        message=f"deleted in PM after sending; {CHANGED_AFTER_SENDING}",
    )


def _flag_after_sending(link: Link, *, code: str, message: str, details=None, **fields) -> None:
    """A PM change to an entry LA already has: never pushed, kept, shown red."""
    TimeEntry.objects.filter(pk=link.time_entry_id).update(changed_after_sending=True)
    link_mark_error(link, code=code, system="pm", message=message, **fields)
    link_event(
        link,
        direction=SyncEvent.Direction.PM_TO_HUB,
        action="correction",
        outcome=SyncEvent.Outcome.ERROR,
        message=message,
        details=details,
    )
