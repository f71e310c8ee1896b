"""Sending time to LA for billing (ARCHITECTURE §2 "Time").

Rules enforced here:
- Each entry's prerequisites are checked, each failure its own message on the entry:
  the matter is in LA; the matter's File Reference equals LA's matter number; the
  timekeeper is in LA with the same email; the entry was not sent already.
- Entries are claimed with a conditional UPDATE (unsent/error → queued), so two
  sends at once never both take an entry; LA's batch create dedupes on `external_id`
  (the PM time-entry id) and each request carries an idempotency key, so a send
  retried after a lost answer leaves exactly one entry in LA.
- unsent → queued → sent (→ billed, when LA bills it); error with the reason.
- Entries are claimed, checked and sent LA_BATCH_SIZE at a time, so a send of any size
  keeps its memory and the size of its queries flat (benchmarks/backfill.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from sync.connectors import la_client
from sync.connectors.base import ConnectorError
from sync.links import (
    link_event,
    link_for,
    link_mark_error,
    links_store_la_copies,
)
from sync.models import Link, LinkStatus, SyncEvent

from .models import BillingBatch, TimeEntry, Timekeeper

LA_BATCH_SIZE = 100
SEND_ATTEMPTS = 3
ALREADY_SENT = "entry already sent"
ALREADY_QUEUED = "entry already queued in another batch"
Status = TimeEntry.BillingStatus
SKIPPED = "skipped"  # a result, not an entry status: the entry was left as it was


@dataclass
class EntryResult:
    """What one send did to one entry: `sent`, `error` (with why) or `skipped`."""

    entry_id: int
    status: str
    message: str = ""
    la_id: str | None = None


def _fee_earner(timekeeper: Timekeeper, cache: dict) -> str | None:
    if timekeeper.la_fee_earner_id:
        return timekeeper.la_fee_earner_id
    if timekeeper.pk not in cache:
        found = la_client().fee_earner_find_by_email(timekeeper.email)
        cache[timekeeper.pk] = str(found["id"]) if found else None
        if found:
            Timekeeper.objects.filter(pk=timekeeper.pk).update(la_fee_earner_id=str(found["id"]))
    return cache[timekeeper.pk]


def _la_file_number(matter_link: Link, cache: dict) -> str:
    if matter_link.la_id not in cache:
        cache[matter_link.la_id] = la_client().file_get(matter_link.la_id)["file_number"]
    return cache[matter_link.la_id]


def _link_of(record) -> Link | None:
    """The record's link, read through `select_related` when the caller loaded it."""
    try:
        return record.link
    except Link.DoesNotExist:
        return None


def time_entry_problems(entry: TimeEntry, caches: dict) -> list[str]:
    """Every unmet prerequisite of one entry, as messages a person can act on."""
    problems = []
    matter_link = _link_of(entry.matter)
    if matter_link is None or not matter_link.la_id:
        reason = matter_link.message if matter_link and matter_link.message else "never synced"
        problems.append(f"matter not in LA ({reason})")
    else:
        la_number = _la_file_number(matter_link, caches.setdefault("files", {}))
        if la_number != entry.matter.file_reference:
            problems.append(
                f"File Reference {entry.matter.file_reference or '(blank)'!r} differs from "
                f"LA's matter number {la_number!r}"
            )
    if _fee_earner(entry.timekeeper, caches.setdefault("fee_earners", {})) is None:
        problems.append(
            f"timekeeper {entry.timekeeper.name} <{entry.timekeeper.email}> unknown in LA"
        )
    return problems


def _la_item(entry: TimeEntry, link: Link, caches: dict) -> dict:
    matter_link = _link_of(entry.matter)
    return {
        "file": int(matter_link.la_id),
        "fee_earner": int(_fee_earner(entry.timekeeper, caches["fee_earners"])),
        "date": entry.date.isoformat(),
        "description": entry.description,
        "hours": str(entry.billable_hours),
        "rate": str(entry.rate),
        "amount": str(entry.amount),
        "billing_behaviour": entry.billing_behaviour,
        "external_id": link.pm_id or f"hub-{entry.pk}",
    }


def _create_in_la(items: list[dict], key: str) -> list[dict]:
    """LA's batch create, retried on transient failures with the same idempotency key."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return la_client().time_entries_create(items, idempotency_key=key)
        except ConnectorError as error:
            if error.permanent or attempt == SEND_ATTEMPTS:
                raise
            time.sleep(min(error.retry_after or 0.5 * attempt, 5))
    raise AssertionError("unreachable")


def _fail(entry: TimeEntry, link: Link, message: str, code: str, system: str) -> EntryResult:
    TimeEntry.objects.filter(pk=entry.pk).update(billing_status=Status.ERROR)
    link_mark_error(link, code=code, system=system, message=message)
    link_event(
        link,
        direction=SyncEvent.Direction.PM_TO_LA,
        action="send_for_billing",
        outcome=SyncEvent.Outcome.ERROR,
        message=message,
    )
    return EntryResult(entry.pk, Status.ERROR, message)


def time_entries_send_for_billing(
    *, entries: QuerySet[TimeEntry], user=None, filters: dict | None = None
) -> tuple[BillingBatch, list[EntryResult]]:
    """Send the given entries to LA in batches; answer the batch and a result per entry."""
    ids = list(entries.order_by("pk").values_list("pk", flat=True))
    batch = BillingBatch.objects.create(
        created_by=user if user and user.is_authenticated else None,
        filters=filters or {},
        entry_count=len(ids),
    )
    results: dict[int, EntryResult] = {}
    caches: dict = {"fee_earners": {}, "files": {}}
    for start in range(0, len(ids), LA_BATCH_SIZE):
        chunk = ids[start : start + LA_BATCH_SIZE]
        results.update(_send_chunk(chunk, batch, caches, key=f"billing-{batch.pk}-{start}"))
    skipped = [pk for pk in ids if pk not in results]
    for start in range(0, len(skipped), LA_BATCH_SIZE):
        chunk = skipped[start : start + LA_BATCH_SIZE]
        statuses = dict(TimeEntry.objects.filter(pk__in=chunk).values_list("pk", "billing_status"))
        for pk in chunk:
            message = ALREADY_QUEUED if statuses.get(pk) == Status.QUEUED else ALREADY_SENT
            results[pk] = EntryResult(pk, SKIPPED, message)
    BillingBatch.objects.filter(pk=batch.pk).update(
        sent_count=sum(r.status == Status.SENT for r in results.values()),
        error_count=sum(r.status == Status.ERROR for r in results.values()),
    )
    batch.refresh_from_db()
    return batch, [results[pk] for pk in ids]


def _send_chunk(ids: list[int], batch: BillingBatch, caches: dict, *, key: str) -> dict:
    """Claim, check and send up to LA_BATCH_SIZE entries as one LA batch."""
    TimeEntry.objects.filter(pk__in=ids, billing_status__in=[Status.UNSENT, Status.ERROR]).update(
        billing_status=Status.QUEUED, batch=batch
    )
    claimed = (
        TimeEntry.objects.filter(pk__in=ids, batch=batch, billing_status=Status.QUEUED)
        .select_related("matter__link", "timekeeper", "link")
        .order_by("pk")
    )
    results: dict[int, EntryResult] = {}
    ready: list[tuple[TimeEntry, Link]] = []
    for entry in claimed:
        link = _link_of(entry) or link_for(entry)
        try:
            problems = time_entry_problems(entry, caches)
        except ConnectorError as error:
            problems = [f"LA could not be asked: {error.message}"]
        if problems:
            results[entry.pk] = _fail(entry, link, "; ".join(problems), "prerequisite", "hub")
        else:
            ready.append((entry, link))
    if not ready:
        return results
    items = [_la_item(entry, link, caches) for entry, link in ready]
    try:
        answers = _create_in_la(items, key=key)
    except ConnectorError as error:
        message = f"LA did not take the entry: {error.message}. Send it again."
        for entry, link in ready:
            results[entry.pk] = _fail(entry, link, message, error.code or error.kind, "la")
        return results
    sent = []
    for (entry, link), item, answer in zip(ready, items, answers, strict=True):
        if answer["status"] in ("created", "exists"):
            sent.append((entry, link, item, str(answer["id"])))
        else:
            error = answer.get("error") or {}
            message = error.get("message") or "LA refused the entry."
            code = error.get("code") or "refused"
            results[entry.pk] = _fail(entry, link, message, code, "la")
    results.update(_sent(sent))
    return results


def _sent(sent: list[tuple[TimeEntry, Link, dict, str]]) -> dict[int, EntryResult]:
    """Mark the entries LA took as sent: what they share in one query per table, the
    links' own LA ids and snapshots in one more (a batch is at most 100 entries)."""
    if not sent:
        return {}
    now = timezone.now()
    TimeEntry.objects.filter(pk__in=[entry.pk for entry, *_ in sent]).update(
        billing_status=Status.SENT, sent_at=now
    )
    Link.objects.filter(pk__in=[link.pk for _entry, link, *_ in sent]).update(
        status=LinkStatus.SYNCED,
        error_code="",
        error_system="",
        message="Sent to LA for billing.",
        last_synced_at=now,
        status_changed_at=now,
        attempts=0,
    )
    links_store_la_copies(
        [
            (
                link.pk,
                la_id,
                {
                    "date": item["date"],
                    "description": item["description"],
                    "billable_hours": item["hours"],
                    "rate": item["rate"],
                    "amount": item["amount"],
                    "billing_behaviour": item["billing_behaviour"],
                    "billed": False,
                },
            )
            for _entry, link, item, la_id in sent
        ]
    )
    SyncEvent.objects.bulk_create(
        SyncEvent(
            link=link,
            direction=SyncEvent.Direction.PM_TO_LA,
            action="send_for_billing",
            outcome=SyncEvent.Outcome.SUCCESS,
            message=f"Sent to LA as time entry {la_id}.",
        )
        for _entry, link, _item, la_id in sent
    )
    return {
        entry.pk: EntryResult(entry.pk, Status.SENT, "Sent to LA for billing.", la_id)
        for entry, _link, _item, la_id in sent
    }
