"""Welfare against the clearing module's optimum: feasible, never above it, and reported."""

import pytest

from auctioneer.clock import (
    Market,
    Pool,
    User,
    compare_welfare,
    generate_market,
    run_clock,
    to_auction,
    welfare,
)

from .conftest import SWAP_RULE, swap_traders

M = 1_000_000


@pytest.mark.parametrize("seed", range(6))
def test_small_markets_against_milp_and_brute(seed: int) -> None:
    market = generate_market(clusters=3, resources=2, users=8, bundles=2, seed=seed,
                             sellers=0.15)
    result = run_clock(market)
    assert result.cleared
    milp = compare_welfare(market, result, method="milp")
    brute = compare_welfare(market, result, method="brute")
    assert milp.optimal and brute.optimal
    assert milp.optimum == brute.optimum       # two solvers, one optimum
    assert milp.clock == welfare(market, result)
    # The clock's allocation is feasible for the welfare problem: never above the optimum.
    assert milp.clock <= milp.optimum
    assert milp.ratio is not None and 0 < milp.ratio <= 1


def test_to_auction_prices_bundles_at_surplus_over_reserve() -> None:
    pools = (Pool("e", "cpu", 10, M, used=5), Pool("w", "cpu", 4, M))
    market = Market.from_users(pools, [User("a", 5 * M, ({"e/cpu": 2}, {"w/cpu": 1})),
                                       User("s", -M, ({"w/cpu": -2},))])
    auction = to_auction(market)
    reserves = market.reserves().tolist()
    assert auction.capacities == (5, 4)
    assert [b.quantities for b in auction.bids[0].bundles] == [(2, 0), (0, 1)]
    assert auction.bids[0].bundles[0].price == 5 * M - 2 * reserves[0]
    assert auction.bids[1].bundles[0].price == -M + 2 * reserves[1]


def test_a_result_that_did_not_clear_is_not_compared() -> None:
    market = swap_traders()
    with pytest.raises(ValueError, match="status cycle, not cleared"):
        compare_welfare(market, run_clock(market, SWAP_RULE))
