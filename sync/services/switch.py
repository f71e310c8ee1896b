"""The sync switch: live, or paused while a firm's existing records are matched.

A hub connected for the first time to systems that already hold records must
not treat them all as new. The rules kept here:

- **The first connection decides.** When PM is connected and no switch exists yet, the
  hub asks both systems whether they hold contacts or matters (PM's own users aside):
  if either does, or either can't answer, the hub starts paused; an empty pair of
  systems starts live. A hub with no switch row that is already connected (one that
  synced before the switch existed) is live: it has nothing left to onboard.
- **Paused writes nothing to PM or LA, and loses nothing.** Polls and deliveries are
  still taken in, as pending links with the copies they read; the engine, the link
  runners, sends for billing and the balance write into PM check `sync_live()` first.
  Going live hands every pending link to the runners.
- **Every process sees the same state.** It lives in the database. The engine reads it
  in the very UPDATE that takes a link's lease (sync/links.py), so no sync starts once
  paused; the other callers keep their reading for at most `RECHECK_SECONDS`.
"""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.utils import timezone

from sync.connectors.base import ConnectorError
from sync.links import NEEDS_DECISION, PAUSED_MESSAGE
from sync.models import Link, LinkStatus, RecordType, SyncSwitch

logger = logging.getLogger(__name__)

State = SyncSwitch.State
RECHECK_SECONDS = 5.0

_reading: dict[str, tuple[float, bool]] = {}


class SyncPaused(Exception):
    """A write to PM or LA was asked for while the sync is paused for onboarding."""

    def __init__(self, message: str = ""):
        super().__init__(message or SEND_PAUSED_MESSAGE)
        self.message = message or SEND_PAUSED_MESSAGE


SEND_PAUSED_MESSAGE = (
    "The sync is paused for onboarding: nothing is sent to Legal Accounting until an admin "
    "goes live on the onboarding page."
)


def sync_switch_read() -> SyncSwitch | None:
    return SyncSwitch.objects.filter(pk=1).select_related("changed_by").first()


def sync_live(*, fresh: bool = False) -> bool:
    """Whether syncs may write to PM and LA now. No switch yet means live: a hub never
    connected syncs nothing anyway, and connecting decides (`sync_switch_decide`).
    `fresh` reads the row even when this process read it a moment ago (a person's send
    for billing must never go out after a pause)."""
    cached = _reading.get("live")
    if not fresh and cached is not None and time.monotonic() - cached[0] < RECHECK_SECONDS:
        return cached[1]
    state = SyncSwitch.objects.filter(pk=1).values_list("state", flat=True).first()
    live = state != State.PAUSED
    _reading["live"] = (time.monotonic(), live)
    return live


def sync_live_required() -> None:
    """Raise SyncPaused unless the sync is live (a person's send for billing)."""
    if not sync_live(fresh=True):
        raise SyncPaused


def sync_switch_forget() -> None:
    """Drop this process's reading of the switch (after a change, in tests)."""
    _reading.clear()


def _switch_set(state: str, *, user=None, reason: str = "") -> SyncSwitch:
    switch, _ = SyncSwitch.objects.update_or_create(
        pk=1,
        defaults={
            "state": state,
            "reason": reason,
            "changed_at": timezone.now(),
            "changed_by": user if getattr(user, "pk", None) else None,
        },
    )
    sync_switch_forget()
    return switch


def sync_pause(*, user=None, reason: str = "Paused by an admin.") -> SyncSwitch:
    """Stop writing to PM and LA; what arrives meanwhile waits, pending."""
    return _switch_set(State.PAUSED, user=user, reason=reason)


def sync_go_live(*, user=None, reason: str = "") -> SyncSwitch:
    """Start writing to PM and LA: every pending link (what polls and deliveries took in
    while paused) is handed to the link runners, once this commits."""
    from .runner import runners_ensure

    who = getattr(user, "get_username", lambda: "")() or "the hub"
    with transaction.atomic():
        switch = _switch_set(State.LIVE, user=user, reason=reason or f"Gone live by {who}.")
        Link.objects.filter(
            status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN], next_retry_at__isnull=True
        ).exclude(record_type=RecordType.TIME_ENTRY).exclude(error_code=NEEDS_DECISION).update(
            next_retry_at=timezone.now()
        )
        Link.objects.filter(status=LinkStatus.PENDING, message=PAUSED_MESSAGE).update(
            message="Sync queued: gone live."
        )
        transaction.on_commit(runners_ensure)
    return switch


def systems_hold_records() -> bool:
    """Whether PM or LA holds any contact or matter (PM's users are participants too,
    and are not counted). True when either system can't say: pausing is the safe side."""
    from .onboarding import _la_count, _pm_count

    try:
        users = _pm_count("users") or 0
        counts = [
            (_pm_count("participants") or 0) - users,
            _pm_count("actions") or 0,
            _la_count("contacts") or 0,
            _la_count("files") or 0,
        ]
    except ConnectorError as error:
        logger.warning("Could not count the records of PM and LA: %s", error.message)
        return True
    return any(count > 0 for count in counts)


def sync_switch_decide() -> SyncSwitch:
    """On connecting: the switch as it is, or, the first time, paused when either system
    already holds records, else live."""
    switch = sync_switch_read()
    if switch is not None:
        return switch
    if systems_hold_records():
        state = State.PAUSED
        reason = (
            "Connected to systems that already hold records: match them on the onboarding "
            "page, then go live."
        )
    else:
        state, reason = State.LIVE, "Connected to empty systems: nothing to onboard."
    with transaction.atomic():
        switch, made = SyncSwitch.objects.get_or_create(
            pk=1, defaults={"state": state, "reason": reason, "changed_at": timezone.now()}
        )
    sync_switch_forget()
    if made:
        logger.info("Sync switch set %s on first connection.", switch.state)
    return switch
