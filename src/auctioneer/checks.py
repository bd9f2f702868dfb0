"""Argument checks shared across areas: a parameter that must be an int in a range.

Example:
    >>> require_int(5, "bids", 0)
    5
    >>> require_int(True, "bids", 0)
    Traceback (most recent call last):
      ...
    TypeError: bids must be an int, got True
"""

from __future__ import annotations

__all__ = ["require_int"]


def require_int(value: object, name: str, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) in ``low..high``; else name it in the error."""
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} {value} is out of range {bound}")
    return value
