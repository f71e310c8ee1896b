"""The field mapping as one table, read from the declarations (nothing is written twice):

- `sync/fields.py` says which hub fields each record type shares, with which system,
  who wins a conflict and which are set on creation only;
- `sync/connectors/actionstep/mapping.py` and `…/legal_accounting/mapping.py` hold each
  system's wire names.

The admin's field mapping page shows `mapping_rows()`; a red record's page uses
`hub_field_for()` to mark the field a system's refusal names (SyncEvent.details["field"],
LA's clash `field`), so the person fixing it sees which box to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from contacts.models import Contact
from matters.models import Matter

from .connectors.actionstep import mapping as pm_mapping
from .connectors.legal_accounting import mapping as la_mapping
from .fields import CONTACT_FIELDS, LA, MATTER_FIELDS, PM, SharedField
from .models import RecordType

SYSTEM_NAMES = {PM: "PM", LA: "LA"}
MODELS = {RecordType.CONTACT: Contact, RecordType.MATTER: Matter}
SHARED = {RecordType.CONTACT: CONTACT_FIELDS, RecordType.MATTER: MATTER_FIELDS}

# Why a hub field is not synced at all (ARCHITECTURE §2).
NOT_SYNCED = {
    (RecordType.CONTACT, "is_closed"): "closing a contact does not sync",
}
# PM names that no mapping tuple holds, because the hub reaches them another way.
PM_SPECIAL = {
    (RecordType.MATTER, "client"): "links.primaryParticipants (the first; set by actioncreate)",
    (RecordType.MATTER, "open_date"): "— (the hub takes createdTimestamp when it reads a matter)",
}
# Refusals that name a property of a request rather than of the record (actioncreate, a
# participant's required displayName).
PM_REQUEST_NAMES = {
    RecordType.CONTACT: {"displayName": "last_name"},
    RecordType.MATTER: {
        "actionName": "name",
        "fileReference": "file_reference",
        "assignedToParticipant": "assigned_to",
    },
}


@dataclass(frozen=True)
class MappingRow:
    record_type: str
    hub_field: str  # the hub's form field (a relation without "_id")
    label: str
    pm_field: str
    la_field: str
    direction: str
    owner: str
    create_only: str
    synced: bool
    note: str = ""


def form_field(name: str) -> str:
    """`client_id` in sync/fields.py is the `client` field of the hub's form."""
    return name.removesuffix("_id")


def _pm_names(record_type: str) -> dict[str, str]:
    if record_type == RecordType.CONTACT:
        names = dict(pm_mapping.PARTICIPANT)
        names["reference"] = pm_mapping.reference_field()
        for hub_name, label in pm_mapping.PHONE_LABELS.items():
            names[hub_name] = f"phone1-4Number (the slot labelled {label})"
        return names
    names = dict(pm_mapping.ACTION)
    names.update({hub: pm for (kind, hub), pm in PM_SPECIAL.items() if kind == record_type})
    return names


def _la_names(record_type: str) -> dict[str, str]:
    table = la_mapping.CONTACT if record_type == RecordType.CONTACT else la_mapping.FILE
    return dict(table)


def _direction(field: SharedField) -> str:
    systems = field.systems
    if systems == {PM, LA}:
        text = "PM ⇄ hub ⇄ LA"
    elif systems == {PM}:
        text = "PM ⇄ hub (LA has no such field)"
    else:
        text = "hub ⇄ LA (PM has no such field)"
    for system in sorted(field.create_only_in):
        if system == LA and systems == {LA}:
            text = "hub → LA"
        text += f"; {SYSTEM_NAMES[system]} takes it only when the record is created"
    return text


def mapping_rows() -> list[MappingRow]:
    """Every hub field of contacts and matters: each shared field of sync/fields.py with
    its PM and LA names, then the editable fields that are not synced."""
    rows = []
    for record_type, shared in SHARED.items():
        model = MODELS[record_type]
        pm_names, la_names = _pm_names(record_type), _la_names(record_type)
        for field in shared:
            name = form_field(field.name)
            rows.append(
                MappingRow(
                    record_type=record_type,
                    hub_field=name,
                    label=str(model._meta.get_field(name).verbose_name),
                    pm_field=pm_names.get(name, "—") if PM in field.systems else "—",
                    la_field=la_names.get(name, "—") if LA in field.systems else "—",
                    direction=_direction(field),
                    owner=SYSTEM_NAMES[field.owner],
                    create_only=", ".join(SYSTEM_NAMES[s] for s in sorted(field.create_only_in))
                    or "—",
                    synced=True,
                )
            )
        shared_names = {form_field(field.name) for field in shared}
        for model_field in model._meta.get_fields():
            editable = getattr(model_field, "editable", False) and not model_field.auto_created
            if not editable or model_field.name in shared_names:
                continue
            if getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            ):
                continue
            rows.append(
                MappingRow(
                    record_type=record_type,
                    hub_field=model_field.name,
                    label=str(model_field.verbose_name),
                    pm_field="—",
                    la_field="—",
                    direction="not synced",
                    owner="hub",
                    create_only="—",
                    synced=False,
                    note=NOT_SYNCED.get((record_type, model_field.name), "kept in the hub only"),
                )
            )
    return rows


def hub_field_for(record_type: str, system: str, wire_field: str | None) -> str | None:
    """The hub form field a system's refusal names (`contact_number` → `reference`,
    `main_address.post_code` → `physical_post_code`, PM's `importExternalReference` →
    `reference`); None when it names nothing the hub's form holds."""
    if not wire_field or record_type not in SHARED:
        return None
    wire_field = wire_field.strip().strip("/")
    if system == LA:
        names = _la_names(record_type)
    elif system == PM:
        names = _pm_names(record_type)
        special = PM_REQUEST_NAMES[record_type].get(wire_field)
        if special:
            return special
        # A pointer names the last part only: `links.assignedTo` comes as `assignedTo`.
        names = {**names, **{hub: pm.rsplit(".", 1)[-1] for hub, pm in names.items()}}
    else:
        names = {}
    for hub_name, wire_name in names.items():
        if wire_name == wire_field:
            return hub_name
    form_fields = {form_field(field.name) for field in SHARED[record_type]}
    return wire_field if wire_field in form_fields else None
