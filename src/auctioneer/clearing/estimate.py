"""The DP's problem form and its back-of-the-envelope cost, known before solving.

Kelly's point about dynamic programming is that simple arithmetic on the
instance says whether it will work: the table has one cell per point of the
capacity grid, and each bid touches every cell once per bundle. This module
computes that arithmetic (:func:`estimate_dp`) and the normalised problem
the solvers in :mod:`auctioneer.clearing.dp` run on (:func:`normalize`).

Normalisation (sellers and must-win bids): for each bid ``t`` and resource
``r`` let ``m[t][r]`` be the smallest quantity among the bid's *options*
(0 for the zero bundle when the bid may lose; negative when it can sell;
positive when it must win and every bundle takes some). Every option's
*shift* ``q - m[t]`` is then >= 0, and a choice fits capacity ``C`` exactly
when its shifts fit ``C' = C - sum_t m[t]``. So the DP is a plain knapsack
over the grid ``[0, C'_r]`` per resource: ``C'_r`` is the capacity plus
everything the sellers could add, minus what must-win bids surely take. A
partial sum above ``C'`` can never come back (shifts only add), which is
exactly "exceeds capacity even if every later bid sold all it could"; no
other state is needed. ``C'_r < 0`` means infeasible outright.

Winner-count bounds add one state axis, the number of winners so far: up to
``max_winners`` when given, else capped at ``min_winners`` (more is as good
as enough). The axis is added only when the bounds can bind.

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
from dataclasses import dataclass
from typing import Literal, NamedTuple

from auctioneer.clearing.brute import bid_options
from auctioneer.clearing.model import Auction

__all__ = [
    "DENSE_SAFE_MAGNITUDE",
    "DpEstimate",
    "Normalized",
    "Option",
    "estimate_dp",
    "format_bytes",
    "normalize",
]

Form = Literal["dense", "sparse"]

# Cost model constants, measured on the development machine (2 shared cores,
# numpy 2.4, Python 3.11) by timing the solvers on uncorrelated random
# instances with
#   .venv/bin/python -c "from auctioneer.clearing.estimate import _calibrate; _calibrate()"
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

DENSE_SAFE_MAGNITUDE = 2**60
"""Largest sum of per-bid price magnitudes the int64 tables take.

Unreachable cells hold ``-2**62`` plus at most this much in prices, so they
stay below every real revenue (>= -2**60) and above the int64 minimum: no
overflow and no floats, and no pass to re-clamp the sentinel.
"""


class Option(NamedTuple):
    """One choice open to a bid, in the normalised (shifted) coordinates.

    A NamedTuple rather than a frozen dataclass: one is built per bundle on
    every solve, and a frozen dataclass's ``__init__`` costs several times more.
    """

    bundle: int | None
    """Index of the bundle in the bid, None for the zero bundle."""
    shift: tuple[int, ...]
    """Quantities minus the bid's per-resource minimum over its options: all >= 0."""
    price: int
    wins: bool
    """Whether choosing it makes the bid a winner (any bundle, even an explicit zero one)."""


@dataclass(frozen=True, slots=True)
class Normalized:
    """An auction rewritten as a knapsack with non-negative weights (see the module doc)."""

    options: tuple[tuple[Option, ...], ...]
    capacity: tuple[int, ...]
    """``C'``: the grid runs over 0..C'_r per resource."""
    min_winners: int
    max_winners: int | None
    """None when no upper bound can bind (it is at least the number of bids)."""
    winner_states: int
    """Length of the winner-count axis: 1 when the bounds cannot bind, else the cap + 1."""
    infeasible: str | None
    """Why the auction is infeasible without solving, or None."""
    padding: tuple[int, ...]
    """Sentinel cells the dense tables add after each resource axis (see :mod:`.dp`)."""

    @property
    def counting(self) -> bool:
        """Whether the DP tracks the number of winners."""
        return self.winner_states > 1 or self.max_winners == 0

    @property
    def grid(self) -> tuple[int, ...]:
        """Axis lengths of the capacity grid, one per resource."""
        return tuple(c + 1 for c in self.capacity)

    @property
    def cells(self) -> int:
        """States per stage: grid points times winner counts."""
        return self.winner_states * math.prod(self.grid)

    @property
    def padded(self) -> tuple[int, ...]:
        """Shape of a dense table: winner counts, then each resource axis with its padding."""
        return (self.winner_states, *(g + p for g, p in zip(self.grid, self.padding, strict=True)))

    @property
    def padded_cells(self) -> int:
        """Cells of a dense table, padding included."""
        return math.prod(self.padded)


def normalize(auction: Auction) -> Normalized:
    """Shift every bid's options to non-negative quantities; O(total bundles x resources)."""
    dims = auction.dimensions
    all_options: list[tuple[Option, ...]] = []
    low_total = [0] * dims
    infeasible: str | None = None
    zero = (0,) * dims
    for t, bid in enumerate(auction.bids):
        choices = bid_options(auction, t)
        if not choices:
            infeasible = infeasible or f"bid {t} {bid.name!r} must win but has no admissible bundle"
            all_options.append(())
            continue
        quantities = [zero if j is None else bid.bundles[j].quantities for j in choices]
        low = [min(column) for column in zip(*quantities, strict=True)] if dims else []
        for r in range(dims):
            low_total[r] += low[r]
        all_options.append(tuple([
            Option(j, tuple([a - b for a, b in zip(q, low, strict=True)]),
                   0 if j is None else bid.bundles[j].price, j is not None)
            for j, q in zip(choices, quantities, strict=True)
        ]))
    capacity = tuple(c - low for c, low in zip(auction.capacities, low_total, strict=True))
    if infeasible is None:
        short = [r.name for r, c in zip(auction.resources, capacity, strict=True) if c < 0]
        if short:
            infeasible = f"must-win bids take more than the capacity of {', '.join(short)}"
    bids = len(auction.bids)
    high = auction.max_winners if auction.max_winners is not None and auction.max_winners < bids \
        else None
    if infeasible is None and auction.min_winners > bids:
        infeasible = f"min_winners {auction.min_winners} exceeds the {bids} bids"
    winner_states = 1 + (high if high is not None else auction.min_winners)
    if infeasible is not None:
        capacity = tuple(max(c, 0) for c in capacity)
        winner_states = 1
    # Each padded axis needs as many sentinel cells as the largest shift
    # along it that fits the grid (larger ones are never used); the outermost
    # axis needs none (see dp.py).
    padding = [
        min(c, max((o.shift[r] for options in all_options for o in options), default=0))
        for r, c in enumerate(capacity)
    ]
    if padding and winner_states == 1:
        padding[0] = 0
    return Normalized(tuple(all_options), capacity, auction.min_winners, high, winner_states,
                      infeasible, tuple(padding))


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


def _calibrate() -> None:  # pragma: no cover - a measurement, run by hand
    import random
    import statistics
    import time

    from auctioneer.clearing.dp import solve_dp
    from auctioneer.clearing.model import Bid, Bundle, Resource

    rng = random.Random(1)

    def instance(bids: int, bundles: int, dims: int, capacity: int) -> Auction:
        return Auction(
            tuple(Resource(f"r{i}", capacity) for i in range(dims)),
            tuple(Bid(f"b{t}", tuple(
                Bundle(tuple(rng.randint(0, capacity // 5) for _ in range(dims)),
                       rng.randint(0, 1000)) for _ in range(bundles)))
                for t in range(bids)))

    cases = [(100, 3, 2, 100, "dense"), (200, 3, 3, 40, "dense"), (400, 5, 1, 1000, "dense"),
             (16, 3, 4, 30, "sparse"), (10, 4, 6, 20, "sparse"), (40, 2, 2, 100, "sparse")]
    for bids, bundles, dims, capacity, form in cases:
        auction = instance(bids, bundles, dims, capacity)
        e = estimate_dp(auction, form)
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            result = solve_dp(auction, form=form, max_bytes=2**34)
            runs.append(time.perf_counter() - start)
        print(f"{bids}x{bundles}x{dims} cap {capacity} {form}: measured "
              f"{statistics.median(runs):.4f} s, predicted {e.seconds:.4f} s, "
              f"{result.status.value}, states {result.stats.get('states', '-')}, "
              f"operations {result.stats.get('operations', '-')} (bound {e.operations:.3g})")

    # The headline case: 100 bids x 3 bundles x 2 resources of capacity 100,
    # and all VCG payments (their clearing included) against one clearing.
    from auctioneer.clearing.vcg import vcg_payments

    auctions = [instance(100, 3, 2, 100) for _ in range(5)]
    clearing, payments = [], []
    for _ in range(21):
        for auction in auctions:
            start = time.perf_counter()
            solve_dp(auction, form="dense")
            middle = time.perf_counter()
            vcg_payments(auction)
            clearing.append(middle - start)
            payments.append(time.perf_counter() - middle)
    one, vcg = statistics.median(clearing), statistics.median(payments)
    print(f"100x3x2 cap 100 dense, median of {len(clearing)}: clearing {one * 1e3:.2f} ms, "
          f"clearing + all VCG payments {vcg * 1e3:.2f} ms ({vcg / one:.2f}x)")


if __name__ == "__main__":  # pragma: no cover
    _calibrate()
