"""The tick core's numeric limits and the argument checks both implementations share.

The native core and the reference raise the same exception types with the
same messages, so a caller (and the differential tests) cannot tell them
apart by their errors either.
"""

from __future__ import annotations

__all__ = [
    "MAX_CAPACITY",
    "MAX_TIERS",
    "PRICE_MAX",
    "check_agent",
    "check_count",
    "check_price",
    "check_units",
]

PRICE_MAX = 2**32 - 1
"""Largest bid, in micro-units (uint32 fixed point: $4294.967295)."""
MAX_TIERS = 4096
"""Tiers a two-level 64 x 64 bitmap covers."""
MAX_CAPACITY = 2**24
"""Most agent slots one book may have."""


def _check_int(value: object, field: str) -> int:
    if type(value) is not int:
        raise TypeError(f"{field} must be an int, got {type(value).__name__} {value!r}")
    return value


def check_price(value: object, field: str = "price") -> int:
    """Return ``value`` if it is an int price in 0..PRICE_MAX micro-units."""
    price = _check_int(value, field)
    if price < 0:
        raise ValueError(f"{field} {price} is negative")
    if price > PRICE_MAX:
        raise ValueError(f"{field} {price} exceeds the maximum {PRICE_MAX} micro-units")
    return price


def check_units(value: object) -> int:
    """Return ``value`` if it is an int number of units in 1..2**32-1."""
    units = _check_int(value, "units")
    if not 1 <= units <= PRICE_MAX:
        raise ValueError(f"units {units} is out of range 1..{PRICE_MAX}")
    return units


def check_agent(value: object, capacity: int) -> int:
    """Return ``value`` if it is an agent slot in 0..capacity-1."""
    agent = _check_int(value, "agent")
    if not 0 <= agent < capacity:
        raise ValueError(
            f"agent {agent} is out of range: this book holds agents 0..{capacity - 1}"
        )
    return agent


def check_count(value: object, field: str, low: int, high: int) -> int:
    """Return ``value`` if it is an int in low..high (a size or parameter)."""
    count = _check_int(value, field)
    if not low <= count <= high:
        raise ValueError(f"{field} {count} is out of range {low}..{high}")
    return count
