"""The engine's entry points: sync a link, queue a link, resync a record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django_q.tasks import async_task

from sync.budget import Priority, current_priority
from sync.links import link_for, link_mark_pending, link_seen_keep
from sync.models import Link

from . import contacts, matters  # noqa: F401  (they register their adapters)
from .engine import Seen, record_sync
from .runner import link_due_now


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


def links_collecting() -> bool:
    """Whether links queued now are collected (inside `links_collected`)."""
    return _collected.get() is not None


def link_enqueue(link: Link, *, message: str = "Sync queued.", **seen) -> None:
    """Mark the link pending and queue its sync once the current transaction commits;
    `seen` sets the copies kept of its records (see `link_mark_pending`)."""
    link_mark_pending(link, message, **seen)
    link_queue(link.pk)


def link_seen_queue(link: Link, seen: Seen, *, system: str, raw: dict, message: str) -> None:
    """Queue the sync of a record taken in from `system`, if it needs one. A new one was
    made pending with the copy read (`Link.pm_seen`, `la_seen`) already; a changed one
    keeps the copy unless a newer one is kept (`link_seen_keep`), then is marked pending.
    Its sync uses the copy instead of reading the record again."""
    if seen is Seen.CHANGED:
        link_seen_keep(link, system, raw)
        link_enqueue(link, message=message)
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
    """Have a link already marked pending synced: live work (the default priority: a
    webhook's change, a person's resync) by a task of its own once the transaction
    commits; work that can wait (a poll's records, the sweep's retries) by the link
    runners, at the budget's pace (sync/services/runner.py)."""
    if current_priority() is Priority.LIVE:
        transaction.on_commit(
            lambda: async_task("sync.tasks.link_sync_task", link_id, task_name=f"link-{link_id}")
        )
    else:
        link_due_now(link_id)


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
