"""Reads for the LA API: filtered, ordered querysets that never cause N+1 queries.

Every list is ordered by id, so paging is stable while records are added, and can be
filtered by `modified_since` (records modified at or after that instant).
"""

import datetime

from django.db.models import QuerySet

from .models import Contact, FeeEarner, File, Invoice, LedgerTransaction, TimeEntry, Webhook


def _filtered(queryset: QuerySet, **lookups) -> QuerySet:
    return queryset.filter(**{name: value for name, value in lookups.items() if value is not None})


def contact_list(
    *,
    modified_since: datetime.datetime | None = None,
    pm_contact_id: str | None = None,
    pm_contact_ids: list[str] | None = None,
    contact_number: str | None = None,
    email: str | None = None,
) -> QuerySet[Contact]:
    return _filtered(
        Contact.objects.order_by("pk"),
        modified_at__gte=modified_since,
        pm_contact_id=pm_contact_id,
        pm_contact_id__in=pm_contact_ids,
        contact_number=contact_number,
        email__iexact=email,
    )


def file_list(
    *,
    modified_since: datetime.datetime | None = None,
    pm_matter_id: str | None = None,
    pm_matter_ids: list[str] | None = None,
    file_number: str | None = None,
    contact: int | None = None,
) -> QuerySet[File]:
    return _filtered(
        File.objects.order_by("pk"),
        modified_at__gte=modified_since,
        pm_matter_id=pm_matter_id,
        pm_matter_id__in=pm_matter_ids,
        file_number=file_number,
        contact_id=contact,
    )


def balance_file_list(
    *, changed_since: datetime.datetime | None = None, file_ids: list[str] | None = None
) -> QuerySet[File]:
    """The files whose balances `GET /balances` answers, by id."""
    return _filtered(
        File.objects.order_by("pk"), balance_changed_at__gte=changed_since, pk__in=file_ids
    )


def fee_earner_list(
    *, modified_since: datetime.datetime | None = None, email: str | None = None
) -> QuerySet[FeeEarner]:
    return _filtered(
        FeeEarner.objects.order_by("pk"), modified_at__gte=modified_since, email__iexact=email
    )


def time_entry_list(
    *,
    modified_since: datetime.datetime | None = None,
    file: int | None = None,
    external_id: str | None = None,
    status: str | None = None,
) -> QuerySet[TimeEntry]:
    return _filtered(
        TimeEntry.objects.order_by("pk"),
        modified_at__gte=modified_since,
        file_id=file,
        external_id=external_id,
        status=status,
    )


def invoice_list(*, file: int | None = None) -> QuerySet[Invoice]:
    return _filtered(Invoice.objects.prefetch_related("lines").order_by("pk"), file_id=file)


def transaction_list(*, file: int) -> QuerySet[LedgerTransaction]:
    return LedgerTransaction.objects.filter(file_id=file).order_by("pk")


def webhook_list() -> QuerySet[Webhook]:
    return Webhook.objects.order_by("pk")
