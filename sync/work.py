"""Named jobs that one worker at a time runs (`WorkLease`): a lease taken with one
conditional UPDATE and lapsing after a while, like a link's (sync/links.py), so a job
whose worker died is taken up again. A job cut into a chain of tasks hands its lease
from each task to the next (`work_lease_renew`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from .models import WorkLease


def work_lease_take(name: str, *, seconds: float) -> uuid.UUID | None:
    """The job's lease for `seconds`, or None while another worker holds it."""
    now = timezone.now()
    token = uuid.uuid4()
    fields = {"token": token, "expires_at": now + timedelta(seconds=seconds), "queued_at": None}
    free = Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    if WorkLease.objects.filter(name=name).filter(free).update(**fields):
        return token
    try:
        WorkLease.objects.create(name=name, **fields)
    except IntegrityError:
        return None  # it exists and is held
    return token


def work_lease_renew(name: str, token: uuid.UUID | str, *, seconds: float) -> bool:
    """Extend the lease for `seconds` if `token` still holds it; False when it lapsed and
    another worker took the job meanwhile (or it was released)."""
    expires_at = timezone.now() + timedelta(seconds=seconds)
    return bool(WorkLease.objects.filter(name=name, token=token).update(expires_at=expires_at))


def work_lease_release(name: str, token: uuid.UUID | str) -> None:
    WorkLease.objects.filter(name=name, token=token).update(token=None, expires_at=None)


def work_queue_claim(name: str, *, stale_after: timedelta) -> bool:
    """Whether to queue a task to take the job up now: True when nobody holds it and no
    task was queued for it within `stale_after` (a queued task that never ran, lost with
    its cluster, counts for nothing after that). Many callers asking at once queue one."""
    now = timezone.now()
    free = Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    fresh = Q(queued_at__isnull=True) | Q(queued_at__lt=now - stale_after)
    if WorkLease.objects.filter(name=name).filter(free & fresh).update(queued_at=now):
        return True
    try:
        WorkLease.objects.create(name=name, queued_at=now)
    except IntegrityError:
        return False
    return True


def work_due(name: str) -> bool:
    """Whether the job's next run has come (it has none set: always)."""
    now = timezone.now()
    return not WorkLease.objects.filter(name=name, next_run_at__gt=now).exists()


def work_next_run_set(name: str, after: timedelta) -> None:
    """The job runs next `after` from now (its schedule may fire sooner, to no effect)."""
    next_run_at = timezone.now() + after
    if not WorkLease.objects.filter(name=name).update(next_run_at=next_run_at):
        WorkLease.objects.get_or_create(name=name, defaults={"next_run_at": next_run_at})
