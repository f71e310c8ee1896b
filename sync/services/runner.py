"""The link runner: works through the links that can wait, at the request budget's pace.

Work comes in two kinds. A live change (a webhook's record, a person's resync, an API
write) gets a task of its own and draws on the budget first. Everything else — the
thousands of records a firm's first poll takes in, retries after a fault, the links
queued again after a reconnect or a "resync all errors" — is marked due on its link
(`next_retry_at`) and worked through by runners: a few long tasks, each holding a
`WorkLease`, taking the due links oldest first and handing over to a fresh task after
RUNNER_SECONDS. The broker then never holds a backlog of bulk work, so a live change is
picked up by a free worker at once, and its requests are served from the reserve the
bulk work leaves in the budget (sync/budget.py).

With LINK_RUNNERS runners, runner i takes the links whose id modulo LINK_RUNNERS is i;
keep one worker per cluster free for live work (docs/deployment.md).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Mod
from django.utils import timezone
from django_q.tasks import async_task

from sync.budget import Priority, budget_priority
from sync.links import LEASE_SECONDS
from sync.models import Link, LinkStatus, RecordType
from sync.work import work_lease_release, work_lease_renew, work_lease_take, work_queue_claim

from .connection import pm_connected
from .engine import record_sync
from .switch import sync_live

logger = logging.getLogger(__name__)

# A runner task hands over to a fresh one after this long, well inside the task timeout.
RUNNER_SECONDS = 60
RUNNER_BATCH = 20
# A link the hub itself failed on (a bug, not a fault of PM or LA) waits this long.
AFTER_A_BUG = timedelta(minutes=10)
# A runner's task queued this long ago that has not started was lost with its cluster.
QUEUED_TOO_LONG = timedelta(minutes=2)


def runner_name(index: int) -> str:
    return f"link-runner-{index}"


def links_due() -> QuerySet[Link]:
    """Links waiting for a runner: pending or unknown, their time come, held by nobody.
    Time entries are sent for billing in batches, not synced one by one."""
    now = timezone.now()
    return (
        Link.objects.filter(
            status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN], next_retry_at__lte=now
        )
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .exclude(record_type=RecordType.TIME_ENTRY)
    )


def link_due_now(link_id: int) -> None:
    """Hand a link already marked pending to the runners."""
    Link.objects.filter(pk=link_id).update(next_retry_at=timezone.now())
    transaction.on_commit(runners_ensure)


def runners_ensure() -> int:
    """Queue a task for each runner that is neither running nor queued (one conditional
    UPDATE each); answers how many were queued."""
    if not pm_connected() or not sync_live():
        # Links wait for the connection, or for going live; both call this again.
        return 0
    queued = 0
    for index in range(settings.LINK_RUNNERS):
        if work_queue_claim(runner_name(index), stale_after=QUEUED_TOO_LONG):
            async_task("sync.tasks.links_run_task", index, task_name=runner_name(index))
            queued += 1
    return queued


def links_run(index: int = 0) -> int:
    """One runner task: sync due links of this runner's share, oldest first, for up to
    RUNNER_SECONDS, then hand over to a fresh task if any are left. Never-synced links
    draw on the budget as backfill, the others as retries. Answers how many it synced.

    A link made due while the runner was finishing finds the lease still held and queues
    nothing: after letting go the runner looks once more and queues a runner for it."""
    name = runner_name(index)
    token = work_lease_take(name, seconds=LEASE_SECONDS)
    if token is None:
        return 0
    started = time.monotonic()
    synced = 0
    more = False
    try:
        while pm_connected() and sync_live():
            batch = list(
                _share(links_due(), index)
                .order_by("next_retry_at", "pk")
                .values_list("pk", "last_synced_at")[:RUNNER_BATCH]
            )
            if not batch:
                break
            for link_id, last_synced_at in batch:
                priority = Priority.BACKFILL if last_synced_at is None else Priority.RETRY
                _sync(link_id, priority)
                synced += 1
            if time.monotonic() - started >= RUNNER_SECONDS:
                more = True
                break
            work_lease_renew(name, token, seconds=LEASE_SECONDS)
    finally:
        work_lease_release(name, token)
    if more or _share(links_due(), index).exists():
        runners_ensure()
    return synced


def _share(links: QuerySet[Link], index: int) -> QuerySet[Link]:
    runners = settings.LINK_RUNNERS
    if runners <= 1:
        return links
    return links.annotate(share=Mod("id", runners)).filter(share=index)


def _sync(link_id: int, priority: Priority) -> None:
    with budget_priority(priority):
        try:
            record_sync(link_id)
        except Exception:
            # A fault of PM or LA never gets here (the engine records it on the link); a
            # bug does. It is logged with the link, which waits, so the runner goes on.
            logger.exception("Syncing link %s failed in the hub", link_id)
            Link.objects.filter(pk=link_id).update(
                status=LinkStatus.UNKNOWN,
                message="The hub failed on this record; it will be tried again.",
                next_retry_at=timezone.now() + AFTER_A_BUG,
            )
