"""REST hook delivery: PM tells registered clients that records changed.

The reference files list no event names; the emulator knows the seven in
`RestHook.Event` (ParticipantCreated/Updated, ActionCreated/Updated,
TimeEntryCreated/Updated/Deleted).

A change is announced once its transaction commits (`transaction.on_commit`, sandbox
alias); each active hook for the event then gets its own django-q2 task, so a slow
client delays only itself. The POST body is JSON:

    {"event": "ParticipantUpdated", "resource": "participants", "ids": [12],
     "timestamp": "2025-01-31T09:15:02+00:00"}

and it carries `X-PM-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with
`settings.SANDBOX_PM_WEBHOOK_SECRET`, and `X-PM-Event: <event>`. The body names ids
only: a receiver reads the records back through the API, so it never acts on a
stale copy.

As in Actionstep, any answer but 200 — or no answer within the timeout — disables
the hook; it receives nothing more until the client registers again.
"""

import hashlib
import hmac
import json
import logging

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from sandbox.routers import SANDBOX_DATABASE

from .models import RestHook

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 5


def resthook_signature(body: bytes) -> str:
    digest = hmac.new(settings.SANDBOX_PM_WEBHOOK_SECRET.encode(), body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def resthooks_announce(event: str, resource: str, ids: list[int]) -> None:
    """Queue a delivery to every active hook for `event` once the change commits."""
    body = json.dumps(
        {
            "event": event,
            "resource": resource,
            "ids": ids,
            "timestamp": timezone.localtime().isoformat(timespec="seconds"),
        },
        separators=(",", ":"),
    )

    def enqueue() -> None:
        hook_ids = RestHook.objects.filter(
            event_name=event, status=RestHook.Status.ACTIVE
        ).values_list("pk", flat=True)
        for hook_id in hook_ids:
            async_task("sandbox.pm.hooks.resthook_deliver", hook_id, body)

    transaction.on_commit(enqueue, using=SANDBOX_DATABASE)


def resthook_deliver(hook_id: int, body: str) -> None:
    """POST one announcement to one hook (a django-q2 task: it reloads and re-checks)."""
    hook = RestHook.objects.filter(pk=hook_id, status=RestHook.Status.ACTIVE).first()
    if hook is None:
        return
    raw = body.encode()
    event = json.loads(body)["event"]
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "sandbox-pm-resthooks/1",
        "X-PM-Event": event,
        "X-PM-Signature": resthook_signature(raw),
    }
    try:
        response = requests.post(
            hook.target_url, data=raw, headers=headers, timeout=DELIVERY_TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        status_code, problem = None, f"{type(error).__name__}: {error}"[:1000]
    else:
        status_code = response.status_code
        problem = "" if status_code == 200 else f"Answered {status_code}, not 200."
    changes = {
        "triggered_count": F("triggered_count") + 1,
        "triggered_last_at": timezone.now(),
        "last_status_code": status_code,
        "last_error": problem,
    }
    if problem:
        logger.info("REST hook %s disabled: %s", hook_id, problem)
        changes["status"] = RestHook.Status.DISABLED
    RestHook.objects.filter(pk=hook_id).update(**changes)
