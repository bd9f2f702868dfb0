"""The k best allocations of an auction, for an operator who knows a good one when she sees it.

Kelly's column (after Byde, Kelly, Zhou and Tarjan): side constraints an
operator cannot state can still be met by showing her the ``k`` highest-
revenue feasible allocations to choose from. Allocations are *distinct
choice vectors* (two bundles with equal contents are still two choices).

**Ranking.** Revenue descending; among equal revenues, choice vectors in
lexicographic order, a lost bid (None) before bundle 0 before bundle 1
(the order :func:`auctioneer.clearing.brute.solve_brute` enumerates in).
The sequence of revenues is the same for every method. When equal-revenue
allocations straddle the k-th place, which of them make the cut depends on
the method (deterministically); :func:`k_best_brute` takes the first in
the tie order.

Methods:

* ``"milp"``: solve, cut the optimum off with a no-good cut, repeat
  (:func:`auctioneer.clearing.milp.add_no_good`); k HiGHS solves.
* ``"bnb"``: one branch and bound that keeps the k best leaves and prunes
  against the k-th (:mod:`auctioneer.clearing.bnb`).
* ``"brute"``: :func:`k_best_brute`, every feasible allocation, sorted.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> a = Auction((Resource("cpu", 4),), (Bid("a", (Bundle((3,), 5),)),
    ...                                     Bid("b", (Bundle((2,), 3),)),
    ...                                     Bid("c", (Bundle((2,), 3),))))
    >>> [(r.revenue, r.choice) for r in k_best(a, 4)]
    [(6, (None, 0, 0)), (5, (0, None, None)), (3, (None, None, 0)), (3, (None, 0, None))]
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence

from auctioneer.clearing.allocation import allocation, violation
from auctioneer.clearing.bnb import branch_and_bound
from auctioneer.clearing.knapsack import bid_options
from auctioneer.clearing.milp import add_no_good, build_milp, solve_model
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status

__all__ = ["METHODS", "k_best", "k_best_brute"]

METHODS = ("milp", "bnb", "brute")
"""The ``method`` values :func:`k_best` accepts."""


def _tie_key(choice: Sequence[int | None]) -> tuple[int, ...]:
    return tuple(-1 if j is None else j for j in choice)


def _check_k(k: object) -> int:
    if type(k) is not int or k < 1:
        raise ValueError(f"k {k!r} must be an int >= 1")
    return k


def _ranked(auction: Auction, found: Sequence[tuple[int, Sequence[int | None]]], method: str,
            stats: dict[str, int | float | str], started: float) -> list[Clearing]:
    """Clearings for ``found`` in the documented order, each OPTIMAL with its ``rank`` (1-based)."""
    ordered = sorted(found, key=lambda f: (-f[0], _tie_key(f[1])))
    return [allocation(auction, choice, method, Status.OPTIMAL, {**stats, "rank": i}, started)
            for i, (_, choice) in enumerate(ordered, 1)]


def k_best(auction: Auction, k: int, *, method: str = "milp") -> list[Clearing]:
    """The ``k`` best distinct feasible allocations, best first (fewer if fewer exist).

    Each is a Clearing with status OPTIMAL, meaning optimal among the
    allocations not ranked above it, and ``stats["rank"]`` its 1-based
    place. An infeasible auction gives ``[]``. Ranking and ties: see the
    module doc. Revenues are exact (recomputed from the bundles).

    Complexity: ``k`` MILP solves (each with one more cut), or one branch
    and bound whose pruning weakens as ``k`` grows, or brute force.
    """
    _check_k(k)
    if method not in METHODS:
        raise ValueError(f"method {method!r} must be one of {', '.join(METHODS)}")
    if method == "brute":
        return k_best_brute(auction, k)
    started = time.perf_counter()
    name = f"kbest-{method}"
    if method == "bnb":
        found, stats, _ = branch_and_bound(auction, k, None)
        return _ranked(auction, found, name, stats, started)
    model = build_milp(auction)
    solutions: list[tuple[int, Sequence[int | None]]] = []
    nodes = solves = 0
    while len(solutions) < k:
        result = solve_model(model, method=name)
        solves += 1
        if result.status is Status.TOO_LARGE:
            raise ValueError(f"k-best by MILP: {result.stats['reason']}")
        if result.status is not Status.OPTIMAL:
            break
        solutions.append((result.revenue, result.choice))
        nodes += int(result.stats.get("nodes", 0))
        if not model.columns:
            break  # the zero allocation is the only one
        add_no_good(model, result.choice)
    return _ranked(auction, solutions, name, {"solves": solves, "nodes": nodes},
                   started)


def k_best_brute(auction: Auction, k: int, *, max_combinations: int = 2_000_000) -> list[Clearing]:
    """The ``k`` best allocations by enumerating them all; the reference for :func:`k_best`.

    Raises ValueError when there are more than ``max_combinations`` choices.
    Complexity: O(choices x bids x resources) time, O(feasible choices) memory.
    """
    _check_k(k)
    started = time.perf_counter()
    options = [bid_options(auction, t) for t in range(len(auction.bids))]
    combinations = math.prod(len(o) for o in options)
    if combinations > max_combinations:
        raise ValueError(f"brute force needs {combinations:,} combinations; "
                         f"max_combinations is {max_combinations:,}")
    found = []
    for choice in itertools.product(*options):
        if violation(auction, choice) is None:
            revenue = sum(auction.bids[t].bundles[j].price
                          for t, j in enumerate(choice) if j is not None)
            found.append((revenue, choice))
    found.sort(key=lambda f: (-f[0], _tie_key(f[1])))
    return _ranked(auction, found[:k], "kbest-brute", {"feasible": len(found)}, started)
