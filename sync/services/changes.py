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
from django.db.models import Q
from django.utils import timezone

from matters.services import matter_balances_refresh_for_files
from sync.connectors import la_client, pm_client
from sync.connectors.base import ConnectorError
from sync.models import Link, LinkStatus, PollCursor, System, WebhookReceipt

from . import (
    contacts,
    link_enqueue,
    link_seen_queue,
    link_sync,
    link_task_queue,
    links_collected,
    matters,
    time_entries,
)
from .connection import pm_connected
from .engine import SyncBlocked
from .timekeepers import pm_user_participants, timekeepers_refresh

logger = logging.getLogger(__name__)

POLL_OVERLAP = timedelta(minutes=2)
INGEST_PAGE_SIZE = 200
PENDING_TOO_LONG = timedelta(minutes=10)
# Links queued by one sweep at most; the rest wait a minute for the next. After "resync
# all errors" on tens of thousands of links this spreads the work instead of flooding
# the queue at once.
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
    link_seen_queue(link, seen, message="Changed in PM; sync queued.")
    return link


def la_contact_seen(raw: dict) -> Link:
    link, seen = contacts.contact_ingest(system="la", remote=contacts.la_remote(raw))
    link_seen_queue(link, seen, message="Changed in LA; sync queued.")
    return link


def contacts_seen(system: str, raws: list[dict], *, firm_people: set[str]) -> None:
    """A page of PM participants or LA contacts, taken in together (`contacts_ingest`)."""
    if system == System.PM:
        remotes = [contacts.pm_remote(raw) for raw in raws if str(raw["id"]) not in firm_people]
    else:
        remotes = [contacts.la_remote(raw) for raw in raws]
    message = f"Changed in {system.upper()}; sync queued."
    for link, seen in contacts.contacts_ingest(system=system, remotes=remotes):
        link_seen_queue(link, seen, message=message)


def webhook_receipt_process(*, receipt_id: int) -> None:
    """Read back the records a webhook announced and queue what changed."""
    receipt = WebhookReceipt.objects.get(pk=receipt_id)
    if receipt.processed_at:
        return
    payload = receipt.payload
    try:
        if receipt.system == System.PM and receipt.event in PM_EVENTS:
            pm_records_reread(receipt.event, [str(i) for i in payload.get("ids", [])])
        elif receipt.system == System.LA and receipt.event in LA_CONTACT_EVENTS:
            la_contact_seen(la_client().contact_get(str(payload["data"]["id"])))
        elif receipt.system == System.LA and receipt.event == "time_entry.updated":
            time_entries.la_time_entries_refresh(la_ids=[str(payload["data"]["id"])])
        elif receipt.system == System.LA and receipt.event == "time_entries.billed":
            data = payload["data"]
            time_entries.la_time_entries_refresh(la_ids=[str(i) for i in data["time_entries"]])
            matter_balances_refresh_for_files(la_file_ids=[str(data["file"])])
    except ConnectorError as error:
        # Polling reads the same records again; keep the reason for the health page.
        WebhookReceipt.objects.filter(pk=receipt_id).update(error=error.message)
        raise
    WebhookReceipt.objects.filter(pk=receipt_id).update(processed_at=timezone.now(), error="")


def pm_records_reread(event: str, ids: list[str]) -> None:
    """Read again the PM records a resthook named and take in what changed. The delivery's
    body is never trusted: PM's own answer to a GET is (ARCHITECTURE §5)."""
    resource = PM_EVENTS[event]
    if resource == "actionparticipants":
        resource, ids = "actions", list(dict.fromkeys(i.split("--")[0] for i in ids))
    if resource == "participants":
        firm_people = (
            timekeepers_refresh() if event == "ParticipantCreated" else pm_user_participants()
        )
    else:
        firm_people = set()
    for record_id in ids:
        raw = pm_client().get(resource, record_id)
        if raw:
            pm_record_seen(resource, raw, firm_people=firm_people)


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


def _poll(system: str, resource: str, read, firm_people: set[str]) -> int:
    cursor = _cursor(system, resource)
    started = timezone.now()
    since = cursor.modified_since - POLL_OVERLAP if cursor.modified_since else None
    seen = 0
    page_ingest = _page_ingester(system, resource, firm_people)
    page: list[dict] = []
    try:
        for raw in read(since):
            seen += 1
            if page_ingest is not None:
                page.append(raw)
                if len(page) == INGEST_PAGE_SIZE:
                    page_ingest(page)
                    page = []
            elif system == System.PM:
                pm_record_seen(resource, raw, firm_people=firm_people)
            else:
                time_entries.la_time_entry_seen(raw=raw)
        if page:
            page_ingest(page)
    except ConnectorError as error:
        PollCursor.objects.filter(pk=cursor.pk).update(
            last_error=error.message, last_error_at=timezone.now()
        )
        logger.warning("Polling %s %s failed: %s", system, resource, error.message)
        return seen
    PollCursor.objects.filter(pk=cursor.pk).update(
        modified_since=started, last_success_at=timezone.now(), last_error=""
    )
    return seen


def _page_ingester(system: str, resource: str, firm_people: set[str]):
    """How a poll takes in a page of records of a resource that comes in volume (contacts
    and time on a firm's first poll), or None to take each record on its own."""
    if system == System.PM and resource == "timeentries":
        return lambda raws: time_entries.time_entries_ingest(raws=raws)
    if (system, resource) in {(System.PM, "participants"), (System.LA, "contacts")}:
        return lambda raws: contacts_seen(system, raws, firm_people=firm_people)
    return None


def pm_timestamp(moment) -> str:
    """A filter value as Actionstep reads it: UTC, to the second, no offset
    (`modifiedTimestamp_gteq=2025-01-31T09:00:00`, docs/actionstep-fidelity.md)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _pm_reader(resource: str):
    """Participants and actions are read by `modifiedTimestamp`; time entries have none,
    so new ones are read by `createdTimestamp` and edits and deletions come from their
    resthook and `time_entries_reconcile`."""
    stamp = "createdTimestamp" if resource == "timeentries" else "modifiedTimestamp"

    def read(since):
        params = {f"{stamp}_gteq": pm_timestamp(since)} if since else {}
        return pm_client().list_all(resource, **params)

    return read


def _la_reader(resource: str):
    def read(since):
        params = {"modified_since": since.isoformat()} if since else {}
        return la_client().list_all(resource, **params)

    return read


def poll_all() -> dict[str, int]:
    """One polling pass over both systems: timekeepers, contacts, matters, then time, so
    each finds what it refers to. While PM is not connected only LA is read: what LA
    announces is taken in and waits for PM with its link pending. When PM's users can't
    be read, its participants wait for the next pass: without the users the hub can't
    tell the firm's own people from its contacts (and the cursor stays where it was)."""
    pm_ready = pm_connected()
    firm_people: set[str] | None = None
    if pm_ready:
        try:
            firm_people = timekeepers_refresh()
        except ConnectorError as error:
            logger.warning("Could not read timekeepers: %s", error.message)
    passes = [
        ("pm participants", System.PM, "participants"),
        ("la contacts", System.LA, "contacts"),
        ("pm actions", System.PM, "actions"),
        ("pm time entries", System.PM, "timeentries"),
        ("la time entries", System.LA, "time-entries"),
    ]
    known_people = firm_people if firm_people is not None else pm_user_participants()
    counts = {}
    for name, system, resource in passes:
        if system == System.PM and not pm_ready:
            continue
        if resource == "participants" and firm_people is None:
            continue
        reader = _pm_reader(resource) if system == System.PM else _la_reader(resource)
        counts[name] = _poll(system, resource, reader, known_people)
    return counts


def links_resume() -> int:
    """Make every link that waited (pending or unknown) due now; the sweep queues them
    SWEEP_BATCH at a time. Answers how many the first sweep queued."""
    Link.objects.filter(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN]).update(
        next_retry_at=timezone.now()
    )
    return links_sweep()


def webhook_receipts_prune() -> int:
    """Delete receipts older than the retention period; answers how many."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_RECEIPT_RETENTION_DAYS)
    deleted, _ = WebhookReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def links_sweep() -> int:
    """Re-queue links whose retry time has come, or that sat pending too long; links a
    dead worker left dirty; and matters that waited for a client now synced."""
    now = timezone.now()
    due = Link.objects.filter(
        Q(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN], next_retry_at__lte=now)
        | Q(
            status=LinkStatus.PENDING,
            next_retry_at__isnull=True,
            status_changed_at__lt=now - PENDING_TOO_LONG,
        )
        # A change arrived while another worker held the link, and that worker died
        # (or gave up) before running again: no task will come for it.
        | Q(dirty=True)
        # Its backoff grew while the client was busy; the client is synced now.
        | Q(
            status=LinkStatus.PENDING,
            error_code="client_pending",
            matter__client__link__status=LinkStatus.SYNCED,
        )
    ).filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
    if not pm_connected():
        return 0  # links wait, as they are, for the connection (links_resume)
    count = 0
    for link in due.order_by("next_retry_at", "pk").only("pk", "status", "dirty")[:SWEEP_BATCH]:
        if link.dirty:
            # The task queued now is the run the dead holder owed: take back its lease
            # and the flag, or every sweep would queue the link again until it runs.
            Link.objects.filter(pk=link.pk).filter(
                Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
            ).update(dirty=False, lease_token=None, lease_expires_at=None)
        link_enqueue(link, message="Retry queued.")
        count += 1
    return count
