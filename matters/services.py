"""Matter balances read from LA (ARCHITECTURE §2 "Matter balances").

The hub keeps its last copy of each matter's balances. It is refreshed on a schedule,
when LA announces a billing, and on request; when LA can't be reached the last copy
is served as stale with the reason — never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sync.connectors import la_client
from sync.connectors.base import ConnectorError
from sync.models import Link

from .models import Matter, MatterBalance

# Figures older than this are marked stale even when the last refresh worked.
BALANCE_MAX_AGE = timedelta(minutes=30)
MONEY_FIELDS = [
    "trust",
    "wip_fees",
    "wip_disbursements",
    "accounts_receivable",
    "unallocated_credit",
]


@dataclass
class BalanceView:
    balance: MatterBalance
    stale: bool
    reason: str


def matter_balance_refresh(*, matter: Matter) -> MatterBalance:
    """Read the matter's balances from LA into the hub's copy; on failure keep the copy
    and record why."""
    balance, _ = MatterBalance.objects.get_or_create(matter=matter)
    la_id = Link.objects.filter(matter=matter).values_list("la_id", flat=True).first()
    now = timezone.now()
    if not la_id:
        MatterBalance.objects.filter(pk=balance.pk).update(
            last_error="The matter is not linked to LA yet.", last_error_at=now
        )
    else:
        try:
            figures = la_client().file_balance(la_id)
        except ConnectorError as error:
            MatterBalance.objects.filter(pk=balance.pk).update(
                last_error=error.message, last_error_at=now
            )
        else:
            MatterBalance.objects.filter(pk=balance.pk).update(
                **{name: Decimal(str(figures[name])) for name in MONEY_FIELDS},
                currency=figures.get("currency") or balance.currency,
                as_of=parse_datetime(figures["as_of"]) if figures.get("as_of") else now,
                last_error="",
                last_error_at=None,
            )
    balance.refresh_from_db()
    return balance


def matter_balance_view(*, matter: Matter, refresh: bool = False) -> BalanceView:
    """The balances to show: refreshed first if asked or never read, else the copy."""
    balance = MatterBalance.objects.filter(matter=matter).first()
    if refresh or balance is None or balance.as_of is None:
        balance = matter_balance_refresh(matter=matter)
    return BalanceView(balance, *balance_staleness(balance))


def balance_staleness(balance: MatterBalance) -> tuple[bool, str]:
    if balance.as_of is None:
        return True, balance.last_error or "Never read from LA."
    if balance.last_error_at and balance.last_error_at >= balance.as_of:
        return True, balance.last_error
    if timezone.now() - balance.as_of > BALANCE_MAX_AGE:
        return True, "Not refreshed in the last 30 minutes."
    return False, ""


def matter_balances_refresh_all() -> int:
    """Refresh every matter linked to LA (the scheduled pass)."""
    count = 0
    for matter in Matter.objects.filter(link__la_id__isnull=False).iterator():
        matter_balance_refresh(matter=matter)
        count += 1
    return count


def matter_balances_refresh_for_files(*, la_file_ids: list[str]) -> int:
    """Refresh the matters of the given LA files (after LA bills them)."""
    matters = Matter.objects.filter(link__la_id__in=[str(i) for i in la_file_ids])
    for matter in matters:
        matter_balance_refresh(matter=matter)
    return len(matters)
