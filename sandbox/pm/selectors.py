"""Reads for the emulated PM API: querysets, Actionstep-style filters, sorting, paging,
and the bearer-token check.

Decisions (sources: docs/actionstep-fidelity.md):

- **Filters** are `<property>=value` or `<property>_<operator>=value` on the properties
  each resource declares below. Real Actionstep's operators (PHP SDK ResourceHelper.php
  operator list; Actionstep's demo client uses `actionType_eq`, `status_nteq`): `eq` (also
  no suffix), `nteq`, `gt`, `gteq`, `lt`, `lteq` (numbers, dates and timestamps only, as
  the SDK says), `in` and `ntin` (comma-separated), `like`/`ntlike` ("contains", case
  sensitive) and `ilike`/`ntilike` ("contains", case ignored). Which wildcard `like`
  takes is UNKNOWN (`%` and `*` both appear in third-party code); the emulator accepts
  both, and a value with a wildcard must match whole (`Smith*` = starts with Smith).
  Other suffixes, such as the `_gte`/`_lte` this emulator once had, are unknown
  parameters. A link that holds many ids (`primaryParticipants`) takes `eq` and `in` only
  (emulator choice). An empty value matches an empty text property. Emulator choices:
  names and emails compare ignoring case on `eq`; `:NULL` and bracketed filters on linked
  resources (`action[actionType]=`) are not supported.
- **Filter timestamps** must be `YYYY-MM-DDTHH:MM:SS` (a space may stand for the `T`) or
  `YYYY-MM-DD`, and are read as **UTC**: api-quirks.md (seth-inertia-legal, a single
  source): "Without a timezone offset or Z suffix. The API interprets it as UTC"; the
  PHP SDK: "expeting YYYY-MM-DD{T}HH:MM:SS format". An offset, a `Z` or fractions of a
  second are refused (400 naming the parameter). A timestamp compares with the stored
  time, which is finer than the second shown, so a cursor taken from an answer overlaps,
  never skips. Dates (`timestampDate`, an action's date-only `createdTimestamp`) compare
  by the date part of the value.
- **Unknown parameters** are refused with 400 naming the parameter, so a misspelt filter
  never silently returns everything (emulator choice; real behaviour UNKNOWN).
- **Order** is by id unless `sort=` names sortable properties, comma-separated, each
  prefixed `-` to reverse (`sort=-modifiedTimestamp`, demo client).
- **Paging:** `page` from 1, `pageSize` default 50, at most 200 (docs api-limits; wiki
  "Default Page Size 50 / Max Page Size 200"). A larger `pageSize` is clamped to 200
  (api-quirks.md: "does not error but is ignored"), and `meta.paging` says 200.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.http import QueryDict
from django.utils import timezone

from .errors import ApiError, bad_request
from .models import (
    AccessToken,
    Action,
    ActionParticipant,
    ActionType,
    DataCollection,
    DataCollectionField,
    DataCollectionRecord,
    DataCollectionRecordValue,
    Participant,
    ParticipantType,
    RestHook,
    TimeEntry,
    User,
    token_digest,
)

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
RESERVED_PARAMETERS = frozenset({"page", "pageSize", "sort", "include"})
ALL_SCOPES = "all"

EQUALITY = frozenset({"eq", "nteq", "in", "ntin"})
ORDER = frozenset({"gt", "gteq", "lt", "lteq"})
LIKENESS = frozenset({"like", "ntlike", "ilike", "ntilike"})
OPERATORS = EQUALITY | ORDER | LIKENESS
NEGATED = {"nteq": "eq", "ntin": "in", "ntlike": "like", "ntilike": "ilike"}
COMPARISONS = {"gt": "gt", "gteq": "gte", "lt": "lt", "lteq": "lte"}
FILTER_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2}))?$")
WILDCARDS = re.compile(r"[*%]")


def query_error(parameter: str, detail: str) -> ApiError:
    return ApiError([bad_request(f"{parameter}: {detail}", parameter=parameter)])


# Filter values --------------------------------------------------------------------


def _integer(value: str) -> int:
    if not value.isdigit():
        raise ValueError("Expected an integer.")
    return int(value)


def _timestamp(value: str) -> dt.datetime:
    """`YYYY-MM-DD[THH:MM:SS]`, read as UTC."""
    match = FILTER_TIMESTAMP.match(value)
    if match is None:
        raise ValueError(
            "Expected YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD, read as UTC "
            "(no offset, no Z, no fractions of a second)."
        )
    try:
        moment = dt.datetime.fromisoformat(f"{match[1]}T{match[2] or '00:00:00'}")
    except ValueError:
        raise ValueError("Not a valid date or time.") from None
    return moment.replace(tzinfo=dt.UTC)


def _date(value: str) -> dt.date:
    return _timestamp(value).date()


def _flag(value: str) -> bool:
    if value not in ("T", "F"):
        raise ValueError("Expected 'T' or 'F'.")
    return value == "T"


@dataclass(frozen=True)
class Filter:
    """A filterable property: the lookup it reads and how its values parse.

    `ordered` allows gt/gteq/lt/lteq, `text` the like family; `many` marks a lookup
    across a to-many relation (eq and in only); `also` holds conditions that must hold
    for the same related row.
    """

    lookup: str
    parse: Callable[[str], Any] = str
    exact: str = "exact"
    ordered: bool = False
    text: bool = False
    many: bool = False
    also: Mapping[str, Any] = field(default_factory=dict)

    def operators(self) -> frozenset[str]:
        if self.many:
            return frozenset({"eq", "in"})
        return (
            EQUALITY
            | (ORDER if self.ordered else frozenset())
            | (LIKENESS if self.text else frozenset())
        )


def text(lookup: str, exact: str = "exact") -> Filter:
    return Filter(lookup, exact=exact, text=True)


def integer(lookup: str) -> Filter:
    return Filter(lookup, _integer, ordered=True)


def timestamp(lookup: str) -> Filter:
    return Filter(lookup, _timestamp, ordered=True)


def date(lookup: str) -> Filter:
    return Filter(lookup, _date, ordered=True)


def flag(lookup: str) -> Filter:
    return Filter(lookup, _flag)


PARTICIPANT_FILTERS = {
    "id": integer("pk"),
    "displayName": text("display_name", "iexact"),
    "firstName": text("first_name", "iexact"),
    "lastName": text("last_name", "iexact"),
    "companyName": text("company_name", "iexact"),
    "email": text("email", "iexact"),
    "importExternalReference": text("import_external_reference"),
    "isCompany": flag("is_company"),
    "createdTimestamp": timestamp("created_at"),
    "modifiedTimestamp": timestamp("modified_at"),
}
ACTION_FILTERS = {
    "id": integer("pk"),
    "name": text("name", "iexact"),
    "reference": text("reference"),
    "status": text("status"),
    "importExternalReference": text("import_external_reference"),
    "assignedTo": integer("assigned_to_id"),
    "actionType": integer("action_type_id"),
    "primaryParticipants": Filter(
        "participant_links__participant_id",
        _integer,
        many=True,
        also={
            "participant_links__participant_type_id": F("action_type__primary_participant_type_id")
        },
    ),
    "createdTimestamp": date("created_at__date"),
    "modifiedTimestamp": timestamp("modified_at"),
}
TIME_ENTRY_FILTERS = {
    "id": integer("pk"),
    "action": integer("action_id"),
    "owner": integer("owner_id"),
    "createdBy": integer("created_by_id"),
    "billingBehavior": text("billing_behavior"),
    "importExternalReference": text("import_external_reference"),
    "timestampDate": date("timestamp_date"),
    "createdTimestamp": timestamp("created_at"),
}
USER_FILTERS = {
    "id": integer("pk"),
    "emailAddress": text("email", "iexact"),
    "isActive": flag("is_active"),
}
PARTICIPANT_TYPE_FILTERS = {"id": integer("pk"), "name": text("name", "iexact")}
ACTION_TYPE_FILTERS = {"id": integer("pk"), "name": text("name", "iexact")}
ACTION_PARTICIPANT_FILTERS = {
    "action": integer("action_id"),
    "participantType": integer("participant_type_id"),
    "participant": integer("participant_id"),
}
RESTHOOK_FILTERS = {
    "id": integer("pk"),
    "eventName": text("event_name"),
    "status": text("status"),
}

DATA_COLLECTION_FILTERS = {
    "id": integer("pk"),
    "name": text("name", "iexact"),
    "actionType": integer("action_type_id"),
    "multipleRecords": flag("multiple_records"),
}
DATA_COLLECTION_FIELD_FILTERS = {
    "dataCollection": integer("data_collection_id"),
    "name": text("name", "iexact"),
    "dataType": text("data_type"),
}
DATA_COLLECTION_RECORD_FILTERS = {
    "id": integer("pk"),
    "action": integer("action_id"),
    "dataCollection": integer("data_collection_id"),
}
DATA_COLLECTION_RECORD_VALUE_FILTERS = {
    "action": integer("record__action_id"),
    "dataCollection": integer("record__data_collection_id"),
    "dataCollectionRecord": integer("record_id"),
}

PARTICIPANT_SORTS = {
    "id": "pk",
    "createdTimestamp": "created_at",
    "modifiedTimestamp": "modified_at",
}
ACTION_SORTS = {"id": "pk", "createdTimestamp": "created_at", "modifiedTimestamp": "modified_at"}
TIME_ENTRY_SORTS = {"id": "pk", "createdTimestamp": "created_at", "timestampDate": "timestamp_date"}
ACTION_PARTICIPANT_SORTS = {"participantNumber": "participant_number"}
NAMED_SORTS = {"id": "pk", "name": "name"}
ID_SORTS = {"id": "pk"}


# Records ----------------------------------------------------------------------------


def participant_list() -> QuerySet[Participant]:
    return Participant.objects.all()


def action_list() -> QuerySet[Action]:
    return Action.objects.select_related("action_type").prefetch_related("participant_links")


def action_participant_list() -> QuerySet[ActionParticipant]:
    return ActionParticipant.objects.all()


def time_entry_list() -> QuerySet[TimeEntry]:
    return TimeEntry.objects.all()


def user_list(*, current_user_id: int | None = None) -> QuerySet[User]:
    """Users with `is_current`: whether the user is the one whose token asks."""
    if current_user_id is None:
        return User.objects.annotate(is_current=Value(False, output_field=BooleanField()))
    is_current = ExpressionWrapper(Q(pk=current_user_id), output_field=BooleanField())
    return User.objects.annotate(is_current=is_current)


def users_signing_in() -> QuerySet[User]:
    """Who may sign in on the consent page: the active users."""
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "pk")


def participant_type_list() -> QuerySet[ParticipantType]:
    return ParticipantType.objects.all()


def action_type_list() -> QuerySet[ActionType]:
    return ActionType.objects.all()


def resthook_list() -> QuerySet[RestHook]:
    return RestHook.objects.all()


def data_collection_list() -> QuerySet[DataCollection]:
    return DataCollection.objects.all()


def data_collection_field_list() -> QuerySet[DataCollectionField]:
    return DataCollectionField.objects.all()


def data_collection_record_list() -> QuerySet[DataCollectionRecord]:
    return DataCollectionRecord.objects.all()


def data_collection_record_value_list() -> QuerySet[DataCollectionRecordValue]:
    return DataCollectionRecordValue.objects.select_related("record", "field")


# Filters, sorting, paging ---------------------------------------------------------


def _parameter(parameter: str, filters: Mapping[str, Filter]) -> tuple[str, Filter, str]:
    """(property, filter, operator) of a query parameter; raises for an unknown one."""
    name, _, operator = parameter.rpartition("_")
    if name in filters and operator in OPERATORS:
        spec = filters[name]
    elif parameter in filters:
        name, spec, operator = parameter, filters[parameter], "eq"
    else:
        raise query_error(parameter, "Unknown parameter.")
    if operator not in spec.operators():
        raise query_error(parameter, f"The operator {operator} does not apply to {name}.")
    return name, spec, operator


def _like_condition(spec: Filter, operator: str, value: str) -> Q:
    ignoring_case = operator == "ilike"
    if WILDCARDS.search(value):
        pattern = ".*".join(re.escape(part) for part in WILDCARDS.split(value))
        lookup, value = ("iregex" if ignoring_case else "regex"), f"^{pattern}$"
    else:
        # `contains` is case-insensitive on SQLite, so a case-sensitive "contains" is a regex.
        lookup = "icontains" if ignoring_case else "regex"
        value = value if ignoring_case else re.escape(value)
    return Q(**{f"{spec.lookup}__{lookup}": value})


def _condition(parameter: str, spec: Filter, operator: str, raw: str) -> Q:
    try:
        if operator in ("in", "ntin"):
            values = [spec.parse(part) for part in raw.split(",")]
            if spec.exact == "exact":
                return Q(**{f"{spec.lookup}__in": values})
            matches = Q()
            for value in values:
                matches |= Q(**{f"{spec.lookup}__{spec.exact}": value})
            return matches
        if operator in ("like", "ntlike", "ilike", "ntilike"):
            return _like_condition(spec, NEGATED.get(operator, operator), raw)
        value = spec.parse(raw)
    except ValueError as error:
        raise query_error(parameter, str(error)) from None
    lookup = COMPARISONS.get(operator, spec.exact)
    return Q(**{f"{spec.lookup}__{lookup}": value})


def records_filter(
    queryset: QuerySet, params: QueryDict, filters: Mapping[str, Filter]
) -> QuerySet:
    """Apply the filter parameters; raise ApiError (400) for one the resource does not know."""
    condition = Q()
    for parameter, raw in params.items():
        if parameter in RESERVED_PARAMETERS:
            continue
        _, spec, operator = _parameter(parameter, filters)
        matches = _condition(parameter, spec, operator, raw)
        if spec.many:
            # One related row must meet the filter and `also`, so test it in a subquery.
            related = queryset.model.objects.filter(matches, pk=OuterRef("pk"), **spec.also)
            matches = Q(Exists(related))
        condition &= ~matches if operator in NEGATED else matches
    return queryset.filter(condition)


def records_sort(queryset: QuerySet, sort: str | None, sorts: Mapping[str, str]) -> QuerySet:
    if not sort:
        return queryset.order_by("pk")
    order = []
    for name in sort.split(","):
        column = sorts.get(name.strip().removeprefix("-"))
        if column is None:
            choices = ", ".join(sorts)
            raise query_error("sort", f"Sort by {choices} (prefix - to reverse).")
        order.append(f"-{column}" if name.strip().startswith("-") else column)
    return queryset.order_by(*order, "pk")


@dataclass(frozen=True)
class Page:
    records: list
    record_count: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        return math.ceil(self.record_count / self.page_size)


def paging_parameters(params: QueryDict) -> tuple[int, int]:
    """(page, pageSize) from the query; pageSize over 200 is clamped to 200."""
    values = {}
    for name, default in (("page", 1), ("pageSize", PAGE_SIZE_DEFAULT)):
        raw = params.get(name, "")
        if raw == "":
            values[name] = default
        elif raw.isdigit() and int(raw) >= 1:
            values[name] = int(raw)
        else:
            raise query_error(name, "Expected a whole number of at least 1.")
    return values["page"], min(values["pageSize"], PAGE_SIZE_MAX)


def records_page(queryset: QuerySet, params: QueryDict) -> Page:
    page, page_size = paging_parameters(params)
    record_count = queryset.count()
    start = (page - 1) * page_size
    records = list(queryset[start : start + page_size]) if start < record_count else []
    return Page(records=records, record_count=record_count, page=page, page_size=page_size)


# Tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """What a valid bearer token lets its holder do: act as `user_id` within `scopes`."""

    user_id: int
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return ALL_SCOPES in self.scopes or scope in self.scopes


def token_access(access_token: str) -> Access | None:
    """The access an unexpired token of an unrevoked grant gives; None for any other."""
    if not access_token:
        return None
    token = (
        AccessToken.objects.filter(
            digest=token_digest(access_token),
            expires_at__gt=timezone.now(),
            grant__revoked_at__isnull=True,
        )
        .values("grant__user_id", "scopes")
        .first()
    )
    if token is None:
        return None
    return Access(user_id=token["grant__user_id"], scopes=frozenset(token["scopes"].split()))
