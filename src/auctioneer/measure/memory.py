"""Peak Python memory of one call, as the benchmarks report it.

Example:
    >>> peak_bytes(lambda: bytearray(1 << 20)) >= 1 << 20
    True
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

__all__ = ["peak_bytes"]


def peak_bytes(call: Callable[[], object]) -> int:
    """tracemalloc's peak during ``call()`` beyond what was allocated before it, bytes.

    Traces only for the call unless tracing was already on (then it is left on).
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base)
