"""The GPU plane's batch auction: GPU milliseconds and memory, sold 10-100 times a second.

Its own area: it prices GPU windows with the tick books and the clearing
solver, and uses nothing of :mod:`auctioneer.thermal` (the thermal plane sets
the reserve price it is given).

* :mod:`~auctioneer.gpu.plane` -- ``GpuPlane.dispatch``: k-unit Vickrey, exact
  bundles + VCG, or the general clearing as the fallback.
* :mod:`~auctioneer.gpu.solver` -- the exact bundle solver (branch and bound)
  with its pure-Python reference; ``gpu_core.c`` is its native form, bound as
  ``auctioneer.gpu._gpu``.

Example:
    >>> from auctioneer.gpu import GpuBid, GpuPlane
    >>> plane = GpuPlane(dispatch_hz=100, slice_ms=1)
    >>> result = plane.dispatch([GpuBid.unit(1, 5_000), GpuBid.unit(2, 3_000)], now_s=0.0,
    ...                         reserve_per_ms=1_000)
    >>> result.path, result.winners, result.payments
    ('vickrey', (1, 2), (1000, 1000))
"""

from auctioneer.gpu.plane import (
    MAX_DISPATCH_HZ,
    MIN_DISPATCH_HZ,
    PATHS,
    GpuBid,
    GpuDispatch,
    GpuPlane,
)
from auctioneer.gpu.solver import DEFAULT_MAX_NODES, GpuSolution, solve, solve_reference

__all__ = [
    "DEFAULT_MAX_NODES",
    "MAX_DISPATCH_HZ",
    "MIN_DISPATCH_HZ",
    "PATHS",
    "GpuBid",
    "GpuDispatch",
    "GpuPlane",
    "GpuSolution",
    "solve",
    "solve_reference",
]
