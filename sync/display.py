"""How the admin shows times, money and yes/no: the few formatting rules every page shares.

- A time is shown in the firm's time zone (TIME_ZONE) with the zone named
  ("2026-03-02 14:05 NZDT"), as Django's own pages show it (sync/formats).
- Money always carries its currency ("1,250.00 USD"); amounts are `Decimal`.
- A yes/no that is good news is plain text, never a red cross.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.html import format_html

NONE = "—"


# The history's attempts can be seconds apart: it shows them to the second.
PRECISE_FORMAT = "Y-m-d H:i:s T"


def local_time(value: datetime.datetime | None, *, empty: str = NONE, seconds: bool = False) -> str:
    """`value` in the firm's time zone, with the zone named."""
    if value is None:
        return empty
    local = timezone.localtime(value)
    if seconds:
        return formats.date_format(local, PRECISE_FORMAT)
    return formats.date_format(local, "DATETIME_FORMAT")


def local_time_html(value: datetime.datetime | None, *, empty: str = NONE):
    """`local_time` inside a `<time>` element carrying the exact moment."""
    if value is None:
        return empty
    return format_html(
        '<time datetime="{}" class="hub-time">{}</time>', value.isoformat(), local_time(value)
    )


def money(value: Decimal | None, currency: str) -> str:
    """An amount with its currency: "1,250.00 USD"."""
    if value is None:
        return NONE
    return f"{Decimal(value):,.2f} {currency}"


def yes_no(value: bool, *, yes: str = "Yes", no: str = "No", bad_when: bool | None = None):
    """Yes or No as words; only the answer that is bad news (`bad_when`) is marked."""
    text = yes if value else no
    if bad_when is not None and value == bad_when:
        return format_html('<strong class="hub-bad-news">{}</strong>', text)
    return text
