"""Reads of contacts, each with its link joined so the Link Indicator costs no query."""

from django.db.models import Q, QuerySet

from sync.selectors import records_filter_by_link

from .models import Contact

SEARCH_FIELDS = [
    "first_name",
    "middle_name",
    "last_name",
    "company_name",
    "alias",
    "reference",
    "email",
]


def contact_list(*, filters: dict | None = None) -> QuerySet[Contact]:
    """Contacts filtered by the link filters and `search` (names, reference, email)."""
    filters = filters or {}
    contacts = records_filter_by_link(
        Contact.objects.select_related("link"),
        link_status=filters.get("link_status"),
        error_code=filters.get("error_code"),
        system=filters.get("system"),
        error_system=filters.get("error_system"),
    )
    if search := filters.get("search"):
        matches = Q()
        for field in SEARCH_FIELDS:
            matches |= Q(**{f"{field}__icontains": search})
        contacts = contacts.filter(matches)
    return contacts
