"""Brute-force clearing: try every choice, keep the best. The reference solver.

Every other clearing method is tested against :func:`solve_brute`, so it is
written to be obviously right rather than fast: it enumerates the full
product of per-bid options (the zero bundle, unless the bid must win, then
every admissible bundle), checks each choice against capacity and the
winner-count bounds, and keeps the first best one found.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> auction = Auction((Resource("cpu", 4),), (
    ...     Bid("a", (Bundle((3,), 10),)),
    ...     Bid("b", (Bundle((2,), 6),)),
    ...     Bid("c", (Bundle((2,), 5),)),
    ... ))
    >>> result = solve_brute(auction)
    >>> result.revenue, result.choice, result.used
    (11, (None, 0, 0), (4,))
"""

from __future__ import annotations

import itertools
import math
import time

from auctioneer.clearing.allocation import usage
from auctioneer.clearing.knapsack import bid_options
from auctioneer.clearing.limits import check_time_limit
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status

__all__ = ["solve_brute"]

# How many choices to try between two looks at the clock.
_CLOCK_EVERY = 1 << 14


def solve_brute(
    auction: Auction, *, max_combinations: int = 2_000_000, time_limit: float | None = None
) -> Clearing:
    """Clear ``auction`` by enumerating every choice; O(product of option counts x bids).

    Refuses (``Status.TOO_LARGE``, the count in ``stats``) when there are
    more than ``max_combinations`` choices. Returns ``Status.INFEASIBLE``
    when no choice is feasible (only possible with must-win bids or
    ``min_winners``), and ``Status.TIME_LIMIT`` with the best choice so far
    if ``time_limit`` seconds pass first.

    Ties: choices are enumerated in lexicographic order of the choice
    vector, with None before bundle 0 before bundle 1..., and only a strictly
    better revenue replaces the incumbent, so among optimal choices the
    lexicographically smallest is returned. Other methods may return a
    different optimal choice with the same revenue.
    """
    if type(max_combinations) is not int or max_combinations < 0:
        raise ValueError(f"max_combinations {max_combinations!r} must be an int >= 0")
    time_limit = check_time_limit(time_limit)
    start = time.perf_counter()
    options = [bid_options(auction, t) for t in range(len(auction.bids))]
    combinations = math.prod(len(o) for o in options)
    stats: dict[str, int | float | str] = {"combinations": combinations}
    if combinations > max_combinations:
        stats["reason"] = (f"brute force needs {combinations:,} combinations; "
                           f"limit {max_combinations:,}")
        return Clearing(Status.TOO_LARGE, "brute", stats=stats,
                        seconds=time.perf_counter() - start)

    capacity = auction.capacities
    zero = (0,) * auction.dimensions
    high = len(auction.bids) if auction.max_winners is None else auction.max_winners
    best: tuple[int | None, ...] | None = None
    best_revenue = 0
    best_used = zero
    tried = 0
    status = Status.OPTIMAL
    for choice in itertools.product(*options):
        tried += 1
        if time_limit is not None and tried % _CLOCK_EVERY == 0 and (
            time.perf_counter() - start > time_limit
        ):
            status = Status.TIME_LIMIT
            break
        winners = sum(j is not None for j in choice)
        if not auction.min_winners <= winners <= high:
            continue
        used, revenue = usage(auction, choice)
        if any(u > c for u, c in zip(used, capacity, strict=True)):
            continue
        if best is None or revenue > best_revenue:
            best, best_revenue, best_used = choice, revenue, tuple(used)
    stats["tried"] = tried
    seconds = time.perf_counter() - start
    if best is None:
        if status is Status.OPTIMAL:
            stats["reason"] = "no choice meets the must-win bids and winner-count bounds"
            status = Status.INFEASIBLE
        return Clearing(status, "brute", stats=stats, seconds=seconds)
    return Clearing(status, "brute", best_revenue, best, best_used, stats=stats, seconds=seconds)
