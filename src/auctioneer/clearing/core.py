"""Core-selecting payments: the least total no coalition can block, closest to VCG.

Day & Raghavan (2007) find the least total payment in the core; Day &
Cramton (2012, "Quadratic core-selecting payment rules for combinatorial
auctions", Operations Research 60(3)) pick, among the payment vectors of
that least total, the one closest to the VCG payments in Euclidean
distance, which is unique (a strictly convex objective over a convex set)
and spreads the core's extra charge over the winners in proportion to
nothing but how far the core forces each above VCG.

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
VCG <= p <= v* (HiGHS) for the least total ``m``, then the quadratic program
*minimise sum (p - VCG)**2 subject to the same and sum p <= m* (HiGHS's QP
solver) for the tie-break, round to integer micro-units (and repair any
constraint the rounding left short), and separate again at that point. When
``z <= sum p`` no coalition blocks: the payments are in the core; since the
constraints found relax the core, ``m`` is at most the core's least total,
so they are at it, and the point is the closest to VCG of all such points
(Day & Cramton's rule), to within the rounding to micro-units. Each step is
exact in integers but the two programs; a separation stopped by a time
limit that has not found a violation leaves the result uncertified
(``stats["core_certified"] == 0``).

:func:`blocking_coalition` is the independent check: it enumerates every
coalition of losers and a subset of the winners, solves each coalition's own
winner determination, and tests the inequality directly.

Example (two items; a and b want one each, c wants both; VCG charges a and
b 4 each, which c would block; any split of 10 with each at least 4 is a
least core point, and the closest to VCG splits it evenly):
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> auction = Auction((Resource("x", 1), Resource("y", 1)), (
    ...     Bid("a", (Bundle((1, 0), 6),)), Bid("b", (Bundle((0, 1), 6),)),
    ...     Bid("c", (Bundle((1, 1), 10),))))
    >>> from auctioneer.clearing.vcg import vcg_payments
    >>> vcg_payments(auction).payments
    (4, 4, 0)
    >>> result = core_payments(auction)
    >>> result.payments, result.stats["core_certified"]
    ((5, 5, 0), 1)
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

__all__ = ["CorePoint", "Separation", "blocking_coalition", "core_payments", "core_point",
           "raise_to_core"]

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


def _program(winners: Sequence[int], values: Mapping[int, int], floors: Mapping[int, int],
             rows: Sequence[tuple[frozenset[int], int]], total: float | None) -> list[float]:
    """The core program over the rows found, in VCG-relative units; returns ``p - floors``.

    ``total`` None: the LP ``min sum p``. Otherwise the QP ``min sum (p_j - floor_j)**2``
    with ``sum p <= total``: the point of least total closest to VCG (Day & Cramton
    2012). Each payment becomes ``d_j = (p_j - floor_j) / scale`` with ``scale`` the
    most any row asks above VCG, so the rows' bounds are at most 1 whatever the
    currency's size (HiGHS's QP solver misjudged a row bound of 6e-5 as met at 0).
    """
    n = len(winners)
    position = {j: i for i, j in enumerate(winners)}
    outsides = [[i for j, i in position.items() if j not in coalition] for coalition, _ in rows]
    needs = [rhs - sum(floors[winners[i]] for i in outside)
             for (_, rhs), outside in zip(rows, outsides, strict=True)]
    scale = float(max([1, *needs]))
    h = _highs()
    starts: list[int] = []
    index: list[int] = []
    lower: list[float] = []
    for outside, need in zip(outsides, needs, strict=True):
        starts.append(len(index))
        index.extend(outside)
        lower.append(need / scale)
    upper = [highspy.kHighsInf] * len(rows)
    if total is not None:
        starts.append(len(index))
        index.extend(range(n))
        lower.append(-highspy.kHighsInf)
        upper.append((total - sum(floors[j] for j in winners)) / scale + 1e-9 * n)
    h.passModel(
        n, len(lower), len(index), int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize), 0.0,
        np.ones(n) if total is None else np.zeros(n), np.zeros(n),
        np.asarray([(values[j] - floors[j]) / scale for j in winners], dtype=np.float64),
        np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64),
        np.asarray(starts, dtype=np.int64), np.asarray(index, dtype=np.int64),
        np.ones(len(index)), np.zeros(n, dtype=np.int64),
    )
    if total is not None:
        h.passHessian(n, n, int(highspy.HessianFormat.kTriangular),
                      np.arange(n + 1, dtype=np.int32), np.arange(n, dtype=np.int32),
                      np.full(n, 2.0))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise ArithmeticError(f"the core program ended "
                              f"{h.modelStatusToString(h.getModelStatus())}; pay-as-bid always "
                              "satisfies it, so this is a numerical failure")
    return [x * scale for x in h.getSolution().col_value]


def _lowest_payments(winners: Sequence[int], values: Mapping[int, int],
                     floors: Mapping[int, int], rows: Sequence[tuple[frozenset[int], int]]
                     ) -> dict[int, int]:
    """The least total over the rows, then its point closest to VCG; whole micro-units.

    min sum p s.t. rows (sum over W minus C of p >= rhs), floors <= p <= values (the LP),
    then min sum (p - floors)**2 at that total (the QP). Rounded to whole micro-units
    adding up to the least total (largest remainders), then any row the rounding left
    short is repaired exactly.
    """
    if not rows:
        return {j: floors[j] for j in winners}
    least = sum(floors[j] for j in winners) + sum(_program(winners, values, floors, rows, None))
    closest = [max(0.0, d) for d in _program(winners, values, floors, rows, least)]
    # Largest remainders: whole micro-units adding up to the least total, rounded up.
    pay = {j: floors[j] + math.floor(d) for j, d in zip(winners, closest, strict=True)}
    units = math.ceil(least - 1e-6) - sum(pay.values())
    by_remainder = sorted(zip(winners, closest, strict=True), key=lambda jd: jd[1] % 1,
                          reverse=True)
    for j, _ in by_remainder[:max(0, units)]:
        pay[j] += 1
    pay = {j: min(values[j], p) for j, p in pay.items()}
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


def _separate_at(values: Mapping[int, int], pay: Mapping[int, int], separate: Separation,
                 limit: float | None, started: float) -> tuple[Clearing, dict[int, int]] | None:
    """The separation at payments ``pay`` and the surplus it lowered the bids by, within
    what is left of ``limit`` seconds since ``started``; None when nothing is left."""
    left = None if limit is None else max(0.0, limit - (time.perf_counter() - started))
    if left == 0.0:
        return None
    surplus = {j: values[j] - pay[j] for j in values}
    return separate(surplus, left), surplus


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
        found = _separate_at(values, pay, separate, limit, started)
        if found is None:
            break
        best, surplus = found
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


def raise_to_core(values: Mapping[int, int], payments: Mapping[int, int], separate: Separation,
                  *, time_limit: float | None = None) -> tuple[CorePoint, int, bool]:
    """Raise ``payments`` until no coalition blocks: the point, the last separation's
    gain, and whether that separation was solved (then no coalition gains more now).

    A repair for a starting point that is cheap but not in the core (the LP
    relaxation's payments at thousands of winners, where Day and Raghavan's
    least-total search needs hundreds of separations). Each step solves one
    separation (as :func:`core_point` does); if a coalition ``C`` gains
    ``g > 0`` by blocking, the winners outside ``C`` pay ``g`` more between
    them, in proportion to their surplus (whole micro-units, at most their
    bids). A coalition's gain never rises when payments do, so each step
    removes the worst violation without creating one; pay-as-bid is in the
    core of an optimal allocation, so there is always room. Certified when a
    solved separation finds no gain. The total is not the least in the core:
    the point is the first one met on the way up. The gain returned is the
    last separation's (at most 0 when certified).
    """
    limit = check_time_limit(time_limit)
    started = time.perf_counter()
    pay = dict(payments)
    iterations = 0
    gain, proven = 0, False
    certified = False
    while True:
        found = _separate_at(values, pay, separate, limit, started)
        if found is None:
            break
        best, surplus = found
        iterations += 1
        gain, proven = best.revenue - sum(pay.values()), best.status is Status.OPTIMAL
        if gain <= 0:
            certified = proven
            break
        inside = set(best.winners)
        outside = [j for j in sorted(values) if j not in inside and surplus[j] > 0]
        room = sum(surplus[j] for j in outside)
        if room < gain:  # only if the allocation is not optimal: the grand coalition blocks
            break
        for j in outside:
            pay[j] += surplus[j] * gain // room
        short = gain - sum(surplus[j] * gain // room for j in outside)
        for j in outside:  # the rounding's remainder, one micro-unit each
            if short <= 0:
                break
            if pay[j] < values[j]:
                pay[j] += 1
                short -= 1
    return CorePoint(pay, iterations, iterations - int(certified), certified,
                     time.perf_counter() - started), gain, proven


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
