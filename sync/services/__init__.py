"""The engine's entry points: sync a link, queue a link, resync a record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django_q.tasks import async_task

from sync.links import link_for, link_mark_pending
from sync.models import Link, RecordType

from . import contacts, matters
from .engine import record_sync

ADAPTERS = {
    RecordType.CONTACT: contacts.ADAPTER,
    RecordType.MATTER: matters.ADAPTER,
}


def link_sync(*, link_id: int) -> bool:
    """Sync one link now (in this process). False if another worker holds it."""
    record_type = Link.objects.values_list("record_type", flat=True).get(pk=link_id)
    return record_sync(ADAPTERS[record_type], link_id)


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


def link_enqueue(link: Link, *, message: str = "Sync queued.") -> None:
    """Mark the link pending and queue its sync once the current transaction commits."""
    link_mark_pending(link, message)
    link_id = link.pk
    collected = _collected.get()
    if collected is not None:
        collected.append(link_id)
        return
    link_task_queue(link_id)


def link_task_queue(link_id: int) -> None:
    """Queue the sync task of a link already marked pending, once the transaction commits."""
    transaction.on_commit(
        lambda: async_task("sync.tasks.link_sync_task", link_id, task_name=f"link-{link_id}")
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
