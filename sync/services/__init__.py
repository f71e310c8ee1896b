"""The engine's entry points: sync a link, queue a link, resync a record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django_q.tasks import async_task

from sync.budget import current_priority
from sync.links import link_for, link_mark_pending
from sync.models import Link

from . import contacts, matters  # noqa: F401  (they register their adapters)
from .engine import Seen, record_sync


def link_sync(*, link_id: int) -> bool:
    """Sync one link now (in this process). False if another worker holds it."""
    return record_sync(link_id)


_collected: ContextVar[list[int] | None] = ContextVar("collected_links", default=None)


@contextmanager
def links_collected() -> Iterator[list[int]]:
    """Collect the links queued inside the block instead of sending them to the broker,
    for a caller that syncs them itself (`manage.py sync_now`)."""
    collected: list[int] = []
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


def link_enqueue(link: Link, *, message: str = "Sync queued.", **seen) -> None:
    """Mark the link pending and queue its sync once the current transaction commits;
    `seen` is the record as the caller read it (`pm_seen=raw` or `la_seen=raw`)."""
    link_mark_pending(link, message, **seen)
    link_queue(link.pk)


def link_seen_queue(link: Link, seen: Seen, *, message: str, **read) -> None:
    """Queue the sync of a record taken in from PM or LA, if it needs one: a changed
    record's link is marked pending first, keeping the record as it was `read`
    (`pm_seen=raw` or `la_seen=raw`) so the sync needn't read it again; a new one was
    made pending, with what was read, already."""
    if seen is Seen.CHANGED:
        link_enqueue(link, message=message, **read)
    elif seen is Seen.NEW:
        link_queue(link.pk)


def link_queue(link_id: int) -> None:
    """Queue the sync of a link already marked pending (collected inside
    `links_collected`, otherwise a task once the transaction commits)."""
    collected = _collected.get()
    if collected is not None:
        collected.append(link_id)
        return
    link_task_queue(link_id)


def link_task_queue(link_id: int) -> None:
    """Queue the sync task of a link already marked pending, once the transaction commits.
    The task draws on the request budget at the priority of the work that queued it
    (a poll's backfill, the sweep's retries; sync/budget.py)."""
    priority = int(current_priority())
    transaction.on_commit(
        lambda: async_task(
            "sync.tasks.link_sync_task", link_id, priority, task_name=f"link-{link_id}"
        )
    )


def record_resync(record) -> Link:
    """An admin's "Resync now": forget the failure count and queue a fresh attempt."""
    with transaction.atomic():
        link = link_for(record)
        Link.objects.filter(pk=link.pk).update(attempts=0, next_retry_at=None)
        link_enqueue(link, message="Resync requested.")
    return link


def record_create(model, fields: dict):
    """Create a hub record (API, admin) and queue its sync to both systems in the same
    transaction, so the record and its pending link commit together (§4 rule 2)."""
    with transaction.atomic():
        record = model.objects.create(**fields)
        record_resync(record)
    return record


def record_update(record, fields: dict):
    """Save only the given fields (a sync worker may be writing others) and queue a
    sync; the engine skips writes that change nothing (§4 rule 3)."""
    with transaction.atomic():
        for name, value in fields.items():
            setattr(record, name, value)
        record.save(update_fields=[*fields, "updated_at"])
        record_resync(record)
    return record
