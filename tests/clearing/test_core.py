"""Core-selecting payments: in the core by an independent coalition check, at least VCG."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.core import _lowered, blocking_coalition, core_payments, raise_to_core
from auctioneer.clearing.milp import solve_sparse
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Clearing
from auctioneer.clearing.solve import clear
from auctioneer.clearing.sparse import SparseAuction
from auctioneer.clearing.vcg import vcg_payments

from .conftest import examples
from .strategies import auctions

# Two items; a and b want one each, c wants both: VCG charges a and b 4 each,
# which c (bidding 10) blocks.
THRESHOLD = Auction((Resource("x", 1), Resource("y", 1)), (
    Bid("a", (Bundle((1, 0), 6),)), Bid("b", (Bundle((0, 1), 6),)),
    Bid("c", (Bundle((1, 1), 10),))))


def test_vcg_is_blocked_and_core_payments_are_not() -> None:
    vcg = vcg_payments(THRESHOLD)
    assert vcg.payments == (4, 4, 0)
    assert blocking_coalition(THRESHOLD, vcg, method="brute") == (2,)  # c with the seller
    core = core_payments(THRESHOLD)
    # Every split of 10 between a and b (each at least its VCG 4) is a least core point;
    # Day & Cramton's is the one closest to VCG.
    assert core.payments == (5, 5, 0)
    assert blocking_coalition(THRESHOLD, core, method="brute") is None
    assert core.stats["core_certified"] == 1 and core.stats["core_constraints"] >= 1


@settings(max_examples=examples(60), deadline=None)
@given(auctions(max_bids=5, max_bundles=2, two_sided=True))
def test_core_payments_are_in_the_core_and_at_least_vcg(auction: Auction) -> None:
    core = core_payments(auction, method="brute")
    check_feasible(auction, core)
    assert core.payments is not None
    assert core.stats["core_certified"] == 1
    assert blocking_coalition(auction, core, method="brute") is None
    vcg = vcg_payments(auction, method="brute")
    assert vcg.payments is not None
    for t, j in enumerate(core.choice):
        if j is not None:
            assert vcg.payments[t] <= core.payments[t] <= auction.bids[t].bundles[j].price


def test_payments_above_a_bid_are_blocked_by_the_winner() -> None:
    core = core_payments(THRESHOLD)
    assert core.payments is not None
    greedy = dataclasses.replace(core, payments=(7, 3, 0))
    assert blocking_coalition(THRESHOLD, greedy) == (0,)


def test_side_constraints_are_refused() -> None:
    must = Auction(THRESHOLD.resources, THRESHOLD.bids, min_winners=1)
    with pytest.raises(ValueError, match="must-win bids or winner-count bounds"):
        core_payments(must)


@settings(max_examples=examples(60), deadline=None)
@given(auctions(max_bids=5, max_bundles=3, two_sided=True))
def test_sparse_milp_agrees_with_dense_clearing(auction: Auction) -> None:
    if auction.min_winners or auction.max_winners is not None:
        return
    # Inadmissible bundles are left out of the sparse form, as the proxy round does.
    owner, price, entries, index = [], [], [], []
    for t, bid in enumerate(auction.bids):
        for j, b in enumerate(bid.bundles):
            if auction.is_admissible(t, j):
                owner.append(t)
                price.append(b.price)
                entries.append([(r, q) for r, q in enumerate(b.quantities) if q])
                index.append(j)
    sparse = SparseAuction.build(auction.capacities, owner, price, entries,
                                 bids=len(auction.bids))
    result = solve_sparse(sparse)
    assert result.revenue == clear(auction, "brute").revenue
    assert sparse.violation([c for c, t in enumerate(owner)
                             if result.choice[t] is not None
                             and c - owner.index(t) == result.choice[t]]) is None


def test_a_time_limited_sparse_solve_never_returns_less_than_its_start() -> None:
    sparse = SparseAuction.build(capacity=[3], owner=[0, 1, 2], price=[5, 4, 4],
                                 entries=[[(0, 3)], [(0, 1)], [(0, 2)]])
    result = solve_sparse(sparse, time_limit=0.0, start=[0, None, None])
    assert result.revenue >= 5
    assert sparse.violation([c for c, j in zip((0, 1, 2), result.choice, strict=True)
                             if j is not None]) is None
    assert solve_sparse(sparse).revenue == 8


# --------------------------------------------------------------------------
# The Day-Cramton tie-break against an exact reference: every coalition's
# constraint (brute force), then the least total and the point closest to VCG
# by enumerating active sets in exact fractions.

Row = tuple[tuple[int, ...], Fraction]
"""``sum(a[i] * p[i]) >= b``."""


def _solve(rows: Sequence[Row]) -> list[Fraction] | None:
    """The unique solution of ``a . p = b`` over ``rows`` (square), or None if singular."""
    n = len(rows)
    m = [[Fraction(x) for x in a] + [b] for a, b in rows]
    for col in range(n):
        pivot = next((r for r in range(col, n) if m[r][col] != 0), None)
        if pivot is None:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col and m[r][col] != 0:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def _feasible(p: Sequence[Fraction], rows: Sequence[Row]) -> bool:
    return all(sum(a * x for a, x in zip(row, p, strict=True)) >= b for row, b in rows)


def _exact_core_point(floors: list[int], rows: list[Row]) -> tuple[Fraction, list[Fraction]]:
    """Least total over ``rows`` (which include the bounds), then the closest point to
    ``floors`` at that total; by enumerating which inequalities are tight."""
    n = len(floors)
    least = None
    for tight in itertools.combinations(rows, n):
        p = _solve(tight)
        if p is not None and _feasible(p, rows) and (least is None or sum(p) < least):
            least = sum(p)
    assert least is not None
    best: tuple[Fraction, list[Fraction]] | None = None
    total = ((1,) * n, least)
    f = [Fraction(x) for x in floors]
    for size in range(n):
        for tight in itertools.combinations(rows, size):
            # Projection of f onto {E p = e}: p = f + E^T y with (E E^T) y = e - E f.
            eq = [*tight, total]
            gram = [tuple(sum(a * b for a, b in zip(r[0], s[0], strict=True)) for s in eq)
                    for r in eq]
            y = _solve([(g, r[1] - sum(a * x for a, x in zip(r[0], f, strict=True)))
                        for g, r in zip(gram, eq, strict=True)])
            if y is None:
                continue
            p = [f[i] + sum(yk * r[0][i] for yk, r in zip(y, eq, strict=True)) for i in range(n)]
            if sum(p) == least and _feasible(p, rows):
                d = sum((a - b) ** 2 for a, b in zip(p, f, strict=True))
                if best is None or d < best[0]:
                    best = (d, p)
    assert best is not None
    return least, best[1]


def _scaled(auction: Auction, factor: int) -> Auction:
    return Auction(auction.resources, tuple(
        Bid(b.name, tuple(Bundle(x.quantities, x.price * factor) for x in b.bundles))
        for b in auction.bids))


@settings(max_examples=examples(40), deadline=None)
@given(auctions(max_bids=5, max_bundles=2, max_resources=3))
def test_core_payments_are_the_least_total_closest_to_vcg(small: Auction) -> None:
    """Day & Cramton's point, to within the rounding to micro-units (prices are scaled up so
    that a micro-unit is small beside them)."""
    auction = _scaled(small, 1000)
    core = core_payments(auction, method="brute")
    vcg = vcg_payments(auction, core, method="brute")
    assert core.payments is not None and vcg.payments is not None
    winners = list(core.winners)
    if not winners:
        return
    values = [auction.bids[t].bundles[core.choice[t]].price for t in winners]  # type: ignore[index]
    floors = [vcg.payments[t] for t in winners]
    n = len(winners)
    losers = [t for t in range(len(auction.bids)) if t not in winners]
    rows: list[Row] = []
    for i in range(n):
        unit = tuple(int(k == i) for k in range(n))
        rows.append((unit, Fraction(floors[i])))
        rows.append((tuple(-x for x in unit), Fraction(-values[i])))
    for size in range(n):
        for members in itertools.combinations(range(n), size):
            keep = sorted([*losers, *(winners[i] for i in members)])
            w = solve_brute(Auction(auction.resources, tuple(auction.bids[t] for t in keep)))
            outside = tuple(int(i not in members) for i in range(n))
            rhs = w.revenue - sum(values[i] for i in members)
            if rhs > sum(floors[i] for i in range(n) if outside[i]):  # else the floors imply it
                rows.append((outside, Fraction(rhs)))
    least, point = _exact_core_point(floors, rows)
    paid = [core.payments[t] for t in winners]
    assert least <= sum(paid) <= least + n
    for got, want in zip(paid, point, strict=True):
        assert abs(got - want) <= n, (paid, point)


@settings(max_examples=examples(60), deadline=None)
@given(auctions(max_bids=5, max_bundles=2, two_sided=True), st.data())
def test_raising_any_payments_reaches_the_core(auction: Auction, data: st.DataObject) -> None:
    best = solve_brute(auction)
    values = {t: auction.bids[t].bundles[j].price for t, j in enumerate(best.choice)
              if j is not None}
    start = {t: data.draw(st.integers(min(0, v) - 5, v)) for t, v in values.items()}

    def separate(surplus: Mapping[int, int], left: float | None) -> Clearing:
        return solve_brute(_lowered(auction, surplus))

    point, gain, proven = raise_to_core(values, start, separate)
    assert point.certified and gain <= 0 and proven
    assert all(start[t] <= point.payments[t] <= values[t] for t in values)
    priced = dataclasses.replace(best, payments=tuple(
        point.payments.get(t, 0) for t in range(len(auction.bids))))
    assert blocking_coalition(auction, priced, method="brute") is None


def test_raising_vcg_in_the_threshold_market_charges_the_blocked_total() -> None:
    vcg = vcg_payments(THRESHOLD)
    values = {0: 6, 1: 6}

    def separate(surplus: Mapping[int, int], left: float | None) -> Clearing:
        return clear(_lowered(THRESHOLD, surplus), "brute")

    point, _, _ = raise_to_core(values, {0: 4, 1: 4}, separate)
    assert vcg.payments == (4, 4, 0)
    assert point.certified and point.iterations == 2 and point.payments == {0: 5, 1: 5}
