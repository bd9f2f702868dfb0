"""The one check of a solver's time limit, shared by every clearing method.

Example:
    >>> check_time_limit(2), check_time_limit(None)
    (2.0, None)
    >>> check_time_limit(-1)
    Traceback (most recent call last):
    ...
    ValueError: time_limit -1 must be a finite number of seconds >= 0
"""

from __future__ import annotations

import math

__all__ = ["check_time_limit"]


def check_time_limit(value: object, field: str = "time_limit") -> float | None:
    """Return ``value`` as seconds (None for no limit) if it is a finite number >= 0.

    Raises ValueError naming ``field`` and the value for negatives, NaN,
    infinities, bools and non-numbers.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
        math.isfinite(value) and value >= 0
    ):
        raise ValueError(f"{field} {value!r} must be a finite number of seconds >= 0")
    return float(value)
