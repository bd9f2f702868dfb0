"""The LP-duality bound on blocking margins: never below the largest margin any coalition
really has (every coalition enumerated, each solved by brute force), at any prices, for
any payments and any feasible allocation, optimal or not."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.certificate import blocking_bound, dual_payments, utilities
from auctioneer.clearing.milp import lp_prices
from auctioneer.clearing.model import Auction
from auctioneer.clearing.sparse import SparseAuction

from .conftest import examples
from .strategies import sparse_auctions

UNIT = 1000  # prices in thousands of micro-units: HiGHS's tolerances are far below one


def _best(auction: Auction, members: tuple[int, ...]) -> int:
    """w(C): the best welfare the bids in ``members`` reach alone."""
    sub = Auction(auction.resources, tuple(auction.bids[t] for t in members))
    return solve_brute(sub).revenue


def _largest_margin(sparse: SparseAuction, won: dict[int, int], pay: dict[int, int]) -> int:
    """The reference: max over every coalition C of w(C) - pay outside C - bids inside."""
    auction = sparse.to_auction()
    values = {t: int(sparse.price[c]) for t, c in won.items()}
    margins = []
    for size in range(sparse.bids + 1):
        for members in itertools.combinations(range(sparse.bids), size):
            inside = set(members)
            margins.append(_best(auction, members)
                           - sum(p for j, p in pay.items() if j not in inside)
                           - sum(values[j] for j in won if j in inside))
    return max(margins)


def _allocation(draw: st.DrawFn, sparse: SparseAuction) -> dict[int, int]:
    """A feasible allocation: the optimum, or the optimum of a random subset of the bids."""
    keep = draw(st.lists(st.booleans(), min_size=sparse.bids, max_size=sparse.bids))
    auction = sparse.to_auction()
    members = tuple(t for t in range(sparse.bids) if keep[t])
    best = solve_brute(Auction(auction.resources, tuple(auction.bids[t] for t in members)))
    columns = {t: [c for c in range(sparse.columns) if int(sparse.owner[c]) == t]
               for t in range(sparse.bids)}
    return {t: columns[t][j] for t, j in zip(members, best.choice, strict=True) if j is not None}


@settings(max_examples=examples(120), deadline=None)
@given(st.data())
def test_the_bound_is_never_below_the_largest_blocking_margin(data: st.DataObject) -> None:
    sparse = data.draw(sparse_auctions(UNIT))
    won = _allocation(data.draw, sparse)
    dims = len(sparse.capacity)
    pi = data.draw(st.lists(st.floats(0, 8 * UNIT), min_size=dims, max_size=dims))
    values = {t: int(sparse.price[c]) for t, c in won.items()}
    pay = {t: data.draw(st.integers(min(0, v) - 2 * UNIT, v)) for t, v in values.items()}
    assert blocking_bound(sparse, won, pay, pi) >= _largest_margin(sparse, won, pay)
    least = dual_payments(sparse, won, pi)
    assert all(least[t] <= values[t] for t in won)
    bound = blocking_bound(sparse, won, least, pi)
    assert bound >= _largest_margin(sparse, won, least)
    # The least payments reach the smallest bound at these prices: D - welfare.
    dual = sum(utilities(sparse, pi), Fraction(0)) + sum(
        Fraction(round(p * 2**20), 2**20) * c for p, c in zip(pi, sparse.capacity.tolist(),
                                                                strict=True))
    assert bound == dual - sum(values.values())
    assert bound <= blocking_bound(sparse, won, pay, pi)


@settings(max_examples=examples(60), deadline=None)
@given(st.data())
def test_at_the_lp_prices_the_bound_is_the_lp_gap_and_zero_means_the_core(
        data: st.DataObject) -> None:
    sparse = data.draw(sparse_auctions(UNIT))
    won = _allocation(data.draw, sparse)
    found = lp_prices(sparse)
    assert found is not None
    pi, lp_bound = found
    pay = dual_payments(sparse, won, pi)
    bound = blocking_bound(sparse, won, pay, pi)
    welfare = sum(int(sparse.price[c]) for c in won.values())
    assert abs(float(bound) - (lp_bound - welfare)) <= 1e-6 * UNIT * (1 + sparse.bids)
    if bound <= 0:
        assert _largest_margin(sparse, won, pay) <= 0
