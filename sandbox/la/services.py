"""LA's business rules. Views, admin and seed all write through these functions.

Rules enforced here (ARCHITECTURE §2 unless noted):

- Contact numbers: unique, no `*` and no whitespace. Blank means LA assigns the next
  number of the contact's kind from its own sequence: clients `25`, vendors `V~123`,
  others `O~7`. Numbers already taken by hand are skipped.
- File numbers: unique. Blank means LA assigns one by the numbering in `LASettings`:
  firm-wide `000123`, or per client `<contact number>-<001>`.
- Foreign ids (`pm_contact_id`, `pm_matter_id`) are unique when set: a second create
  with the same foreign id is refused with 409 naming the holder, which is how the
  hub avoids duplicates (ARCHITECTURE §4.1).
- A clash answers 409 naming the field, the value and the record that holds it.
- Time entries: `external_id` (the PM time entry id) is the idempotency key of the
  batch create; a billed entry is locked.
- Billing, payments and trust movements lock the file row, so two at once cannot both
  read the same balance (a trust withdrawal can never overdraw).
- Concurrency: every numbering call locks its `NumberSequence` row with
  `select_for_update` inside `transaction.atomic(using="sandbox")` and keeps the lock
  until the numbered record is saved; the unique constraints are the final guard. An
  `IntegrityError` from them is turned back into the 409 naming the holder, or, for a
  number LA chose itself and a rival took by hand meanwhile, into the next free number.
- Webhooks are published from inside the transaction and sent after commit
  (`webhooks.event_publish`). Imports (`contacts_import`, used by the seed) send none.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from sandbox.routers import SANDBOX_DATABASE

from .amounts import ZERO, amount_for, round_hours, round_money
from .errors import BadRequest, Conflict, Invalid, Locked, first_error
from .models import (
    Contact,
    FeeEarner,
    File,
    Invoice,
    InvoiceLine,
    LASettings,
    LedgerTransaction,
    NumberSequence,
    TimeEntry,
    Webhook,
)
from .serializers import TimeEntryItemInput
from .webhooks import EVENTS, event_publish

DB = SANDBOX_DATABASE
BATCH_LIMIT = 100

CONTACT_NUMBER_PREFIXES = {
    Contact.Kind.CLIENT: "",
    Contact.Kind.VENDOR: "V~",
    Contact.Kind.OTHER: "O~",
}


# Numbering ------------------------------------------------------------------------------


def _number_next(
    *, sequence: str, render: Callable[[int], str], taken: Callable[[str], bool]
) -> str:
    """The next number of `sequence` that `taken` says is free.

    Call inside `transaction.atomic(using=DB)`: the sequence row stays locked until the
    caller's transaction ends, so no concurrent caller can be handed the same number.
    """
    row, _ = NumberSequence.objects.select_for_update().get_or_create(name=sequence)
    value = row.last_value
    while True:
        value += 1
        candidate = render(value)
        if not taken(candidate):
            break
    row.last_value = value
    row.save(update_fields=["last_value"])
    return candidate


def _contact_number_taken(number: str) -> bool:
    return Contact.objects.filter(contact_number=number).exists()


def _file_number_taken(number: str) -> bool:
    return File.objects.filter(file_number=number).exists()


def contact_number_next(*, kind: str) -> str:
    prefix = CONTACT_NUMBER_PREFIXES[kind]
    return _number_next(
        sequence=f"contact:{kind}",
        render=lambda value: f"{prefix}{value}",
        taken=_contact_number_taken,
    )


def file_number_next(*, contact: Contact) -> str:
    if LASettings.load().file_numbering == LASettings.FileNumbering.PER_CLIENT:
        prefix = contact.contact_number
        return _number_next(
            sequence=f"file:contact:{contact.pk}",
            render=lambda value: f"{prefix}-{value:03d}",
            taken=_file_number_taken,
        )
    return _number_next(
        sequence="file:firm", render=lambda value: f"{value:06d}", taken=_file_number_taken
    )


# Shared checks --------------------------------------------------------------------------


def _save_or_clash(
    instance: models.Model,
    *,
    check: Callable[[], None],
    renumber: Callable[[], bool] | None = None,
    attempts: int = 3,
) -> None:
    """Save; if a unique constraint refuses, let `check` name the holder (409).

    `renumber` is for a number LA chose itself: when a concurrent request committed the
    same number by hand after LA looked, it hands out the next free one (answering
    True) and the save is tried again, so a client that asked for "any number" never
    gets a clash.
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=DB):
                instance.save()
            return
        except IntegrityError:
            if renumber is not None and attempt < attempts and renumber():
                continue
            check()
            raise


def _changes(instance: models.Model, data: dict) -> dict:
    return {name: value for name, value in data.items() if getattr(instance, name) != value}


def _optional_id(value) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


# Contacts -------------------------------------------------------------------------------


def _contact_conflict(*, field: str, label: str, value: str, holder: Contact) -> Conflict:
    return Conflict(
        f"{label} {value} is already assigned to {holder.display_name or holder.contact_number}",
        field=field,
        value=value,
        conflict={
            "id": holder.pk,
            "name": holder.display_name,
            "contact_number": holder.contact_number,
        },
    )


def contact_number_validate(*, number: str) -> None:
    """A contact number may not contain `*` or spaces (ARCHITECTURE §2 "Contacts")."""
    if "*" in number or any(char.isspace() for char in number):
        raise Invalid(
            f"contact number {number!r} may not contain '*' or spaces",
            field="contact_number",
            value=number,
        )


def contact_uniques_check(
    *, contact_number: str, pm_contact_id: str | None, contact: Contact | None = None
) -> None:
    """Refuse a contact number or PM contact id that another contact holds (409)."""
    others = Contact.objects.all()
    if contact is not None and contact.pk is not None:
        others = others.exclude(pk=contact.pk)
    if contact_number:
        holder = others.filter(contact_number=contact_number).first()
        if holder is not None:
            raise _contact_conflict(
                field="contact_number", label="contact number", value=contact_number, holder=holder
            )
    if pm_contact_id is not None:
        holder = others.filter(pm_contact_id=pm_contact_id).first()
        if holder is not None:
            raise _contact_conflict(
                field="pm_contact_id", label="PM contact id", value=pm_contact_id, holder=holder
            )


def contact_check(*, data: dict, contact: Contact | None = None) -> None:
    """Refuse `data` for a new contact (or changes to `contact`) that break a rule.

    Raises `Invalid` (422) or `Conflict` (409 naming the contact holding the value).
    """
    number = (data.get("contact_number") or "").strip()
    if number:
        contact_number_validate(number=number)
    contact_uniques_check(
        contact_number=number,
        pm_contact_id=_optional_id(data.get("pm_contact_id")),
        contact=contact,
    )

    def current(name: str):
        if name in data:
            return data[name]
        return getattr(contact, name) if contact is not None else ""

    if current("is_company"):
        if not current("company_name"):
            raise Invalid("a company needs a company name", field="company_name")
    elif not (current("first_name") or current("last_name")):
        raise Invalid("a person needs a first or last name", field="last_name")


def _contact_clean(data: dict, *, updating: bool = False) -> dict:
    """Strip numbers and ids. On a change a blank contact number means "keep it": a
    number is never removed, and a client that has not learnt it yet may send blank."""
    data = dict(data)
    if "contact_number" in data:
        data["contact_number"] = (data["contact_number"] or "").strip()
        if updating and not data["contact_number"]:
            del data["contact_number"]
    if "pm_contact_id" in data:
        data["pm_contact_id"] = _optional_id(data["pm_contact_id"])
    return data


def _contact_uniques_recheck(contact: Contact) -> None:
    contact_uniques_check(
        contact_number=contact.contact_number,
        pm_contact_id=contact.pm_contact_id,
        contact=contact,
    )


def _contact_event_data(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "contact_number": contact.contact_number,
        "pm_contact_id": contact.pm_contact_id,
    }


def contact_create(*, data: dict) -> Contact:
    """Create a contact, numbering it when `contact_number` is blank; fires contact.created."""
    data = _contact_clean(data)
    with transaction.atomic(using=DB):
        contact_check(data=data)
        contact = Contact(**data)
        renumber = None
        if not contact.contact_number:
            contact.contact_number = contact_number_next(kind=contact.kind)

            def renumber() -> bool:
                if not Contact.objects.filter(contact_number=contact.contact_number).exists():
                    return False
                contact.contact_number = contact_number_next(kind=contact.kind)
                return True

        _save_or_clash(contact, check=lambda: _contact_uniques_recheck(contact), renumber=renumber)
        event_publish(event="contact.created", data=_contact_event_data(contact))
    return contact


def contact_update(*, contact: Contact, data: dict) -> Contact:
    """Change a contact. A change that changes nothing touches nothing and fires nothing,
    so a receiver that writes back what it was sent does not start an echo loop
    (ARCHITECTURE §4.3). Otherwise fires contact.updated with the changed fields."""
    data = _contact_clean(data, updating=True)
    with transaction.atomic(using=DB):
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        changes = _changes(contact, data)
        if not changes:
            return contact
        contact_check(data=changes, contact=contact)
        for name, value in changes.items():
            setattr(contact, name, value)
        _save_or_clash(contact, check=lambda: _contact_uniques_recheck(contact))
        event_publish(
            event="contact.updated",
            data={**_contact_event_data(contact), "fields": sorted(changes)},
        )
    return contact


def contacts_import(*, rows: Iterable[dict], batch_size: int = 500) -> list[Contact]:
    """Create many contacts at once and announce none of them (the seed's path).

    Numbers given are checked like `contact_create` checks them (characters, clashes
    with LA and within the import); blank ones are handed out from the same sequences
    in one locked pass per kind. The rows' other fields are trusted.
    """
    contacts = [Contact(**_contact_clean(row)) for row in rows]
    with transaction.atomic(using=DB):
        in_use = set(Contact.objects.values_list("contact_number", flat=True))
        given: set[str] = set()
        for number in (contact.contact_number for contact in contacts if contact.contact_number):
            contact_number_validate(number=number)
            if number in in_use:
                contact_uniques_check(contact_number=number, pm_contact_id=None)
            if number in given:
                raise Invalid(
                    f"contact number {number} appears twice in the import", field="contact_number"
                )
            given.add(number)
        in_use |= given
        for kind, prefix in CONTACT_NUMBER_PREFIXES.items():
            unnumbered = [c for c in contacts if not c.contact_number and c.kind == kind]
            if not unnumbered:
                continue
            row, _ = NumberSequence.objects.select_for_update().get_or_create(
                name=f"contact:{kind}"
            )
            value = row.last_value
            for contact in unnumbered:
                value += 1
                while f"{prefix}{value}" in in_use:
                    value += 1
                contact.contact_number = f"{prefix}{value}"
                in_use.add(contact.contact_number)
            row.last_value = value
            row.save(update_fields=["last_value"])
        return Contact.objects.bulk_create(contacts, batch_size=batch_size)


# Fee earners ----------------------------------------------------------------------------


def fee_earner_check(*, email: str, fee_earner: FeeEarner | None = None) -> None:
    """Emails are unique ignoring case: time is matched to its fee earner by email."""
    others = FeeEarner.objects.all()
    if fee_earner is not None:
        others = others.exclude(pk=fee_earner.pk)
    holder = others.filter(email__iexact=email).first()
    if holder is not None:
        raise Conflict(
            f"email {email} is already used by fee earner {holder.name}",
            field="email",
            value=email,
            conflict={"id": holder.pk, "name": holder.name, "email": holder.email},
        )


def fee_earner_create(*, name: str, email: str) -> FeeEarner:
    email = email.strip()
    with transaction.atomic(using=DB):
        fee_earner_check(email=email)
        fee_earner = FeeEarner(name=name, email=email)
        _save_or_clash(fee_earner, check=lambda: fee_earner_check(email=email))
    return fee_earner


def fee_earner_update(*, fee_earner: FeeEarner, data: dict) -> FeeEarner:
    with transaction.atomic(using=DB):
        fee_earner = FeeEarner.objects.select_for_update().get(pk=fee_earner.pk)
        changes = _changes(fee_earner, data)
        if not changes:
            return fee_earner
        if "email" in changes:
            fee_earner_check(email=changes["email"], fee_earner=fee_earner)
        for name, value in changes.items():
            setattr(fee_earner, name, value)
        _save_or_clash(
            fee_earner,
            check=lambda: fee_earner_check(email=fee_earner.email, fee_earner=fee_earner),
        )
    return fee_earner


# Files ----------------------------------------------------------------------------------


def _file_conflict(*, field: str, label: str, value: str, holder: File) -> Conflict:
    return Conflict(
        f"{label} {value} is already assigned to file {holder.file_number} ({holder.description})",
        field=field,
        value=value,
        conflict={
            "id": holder.pk,
            "file_number": holder.file_number,
            "description": holder.description,
        },
    )


def file_uniques_check(
    *, file_number: str, pm_matter_id: str | None, file: File | None = None
) -> None:
    """Refuse a file number or PM matter id another file holds (409 naming that file)."""
    others = File.objects.all()
    if file is not None and file.pk is not None:
        others = others.exclude(pk=file.pk)
    if file_number:
        holder = others.filter(file_number=file_number).first()
        if holder is not None:
            raise _file_conflict(
                field="file_number", label="file number", value=file_number, holder=holder
            )
    if pm_matter_id is not None:
        holder = others.filter(pm_matter_id=pm_matter_id).first()
        if holder is not None:
            raise _file_conflict(
                field="pm_matter_id", label="PM matter id", value=pm_matter_id, holder=holder
            )


def file_check(*, data: dict, file: File | None = None) -> None:
    """Refuse `data` for a new file (or changes to `file`) that break a rule."""
    number = (data.get("file_number") or "").strip()
    if "description" in data and not (data["description"] or "").strip():
        raise Invalid("a file needs a description", field="description")
    file_uniques_check(
        file_number=number, pm_matter_id=_optional_id(data.get("pm_matter_id")), file=file
    )


def _file_uniques_recheck(file: File) -> None:
    file_uniques_check(file_number=file.file_number, pm_matter_id=file.pm_matter_id, file=file)


def _file_clean(data: dict, *, updating: bool = False) -> dict:
    """Strip numbers and ids; on a change a blank file number means "keep it", and a
    null open date means today on creation and "keep it" on a change."""
    data = dict(data)
    if "open_date" in data and data["open_date"] is None:
        del data["open_date"]
    if "file_number" in data:
        data["file_number"] = (data["file_number"] or "").strip()
        if updating and not data["file_number"]:
            del data["file_number"]
    if "pm_matter_id" in data:
        data["pm_matter_id"] = _optional_id(data["pm_matter_id"])
    return data


def file_create(*, data: dict) -> File:
    """Create a file for `data["contact"]`, numbering it when `file_number` is blank.

    Responsible and lead fee earners default to the assigned one: PM's "Assigned to"
    sets all three on creation (ARCHITECTURE §2 "Matters").
    """
    data = _file_clean(data)
    if data.get("contact") is None:
        raise Invalid("a file needs a contact", field="contact")
    with transaction.atomic(using=DB):
        file_check(data=data)
        file = File(**data)
        if file.assigned_fee_earner_id:
            file.responsible_fee_earner_id = (
                file.responsible_fee_earner_id or file.assigned_fee_earner_id
            )
            file.lead_fee_earner_id = file.lead_fee_earner_id or file.assigned_fee_earner_id
        renumber = None
        if not file.file_number:
            file.file_number = file_number_next(contact=file.contact)

            def renumber() -> bool:
                if not File.objects.filter(file_number=file.file_number).exists():
                    return False
                file.file_number = file_number_next(contact=file.contact)
                return True

        _save_or_clash(file, check=lambda: _file_uniques_recheck(file), renumber=renumber)
    return file


def file_update(*, file: File, data: dict) -> File:
    data = _file_clean(data, updating=True)
    with transaction.atomic(using=DB):
        file = File.objects.select_for_update().get(pk=file.pk)
        changes = _changes(file, data)
        if not changes:
            return file
        if "contact" in changes and changes["contact"] is None:
            raise Invalid("a file needs a contact", field="contact")
        file_check(data=changes, file=file)
        for name, value in changes.items():
            setattr(file, name, value)
        _save_or_clash(file, check=lambda: _file_uniques_recheck(file))
    return file


# Time entries ---------------------------------------------------------------------------


def _time_entry_clean(data: dict, *, entry: TimeEntry | None = None) -> dict:
    """Round hours, and price the entry at hours x rate when no amount was sent
    (amounts.py). On a change, a new hours or rate re-prices it unless an amount came
    too, and so does an amount sent empty.
    """
    data = dict(data)
    if "external_id" in data:
        data["external_id"] = _optional_id(data["external_id"])
    if data.get("hours") is not None:
        data["hours"] = round_hours(data["hours"])
    repriced = {"hours", "rate", "amount"} & set(data)
    if data.get("amount") is None and (entry is None or repriced):
        hours = data.get("hours", entry.hours if entry else None)
        rate = data.get("rate", entry.rate if entry else None)
        data["amount"] = amount_for(hours=hours, rate=rate)
    return data


def time_entry_check(*, data: dict, time_entry: TimeEntry | None = None) -> None:
    external_id = _optional_id(data.get("external_id"))
    if external_id is None:
        return
    others = TimeEntry.objects.all()
    if time_entry is not None:
        others = others.exclude(pk=time_entry.pk)
    holder = others.filter(external_id=external_id).first()
    if holder is not None:
        raise Conflict(
            f"external id {external_id} is already assigned to time entry {holder.pk}",
            field="external_id",
            value=external_id,
            conflict={"id": holder.pk, "file": holder.file_id},
        )


def time_entry_create(*, data: dict) -> TimeEntry:
    """Create one unbilled time entry (`data` holds `file` and `fee_earner` objects)."""
    data = _time_entry_clean(data)
    with transaction.atomic(using=DB):
        time_entry_check(data=data)
        entry = TimeEntry(**data)
        _save_or_clash(entry, check=lambda: time_entry_check(data=data))
        _balance_changed(entry.file_id)
    return entry


@dataclass(frozen=True)
class BatchItemResult:
    index: int
    status: str  # "created" | "exists" | "error"
    id: int | None = None
    error: dict | None = None

    def as_dict(self) -> dict:
        return {"index": self.index, "status": self.status, "id": self.id, "error": self.error}


@dataclass(frozen=True)
class _BatchItem:
    external_id: str | None
    data: dict | None
    error: dict | None


def _batch_item_parse(item) -> _BatchItem:
    if not isinstance(item, dict):
        error = {"code": "invalid", "message": "each entry must be a JSON object", "field": None}
        return _BatchItem(external_id=None, data=None, error=error)
    raw = item.get("external_id")
    external_id = _optional_id(raw) if isinstance(raw, str | int) else None
    serializer = TimeEntryItemInput(data=item)
    if not serializer.is_valid():
        field, message, code = first_error(serializer.errors)
        error = {"code": code, "message": message, "field": field}
        return _BatchItem(external_id=external_id, data=None, error=error)
    return _BatchItem(external_id=external_id, data=serializer.validated_data, error=None)


def _missing(index: int, label: str, field: str, pk: int) -> BatchItemResult:
    error = {"code": "does_not_exist", "message": f"no {label} has id {pk}", "field": field}
    return BatchItemResult(index=index, status="error", error=error)


def time_entries_create_batch(*, entries) -> list[BatchItemResult]:
    """Create up to 100 time entries, answering one result per item, in order.

    - An item whose `external_id` already exists answers "exists" with the existing id
      and creates nothing (even if the item would now be refused), so a retried batch
      never duplicates time (ARCHITECTURE §4.1). The same external id twice in one batch
      is created once.
    - An item that fails (unknown file or fee earner, a bad value) answers "error" naming
      the field; the valid items of the same batch are still created.
    """
    if not isinstance(entries, list):
        raise BadRequest("send the time entries as a list under 'entries'", field="entries")
    if len(entries) > BATCH_LIMIT:
        raise BadRequest(
            f"a batch holds at most {BATCH_LIMIT} entries; this one has {len(entries)}",
            field="entries",
            code="too_many",
        )
    items = [_batch_item_parse(entry) for entry in entries]
    valid = [item.data for item in items if item.data is not None]
    files = File.objects.in_bulk({data["file"] for data in valid})
    fee_earners = FeeEarner.objects.in_bulk({data["fee_earner"] for data in valid})
    external_ids = {item.external_id for item in items if item.external_id}
    existing = dict(
        TimeEntry.objects.filter(external_id__in=external_ids).values_list("external_id", "pk")
    )

    results = []
    with transaction.atomic(using=DB):
        for index, item in enumerate(items):
            if item.external_id in existing:
                results.append(BatchItemResult(index, "exists", id=existing[item.external_id]))
                continue
            if item.error is not None:
                results.append(BatchItemResult(index, "error", error=item.error))
                continue
            file = files.get(item.data["file"])
            if file is None:
                results.append(_missing(index, "file", "file", item.data["file"]))
                continue
            fee_earner = fee_earners.get(item.data["fee_earner"])
            if fee_earner is None:
                results.append(_missing(index, "fee earner", "fee_earner", item.data["fee_earner"]))
                continue
            data = {**item.data, "file": file, "fee_earner": fee_earner}
            try:
                entry = time_entry_create(data=data)
            except Conflict as clash:  # a concurrent batch created it since we looked
                results.append(BatchItemResult(index, "exists", id=clash.extra["conflict"]["id"]))
                continue
            if item.external_id:
                existing[item.external_id] = entry.pk
            results.append(BatchItemResult(index, "created", id=entry.pk))
    return results


def time_entry_update(*, time_entry: TimeEntry, data: dict) -> TimeEntry:
    """Change an unbilled entry in LA (ARCHITECTURE §2 "Time": once sent, time is changed
    in LA only). A billed entry is locked (409 `locked`). Fires time_entry.updated."""
    with transaction.atomic(using=DB):
        entry = TimeEntry.objects.select_for_update().get(pk=time_entry.pk)
        _refuse_if_billed(entry)
        changes = _changes(entry, _time_entry_clean(data, entry=entry))
        if not changes:
            return entry
        time_entry_check(data=changes, time_entry=entry)
        moved_from = entry.file_id
        for name, value in changes.items():
            setattr(entry, name, value)
        _save_or_clash(entry, check=lambda: time_entry_check(data=changes, time_entry=entry))
        _balance_changed(moved_from, entry.file_id)
        event_publish(
            event="time_entry.updated",
            data={
                "id": entry.pk,
                "file": entry.file_id,
                "external_id": entry.external_id,
                "fields": sorted(changes),
            },
        )
    return entry


def time_entry_delete(*, time_entry: TimeEntry) -> None:
    with transaction.atomic(using=DB):
        entry = TimeEntry.objects.select_for_update().get(pk=time_entry.pk)
        _refuse_if_billed(entry)
        entry.delete()
        _balance_changed(entry.file_id)


def _refuse_if_billed(entry: TimeEntry) -> None:
    if entry.is_locked:
        raise Locked(
            f"time entry {entry.pk} is billed on invoice {entry.invoice.number} "
            "and can no longer be changed",
            invoice={"id": entry.invoice_id, "number": entry.invoice.number},
        )


# Billing and the ledger -----------------------------------------------------------------


def _file_locked(file: File) -> File:
    return File.objects.select_for_update().get(pk=file.pk)


def file_bill(*, file: File, issued_on: datetime.date | None = None) -> Invoice:
    """Bill a file's unbilled time and disbursements into one invoice and lock them.

    Entries with behaviour `bill` are billed at their amount; `hide` and `no_charge`
    entries are marked billed at zero. Fires time_entries.billed when time was billed.
    Nothing to bill answers 422 `nothing_to_bill`.
    """
    with transaction.atomic(using=DB):
        file = _file_locked(file)
        entries = list(
            file.time_entries.select_for_update()
            .filter(status=TimeEntry.Status.UNBILLED)
            .order_by("date", "pk")
        )
        disbursements = list(
            file.transactions.select_for_update()
            .filter(kind=LedgerTransaction.Kind.DISBURSEMENT, invoice__isnull=True)
            .order_by("date", "pk")
        )
        if not entries and not disbursements:
            raise Invalid(
                f"file {file.file_number} has no unbilled time or disbursements",
                code="nothing_to_bill",
            )
        number = _number_next(
            sequence="invoice",
            render=lambda value: f"INV-{value:06d}",
            taken=lambda candidate: Invoice.objects.filter(number=candidate).exists(),
        )
        lines = [
            InvoiceLine(
                time_entry=entry,
                description=entry.description,
                amount=entry.amount
                if entry.billing_behaviour == TimeEntry.BillingBehaviour.BILL
                else ZERO,
            )
            for entry in entries
        ] + [
            InvoiceLine(
                disbursement=disbursement,
                description=disbursement.description,
                amount=disbursement.amount,
            )
            for disbursement in disbursements
        ]
        invoice = Invoice.objects.create(
            file=file,
            number=number,
            issued_on=issued_on or timezone.localdate(),
            total=round_money(sum((line.amount for line in lines), ZERO)),
        )
        for line in lines:
            line.invoice = invoice
        InvoiceLine.objects.bulk_create(lines)
        now = timezone.now()
        TimeEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(
            status=TimeEntry.Status.BILLED, invoice=invoice, billed_at=now, modified_at=now
        )
        LedgerTransaction.objects.filter(pk__in=[d.pk for d in disbursements]).update(
            invoice=invoice
        )
        _balance_changed(file.pk)
        if entries:
            event_publish(
                event="time_entries.billed",
                data={
                    "file": file.pk,
                    "invoice": invoice.pk,
                    "time_entries": [entry.pk for entry in entries],
                    "external_ids": [entry.external_id for entry in entries],
                },
            )
    return invoice


def transaction_check(*, file: File, kind: str, amount: Decimal) -> Decimal:
    """Refuse a movement that breaks a rule; answer the part of a payment applied to
    accounts receivable. `transaction_record` calls it with the file row locked."""
    if kind not in LedgerTransaction.Kind.values:
        raise Invalid(f"unknown transaction kind {kind!r}", field="kind")
    amount = Decimal(amount)
    if amount <= 0 or amount != round_money(amount):
        raise Invalid("an amount is positive, to the cent", field="amount")
    if kind == LedgerTransaction.Kind.PAYMENT:
        return min(amount, file_balance(file=file).accounts_receivable)
    if kind == LedgerTransaction.Kind.TRUST_WITHDRAWAL:
        trust = file_balance(file=file).trust
        if amount > trust:
            raise Invalid(
                f"a trust withdrawal of {amount} exceeds the trust balance of {trust} "
                f"on file {file.file_number}",
                field="amount",
                code="insufficient_trust_funds",
                trust=str(trust),
            )
    return ZERO


def transaction_record(
    *,
    file: File,
    kind: str,
    amount: Decimal,
    date: datetime.date | None = None,
    description: str = "",
    reference: str = "",
) -> LedgerTransaction:
    """Record a ledger or trust movement on a file, under a lock on the file row.

    - payment: applied to accounts receivable; any excess is unallocated credit.
    - disbursement: unbilled until the next `file_bill`.
    - trust_deposit / trust_withdrawal: a withdrawal may not exceed the trust balance (422).
    - credit: a general retainer, held as unallocated credit.
    """
    with transaction.atomic(using=DB):
        file = _file_locked(file)
        applied = transaction_check(file=file, kind=kind, amount=amount)
        recorded = LedgerTransaction.objects.create(
            file=file,
            kind=kind,
            amount=amount,
            applied_amount=applied,
            date=date or timezone.localdate(),
            description=description,
            reference=reference,
        )
        _balance_changed(file.pk)
        return recorded


@dataclass(frozen=True)
class FileBalance:
    file: int
    trust: Decimal
    wip_fees: Decimal
    wip_disbursements: Decimal
    accounts_receivable: Decimal
    unallocated_credit: Decimal
    currency: str
    as_of: datetime.datetime
    changed_at: datetime.datetime


def _balance_changed(*file_ids: int) -> None:
    """Stamp the files whose balance this change may move (`GET /balances?changed_since`).
    Inside the change's transaction, so a reader never sees the change without it."""
    File.objects.filter(pk__in=set(file_ids)).update(balance_changed_at=timezone.now())


def file_balance(*, file: File) -> FileBalance:
    """A file's balances: the one place LA's balance arithmetic is written.

    - trust = Σ trust deposits - Σ trust withdrawals
    - wip_fees = Σ amount of unbilled time entries with behaviour `bill`
    - wip_disbursements = Σ unbilled disbursements
    - accounts_receivable = Σ invoice totals - Σ applied part of payments
    - unallocated_credit = Σ credits + Σ unapplied part of payments
    """
    kind = LedgerTransaction.Kind

    def total(field: str, condition: Q):
        return Sum(field, filter=condition, default=ZERO)

    ledger = file.transactions.aggregate(
        trust_in=total("amount", Q(kind=kind.TRUST_DEPOSIT)),
        trust_out=total("amount", Q(kind=kind.TRUST_WITHDRAWAL)),
        disbursements=total("amount", Q(kind=kind.DISBURSEMENT, invoice__isnull=True)),
        paid=total("amount", Q(kind=kind.PAYMENT)),
        applied=total("applied_amount", Q(kind=kind.PAYMENT)),
        credits=total("amount", Q(kind=kind.CREDIT)),
    )
    invoiced = file.invoices.aggregate(total=Sum("total", default=ZERO))["total"]
    wip_fees = file.time_entries.filter(
        status=TimeEntry.Status.UNBILLED, billing_behaviour=TimeEntry.BillingBehaviour.BILL
    ).aggregate(total=Sum("amount", default=ZERO))["total"]
    return FileBalance(
        file=file.pk,
        trust=round_money(ledger["trust_in"] - ledger["trust_out"]),
        wip_fees=round_money(wip_fees),
        wip_disbursements=round_money(ledger["disbursements"]),
        accounts_receivable=round_money(invoiced - ledger["applied"]),
        unallocated_credit=round_money(ledger["credits"] + ledger["paid"] - ledger["applied"]),
        currency=LASettings.load().currency,
        as_of=timezone.now(),
        changed_at=file.balance_changed_at,
    )


# Settings and webhooks ------------------------------------------------------------------


def settings_update(*, data: dict) -> LASettings:
    """Change LA's settings; a new file numbering applies to files created from now on."""
    with transaction.atomic(using=DB):
        LASettings.load()
        settings = LASettings.objects.select_for_update().get(pk=1)
        for name, value in data.items():
            setattr(settings, name, value)
        settings.save()
    return settings


def _webhook_events_clean(events) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise Invalid("list at least one event", field="events")
    unknown = sorted(set(events) - EVENTS)
    if unknown:
        raise Invalid(
            f"unknown events {', '.join(unknown)}; known: {', '.join(sorted(EVENTS))}",
            field="events",
        )
    return sorted(set(events))


def webhook_create(*, url: str, events: list[str]) -> Webhook:
    return Webhook.objects.create(url=url, events=_webhook_events_clean(events))


def webhook_update(*, webhook: Webhook, data: dict) -> Webhook:
    if "events" in data:
        data = {**data, "events": _webhook_events_clean(data["events"])}
    for name, value in data.items():
        setattr(webhook, name, value)
    webhook.save()
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()
