"""Hub field ↔ LA field, for contacts and files (ARCHITECTURE §2 mapping tables).

Written once and read both ways. Relations come out as LA ids (`client`, `assigned_to`);
the engine turns them into hub records.
"""

import datetime
from decimal import Decimal

from sync.connectors.base import dig, put

ADDRESS_PARTS = ["line1", "line2", "city", "state", "post_code", "country"]

CONTACT = (
    ("reference", "contact_number"),
    ("kind", "kind"),
    ("is_company", "is_company"),
    ("company_name", "company_name"),
    ("title", "title"),
    ("first_name", "first_name"),
    ("middle_name", "middle_name"),
    ("last_name", "last_name"),
    ("suffix", "suffix"),
    ("alias", "alias"),
    ("email", "email"),
    *((f"physical_{part}", f"main_address.{part}") for part in ADDRESS_PARTS),
    *((f"mailing_{part}", f"additional_address.{part}") for part in ADDRESS_PARTS),
    ("phone_business", "phone_work"),
    ("phone_mobile", "phone_mobile"),
    ("phone_home", "phone_home"),
    ("phone_other", "phone_other"),
    ("phone_fax", "phone_fax"),
)

# Relations are LA ids here: `client` is LA's contact id, `assigned_to` a fee-earner id.
FILE = (
    ("name", "description"),
    ("file_reference", "file_number"),
    ("client", "contact"),
    ("assigned_to", "assigned_fee_earner"),
    ("open_date", "open_date"),
)

TEXT_DEFAULTS = {"is_company": False}
NULLABLE = {"client", "assigned_to", "open_date"}


def from_la(table, payload: dict) -> dict:
    values = {}
    for hub_name, la_path in table:
        value = dig(payload, la_path)
        if value is None:
            value = TEXT_DEFAULTS.get(hub_name, None if hub_name in NULLABLE else "")
        values[hub_name] = value
    return values


def to_la(table, values: dict) -> dict:
    payload: dict = {}
    for hub_name, la_path in table:
        if hub_name in values:
            put(payload, la_path, values[hub_name])
    return payload


def time_entry_from_la(payload: dict) -> dict:
    """An LA time entry in hub terms (LA has one `hours`: the billable hours)."""
    return {
        "date": datetime.date.fromisoformat(payload["date"]),
        "description": payload.get("description") or "",
        "billable_hours": Decimal(str(payload["hours"])),
        "rate": Decimal(str(payload["rate"])),
        "amount": Decimal(str(payload["amount"])),
        "billing_behaviour": payload["billing_behaviour"],
        "billed": payload.get("status") == "billed",
    }
