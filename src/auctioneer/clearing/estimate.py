"""The DP's problem form and its back-of-the-envelope cost, known before solving.

Kelly's point about dynamic programming is that simple arithmetic on the
instance says whether it will work: the table has one cell per point of the
capacity grid, and each bid touches every cell once per bundle. This module
computes that arithmetic (:func:`estimate_dp`) on the knapsack form of
:mod:`auctioneer.clearing.knapsack`, which the solvers in
:mod:`auctioneer.clearing.dp` run on.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> auction = Auction((Resource("rooms", 100), Resource("parking", 100)), tuple(
    ...     Bid(f"b{t}", (Bundle((3, 6), 18), Bundle((4, 8), 26), Bundle((5, 12), 31)))
    ...     for t in range(100)))
    >>> e = estimate_dp(auction)
    >>> e.form, e.grid, e.cells, e.operations    # 4 options x 101 x (101 + 12 padding)
    ('dense', (101, 101), 10201, 4565200)
    >>> e.describe()
    'dense DP: 101x101 cells x 100 bids, 4.57e+06 cell operations, 8.97 MiB, ~...'
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Literal

from auctioneer.clearing.knapsack import Normalized, Option, normalize
from auctioneer.clearing.model import Auction

__all__ = [
    "DENSE_SAFE_MAGNITUDE",
    "HIGHS_IMPORT_SECONDS",
    "NUMPY_IMPORT_SECONDS",
    "DpEstimate",
    "estimate_dp",
    "estimates",
    "format_bytes",
    "import_seconds",
]

Form = Literal["dense", "sparse"]

# Cost model constants, measured on the development machine (2 shared cores,
# numpy 2.4, Python 3.11) by timing the solvers on uncorrelated random
# instances with
#   .venv/bin/python -c "from auctioneer.clearing.bench import calibrate; calibrate()"
# which prints measured against predicted seconds per form. Within ~30% for
# the dense form (which is all a back-of-the-envelope figure needs).
# Dense: one contiguous add + maximum per move costs ~0.5 ns per cell while
# the tables sit in cache and ~0.9 ns beyond; plus ~4 us of Python and ufunc
# call overhead per move.
DENSE_SECONDS_PER_CELL = 0.8e-9
DENSE_SECONDS_PER_MOVE = 4e-6
# The lean form (int8 decisions instead of whole tables) does four strided
# passes per move instead of two contiguous ones.
LEAN_SLOWDOWN = 2.5
# Sparse: one tuple build and dict probe per (state, option) pair, ~1.2 us.
# Its operation count is an upper bound (states capped by both the grid and
# the number of choice combinations), in practice 2-10x above the pairs
# actually tried, so its predictions err on the slow side.
SPARSE_SECONDS_PER_OPERATION = 1.2e-6
# A state costs a tuple key and a dict slot in its stage's value table and
# again in its back-pointer table: tracemalloc measured 150 bytes at 2
# resources and 220 at 6.
SPARSE_BYTES_PER_STATE = 140
SPARSE_BYTES_PER_RESOURCE = 13

# What a solver's first use costs a fresh process before it computes anything:
# importing numpy (the dense form) and highspy (the MILP, beyond numpy). The
# smallest of three `python -X importtime -c "import numpy"` (and highspy)
# totals on the development machine, under load: 66 ms and 233 ms. On a small
# instance these dwarf the solve (`auctioneer clear` on 10 bids: dense 2 ms,
# sparse 30-45 ms), so the start-up budget of 250 ms hangs on counting them.
NUMPY_IMPORT_SECONDS = 0.066
HIGHS_IMPORT_SECONDS = 0.167


def import_seconds(module: str, seconds: float) -> float:
    """``seconds`` if ``module`` is not imported yet in this process, else 0.

    The solver choice counts a first import as part of a method's cost: in a
    fresh command-line process a tiny auction clears faster by the pure-Python
    sparse DP than numpy imports, while a warm process (a benchmark, a
    service) has numpy already and keeps the dense form.
    """
    return 0.0 if module in sys.modules else seconds


DENSE_SAFE_MAGNITUDE = 2**60
"""Largest sum of per-bid price magnitudes the int64 tables take.

Unreachable cells hold ``-2**62`` plus at most this much in prices, so they
stay below every real revenue (>= -2**60) and above the int64 minimum: no
overflow and no floats, and no pass to re-clamp the sentinel.
"""


@dataclass(frozen=True, slots=True)
class DpEstimate:
    """Back-of-the-envelope cost of one DP form on one auction, before solving.

    ``cells`` is the number of states per stage (an upper bound for the
    sparse form, which stores only the reachable ones), ``operations`` the
    cell updates (about states x options per bid, summed over bids; dense
    tables count their sentinel padding too),
    ``bytes`` the memory of the tables kept for reconstruction, and
    ``seconds`` the predicted time from the measured per-operation constants.
    For the dense form ``lean_bytes`` and ``lean_seconds`` are the cost of
    keeping one small-int decision per cell instead of whole int64 tables.
    ``unusable`` says why the form cannot run at all (None when it can).
    """

    form: Form
    bids: int
    grid: tuple[int, ...]
    winner_states: int
    cells: int
    operations: int
    bytes: int
    seconds: float
    lean_bytes: int
    lean_seconds: float
    unusable: str | None = None

    def describe(self) -> str:
        """One line: the form, its size, operations, memory and predicted time."""
        return (f"{self.form} DP: {self.size()}, {self.operations:.3g} cell operations, "
                f"{format_bytes(self.bytes)}, ~{self.seconds:.3g} s predicted")

    def size(self) -> str:
        """The state space in words, e.g. ``101^4 cells x 100 bids``."""
        grid = self.grid
        if len(grid) > 2 and len(set(grid)) == 1:
            text = f"{grid[0]}^{len(grid)}"
        else:
            text = "x".join(str(g) for g in grid) or "1"
        if self.winner_states > 1:
            text += f"x{self.winner_states} winner counts"
        bound = "at most " if self.form == "sparse" else ""
        return f"{bound}{text} cells x {self.bids} bids"

    def as_stats(self) -> dict[str, int | float | str]:
        """The numbers as ``Clearing.stats`` entries, prefixed ``estimate_``."""
        return {
            "estimate_form": self.form,
            "estimate_cells": self.cells,
            "estimate_operations": self.operations,
            "estimate_bytes": self.bytes,
            "estimate_seconds": self.seconds,
        }


def format_bytes(n: int) -> str:
    """``2147483648`` -> ``'2 GiB'``; three significant digits."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _dense(auction: Auction, norm: Normalized) -> DpEstimate:
    cells = norm.cells
    moves = sum(_moves_of(norm, options) for options in norm.options)
    operations = moves * norm.padded_cells
    table = 8 * norm.padded_cells
    seconds = operations * DENSE_SECONDS_PER_CELL + moves * DENSE_SECONDS_PER_MOVE
    item = 1 if max((2 * len(o) for o in norm.options), default=0) < 127 else 2
    unusable = None
    magnitude = sum(max((abs(o.price) for o in options), default=0) for options in norm.options)
    if magnitude > DENSE_SAFE_MAGNITUDE:
        unusable = (f"dense DP cannot hold prices summing to {magnitude:.3g} micro-units in "
                    f"int64 tables (limit 2^60)")
    return DpEstimate(
        "dense", len(auction.bids), norm.grid, norm.winner_states, cells, operations,
        bytes=(len(norm.options) + 3) * table, seconds=seconds,
        lean_bytes=len(norm.options) * cells * item + 4 * 8 * cells,
        lean_seconds=seconds * LEAN_SLOWDOWN, unusable=unusable,
    )


def _moves_of(norm: Normalized, options: tuple[Option, ...]) -> int:
    # A winning option under a capped count (no upper bound) is two moves:
    # count + 1, and count at the cap staying there.
    capped = norm.counting and norm.max_winners is None
    return sum(1 + (capped and o.wins) for o in options)


def _sparse(auction: Auction, norm: Normalized) -> DpEstimate:
    # After bid t a usage coordinate lies between the clamp floor (capacity
    # minus what bids t+1.. can add) and the smaller of capacity and what
    # bids ..t can add, so the states are at most that box (times the winner
    # counts), and at most the choice combinations so far.
    dims = len(norm.capacity)
    most = [[max((o.shift[r] for o in options), default=0) for r in range(dims)]
            for options in norm.options]
    rest = list(norm.capacity)  # capacity minus what bids t+1.. can add
    for shifts in most:
        rest = [c - m for c, m in zip(rest, shifts, strict=True)]
    added = [0] * dims
    per_state = SPARSE_BYTES_PER_STATE + SPARSE_BYTES_PER_RESOURCE * dims
    states = 1
    operations = stored = 0
    for options, shifts in zip(norm.options, most, strict=True):
        operations += states * len(options)
        added = [a + m for a, m in zip(added, shifts, strict=True)]
        rest = [f + m for f, m in zip(rest, shifts, strict=True)]
        # (A usage below the floor is clamped up to it, so the top is at least it.)
        box = norm.winner_states * math.prod(
            max(min(c, a), f, 0) - max(f, 0) + 1
            for c, a, f in zip(norm.capacity, added, rest, strict=True))
        states = min(box, states * len(options))
        stored += states
    return DpEstimate(
        "sparse", len(auction.bids), norm.grid, norm.winner_states, norm.cells, operations,
        bytes=stored * per_state,
        seconds=operations * SPARSE_SECONDS_PER_OPERATION,
        lean_bytes=stored * per_state,
        lean_seconds=operations * SPARSE_SECONDS_PER_OPERATION,
    )


def estimates(auction: Auction, norm: Normalized | None = None) -> tuple[DpEstimate, DpEstimate]:
    """The dense and the sparse estimate; O(bids x bundles)."""
    norm = normalize(auction) if norm is None else norm
    return _dense(auction, norm), _sparse(auction, norm)


def estimate_dp(auction: Auction, form: str = "auto") -> DpEstimate:
    """Predict the cost of clearing ``auction`` by DP before solving; O(bids x bundles).

    ``form`` is ``"dense"`` (numpy tables over the whole capacity grid),
    ``"sparse"`` (hash tables of reachable states; the estimate is an upper
    bound) or ``"auto"``: the one predicted faster among those usable.
    Nothing is allocated, however large the instance.
    """
    if form not in ("auto", "dense", "sparse"):
        raise ValueError(f"form {form!r} must be 'auto', 'dense' or 'sparse'")
    dense, sparse = estimates(auction)
    if form == "dense":
        return dense
    if form == "sparse":
        return sparse
    return dense if dense.unusable is None and dense.seconds <= sparse.seconds else sparse
