"""Reads of matters, with the client, assignee and link their API output shows."""

from django.db.models import Q, QuerySet

from sync.selectors import records_filter_by_link

from .models import Matter


def matter_list(*, filters: dict | None = None) -> QuerySet[Matter]:
    """Matters filtered by the link filters and `search` (name, file reference)."""
    filters = filters or {}
    matters = records_filter_by_link(
        Matter.objects.select_related("link", "client", "assigned_to"),
        link_status=filters.get("link_status"),
        error_code=filters.get("error_code"),
        system=filters.get("system"),
        error_system=filters.get("error_system"),
    )
    if search := filters.get("search"):
        matters = matters.filter(Q(name__icontains=search) | Q(file_reference__icontains=search))
    return matters
