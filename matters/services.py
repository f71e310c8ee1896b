"""Matter balances read from LA (ARCHITECTURE §2 "Matter balances").

The hub keeps its last copy of each matter's balances. It is refreshed on a schedule,
when LA announces a billing, and on request; when LA can't be reached the last copy
is served as stale with the reason — never an error. Each refresh that read LA also
writes the figures that changed into the matter in PM, where a PM user sees them
(sync/services/balances_in_pm.py).

The scheduled refresh (`matter_balances_refresh_all`) asks LA which balances moved since
it last read them (`GET /balances?changed_since`: one request on a quiet day), reads the
stale and never-read ones a page of files a request, and queues the writes into PM of the
figures that changed in bounded chunks within a share of PM's request budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.models import Schedule
from django_q.tasks import async_task

from sync.connectors import la_client
from sync.connectors.base import ConnectorError
from sync.connectors.legal_accounting.client import PAGE_SIZE
from sync.models import Link

from .models import Matter, MatterBalance

# Figures older than this are marked stale even when the last refresh worked.
BALANCE_MAX_AGE = timedelta(minutes=30)
MONEY_FIELDS = [
    "trust",
    "wip_fees",
    "wip_disbursements",
    "accounts_receivable",
    "unallocated_credit",
]


@dataclass
class BalanceView:
    balance: MatterBalance
    stale: bool
    reason: str


def matter_balance_refresh(*, matter: Matter, write_to_pm: str = "queue") -> MatterBalance:
    """Read the matter's balances from LA into the hub's copy; on failure keep the copy
    and record why. After a read, the figures go into the matter in PM: in a task of
    their own (`write_to_pm="queue"`, for a person waiting on the answer) or here
    (`"now"`, in a task already)."""
    balance, _ = MatterBalance.objects.get_or_create(matter=matter)
    la_id = Link.objects.filter(matter=matter).values_list("la_id", flat=True).first()
    now = timezone.now()
    read = False
    if not la_id:
        MatterBalance.objects.filter(pk=balance.pk).update(
            last_error="The matter is not linked to LA yet.", last_error_at=now, last_attempt_at=now
        )
    else:
        try:
            figures = la_client().file_balance(la_id)
        except ConnectorError as error:
            MatterBalance.objects.filter(pk=balance.pk).update(
                last_error=error.message, last_error_at=now, last_attempt_at=now
            )
        else:
            _figures_store(balance.pk, figures, now=now)
            read = True
    balance.refresh_from_db()
    if read:
        if write_to_pm == "now":
            matter_balance_write_to_pm(balance=balance)
        elif write_to_pm == "queue":
            transaction.on_commit(
                lambda: async_task(
                    "matters.tasks.matter_balance_write_to_pm_task",
                    balance.pk,
                    task_name=f"balance-to-pm-{balance.pk}",
                )
            )
    return balance


def _figures_store(balance_id: int, figures: dict, *, now: datetime) -> None:
    """Keep the figures LA answered (`GET /files/{id}/balance`, or an item of
    `GET /balances`) as the balance's copy, read at LA's `as_of`."""
    MatterBalance.objects.filter(pk=balance_id).update(
        **{name: Decimal(str(figures[name])) for name in MONEY_FIELDS},
        **({"currency": figures["currency"]} if figures.get("currency") else {}),
        as_of=parse_datetime(figures["as_of"]) if figures.get("as_of") else now,
        last_error="",
        last_error_at=None,
        last_attempt_at=now,
    )


def matter_balance_write_to_pm(*, balance: MatterBalance) -> str:
    from sync.services.balances_in_pm import matter_balance_write_to_pm as write

    return write(balance=balance)


def matter_balance_view(*, matter: Matter, refresh: bool = False) -> BalanceView:
    """The balances to show: refreshed first if asked or never read, else the copy."""
    balance = MatterBalance.objects.filter(matter=matter).first()
    if refresh or balance is None or balance.as_of is None:
        balance = matter_balance_refresh(matter=matter)
    return BalanceView(balance, *balance_staleness(balance))


def balance_staleness(balance: MatterBalance) -> tuple[bool, str]:
    if balance.as_of is None:
        return True, balance.last_error or "Never read from LA."
    if balance.last_error_at and balance.last_error_at >= balance.as_of:
        return True, balance.last_error
    if timezone.now() - balance.as_of > BALANCE_MAX_AGE:
        return True, "Not refreshed in the last 30 minutes."
    return False, ""


# The scheduled pass -------------------------------------------------------------------
#
# The schedule's interval (sync migration 0005: every 15 minutes).
REFRESH_INTERVAL = timedelta(minutes=15)
# Figures read within this long are asked about with `changed_since`: one LA request
# answers that none of them moved. Older figures (and those never read, or whose last
# read failed) are read again whole, a page of files a request. Twice the interval, so a
# pass that runs late still finds the last pass's figures fresh.
FRESH_FOR = 2 * REFRESH_INTERVAL
# `changed_since` is sent this much earlier than the oldest fresh figures' `as_of`: LA's
# clock stamps the changes, the hub's clock stamps figures found unchanged.
CLOCK_MARGIN = timedelta(minutes=1)
# At most this many LA requests of stale figures a pass (each PAGE_SIZE files): the
# pass stays a short task at any firm size; a larger backlog is read over the next passes,
# longest unasked first.
STALE_READS_PER_PASS = 10
# What a write into PM costs (sync/services/balances_in_pm.py): a matter's first, its
# action type, finding and making its record, and its seven values; later ones, a figure
# that changed and "As of". Writes go in chunks spread over the interval, as many as fit
# BALANCE_REFRESH_BUDGET_SHARE of PM's budget at these costs.
FIRST_WRITE_REQUESTS = 10
CHANGE_WRITE_REQUESTS = 2
WRITE_CHUNK_SIZE = 25
WRITE_CHUNK_TASK = "matters.tasks.matter_balances_write_chunk_task"
# A matter whose write into PM failed (PM refused the data collection scopes, say) is
# tried again after this long, not every pass.
PM_WRITE_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class WriteChunk:
    matter_ids: list[int]
    run_at: datetime
    requests: int  # what its writes are planned to cost PM


@dataclass
class RefreshPass:
    """What a scheduled pass did: figures that moved, re-read and confirmed unchanged,
    matters queued for a write into PM, and LA's refusals."""

    changed: int = 0
    read: int = 0
    confirmed: int = 0
    writes_queued: int = 0
    write_requests_planned: int = 0
    errors: list[str] = field(default_factory=list)


def _linked_balances() -> QuerySet[MatterBalance]:
    return MatterBalance.objects.filter(matter__link__la_id__isnull=False).exclude(
        matter__link__la_id=""
    )


def _fresh(started: datetime) -> QuerySet[MatterBalance]:
    """Balances whose copy was read within FRESH_FOR and not failed since."""
    return _linked_balances().filter(
        Q(last_error_at__isnull=True) | Q(last_error_at__lt=F("as_of")),
        as_of__gte=started - FRESH_FOR,
    )


def matter_balances_refresh_all() -> RefreshPass:
    """The scheduled pass: ask LA which fresh figures moved (one request when none did),
    read stale and never-read ones a page of files at a time, then queue the writes into
    PM of the figures that changed (`balance_write_plan`). A pass that cannot reach LA
    keeps every copy as it was: nothing is confirmed that was not asked."""
    started = timezone.now()
    report = RefreshPass()
    client = la_client()
    with transaction.atomic():  # a balance row for every linked matter
        have = set(MatterBalance.objects.values_list("matter_id", flat=True))
        missing = Matter.objects.filter(link__la_id__isnull=False).exclude(pk__in=have)
        MatterBalance.objects.bulk_create(
            [MatterBalance(matter_id=pk) for pk in missing.values_list("pk", flat=True)],
            ignore_conflicts=True,
        )

    oldest = _fresh(started).aggregate(oldest=Min("as_of"))["oldest"]
    if oldest is not None:
        try:
            moved = list(client.balances_changed_since(oldest - CLOCK_MARGIN))
        except ConnectorError as error:
            report.errors.append(error.message)
        else:
            report.changed = len(_store_answers(moved, now=started))
            report.confirmed = (
                _fresh(started)
                .filter(as_of__lt=started)
                .exclude(matter_id__in=[row["matter_id"] for row in _answered(moved)])
                .update(as_of=started, last_attempt_at=started)
            )

    stale = list(
        _linked_balances()
        .exclude(pk__in=_fresh(started).values("pk"))
        .order_by(F("last_attempt_at").asc(nulls_first=True), "pk")
        .values_list("matter_id", "matter__link__la_id")[: STALE_READS_PER_PASS * PAGE_SIZE]
    )
    if stale:
        report.read = len(_read_files(client, dict(stale), now=started, errors=report.errors))

    plan = balance_write_plan(now=started)
    report.writes_queued = _writes_queue(plan, now=started)
    report.write_requests_planned = sum(chunk.requests for chunk in plan)
    return report


def _answered(answers: list[dict]) -> list[dict]:
    """LA's answers, each with the hub's matter and balance ids (unknown files left out)."""
    by_file = {str(answer["file"]): answer for answer in answers}
    rows = _linked_balances().filter(matter__link__la_id__in=list(by_file))
    return [
        {**by_file[la_id], "matter_id": matter_id, "balance_id": balance_id}
        for balance_id, matter_id, la_id in rows.values_list(
            "pk", "matter_id", "matter__link__la_id"
        )
    ]


def _store_answers(answers: list[dict], *, now: datetime) -> list[int]:
    stored = []
    for answer in _answered(answers):
        _figures_store(answer["balance_id"], answer, now=now)
        stored.append(answer["matter_id"])
    return stored


def _read_files(client, la_ids: dict[int, str], *, now: datetime, errors: list[str]) -> list[int]:
    """Read these matters' figures a page of files a request; a matter LA did not answer
    for keeps its copy, with the reason."""
    try:
        answers = list(client.balances_of_files(list(la_ids.values())))
    except ConnectorError as error:
        errors.append(error.message)
        MatterBalance.objects.filter(matter_id__in=list(la_ids)).update(
            last_error=error.message, last_error_at=now, last_attempt_at=now
        )
        return []
    stored = _store_answers(answers, now=now)
    MatterBalance.objects.filter(matter_id__in=set(la_ids) - set(stored)).update(
        last_error="Legal Accounting has no file with this matter's id.",
        last_error_at=now,
        last_attempt_at=now,
    )
    return stored


def balance_write_plan(*, now: datetime | None = None) -> list[WriteChunk]:
    """The writes into PM a pass queues: the matters whose figures differ from what the
    hub last wrote there (or never written; a failed one after PM_WRITE_RETRY), as many as
    fit BALANCE_REFRESH_BUDGET_SHARE of PM's budget in one interval at what each costs, in
    chunks of WRITE_CHUNK_SIZE spaced so that each starts once the share has earned the
    requests of those before it. The rest wait for the next passes, longest unwritten
    first."""
    from sync.services.balances_in_pm import balance_write_due

    now = now or timezone.now()
    pm_per_second = settings.BALANCE_REFRESH_BUDGET_SHARE * settings.PM_REQUESTS_PER_MINUTE / 60
    budget = REFRESH_INTERVAL.total_seconds() * pm_per_second
    candidates = (
        _linked_balances()
        .filter(as_of__isnull=False)
        .filter(Q(pm_error_at__isnull=True) | Q(pm_error_at__lt=now - PM_WRITE_RETRY))
        .order_by(F("pm_written_at").asc(nulls_first=True), "pk")
    )
    due: list[tuple[int, int]] = []  # (matter, requests)
    spent = 0
    for balance in candidates.iterator(chunk_size=500):
        if not balance_write_due(balance):
            continue
        cost = CHANGE_WRITE_REQUESTS if balance.pm_record_id else FIRST_WRITE_REQUESTS
        if spent + cost > budget:
            break
        due.append((balance.matter_id, cost))
        spent += cost
    chunks, before = [], 0
    for start in range(0, len(due), WRITE_CHUNK_SIZE):
        chunk = due[start : start + WRITE_CHUNK_SIZE]
        requests = sum(cost for _, cost in chunk)
        chunks.append(
            WriteChunk(
                matter_ids=[matter_id for matter_id, _ in chunk],
                run_at=now + timedelta(seconds=before / pm_per_second),
                requests=requests,
            )
        )
        before += requests
    return chunks


def _writes_queue(plan: list[WriteChunk], *, now: datetime) -> int:
    """The first chunk now, each later one as a one-off django-q2 schedule at its time
    (deleted once run)."""
    for chunk in plan:
        if chunk.run_at <= now:
            async_task(WRITE_CHUNK_TASK, chunk.matter_ids, task_name="balances-to-pm-chunk")
        else:
            Schedule.objects.create(
                name=f"Balances into PM at {chunk.run_at:%H:%M:%S} ({len(chunk.matter_ids)})",
                func=WRITE_CHUNK_TASK,
                args=repr(chunk.matter_ids),
                schedule_type=Schedule.ONCE,
                repeats=-1,
                next_run=chunk.run_at,
            )
    return sum(len(chunk.matter_ids) for chunk in plan)


def matter_balances_write_many(*, matter_ids: list[int]) -> int:
    """Write these matters' changed figures into PM (a chunk of the pass's plan)."""
    written = 0
    for balance in MatterBalance.objects.filter(matter_id__in=matter_ids).order_by("pk"):
        matter_balance_write_to_pm(balance=balance)
        written += 1
    return written


def matter_balances_refresh_for_files(*, la_file_ids: list[str]) -> int:
    """Refresh the matters of the given LA files (after LA bills them)."""
    matters = Matter.objects.filter(link__la_id__in=[str(i) for i in la_file_ids])
    for matter in matters:
        matter_balance_refresh(matter=matter, write_to_pm="now")
    return len(matters)
