"""The Actionstep wire format of the emulated PM API: records to JSON and back.

Property names and types follow the OpenAPI files in `/work/shared/reference/actionstep/`.
Decisions where those files are silent:

- **null for unset values.** Actionstep answers `null` for an empty property (as in
  ARCHITECTURE.md section 5: `"importExternalReference": null`), although the compiled
  files never say `nullable`. Writing `null` or `""` clears a text property.
- **Flags** are the strings `"T"` and `"F"`. **Timestamps** are ISO 8601 in the firm's
  time zone, to the second (`2022-05-03T20:49:15+12:00`). `timestampDate` is the day at
  midnight in that zone; writes accept `2022-05-03` or a full timestamp.
- **Request bodies** may wrap the record the Actionstep way (`{"participants": {...}}`,
  or a one-element list) or be the bare object the OpenAPI request bodies show.
- **Read-only properties** a client echoes back (`id`, `modifiedTimestamp`, ...) are
  ignored; an **unknown property** is refused (422) so a connector's typo shows at once.
- **Extensions beyond the files:** participants carry `reference` (the contact Reference,
  LA's Contact Number); time entries carry `modifiedTimestamp` so they can be polled like
  the other resources; `actioncreate` accepts `links.assignedToParticipant` as another
  name for `links.assignedTo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .models import Action, RestHook, TimeEntry

REQUIRED = "This property is required."


class WireError(Exception):
    """A request body that does not fit the resource; `errors` maps property to messages."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__(errors)
        self.errors = dict(errors)


class Kind:
    """How one property is written in JSON (`render`) and read from it (`parse`)."""

    def render(self, value: Any) -> Any:
        return value

    def parse(self, value: Any) -> Any:
        return value


class Text(Kind):
    def render(self, value: str) -> str | None:
        return value or None

    def parse(self, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError("Expected a string.")
        return value


class Integer(Kind):
    def parse(self, value: Any) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValueError("Expected an integer.")
        if isinstance(value, int):
            return value
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise ValueError("Expected an integer.")


class Flag(Kind):
    def render(self, value: bool) -> str:
        return "T" if value else "F"

    def parse(self, value: Any) -> bool:
        if value in ("T", True):
            return True
        if value in ("F", False):
            return False
        raise ValueError("Expected 'T' or 'F'.")


class Number(Kind):
    """Money and hours: `Decimal` inside, a JSON number outside (two places at most)."""

    def render(self, value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    def parse(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValueError("Expected a number.")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValueError("Expected a number.") from None


class Choice(Kind):
    def __init__(self, choices: Iterable[str]):
        self.choices = tuple(choices)

    def parse(self, value: Any) -> str:
        if value not in self.choices:
            raise ValueError(f"Expected one of: {', '.join(self.choices)}.")
        return value


class Day(Kind):
    def render(self, value: dt.date) -> str:
        midnight = timezone.make_aware(dt.datetime.combine(value, dt.time.min))
        return midnight.isoformat()

    def parse(self, value: Any) -> dt.date:
        if isinstance(value, str):
            moment = parse_timestamp(value)
            if moment is not None:
                return timezone.localdate(moment)
            day = parse_date(value)
            if day is not None:
                return day
        raise ValueError("Expected a date (2022-05-03) or a timestamp.")


class Timestamp(Kind):
    def render(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        return timezone.localtime(value).isoformat(timespec="seconds")


class IdList(Kind):
    def parse(self, value: Any) -> list[int]:
        if not isinstance(value, list):
            raise ValueError("Expected a list of ids.")
        ids = [INTEGER.parse(item) for item in value]
        if None in ids:
            raise ValueError("Expected a list of ids.")
        return ids


def parse_timestamp(value: str) -> dt.datetime | None:
    """ISO 8601 (`T` or space between date and time); naive means the firm's time zone.

    A `+` sent unencoded in a query string arrives as a space, so a space before a
    trailing `hh:mm` offset is read as `+`.
    """
    text = value.strip()
    if len(text) > 6 and text[-6] == " " and text[-3] == ":":
        text = f"{text[:-6]}+{text[-5:]}"
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


TEXT = Text()
INTEGER = Integer()
FLAG = Flag()
NUMBER = Number()
TIMESTAMP = Timestamp()


@dataclass(frozen=True)
class Attr:
    """One property: its wire name (`links.owner` for a link) and the model attribute."""

    name: str
    field: str
    kind: Kind = TEXT
    writable: bool = True
    required: bool = False
    rendered: bool = True


@dataclass(frozen=True)
class Resource:
    """A resource's properties; `link_types` names the resource each link points to."""

    name: str
    attrs: tuple[Attr, ...]
    link_types: Mapping[str, str] = field(default_factory=dict)

    def render(self, record: Any) -> dict:
        data: dict[str, Any] = {}
        links: dict[str, Any] = {}
        for attr in self.attrs:
            if not attr.rendered:
                continue
            value = attr.kind.render(getattr(record, attr.field))
            if attr.name.startswith("links."):
                links[attr.name.removeprefix("links.")] = value
            else:
                data[attr.name] = value
        if links:
            data["links"] = links
        return data

    def unwrap(self, body: Any, key: str | None = None) -> dict:
        """The record inside an Actionstep-style request body, or the body itself."""
        key = key or self.name
        if isinstance(body, dict) and set(body) == {key}:
            body = body[key]
            if isinstance(body, list):
                if len(body) != 1:
                    raise WireError({key: ["Send exactly one record per request."]})
                body = body[0]
        if not isinstance(body, dict):
            raise WireError({key: ["Expected a JSON object."]})
        return body

    def parse(self, data: dict, *, creating: bool) -> dict[str, Any]:
        """Model attributes and values from a record's properties; raises WireError."""
        flat = dict(data)
        errors: dict[str, list[str]] = {}
        links = flat.pop("links", None) or {}
        if not isinstance(links, dict):
            errors["links"] = ["Expected an object."]
            links = {}
        flat.update({f"links.{name}": value for name, value in links.items()})

        known = {attr.name: attr for attr in self.attrs}
        fields: dict[str, Any] = {}
        for name, value in flat.items():
            attr = known.get(name)
            if attr is None:
                errors[name] = ["Unknown property."]
            elif attr.writable:
                try:
                    fields[attr.field] = attr.kind.parse(value)
                except ValueError as error:
                    errors[name] = [str(error)]
        if creating:
            for attr in self.attrs:
                if attr.required and attr.writable and fields.get(attr.field) in (None, ""):
                    errors.setdefault(attr.name, [REQUIRED])
        if errors:
            raise WireError(errors)
        return fields

    def wire_name(self, model_field: str) -> str:
        """The property a model field's error belongs to (`owner` → `links.owner`)."""
        for attr in self.attrs:
            if model_field in (attr.field, attr.field.removesuffix("_id")):
                return attr.name
        return model_field

    def wire_errors(self, message_dict: Mapping[str, list[str]]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for model_field, messages in message_dict.items():
            errors.setdefault(self.wire_name(model_field), []).extend(messages)
        return errors


def _phone_attrs() -> tuple[Attr, ...]:
    attrs = []
    for n in range(1, 5):
        attrs += [
            Attr(f"phone{n}Label", f"phone{n}_label"),
            Attr(f"phone{n}Country", f"phone{n}_country", INTEGER),
            Attr(f"phone{n}Area", f"phone{n}_area", INTEGER),
            Attr(f"phone{n}Number", f"phone{n}_number"),
            Attr(f"phone{n}Notes", f"phone{n}_notes"),
        ]
    return tuple(attrs)


def _address_attrs(kind: str) -> tuple[Attr, ...]:
    return (
        Attr(f"{kind}AddressLine1", f"{kind}_address_line1"),
        Attr(f"{kind}AddressLine2", f"{kind}_address_line2"),
        Attr(f"{kind}City", f"{kind}_city"),
        Attr(f"{kind}StateProvince", f"{kind}_state_province"),
        Attr(f"{kind}County", f"{kind}_county"),
        Attr(f"{kind}PostCode", f"{kind}_post_code"),
    )


PARTICIPANTS = Resource(
    "participants",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("displayName", "display_name"),
        Attr("displayInitials", "display_initials"),
        Attr("isCompany", "is_company", FLAG),
        Attr("companyName", "company_name"),
        Attr("salutation", "salutation"),
        Attr("firstName", "first_name"),
        Attr("middleName", "middle_name"),
        Attr("lastName", "last_name"),
        Attr("suffix", "suffix"),
        Attr("preferredName", "preferred_name"),
        Attr("reference", "reference"),
        *_address_attrs("physical"),
        *_address_attrs("mailing"),
        *_phone_attrs(),
        Attr("fax", "fax"),
        Attr("sms", "sms"),
        Attr("email", "email"),
        Attr("website", "website"),
        Attr("occupation", "occupation"),
        Attr("importExternalReference", "import_external_reference"),
        Attr("createdTimestamp", "created_at", TIMESTAMP, writable=False),
        Attr("modifiedTimestamp", "modified_at", TIMESTAMP, writable=False),
        Attr("links.physicalCountry", "physical_country"),
        Attr("links.mailingCountry", "mailing_country"),
    ),
)

ACTIONS = Resource(
    "actions",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("name", "name"),
        Attr("reference", "reference"),
        Attr("priority", "priority", INTEGER),
        Attr("status", "status", Choice(Action.Status.values)),
        Attr("statusTimestamp", "status_changed_at", TIMESTAMP, writable=False),
        Attr("createdTimestamp", "created_at", TIMESTAMP, writable=False),
        Attr("modifiedTimestamp", "modified_at", TIMESTAMP, writable=False),
        Attr("importExternalReference", "import_external_reference"),
        Attr("links.assignedTo", "assigned_to_id", INTEGER),
        Attr("links.actionType", "action_type_id", INTEGER, writable=False),
        Attr("links.primaryParticipants", "primary_participant_ids", IdList(), writable=False),
    ),
    link_types={
        "assignedTo": "participants",
        "actionType": "actiontypes",
        "primaryParticipants": "participants",
    },
)

ACTION_CREATE = Resource(
    "actioncreate",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("actionName", "name", required=True),
        Attr("reference", "reference"),
        Attr("importExternalReference", "import_external_reference"),
        Attr("links.action", "pk", INTEGER, writable=False),
        Attr("links.actionType", "action_type_id", INTEGER, required=True),
        Attr("links.assignedTo", "assigned_to_id", INTEGER),
        Attr("links.assignedToParticipant", "assigned_to_id", INTEGER, rendered=False),
        Attr("links.primaryParticipants", "primary_participant_ids", IdList()),
    ),
)

TIME_ENTRIES = Resource(
    "timeentries",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("timestampDate", "timestamp_date", Day(), required=True),
        Attr("description", "description"),
        Attr("actualHours", "actual_hours", NUMBER, required=True),
        Attr("billableHours", "billable_hours", NUMBER),
        Attr("billingBehavior", "billing_behavior", Choice(TimeEntry.BillingBehavior.values)),
        Attr("rateUnitPrice", "rate_unit_price", NUMBER),
        Attr("billableAmountType", "billable_amount_type", Choice(TimeEntry.AmountType.values)),
        Attr("billableAmount", "billable_amount", NUMBER),
        Attr("isBillable", "is_billable", FLAG, writable=False),
        Attr("importExternalReference", "import_external_reference"),
        Attr("createdTimestamp", "created_at", TIMESTAMP, writable=False),
        Attr("modifiedTimestamp", "modified_at", TIMESTAMP, writable=False),
        Attr("links.action", "action_id", INTEGER, required=True),
        Attr("links.owner", "owner_id", INTEGER, required=True),
        Attr("links.createdBy", "created_by_id", INTEGER),
    ),
    link_types={"action": "actions", "owner": "participants", "createdBy": "participants"},
)

USERS = Resource(
    "users",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("name", "name", writable=False),
        Attr("firstName", "first_name", writable=False),
        Attr("lastName", "last_name", writable=False),
        Attr("email", "email", writable=False),
        Attr("isActive", "is_active", FLAG, writable=False),
        Attr("links.participant", "pk", INTEGER, writable=False),
    ),
    link_types={"participant": "participants"},
)

ACTION_TYPES = Resource(
    "actiontypes",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("name", "name", writable=False),
    ),
)

RESTHOOKS = Resource(
    "resthooks",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("eventName", "event_name", Choice(RestHook.Event.values), required=True),
        Attr("targetUrl", "target_url", required=True),
        Attr("status", "status", writable=False),
        Attr("triggeredCount", "triggered_count", INTEGER, writable=False),
        Attr("triggeredLastTimestamp", "triggered_last_at", TIMESTAMP, writable=False),
    ),
)
