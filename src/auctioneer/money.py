"""Money as integer micro-units: the one rule, parsing, formatting and checking.

**The rule, everywhere** -- Python, JSON and YAML files, the HTTP API: an
**integer is micro-units** (millionths of the currency unit, $0.000001) and a
**decimal string is currency units**. ``18`` is 18 micro-units ($0.000018)
and ``"18"`` is $18 (18,000,000 micro-units), whether it is a Python argument
(``parse_money("18")``), a JSON file (``"price": "18"`` or ``"price":
18000000``) or a request body (which takes integers only). Floats are refused
wherever money goes: binary floats cannot hold it exactly, and ``18.5``
would leave the unit to guesswork. Constructors (``Bundle``, ``Pool``, ...)
take ints; write ``parse_money("18.50")`` for an amount in dollars.

Micro-units suit the finest prices the project handles (CPU time by the
microsecond costs fractions of a cent) and keep every sum exact. Amounts span
``-MONEY_MAX..MONEY_MAX`` (signed 64-bit, about 9.2 trillion units). The tick
core stores bids in 32 bits (``auctioneer.tick.PRICE_MAX``, $4294.967295),
its own narrower limit.

Example:
    >>> parse_money("$1.25")
    1250000
    >>> parse_money(18), parse_money("18")    # int: micro-units; string: currency units
    (18, 18000000)
    >>> format_money(850_000)
    '$0.85'
    >>> format_money(1_250_001)
    '$1.250001'
    >>> parse_money(0.85)
    Traceback (most recent call last):
      ...
    auctioneer.money.MoneyError: amount 0.85 is a float: binary floats cannot hold money ...
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "MICROS",
    "MONEY_MAX",
    "MoneyError",
    "check_money",
    "format_money",
    "parse_money",
]

MICROS = 1_000_000
"""Micro-units per currency unit."""
MONEY_MAX = 2**63 - 1
"""Largest magnitude of an amount, in micro-units."""

_AMOUNT = re.compile(
    r"""\s*(?P<sign>[+-]?)\s*\$?\s*
        (?P<whole>\d{1,3}(?:,\d{3})+|\d+)?
        (?:\.(?P<frac>\d*))?\s*""",
    re.VERBOSE,
)


class MoneyError(ValueError):
    """An amount that is not exact integer money; names the field and the value."""

    def __init__(self, field: str, value: object, why: str) -> None:
        super().__init__(f"{field} {value!r} {why}")
        self.field = field
        self.value = value


def check_money(value: object, field: str = "amount") -> int:
    """Return ``value`` if it is an int amount of micro-units within range.

    Refuses floats (and bools), whatever their value, so a stray ``0.1``
    fails loudly instead of rounding.
    """
    if isinstance(value, float):
        raise MoneyError(field, value, "is a float: binary floats cannot hold money exactly; "
                         f"pass a string such as '{value}'")
    if isinstance(value, str):
        raise MoneyError(field, value, "is a string: this takes an int of micro-units; "
                         f"parse_money({value!r}) reads currency units")
    if type(value) is not int:
        raise MoneyError(field, value, f"is a {type(value).__name__}, not an int of micro-units")
    if not -MONEY_MAX <= value <= MONEY_MAX:
        raise MoneyError(field, value, f"is outside ±{MONEY_MAX} micro-units")
    return value


def parse_money(text: object, field: str = "amount") -> int:
    """An amount in micro-units, by the rule: a string (or Decimal) of currency units --
    ``"0.85"``, ``"$1.25"``, ``"-3"``, ``"1,000.5"`` -- or an int of micro-units as it is.

    At most six decimal places may be non-zero: finer amounts are refused,
    never rounded. NaN, infinities, floats, bools and out-of-range amounts
    raise :class:`MoneyError` naming ``field`` and the value.
    """
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise MoneyError(field, text, "is not a finite number")
        return _from_decimal(text, text, field)
    if not isinstance(text, str):
        return check_money(text, field)  # an int is micro-units; floats and others raise
    match = _AMOUNT.fullmatch(text)
    if match is None or not (match["whole"] or match["frac"]):
        raise MoneyError(field, text, "is not an amount like '0.85' or '$1.25'")
    digits = f"{match['sign']}{(match['whole'] or '0').replace(',', '')}.{match['frac'] or '0'}"
    try:
        amount = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise MoneyError(field, text, "is not a number") from None
    return _from_decimal(amount, text, field)


def _from_decimal(amount: Decimal, original: object, field: str) -> int:
    micros = amount * MICROS
    if micros != micros.to_integral_value():
        raise MoneyError(field, original, "has more than six decimal places (below a micro-unit)")
    value = int(micros)
    if not -MONEY_MAX <= value <= MONEY_MAX:
        raise MoneyError(field, original, f"is outside ±{MONEY_MAX} micro-units")
    return value


def format_money(micros: int, symbol: str = "$") -> str:
    """Format micro-units as ``$1.25``: two decimals at least, six at most, no rounding."""
    value = check_money(micros)
    whole, frac = divmod(abs(value), MICROS)
    digits = f"{frac:06d}".rstrip("0").ljust(2, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{whole:,}.{digits}"
