"""Matters: PM → LA with the matter number written back (ARCHITECTURE §2 "Matters").

- The client contact is synced first; a matter whose client is red is red with
  "client contact not linked: <reason>".
- LA generates the matter number; it comes back to PM's File Reference. A number
  typed by hand that LA already holds is LA's 409, shown red; nothing is created.
- Open Date and Responsible/Lead are sent to LA only on creation.
- Matters are created in PM first. One created in the hub's admin is created in PM
  through `actioncreate` with the action type PM_ACTION_TYPE_ID, then in LA.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import IntegrityError, transaction

from matters.models import Matter
from sync.connectors import la_client, pm_client
from sync.connectors.actionstep import mapping as pm_mapping
from sync.connectors.base import ConnectorError, ErrorKind
from sync.connectors.legal_accounting import mapping as la_mapping
from sync.fields import MATTER_FIELDS
from sync.links import link_for, seen_fields
from sync.models import Link, LinkStatus, RecordType
from sync.services.contacts import contact_ingest
from sync.services.contacts import la_remote as contact_la_remote
from sync.services.contacts import pm_remote as contact_pm_remote
from sync.services.engine import (
    LA_ID_PREFIX,
    RecordAdapter,
    Remote,
    Seen,
    SyncBlocked,
    SyncHeld,
    adapter_register,
    idempotency_key,
    record_sync,
    remote_changed,
)
from timekeeping.models import Timekeeper

PM_RESOURCE = "actions"


# What one sync pass of a matter has looked up already: a pass maps the same client and
# timekeepers several times (PM's copy, LA's copy, the payloads it sends). None outside
# a pass, so ingest and other callers always read the database.
_looked_up: ContextVar[dict | None] = ContextVar("matter_pass_lookups", default=None)


@contextmanager
def _lookups_for_one_pass():
    token = _looked_up.set({})
    try:
        yield
    finally:
        _looked_up.reset(token)


def _remembered(key: tuple, lookup):
    memo = _looked_up.get()
    if memo is None:
        return lookup()
    if key not in memo:
        memo[key] = lookup()
    return memo[key]


def _contact_id_for(system: str, foreign_id) -> int | None:
    """The hub contact for a PM participant or LA contact id, ingesting it if new."""
    if foreign_id in (None, ""):
        return None
    foreign_id = str(foreign_id)
    return _remembered(
        ("contact", system, foreign_id), lambda: _contact_id_lookup(system, foreign_id)
    )


def _contact_id_lookup(system: str, foreign_id: str) -> int:
    id_field = "pm_id" if system == "pm" else "la_id"
    link = Link.objects.filter(record_type=RecordType.CONTACT, **{id_field: foreign_id}).first()
    if link is None:
        if system == "pm":
            remote = contact_pm_remote(pm_client().get("participants", foreign_id))
        else:
            remote = contact_la_remote(la_client().contact_get(foreign_id))
        link, seen = contact_ingest(system=system, remote=remote)
        from sync.services import link_seen_queue

        message = "Client of a matter; sync queued."
        link_seen_queue(link, seen, system=system, raw=remote.raw, message=message)
    return link.contact_id


def _timekeeper(field: str, value) -> Timekeeper | None:
    """The timekeeper whose `field` ("pk", "pm_user_id", "la_fee_earner_id") is `value`;
    in a pass, remembered under each of its ids once read by any of them."""
    if value in (None, ""):
        return None
    key = ("timekeeper", field, str(value))
    memo = _looked_up.get()
    if memo is not None and key in memo:
        return memo[key]
    timekeeper = Timekeeper.objects.filter(**{field: value}).first()
    if memo is not None:
        memo[key] = timekeeper
        if timekeeper is not None:
            _remember_timekeeper(memo, timekeeper)
    return timekeeper


def _remember_timekeeper(memo: dict, timekeeper: Timekeeper) -> None:
    for field in ("pk", "pm_user_id", "la_fee_earner_id"):
        value = getattr(timekeeper, field)
        if value not in (None, ""):
            memo[("timekeeper", field, str(value))] = timekeeper


def _timekeeper_id_for(system: str, foreign_id) -> int | None:
    timekeeper = _timekeeper("pm_user_id" if system == "pm" else "la_fee_earner_id", foreign_id)
    return timekeeper.pk if timekeeper else None


def pm_remote(raw: dict) -> Remote:
    values = pm_mapping.action_from_pm(raw)
    hub = {
        "name": values["name"],
        "file_reference": values["file_reference"],
        "status": values["status"],
        "client_id": _contact_id_for("pm", values["client"]),
        "assigned_to_id": _timekeeper_id_for("pm", values["assigned_to"]),
    }
    return Remote(id=str(raw["id"]), raw=raw, values=hub)


def la_remote(raw: dict) -> Remote:
    values = la_mapping.from_la(la_mapping.FILE, raw)
    hub = {
        "name": values["name"],
        "file_reference": values["file_reference"],
        "client_id": _contact_id_for("la", values["client"]),
        "assigned_to_id": _timekeeper_id_for("la", values["assigned_to"]),
        "open_date": values["open_date"],
    }
    return Remote(id=str(raw["id"]), raw=raw, values=hub)


def _fee_earner_id(timekeeper_id: int | None) -> str | None:
    """LA's fee-earner id for a timekeeper, matched by email and remembered."""
    timekeeper = _timekeeper("pk", timekeeper_id)
    if timekeeper is None:
        return None
    if timekeeper.la_fee_earner_id:
        return timekeeper.la_fee_earner_id
    found = la_client().fee_earner_find_by_email(timekeeper.email)
    if found is None:
        return None
    timekeeper.la_fee_earner_id = str(found["id"])
    Timekeeper.objects.filter(pk=timekeeper.pk).update(la_fee_earner_id=timekeeper.la_fee_earner_id)
    memo = _looked_up.get()
    if memo is not None:
        _remember_timekeeper(memo, timekeeper)
    return timekeeper.la_fee_earner_id


def _client_link(matter: Matter) -> Link:
    """The link of the matter's client (loaded with the matter by the engine)."""
    try:
        return matter.client.link
    except Link.DoesNotExist:
        return _remembered(("client link", matter.client_id), lambda: link_for(matter.client))


class MatterAdapter(RecordAdapter):
    record_type = RecordType.MATTER
    fields = MATTER_FIELDS
    la_pm_id_field = "pm_matter_id"
    la_collection = "files"

    def hub_values(self, record: Matter) -> dict:
        values = super().hub_values(record)
        values["open_date"] = record.open_date.isoformat() if record.open_date else None
        return values

    def hub_apply(self, record: Matter, values: dict) -> bool:
        values = dict(values)
        if values.get("open_date"):
            values["open_date"] = datetime.date.fromisoformat(values["open_date"])
        if values.get("client_id") is None:
            values.pop("client_id", None)
        return super().hub_apply(record, values)

    def pass_scope(self):
        return _lookups_for_one_pass()

    def prepare(self, link: Link, record: Matter) -> None:
        """Dependency order: the client contact is synced before the matter."""
        client_link = _client_link(record)
        if client_link.needs_decision and not client_link.la_id:
            # Its client waits for an admin's decision (onboarding); so does the matter,
            # or it would be created in LA for a client LA may hold already.
            raise SyncHeld
        if client_link.status != LinkStatus.SYNCED or not client_link.la_id:
            record_sync(client_link.pk)
            client_link.refresh_from_db()
        memo = _looked_up.get()
        if memo is not None:  # the ids PM's and LA's copies of the matter name
            memo[("contact", "pm", client_link.pm_id)] = client_link.contact_id
            memo[("contact", "la", client_link.la_id)] = client_link.contact_id
        if client_link.status == LinkStatus.ERROR:
            raise SyncBlocked(
                f"client contact not linked: {client_link.message}", code="client_not_linked"
            )
        if client_link.status != LinkStatus.SYNCED or not client_link.la_id:
            raise ConnectorError(
                message="client contact not linked yet: "
                + (client_link.message or "its sync is still running"),
                kind=ErrorKind.TRANSIENT,
                system="la",
                code="client_pending",
            )

    def pm_from_raw(self, raw):
        return pm_remote(raw)

    def la_from_raw(self, raw):
        return la_remote(raw)

    def pm_read(self, pm_id):
        raw = pm_client().get(PM_RESOURCE, pm_id)
        return pm_remote(raw) if raw else None

    def pm_marker(self, values, link, record) -> str:
        return f"{LA_ID_PREFIX}{link.la_id}" if link.la_id else ""

    def pm_find(self, link, record):
        marker = link.pm_create_marker or self.pm_marker({}, link, record)
        if not marker:
            return None
        found = pm_client().find(PM_RESOURCE, importExternalReference=marker)
        if not found:
            return None
        if not (found[0].get("links") or {}).get("primaryParticipants"):
            # The create went through but adding the client did not: finish it.
            pm_client().action_client_add(str(found[0]["id"]), _client_link(record).pm_id)
            return self.pm_read(str(found[0]["id"]))
        return pm_remote(found[0])

    def pm_create(self, values, link, record):
        """`actioncreate` with the File Reference as `fileReference` (Actionstep creates
        matters only there), then the client as an `actionparticipants` link of the
        client participant type, which makes it the action's primary participant."""
        client_link = _client_link(record)
        assigned = self._pm_user(values.get("assigned_to_id"))
        payload = {
            "actionName": values["name"],
            "links": {"actionType": str(settings.PM_ACTION_TYPE_ID)},
        }
        if values.get("file_reference"):
            payload["fileReference"] = values["file_reference"]
        if assigned:
            payload["links"]["assignedToParticipant"] = assigned
        if link.pm_create_marker:
            payload["importExternalReference"] = link.pm_create_marker
        action_id = pm_client().action_create(payload)
        pm_client().action_client_add(action_id, client_link.pm_id)
        return self.pm_read(action_id)

    def _pm_user(self, timekeeper_id) -> str | None:
        timekeeper = _timekeeper("pk", timekeeper_id)
        return str(timekeeper.pm_user_id) if timekeeper and timekeeper.pm_user_id else None

    def pm_update(self, remote, changes):
        values = {k: v for k, v in changes.items() if k in {"name", "file_reference", "status"}}
        if "assigned_to_id" in changes:
            values["assigned_to"] = self._pm_user(changes["assigned_to_id"])
        payload = pm_mapping.action_to_pm(values)
        # Actionstep's OpenAPI file updates actions with PATCH.
        raw = pm_client().update(PM_RESOURCE, remote.id, payload, method="PATCH")
        return pm_remote(raw)

    def la_read(self, la_id):
        return la_remote(la_client().file_get(la_id))

    def la_find(self, link, record):
        raw = la_client().file_find_by_pm_id(link.pm_id)
        return la_remote(raw) if raw else None

    def _la_payload(self, values: dict, record: Matter) -> dict:
        payload = {}
        if "name" in values:
            payload["description"] = values["name"]
        if values.get("file_reference"):
            payload["file_number"] = values["file_reference"]
        if "client_id" in values:
            payload["contact"] = int(_client_link(record).la_id)
        if "assigned_to_id" in values:
            payload["assigned_fee_earner"] = _fee_earner_id(values["assigned_to_id"])
        return payload

    def la_create(self, values, link, record):
        payload = self._la_payload(values, record)
        fee_earner = payload.get("assigned_fee_earner")
        payload.update(
            pm_matter_id=link.pm_id or "",
            responsible_fee_earner=fee_earner,
            lead_fee_earner=fee_earner,
            open_date=values.get("open_date") or datetime.date.today().isoformat(),
        )
        payload = {k: v for k, v in payload.items() if v is not None}
        raw = la_client().file_create(payload, idempotency_key=idempotency_key(link, payload))
        return la_remote(raw)

    def la_remember_pm_id(self, remote, pm_id):
        la_client().file_update(remote.id, {"pm_matter_id": pm_id})

    def la_update(self, remote, changes):
        payload = self._la_payload(changes, Matter.objects.get(link__la_id=remote.id))
        return la_remote(la_client().file_update(remote.id, payload))


ADAPTER = adapter_register(MatterAdapter())


def _link_by_marker(remote: Remote) -> Link | None:
    """The link of an action the hub is creating in PM (its answer lost, or its resthook
    first), known by the import reference the hub gave it; PM's id is stored on it."""
    marker = remote.raw.get("importExternalReference") or ""
    if not marker.startswith(LA_ID_PREFIX):
        return None
    link = Link.objects.filter(
        record_type=RecordType.MATTER, pm_id__isnull=True, pm_create_marker=marker
    ).first()
    if link is not None:
        Link.objects.filter(pk=link.pk, pm_id__isnull=True).update(
            pm_id=remote.id, pm_create_marker=""
        )
        link.pm_id, link.pm_create_marker = remote.id, ""
    return link


def matter_ingest(*, remote: Remote) -> tuple[Link, Seen]:
    """Find or make the hub matter and link for an action seen in PM (see `Seen`)."""
    link = Link.objects.filter(record_type=RecordType.MATTER, pm_id=remote.id).first()
    if link is None:
        link = _link_by_marker(remote)
    if link is not None:
        changed = remote_changed(link.pm_snapshot, remote.values)
        return link, Seen.CHANGED if changed else Seen.UNCHANGED
    values = remote.values
    if values["client_id"] is None:
        raise SyncBlocked(f"PM matter {remote.id} has no client.", code="no_client")
    created = (remote.raw.get("createdTimestamp") or "")[:10]
    try:
        with transaction.atomic():
            matter = Matter.objects.create(
                name=values["name"],
                file_reference=values["file_reference"],
                status=values["status"],
                client_id=values["client_id"],
                assigned_to_id=values["assigned_to_id"],
                open_date=datetime.date.fromisoformat(created) if created else None,
            )
            link = Link.objects.create(
                record_type=RecordType.MATTER,
                matter=matter,
                pm_id=remote.id,
                pm_snapshot=values,
                **seen_fields("pm", remote.raw),
                status=LinkStatus.PENDING,
                message="New in PM; sync queued.",
            )
    except IntegrityError:
        link = Link.objects.get(record_type=RecordType.MATTER, pm_id=remote.id)
        return link, Seen.CHANGED
    return link, Seen.NEW
