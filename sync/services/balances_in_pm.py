"""Matter balances written into the matter in PM, where a PM user sees them
(ARCHITECTURE §2 "Matter balances": "the hub writes them onto the matter in PM
(Actionstep's data collections on the action)").

- One collection, "Legal Accounting balances", per action type, with one field per
  figure (`FIELDS`), made by the hub when PM does not have it; one record per matter.
- Each balance refresh writes only the figures that differ from what the hub last wrote
  there (`MatterBalance.pm_written`): an unchanged matter costs PM no request at all.
  "As of" goes with them: it is when the figures PM shows were read, written when one
  of them changes (writing it on every read would cost a request a matter a refresh).
- The first write of a matter costs a few requests (its action type, the collection and
  its fields, its record); the record's id is kept, so later writes are one PUT a
  figure that changed. Every call spends the shared PM request budget.
- Writing into PM never fails a refresh: the reason is kept on the balance
  (`pm_error`) and shown on the matter's page; the next refresh tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from matters.models import MatterBalance
from sync.connectors import pm_client
from sync.connectors.actionstep import datacollections as dc
from sync.connectors.base import ConnectorError
from sync.models import Link

from .connection import pm_connected
from .switch import sync_live

logger = logging.getLogger(__name__)

COLLECTION_NAME = "LegalAccountingBalances"
COLLECTION_LABEL = "Legal Accounting balances"
COLLECTION_DESCRIPTION = (
    "The matter's balances in Legal Accounting, written by the PM ⇄ LA integration hub "
    "each time it reads them. Changes made here are overwritten."
)


@dataclass(frozen=True)
class BalanceField:
    name: str  # the PM field's name (fixed once made), part of its composite id
    data_type: str
    label: str
    balance_attribute: str


FIELDS = (
    BalanceField("TrustBalance", "Money", "Trust balance", "trust"),
    BalanceField("UnbilledFees", "Money", "Unbilled time (WIP fees)", "wip_fees"),
    BalanceField("UnbilledDisbursements", "Money", "Unbilled disbursements", "wip_disbursements"),
    BalanceField("Receivables", "Money", "Accounts receivable", "accounts_receivable"),
    BalanceField("UnallocatedCredit", "Money", "Unallocated credit", "unallocated_credit"),
    BalanceField("Currency", "Str255", "Currency", "currency"),
    BalanceField("AsOf", "DateTime", "As of", "as_of"),
)
AS_OF = "AsOf"


def balance_string_values(balance: MatterBalance) -> dict[str, str]:
    """Each PM field's `stringValue`: money to the cent, the time in the firm's zone."""
    values = {}
    for field in FIELDS:
        value = getattr(balance, field.balance_attribute)
        if isinstance(value, Decimal):
            text = f"{value.quantize(Decimal('0.01'))}"
        elif field.balance_attribute == "as_of":
            text = timezone.localtime(value).isoformat(timespec="seconds") if value else ""
        else:
            text = str(value or "")
        values[field.name] = text
    return values


def _collection_ensure(client, action_type: str) -> str:
    """The id of the balances collection of `action_type`, with every field; made (and
    completed) when PM lacks it."""
    found = dc.collection_find(client, name=COLLECTION_NAME, action_type=action_type)
    if found is None:
        found = dc.collection_create(
            client,
            name=COLLECTION_NAME,
            label=COLLECTION_LABEL,
            description=COLLECTION_DESCRIPTION,
            action_type=action_type,
        )
    collection_id = str(found["id"])
    have = {str(row.get("name")) for row in dc.fields_of(client, collection_id)}
    for order, field in enumerate(FIELDS, start=1):
        if field.name not in have:
            dc.field_create(
                client,
                collection_id=collection_id,
                name=field.name,
                data_type=field.data_type,
                label=field.label,
                form_order=order,
            )
    return collection_id


def _record_ensure(client, action_id: str) -> tuple[str, str] | None:
    """(collection id, record id) of the matter's balances record, made if missing;
    None when PM no longer has the matter."""
    action_type = dc.action_type_id(client, action_id)
    if action_type is None:
        return None
    collection_id = _collection_ensure(client, action_type)
    found = dc.record_find(client, collection_id=collection_id, action_id=action_id)
    if found is None:
        try:
            found = dc.record_create(client, collection_id=collection_id, action_id=action_id)
        except ConnectorError as error:
            # Another refresh of the same matter made it meanwhile (one record a matter).
            found = dc.record_find(client, collection_id=collection_id, action_id=action_id)
            if found is None:
                raise error from None
    return collection_id, str(found["id"])


def _changed_figures(balance: MatterBalance) -> dict[str, str]:
    wanted = balance_string_values(balance)
    written = balance.pm_written or {}
    return {
        name: text for name, text in wanted.items() if name != AS_OF and written.get(name) != text
    }


def balance_write_due(balance: MatterBalance) -> bool:
    """Whether a write into PM would send anything: figures read, and a record not yet
    made there or a figure that differs from what the hub last wrote."""
    return balance.as_of is not None and (
        not balance.pm_record_id or bool(_changed_figures(balance))
    )


def matter_balance_write_to_pm(*, balance: MatterBalance) -> str:
    """Write the balance's figures that changed into the matter in PM; answers what it
    did, for logs and tests. Never raises for PM's answer: a failure is kept on the
    balance (`pm_error`) and the next refresh tries again."""
    if balance.as_of is None:
        return "not read from LA yet"
    pm_id = Link.objects.filter(matter_id=balance.matter_id).values_list("pm_id", flat=True).first()
    if not pm_id:
        return "not linked to PM"
    if not pm_connected():
        return "PM not connected"
    if not sync_live():
        return "sync paused"  # written at the first refresh after going live
    wanted = balance_string_values(balance)
    written = dict(balance.pm_written or {})
    changed = _changed_figures(balance)
    if balance.pm_record_id and not changed:
        return "unchanged"
    changed[AS_OF] = wanted[AS_OF]
    client = pm_client()
    fields = {}
    try:
        if not (balance.pm_record_id and balance.pm_data_collection_id):
            located = _record_ensure(client, pm_id)
            if located is None:
                return _failed(balance, "The matter is no longer in Practice Management.")
            collection_id, record_id = located
            fields.update(pm_data_collection_id=collection_id, pm_record_id=record_id)
            balance.pm_data_collection_id, balance.pm_record_id = collection_id, record_id
            written, changed = {}, wanted  # a record found or made: write every figure
        for name, text in changed.items():
            dc.value_write(
                client,
                dc.value_id(balance.pm_data_collection_id, name, balance.pm_record_id),
                text,
            )
            written[name] = text
    except ConnectorError as error:
        if dc.is_gone(error):
            # The record or a field went away in PM: find or make them again next time.
            fields.update(pm_data_collection_id="", pm_record_id="")
        MatterBalance.objects.filter(pk=balance.pk).update(pm_written=written, **fields)
        return _failed(balance, error.message)
    now = timezone.now()
    MatterBalance.objects.filter(pk=balance.pk).update(
        pm_written=written, pm_written_at=now, pm_error="", pm_error_at=None, **fields
    )
    balance.pm_written, balance.pm_written_at, balance.pm_error = written, now, ""
    return f"wrote {len(changed)}"


def _failed(balance: MatterBalance, message: str) -> str:
    now = timezone.now()
    MatterBalance.objects.filter(pk=balance.pk).update(pm_error=message, pm_error_at=now)
    balance.pm_error, balance.pm_error_at = message, now
    logger.warning("Balances of matter %s not written into PM: %s", balance.matter_id, message)
    return f"failed: {message}"
