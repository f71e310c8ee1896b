"""Sending time to LA for billing (ARCHITECTURE §2 "Time").

A send is a durable job, a `BillingBatch`, never work done inside a web request:

- `billing_batch_create` claims the entries (a conditional UPDATE: unsent or error →
  queued, pointing at the batch, so two sends at once never both take one), records
  what it skipped and why, and queues the batch's task once the transaction commits.
  The request answers at once.
- `billing_batch_send` (the task) takes a lease on the batch and sends its queued
  entries LA_BATCH_SIZE at a time. Each entry's prerequisites are checked, each failure
  its own message on the entry: the matter is in LA and its link green; PM's current
  File Reference equals LA's matter number; the timekeeper is in LA with the same email.
- A prerequisite that can't be checked now (LA or PM unreachable, the matter still
  syncing) or an LA batch that fails transiently leaves the entry queued and the batch
  waiting to retry with backoff: never red for a passing fault. A refusal is red with
  its reason.
- LA dedupes its batch create on each entry's `external_id` (the PM time-entry id) and
  each request carries an idempotency key, so a batch sent again after a lost answer or
  a dead worker leaves exactly one entry in LA.
- `billing_batches_sweep` takes up batches whose worker died (lease lapsed) or whose
  retry time came; `billing_batch_resend` and `billing_batch_cancel` are the admin's
  and API's hands on a batch. Every claimed entry ends sent, error with its reason, or
  back to unsent.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from sync.connectors import la_client, pm_client
from sync.connectors.base import ConnectorError
from sync.links import (
    link_event,
    link_mark_error,
    links_store_la_copies,
)
from sync.log_context import log_context_add, logged_with
from sync.metrics import sync_attempt_count
from sync.models import Link, LinkStatus, RecordType, SyncEvent

from .models import BillingBatch, TimeEntry, Timekeeper
from .selectors import SENDABLE

LA_BATCH_SIZE = 100
SEND_ATTEMPTS = 3
ALREADY_SENT = "entry already sent"
ALREADY_QUEUED = "entry already queued in another batch"
Status = TimeEntry.BillingStatus
BatchStatus = BillingBatch.Status
SKIPPED = "skipped"  # a result, not an entry status: the entry was left as it was
# Longer than a task may run, as for links (sync/links.py): no live task outlasts it.
LEASE_SECONDS = settings.Q_CLUSTER["timeout"] + 30
# A batch whose task has not started this long after it was queued lost its task.
QUEUED_GRACE = timedelta(minutes=1)
RETRY_BASE_SECONDS = 15
RETRY_CAP_SECONDS = 30 * 60
OPEN = [BatchStatus.QUEUED, BatchStatus.SENDING, BatchStatus.RETRYING]


class Wait(Exception):
    """A prerequisite that can't be settled now: the entry stays queued for a retry."""


@dataclass
class EntryResult:
    """What a send did to one entry: `sent`, `error` (with why), `queued` (waiting to
    retry, with why) or `skipped`."""

    entry_id: int
    status: str
    message: str = ""
    la_id: str | None = None


# Creating a batch ---------------------------------------------------------------------


def billing_batch_create(
    *, entries: QuerySet[TimeEntry], user=None, filters: dict | None = None, queue: bool = True
) -> BillingBatch:
    """Claim the sendable entries among `entries` for a new batch, note the others as
    skipped, and queue the batch's task once this commits."""
    from sync.services.switch import sync_live_required

    sync_live_required()  # paused for onboarding: refused before anything is claimed
    ids = list(entries.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    with transaction.atomic():
        batch = BillingBatch.objects.create(
            created_by=user if user and user.is_authenticated else None,
            filters=filters or {},
        )
        for start in range(0, len(ids), 1000):
            TimeEntry.objects.filter(
                pk__in=ids[start : start + 1000], billing_status__in=SENDABLE
            ).update(billing_status=Status.QUEUED, batch=batch, updated_at=now)
        claimed = TimeEntry.objects.filter(batch=batch, billing_status=Status.QUEUED)
        _links_ensure(claimed)
        Link.objects.filter(time_entry__in=claimed).update(
            status=LinkStatus.PENDING,
            message="Queued for billing.",
            error_code="",
            error_system="",
            status_changed_at=now,
            next_retry_at=None,
        )
        claimed_ids = set(claimed.values_list("pk", flat=True))
        skipped = [pk for pk in ids if pk not in claimed_ids]
        statuses = dict(
            TimeEntry.objects.filter(pk__in=skipped).values_list("pk", "billing_status")
        )
        batch.entry_count = len(claimed_ids)
        batch.skipped = [
            {
                "entry": pk,
                "reason": ALREADY_QUEUED if statuses.get(pk) == Status.QUEUED else ALREADY_SENT,
            }
            for pk in skipped
        ]
        if not claimed_ids:
            batch.status, batch.finished_at = BatchStatus.DONE, now
        batch.save()
        if queue and claimed_ids:
            transaction.on_commit(lambda: billing_batch_queue(batch.pk))
    return batch


def _links_ensure(claimed: QuerySet[TimeEntry]) -> None:
    """Entries made in the hub have no link until their first send."""
    missing = claimed.filter(link__isnull=True).values_list("pk", flat=True)
    Link.objects.bulk_create(
        Link(record_type=RecordType.TIME_ENTRY, time_entry_id=pk) for pk in missing
    )


def billing_batch_queue(batch_id) -> None:
    async_task(
        "timekeeping.tasks.billing_batch_send_task",
        str(batch_id),
        task_name=f"billing-{batch_id}",
    )


# Sending ------------------------------------------------------------------------------


def _lease_take(batch_id) -> uuid.UUID | None:
    now = timezone.now()
    token = uuid.uuid4()
    taken = (
        BillingBatch.objects.filter(pk=batch_id, status__in=OPEN)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(
            status=BatchStatus.SENDING,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=LEASE_SECONDS),
        )
    )
    return token if taken else None


@logged_with("batch_id")
def billing_batch_send(*, batch_id) -> BillingBatch | None:
    """Send a batch's queued entries (the task). Nothing when another worker holds it or
    it is finished. Answers the batch as it stands afterwards."""
    from sync.services.switch import sync_live

    log_context_add(record_type="time_entry", system="la")
    if not sync_live(fresh=True):
        # Paused after the batch was made: it waits, queued, for going live.
        return BillingBatch.objects.filter(pk=batch_id).first()
    token = _lease_take(batch_id)
    if token is None:
        return BillingBatch.objects.filter(pk=batch_id).first()
    batch = BillingBatch.objects.get(pk=batch_id)
    waiting: dict[int, str] = {}
    try:
        caches: dict = {"fee_earners": {}, "files": {}, "pm_references": {}}
        after = 0
        while True:
            chunk = list(
                TimeEntry.objects.filter(batch=batch, billing_status=Status.QUEUED, pk__gt=after)
                .select_related("matter__link", "timekeeper", "link")
                .order_by("pk")[:LA_BATCH_SIZE]
            )
            if not chunk:
                break
            after = chunk[-1].pk
            waiting.update(_send_chunk(chunk, caches))
    finally:
        _batch_settle(batch, token, waiting)
    return BillingBatch.objects.get(pk=batch_id)


def _batch_settle(batch: BillingBatch, token: uuid.UUID, waiting: dict[int, str]) -> None:
    """Count what the batch did and let go of it: done, or waiting to retry the entries
    that wait (their links say why and when)."""
    now = timezone.now()
    entries = TimeEntry.objects.filter(batch=batch)
    fields = {
        "sent_count": entries.filter(billing_status__in=[Status.SENT, Status.BILLED]).count(),
        "error_count": entries.filter(billing_status=Status.ERROR).count(),
        "lease_token": None,
        "lease_expires_at": None,
    }
    if entries.filter(billing_status=Status.QUEUED).exists():
        attempts = batch.attempts + 1
        delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 10))
        retry_at = now + timedelta(seconds=delay)
        reason = next(iter(waiting.values()), "its worker stopped before it finished")
        fields.update(
            status=BatchStatus.RETRYING,
            attempts=attempts,
            next_attempt_at=retry_at,
            last_error=reason,
        )
        Link.objects.filter(
            time_entry__batch=batch, time_entry__billing_status=Status.QUEUED
        ).update(next_retry_at=retry_at)
    else:
        fields.update(status=BatchStatus.DONE, finished_at=now, next_attempt_at=None)
    BillingBatch.objects.filter(pk=batch.pk, lease_token=token).update(**fields)


def _send_chunk(entries: list[TimeEntry], caches: dict) -> dict[int, str]:
    """Check and send up to LA_BATCH_SIZE entries as one LA batch; answers the entries
    left waiting, with why."""
    waiting: dict[int, str] = {}
    ready: list[tuple[TimeEntry, Link]] = []
    _matters_read(entries, caches)
    for entry in entries:
        link = entry.link
        try:
            problems = time_entry_problems(entry, caches)
        except (Wait, ConnectorError) as error:
            waiting[entry.pk] = _wait(link, f"{_reason(error)}; it will be tried again.")
            continue
        if problems:
            _fail(entry, link, "; ".join(problems), "prerequisite", "hub")
        else:
            ready.append((entry, link))
    if not ready:
        return waiting
    items = [_la_item(entry, link, caches) for entry, link in ready]
    digest = hashlib.sha256(",".join(item["external_id"] for item in items).encode())
    try:
        answers = _create_in_la(
            items, key=f"billing-{entries[0].batch_id}-{digest.hexdigest()[:16]}"
        )
    except ConnectorError as error:
        if error.permanent:
            message = f"LA did not take the entry: {error.message}"
            for entry, link in ready:
                _fail(entry, link, message, error.code or error.kind, "la")
        else:
            message = f"LA could not take it now ({error.message}); it will be tried again."
            for entry, link in ready:
                waiting[entry.pk] = _wait(link, message)
        return waiting
    sent = []
    for (entry, link), item, answer in zip(ready, items, answers, strict=True):
        if answer["status"] in ("created", "exists"):
            sent.append((entry, link, item, str(answer["id"])))
        else:
            error = answer.get("error") or {}
            message = error.get("message") or "LA refused the entry."
            _fail(entry, link, message, error.get("code") or "refused", "la")
    _sent(sent)
    return waiting


def _reason(error: Exception) -> str:
    if isinstance(error, ConnectorError):
        return f"{'LA' if error.system == 'la' else 'PM'} could not be asked ({error.message})"
    return str(error)


def _wait(link: Link, message: str) -> str:
    """The entry stays queued; its link says why, light blue (a sync is pending)."""
    Link.objects.filter(pk=link.pk).update(
        status=LinkStatus.PENDING, message=message[:2000], status_changed_at=timezone.now()
    )
    return message


def _fee_earner(timekeeper: Timekeeper, cache: dict) -> str | None:
    if timekeeper.la_fee_earner_id:
        return timekeeper.la_fee_earner_id
    if timekeeper.pk not in cache:
        found = la_client().fee_earner_find_by_email(timekeeper.email)
        cache[timekeeper.pk] = str(found["id"]) if found else None
        if found:
            Timekeeper.objects.filter(pk=timekeeper.pk).update(la_fee_earner_id=str(found["id"]))
    return cache[timekeeper.pk]


def _matters_read(entries: list[TimeEntry], caches: dict) -> None:
    """Read the chunk's matters as PM and LA hold them now, a page of them per request
    (`id_in` in PM, `pm_matter_id__in` in LA) rather than two requests per matter; what
    can't be read this way now is read one by one by the checks."""
    links = {}
    for entry in entries:
        link = _link_of(entry.matter)
        if link and link.pm_id and link.la_id and link.status == LinkStatus.SYNCED:
            links[link.pm_id] = link
    references = caches.setdefault("pm_references", {})
    numbers = caches.setdefault("files", {})
    wanted = [pm_id for pm_id in links if pm_id not in references]
    if wanted:
        try:
            actions = pm_client().list_all("actions", id_in=",".join(wanted))
            found = {str(action["id"]): action.get("reference") or "" for action in actions}
        except ConnectorError:
            found = None
        if found is not None:
            for pm_id in wanted:
                references[pm_id] = found.get(pm_id)  # None: no longer in PM
    wanted = [pm_id for pm_id, link in links.items() if link.la_id not in numbers]
    if wanted:
        try:
            files = la_client().find_by_pm_ids("files", "pm_matter_id", wanted)
        except ConnectorError:
            files = {}
        for pm_id, raw in files.items():
            if str(raw["id"]) == links[pm_id].la_id:
                numbers[links[pm_id].la_id] = raw["file_number"]


def _la_file_number(matter_link: Link, cache: dict) -> str:
    if matter_link.la_id not in cache:
        cache[matter_link.la_id] = la_client().file_get(matter_link.la_id)["file_number"]
    return cache[matter_link.la_id]


def _pm_file_reference(matter_link: Link, cache: dict) -> str | None:
    """PM's File Reference as PM holds it now (the hub's copy may lag a change in PM);
    None when PM no longer has the matter."""
    if matter_link.pm_id not in cache:
        action = pm_client().get("actions", matter_link.pm_id)
        cache[matter_link.pm_id] = None if action is None else (action.get("reference") or "")
    return cache[matter_link.pm_id]


def _link_of(record) -> Link | None:
    """The record's link, read through `select_related` when the caller loaded it."""
    try:
        return record.link
    except Link.DoesNotExist:
        return None


def time_entry_problems(entry: TimeEntry, caches: dict) -> list[str]:
    """Every unmet prerequisite of one entry, as messages a person can act on. Raises
    Wait, or ConnectorError, when one can't be settled now."""
    problems = []
    matter_link = _link_of(entry.matter)
    if matter_link is None or not matter_link.la_id:
        reason = matter_link.message if matter_link and matter_link.message else "never synced"
        problems.append(f"matter not in LA ({reason})")
    elif matter_link.status == LinkStatus.ERROR:
        problems.append(f"the matter's link is in error: {matter_link.message}")
    elif matter_link.status != LinkStatus.SYNCED:
        raise Wait(f"the matter is still syncing ({matter_link.message or matter_link.status})")
    else:
        la_number = _la_file_number(matter_link, caches.setdefault("files", {}))
        pm_reference = (
            _pm_file_reference(matter_link, caches.setdefault("pm_references", {}))
            if matter_link.pm_id
            else entry.matter.file_reference
        )
        if pm_reference is None:
            problems.append("the matter is no longer in PM")
        elif pm_reference != la_number:
            problems.append(
                f"File Reference {pm_reference or '(blank)'!r} in PM differs from "
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


def _fail(entry: TimeEntry, link: Link, message: str, code: str, system: str) -> None:
    TimeEntry.objects.filter(pk=entry.pk).update(billing_status=Status.ERROR)
    link_mark_error(link, code=code, system=system, message=message)
    link_event(
        link,
        direction=SyncEvent.Direction.PM_TO_LA,
        action="send_for_billing",
        outcome=SyncEvent.Outcome.ERROR,
        message=message,
    )


def _sent(sent: list[tuple[TimeEntry, Link, dict, str]]) -> None:
    """Mark the entries LA took as sent: what they share in one query per table, the
    links' own LA ids and snapshots in one more (a batch is at most 100 entries)."""
    if not sent:
        return
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
        next_retry_at=None,
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
    sync_attempt_count(record_type="time_entry", outcome="success", count=len(sent))


# The batch's life ---------------------------------------------------------------------


def billing_batches_sweep() -> int:
    """Queue again the batches a dead worker left (lease lapsed), those whose retry time
    came, and those whose task never started (a cluster killed before it ran them)."""
    now = timezone.now()
    due = (
        BillingBatch.objects.filter(status__in=OPEN)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .filter(
            Q(status=BatchStatus.SENDING)
            | Q(status=BatchStatus.RETRYING, next_attempt_at__lte=now)
            | Q(status=BatchStatus.QUEUED, created_at__lt=now - QUEUED_GRACE)
        )
        .values_list("pk", flat=True)
    )
    count = 0
    for batch_id in due:
        billing_batch_queue(batch_id)
        count += 1
    return count


def billing_batch_resend(batch: BillingBatch) -> bool:
    """Try a waiting batch's entries again now (the admin's and API's "Send again");
    False when the batch is finished or being sent this moment."""
    now = timezone.now()
    ready = (
        BillingBatch.objects.filter(pk=batch.pk, status__in=OPEN)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(status=BatchStatus.QUEUED, next_attempt_at=None)
    )
    if ready:
        transaction.on_commit(lambda: billing_batch_queue(batch.pk))
    return bool(ready)


def billing_batch_cancel(batch: BillingBatch) -> int:
    """Put a batch's entries that are still queued back to unsent (gray) and close the
    batch; answers how many. Refused (0, nothing changed) while a worker sends it."""
    now = timezone.now()
    with transaction.atomic():
        closed = (
            BillingBatch.objects.filter(pk=batch.pk, status__in=OPEN)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            .update(status=BatchStatus.CANCELLED, finished_at=now, next_attempt_at=None)
        )
        if not closed:
            return 0
        waiting = TimeEntry.objects.filter(batch=batch, billing_status=Status.QUEUED)
        Link.objects.filter(time_entry__in=waiting).update(
            status=LinkStatus.UNSYNCED,
            message="Not sent: its billing batch was cancelled.",
            status_changed_at=now,
            next_retry_at=None,
        )
        return waiting.update(billing_status=Status.UNSENT, batch=None, updated_at=now)


def billing_batch_results(batch: BillingBatch) -> list[EntryResult]:
    """A result per entry the batch was asked for, as it stands: the entries it claimed
    (sent, error, or still queued, with their link's message) and those it skipped."""
    # Four columns a row, streamed: a batch of 100,000 entries never holds their models.
    rows = (
        TimeEntry.objects.filter(batch=batch)
        .order_by("pk")
        .values_list("pk", "billing_status", "link__message", "link__la_id")
        .iterator(chunk_size=2000)
    )
    results = [
        EntryResult(
            pk,
            status if status != Status.BILLED else Status.SENT,
            message or "",
            la_id,
        )
        for pk, status, message, la_id in rows
    ]
    results += [EntryResult(row["entry"], SKIPPED, row["reason"]) for row in batch.skipped]
    return sorted(results, key=lambda result: result.entry_id)


def time_entries_send_for_billing(
    *, entries: QuerySet[TimeEntry], user=None, filters: dict | None = None
) -> tuple[BillingBatch, list[EntryResult]]:
    """Make a batch and send it in this process (scripts, benchmarks and tests; requests
    make the batch and leave the sending to its task)."""
    batch = billing_batch_create(entries=entries, user=user, filters=filters, queue=False)
    billing_batch_send(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch, billing_batch_results(batch)
