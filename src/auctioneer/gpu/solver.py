"""Exact GPU bundle clearing with VCG payments, small enough for the 100 us dispatch budget.

The GPU plane's bundle auction (:mod:`~auctioneer.gpu.plane`) is a
two-resource XOR knapsack: GPU milliseconds (capacity ``window_ms``, reserve
``reserve_per_ms`` per millisecond) and GPU memory (capacity ``memory``, no
reserve). At dispatch sizes (a few to a few dozen bids of up to a few
bundles) the general :func:`auctioneer.clearing.clear` spends its time on
model building and numpy dispatch, not on search. This module solves it by
depth-first branch and bound instead, natively in ``gpu_core.c``
(:func:`solve`) with this file's :func:`solve_reference` as the line-by-line
Python reference.

**The search.** A bid's *options* are its admissible bundles (price at least
``gpu_ms * reserve_per_ms``) that fit the capacities alone and have a
positive price (a zero-price bundle never beats losing, see the tie rule),
tried highest price first, then the empty choice. Bids are searched in
descending order of their best price per share of both capacities,
``p / (ms / W + mem / M)`` over the effective capacities ``W`` and ``M``
(ties by bid index),
a node's children the highest bound first. The bound is O(1) per node: the
least of the remaining bids' best prices summed and two Lagrangian knapsack
tables, one per resource, each the best of the remaining bids within the
capacity left of its resource with the other resource priced at a multiplier
instead of capped (chosen once per dispatch by bisecting on the root's use of
that resource). Any multiplier >= 0 gives a valid upper bound.

**The tie rule** is :func:`auctioneer.clearing.solve_brute`'s: among optimal
allocations, the lexicographically smallest choice vector in bid order, with
"no bundle" before bundle 0 before bundle 1. The search keeps that order
exactly: a leaf replaces the incumbent when it is worth more, or as much and
lexicographically smaller; a node is pruned when its bound is below the
incumbent, or equal and its choices so far (every bid not yet decided at
"no bundle", the smallest completion) are not lexicographically smaller.

**Payments** are VCG raised to the reserve floor, as the clearing path
computes them: winner ``t`` pays ``max(V(-t) - (V* - price_t),
gpu_ms_t * reserve_per_ms)``. Each ``V(-t)`` is one more search without
``t``, value only, started from the incumbent ``V* - price_t`` (the others'
part of the optimum is feasible without ``t``), so it prunes from the start.

Cost: exponential in the worst case like any exact knapsack search, so
``max_nodes`` bounds it (None is returned past it; the GPU plane then falls
back to the clearing path). ``auctioneer bench thermal`` reports the mean
nodes per dispatch on random batches (its bundle rows' ``nodes`` column).

Example:
    >>> bids = [[(5, 2, 900)], [(10, 1, 1000)], [(5, 0, 300), (4, 4, 350)]]
    >>> s = solve_reference(bids, window_ms=10, memory=4, reserve_per_ms=0)
    >>> s.value, s.choice, s.payments
    (1200, (0, None, 0), (700, 0, 100))
    >>> solve(bids, 10, 4, 0) == s                   # native (or this reference)
    True
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = ["DEFAULT_MAX_NODES", "GpuSolution", "native_available", "solve", "solve_bids",
           "solve_reference"]

DEFAULT_MAX_NODES = 1 << 20
"""Search nodes (all searches of one dispatch together) before :func:`solve` gives up."""

Bundles = Sequence[Sequence[tuple[int, int, int]]]
"""Per bid, its XOR list of ``(gpu_ms, memory, price)`` bundles."""

LAMBDA_STEPS = 8
"""Bisection steps for each table's multiplier (any multiplier gives a valid bound)."""
TABLE_CELLS = 32
"""Most cells on a bound table's axis: a larger capacity is counted in units of
``ceil(capacity / TABLE_CELLS)``, quantities rounded down (still a valid bound,
since a sum of quotients rounded down is at most the sum's). Small tables
cost more search nodes but far less building; 32 was picked from 16-256 by
an ad-hoc timing on 16 bids x 4 bundles that no shipped command repeats."""

Option = tuple[int, int, int, int]
"""``(price, gpu_ms, memory, bundle index)``."""


@dataclass(frozen=True, slots=True)
class GpuSolution:
    """An optimal allocation and its payments; ``choice[t]`` is a bundle index or None.

    ``nodes`` counts the search nodes of all searches (the allocation and
    one per winner for its payment): the native solver walks exactly the
    reference's tree, so it matches too.
    """

    value: int
    choice: tuple[int | None, ...]
    payments: tuple[int, ...]
    nodes: int


class _Budget(Exception):
    """The node budget ran out."""


class _Search:
    """One dispatch's problem in search order, its bound tables and one search's state."""

    __slots__ = ("best", "best_value", "caps", "cur", "lams", "max_nodes", "nodes", "options",
                 "order", "units", "skip", "suffix", "tables", "ties")

    def __init__(self, bids: Bundles, window_ms: int, memory: int, reserve_per_ms: int,
                 max_nodes: int | None) -> None:
        self.max_nodes = max_nodes
        self.nodes = 0
        self.options: list[list[Option]] = []
        for bundles in bids:
            opts = [(p, ms, mem, j) for j, (ms, mem, p) in enumerate(bundles)
                    if p > 0 and p >= ms * reserve_per_ms and ms <= window_ms and mem <= memory]
            opts.sort(key=lambda o: (-o[0], o[3]))
            self.options.append(opts)
        live = [t for t, o in enumerate(self.options) if o]
        # Beyond the sum of every bid's largest quantity, more capacity is no help.
        self.caps = tuple(min(cap, sum(max(o[r] for o in self.options[t]) for t in live))
                          for r, cap in ((1, window_ms), (2, memory)))
        self.order = sorted(live, key=lambda t: (-_density(self.options[t], self.caps), t))
        self.units = tuple(-(-cap // TABLE_CELLS) or 1 for cap in self.caps)
        self.skip = -1
        top = max((self.options[t][0][0] for t in self.order), default=0)
        self.lams = [self.choose(r, top) for r in (0, 1)]
        self.suffix: list[int] = []
        self.tables: list[list[list[int]]] = []
        self.build()
        self.cur = [0] * len(bids)      # rank per bid: 0 none, j + 1 bundle j
        self.best = [0] * len(bids)
        self.best_value = 0
        self.ties = True

    def table(self, r: int, lam: int) -> tuple[list[list[int]], int]:
        """Rows ``[d][c]``: the best of bids ``order[d:]`` but ``skip`` within ``c`` units of
        resource ``r``, the other resource priced at ``lam`` a unit instead of capped (a
        knapsack DP, O(options x cells)); and how much of the other the root's best uses.
        Cell ``c`` stands for ``c * units[r]`` (see :data:`TABLE_CELLS`)."""
        unit, o = self.units[r], 2 - r
        cap = self.caps[r] // unit
        rows, use = [[0] * (cap + 1)], [0] * (cap + 1)
        for t in reversed(self.order):
            prev = rows[-1]
            row, used = prev.copy(), use.copy()
            if t != self.skip:
                for opt in self.options[t]:
                    q, p, other = opt[r + 1] // unit, opt[0] - lam * opt[o], opt[o]
                    for c in range(q, cap + 1):
                        v = prev[c - q] + p
                        if v > row[c]:
                            row[c], used[c] = v, use[c - q] + other
            rows.append(row)
            use = used
        rows.reverse()
        return rows, use[cap]

    def choose(self, r: int, top: int) -> int:
        """The multiplier of table ``r``: bisect on whether the root's best overuses the
        other resource; keep the multiplier of the lowest bound seen."""
        lo, hi, cap_o = 0, top, self.caps[1 - r]
        best, best_lam = -1, 0
        for _ in range(LAMBDA_STEPS):
            lam = (lo + hi) // 2
            rows, used = self.table(r, lam)
            bound = rows[0][-1] + lam * cap_o
            if best < 0 or bound < best:
                best, best_lam = bound, lam
            if used > cap_o:
                lo = lam + 1
            else:
                hi = lam
            if lo >= hi:
                break
        return best_lam

    def build(self) -> None:
        """The bounds of bids ``order[d:]`` but ``skip``: ``suffix[d]`` (their best prices
        summed) and the two tables."""
        self.suffix = [0]
        for t in reversed(self.order):
            self.suffix.append(self.suffix[-1] + (0 if t == self.skip else self.options[t][0][0]))
        self.suffix.reverse()
        self.tables = [self.table(r, lam)[0] for r, lam in enumerate(self.lams)]

    def bound(self, d: int, ms_left: int, mem_left: int) -> int:
        """Upper bound on what bids ``order[d:]`` add within the capacities left; O(1)."""
        ms, mem = min(ms_left, self.caps[0]), min(mem_left, self.caps[1])
        (lam_ms, lam_mem), (by_ms, by_mem), (u_ms, u_mem) = self.lams, self.tables, self.units
        return min(self.suffix[d], by_ms[d][ms // u_ms] + lam_ms * mem,
                   by_mem[d][mem // u_mem] + lam_mem * ms)

    def run(self, d: int, ms_left: int, mem_left: int, value: int, upper: int) -> None:
        """Depth-first search of the node at depth ``d``, whose bound the parent computed."""
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise _Budget
        if self.ties:
            if upper < self.best_value or (upper == self.best_value and not self.cur < self.best):
                return
        elif upper <= self.best_value:
            return
        if d == len(self.order):
            self.best_value = value
            if self.ties:
                self.best = self.cur.copy()
            return
        t = self.order[d]
        # Children, the most promising first: (-bound, rank, ms left, memory left, value).
        kids = []
        if t != self.skip:
            for p, ms, mem, j in self.options[t]:
                if ms <= ms_left and mem <= mem_left:
                    v = value + p
                    kids.append((-(v + self.bound(d + 1, ms_left - ms, mem_left - mem)), j + 1,
                                 ms_left - ms, mem_left - mem, v))
        kids.append((-(value + self.bound(d + 1, ms_left, mem_left)), 0, ms_left, mem_left,
                     value))
        kids.sort(key=lambda k: k[0])   # stable: equal bounds keep price order, None last
        for neg, rank, ms, mem, v in kids:
            self.cur[t] = rank
            self.run(d + 1, ms, mem, v, -neg)
        self.cur[t] = 0


def _density(options: list[Option], caps: tuple[int, ...]) -> Fraction:
    """The bid's best price per share of both capacities, ``p / (ms / W + mem / M)``.

    Scaled by ``W * M`` to ``p / (ms * M + mem * W)``, ``M`` at least 1 so a
    market without memory orders by price per millisecond. Price per
    millisecond alone searched bids that crowd memory early; weighing both
    cut the mean search of ``auctioneer bench thermal``'s 16 x 4 row from
    1,206 to 1,100 nodes (docs/thermal.md, "The bundle path").
    """
    ms_cap, mem_cap = caps[0], max(caps[1], 1)
    return max(Fraction(p, ms * mem_cap + mem * ms_cap) for p, ms, mem, _ in options)


def solve_reference(bids: Bundles, window_ms: int, memory: int, reserve_per_ms: int,
                    max_nodes: int | None = None) -> GpuSolution | None:
    """Clear ``bids`` exactly and price them (see the module doc); None past ``max_nodes``.

    The pure-Python reference of ``gpu_core.c``: same options, order,
    bounds, tie rule and node count. Inputs are trusted (the GPU plane
    checks them): quantities and prices ints >= 0, every ``gpu_ms`` >= 1.
    """
    s = _Search(bids, window_ms, memory, reserve_per_ms, max_nodes)
    try:
        s.run(0, window_ms, memory, 0, s.bound(0, window_ms, memory))
        value, ranks = s.best_value, s.best
        payments = [0] * len(bids)
        s.ties = False
        for t, rank in enumerate(ranks):
            if rank:
                ms, _, price = bids[t][rank - 1]
                s.skip, s.best_value = t, value - price
                s.build()
                s.run(0, window_ms, memory, 0, s.bound(0, window_ms, memory))
                payments[t] = max(s.best_value - (value - price), ms * reserve_per_ms)
    except _Budget:
        return None
    choice = tuple(r - 1 if r else None for r in ranks)
    return GpuSolution(value, choice, tuple(payments), s.nodes)


def native_available() -> bool:
    """Whether the native solver (``auctioneer.gpu._gpu``) is built."""
    return _native is not None


def solve(bids: Bundles, window_ms: int, memory: int, reserve_per_ms: int,
          max_nodes: int | None = DEFAULT_MAX_NODES) -> GpuSolution | None:
    """:func:`solve_reference`, natively when the extension is built (same results)."""
    if _native is None:
        return solve_reference(bids, window_ms, memory, reserve_per_ms, max_nodes)
    out = _native.solve(bids, window_ms, memory, reserve_per_ms,
                        -1 if max_nodes is None else max_nodes)
    return None if out is None else GpuSolution(*out)


def solve_bids(bids: Sequence[object], window_ms: int, memory: int, reserve_per_ms: int,
               max_agents: int, max_nodes: int | None = DEFAULT_MAX_NODES) -> GpuSolution | None:
    """:func:`solve` on ``GpuBid``-like objects, read and checked natively in one pass.

    None when the extension is not built, where :func:`solve` gives None, or
    when any bid would fail ``GpuPlane.check`` (exact ints, agent below
    ``max_agents`` and not repeated, a tuple of 1 to 16 ``(gpu_ms, memory,
    price)`` tuples in range), so that check can name what is wrong.
    """
    if _native is None:
        return None
    out = _native.solve_bids(bids, window_ms, memory, reserve_per_ms,
                             -1 if max_nodes is None else max_nodes, max_agents)
    return None if out is None else GpuSolution(*out)


def unit_columns(bids: Sequence[object], slice_ms: int, max_agents: int) -> bytes | None:
    """Native int64 agents then prices of valid unit bids (``GpuBid``-like objects).

    None when the extension is not built or any bid is not a valid unit bid
    (exact ints, agent below ``max_agents`` and not repeated, one
    ``(slice_ms, 0, price)`` bundle, price in range). A slotted type's
    fields are read from their slots, anything else by attribute.
    """
    return None if _native is None else _native.units(bids, slice_ms, max_agents)


def _load_native() -> Any:
    try:
        return importlib.import_module("auctioneer.gpu._gpu")
    except ImportError:  # pragma: no cover - a checkout without the built extension
        return None


_native = _load_native()
