"""One entry point for every clearing method, and the feasibility check they all pass.

``clear(auction, method)`` runs ``"dp"``, ``"brute"``, ``"milp"``, ``"bnb"``
or ``"auto"``. Auto follows Kelly's advice: do the back-of-the-envelope
estimate first and use dynamic programming when it fits the limits (and the
time limit, if any); otherwise integer programming. The choice and the
reason land in ``stats["auto"]``.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> auction = Auction((Resource("gpu", 2),), (
    ...     Bid("a", (Bundle((1,), 7),)), Bid("b", (Bundle((2,), 9),)),
    ...     Bid("c", (Bundle((1,), 4),))))
    >>> result = clear(auction)
    >>> result.revenue, result.choice, result.stats["auto"]
    (11, (0, None, 0), 'dp: sparse DP: at most 3 cells x 3 bids, ...')
    >>> check_feasible(auction, result)
"""

from __future__ import annotations

import dataclasses
import math
import time

from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.dp import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_OPERATIONS,
    choose_form,
    solve_chosen,
    solve_dp,
)
from auctioneer.clearing.estimate import normalize
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status

__all__ = ["AUTO_DP_SECONDS", "METHODS", "check_feasible", "clear"]

METHODS = ("auto", "dp", "brute", "milp", "bnb")
"""The methods :func:`clear` knows."""

AUTO_DP_SECONDS = 5.0
"""Predicted DP time above which auto prefers MILP when no time limit is given."""


def _check_time_limit(time_limit: float | None) -> None:
    if time_limit is None:
        return
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or not (
        time_limit >= 0 and math.isfinite(time_limit)
    ):
        raise ValueError(f"time_limit {time_limit!r} must be a finite number of seconds >= 0")


def clear(auction: Auction, method: str = "auto", *, time_limit: float | None = None) -> Clearing:
    """Clear ``auction`` with ``method``; the result's ``seconds`` is the whole call's wall time.

    ``"dp"`` is exact dynamic programming (refused as ``TOO_LARGE`` when its
    estimate, or its predicted time against ``time_limit``, is over the
    limits), ``"brute"`` the enumeration reference, ``"milp"`` and ``"bnb"``
    integer programming and branch and bound (``TIME_LIMIT`` when they stop
    early). ``"auto"`` takes the DP when its estimate fits the default limits
    and predicts at most ``time_limit`` (or :data:`AUTO_DP_SECONDS`), else
    MILP. Raises ValueError naming an unknown method or a bad time limit.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    _check_time_limit(time_limit)
    start = time.perf_counter()
    if method == "auto":
        result = _auto(auction, time_limit)
    elif method == "dp":
        result = solve_dp(auction, max_seconds=time_limit)
    elif method == "brute":
        result = solve_brute(auction, time_limit=time_limit)
    elif method == "milp":
        from auctioneer.clearing.milp import solve_milp

        result = solve_milp(auction, time_limit=time_limit)
    else:
        from auctioneer.clearing.bnb import solve_bnb

        result = solve_bnb(auction, time_limit=time_limit)
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


def _auto(auction: Auction, time_limit: float | None) -> Clearing:
    start = time.perf_counter()
    budget = AUTO_DP_SECONDS if time_limit is None else time_limit
    norm = normalize(auction)
    chosen, why = choose_form(auction, norm, "auto", DEFAULT_MAX_BYTES, DEFAULT_MAX_OPERATIONS,
                              budget)
    if why is None or norm.infeasible is not None:
        result = solve_chosen(auction, norm, chosen, why, DEFAULT_MAX_BYTES, start)
        reason = f"dp: {chosen.describe()}"
    else:
        from auctioneer.clearing.milp import solve_milp

        result = solve_milp(auction, time_limit=time_limit)
        reason = f"milp: {why}"
    return dataclasses.replace(result, stats={**result.stats, "auto": reason})


def check_feasible(auction: Auction, clearing: Clearing) -> None:
    """Raise AssertionError with the reason if ``clearing`` is not a valid outcome of ``auction``.

    Checks, for a result with an allocation: one choice per bid, each None
    or an admissible bundle of that bid; must-win bids win; the winner count
    is within bounds; ``used`` is the net usage and within capacity;
    ``revenue`` is the sum of the chosen prices; payments (if any) have one
    entry per bid and losers pay 0. A refused or infeasible result must
    award nothing. O(bids x resources).
    """
    status = clearing.status
    if status in (Status.INFEASIBLE, Status.TOO_LARGE) or (
        status is Status.TIME_LIMIT and not clearing.choice and auction.bids
    ):
        assert not clearing.choice, f"{status.value} result awards bundles: {clearing.choice}"
        assert clearing.payments is None or not any(clearing.payments), \
            f"{status.value} result charges payments {clearing.payments}"
        return
    bids = auction.bids
    assert len(clearing.choice) == len(bids), \
        f"choice has {len(clearing.choice)} entries for {len(bids)} bids"
    used = [0] * auction.dimensions
    revenue = 0
    for t, (bid, j) in enumerate(zip(bids, clearing.choice, strict=True)):
        if j is None:
            assert not bid.must_win, f"must-win bid {t} {bid.name!r} is not awarded"
            continue
        assert type(j) is int and 0 <= j < len(bid.bundles), \
            f"bid {t} {bid.name!r} is given bundle {j!r}, not one of its {len(bid.bundles)}"
        assert auction.is_admissible(t, j), \
            f"bid {t} {bid.name!r} bundle {j} is below its reserve floor"
        bundle = bid.bundles[j]
        revenue += bundle.price
        for r, q in enumerate(bundle.quantities):
            used[r] += q
    winners = len(clearing.winners)
    assert winners >= auction.min_winners, \
        f"{winners} winners, fewer than min_winners {auction.min_winners}"
    assert auction.max_winners is None or winners <= auction.max_winners, \
        f"{winners} winners, more than max_winners {auction.max_winners}"
    assert tuple(used) == tuple(clearing.used), \
        f"used {clearing.used} but the chosen bundles take {tuple(used)}"
    for resource, u in zip(auction.resources, used, strict=True):
        assert u <= resource.capacity, \
            f"{resource.name!r}: {u} units used, capacity {resource.capacity}"
    assert revenue == clearing.revenue, \
        f"revenue {clearing.revenue} but the chosen prices sum to {revenue}"
    if clearing.payments is not None:
        assert len(clearing.payments) == len(bids), \
            f"{len(clearing.payments)} payments for {len(bids)} bids"
        for t, (j, pay) in enumerate(zip(clearing.choice, clearing.payments, strict=True)):
            assert j is not None or pay == 0, f"losing bid {t} pays {pay}"
