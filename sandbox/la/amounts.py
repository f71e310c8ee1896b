"""Money and hours in LA: `Decimal`, two places, rounded half up. Written down once here.

- Money is kept to the cent. An amount sent with more places is refused (422) rather
  than rounded, because rounding would silently change what a client is billed.
- Hours are kept to the hundredth of an hour; more places are rounded half up
  (PM records minutes, so 20 minutes = 0.3333… h arrives and is kept as 0.33 h).
- A time entry sent without an amount is billed at hours x rate, rounded half up to
  the cent.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def round_hours(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_for(*, hours: Decimal, rate: Decimal) -> Decimal:
    return round_money(round_hours(hours) * rate)
