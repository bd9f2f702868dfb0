"""One entry point for every clearing method.

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
    >>> from auctioneer.clearing.allocation import check_feasible
    >>> check_feasible(auction, result)
"""

from __future__ import annotations

import dataclasses
import time

from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.dp import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_OPERATIONS,
    choose_form,
    solve_chosen,
    solve_dp,
)
from auctioneer.clearing.estimate import HIGHS_IMPORT_SECONDS, DpEstimate, import_seconds
from auctioneer.clearing.knapsack import normalize
from auctioneer.clearing.limits import check_time_limit
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status

__all__ = ["AUTO_DP_SECONDS", "METHODS", "RACE_SHARE", "clear"]

METHODS = ("auto", "dp", "brute", "milp", "bnb")
"""The methods :func:`clear` knows."""

AUTO_DP_SECONDS = 5.0
"""Predicted DP time above which auto prefers MILP when no time limit is given."""
RACE_SHARE = 1.0
"""Of the DP's predicted seconds, how long auto lets the MILP run first in a race: all of
them, as on many-dimensional grids the DP ran up to 60x over its estimate (the lean
tables' strided passes), never far under it."""
RACE_FLOOR_S = 0.02
"""A DP predicted faster than this runs without a race (HiGHS alone takes about that)."""
RACE_MIN_HEAD_S = 0.1
"""The shortest head start the MILP gets: the estimates err by up to 40x either way here."""
RACE_DIMENSIONS = 4
"""Resource types from which the dense DP's estimate is raced rather than trusted."""


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
    check_time_limit(time_limit)
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


def _uncertain(chosen: DpEstimate) -> bool:
    """Whether the DP estimate is too rough to trust alone (see :func:`_auto`)."""
    return chosen.form == "sparse" or len(chosen.grid) >= RACE_DIMENSIONS


def _auto(auction: Auction, time_limit: float | None) -> Clearing:
    """DP when its estimate is trustworthy and fits; a race when it is not; else MILP.

    The dense estimate is measured within ~30% on up to three resources, so
    there the DP runs whenever it fits. The sparse estimate is an upper bound
    on reachable states and the dense one drifts on many-dimensional grids
    (held-out MMKP instances: 0.7-30x off), so there ``auto`` *races*: the
    MILP runs first with a time limit of :data:`RACE_SHARE` of the DP's
    predicted seconds (at least :data:`RACE_MIN_HEAD_S`); if it finishes it
    wins, otherwise the DP runs. Losing the race costs that head start, and
    the MILP, faster on most such instances, usually wins it.
    """
    start = time.perf_counter()
    budget = AUTO_DP_SECONDS if time_limit is None else time_limit
    norm = normalize(auction)
    chosen, why = choose_form(auction, norm, "auto", DEFAULT_MAX_BYTES, DEFAULT_MAX_OPERATIONS,
                              budget)
    # A race is pointless against a DP predicted faster than HiGHS can even start.
    floor = RACE_FLOOR_S + import_seconds("highspy", HIGHS_IMPORT_SECONDS)
    if norm.infeasible is not None or (why is None and (
            not _uncertain(chosen) or chosen.seconds < floor)):
        result = solve_chosen(auction, norm, chosen, why, DEFAULT_MAX_BYTES, start)
        reason = f"dp: {chosen.describe()}"
    else:
        # HiGHS is imported only when the MILP runs, so clearing a small file starts quickly.
        from auctioneer.clearing.milp import solve_milp

        if why is None:
            head = max(RACE_SHARE * chosen.seconds, RACE_MIN_HEAD_S)
            first = solve_milp(auction, time_limit=head)
            if first.status in (Status.OPTIMAL, Status.INFEASIBLE):
                result = first
                reason = f"milp won the race within {head:.3g} s against {chosen.describe()}"
            else:
                result = solve_chosen(auction, norm, chosen, why, DEFAULT_MAX_BYTES, start)
                reason = f"dp after the milp ran {head:.3g} s unfinished: {chosen.describe()}"
        else:
            result = solve_milp(auction, time_limit=time_limit)
            reason = f"milp: {why}"
    return dataclasses.replace(result, stats={**result.stats, "auto": reason})
