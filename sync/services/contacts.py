"""Contacts, both ways between PM and LA (ARCHITECTURE §2 "Contacts").

- Created in PM → created in LA with the PM id; LA's number comes back to PM's Reference.
- Created in LA → created in PM, carrying the LA id in `importExternalReference`
  (`LA:<id>`) so a retried create finds the first one instead of making a second.
- A Reference with `*` or spaces is refused before any call; a clash is LA's 409,
  shown red with LA's message, and nothing is created.
- Closing a contact does not sync; billing defaults and vendor details stay in LA.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts.models import Contact, validate_reference
from sync.connectors import la_client, pm_client
from sync.connectors.actionstep import mapping as pm_mapping
from sync.connectors.legal_accounting import mapping as la_mapping
from sync.fields import CONTACT_FIELDS
from sync.models import Link, LinkStatus, RecordType
from sync.services.engine import (
    RecordAdapter,
    Remote,
    SyncBlocked,
    idempotency_key,
    remote_changed,
)

PM_RESOURCE = "participants"
LA_ID_PREFIX = "LA:"


def pm_remote(raw: dict) -> Remote:
    return Remote(id=str(raw["id"]), raw=raw, values=pm_mapping.participant_from_pm(raw))


def la_remote(raw: dict) -> Remote:
    return Remote(id=str(raw["id"]), raw=raw, values=la_mapping.from_la(la_mapping.CONTACT, raw))


class ContactAdapter(RecordAdapter):
    record_type = RecordType.CONTACT
    fields = CONTACT_FIELDS
    la_pm_id_field = "pm_contact_id"

    def check(self, record: Contact) -> None:
        try:
            validate_reference(record.reference)
        except ValidationError as error:
            raise SyncBlocked(
                f"Reference {record.reference!r}: {error.messages[0]}", code="invalid_reference"
            ) from error

    def pm_read(self, pm_id):
        raw = pm_client().get(PM_RESOURCE, pm_id)
        return pm_remote(raw) if raw else None

    def pm_find(self, link, record):
        found = pm_client().find(PM_RESOURCE, importExternalReference=LA_ID_PREFIX + link.la_id)
        return pm_remote(found[0]) if found else None

    def pm_create(self, values, link, record):
        payload = pm_mapping.participant_to_pm(values)
        payload["importExternalReference"] = LA_ID_PREFIX + link.la_id
        return pm_remote(pm_client().create(PM_RESOURCE, payload))

    def pm_update(self, remote, changes):
        payload = pm_mapping.participant_to_pm(changes, current=remote.raw)
        return pm_remote(pm_client().update(PM_RESOURCE, remote.id, payload))

    def la_read(self, la_id):
        return la_remote(la_client().contact_get(la_id))

    def la_find(self, link, record):
        raw = la_client().contact_find_by_pm_id(link.pm_id)
        return la_remote(raw) if raw else None

    def la_create(self, values, link, record):
        payload = la_mapping.to_la(la_mapping.CONTACT, values)
        if not payload.get("contact_number"):
            payload.pop("contact_number", None)
        payload["pm_contact_id"] = link.pm_id or ""
        raw = la_client().contact_create(payload, idempotency_key=idempotency_key(link, payload))
        return la_remote(raw)

    def la_update(self, remote, changes):
        payload = la_mapping.to_la(la_mapping.CONTACT, changes)
        return la_remote(la_client().contact_update(remote.id, payload))

    def la_remember_pm_id(self, remote, pm_id):
        la_client().contact_update(remote.id, {"pm_contact_id": pm_id})


ADAPTER = ContactAdapter()


def _hub_fields(values: dict) -> dict:
    names = {f.name for f in CONTACT_FIELDS}
    return {name: value for name, value in values.items() if name in names}


def _link_by_twin(system: str, remote: Remote) -> Link | None:
    """The link of a record whose twin we made: LA keeps the PM id in `pm_contact_id`,
    PM keeps the LA id in `importExternalReference`. A create whose answer was lost is
    recognised here, so it is linked instead of copied into the hub a second time."""
    if system == "la":
        other_field, other_id = "pm_id", remote.raw.get("pm_contact_id")
    else:
        reference = remote.raw.get("importExternalReference") or ""
        other_field = "la_id"
        other_id = (
            reference.removeprefix(LA_ID_PREFIX) if reference.startswith(LA_ID_PREFIX) else None
        )
    if not other_id:
        return None
    own_field = "la_id" if system == "la" else "pm_id"
    link = Link.objects.filter(
        record_type=RecordType.CONTACT, **{other_field: str(other_id)}
    ).first()
    if link is not None and getattr(link, own_field) is None:
        Link.objects.filter(pk=link.pk, **{f"{own_field}__isnull": True}).update(
            **{own_field: remote.id}
        )
        setattr(link, own_field, remote.id)
    return link


def contact_ingest(*, system: str, remote: Remote) -> tuple[Link, bool]:
    """Find or make the hub contact and link for a record seen in PM or LA.

    Answers (link, changed): `changed` is False when the record equals what the last
    sync left there, so there is nothing to do (the echo of our own write).
    """
    id_field = "pm_id" if system == "pm" else "la_id"
    snapshot_field = "pm_snapshot" if system == "pm" else "la_snapshot"
    link = Link.objects.filter(record_type=RecordType.CONTACT, **{id_field: remote.id}).first()
    if link is None:
        link = _link_by_twin(system, remote)
    if link is not None:
        return link, remote_changed(getattr(link, snapshot_field), remote.values)
    try:
        with transaction.atomic():
            contact = Contact.objects.create(**_hub_fields(remote.values))
            link = Link.objects.create(
                record_type=RecordType.CONTACT,
                contact=contact,
                status=LinkStatus.PENDING,
                message="New in " + ("PM" if system == "pm" else "LA") + "; sync queued.",
                **{id_field: remote.id, snapshot_field: _hub_fields(remote.values)},
            )
    except IntegrityError:
        # Another worker ingested the same record first: theirs is the one.
        link = Link.objects.get(record_type=RecordType.CONTACT, **{id_field: remote.id})
    return link, True
