"""The tick core's and the bid ring's numeric limits, and the argument checks both
implementations of each (native and reference) share.

The native core and the reference raise the same exception types with the
same messages, so a caller (and the differential tests) cannot tell them
apart by their errors either.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "AGENT_MAX",
    "DEFAULT_TRIES",
    "MAX_CAPACITY",
    "MAX_RING_CAPACITY",
    "MIN_RING_CAPACITY",
    "MULTIPLIER_ONE",
    "MAX_TIERS",
    "PRICE_MAX",
    "UNITS_MAX",
    "Prices",
    "check_agent",
    "check_bid",
    "check_capacity",
    "check_count",
    "check_max",
    "check_price",
    "check_prices",
    "check_tries",
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


# The bid ring and price page (ring.py, ring_reference.py).

AGENT_MAX = 2**64 - 1
"""Largest agent id a bid carries (the seed's ``uint64_t agent_id``)."""
UNITS_MAX = 2**32 - 1
"""Largest units count; 0 withdraws the bid."""
MIN_RING_CAPACITY = 2
"""Smallest ring (Vyukov's queue needs two cells)."""
MAX_RING_CAPACITY = 2**24
"""Largest ring."""
MULTIPLIER_ONE = 1_000_000
"""A multiplier of 1x in the page's fixed point (parts per million)."""
DEFAULT_TRIES = 1_000_000
"""How many times ``read`` retries a page a write keeps overlapping."""
_TICK_MAX = 2**64 - 1


def check_bid(agent: object, price: object, units: object) -> tuple[int, int, int]:
    """Return ``(agent, price, units)`` if each is an int in its range, else raise."""
    return (check_count(agent, "agent", 0, AGENT_MAX), check_price(price),
            check_count(units, "units", 0, UNITS_MAX))


def check_max(value: object) -> int:
    """Return a drain's ``max`` if it is an int in 0..2**32-1."""
    return check_count(value, "max", 0, UNITS_MAX)


def check_capacity(value: object) -> int:
    """Return a ring capacity if it is a power of two in 2..2**24."""
    capacity = check_count(value, "capacity", MIN_RING_CAPACITY, MAX_RING_CAPACITY)
    if capacity & (capacity - 1):
        raise ValueError(f"capacity {capacity} is not a power of two")
    return capacity


def check_tries(value: object) -> int:
    """Return ``read``'s ``tries`` if it is an int in 1..2**32-1."""
    if type(value) is not int or not 1 <= value <= UNITS_MAX:
        raise ValueError(f"tries must be an int in 1..{UNITS_MAX}, got {value!r}")
    return value


class Prices(NamedTuple):
    """One price page snapshot; prices in micro-units, multipliers in ppm."""

    tick: int
    cpu_price: int
    gpu_price: int
    cpu_multiplier: int
    gpu_multiplier: int


def check_prices(tick: object, cpu_price: object, gpu_price: object, cpu_multiplier: object,
                 gpu_multiplier: object) -> Prices:
    """Return the page's fields if tick is a uint64 and the rest uint32, else raise."""
    return Prices(
        check_count(tick, "tick", 0, _TICK_MAX),
        check_price(cpu_price, "cpu_price"),
        check_price(gpu_price, "gpu_price"),
        check_count(cpu_multiplier, "cpu_multiplier", 0, PRICE_MAX),
        check_count(gpu_multiplier, "gpu_multiplier", 0, PRICE_MAX),
    )
