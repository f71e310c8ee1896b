"""Reads of links and sync history, and the link filters every linked record's list shares."""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from .models import RECORD_FIELDS, Link, LinkStatus, SyncEvent, System

FOREIGN_ID_FIELDS = {System.PM: "pm_id", System.LA: "la_id"}


def record_link(record: Model) -> Link | None:
    """The record's link, or None while it has none (a missing link counts as unsynced)."""
    try:
        return record.link
    except Link.DoesNotExist:
        return None


def _link_conditions(
    relation: str,
    *,
    link_status: str | None = None,
    error_code: str | None = None,
    system: str | None = None,
    error_system: str | None = None,
) -> Q:
    """Conditions on a link, reached through `relation` ("link") or the link itself ("").

    A record with no link row is unsynced (docs/decisions.md 2), and "linked in a system"
    means the link holds that system's id.
    """
    prefix = f"{relation}__" if relation else ""
    condition = Q()
    if link_status:
        status = Q(**{f"{prefix}status": link_status})
        if relation and link_status == LinkStatus.UNSYNCED:
            status |= Q(**{f"{relation}__isnull": True})
        condition &= status
    if error_code:
        condition &= Q(**{f"{prefix}error_code": error_code})
    if system:
        condition &= Q(**{f"{prefix}{FOREIGN_ID_FIELDS[system]}__isnull": False})
    if error_system:
        condition &= Q(**{f"{prefix}error_system": error_system})
    return condition


def records_filter_by_link(
    records: QuerySet,
    *,
    link_status: str | None = None,
    error_code: str | None = None,
    system: str | None = None,
    error_system: str | None = None,
) -> QuerySet:
    """Contacts, matters or time entries whose Link Indicator matches the filters."""
    return records.filter(
        _link_conditions(
            "link",
            link_status=link_status,
            error_code=error_code,
            system=system,
            error_system=error_system,
        )
    )


def link_list(*, filters: dict | None = None) -> QuerySet[Link]:
    """Links, newest first, filtered by `link_status`, `error_code`, `system`, `record_type`."""
    filters = filters or {}
    links = Link.objects.select_related(*RECORD_FIELDS.values()).order_by("-pk")
    links = links.filter(
        _link_conditions(
            "",
            link_status=filters.get("link_status"),
            error_code=filters.get("error_code"),
            system=filters.get("system"),
            error_system=filters.get("error_system"),
        )
    )
    if record_type := filters.get("record_type"):
        links = links.filter(record_type=record_type)
    return links


def link_get(*, link_id: int) -> Link:
    return Link.objects.select_related(*RECORD_FIELDS.values()).get(pk=link_id)


def sync_event_list(*, filters: dict | None = None) -> QuerySet[SyncEvent]:
    """Sync history, newest first, filtered by `link` (its id) and `outcome`."""
    filters = filters or {}
    events = SyncEvent.objects.select_related("link")
    if link_id := filters.get("link"):
        events = events.filter(link_id=link_id)
    if outcome := filters.get("outcome"):
        events = events.filter(outcome=outcome)
    return events
