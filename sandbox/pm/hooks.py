"""REST hook delivery: PM tells registered clients that a record changed.

Decisions (sources: docs/actionstep-fidelity.md section 1):

- **Events fired.** The services fire ParticipantCreated/Updated, ActionCreated/Updated,
  ActionParticipantAdded/Deleted, TimeEntryCreated/Updated, DataCollectionRecordUpdated,
  DataCollectionRecordValueUpdated and DataCollectionRecordDeleted, names from
  docs.actionstep.com/webhooks. Nothing is fired when a time entry is deleted: real
  Actionstep has no such event (no TimeEntryDeleted, ParticipantDeleted or ActionDeleted
  in any list). The other documented events can be registered but never fire here.
- **One POST per record per hook**, to the exact `targetUrl` (its query string kept: the
  old wiki's example registers `...?callback_id=12345`).
- **Body**: the JSON:API shape Actionstep's demo app and two consumers read
  (ResthookResponseDto.cs; settleeasy webhook DTOs; rogan-mocke reads `meta.debug.resthook`):

      {"data": {"type": "actions", "id": "123", "attributes": {...},
                "relationships": {"assignedTo": {"data": {"type": "participants", "id": "10"}}}},
       "meta": {"debug": {"resthook": {"id": 42, "event_name": "ActionCreated"}}}}

  `attributes` are what a GET answers for the record at the moment of the change; for
  ActionParticipantDeleted, the record as it was before deletion (what real Actionstep
  sends for a deletion is UNKNOWN).
- **Unsigned.** No public source documents a signature, a secret or a verification
  header; a receiver protects itself with a secret in its own `targetUrl`, as the wiki's
  `callback_id` suggests. Headers: `Content-Type: application/json` (UNKNOWN for real
  Actionstep) and `User-Agent: sandbox-pm-resthooks/1`.
- **Answers** (demo-app page; old wiki REST Hooks): 200 is success; **401 deletes the
  hook** (status `Deleted`: "replying with a 401 ... we'll delete the rest hook"); any
  other status, no answer within 5 s (timeout UNKNOWN for real Actionstep) or a
  connection error **disables** it ("If Actionstep receives any other response code it
  will automatically disable the REST hook"). No retries (none documented). A Disabled
  or Deleted hook receives nothing until it is registered (or PUT) again.
- **When.** The record is rendered when the service announces the change; the POSTs are
  queued once the transaction commits (`transaction.on_commit`, sandbox alias), one
  django-q2 task per hook, so a slow client delays only itself.
"""

import json
import logging
from typing import Any

import requests
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from sandbox.routers import SANDBOX_DATABASE

from . import selectors, wire_format
from .models import RestHook

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 5

# How each resource's record is read and rendered for a delivery.
RENDERERS = {
    "participants": (selectors.participant_list, wire_format.PARTICIPANTS),
    "actions": (selectors.action_list, wire_format.ACTIONS),
    "actionparticipants": (selectors.action_participant_list, wire_format.ACTION_PARTICIPANTS),
    "timeentries": (selectors.time_entry_list, wire_format.TIME_ENTRIES),
    "datacollectionrecords": (
        selectors.data_collection_record_list,
        wire_format.DATA_COLLECTION_RECORDS,
    ),
    "datacollectionrecordvalues": (
        selectors.data_collection_record_value_list,
        wire_format.DATA_COLLECTION_RECORD_VALUES,
    ),
}


def resthooks_announce(event: str, resource: str, pk: Any) -> None:
    """Render record `pk` now and queue a delivery to every active hook for `event`
    once the change commits. Call it before deleting the record for a deletion event."""
    hook_ids = list(
        RestHook.objects.filter(event_name=event, status=RestHook.Status.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    if not hook_ids:
        return
    records, wire = RENDERERS[resource]
    data = wire_format.resthook_data(wire, wire.render(records().get(pk=pk)))

    def enqueue() -> None:
        for hook_id in hook_ids:
            async_task("sandbox.pm.hooks.resthook_deliver", hook_id, event, data)

    transaction.on_commit(enqueue, using=SANDBOX_DATABASE)


def resthook_body(hook_id: int, event: str, data: dict) -> bytes:
    meta = {"debug": {"resthook": {"id": hook_id, "event_name": event}}}
    return json.dumps({"data": data, "meta": meta}, separators=(",", ":")).encode()


def resthook_deliver(hook_id: int, event: str, data: dict) -> None:
    """POST one record to one hook (a django-q2 task: it reloads and re-checks)."""
    hook = RestHook.objects.filter(pk=hook_id, status=RestHook.Status.ACTIVE).first()
    if hook is None:
        return
    headers = {"Content-Type": "application/json", "User-Agent": "sandbox-pm-resthooks/1"}
    try:
        response = requests.post(
            hook.target_url,
            data=resthook_body(hook_id, event, data),
            headers=headers,
            timeout=DELIVERY_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        status_code, problem = None, f"{type(error).__name__}: {error}"[:1000]
    else:
        status_code = response.status_code
        problem = "" if status_code == 200 else f"Answered {status_code}, not 200."
    changes: dict[str, Any] = {
        "triggered_count": F("triggered_count") + 1,
        "triggered_last_at": timezone.now(),
        "last_status_code": status_code,
        "last_error": problem,
    }
    if status_code == 401:
        changes["status"] = RestHook.Status.DELETED
    elif problem:
        changes["status"] = RestHook.Status.DISABLED
    if problem:
        logger.info("REST hook %s now %s: %s", hook_id, changes["status"], problem)
    RestHook.objects.filter(pk=hook_id).update(**changes)
