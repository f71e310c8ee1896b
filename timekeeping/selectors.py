"""Reads for time entries: what a send-for-billing batch would contain, and the lists
API v1 serves (timekeepers, time entries with the joins their output needs)."""

from django.db.models import Count, QuerySet, Sum

from sync.selectors import records_filter_by_link

from .models import BillingBatch, TimeEntry, Timekeeper, round_hours, round_money

SENDABLE = [TimeEntry.BillingStatus.UNSENT, TimeEntry.BillingStatus.ERROR]


def time_entries_filtered(
    queryset: QuerySet[TimeEntry],
    *,
    timekeeper=None,
    matter=None,
    date_from=None,
    date_to=None,
) -> QuerySet[TimeEntry]:
    if timekeeper:
        queryset = queryset.filter(timekeeper=timekeeper)
    if matter:
        queryset = queryset.filter(matter=matter)
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    return queryset


def billing_summary(queryset: QuerySet[TimeEntry]) -> dict:
    """Entries grouped by timekeeper and matter with their hours and amounts, and the
    count of entries that would be skipped because they were sent already."""
    sendable = queryset.filter(billing_status__in=SENDABLE)
    groups = list(
        sendable.values(
            "timekeeper__name",
            "timekeeper__email",
            "matter__file_reference",
            "matter__name",
        )
        .annotate(entries=Count("pk"), hours=Sum("billable_hours"), amount=Sum("amount"))
        .order_by("timekeeper__name", "matter__file_reference", "matter__name")
    )
    totals = sendable.aggregate(
        entries=Count("pk"), hours=Sum("billable_hours"), amount=Sum("amount")
    )
    for row in (*groups, totals):
        # SQLite sums decimals without their scale ("4" for 4.00); show them as money.
        row["hours"] = round_hours(row["hours"] or 0)
        row["amount"] = round_money(row["amount"] or 0)
    return {
        "groups": groups,
        "totals": totals,
        "already_sent": queryset.exclude(billing_status__in=SENDABLE).count(),
    }


def timekeeper_list(*, filters: dict | None = None) -> QuerySet[Timekeeper]:
    return Timekeeper.objects.all()


def time_entry_list(*, filters: dict | None = None) -> QuerySet[TimeEntry]:
    """Time entries with their matter, timekeeper and link, filtered by the link filters."""
    filters = filters or {}
    return records_filter_by_link(
        TimeEntry.objects.select_related("link", "matter", "timekeeper"),
        link_status=filters.get("link_status"),
        error_code=filters.get("error_code"),
        system=filters.get("system"),
        error_system=filters.get("error_system"),
    )


def billing_batch_list(filters: dict | None = None) -> QuerySet[BillingBatch]:
    return BillingBatch.objects.select_related("created_by").order_by("-created_at")
