"""Keep PM's resthooks and LA's webhook subscription pointed at this hub.

PM disables a resthook the first time it gets an answer other than 200 (as Actionstep
does), so every polling pass checks the hooks and registers again what it finds
disabled or missing. Polling covers whatever was missed meanwhile.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse

from sync.connectors import la_client, pm_client
from sync.connectors.base import ConnectorError

from ..models import System
from .changes import KNOWN_EVENTS, poll_all

logger = logging.getLogger(__name__)

ACTIVE = "Active"


def hub_url(name: str) -> str:
    return settings.HUB_BASE_URL.rstrip("/") + reverse(name)


def pm_resthooks_ensure() -> list[str]:
    """Register a PM resthook for each event that has no active one here. Answers the
    events registered."""
    target = hub_url("webhook-pm")
    active = set()
    for hook in pm_client().list_all("resthooks"):
        if hook.get("targetUrl") != target:
            continue
        if hook.get("status") == ACTIVE:
            active.add(hook["eventName"])
        else:
            # PM disabled it after a failed delivery; it never wakes up again.
            pm_client().call("DELETE", f"resthooks/{hook['id']}")
    registered = []
    for event in sorted(KNOWN_EVENTS[System.PM] - active):
        pm_client().resthook_register(event, target)
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


def poll_pass() -> dict[str, int]:
    """Check the webhook registrations, then poll both systems (the scheduled pass)."""
    for ensure in (pm_resthooks_ensure, la_webhooks_ensure):
        try:
            ensure()
        except ConnectorError as error:
            logger.warning("Could not check webhook registrations: %s", error.message)
    return poll_all()
