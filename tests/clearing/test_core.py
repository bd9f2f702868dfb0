"""Core-selecting payments: in the core by an independent coalition check, at least VCG."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.core import blocking_coalition, core_payments
from auctioneer.clearing.milp import solve_sparse
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
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
    assert core.payments is not None and sum(core.payments) == 10
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
