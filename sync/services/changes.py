"""Change detection: webhooks and polling bring records in; a sweep re-queues the stuck.

ARCHITECTURE §4 rule 2 ("nothing lost"): a verified webhook is stored before it is
answered and processed by a task; polling reads each resource again from a cursor that
overlaps the last pass, catching whatever a lost webhook did not announce; the sweep
re-queues links left pending or unknown past their retry time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from matters.services import matter_balances_refresh_for_files
from sync.connectors import la_client, pm_client
from sync.connectors.base import ConnectorError
from sync.models import Link, LinkStatus, PollCursor, System, WebhookReceipt

from . import contacts, link_enqueue, matters, time_entries
from .engine import SyncBlocked
from .timekeepers import pm_user_participants, timekeepers_refresh

logger = logging.getLogger(__name__)

POLL_OVERLAP = timedelta(minutes=2)
PENDING_TOO_LONG = timedelta(minutes=10)
# Links queued by one sweep at most; the rest wait a minute for the next. After "resync
# all errors" on tens of thousands of links this spreads the work instead of flooding
# the queue at once.
SWEEP_BATCH = 2000

PM_EVENTS = {
    "ParticipantCreated": "participants",
    "ParticipantUpdated": "participants",
    "ActionCreated": "actions",
    "ActionUpdated": "actions",
}
PM_TIME_EVENTS = {"TimeEntryCreated", "TimeEntryUpdated", "TimeEntryDeleted"}
LA_CONTACT_EVENTS = {"contact.created", "contact.updated"}
LA_TIME_EVENTS = {"time_entries.billed", "time_entry.updated"}
KNOWN_EVENTS = {
    System.PM: set(PM_EVENTS) | PM_TIME_EVENTS,
    System.LA: LA_CONTACT_EVENTS | LA_TIME_EVENTS,
}


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
        link, changed = contacts.contact_ingest(system="pm", remote=contacts.pm_remote(raw))
    else:
        try:
            link, changed = matters.matter_ingest(remote=matters.pm_remote(raw))
        except SyncBlocked as blocked:
            logger.warning("PM action %s not taken in: %s", raw.get("id"), blocked.message)
            return None
    if changed:
        link_enqueue(link, message="Changed in PM; sync queued.")
    return link


def la_contact_seen(raw: dict) -> Link:
    link, changed = contacts.contact_ingest(system="la", remote=contacts.la_remote(raw))
    if changed:
        link_enqueue(link, message="Changed in LA; sync queued.")
    return link


def webhook_receipt_process(*, receipt_id: int) -> None:
    """Read back the records a webhook announced and queue what changed."""
    receipt = WebhookReceipt.objects.get(pk=receipt_id)
    if receipt.processed_at:
        return
    payload = receipt.payload
    try:
        if receipt.system == System.PM and receipt.event in PM_EVENTS:
            resource = PM_EVENTS[receipt.event]
            firm_people = (
                timekeepers_refresh()
                if receipt.event == "ParticipantCreated"
                else pm_user_participants()
            )
            for record_id in payload.get("ids", []):
                raw = pm_client().get(resource, str(record_id))
                if raw:
                    pm_record_seen(resource, raw, firm_people=firm_people)
        elif receipt.system == System.PM and receipt.event == "TimeEntryDeleted":
            for record_id in payload.get("ids", []):
                time_entries.time_entry_deleted_in_pm(pm_id=str(record_id))
        elif receipt.system == System.PM and receipt.event in PM_TIME_EVENTS:
            for record_id in payload.get("ids", []):
                raw = pm_client().get("timeentries", str(record_id))
                if raw:
                    pm_record_seen("timeentries", raw, firm_people=set())
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


def _cursor(system: str, resource: str) -> PollCursor:
    cursor, _ = PollCursor.objects.get_or_create(system=system, resource=resource)
    return cursor


def _poll(system: str, resource: str, read, firm_people: set[str]) -> int:
    cursor = _cursor(system, resource)
    started = timezone.now()
    since = cursor.modified_since - POLL_OVERLAP if cursor.modified_since else None
    seen = 0
    try:
        for raw in read(since):
            seen += 1
            if system == System.PM:
                pm_record_seen(resource, raw, firm_people=firm_people)
            elif resource == "contacts":
                la_contact_seen(raw)
            else:
                time_entries.la_time_entry_seen(raw=raw)
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


def _pm_reader(resource: str):
    def read(since):
        params = {"modifiedTimestamp_gt": since.isoformat()} if since else {}
        return pm_client().list_all(resource, **params)

    return read


def _la_reader(resource: str):
    def read(since):
        params = {"modified_since": since.isoformat()} if since else {}
        return la_client().list_all(resource, **params)

    return read


def poll_all() -> dict[str, int]:
    """One polling pass over both systems: timekeepers, contacts, matters, then time, so
    each finds what it refers to."""
    try:
        firm_people = timekeepers_refresh()
    except ConnectorError as error:
        logger.warning("Could not read timekeepers: %s", error.message)
        firm_people = pm_user_participants()
    return {
        "pm participants": _poll(
            System.PM, "participants", _pm_reader("participants"), firm_people
        ),
        "la contacts": _poll(System.LA, "contacts", _la_reader("contacts"), firm_people),
        "pm actions": _poll(System.PM, "actions", _pm_reader("actions"), firm_people),
        "pm time entries": _poll(System.PM, "timeentries", _pm_reader("timeentries"), firm_people),
        "la time entries": _poll(
            System.LA, "time-entries", _la_reader("time-entries"), firm_people
        ),
    }


def links_sweep() -> int:
    """Re-queue links whose retry time has come, or that sat pending too long."""
    now = timezone.now()
    due = Link.objects.filter(
        Q(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN], next_retry_at__lte=now)
        | Q(
            status=LinkStatus.PENDING,
            next_retry_at__isnull=True,
            status_changed_at__lt=now - PENDING_TOO_LONG,
        )
    ).filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
    count = 0
    for link in due.order_by("next_retry_at", "pk").only("pk", "status")[:SWEEP_BATCH]:
        link_enqueue(link, message="Retry queued.")
        count += 1
    return count
