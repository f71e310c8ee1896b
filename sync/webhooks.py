"""Webhook receivers for PM resthooks and LA webhooks: verify, record, enqueue, answer.

A request is accepted only with a valid HMAC-SHA256 signature of its raw body
(`X-PM-Signature` / `X-LA-Signature`, "sha256=<hex>"): missing → 401, wrong → 403,
and nothing is stored. Bodies over MAX_REQUEST_BODY_BYTES, bodies that are not a JSON
object, unknown events, and events whose record ids are not the shape the system sends
(PM: `ids`, a list of ids; LA: `data.id`, or `data.file` and `data.time_entries` for a
billing) answer 400/413 and change nothing, so no receipt is stored that its task could
only fail on. An accepted event is
stored as a WebhookReceipt and processed by a task after the answer, so the sender
never waits on PM or LA.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from .models import System, WebhookReceipt
from .services.changes import KNOWN_EVENTS

SIGNATURE_HEADERS = {System.PM: "X-PM-Signature", System.LA: "X-LA-Signature"}


def _secret(system: str) -> str:
    return settings.PM_WEBHOOK_SECRET if system == System.PM else settings.LA_WEBHOOK_SECRET


def signature_for(system: str, body: bytes) -> str:
    digest = hmac.new(_secret(system).encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(
        {
            "error": {
                "code": code,
                "message": message,
                "fields": {field: [message]} if field else {},
            }
        },
        status=status,
    )


def _is_id(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isascii() and value.isdigit()


def payload_problem(system: str, event: str, payload: dict) -> tuple[str, str] | None:
    """(field, message) when a known event does not name its records as the system does."""
    if system == System.PM:
        ids = payload.get("ids")
        if not isinstance(ids, list) or not ids or not all(map(_is_id, ids)):
            return "ids", "ids must be a non-empty list of record ids."
        return None
    data = payload.get("data")
    if not isinstance(data, dict):
        return "data", "data must be an object naming the records."
    if event == "time_entries.billed":
        entries = data.get("time_entries")
        if not isinstance(entries, list) or not all(map(_is_id, entries)):
            return "data.time_entries", "data.time_entries must be a list of ids."
        if not _is_id(data.get("file")):
            return "data.file", "data.file must be an id."
    elif not _is_id(data.get("id")):
        return "data.id", "data.id must be an id."
    return None


def receive(request, system: str):
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return error(413, "too_large", "The body is larger than this receiver accepts.")
    body = request.body
    signature = request.headers.get(SIGNATURE_HEADERS[system])
    if not signature:
        return error(401, "signature_missing", f"{SIGNATURE_HEADERS[system]} is required.")
    if not hmac.compare_digest(signature, signature_for(system, body)):
        return error(403, "signature_invalid", "The signature does not match the body.")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return error(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(payload, dict):
        return error(400, "invalid_body", "The body must be a JSON object.")
    event = payload.get("event")
    if not isinstance(event, str) or event not in KNOWN_EVENTS[system]:
        return error(400, "unknown_event", f"Unknown event {str(event)[:64]!r}.", field="event")
    problem = payload_problem(system, event, payload)
    if problem:
        return error(400, "invalid_body", problem[1], field=problem[0])
    with transaction.atomic():
        receipt = WebhookReceipt.objects.create(system=system, event=event, payload=payload)
        transaction.on_commit(lambda: async_task("sync.tasks.webhook_receipt_task", receipt.pk))
    return JsonResponse({"received": receipt.pk}, status=200)


@csrf_exempt
@require_POST
def pm_webhook(request):
    return receive(request, System.PM)


@csrf_exempt
@require_POST
def la_webhook(request):
    return receive(request, System.LA)
