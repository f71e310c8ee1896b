"""The Actionstep wire format of the emulated PM API: records to JSON and back.

Property names and types follow the OpenAPI files in `sandbox/pm/openapi/` and, for the
resources those files lack, `supplement.openapi.yml` there. Decisions
(sources: docs/actionstep-fidelity.md):

- **null for unset values.** Actionstep answers `null` for an empty property
  (`"importExternalReference": null`, docs api-responses), although the compiled files
  never say `nullable`. Writing `null` or `""` clears a text property.
- **Flags** are the strings `"T"` and `"F"` (wiki P01; api-quirks.md). **Timestamps** are
  ISO 8601 in the firm's time zone, to the second (`2022-05-03T20:49:15+12:00`, the
  files' examples). An action's `createdTimestamp` is date-only (`"2019-08-15"`,
  dbc-tech samples/action.json, docs api-responses). `timestampDate` is the day at
  midnight in the firm's zone (timeentries file example); writes accept `2022-05-03` or
  a full timestamp.
- **Ids.** A record's `id` is a JSON number (docs api-responses `"id": 3`); ids inside
  `links` are strings (`"assignedTo": "21188"`, `"primaryParticipants": ["75165"]`,
  dbc-tech samples/action.json). Writes accept link ids as strings or numbers (clients
  send both: rogan-mocke payloads send strings, Actionstep's demo sends numbers).
- **Request bodies** are wrapped the Actionstep way (`{"participants": {...}}`, or a
  one-element list as on the old wiki); the emulator also takes the bare object the
  OpenAPI request bodies show.
- **Read-only properties** a client echoes back (`id`, `modifiedTimestamp`, a
  participant's `displayName` on update, ...) are ignored. An **unknown property** is a
  badly structured request (400). A value that breaks a rule is a 500 with an Actionstep
  code (see `errors.py`).
- **REST hook deliveries** carry one record as JSON:API `data` (see `resthook_data`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .errors import HANDLING_THE_REQUEST, ApiError, Problem, bad_request, rule_broken
from .models import Action, DataCollectionField, RestHook, TimeEntry

REQUIRED = "This property is required."


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


class LinkId(Integer):
    """An id inside `links`: a string on the wire, a number or a string on a write."""

    def render(self, value: int | None) -> str | None:
        return None if value is None else str(value)


class LinkIds(Kind):
    def render(self, value: Iterable[int]) -> list[str]:
        return [str(pk) for pk in value]

    def parse(self, value: Any) -> list[int]:
        if not isinstance(value, list):
            raise ValueError("Expected a list of ids.")
        ids = [LINK_ID.parse(item) for item in value]
        if None in ids:
            raise ValueError("Expected a list of ids.")
        return ids


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


class DateOnly(Kind):
    """A moment shown as its date in the firm's time zone (an action's createdTimestamp)."""

    def render(self, value: dt.datetime) -> str:
        return timezone.localdate(value).isoformat()


class Timestamp(Kind):
    def render(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        return timezone.localtime(value).isoformat(timespec="seconds")


def parse_timestamp(value: str) -> dt.datetime | None:
    """A timestamp in a request body: ISO 8601 (`T` or space between date and time);
    naive means the firm's time zone. (Filters are stricter: see selectors.)"""
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


TEXT = Text()
INTEGER = Integer()
LINK_ID = LinkId()
LINK_IDS = LinkIds()
FLAG = Flag()
NUMBER = Number()
TIMESTAMP = Timestamp()


@dataclass(frozen=True)
class Attr:
    """One property: its wire name (`links.owner` for a link) and the model attribute.

    `updatable=False` makes a property settable on create only (ignored on update);
    `code` is the Actionstep error code answered when its value is refused.
    """

    name: str
    field: str
    kind: Kind = TEXT
    writable: bool = True
    required: bool = False
    rendered: bool = True
    updatable: bool = True
    code: str = HANDLING_THE_REQUEST


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

    def pointer(self, name: str) -> str:
        """A property's JSON pointer in an error: `links.owner` → `/timeentries/links/owner`."""
        return f"/{self.name}/{name.replace('.', '/')}"

    def unwrap(self, body: Any) -> dict:
        """The record inside an Actionstep-style request body, or the body itself."""
        if isinstance(body, dict) and set(body) == {self.name}:
            body = body[self.name]
            if isinstance(body, list):
                if len(body) != 1:
                    raise ApiError([bad_request("Send exactly one record per request.")])
                body = body[0]
        if not isinstance(body, dict):
            raise ApiError([bad_request(f"Expected a {self.name} object.")])
        return body

    def parse(self, data: dict, *, creating: bool) -> dict[str, Any]:
        """Model attributes and values from a record's properties; raises ApiError, 400
        for unknown properties (alone), else 500 naming every value refused."""
        flat = dict(data)
        links = flat.pop("links", None) or {}
        if not isinstance(links, dict):
            raise ApiError([bad_request("Expected an object.", pointer=self.pointer("links"))])
        flat.update({f"links.{name}": value for name, value in links.items()})

        known = {attr.name: attr for attr in self.attrs}
        unknown = [name for name in flat if name not in known]
        if unknown:
            raise ApiError(
                [bad_request("Unknown property.", pointer=self.pointer(name)) for name in unknown]
            )
        fields: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, value in flat.items():
            attr = known[name]
            if not attr.writable or not (creating or attr.updatable):
                continue
            try:
                fields[attr.field] = attr.kind.parse(value)
            except ValueError as error:
                problems.append(self._refused(attr, str(error)))
        if creating:
            refused = {problem.pointer for problem in problems}
            for attr in self.attrs:
                pointer = self.pointer(attr.name)
                missing = attr.required and fields.get(attr.field) in (None, "")
                if missing and attr.writable and pointer not in refused:
                    problems.append(rule_broken(REQUIRED, pointer=pointer))
        if problems:
            raise ApiError(problems)
        return fields

    def _refused(self, attr: Attr, detail: str) -> Problem:
        return rule_broken(
            f"{attr.name}: {detail}", code=attr.code, pointer=self.pointer(attr.name)
        )

    def wire_name(self, model_field: str) -> str | None:
        """The property a model field's error belongs to (`owner` → `links.owner`)."""
        for attr in self.attrs:
            if model_field in (attr.field, attr.field.removesuffix("_id")):
                return attr.name
        return None

    def validation_problems(self, error: ValidationError) -> list[Problem]:
        """A service's ValidationError (keyed by model field) as 500s naming properties."""
        if not hasattr(error, "error_dict"):
            return [rule_broken(message) for message in error.messages]
        problems = []
        for model_field, messages in error.message_dict.items():
            name = None if model_field == NON_FIELD_ERRORS else self.wire_name(model_field)
            attr = next((attr for attr in self.attrs if attr.name == name), None)
            for message in messages:
                if attr is None:
                    problems.append(rule_broken(message))
                else:
                    problems.append(self._refused(attr, message))
        return problems


def resthook_data(wire: Resource, record: dict) -> dict:
    """One rendered record as the JSON:API `data` of a REST hook delivery.

    Real Actionstep: Actionstep's demo app binds deliveries to `data{type, id (string),
    attributes}` (ResthookController.cs, ResthookResponseDto.cs); settleeasy reads
    `data.relationships.<link>.data{type, id}` for ActionCreated. `attributes` are the
    properties a GET answers, less `id` and `links`; a list-valued link is a list of
    identifiers, an empty link has `"data": null` (JSON:API).
    """
    relationships = {}
    for name, value in record.get("links", {}).items():
        target = wire.link_types[name]
        if isinstance(value, list):
            data: Any = [{"type": target, "id": pk} for pk in value]
        else:
            data = None if value is None else {"type": target, "id": value}
        relationships[name] = {"data": data}
    return {
        "type": wire.name,
        "id": str(record["id"]),
        "attributes": {
            name: value for name, value in record.items() if name not in ("id", "links")
        },
        "relationships": relationships,
    }


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


# `displayName` is the one property CreateParticipant requires and UpdateParticipant
# lacks (forsyteco participants schemas): required on create, ignored on update.
PARTICIPANTS = Resource(
    "participants",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("displayName", "display_name", required=True, updatable=False),
        Attr("displayInitials", "display_initials"),
        Attr("isCompany", "is_company", FLAG, code="P01"),
        Attr("companyName", "company_name"),
        Attr("salutation", "salutation"),
        Attr("firstName", "first_name"),
        Attr("middleName", "middle_name"),
        Attr("lastName", "last_name"),
        Attr("suffix", "suffix"),
        Attr("preferredName", "preferred_name"),
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
    link_types={"physicalCountry": "countries", "mailingCountry": "countries"},
)

ACTIONS = Resource(
    "actions",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("name", "name"),
        Attr("reference", "reference"),
        Attr("priority", "priority", INTEGER, code="A02"),
        Attr("status", "status", Choice(Action.Status.values), code="A01"),
        Attr("statusTimestamp", "status_changed_at", TIMESTAMP, writable=False),
        Attr("createdTimestamp", "created_at", DateOnly(), writable=False),
        Attr("modifiedTimestamp", "modified_at", TIMESTAMP, writable=False),
        Attr("importExternalReference", "import_external_reference"),
        Attr("links.assignedTo", "assigned_to_id", LINK_ID),
        Attr("links.actionType", "action_type_id", LINK_ID, writable=False),
        Attr("links.primaryParticipants", "primary_participant_ids", LINK_IDS, writable=False),
    ),
    link_types={
        "assignedTo": "participants",
        "actionType": "actiontypes",
        "primaryParticipants": "participants",
    },
)

# The request of wiki "Action Create" as rogan-mocke's post_actioncreate.php sends it and
# Zapier's "Create Matter" labels it; the answer's shape is the emulator's choice (the
# wiki: "The GET and POST requests do not have the same structure").
ACTION_CREATE = Resource(
    "actioncreate",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("actionName", "name", required=True),
        Attr("fileReference", "reference"),
        Attr("status", "status", Choice(Action.Status.values), code="A01", rendered=False),
        Attr("priority", "priority", INTEGER, code="A02", rendered=False),
        Attr("importExternalReference", "import_external_reference", rendered=False),
        Attr("links.action", "pk", LINK_ID, writable=False),
        Attr("links.actionType", "action_type_id", LINK_ID, required=True),
        Attr("links.assignedToParticipant", "assigned_to_id", LINK_ID),
        # Where a service's error about `participantType<N>` links is reported.
        Attr("links.participantType<N>", "participants", writable=False, rendered=False),
    ),
    link_types={"action": "actions", "actionType": "actiontypes"},
)
PARTICIPANT_TYPE_LINK = re.compile(r"^participantType(\d+)$")


def actioncreate_parse(data: dict) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The action's fields and its `(participant type, participant)` pairs, in order,
    from `links.participantType<N>: [ids]` (rogan-mocke post_actioncreate.php)."""
    links = data.get("links")
    pairs: list[tuple[int, int]] = []
    problems: list[Problem] = []
    if isinstance(links, dict):
        rest = {}
        for name, value in links.items():
            match = PARTICIPANT_TYPE_LINK.match(name)
            if match is None:
                rest[name] = value
                continue
            try:
                ids = LINK_IDS.parse(value if isinstance(value, list) else [value])
            except ValueError as error:
                pointer = ACTION_CREATE.pointer(f"links.{name}")
                problems.append(rule_broken(f"{name}: {error}", pointer=pointer))
                continue
            pairs += [(int(match[1]), participant_id) for participant_id in ids]
        data = {**data, "links": rest}
    try:
        fields = ACTION_CREATE.parse(data, creating=True)
    except ApiError as error:
        if error.status == 400:
            raise
        raise ApiError([*error.problems, *problems]) from None
    if problems:
        raise ApiError(problems)
    return fields, pairs


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
        Attr("links.action", "action_id", LINK_ID, required=True),
        Attr("links.owner", "owner_id", LINK_ID, required=True, code="TR03"),
        Attr("links.createdBy", "created_by_id", LINK_ID, required=True, code="TR03"),
    ),
    link_types={"action": "actions", "owner": "participants", "createdBy": "participants"},
)

USERS = Resource(
    "users",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("emailAddress", "email", writable=False),
        Attr("isActive", "is_active", FLAG, writable=False),
        Attr("isCurrent", "is_current", FLAG, writable=False),
        Attr("hasAuthority", "has_authority", FLAG, writable=False),
        Attr("links.participant", "pk", LINK_ID, writable=False),
    ),
    link_types={"participant": "participants"},
)

PARTICIPANT_TYPES = Resource(
    "participanttypes",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("name", "name", writable=False),
        Attr("description", "description", writable=False),
        Attr("companyFlag", "company_flag", FLAG, writable=False),
        Attr("isBaseParticipantType", "is_base_participant_type", FLAG, writable=False),
    ),
)

ACTION_PARTICIPANTS = Resource(
    "actionparticipants",
    (
        Attr("id", "composite_id", writable=False),
        Attr("participantNumber", "participant_number", INTEGER, writable=False),
        Attr("links.action", "action_id", LINK_ID, required=True),
        Attr("links.participantType", "participant_type_id", LINK_ID, required=True),
        Attr("links.participant", "participant_id", LINK_ID, required=True),
    ),
    link_types={
        "action": "actions",
        "participantType": "participanttypes",
        "participant": "participants",
    },
)

# `links.primaryParticipantType` after the PHP SDK's example filter
# `actionType[primaryParticipantType][name_ilike]=client` (example.php).
ACTION_TYPES = Resource(
    "actiontypes",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("name", "name", writable=False),
        Attr(
            "links.primaryParticipantType", "primary_participant_type_id", LINK_ID, writable=False
        ),
    ),
    link_types={"primaryParticipantType": "participanttypes"},
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

# Data collections (forsyteco `src/clients/datacollection*/schemas.gen.ts`;
# docs/actionstep-fidelity.md). Create requires: a collection's name, description and
# links.actionType; a
# field's name, dataType and links.dataCollection; a value's stringValue and all four
# links. A record needs links.action and links.dataCollection (the spec lists them
# without `required`; a record without them means nothing, so the emulator requires
# them, as Actionstep's demo app always sends them). Names and links are set on create
# only ("the name cannot be changed after the data collection field has been created").
DATA_COLLECTIONS = Resource(
    "datacollections",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("name", "name", required=True),
        Attr("description", "description", required=True),
        Attr("multipleRecords", "multiple_records", FLAG),
        Attr("order", "order", INTEGER),
        Attr("label", "label"),
        Attr("alwaysShowDescriptions", "always_show_descriptions", FLAG),
        Attr("links.actionType", "action_type_id", LINK_ID, required=True),
    ),
    link_types={"actionType": "actiontypes"},
)

DATA_COLLECTION_FIELDS = Resource(
    "datacollectionfields",
    (
        Attr("id", "composite_id", writable=False),
        Attr("name", "name", required=True, updatable=False),
        Attr(
            "dataType",
            "data_type",
            Choice(DataCollectionField.DataType.values),
            required=True,
        ),
        Attr("label", "label"),
        Attr("formOrder", "form_order", INTEGER),
        Attr("listOrder", "list_order", INTEGER),
        Attr("required", "required", FLAG),
        Attr("description", "description"),
        Attr("customHtmlBelow", "custom_html_below"),
        Attr("customHtmlAbove", "custom_html_above"),
        Attr("links.dataCollection", "data_collection_id", LINK_ID, required=True, updatable=False),
        Attr("links.tag", "tag", LINK_ID),
    ),
    link_types={"dataCollection": "datacollections", "tag": "tags"},
)

DATA_COLLECTION_RECORDS = Resource(
    "datacollectionrecords",
    (
        Attr("id", "pk", INTEGER, writable=False),
        Attr("canWrite", "can_write", FLAG, writable=False),
        Attr("canDelete", "can_delete", FLAG, writable=False),
        Attr("links.action", "action_id", LINK_ID, required=True),
        Attr("links.dataCollection", "data_collection_id", LINK_ID, required=True),
    ),
    link_types={"action": "actions", "dataCollection": "datacollections"},
)

DATA_COLLECTION_RECORD_VALUES = Resource(
    "datacollectionrecordvalues",
    (
        Attr("id", "composite_id", writable=False),
        Attr("stringValue", "string_value", required=True),
        Attr("last_modified_time_stamp", "modified_at", TIMESTAMP, writable=False),
        Attr("last_modified_by_user_id", "modified_by_id", INTEGER, writable=False),
        Attr("links.action", "action_id", LINK_ID, required=True, updatable=False),
        Attr("links.dataCollectionField", "field_key", required=True, updatable=False),
        Attr("links.dataCollectionRecord", "record_id", LINK_ID, required=True, updatable=False),
        Attr("links.dataCollection", "data_collection_id", LINK_ID, required=True, updatable=False),
    ),
    link_types={
        "action": "actions",
        "dataCollectionField": "datacollectionfields",
        "dataCollectionRecord": "datacollectionrecords",
        "dataCollection": "datacollections",
    },
)
