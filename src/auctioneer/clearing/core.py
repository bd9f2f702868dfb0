"""Core-selecting payments: the least total payment no coalition can block (Day & Raghavan 2007).

VCG payments can be so low that the seller and some losing bidders would
rather deal among themselves. The **core** rules that out. With winners
``W`` bidding ``v_j`` for what they win, payments ``p`` and ``w(K)`` the best
revenue coalition ``K`` of bidders could raise with the seller alone, the
payments are in the core when, for every coalition ``K``,

    sum over j in W \\ K of p_j  >=  w(K) - sum over j in W and K of v_j

(what the winners left out pay covers what ``K`` could offer beyond what its
winning members get now), and ``p_j <= v_j``. The coalition ``K = all but
j`` gives ``p_j >= `` j's VCG payment, so every core point charges each
winner at least VCG, and pay-as-bid is always in the core.

**Constraint generation** (Day & Raghavan). Start at the VCG point. Given
payments ``p``, the most violated constraint comes from one winner
determination in which every winner's bids are lowered by its surplus
``v_j - p_j``: if its optimum ``z`` exceeds ``sum p``, the winners it awards
(``C``) and the value of its allocation give the constraint
``sum over W \\ C of p_j >= w_K - sum over C of v_j``. Add it, re-solve the
linear program *minimise sum p subject to the constraints found and
VCG <= p <= v* (HiGHS), round up to integer micro-units (and repair any
constraint the rounding left short), and repeat. When ``z <= sum p`` no
coalition blocks: the payments are in the core, at the least total the
constraints allow. Each step is exact in integers but the LP; a separation
stopped by a time limit that has not found a violation leaves the result
uncertified (``stats["core_certified"] == 0``).

:func:`blocking_coalition` is the independent check: it enumerates every
coalition of losers and a subset of the winners, solves each coalition's own
winner determination, and tests the inequality directly.

Example (two items; a and b want one each, c wants both; VCG charges the
winners nothing, which c would block):
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> auction = Auction((Resource("x", 1), Resource("y", 1)), (
    ...     Bid("a", (Bundle((1, 0), 6),)), Bid("b", (Bundle((0, 1), 6),)),
    ...     Bid("c", (Bundle((1, 1), 10),))))
    >>> from auctioneer.clearing.vcg import vcg_payments
    >>> vcg_payments(auction).payments
    (4, 4, 0)
    >>> result = core_payments(auction)
    >>> sum(result.payments), result.stats["core_certified"]
    (10, 1)
    >>> blocking_coalition(auction, result) is None
    True
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import highspy
import numpy as np

from auctioneer.clearing.limits import check_time_limit
from auctioneer.clearing.milp import _highs
from auctioneer.clearing.model import Auction, Bid, Bundle
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.solve import clear
from auctioneer.clearing.vcg import vcg_payments

__all__ = ["CorePoint", "Separation", "blocking_coalition", "core_payments", "core_point"]

Separation = Callable[[Mapping[int, int], float | None], Clearing]
"""``separate(surplus, time_limit)``: the best allocation when every winner ``j``'s bids are
lowered by ``surplus[j]`` (a winner determination over the same bids)."""

MAX_COALITION_WINNERS = 16
""":func:`blocking_coalition` enumerates 2**winners coalitions; it refuses more winners."""


@dataclass(frozen=True, slots=True)
class CorePoint:
    """Core-selecting payments of the winners, and how they were found."""

    payments: Mapping[int, int]
    """Winner -> payment, micro-units."""
    iterations: int
    """Separations solved (the last one found no violation when certified)."""
    constraints: int
    """Coalition constraints generated."""
    certified: bool
    """Whether the last separation proved that no coalition blocks."""
    seconds: float


def _lowest_payments(winners: Sequence[int], values: Mapping[int, int],
                     floors: Mapping[int, int], rows: Sequence[tuple[frozenset[int], int]]
                     ) -> dict[int, int]:
    """min sum p s.t. rows (sum over W minus C of p >= rhs), floors <= p <= values; integers."""
    n = len(winners)
    if not rows:
        return {j: floors[j] for j in winners}
    position = {j: i for i, j in enumerate(winners)}
    h = _highs()
    starts: list[int] = []
    index: list[int] = []
    for coalition, _ in rows:
        starts.append(len(index))
        index.extend(i for j, i in position.items() if j not in coalition)
    h.passModel(
        n, len(rows), len(index), int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize), 0.0, np.ones(n),
        np.asarray([floors[j] for j in winners], dtype=np.float64),
        np.asarray([values[j] for j in winners], dtype=np.float64),
        np.asarray([rhs for _, rhs in rows], dtype=np.float64),
        np.full(len(rows), highspy.kHighsInf),
        np.asarray(starts, dtype=np.int64), np.asarray(index, dtype=np.int64),
        np.ones(len(index)), np.zeros(n, dtype=np.int64),
    )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise ArithmeticError(f"the core LP ended {h.modelStatusToString(h.getModelStatus())}; "
                              "pay-as-bid always satisfies it, so this is a numerical failure")
    x = h.getSolution().col_value
    # Round up to whole micro-units (a ">=" row stays satisfied), forgiving float noise.
    pay = {j: min(values[j], max(floors[j], math.ceil(x[position[j]] - 1e-6)))
           for j in winners}
    for coalition, rhs in rows:  # repair what rounding left short, exactly
        short = rhs - sum(p for j, p in pay.items() if j not in coalition)
        for j in winners:
            if short <= 0:
                break
            if j not in coalition:
                add = min(short, values[j] - pay[j])
                pay[j] += add
                short -= add
    return pay


def core_point(values: Mapping[int, int], floors: Mapping[int, int], separate: Separation, *,
               time_limit: float | None = None, max_iterations: int = 1000) -> CorePoint:
    """Constraint generation from ``floors`` (the VCG point) to the least core payments.

    ``values[j]`` is winner ``j``'s bid for what it wins, ``floors[j]`` its
    VCG payment; ``separate`` solves the winner determination with winners'
    bids lowered by their surplus (see the module doc). ``time_limit``
    bounds the whole search: each separation gets what is left.
    """
    limit = check_time_limit(time_limit)
    started = time.perf_counter()
    winners = sorted(values)
    pay = {j: min(floors[j], values[j]) for j in winners}
    rows: list[tuple[frozenset[int], int]] = []
    iterations = 0
    certified = False
    while iterations < max_iterations:
        left = None if limit is None else max(0.0, limit - (time.perf_counter() - started))
        if left == 0.0:
            break
        surplus = {j: values[j] - pay[j] for j in winners}
        best = separate(surplus, left)
        iterations += 1
        total = sum(pay.values())
        if best.revenue <= total:
            certified = best.status is Status.OPTIMAL
            break
        coalition = frozenset(t for t in best.winners if t in values)
        # The allocation's own value is z plus what was taken off its winners.
        value = best.revenue + sum(surplus[j] for j in coalition)
        rows.append((coalition, value - sum(values[j] for j in coalition)))
        pay = _lowest_payments(winners, values, floors, rows)
    return CorePoint(pay, iterations, len(rows), certified, time.perf_counter() - started)


def _lowered(auction: Auction, surplus: Mapping[int, int]) -> Auction:
    bids = tuple(
        Bid(bid.name, tuple(Bundle(b.quantities, b.price - surplus[t]) for b in bid.bundles))
        if t in surplus else bid
        for t, bid in enumerate(auction.bids))
    return Auction(auction.resources, bids)


def _refuse_side_constraints(auction: Auction) -> None:
    if auction.min_winners or auction.max_winners is not None or any(
            b.must_win for b in auction.bids):
        raise ValueError("core payments need an auction without must-win bids or winner-count "
                         "bounds: coalitions could not meet them")


def core_payments(auction: Auction, clearing: Clearing | None = None, *, method: str = "auto",
                  time_limit: float | None = None) -> Clearing:
    """Return ``clearing`` (solved with ``method`` if None) with core-selecting ``payments``.

    Payments start at VCG (:func:`~auctioneer.clearing.vcg.vcg_payments`)
    and rise only as far as the coalitions found demand; every winner
    determination uses ``method``. ``stats`` gains ``core_total``,
    ``vcg_total``, ``core_iterations``, ``core_constraints``,
    ``core_certified`` and ``core_seconds``. A clearing that is not OPTIMAL,
    or VCG that cannot be computed, is returned without payments and
    ``stats["core"]`` says why. Raises ValueError for side constraints.
    """
    _refuse_side_constraints(auction)
    limit = check_time_limit(time_limit)
    priced = vcg_payments(auction, clearing, method=method)
    if priced.payments is None:
        why = f"not computed: {priced.stats['vcg']}"
        return replace(priced, stats={**priced.stats, "core": why})
    values = {t: auction.bids[t].bundles[j].price for t, j in enumerate(priced.choice)
              if j is not None}
    floors = {t: priced.payments[t] for t in values}

    def separate(surplus: Mapping[int, int], left: float | None) -> Clearing:
        return clear(_lowered(auction, surplus), method, time_limit=left)

    point = core_point(values, floors, separate, time_limit=limit)
    payments = tuple(point.payments.get(t, 0) for t in range(len(auction.bids)))
    return replace(priced, payments=payments, stats={
        **priced.stats, "core": "constraint generation from VCG",
        "core_total": sum(payments), "core_iterations": point.iterations,
        "core_constraints": point.constraints, "core_certified": int(point.certified),
        "core_seconds": point.seconds,
    })


def blocking_coalition(auction: Auction, clearing: Clearing, *, method: str = "auto"
                       ) -> tuple[int, ...] | None:
    """A coalition of bidders that blocks ``clearing``'s payments, or None if none does.

    The independent check of :func:`core_payments`: for every subset ``C``
    of the winners (losers, whose surplus is 0, always join), solve the
    winner determination of ``C`` plus the losers alone with ``method`` and
    test the core inequality in integers. Also checks ``0 <= surplus`` for
    every winner (a payment above the bid is blocked by the winner alone).
    Refuses (ValueError) more than :data:`MAX_COALITION_WINNERS` winners.
    """
    _refuse_side_constraints(auction)
    if clearing.payments is None:
        raise ValueError("the clearing carries no payments to check")
    winners = clearing.winners
    if len(winners) > MAX_COALITION_WINNERS:
        raise ValueError(f"{len(winners)} winners: 2**{len(winners)} coalitions is too many to "
                         f"enumerate (limit {MAX_COALITION_WINNERS})")
    values = {t: auction.bids[t].bundles[j].price for t, j in enumerate(clearing.choice)
              if j is not None}
    for t in winners:
        if clearing.payments[t] > values[t]:
            return (t,)
    losers = [t for t in range(len(auction.bids)) if t not in values]
    for size in range(len(winners) + 1):
        for members in itertools.combinations(winners, size):
            coalition = sorted([*losers, *members])
            sub = Auction(auction.resources, tuple(auction.bids[t] for t in coalition))
            best = clear(sub, method)
            if best.status is not Status.OPTIMAL:
                raise ValueError(f"coalition {coalition} could not be solved: {best.status.value}")
            outside = sum(clearing.payments[t] for t in winners if t not in members)
            if outside < best.revenue - sum(values[t] for t in members):
                return tuple(coalition)
    return None
