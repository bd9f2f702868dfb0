"""Argument checks shared across areas: a parameter that must be an int, or a number, in a range.

Example:
    >>> require_int(5, "bids", 0)
    5
    >>> require_int(True, "bids", 0)
    Traceback (most recent call last):
      ...
    TypeError: bids must be an int, got True
    >>> require_number(0.5, "cpu_util", 0, 1)
    0.5
    >>> require_number(float("nan"), "cpu_util", 0, 1)
    Traceback (most recent call last):
      ...
    ValueError: cpu_util nan is out of range 0..1
"""

from __future__ import annotations

import math

__all__ = ["require_int", "require_number"]


def require_int(value: object, name: str, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) in ``low..high``; else name it in the error."""
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} {value} is out of range {bound}")
    return value


def require_number(value: object, name: str, low: float, high: float) -> float:
    """Return ``value`` as a float if it is a finite int or float (not a bool) in ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} {value!r} is out of range {low:g}..{high:g}")
    return float(value)
