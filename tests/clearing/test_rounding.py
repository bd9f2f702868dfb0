"""LP rounding: always a feasible allocation, never above the optimum (brute force), and
the optimum itself whenever the LP is integral."""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings

from auctioneer.clearing import milp
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


@settings(max_examples=examples(40), deadline=None)
@given(sparse_auctions(UNIT))
def test_interior_point_and_simplex_give_the_same_lp(sparse: SparseAuction) -> None:
    """Large programs take the interior-point path: the same optimum as simplex."""
    simplex = lp_relaxation(sparse)
    with mock.patch.object(milp, "IPM_COLUMNS", -1):
        ipm = lp_relaxation(sparse)
    assert simplex is not None and ipm is not None
    assert abs(simplex.bound - ipm.bound) <= 1e-6 * UNIT * (1 + sparse.bids)
    assert abs(float(simplex.fractions @ sparse.price) - float(ipm.fractions @ sparse.price)) \
        <= 1e-6 * UNIT * (1 + sparse.bids)
