"""Outgoing webhooks: LA tells subscribers that contacts changed or time was billed.

Rules and decisions:

- An event is published from inside the service's transaction and leaves only after
  it commits (`transaction.on_commit(..., using="sandbox")`): a rolled-back change is
  never announced.
- Each subscriber gets its own django-q2 task (`webhook_deliver`), so a slow receiver
  does not hold up the others. The task takes ids and plain data, never model objects.
- The body is `{"id": <event uuid>, "event", "occurred_at", "data": {...ids...}}`; the
  same event keeps the same `id` for every subscriber, so receivers can deduplicate.
- `X-LA-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact body bytes with
  `settings.SANDBOX_LA_WEBHOOK_SECRET`.
- One attempt per event and subscriber, with a short timeout; every attempt is
  recorded as a `WebhookDelivery`. LA does not retry: receivers catch up by polling
  lists with `modified_since` (ARCHITECTURE §4.2).
"""

import hashlib
import hmac
import json
import time
import uuid

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from sandbox.routers import SANDBOX_DATABASE

from .models import Webhook, WebhookDelivery

EVENTS = frozenset(Webhook.Event.values)
# (connect, read) seconds: a receiver that cannot answer in this time has failed.
DELIVERY_TIMEOUT = (3.05, 5)


def signature_for(body: bytes) -> str:
    digest = hmac.new(settings.SANDBOX_LA_WEBHOOK_SECRET.encode(), body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def event_publish(*, event: str, data: dict) -> None:
    """Announce `event` to its subscribers once the current sandbox transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"Unknown LA webhook event {event!r}.")
    event_id = str(uuid.uuid4())
    occurred_at = timezone.now().isoformat().replace("+00:00", "Z")

    def enqueue() -> None:
        for webhook in Webhook.objects.all():
            if event in webhook.events:
                async_task(
                    "sandbox.la.webhooks.webhook_deliver",
                    webhook.pk,
                    event_id,
                    event,
                    occurred_at,
                    data,
                    task_name=f"la-webhook-{event}-{event_id}-{webhook.pk}",
                )

    transaction.on_commit(enqueue, using=SANDBOX_DATABASE)


def webhook_deliver(
    webhook_id: int, event_id: str, event: str, occurred_at: str, data: dict
) -> int | None:
    """POST one event to one subscriber and record the attempt. Answers the status code."""
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        return None
    body = json.dumps(
        {"id": event_id, "event": event, "occurred_at": occurred_at, "data": data},
        separators=(",", ":"),
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-LA-Event": event,
        "X-LA-Delivery": event_id,
        "X-LA-Signature": signature_for(body),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        response = requests.post(webhook.url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
        status_code = response.status_code
        if not response.ok:
            error = f"The receiver answered {response.status_code}."
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    WebhookDelivery.objects.create(
        webhook=webhook,
        event_id=event_id,
        event=event,
        body=body.decode(),
        status_code=status_code,
        error=error,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    return status_code
