"""Contacts, both ways between PM and LA (ARCHITECTURE §2 "Contacts").

- Created in PM → created in LA with the PM id; LA's number comes back to PM's Reference.
- Created in LA → created in PM with LA's contact number as its Reference; that number
  is the marker by which a create whose answer was lost is found before it is repeated
  (`Link.pm_create_marker`).
- A Reference with `*` or spaces is refused before any call; a clash is LA's 409,
  shown red with LA's message, and nothing is created.
- Closing a contact does not sync; billing defaults and vendor details stay in LA.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from contacts.models import Contact, validate_reference
from sync.connectors import la_client, pm_client
from sync.connectors.actionstep import mapping as pm_mapping
from sync.connectors.legal_accounting import mapping as la_mapping
from sync.fields import CONTACT_FIELDS
from sync.links import seen_fields
from sync.models import Link, LinkStatus, RecordType
from sync.services.engine import (
    RecordAdapter,
    Remote,
    Seen,
    SyncBlocked,
    adapter_register,
    idempotency_key,
    remote_changed,
)

PM_RESOURCE = "participants"


def pm_remote(raw: dict) -> Remote:
    return Remote(id=str(raw["id"]), raw=raw, values=pm_mapping.participant_from_pm(raw))


def la_remote(raw: dict) -> Remote:
    return Remote(id=str(raw["id"]), raw=raw, values=la_mapping.from_la(la_mapping.CONTACT, raw))


class ContactAdapter(RecordAdapter):
    record_type = RecordType.CONTACT
    fields = CONTACT_FIELDS
    la_pm_id_field = "pm_contact_id"
    la_collection = "contacts"

    def check(self, record: Contact) -> None:
        try:
            validate_reference(record.reference)
        except ValidationError as error:
            raise SyncBlocked(
                f"Reference {record.reference!r}: {error.messages[0]}", code="invalid_reference"
            ) from error

    def pm_from_raw(self, raw):
        return pm_remote(raw)

    def la_from_raw(self, raw):
        return la_remote(raw)

    def pm_read(self, pm_id):
        raw = pm_client().get(PM_RESOURCE, pm_id)
        return pm_remote(raw) if raw else None

    def pm_marker(self, values, link, record) -> str:
        return values.get("reference") or ""

    def pm_find(self, link, record):
        """The participant this link's create made, found by its Reference (LA's number),
        leaving out participants already linked to other contacts: a person may have given
        a PM contact the same Reference, which is a clash, not this contact."""
        if not link.pm_create_marker:
            return None
        found = pm_client().find(
            PM_RESOURCE, **{pm_mapping.reference_field(): link.pm_create_marker}
        )
        ids = [str(raw["id"]) for raw in found]
        taken = set(
            Link.objects.filter(record_type=RecordType.CONTACT, pm_id__in=ids).values_list(
                "pm_id", flat=True
            )
        )
        free = [raw for raw in found if str(raw["id"]) not in taken]
        return pm_remote(free[0]) if free else None

    def pm_create(self, values, link, record):
        payload = pm_mapping.participant_to_pm(values, creating=True)
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


ADAPTER = adapter_register(ContactAdapter())


def _hub_fields(values: dict) -> dict:
    names = {f.name for f in CONTACT_FIELDS}
    return {name: value for name, value in values.items() if name in names}


def _twin_marker(system: str, remote: Remote) -> str | None:
    """What may show the record is one we are creating: LA keeps the PM id in
    `pm_contact_id`; a PM participant we create carries LA's number as its Reference."""
    marker = remote.raw.get("pm_contact_id") if system == "la" else remote.values.get("reference")
    return str(marker) if marker else None


def _twin_condition(system: str, markers: list[str]) -> Q:
    """Links of records whose twin in `system` would carry one of `markers`."""
    if system == "la":
        return Q(pm_id__in=markers)
    return Q(pm_id__isnull=True, pm_create_marker__in=markers)


def _link_marker(system: str, link: Link) -> str | None:
    """The marker a twin in `system` of this link's record would carry, if any."""
    if system == "la":
        return link.pm_id
    return link.pm_create_marker if link.pm_id is None and link.pm_create_marker else None


def _twin_link(system: str, marker: str) -> Link | None:
    return (
        Link.objects.filter(record_type=RecordType.CONTACT)
        .filter(_twin_condition(system, [marker]))
        .first()
    )


def _link_by_twin(system: str, remote: Remote) -> Link | None:
    """The link of a record whose twin we made. A create whose answer was lost (or whose
    webhook came before the answer) is recognised here, so it is linked instead of
    copied into the hub a second time."""
    marker = _twin_marker(system, remote)
    if marker is None:
        return None
    own_field = "la_id" if system == "la" else "pm_id"
    link = _twin_link(system, marker)
    if link is not None and getattr(link, own_field) is None:
        Link.objects.filter(pk=link.pk, **{f"{own_field}__isnull": True}).update(
            **{own_field: remote.id}
        )
        setattr(link, own_field, remote.id)
    return link


def _new_link(system: str, remote: Remote, contact: Contact) -> Link:
    """The pending link of a contact the hub has just made from `remote`."""
    return Link(
        record_type=RecordType.CONTACT,
        contact=contact,
        status=LinkStatus.PENDING,
        message="New in " + ("PM" if system == "pm" else "LA") + "; sync queued.",
        **{
            f"{system}_id": remote.id,
            f"{system}_snapshot": _hub_fields(remote.values),
            **seen_fields(system, remote.raw),
        },
    )


def _seen(link: Link, system: str, remote: Remote) -> Seen:
    snapshot = link.pm_snapshot if system == "pm" else link.la_snapshot
    return Seen.CHANGED if remote_changed(snapshot, remote.values) else Seen.UNCHANGED


def contact_ingest(*, system: str, remote: Remote) -> tuple[Link, Seen]:
    """Find or make the hub contact and link for a record seen in PM or LA.

    A new contact comes with its link, pending; a known one is CHANGED unless it equals
    what the last sync left there (the echo of our own write).
    """
    id_field = "pm_id" if system == "pm" else "la_id"
    link = Link.objects.filter(record_type=RecordType.CONTACT, **{id_field: remote.id}).first()
    if link is None:
        link = _link_by_twin(system, remote)
    if link is not None:
        return link, _seen(link, system, remote)
    try:
        with transaction.atomic():
            contact = Contact.objects.create(**_hub_fields(remote.values))
            link = _new_link(system, remote, contact)
            link.save(force_insert=True)
    except IntegrityError:
        # Another worker ingested the same record first: theirs is the one.
        link = Link.objects.get(record_type=RecordType.CONTACT, **{id_field: remote.id})
        return link, Seen.CHANGED
    return link, Seen.NEW


def contacts_ingest(*, system: str, remotes: list[Remote]) -> list[tuple[Link, Seen]]:
    """A page of records seen in PM or LA, taken in as `contact_ingest` takes one.

    Contacts new to the hub, with no twin we made, are created together: their rows and
    pending links in one transaction, a few queries for the page (a firm's first poll
    reads every contact it has). The others go one by one, and so does the whole page
    if another worker took some of it meanwhile.
    """
    id_field = "pm_id" if system == "pm" else "la_id"
    by_id = {remote.id: remote for remote in remotes}
    markers = {remote.id: _twin_marker(system, remote) for remote in remotes}
    condition = Q(**{f"{id_field}__in": list(by_id)})
    wanted = [marker for marker in markers.values() if marker]
    if wanted:
        condition |= _twin_condition(system, wanted)
    links = list(Link.objects.filter(record_type=RecordType.CONTACT).filter(condition))
    known = {getattr(link, id_field): link for link in links if getattr(link, id_field) in by_id}
    twins = {_link_marker(system, link) for link in links} - {None}
    fresh = [
        remote
        for remote_id, remote in by_id.items()
        if remote_id not in known and markers[remote_id] not in twins
    ]
    created: dict[str, Link] = {}
    if fresh:
        try:
            with transaction.atomic():
                made = Contact.objects.bulk_create(
                    Contact(**_hub_fields(remote.values)) for remote in fresh
                )
                links = Link.objects.bulk_create(
                    _new_link(system, remote, contact)
                    for remote, contact in zip(fresh, made, strict=True)
                )
            created = {remote.id: link for remote, link in zip(fresh, links, strict=True)}
        except IntegrityError:
            created = {}
    results = []
    for remote_id, remote in by_id.items():
        if remote_id in created:
            results.append((created[remote_id], Seen.NEW))
        elif remote_id in known:
            results.append((known[remote_id], _seen(known[remote_id], system, remote)))
        else:
            results.append(contact_ingest(system=system, remote=remote))
    return results
