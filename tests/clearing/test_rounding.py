"""LP rounding: always a feasible allocation, never above the optimum (brute force), and
the optimum itself whenever the LP is integral."""

from __future__ import annotations

from hypothesis import given, settings

from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.milp import lp_relaxation
from auctioneer.clearing.rounding import round_lp
from auctioneer.clearing.sparse import SparseAuction

from .conftest import examples
from .strategies import sparse_auctions

UNIT = 1000


@settings(max_examples=examples(100), deadline=None)
@given(sparse_auctions(UNIT))
def test_rounding_is_feasible_and_optimal_when_the_lp_is_integral(sparse: SparseAuction) -> None:
    lp = lp_relaxation(sparse)
    assert lp is not None
    chosen = round_lp(sparse, lp.fractions)
    assert sparse.violation(chosen) is None
    welfare = sum(int(sparse.price[c]) for c in chosen)
    best = solve_brute(sparse.to_auction()).revenue
    assert welfare <= best <= lp.bound + 1e-6 * UNIT
    if lp.bound <= best + 1e-6 * UNIT and all(x <= 1e-6 or x >= 1 - 1e-6
                                               for x in lp.fractions.tolist()):
        assert welfare == best
