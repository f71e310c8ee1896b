"""Reads for the emulated PM API: querysets, Actionstep-style filters, sorting, paging.

Decisions where the reference files are silent:

- **Filters** are `<property>=value` (exact) and `<property>_gt|_gte|_lt|_lte=value` on
  the properties each resource declares below, e.g. `modifiedTimestamp_gt=2025-01-31T09:00:00Z`,
  `importExternalReference=ABC-1`, `reference=`, `email=` (case-insensitive). An empty
  value matches an empty property. A timestamp filter compares with the stored time, which
  is finer than the second shown, so a cursor taken from an answer overlaps, never skips.
- **Unknown parameters** are refused with 400 naming the parameter, so a misspelt filter
  never silently returns everything.
- **Order** is by id unless `sort=` names `id` or `modifiedTimestamp` (prefix `-` to reverse).
- **Paging:** `page` from 1, `pageSize` default 50, at most 200. A larger `pageSize` is
  clamped to 200 (and `meta.paging` says 200), as a client asking for "everything" in big
  pages should still page correctly. A page past the end is an empty list.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

from .models import Action, ActionType, Participant, RestHook, TimeEntry, User
from .wire_format import Day, parse_timestamp

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
RESERVED_PARAMETERS = frozenset({"page", "pageSize", "sort", "include"})
OPERATORS = {"": "exact", "_gt": "gt", "_gte": "gte", "_lt": "lt", "_lte": "lte"}


class QueryError(Exception):
    """A query parameter the API cannot use; answered 400."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def _integer(value: str) -> int:
    if not value.isdigit():
        raise ValueError("Expected an integer.")
    return int(value)


def _timestamp(value: str):
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError("Expected an ISO 8601 timestamp, e.g. 2025-01-31T09:00:00+00:00.")
    return moment


def _flag(value: str) -> bool:
    if value not in ("T", "F"):
        raise ValueError("Expected 'T' or 'F'.")
    return value == "T"


@dataclass(frozen=True)
class Filter:
    lookup: str
    parse: Callable[[str], Any] = str
    exact: str = "exact"


PARTICIPANT_FILTERS = {
    "id": Filter("pk", _integer),
    "reference": Filter("reference"),
    "email": Filter("email", exact="iexact"),
    "importExternalReference": Filter("import_external_reference"),
    "displayName": Filter("display_name", exact="iexact"),
    "lastName": Filter("last_name", exact="iexact"),
    "isCompany": Filter("is_company", _flag),
    "createdTimestamp": Filter("created_at", _timestamp),
    "modifiedTimestamp": Filter("modified_at", _timestamp),
}
ACTION_FILTERS = {
    "id": Filter("pk", _integer),
    "name": Filter("name", exact="iexact"),
    "reference": Filter("reference"),
    "status": Filter("status"),
    "importExternalReference": Filter("import_external_reference"),
    "assignedTo": Filter("assigned_to_id", _integer),
    "actionType": Filter("action_type_id", _integer),
    "primaryParticipants": Filter("client_links__participant_id", _integer),
    "createdTimestamp": Filter("created_at", _timestamp),
    "modifiedTimestamp": Filter("modified_at", _timestamp),
}
TIME_ENTRY_FILTERS = {
    "id": Filter("pk", _integer),
    "action": Filter("action_id", _integer),
    "owner": Filter("owner_id", _integer),
    "billingBehavior": Filter("billing_behavior"),
    "importExternalReference": Filter("import_external_reference"),
    "timestampDate": Filter("timestamp_date", Day().parse),
    "createdTimestamp": Filter("created_at", _timestamp),
    "modifiedTimestamp": Filter("modified_at", _timestamp),
}
USER_FILTERS = {
    "id": Filter("pk", _integer),
    "email": Filter("email", exact="iexact"),
    "isActive": Filter("is_active", _flag),
}
ACTION_TYPE_FILTERS = {"id": Filter("pk", _integer), "name": Filter("name", exact="iexact")}
RESTHOOK_FILTERS = {
    "id": Filter("pk", _integer),
    "eventName": Filter("event_name"),
    "status": Filter("status"),
}
SORTS = {"id": "pk", "modifiedTimestamp": "modified_at"}


def participant_list() -> QuerySet[Participant]:
    return Participant.objects.all()


def action_list() -> QuerySet[Action]:
    return Action.objects.prefetch_related("client_links")


def time_entry_list() -> QuerySet[TimeEntry]:
    return TimeEntry.objects.all()


def user_list() -> QuerySet[User]:
    return User.objects.all()


def action_type_list() -> QuerySet[ActionType]:
    return ActionType.objects.all()


def resthook_list() -> QuerySet[RestHook]:
    return RestHook.objects.all()


def records_filter(
    queryset: QuerySet, params: QueryDict, filters: Mapping[str, Filter]
) -> QuerySet:
    """Apply the filter parameters; raise QueryError for one the resource does not know."""
    conditions: dict[str, Any] = {}
    spans_many = False
    for parameter, value in params.items():
        if parameter in RESERVED_PARAMETERS:
            continue
        name, operator = parameter, ""
        for suffix in OPERATORS:
            if suffix and parameter.endswith(suffix) and parameter[: -len(suffix)] in filters:
                name, operator = parameter[: -len(suffix)], suffix
        spec = filters.get(name)
        if spec is None:
            raise QueryError(parameter, "Unknown parameter.")
        try:
            parsed = spec.parse(value)
        except ValueError as error:
            raise QueryError(parameter, str(error)) from None
        lookup = spec.exact if operator == "" else OPERATORS[operator]
        conditions[f"{spec.lookup}__{lookup}"] = parsed
        spans_many |= "__" in spec.lookup
    queryset = queryset.filter(**conditions)
    # A filter across a to-many relation would repeat a record once per match.
    return queryset.distinct() if spans_many else queryset


def records_sort(queryset: QuerySet, sort: str | None) -> QuerySet:
    if not sort:
        return queryset.order_by("pk")
    field = SORTS.get(sort.removeprefix("-"))
    if field is None or (field == "modified_at" and "modified_at" not in _fields(queryset)):
        raise QueryError("sort", f"Sort by one of: {', '.join(SORTS)} (prefix - to reverse).")
    descending = "-" if sort.startswith("-") else ""
    return queryset.order_by(f"{descending}{field}", f"{descending}pk")


def _fields(queryset: QuerySet) -> set[str]:
    return {field.name for field in queryset.model._meta.concrete_fields}


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
            raise QueryError(name, "Expected a whole number of at least 1.")
    return values["page"], min(values["pageSize"], PAGE_SIZE_MAX)


def records_page(queryset: QuerySet, params: QueryDict) -> Page:
    page, page_size = paging_parameters(params)
    record_count = queryset.count()
    start = (page - 1) * page_size
    records = list(queryset[start : start + page_size]) if start < record_count else []
    return Page(records=records, record_count=record_count, page=page, page_size=page_size)
