"""Aggregate reads for the sync health page, and its one write: resync all errors.

Every read here is an aggregate or a bounded slice, so the page costs the same number
of queries with three links or fifty thousand (STYLE house rule 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Task
from django_q.status import Stat

from contacts.models import Contact
from matters.models import Matter
from timekeeping.models import TimeEntry

from .models import Link, LinkStatus, PollCursor, RecordType, SyncEvent, System, WebhookReceipt

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
class ClusterState:
    """One running django-q2 cluster as it reports itself (`django_q.status.Stat`)."""

    cluster_id: str
    host: str
    status: str
    workers: int
    started_at: datetime | None
    reported_at: datetime | None
    task_queue: int


@dataclass(frozen=True)
class QueueState:
    size: int | None
    error: str
    last_task_at: datetime | None
    clusters: list[ClusterState]
    failures_24h: int
    where: str  # where the clusters' status is read from, for the page to say


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
    """The broker's queue depth, the running clusters and the newest sign of work.

    Each running cluster reports its status every half second, to live three seconds
    (django-q2's `Stat`): in Redis with the Redis broker, else in the cache named by
    `Q_CLUSTER["cache"]`, a file cache this machine's processes share (settings), so a
    cluster running beside the web server shows here. A task saved as finished is the
    heartbeat every broker leaves in the database, and failed tasks are counted.
    """
    size, error = None, ""
    broker = get_broker()
    try:
        size = broker.queue_size()
    except Exception as exc:  # any broker failure is shown, not raised, on a health page
        error = f"{type(exc).__name__}: {exc}"
    try:
        stats = Stat.get_all(broker=broker) or []
    except Exception:  # the stats are a bonus; the queue error above already says why
        stats = []
    # One aggregate for both: the last task that finished, and the failures of a day.
    tasks = Task.objects.order_by().aggregate(
        last=Max("stopped"),
        failures=Count(
            "pk", filter=Q(success=False, stopped__gte=timezone.now() - timedelta(days=1))
        ),
    )
    last_task_at, failures = tasks["last"], tasks["failures"]
    return QueueState(
        size=size,
        error=error,
        last_task_at=last_task_at,
        clusters=sorted((cluster_state(stat) for stat in stats), key=lambda c: c.host),
        failures_24h=failures,
        where="Redis" if settings.REDIS_URL else "the cluster status cache",
    )


def cluster_state(stat: Stat) -> ClusterState:
    return ClusterState(
        cluster_id=str(getattr(stat, "cluster_id", "")),
        host=str(getattr(stat, "host", "")),
        status=str(getattr(stat, "status", "")),
        workers=len(getattr(stat, "workers", []) or []),
        started_at=getattr(stat, "tob", None),
        reported_at=getattr(stat, "timestamp", None),
        task_queue=int(getattr(stat, "task_q_size", 0) or 0),
    )


# Sync trends ------------------------------------------------------------------------

FAILED_OUTCOMES = frozenset({SyncEvent.Outcome.ERROR, SyncEvent.Outcome.RETRY})


@dataclass(frozen=True)
class TrendBucket:
    start: datetime
    synced: int
    failed: int


@dataclass(frozen=True)
class Trend:
    """One record type's sync attempts: by hour over the last 24 hours and by day over
    the last 7, in the firm's time zone; synced (success, nothing to do, conflict
    resolved) and failed (error, or failed and retried)."""

    record_type: RecordType
    hours: list[TrendBucket]
    days: list[TrendBucket]

    @property
    def totals(self) -> tuple[int, int]:
        return sum(b.synced for b in self.hours), sum(b.failed for b in self.hours)


def sync_trends(*, now: datetime | None = None) -> list[Trend]:
    """Syncs and failures per record type from the history, in one aggregate query
    (attempts per record type, local hour and outcome over the last seven days)."""
    zone = timezone.get_current_timezone()
    local_now = timezone.localtime(now or timezone.now(), zone)
    # Hours step in real time from the local hour's start (a DST change has 23 or 25).
    this_hour = local_now.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    hours = [this_hour - timedelta(hours=n) for n in range(23, -1, -1)]
    today = local_now.date()
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    first_day = timezone.make_aware(datetime.combine(days[0], time.min), zone)
    rows = (
        SyncEvent.objects.filter(occurred_at__gte=min(first_day, hours[0]))
        .annotate(hour=TruncHour("occurred_at", tzinfo=zone))
        .order_by()
        .values("link__record_type", "hour", "outcome")
        .annotate(n=Count("pk"))
    )
    by_hour: dict[tuple, list[int]] = {}
    by_day: dict[tuple, list[int]] = {}
    for row in rows:
        hour = row["hour"]
        if timezone.is_naive(hour):
            hour = timezone.make_aware(hour, zone)
        slot = 1 if row["outcome"] in FAILED_OUTCOMES else 0
        record_type = row["link__record_type"]
        by_hour.setdefault((record_type, hour.astimezone(UTC)), [0, 0])[slot] += row["n"]
        local_day = timezone.localtime(hour, zone).date()
        by_day.setdefault((record_type, local_day), [0, 0])[slot] += row["n"]
    return [
        Trend(
            record_type=record_type,
            hours=[
                TrendBucket(
                    timezone.localtime(start, zone), *by_hour.get((record_type, start), (0, 0))
                )
                for start in hours
            ],
            days=[
                TrendBucket(
                    timezone.make_aware(datetime.combine(day, time.min), zone),
                    *by_day.get((record_type, day), (0, 0)),
                )
                for day in days
            ],
        )
        for record_type in RecordType
    ]


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
