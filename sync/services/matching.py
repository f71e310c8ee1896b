"""Onboarding from the admin: matching as a background job, and what going live does.

The onboarding page starts `matching_run_start`; a task runs the same
matching `link_existing` runs (`existing_records_link`, one implementation) and keeps
its progress and report on a `MatchingRun` row, which the page reads. `go_live_preview`
counts what going live will create in each system, for the confirmation page.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from sync.connectors.base import ConnectorError
from sync.models import Link, LinkStatus, MatchingRun, RecordType

from .onboarding import existing_records_link

logger = logging.getLogger(__name__)

State = MatchingRun.State
# Progress is written at most this often: a firm's first run reads thousands of records.
PROGRESS_SECONDS = 0.5
# A run queued or running this long without progress was lost with its worker.
RUN_LOST_AFTER = 15 * 60


class MatchingBusy(Exception):
    """A matching run is under way already."""


def matching_run_latest() -> MatchingRun | None:
    return MatchingRun.objects.select_related("started_by").first()


def matching_run_start(*, user=None) -> MatchingRun:
    """Queue a matching run, unless one is queued or running (recently)."""
    with transaction.atomic():
        busy = MatchingRun.objects.select_for_update().filter(
            state__in=[State.QUEUED, State.RUNNING],
            created_at__gt=timezone.now() - timedelta(seconds=RUN_LOST_AFTER),
        )
        if busy.exists():
            raise MatchingBusy("Matching is running already; this page shows its progress.")
        run = MatchingRun.objects.create(started_by=user if getattr(user, "pk", None) else None)
        transaction.on_commit(
            lambda: async_task(
                "sync.tasks.matching_run_task", run.pk, task_name=f"matching-{run.pk}"
            )
        )
    return run


def matching_run(*, run_id: int) -> MatchingRun:
    """The task: run the matching, writing progress to the run's row as it goes."""
    MatchingRun.objects.filter(pk=run_id).update(state=State.RUNNING, step="starting")
    written = [0.0]

    def progress(what: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - written[0] >= PROGRESS_SECONDS or done == total:
            written[0] = now
            MatchingRun.objects.filter(pk=run_id).update(step=what[:64], done=done, total=total)

    try:
        report = existing_records_link(dry_run=False, progress=progress)
    except ConnectorError as error:
        MatchingRun.objects.filter(pk=run_id).update(
            state=State.FAILED, error=f"Stopped: {error.message}", finished_at=timezone.now()
        )
    except Exception as error:
        logger.exception("Matching run %s failed", run_id)
        MatchingRun.objects.filter(pk=run_id).update(
            state=State.FAILED,
            error=f"The hub failed: {type(error).__name__}. See the logs.",
            finished_at=timezone.now(),
        )
    else:
        MatchingRun.objects.filter(pk=run_id).update(
            state=State.DONE, step="done", report=report.as_dict(), finished_at=timezone.now()
        )
    return MatchingRun.objects.get(pk=run_id)


@dataclass(frozen=True)
class GoLivePreview:
    """What going live will do now: records created in each system, pairs synced, and
    records held for a decision (never created)."""

    create_in_la: dict[str, int]
    create_in_pm: dict[str, int]
    pairs: int
    held: int

    @property
    def in_la(self) -> int:
        return sum(self.create_in_la.values())

    @property
    def in_pm(self) -> int:
        return sum(self.create_in_pm.values())


def go_live_preview() -> GoLivePreview:
    waiting = Link.objects.filter(
        status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN], needs_decision=False
    ).exclude(record_type=RecordType.TIME_ENTRY)
    types = (RecordType.CONTACT, RecordType.MATTER)
    create_in_la = {
        str(t.label).lower() + "s": waiting.filter(
            record_type=t, pm_id__isnull=False, la_id__isnull=True
        ).count()
        for t in types
    }
    create_in_pm = {
        "contacts": waiting.filter(
            record_type=RecordType.CONTACT, la_id__isnull=False, pm_id__isnull=True
        ).count()
    }
    return GoLivePreview(
        create_in_la=create_in_la,
        create_in_pm=create_in_pm,
        pairs=waiting.filter(Q(pm_id__isnull=False) & Q(la_id__isnull=False)).count(),
        held=Link.objects.filter(needs_decision=True).count(),
    )
