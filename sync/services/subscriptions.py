"""Keep PM's resthooks and LA's webhook subscription pointed at this hub.

Actionstep signs no delivery, so each resthook's `targetUrl` carries a long random
secret (`/webhooks/pm/<event>/<secret>/`) that the receiver compares in constant time;
registering the hooks afresh (`register_webhooks`, connecting PM) makes a new secret and
replaces every hook of the hub's. Actionstep disables a hook after any answer but 200 and
deletes it after a 401 (docs/actionstep-fidelity.md), so every polling pass checks the
hooks and registers again, under the current secret, any that is missing or disabled.
Polling covers whatever was missed meanwhile.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django_q.tasks import async_task

from sync.connectors import la_client, pm_client
from sync.connectors.base import ConnectorError

from ..models import PmConnection, PollCursor, System
from ..webhooks import PM_RECEIVER_PATH
from ..work import (
    work_due,
    work_lease_release,
    work_lease_renew,
    work_lease_take,
    work_next_run_set,
)
from .changes import KNOWN_EVENTS, links_resume, poll_all, poll_people_refresh, poll_steps
from .connection import connection_keep_alive, pm_connected, pm_connection

logger = logging.getLogger(__name__)

ACTIVE = "Active"
# A poll task reads at most this many pages (200 records each, at 600 requests a minute
# about 3 s of PM's budget, and their ingest) before it hands the pass on to a new task.
POLL_PAGES_PER_TASK = 25
POLL_LEASE = "poll"
# Longer than a task may run (Q_CLUSTER timeout) and than a continuation waits behind a
# sweep's worth of link tasks.
POLL_LEASE_SECONDS = 300


def hub_url(name: str, **kwargs) -> str:
    return settings.HUB_BASE_URL.rstrip("/") + reverse(name, kwargs=kwargs or None)


def pm_resthook_url(event: str, secret: str) -> str:
    return hub_url("webhook-pm", event=event, secret=secret)


def _ours(hook: dict) -> bool:
    """A hook this hub registered (at any secret): its target is our PM receiver."""
    prefix = settings.HUB_BASE_URL.rstrip("/") + PM_RECEIVER_PATH
    return str(hook.get("targetUrl") or "").startswith(prefix)


def pm_resthooks_ensure(*, renew: bool = False) -> list[str]:
    """Have one active resthook per event the hub handles, at the current secret;
    answers the events registered. `renew` makes a new secret and replaces every hook of
    the hub's (the old URLs then answer 401, which makes Actionstep delete them)."""
    client = pm_client()
    ours = [hook for hook in client.list_all("resthooks") if _ours(hook)]
    secret = pm_connection().resthook_secret
    if renew or not secret:
        secret = secrets.token_urlsafe(32)
        PmConnection.objects.filter(pk=1).update(resthook_secret=secret)
        stale, active = ours, set()
    else:
        wanted = {event: pm_resthook_url(event, secret) for event in KNOWN_EVENTS[System.PM]}
        active = {
            hook["eventName"]
            for hook in ours
            if hook.get("status") == ACTIVE
            and wanted.get(hook.get("eventName")) == hook.get("targetUrl")
        }
        stale = [
            hook
            for hook in ours
            if hook.get("eventName") not in active or hook.get("status") != ACTIVE
        ]
    for hook in stale:
        if hook.get("status") != "Deleted":
            client.resthook_delete(str(hook["id"]))
    registered = []
    for event in sorted(KNOWN_EVENTS[System.PM] - active):
        client.resthook_register(event, pm_resthook_url(event, secret))
        registered.append(event)
    return registered


def la_webhooks_ensure() -> list[str]:
    """Subscribe to the LA events this hub has no subscription for yet."""
    target = hub_url("webhook-la")
    subscribed: set[str] = set()
    for webhook in la_client().list_all("webhooks"):
        if webhook.get("url") == target:
            subscribed |= set(webhook.get("events", []))
    missing = sorted(KNOWN_EVENTS[System.LA] - subscribed)
    if missing:
        la_client().webhook_register(target, missing)
    return missing


def poll_prepare() -> bool:
    """Before a pass: keep the PM grant alive and check the webhook registrations.
    True when PM is connected and every webhook of both systems was found in place."""
    ensures = [la_webhooks_ensure]
    in_place = pm_connected()
    if in_place:
        ensures.insert(0, pm_resthooks_ensure)
        try:
            connection_keep_alive()
        except ConnectorError as error:
            logger.warning("Could not refresh the PM connection: %s", error.message)
    for ensure in ensures:
        try:
            if ensure():
                in_place = False  # some were missing or disabled: registered again now
        except ConnectorError as error:
            logger.warning("Could not check webhook registrations: %s", error.message)
            in_place = False
    return in_place


def poll_pass() -> dict[str, int]:
    """A whole pass here and now (`manage.py sync_now`): prepare, then poll both systems.
    While PM is not connected, only LA is polled."""
    poll_prepare()
    return poll_all()


def poll_due() -> bool:
    """Whether the scheduled poll should run a pass now: its next run has come, or a
    pass was left unfinished (its chain died) or met a fault, which go on at once."""
    if work_due(POLL_LEASE):
        return True
    return PollCursor.objects.exclude(resume_url="", last_error="").exists()


def poll_chain_start(*, now: bool = False) -> dict[str, int]:
    """The scheduled pass (the schedule fires every minute), cut into bounded tasks:
    this task prepares and reads up to POLL_PAGES_PER_TASK pages, then hands the rest to
    the next task (`poll_chain_continue`), so a firm's first pass over 100,000 records
    never outlives a task's timeout. One chain runs at a time (its `WorkLease`); a chain
    whose worker died lapses after POLL_LEASE_SECONDS and the next schedule starts a new
    one, which picks every resource up where its cursor stopped.

    While every webhook is in place the next pass comes POLL_QUIET_MINUTES later, not a
    minute later: the webhooks carry the changes, and a quiet hub spends a fraction of
    the requests (docs/performance.md, "Idle cost"). `now` runs a pass whatever the
    schedule (after connecting)."""
    if not now and not poll_due():
        return {}
    token = work_lease_take(POLL_LEASE, seconds=POLL_LEASE_SECONDS)
    if token is None:
        logger.info("A poll is still running; this one is skipped.")
        return {}
    try:
        quiet = poll_prepare()
        work_next_run_set(
            POLL_LEASE,
            timedelta(minutes=settings.POLL_QUIET_MINUTES if quiet else 0),
        )
        people_read = poll_people_refresh()
    except BaseException:
        work_lease_release(POLL_LEASE, token)
        raise
    return _poll_chain_step(token, step=0, people_read=people_read)


def poll_chain_continue(token: str, step: int, people_read: bool) -> dict[str, int]:
    """The next task of a chain: goes on from `step` if the chain still holds its lease."""
    if not work_lease_renew(POLL_LEASE, token, seconds=POLL_LEASE_SECONDS):
        logger.info("This poll's lease lapsed and another poll took over; it stops.")
        return {}
    return _poll_chain_step(token, step=step, people_read=people_read)


def _poll_chain_step(token, *, step: int, people_read: bool) -> dict[str, int]:
    try:
        counts, next_step = poll_steps(
            step=step, people_read=people_read, page_limit=POLL_PAGES_PER_TASK
        )
    except BaseException:
        work_lease_release(POLL_LEASE, token)
        raise
    if next_step is None:
        work_lease_release(POLL_LEASE, token)
    else:
        transaction.on_commit(
            lambda: async_task("sync.tasks.poll_continue_task", str(token), next_step, people_read)
        )
    return counts


def connection_resumed() -> dict:
    """After PM is connected or reconnected: resthooks under a new secret, a poll, and
    every link that waited for the connection queued again. Nothing was lost meanwhile:
    links kept their state, LA's changes were taken in, and the poll reads PM from where
    it stopped (a pass half read starts afresh: its place was an address of the old
    connection's)."""
    from .switch import sync_switch_decide

    # Before the first poll: a firm whose systems hold records starts paused.
    sync_switch_decide()
    registered: list[str] = []
    try:
        registered = pm_resthooks_ensure(renew=True)
    except ConnectorError as error:
        logger.warning("Could not register the PM resthooks: %s", error.message)
    PollCursor.objects.filter(system=System.PM).update(resume_url="", pass_started_at=None)
    polled = poll_chain_start(now=True)
    return {"resthooks": registered, "polled": polled, "queued": links_resume()}
