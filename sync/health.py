"""Aggregate reads for the sync health page, and its one write: resync all errors.

Every read here is an aggregate or a bounded slice, so the page costs the same number
of queries with three links or fifty thousand (STYLE house rule 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Task
from django_q.status import Stat

from contacts.models import Contact
from matters.models import Matter
from timekeeping.models import TimeEntry

from .models import Link, LinkStatus, PollCursor, RecordType, System, WebhookReceipt

LATEST_ERRORS = 20
RESYNC_ALL_MESSAGE = "Resync requested for all errors."

RECORD_MODELS = {
    RecordType.CONTACT: Contact,
    RecordType.MATTER: Matter,
    RecordType.TIME_ENTRY: TimeEntry,
}


@dataclass(frozen=True)
class StateCount:
    status: LinkStatus
    count: int
    percent: float


@dataclass(frozen=True)
class RecordTypeCounts:
    record_type: RecordType
    states: list[StateCount]
    total: int

    @property
    def errors(self) -> int:
        return next(s.count for s in self.states if s.status == LinkStatus.ERROR)


@dataclass(frozen=True)
class QueueState:
    size: int | None
    error: str
    last_task_at: datetime | None
    clusters: list[Stat]


@dataclass(frozen=True)
class SystemActivity:
    system: System
    last_poll_at: datetime | None
    last_webhook_at: datetime | None


def link_counts() -> list[RecordTypeCounts]:
    """Links per record type and Link Indicator state; a record with no link row yet
    counts as unsynced (docs/decisions.md 2). One grouped query over links, then one
    count per record model."""
    counts = {(rt, status): 0 for rt in RecordType for status in LinkStatus}
    grouped = Link.objects.order_by().values("record_type", "status").annotate(n=Count("pk"))
    for row in grouped:
        counts[(row["record_type"], row["status"])] = row["n"]
    for record_type, model in RECORD_MODELS.items():
        counts[(record_type, LinkStatus.UNSYNCED)] += model.objects.filter(
            link__isnull=True
        ).count()
    result = []
    for record_type in RecordType:
        total = sum(counts[(record_type, status)] for status in LinkStatus)
        states = [
            StateCount(
                status=status,
                count=counts[(record_type, status)],
                percent=round(100 * counts[(record_type, status)] / total, 2) if total else 0,
            )
            for status in LinkStatus
        ]
        result.append(RecordTypeCounts(record_type=record_type, states=states, total=total))
    return result


def latest_errors(limit: int = LATEST_ERRORS) -> list[Link]:
    """The most recent red links, with their records, in one query."""
    return list(
        Link.objects.filter(status=LinkStatus.ERROR)
        .select_related("contact", "matter", "time_entry")
        .defer("pm_snapshot", "la_snapshot")
        .order_by("-status_changed_at", "-pk")[:limit]
    )


def queue_state() -> QueueState:
    """The broker's queue depth and the newest sign of a working worker.

    A task saved as finished is the heartbeat every broker leaves in the database; the
    cluster stats django-q2 keeps in a cache are shown too when this process can see
    them (Redis, or a cache shared with the cluster).
    """
    size, error = None, ""
    broker = get_broker()
    try:
        size = broker.queue_size()
    except Exception as exc:  # any broker failure is shown, not raised, on a health page
        error = f"{type(exc).__name__}: {exc}"
    try:
        clusters = Stat.get_all(broker=broker)
    except Exception:  # the stats are a bonus; the queue error above already says why
        clusters = []
    last_task_at = Task.objects.order_by().aggregate(last=Max("stopped"))["last"]
    return QueueState(size=size, error=error, last_task_at=last_task_at, clusters=clusters)


def system_activity() -> list[SystemActivity]:
    """Per system, the last successful poll of any resource and the last webhook."""
    polls = dict(
        PollCursor.objects.order_by()
        .values("system")
        .annotate(last=Max("last_success_at"))
        .values_list("system", "last")
    )
    hooks = dict(
        WebhookReceipt.objects.order_by()
        .values("system")
        .annotate(last=Max("received_at"))
        .values_list("system", "last")
    )
    return [
        SystemActivity(
            system=system, last_poll_at=polls.get(system), last_webhook_at=hooks.get(system)
        )
        for system in System
    ]


def links_resync_errors(*, record_type: str, user=None) -> int:
    """Turn every red link of one record type pending, as an admin's bulk resync.

    One UPDATE whatever the number of links: the failure count is forgotten and the
    retry time set to now, so the periodic sweep (`changes.links_sweep`) queues them
    at its own pace instead of this request queuing thousands of tasks. Red links wait
    for a data change or an admin (ARCHITECTURE §4 rule 5); this is the admin.

    Time is not synced but sent for billing: for time entries this sends the entries
    that failed to send again, as one billing batch (entries flagged as changed after
    sending stay red: only LA can correct them).
    """
    if record_type == RecordType.TIME_ENTRY:
        from timekeeping.services import billing_batch_create

        failed = TimeEntry.objects.filter(billing_status=TimeEntry.BillingStatus.ERROR)
        return billing_batch_create(entries=failed, user=user).entry_count
    now = timezone.now()
    return Link.objects.filter(record_type=record_type, status=LinkStatus.ERROR).update(
        status=LinkStatus.PENDING,
        attempts=0,
        next_retry_at=now,
        message=RESYNC_ALL_MESSAGE,
        error_code="",
        error_system="",
        status_changed_at=now,
        updated_at=now,
    )
