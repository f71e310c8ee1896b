"""Hub field ↔ PM (Actionstep) property, for participants and actions (ARCHITECTURE §2).

Written once and read both ways. Decisions where Actionstep has no matching property:
- The contact Reference is the participant property named by `PM_CONTACT_REFERENCE_FIELD`
  (default `importExternalReference`, "Import reference" in Actionstep: participants have
  no property called reference; docs/actionstep-fidelity.md).
- `displayName` is required when a participant is created (Actionstep's CreateParticipant)
  and read-only after: the hub sends Actionstep's own default, the company name or
  "Last, First".
- Title is `salutation`, Alias is `preferredName`; flags are "T"/"F".
- Countries are ISO codes in PM and names in the hub and LA (`countries.py`).
- Phones: PM has four numbered slots with a label each. The first slot labelled
  Business, Mobile, Home or Other maps to the hub's phone of that kind; further slots
  (and TXT/SMS) are not mapped. Writing a phone fills the slot that holds that label,
  else the first empty slot. Fax is its own property.
- Actions: the client is the first of `links.primaryParticipants`; relations come out
  as PM ids (`client`, `assigned_to`), which the engine turns into hub records.
"""

import datetime
from decimal import Decimal

from django.conf import settings

from sync.connectors.base import dig, put

from .countries import country_code, country_name

PHONE_SLOTS = range(1, 5)
PHONE_LABELS = {
    "phone_business": "Business",
    "phone_mobile": "Mobile",
    "phone_home": "Home",
    "phone_other": "Other",
}
FLAG_FIELDS = {"is_company"}
COUNTRY_FIELDS = {"physical_country", "mailing_country"}

PARTICIPANT = (
    ("is_company", "isCompany"),
    ("company_name", "companyName"),
    ("title", "salutation"),
    ("first_name", "firstName"),
    ("middle_name", "middleName"),
    ("last_name", "lastName"),
    ("suffix", "suffix"),
    ("alias", "preferredName"),
    ("email", "email"),
    ("physical_line1", "physicalAddressLine1"),
    ("physical_line2", "physicalAddressLine2"),
    ("physical_city", "physicalCity"),
    ("physical_state", "physicalStateProvince"),
    ("physical_post_code", "physicalPostCode"),
    ("physical_county", "physicalCounty"),
    ("physical_country", "links.physicalCountry"),
    ("mailing_line1", "mailingAddressLine1"),
    ("mailing_line2", "mailingAddressLine2"),
    ("mailing_city", "mailingCity"),
    ("mailing_state", "mailingStateProvince"),
    ("mailing_post_code", "mailingPostCode"),
    ("mailing_county", "mailingCounty"),
    ("mailing_country", "links.mailingCountry"),
    ("phone_fax", "fax"),
)

ACTION = (
    ("name", "name"),
    ("file_reference", "reference"),
    ("status", "status"),
    ("assigned_to", "links.assignedTo"),
)

# A template is not a live matter; the hub shows it as inactive.
ACTION_STATUS = {
    "Active": "active",
    "Inactive": "inactive",
    "Template": "inactive",
    "Closed": "closed",
}


def reference_field() -> str:
    """Where a participant keeps the contact Reference (a setting; see the module doc)."""
    return settings.PM_CONTACT_REFERENCE_FIELD


def participant_reference(payload: dict) -> str:
    return str(dig(payload, reference_field()) or "").strip()


def display_name(values: dict) -> str:
    """Actionstep's default display name: the company name, else "Last, First"."""
    if values.get("is_company") and values.get("company_name"):
        return values["company_name"]
    names = [values.get("last_name") or "", values.get("first_name") or ""]
    return ", ".join(name for name in names if name) or values.get("company_name") or ""


def participant_from_pm(payload: dict) -> dict:
    values = {"reference": participant_reference(payload)}
    for hub_name, pm_path in PARTICIPANT:
        value = dig(payload, pm_path)
        if hub_name in FLAG_FIELDS:
            value = value == "T"
        elif hub_name in COUNTRY_FIELDS:
            value = country_name(value or "")
        values[hub_name] = "" if value is None else value
    for hub_name, label in PHONE_LABELS.items():
        values[hub_name] = next(
            (
                payload.get(f"phone{n}Number") or ""
                for n in PHONE_SLOTS
                if _labelled(payload, n, label)
            ),
            "",
        )
    return values


def participant_to_pm(values: dict, current: dict | None = None, *, creating: bool = False) -> dict:
    """PM properties for `values`; `current` (the PM record) decides the phone slots."""
    payload: dict = {}
    if creating:
        payload["displayName"] = display_name(values) or "(no name)"
    if "reference" in values:
        put(payload, reference_field(), values["reference"])
    for hub_name, pm_path in PARTICIPANT:
        if hub_name not in values:
            continue
        value = values[hub_name]
        if hub_name in FLAG_FIELDS:
            value = "T" if value else "F"
        elif hub_name in COUNTRY_FIELDS:
            value = country_code(value)
        put(payload, pm_path, value)
    current = dict(current or {})
    for hub_name, label in PHONE_LABELS.items():
        if hub_name not in values:
            continue
        slot = _phone_slot(current, label)
        # An empty value clears the slot that holds its label, and never claims a free one.
        if slot is None or (not values[hub_name] and not _labelled(current, slot, label)):
            continue
        current[f"phone{slot}Label"] = label
        payload[f"phone{slot}Label"] = label
        payload[f"phone{slot}Number"] = values[hub_name]
        current[f"phone{slot}Number"] = values[hub_name]
    return payload


def _labelled(record: dict, slot: int, label: str) -> bool:
    return (record.get(f"phone{slot}Label") or "").lower() == label.lower()


def _phone_slot(current: dict, label: str) -> int | None:
    for n in PHONE_SLOTS:
        if _labelled(current, n, label):
            return n
    for n in PHONE_SLOTS:
        if not current.get(f"phone{n}Label") and not current.get(f"phone{n}Number"):
            return n
    return None


def action_from_pm(payload: dict) -> dict:
    values = {hub_name: dig(payload, pm_path) for hub_name, pm_path in ACTION}
    values["name"] = values["name"] or ""
    values["file_reference"] = values["file_reference"] or ""
    values["status"] = ACTION_STATUS.get(values["status"] or "Active", "active")
    clients = dig(payload, "links.primaryParticipants") or []
    if not isinstance(clients, list):
        clients = [clients]
    values["client"] = clients[0] if clients else None
    return values


def action_to_pm(values: dict) -> dict:
    payload: dict = {}
    statuses = {"active": "Active", "inactive": "Inactive", "closed": "Closed"}
    for hub_name, pm_path in ACTION:
        if hub_name not in values:
            continue
        value = values[hub_name]
        if hub_name == "status":
            value = statuses[value]
        put(payload, pm_path, value)
    return payload


def user_from_pm(user: dict, participants: dict[str, dict]) -> dict:
    """A PM user as the hub's timekeeper: its email (`emailAddress` on users, unlike
    participants), its name (from its participant, `include=participant`), whether it
    is active, and the participant id that `assignedTo` and a time entry's `owner` carry.
    """
    participant_id = str(dig(user, "links.participant") or user.get("id"))
    participant = participants.get(participant_id) or {}
    first, last = participant.get("firstName") or "", participant.get("lastName") or ""
    name = " ".join(part for part in (first, last) if part) or participant.get("displayName")
    email = (user.get("emailAddress") or user.get("email") or "").strip().lower()
    return {
        "email": email,
        "name": name or email,
        "pm_user_id": participant_id,
        "active": user.get("isActive", "T") not in ("F", False),
    }


TIME_ENTRY = (
    ("date", "timestampDate"),
    ("description", "description"),
    ("actual_hours", "actualHours"),
    ("billable_hours", "billableHours"),
    ("rate", "rateUnitPrice"),
    ("amount", "billableAmount"),
    ("billing_behaviour", "billingBehavior"),
    ("action", "links.action"),
    ("owner", "links.owner"),
)
BILLING_BEHAVIOUR = {"Bill": "bill", "Hide": "hide", "No charge": "no_charge"}
DECIMAL_FIELDS = {"actual_hours", "billable_hours", "rate", "amount"}


def time_entry_from_pm(payload: dict) -> dict:
    """A PM time entry in hub terms: Decimal hours and money, a date, and the PM ids of
    its action and owner (the engine turns those into hub records)."""
    values = {hub_name: dig(payload, pm_path) for hub_name, pm_path in TIME_ENTRY}
    for name in DECIMAL_FIELDS:
        values[name] = Decimal(str(values[name] if values[name] is not None else 0))
    values["date"] = datetime.date.fromisoformat(str(values["date"])[:10])
    values["description"] = values["description"] or ""
    values["billing_behaviour"] = BILLING_BEHAVIOUR.get(values["billing_behaviour"], "bill")
    return values
