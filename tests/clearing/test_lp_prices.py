"""The LP relaxation's least supporting prices: dual feasible, a bound on welfare, and in
the core whenever the LP is integral (checked by the independent coalition enumeration)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.core import blocking_coalition
from auctioneer.clearing.milp import lp_prices
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.sparse import SparseAuction
from auctioneer.clearing.vcg import vcg_payments

from .conftest import examples

UNIT = 1000  # prices in thousands of micro-units: HiGHS's tolerances are far below one


@st.composite
def _auctions(draw: st.DrawFn) -> Auction:
    dims = draw(st.integers(1, 2))
    resources = tuple(Resource(f"r{r}", draw(st.integers(0, 4))) for r in range(dims))
    bids = tuple(
        Bid(f"b{t}", tuple(
            Bundle(tuple(draw(st.integers(0, 2)) for _ in range(dims)),
                   UNIT * draw(st.integers(0, 20)))
            for _ in range(draw(st.integers(1, 2)))))
        for t in range(draw(st.integers(1, 4))))
    return Auction(resources, bids)


def _sparse(auction: Auction) -> SparseAuction:
    owner, price, entries = [], [], []
    for t, bid in enumerate(auction.bids):
        for bundle in bid.bundles:
            owner.append(t)
            price.append(bundle.price)
            entries.append([(r, q) for r, q in enumerate(bundle.quantities) if q])
    return SparseAuction.build(auction.capacities, owner, price, entries, bids=len(auction.bids))


def _charge(pi: list[float], bundle: Bundle) -> float:
    return sum(p * q for p, q in zip(pi, bundle.quantities, strict=True))


@settings(max_examples=examples(80), deadline=None)
@given(_auctions())
def test_lp_prices_support_the_lp_and_are_in_the_core_when_it_is_integral(
        auction: Auction) -> None:
    found = lp_prices(_sparse(auction))
    assert found is not None
    pi, bound = found
    assert all(p >= 0 for p in pi)
    best = solve_brute(auction)
    assert bound >= best.revenue - 1e-6 * UNIT
    # Dual feasible: each bid's utility at these prices, and they add up to the bound.
    utility = [max([0.0, *(b.price - _charge(pi, b) for b in bid.bundles)])
               for bid in auction.bids]
    dual = sum(utility) + sum(p * c for p, c in zip(pi, auction.capacities, strict=True))
    assert abs(dual - bound) <= 1e-5 * UNIT
    if bound > best.revenue + 1e-6 * UNIT:
        return  # a fractional LP: no Walrasian prices exist, nothing more is claimed
    payments = []
    for t, j in enumerate(best.choice):
        charge = 0 if j is None else round(_charge(pi, auction.bids[t].bundles[j]))
        payments.append(charge)
        if j is not None:
            assert charge <= auction.bids[t].bundles[j].price + 1
    priced = dataclasses.replace(best, payments=tuple(
        min(p, auction.bids[t].bundles[j].price) if j is not None else 0
        for t, (p, j) in enumerate(zip(payments, best.choice, strict=True))))
    assert blocking_coalition(auction, priced, method="brute") is None
    vcg = vcg_payments(auction, best, method="brute")
    assert vcg.payments is not None and priced.payments is not None
    for t in best.winners:
        assert priced.payments[t] >= vcg.payments[t] - 1


def test_least_prices_charge_the_threshold() -> None:
    # Two items; a and b want one each at 6, c both at 10: any prices adding up to 10
    # with each at most 6 are Walrasian; the least charge a and b 10 between them.
    sparse = SparseAuction.build([1, 1], [0, 1, 2], [6 * UNIT, 6 * UNIT, 10 * UNIT],
                                 [[(0, 1)], [(1, 1)], [(0, 1), (1, 1)]])
    found = lp_prices(sparse)
    assert found is not None
    pi, bound = found
    assert round(sum(pi)) == 10 * UNIT and round(bound) == 12 * UNIT
