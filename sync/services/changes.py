"""Change detection: webhooks and polling bring records in; a sweep re-queues the stuck.

ARCHITECTURE §4 rule 2 ("nothing lost"): a verified webhook is stored before it is
answered and processed by a task; polling reads each resource again from a cursor that
overlaps the last pass, catching whatever a lost webhook did not announce; the sweep
re-queues links left pending or unknown past their retry time.
"""

from __future__ import annotations

import datetime
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from matters.services import matter_balances_refresh_for_files
from sync.budget import Priority, budget_priority
from sync.connectors import la_client, pm_client
from sync.connectors.base import ConnectorError, ErrorKind
from sync.links import NEEDS_DECISION, backoff_seconds, seen_fields
from sync.log_context import log_context_add, logged_with
from sync.models import Link, LinkStatus, PollCursor, RecordType, System, WebhookReceipt

from . import (
    contacts,
    link_queue,
    link_seen_queue,
    link_sync,
    link_task_queue,
    links_collected,
    links_collecting,
    matters,
    time_entries,
)
from .connection import pm_connected
from .engine import Seen, SyncBlocked
from .runner import links_due, runners_ensure
from .timekeepers import pm_user_participants, timekeepers_refresh

logger = logging.getLogger(__name__)

POLL_OVERLAP = timedelta(minutes=2)
# A link queued this long ago whose task has not run lost it (a killed cluster): the
# sweep, every minute, queues it again — unless the broker holds a backlog, in which
# case it is waiting its turn, not lost.
PENDING_TOO_LONG = timedelta(seconds=90)
# A delivery whose records could not be read is tried this many times.
RECEIPT_ATTEMPTS = 6
# Receipts queued by one sweep at most (and links collected by `sync_now`); a broker
# holding more tasks than this has a backlog, not lost tasks.
SWEEP_BATCH = 2000

# The resthook events the hub registers, each with the resource whose records it names
# (docs.actionstep.com/webhooks). Actionstep has no deletion event for participants,
# actions or time entries: deletions are found by reading the record again (404).
PM_EVENTS = {
    "ParticipantCreated": "participants",
    "ParticipantUpdated": "participants",
    "ActionCreated": "actions",
    "ActionUpdated": "actions",
    # A matter's clients are its action participants; their ids are
    # "<action>--<participant type>--<participant>", and the action is read again.
    "ActionParticipantAdded": "actionparticipants",
    "ActionParticipantDeleted": "actionparticipants",
    "TimeEntryCreated": "timeentries",
    "TimeEntryUpdated": "timeentries",
}
LA_CONTACT_EVENTS = {"contact.created", "contact.updated"}
LA_TIME_EVENTS = {"time_entries.billed", "time_entry.updated"}
KNOWN_EVENTS = {
    System.PM: set(PM_EVENTS),
    System.LA: LA_CONTACT_EVENTS | LA_TIME_EVENTS,
}
# Time entries still in the hub's hands are read again this many at a time (`id_in`).
RECONCILE_PAGE = 200


def pm_record_seen(resource: str, raw: dict, *, firm_people: set[str]) -> Link | None:
    """Ingest one PM record and queue its sync if it changed since the last sync.

    `firm_people` are the participant ids of PM users: the firm's own people, who are
    timekeepers, not contacts.
    """
    if resource == "timeentries":
        try:
            return time_entries.time_entry_ingest(raw=raw)
        except SyncBlocked as blocked:
            logger.warning("PM time entry %s not taken in: %s", raw.get("id"), blocked.message)
            return None
    if resource == "participants":
        if str(raw["id"]) in firm_people:
            return None
        link, seen = contacts.contact_ingest(system="pm", remote=contacts.pm_remote(raw))
    else:
        try:
            link, seen = matters.matter_ingest(remote=matters.pm_remote(raw))
        except SyncBlocked as blocked:
            logger.warning("PM action %s not taken in: %s", raw.get("id"), blocked.message)
            return None
    link_seen_queue(link, seen, system=System.PM, raw=raw, message="Changed in PM; sync queued.")
    return link


def la_contact_seen(raw: dict) -> Link:
    link, seen = contacts.contact_ingest(system="la", remote=contacts.la_remote(raw))
    link_seen_queue(link, seen, system=System.LA, raw=raw, message="Changed in LA; sync queued.")
    return link


def contacts_seen(system: str, raws: list[dict], *, firm_people: set[str]) -> None:
    """A page of PM participants or LA contacts, taken in together (`contacts_ingest`)."""
    if system == System.PM:
        remotes = [contacts.pm_remote(raw) for raw in raws if str(raw["id"]) not in firm_people]
    else:
        remotes = [contacts.la_remote(raw) for raw in raws]
    results = contacts.contacts_ingest(system=system, remotes=remotes)
    if system == System.PM:
        la_search_new(contacts.ADAPTER, [link for link, seen in results if seen is Seen.NEW])
    read = {remote.id: remote.raw for remote in remotes}
    message = f"Changed in {system.upper()}; sync queued."
    for link, seen in results:
        raw = read[link.pm_id if system == System.PM else link.la_id]
        link_seen_queue(link, seen, system=system, raw=raw, message=message)


def actions_seen(raws: list[dict]) -> None:
    """A page of PM actions: each taken in (`matter_ingest`), then LA searched once for
    the new ones, then their syncs queued."""
    taken: list[tuple[Link, Seen, dict]] = []
    for raw in raws:
        try:
            link, seen = matters.matter_ingest(remote=matters.pm_remote(raw))
        except SyncBlocked as blocked:
            logger.warning("PM action %s not taken in: %s", raw.get("id"), blocked.message)
            continue
        taken.append((link, seen, raw))
    la_search_new(matters.ADAPTER, [link for link, seen, _ in taken if seen is Seen.NEW])
    for link, seen, raw in taken:
        message = "Changed in PM; sync queued."
        link_seen_queue(link, seen, system=System.PM, raw=raw, message=message)


def la_search_new(adapter, links: list[Link]) -> None:
    """Search LA once for a page of records new from PM, by their PM ids: one request
    instead of one per record at its first sync. A record LA holds already (the hub made
    it before its database was restored, say) is linked to it; the rest are marked
    searched (`Link.la_absent_checked`), so their first sync creates them without
    searching again. When LA can't be asked now, each sync searches on its own."""
    wanted = {link.pm_id: link for link in links if link.pm_id and not link.la_id}
    if not wanted:
        return
    try:
        found = la_client().find_by_pm_ids(
            adapter.la_collection, adapter.la_pm_id_field, list(wanted)
        )
    except ConnectorError as error:
        logger.info("LA not searched for %d new records: %s", len(wanted), error.message)
        return
    absent = [link.pk for pm_id, link in wanted.items() if pm_id not in found]
    Link.objects.filter(pk__in=absent, la_id__isnull=True).update(la_absent_checked=True)
    for pm_id, raw in found.items():
        link = wanted.get(pm_id)
        if link is None:
            continue
        try:
            with transaction.atomic():
                Link.objects.filter(pk=link.pk, la_id__isnull=True).update(
                    la_id=str(raw["id"]), **seen_fields(System.LA, raw)
                )
        except IntegrityError:
            continue  # another link holds that LA record: its sync will show why
        link.la_id = str(raw["id"])


@logged_with("receipt_id")
def webhook_receipt_process(*, receipt_id: int) -> None:
    """Read back the records a webhook announced and queue what changed.

    A record that can't be read now (a fault of PM or LA) never fails the task: the rest
    of the delivery is taken in, the receipt waits for a retry with backoff, and a link
    the hub already has for that record turns pending (its own sync reads the record
    again). After RECEIPT_ATTEMPTS the receipt is closed: polling reads the same records.
    """
    receipt = WebhookReceipt.objects.get(pk=receipt_id)
    log_context_add(system=receipt.system)
    if receipt.processed_at:
        return
    payload = receipt.payload
    failures: list[tuple[str, ConnectorError]] = []
    if receipt.system == System.PM and receipt.event in PM_EVENTS:
        failures = pm_records_reread(receipt.event, [str(i) for i in payload.get("ids", [])])
    elif receipt.system == System.LA and receipt.event in LA_CONTACT_EVENTS:
        failures = _each(
            [str(payload["data"]["id"])],
            lambda la_id: la_contact_seen(la_client().contact_get(la_id)),
        )
    elif receipt.system == System.LA and receipt.event == "time_entry.updated":
        failures = _each(
            [str(payload["data"]["id"])],
            lambda la_id: time_entries.la_time_entries_refresh(la_ids=[la_id]),
        )
    elif receipt.system == System.LA and receipt.event == "time_entries.billed":
        data = payload["data"]
        failures = _each(
            [str(i) for i in data["time_entries"]],
            lambda la_id: time_entries.la_time_entries_refresh(la_ids=[la_id]),
        )
        failures += _each(
            [str(data["file"])],
            lambda la_id: matter_balances_refresh_for_files(la_file_ids=[la_id]),
        )
    if failures:
        _receipt_retry(receipt, failures)
    else:
        WebhookReceipt.objects.filter(pk=receipt_id).update(
            processed_at=timezone.now(), error="", next_attempt_at=None
        )


def _each(ids: list[str], take) -> list[tuple[str, ConnectorError]]:
    """Take each record in turn; answers those a fault of PM or LA kept out."""
    failures = []
    for record_id in ids:
        try:
            take(record_id)
        except ConnectorError as error:
            failures.append((record_id, error))
            if error.kind == ErrorKind.CONNECTION:
                break  # the connection needs a person: the rest would fail the same way
    return failures


def _receipt_retry(receipt: WebhookReceipt, failures: list[tuple[str, ConnectorError]]) -> None:
    now = timezone.now()
    attempts = receipt.attempts + 1
    first = failures[0][1]
    reason = f"{len(failures)} record(s) could not be read: {first.message}"
    if attempts >= RECEIPT_ATTEMPTS:
        WebhookReceipt.objects.filter(pk=receipt.pk).update(
            attempts=attempts,
            processed_at=now,
            next_attempt_at=None,
            error=f"Gave up after {attempts} attempts ({reason}); polling reads them again.",
        )
        return
    retry_at = now + timedelta(seconds=backoff_seconds(attempts, first.retry_after))
    WebhookReceipt.objects.filter(pk=receipt.pk).update(
        attempts=attempts, next_attempt_at=retry_at, error=reason
    )
    system_id = "pm_id" if receipt.system == System.PM else "la_id"
    ids = [record_id.split("--")[0] for record_id, _ in failures]
    Link.objects.filter(**{f"{system_id}__in": ids}).exclude(
        record_type=RecordType.TIME_ENTRY
    ).exclude(status=LinkStatus.ERROR).update(
        status=LinkStatus.PENDING,
        message=f"Changed in {receipt.system.upper()}; it could not be read yet, retrying.",
        next_retry_at=retry_at,
    )


def webhook_receipts_sweep() -> int:
    """Queue again receipts whose retry time came, and receipts a task never took (lost
    with a killed cluster); answers how many."""
    now = timezone.now()
    due = WebhookReceipt.objects.filter(processed_at__isnull=True).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, received_at__lt=now - PENDING_TOO_LONG)
    )
    count = 0
    for receipt_id in due.values_list("pk", flat=True)[:SWEEP_BATCH]:
        WebhookReceipt.objects.filter(pk=receipt_id).update(next_attempt_at=now + PENDING_TOO_LONG)
        transaction.on_commit(
            lambda receipt_id=receipt_id: async_task("sync.tasks.webhook_receipt_task", receipt_id)
        )
        count += 1
    return count


def pm_records_reread(event: str, ids: list[str]) -> list[tuple[str, ConnectorError]]:
    """Read again the PM records a resthook named and take in what changed; answers the
    records a fault kept out. The delivery's body is never trusted: PM's own answer to a
    GET is (ARCHITECTURE §5)."""
    resource = PM_EVENTS[event]
    if resource == "actionparticipants":
        resource, ids = "actions", list(dict.fromkeys(i.split("--")[0] for i in ids))
    firm_people: set[str] = set()
    if resource == "participants":
        if event != "ParticipantCreated":
            firm_people = pm_user_participants()
        else:
            try:
                firm_people = timekeepers_refresh()
            except ConnectorError as error:
                return [(record_id, error) for record_id in ids]

    def take(record_id: str) -> None:
        raw = pm_client().get(resource, record_id)
        if raw:
            pm_record_seen(resource, raw, firm_people=firm_people)

    return _each(ids, take)


@logged_with("receipt_id")
def webhook_receipt_handle(*, receipt_id: int) -> None:
    """The receipt task: process the receipt, then sync the one record it changed right
    here rather than queue a task for it — a broker hop less between an edit in one
    system and the other system (benchmarks/propagation.py). A receipt that changed
    several records queues a task for each, so they spread over the workers."""
    changed: list[int] = []
    try:
        with links_collected() as changed:
            webhook_receipt_process(receipt_id=receipt_id)
    except Exception:
        # A fault of PM or LA never gets here (the receipt retries); a bug does, and
        # what was taken in before it still gets synced.
        for link_id in dict.fromkeys(changed):
            link_task_queue(link_id)
        raise
    unique = list(dict.fromkeys(changed))
    if len(unique) == 1:
        link_sync(link_id=unique[0])
        return
    for link_id in unique:
        link_task_queue(link_id)


def _cursor(system: str, resource: str) -> PollCursor:
    cursor, _ = PollCursor.objects.get_or_create(system=system, resource=resource)
    return cursor


def _poll_params(system: str, resource: str, since) -> dict:
    """The filter of a pass that reads what changed from `since` (everything when None).
    PM's participants and actions are read by `modifiedTimestamp`; its time entries have
    none, so new ones are read by `createdTimestamp` and edits and deletions come from
    their resthook and `time_entries_reconcile`."""
    if since is None:
        return {}
    if system == System.LA:
        return {"modified_since": since.isoformat()}
    stamp = "createdTimestamp" if resource == "timeentries" else "modifiedTimestamp"
    return {f"{stamp}_gteq": pm_timestamp(since)}


def _poll(
    system: str, resource: str, firm_people: set[str], *, page_limit: int | None = None
) -> tuple[int, int, bool]:
    """Read one resource from its cursor, page by page, and take in what changed; answers
    (records seen, pages read, whether the pass ended).

    With `page_limit` the pass stops after that many pages and keeps its place on the
    cursor (`resume_url`, and the moment the pass began); the next call goes on from
    there. Only a pass that reached its last page moves `modified_since`, to the moment
    it began, so what changed while it ran is read again by the next one. A fault of the
    system ends the call and keeps the place reached.
    """
    cursor = _cursor(system, resource)
    client = pm_client() if system == System.PM else la_client()
    page_ingest = _page_ingester(system, resource, firm_people)
    url = cursor.resume_url
    started = cursor.pass_started_at if url else timezone.now()
    since = cursor.modified_since - POLL_OVERLAP if cursor.modified_since else None
    params = _poll_params(system, resource, since)
    # A firm's first pass takes in everything it has: bulk work that leaves room in the
    # request budget for live changes and people's resyncs (sync/budget.py).
    priority = Priority.RETRY if cursor.modified_since else Priority.BACKFILL
    seen = pages = 0
    try:
        with budget_priority(priority):
            while True:
                raws, next_url = client.page_read(resource, params=params, url=url)
                page_ingest(raws)
                seen += len(raws)
                pages += 1
                if not next_url:
                    break
                url = next_url
                if page_limit is not None and pages >= page_limit:
                    PollCursor.objects.filter(pk=cursor.pk).update(
                        resume_url=url, pass_started_at=started
                    )
                    return seen, pages, False
    except ConnectorError as error:
        if error.kind in {ErrorKind.PERMANENT, ErrorKind.REFUSED}:
            url = ""  # a page that will never be read: the next pass starts afresh
        PollCursor.objects.filter(pk=cursor.pk).update(
            resume_url=url,
            pass_started_at=started if url else None,
            last_error=error.message,
            last_error_at=timezone.now(),
        )
        logger.warning("Polling %s %s failed: %s", system, resource, error.message)
        return seen, pages, True
    PollCursor.objects.filter(pk=cursor.pk).update(
        modified_since=started,
        resume_url="",
        pass_started_at=None,
        last_success_at=timezone.now(),
        last_error="",
    )
    return seen, pages, True


def _page_ingester(system: str, resource: str, firm_people: set[str]):
    """How a poll takes in a page of records of a resource: contacts, matters and time a
    page at a time (they come in volume on a firm's first poll), the rest one by one."""
    if system == System.PM and resource == "timeentries":
        return lambda raws: time_entries.time_entries_ingest(raws=raws)
    if (system, resource) in {(System.PM, "participants"), (System.LA, "contacts")}:
        return lambda raws: contacts_seen(system, raws, firm_people=firm_people)
    if (system, resource) == (System.PM, "actions"):
        return actions_seen

    def each(raws: list[dict]) -> None:
        for raw in raws:
            if system == System.PM:
                pm_record_seen(resource, raw, firm_people=firm_people)
            else:
                time_entries.la_time_entry_seen(raw=raw)

    return each


def pm_timestamp(moment) -> str:
    """A filter value as Actionstep reads it: UTC, to the second, no offset
    (`modifiedTimestamp_gteq=2025-01-31T09:00:00`, docs/actionstep-fidelity.md)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


# One polling pass, in order: contacts, matters, then time, so each finds what it refers to.
POLL_STEPS = [
    ("pm participants", System.PM, "participants"),
    ("la contacts", System.LA, "contacts"),
    ("pm actions", System.PM, "actions"),
    ("pm time entries", System.PM, "timeentries"),
    ("la time entries", System.LA, "time-entries"),
]


def poll_people_refresh() -> bool:
    """Read PM's users before a pass; False when they could not be read. Without them the
    hub can't tell the firm's own people from its contacts, so PM's participants then
    wait for the next pass (and their cursor stays where it was)."""
    if not pm_connected():
        return True  # PM is not read at all
    try:
        timekeepers_refresh()
    except ConnectorError as error:
        logger.warning("Could not read timekeepers: %s", error.message)
        return False
    return True


def poll_steps(
    *, step: int = 0, people_read: bool = True, page_limit: int | None = None
) -> tuple[dict[str, int], int | None]:
    """Run the pass from `step` on; answers the records seen per step and the step to go
    on from when `page_limit` pages were read first (None when the pass is over). While
    PM is not connected only LA is read: what LA announces is taken in and waits for PM
    with its link pending."""
    pm_ready = pm_connected()
    firm_people = pm_user_participants()
    counts: dict[str, int] = {}
    pages_left = page_limit
    for index in range(step, len(POLL_STEPS)):
        name, system, resource = POLL_STEPS[index]
        if system == System.PM and not pm_ready:
            continue
        if resource == "participants" and not people_read:
            continue
        seen, pages, finished = _poll(system, resource, firm_people, page_limit=pages_left)
        counts[name] = seen
        if not finished:
            return counts, index
        if pages_left is not None:
            pages_left -= pages
            if pages_left <= 0 and index + 1 < len(POLL_STEPS):
                return counts, index + 1
    return counts, None


def poll_all() -> dict[str, int]:
    """One whole polling pass over both systems, here and now (`manage.py sync_now`);
    the scheduled poll runs the same pass in bounded tasks (subscriptions.poll_chain)."""
    counts, _ = poll_steps(people_read=poll_people_refresh())
    return counts


def links_resume() -> int:
    """Make every link that waited (pending or unknown) due now, for the runners.
    Answers how many are due."""
    Link.objects.filter(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN]).exclude(
        record_type=RecordType.TIME_ENTRY
    ).update(next_retry_at=timezone.now())
    return links_sweep()


def webhook_receipts_prune() -> int:
    """Delete receipts older than the retention period; answers how many."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_RECEIPT_RETENTION_DAYS)
    deleted, _ = WebhookReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def broker_backlog() -> int:
    """How many tasks wait in the broker (0 when it can't say)."""
    try:
        return get_broker().queue_size() or 0
    except Exception:  # a broker that can't answer has no backlog we could wait for
        return 0


def links_sweep() -> int:
    """Make due, for the link runners, the links a dead worker or a busy client left
    waiting: links queued long ago whose task never ran, links a dead worker left dirty,
    and matters whose client is now synced; then have the runners work through every
    due link (sync/services/runner.py). Answers how many links are due.

    Inside `links_collected` (`manage.py sync_now`) the due links are collected for the
    caller to sync instead, SWEEP_BATCH at most."""
    if not pm_connected():
        return 0  # links wait, as they are, for the connection (links_resume)
    now = timezone.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    waiting = Link.objects.exclude(record_type=RecordType.TIME_ENTRY).filter(free)
    # A backlog means the cluster is working through it: its links wait their turn. A
    # record held for an admin's decision (onboarding) waits for the decision instead.
    if broker_backlog() <= SWEEP_BATCH:
        waiting.filter(
            status=LinkStatus.PENDING,
            next_retry_at__isnull=True,
            status_changed_at__lt=now - PENDING_TOO_LONG,
        ).exclude(error_code=NEEDS_DECISION).update(next_retry_at=now)
    # A change arrived while another worker held the link, and that worker died (or gave
    # up) before running again: nobody will run it. Its lease and flag are taken back.
    waiting.filter(dirty=True).update(
        dirty=False,
        lease_token=None,
        lease_expires_at=None,
        status=LinkStatus.PENDING,
        next_retry_at=now,
        status_changed_at=now,
    )
    # Its backoff grew while the client was busy; the client is synced now.
    waiting.filter(
        status=LinkStatus.PENDING,
        error_code="client_pending",
        next_retry_at__gt=now,
        matter__client__link__status=LinkStatus.SYNCED,
    ).update(next_retry_at=now)
    due = links_due()
    if links_collecting():
        ids = list(due.order_by("next_retry_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
        for link_id in ids:
            link_queue(link_id)
        return len(ids)
    count = due.count()
    if count:
        runners_ensure()
    return count
