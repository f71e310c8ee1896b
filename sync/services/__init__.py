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
    transaction.on_commit(
        lambda: async_task("sync.tasks.link_sync_task", link_id, task_name=f"link-{link_id}")
    )


def record_resync(record) -> Link:
    """An admin's "Resync now": forget the failure count and queue a fresh attempt."""
    link = link_for(record)
    Link.objects.filter(pk=link.pk).update(attempts=0, next_retry_at=None)
    link_enqueue(link, message="Resync requested.")
    return link
