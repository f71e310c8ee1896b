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

from django.conf import settings
from django.urls import reverse

from sync.connectors import la_client, pm_client
from sync.connectors.base import ConnectorError

from ..models import PmConnection, System
from ..webhooks import PM_RECEIVER_PATH
from .changes import KNOWN_EVENTS, links_resume, poll_all
from .connection import connection_keep_alive, pm_connected, pm_connection

logger = logging.getLogger(__name__)

ACTIVE = "Active"


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


def poll_pass() -> dict[str, int]:
    """The scheduled pass: keep the PM grant alive, check the webhook registrations,
    then poll both systems. While PM is not connected, only LA is polled."""
    ensures = [la_webhooks_ensure]
    if pm_connected():
        ensures.insert(0, pm_resthooks_ensure)
        try:
            connection_keep_alive()
        except ConnectorError as error:
            logger.warning("Could not refresh the PM connection: %s", error.message)
    for ensure in ensures:
        try:
            ensure()
        except ConnectorError as error:
            logger.warning("Could not check webhook registrations: %s", error.message)
    return poll_all()


def connection_resumed() -> dict:
    """After PM is connected or reconnected: resthooks under a new secret, a poll, and
    every link that waited for the connection queued again. Nothing was lost meanwhile:
    links kept their state, LA's changes were taken in, and the poll reads PM from where
    it stopped."""
    registered: list[str] = []
    try:
        registered = pm_resthooks_ensure(renew=True)
    except ConnectorError as error:
        logger.warning("Could not register the PM resthooks: %s", error.message)
    polled = poll_pass()
    return {"resthooks": registered, "polled": polled, "queued": links_resume()}
