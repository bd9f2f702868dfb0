"""The offline optimum of the CPU plane, computed exactly on the recorded demand.

The run records demand as intervals: agent ``a`` with true value ``v`` per
quantum held a live bid from tick ``start`` up to (not including) tick
``end``. Each tick sells ``k`` unit quanta and every bidder wants one, so the
welfare-maximising allocation of one tick is simply the ``k`` highest values
among the bidders live then: unit demand makes the tick's allocation problem
a uniform matroid, where greedy by value is optimal. No combinatorial solver
is needed on this plane; the GPU plane's bundles (time and memory) are where
the exact clearing module is required (:mod:`auctioneer.sim.model`).

"Offline" means the optimum sees every tick's bidders with their true
values and ignores the thermal reserve, tiers and sampling; it does not
re-plan who is served when (a backlog served later changes later demand),
so it is the per-tick optimum on the demand as it happened.

Two ratios come out: **efficiency** against the top ``k`` (what thermal
withholding and ranking lose together) and **allocative efficiency**
against the top ``m_t``, ``m_t`` being the quanta the mechanism actually
sold at tick ``t`` (what ranking alone loses: tiers are FIFO inside, a sample
can miss the best).

Complexity: O(D log N) for D recorded intervals (one exact heap update per
interval end, one select per change point) plus O(T) numpy for T ticks.

Example:
    >>> demand = Demand(starts=[0, 0, 1], ends=[3, 2, 3], values=[5, 9, 7])
    >>> opt = per_tick_optimum(demand, ticks=3, k=1, sold=[1, 1, 0])
    >>> opt.top_k.tolist(), opt.top_sold.tolist()
    ([9, 9, 7], [9, 9, 0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np
import numpy.typing as npt

from auctioneer.clearing import Auction, Bid, Bundle, Resource, Status, clear
from auctioneer.gpu import GpuBid
from auctioneer.tick import IndexedHeap

__all__ = ["Demand", "Optimum", "gpu_optimum", "per_tick_optimum"]

IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class Demand:
    """Recorded demand intervals ``[start, end)`` in tick indices, with true values."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    values: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True, slots=True)
class Optimum:
    """Per tick: the best welfare selling ``k`` quanta, and selling what was actually sold."""

    top_k: IntArray
    top_sold: IntArray

    @property
    def welfare(self) -> int:
        """Total over the run of the top-``k`` welfare."""
        return int(self.top_k.sum())


def per_tick_optimum(demand: Demand, ticks: int, k: int,
                     sold: list[int] | IntArray) -> Optimum:
    """The per-tick optimum over ``ticks`` ticks of ``k`` quanta (see the module)."""
    sold_arr = np.asarray(sold, dtype=np.int64)
    if sold_arr.size != ticks:
        raise ValueError(f"sold has {sold_arr.size} ticks, expected {ticks}")
    starts = np.asarray(demand.starts, dtype=np.int64)
    ends = np.minimum(np.asarray(demand.ends, dtype=np.int64), ticks)
    ids = np.flatnonzero(starts < ends)
    # Every interval opens at its start and closes at its end; sorted by tick. At one
    # tick the order does not matter: no interval opens and closes at the same tick.
    times = np.concatenate([starts[ids], ends[ids]])
    order = np.argsort(times, kind="stable")
    at, who = times[order].tolist(), np.concatenate([ids, ids])[order].tolist()
    opens = (order < ids.size).tolist()
    # One exact heap keyed by interval; between change points the top k stand still.
    book = IndexedHeap(max(1, len(demand)))
    update, expire, select, values = book.update, book.expire, book.select, demand.values
    points, rows = [0], [[0] * (k + 1)]
    j, n = 0, len(at)
    while j < n and at[j] < ticks:
        point = at[j]
        while j < n and at[j] == point:
            if opens[j]:
                update(who[j], values[who[j]])
            else:
                expire(who[j])
            j += 1
        _, prices = select(min(k, len(book)))
        row = [0, *accumulate(prices)]
        row += [row[-1]] * (k + 1 - len(row))
        if point == points[-1]:
            rows[-1] = row
        else:
            points.append(point)
            rows.append(row)
    prefix = np.asarray(rows, dtype=np.int64)
    segment = np.searchsorted(np.asarray(points, dtype=np.int64),
                              np.arange(ticks, dtype=np.int64), side="right") - 1
    return Optimum(prefix[segment, k], prefix[segment, np.minimum(sold_arr, k)])


def gpu_optimum(bids: Sequence[GpuBid], window_ms: int, memory: int) -> int:
    """The best welfare of one GPU dispatch on its recorded bids, reserve ignored. Exact.

    Unit bids (one 1 ms slice each): the top ``window_ms`` bids (a uniform
    matroid again). Bundles of GPU time and memory with XOR bids: a
    multidimensional knapsack, solved exactly by :func:`auctioneer.clearing.clear`.

    Example:
        >>> gpu_optimum([GpuBid.unit(0, 5), GpuBid.unit(1, 9), GpuBid.unit(2, 7)], 2, 80)
        16
        >>> gpu_optimum([GpuBid(0, ((10, 60, 50), (5, 60, 30))), GpuBid(1, ((5, 30, 40),))],
        ...             10, 80)
        50
    """
    if all(len(b.bundles) == 1 and b.bundles[0][:2] == (1, 0) for b in bids):
        return sum(sorted((b.bundles[0][2] for b in bids), reverse=True)[:window_ms])
    auction = Auction(
        (Resource("gpu_ms", window_ms), Resource("memory", memory)),
        tuple(Bid(str(b.agent), tuple(Bundle((ms, mem), p) for ms, mem, p in b.bundles))
              for b in bids))
    result = clear(auction)
    if result.status is not Status.OPTIMAL:
        raise RuntimeError(f"GPU optimum: clearing ended {result.status.value}")
    return result.revenue
