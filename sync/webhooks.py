"""Webhook receivers: authenticate, take the record ids, record, enqueue, answer 200 fast.

**PM resthooks** (`POST /webhooks/pm/<event>/<secret>/`). Actionstep signs nothing; a
delivery is PM's when its URL carries the secret the hub put in the hook's `targetUrl`
(compared in constant time). A wrong or missing secret answers 401 — which also makes
Actionstep delete a stale hook — and stores nothing. The body is the record, as JSON:API
`{"data": {"type", "id", ...}}` (what Actionstep's demo app reads) or as a GET answers it
(`{"participants": {...}}`, the older API wiki); only the ids are taken from it, at most
`MAX_IDS`, and they are read again from PM by the task: the body itself is never acted on.

**LA webhooks** (`POST /webhooks/la/`, our own contract): an HMAC-SHA256 signature of the
raw body in `X-LA-Signature` ("sha256=<hex>"); missing → 401, wrong → 403. A replay is
refused: each event's `id` is taken once (a second delivery answers 200 and does
nothing), and an event whose signed `occurred_at` is more than `LA_WEBHOOK_MAX_AGE`
from now is refused (LA sends at once and never retries; polling catches the rest).

Both: bodies over MAX_REQUEST_BODY_BYTES answer 413; bodies that are not JSON objects,
unknown events and records not named the way the system names them answer 400; the same
delivery received twice is stored once (a digest of it is unique), and only the validated
ids are stored. Receipts are pruned `WEBHOOK_RECEIPT_RETENTION_DAYS` after they arrived
(`sync.services.changes.webhook_receipts_prune`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from .models import PmConnection, System, WebhookReceipt
from .services.changes import KNOWN_EVENTS, PM_EVENTS

logger = logging.getLogger(__name__)

PM_RECEIVER_PATH = "/webhooks/pm/"
LA_SIGNATURE_HEADER = "X-LA-Signature"
# Ids taken from one delivery; a record beyond them is still found by polling.
MAX_IDS = 100
# How far an LA event's time may be from ours (LA sends at once and never retries).
LA_WEBHOOK_MAX_AGE = timedelta(minutes=5)


def la_signature_for(body: bytes) -> str:
    digest = hmac.new(settings.LA_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
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
    return isinstance(value, str) and 0 < len(value) <= 20 and value.isascii() and value.isdigit()


def _is_pm_id(resource: str, value) -> bool:
    """An id as PM writes it for `resource`: a number, or for action participants
    "<action>--<participant type>--<participant>"."""
    if resource == "actionparticipants" and isinstance(value, str):
        parts = value.split("--")
        return len(parts) == 3 and all(map(_is_id, parts))
    return _is_id(value)


def _body(request) -> tuple[bytes, JsonResponse | None]:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return b"", error(413, "too_large", "The body is larger than this receiver accepts.")
    return request.body, None


def _json_object(body: bytes) -> tuple[dict | None, JsonResponse | None]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None, error(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(payload, dict):
        return None, error(400, "invalid_body", "The body must be a JSON object.")
    return payload, None


def pm_delivery_ids(resource: str, payload: dict) -> list[str] | None:
    """The ids of the `resource` records a delivery names, in either shape Actionstep has
    been seen to send; None when it names none the right way."""
    data = payload.get("data", payload.get(resource))
    entries = data if isinstance(data, list) else [data]
    ids = []
    for entry in entries:
        if not isinstance(entry, dict):
            return None
        kind = entry.get("type")
        if kind is not None and kind != resource:
            return None
        if not _is_pm_id(resource, entry.get("id")):
            return None
        ids.append(str(entry["id"]))
    return list(dict.fromkeys(ids)) or None


def _store(
    system: str, event: str, payload: dict, body: bytes, *, key_of: bytes = b""
) -> JsonResponse:
    """Store the receipt and queue its task; the same delivery (by `key_of`, else the
    whole body) is stored once."""
    key = hashlib.sha256(f"{system}:{event}:".encode() + (key_of or body)).hexdigest()
    try:
        with transaction.atomic():
            receipt = WebhookReceipt.objects.create(
                system=system, event=event, payload=payload, dedupe_key=key
            )
            transaction.on_commit(lambda: async_task("sync.tasks.webhook_receipt_task", receipt.pk))
    except IntegrityError:
        return JsonResponse({"received": None, "duplicate": True}, status=200)
    return JsonResponse({"received": receipt.pk}, status=200)


@csrf_exempt
@require_POST
def pm_resthook(request, event: str, secret: str):
    expected = PmConnection.objects.filter(pk=1).values_list("resthook_secret", flat=True).first()
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        return error(401, "unknown_hook", "This address is not a resthook of this hub.")
    if event not in PM_EVENTS:
        return error(400, "unknown_event", f"Unknown event {event[:64]!r}.", field="event")
    body, refused = _body(request)
    if refused:
        return refused
    payload, refused = _json_object(body)
    if refused:
        return refused
    resource = PM_EVENTS[event]
    ids = pm_delivery_ids(resource, payload)
    if ids is None:
        return error(
            400,
            "invalid_body",
            f"The delivery must name {resource} records as `data` ({{type, id}}) "
            f"or as `{resource}`.",
            field="data",
        )
    if len(ids) > MAX_IDS:
        logger.warning(
            "PM %s delivery named %s records; took the first %s.", event, len(ids), MAX_IDS
        )
        ids = ids[:MAX_IDS]
    return _store(System.PM, event, {"ids": ids}, body)


def la_payload_problem(event: str, payload: dict) -> tuple[str, str] | None:
    """(field, message) when a known LA event does not name its records as LA does, or
    is not a fresh event with an id."""
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 100:
        return "id", "id must be the event's id (a string)."
    occurred = payload.get("occurred_at")
    moment = parse_datetime(occurred) if isinstance(occurred, str) else None
    if moment is None or timezone.is_naive(moment):
        return "occurred_at", "occurred_at must be an ISO 8601 time with its offset."
    if abs(timezone.now() - moment) > LA_WEBHOOK_MAX_AGE:
        return "occurred_at", "The event is too old (or too far ahead): a replay is refused."
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


def _la_validated(event: str, data: dict) -> dict:
    """Only what the task uses: the ids (LA's body is read again, never trusted)."""
    if event == "time_entries.billed":
        entries = list(dict.fromkeys(int(i) for i in data["time_entries"]))[:MAX_IDS]
        return {"event": event, "data": {"file": int(data["file"]), "time_entries": entries}}
    return {"event": event, "data": {"id": int(data["id"])}}


@csrf_exempt
@require_POST
def la_webhook(request):
    body, refused = _body(request)
    if refused:
        return refused
    signature = request.headers.get(LA_SIGNATURE_HEADER)
    if not signature:
        return error(401, "signature_missing", f"{LA_SIGNATURE_HEADER} is required.")
    if not hmac.compare_digest(signature.encode(), la_signature_for(body).encode()):
        return error(403, "signature_invalid", "The signature does not match the body.")
    payload, refused = _json_object(body)
    if refused:
        return refused
    event = payload.get("event")
    if not isinstance(event, str) or event not in KNOWN_EVENTS[System.LA]:
        return error(400, "unknown_event", f"Unknown event {str(event)[:64]!r}.", field="event")
    problem = la_payload_problem(event, payload)
    if problem:
        return error(400, "invalid_body", problem[1], field=problem[0])
    key = payload["id"].encode()
    return _store(System.LA, event, _la_validated(event, payload["data"]), body, key_of=key)
