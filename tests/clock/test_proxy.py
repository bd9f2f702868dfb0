"""The proxy round: exact welfare, payments in the core (independent check), the activity rule."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings

from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.core import blocking_coalition
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clock import Market, Pool, User, generate_market, run_clock
from auctioneer.clock import proxy as proxy_module
from auctioneer.clock.activity import ActivityError, PackageBid, Packages, check_activity
from auctioneer.clock.proxy import ProxyResult, package_auction, run_proxy
from auctioneer.clock.welfare import compare_welfare

from .strategies import markets

M = 1_000_000


def _net_clearing(market: Market, proxy: ProxyResult) -> Clearing:
    """The proxy round's outcome on :func:`package_auction`, net of the reserve values."""
    packages = proxy.packages
    reserve = packages.costs(market.reserves())
    choice: list[int | None] = []
    payments = []
    for u in range(market.shape[0]):
        i = int(proxy.choice[u])
        if i < 0:
            choice.append(None)
            payments.append(0)
        else:
            choice.append(i - int((packages.owner < u).sum()))
            payments.append(int(proxy.payments[u]) - int(reserve[i]))
    auction = package_auction(market, packages)
    revenue = sum(auction.bids[t].bundles[j].price for t, j in enumerate(choice) if j is not None)
    return Clearing(Status.OPTIMAL, "proxy", revenue, tuple(choice), (), tuple(payments))


def _check(market: Market, method: str) -> ProxyResult:
    clock = run_clock(market)
    proxy = run_proxy(market, clock, method=method)
    auction = package_auction(market)
    assert proxy.status is Status.OPTIMAL
    assert proxy.welfare == solve_brute(auction).revenue
    assert proxy.core_certified
    assert blocking_coalition(auction, _net_clearing(market, proxy), method="brute") is None
    assert proxy.vcg is not None
    assert (proxy.payments >= proxy.vcg).all()
    assert proxy.vcg_revenue is not None and proxy.revenue >= proxy.vcg_revenue
    for u in proxy.winners.tolist():  # nobody pays more than its package bid
        assert proxy.payments[u] <= proxy.packages.value[proxy.choice[u]]
    if clock.cleared:
        assert proxy.clock_welfare is not None and proxy.welfare >= proxy.clock_welfare
    return proxy


@settings(max_examples=40, deadline=None)
@given(markets(traders=False, max_users=5))
def test_proxy_round_is_efficient_and_in_the_core(market: Market) -> None:
    _check(market, "auto")


@settings(max_examples=25, deadline=None)
@given(markets(traders=True, max_users=4))
def test_sparse_milp_path_agrees_with_the_dense_one(market: Market) -> None:
    assert _check(market, "milp").welfare == _check(market, "auto").welfare


def test_proxy_reaches_the_optimum_where_the_clock_does_not() -> None:
    market = generate_market(clusters=4, resources=2, users=12, bundles=3, seed=18, sellers=0.1)
    clock = run_clock(market)
    optimum = compare_welfare(market, clock, method="milp")
    assert optimum.ratio is not None and optimum.ratio < 0.7  # the bench's worst clock market
    proxy = run_proxy(market, clock)
    assert proxy.welfare == optimum.optimum
    assert proxy.vcg_revenue is not None and proxy.revenue >= proxy.vcg_revenue


MARKET = Market.from_users(
    [Pool("e", "cpu", 10, M, used=9), Pool("w", "cpu", 10, M, used=2)],
    [User("a", 9 * M, ({"e/cpu": 1}, {"w/cpu": 1})), User("b", 3 * M, ({"e/cpu": 1},))])


def test_truthful_bids_pass_and_an_inflated_bundle_is_refused_by_name() -> None:
    clock = run_clock(MARKET)
    check_activity(MARKET, clock, Packages.truthful(MARKET))
    inflated = Packages.from_bids(MARKET, [PackageBid("a", {"e/cpu": 1}, 12 * M),
                                           PackageBid("a", {"w/cpu": 1}, 9 * M)])
    with pytest.raises(ActivityError, match=r"user 'a' bundle \{'e/cpu': 1\}: value \$12\.00"):
        run_proxy(MARKET, clock, inflated)


def test_a_user_that_bid_nothing_cannot_value_a_bundle_above_its_clock_cost() -> None:
    poor = Market.from_users(MARKET.pools, [User("c", M // 10, ({"e/cpu": 1},))])
    clock = run_clock(poor)
    late = Packages.from_bids(poor, [PackageBid("c", {"w/cpu": 2}, 50 * M)])
    with pytest.raises(ActivityError, match=r"user 'c' bundle \{'w/cpu': 2\}.*bid nothing"):
        check_activity(poor, clock, late)


@pytest.mark.parametrize("bid, words", [
    (PackageBid("zed", {"e/cpu": 1}, M), "user 'zed' is not in the market"),
    (PackageBid("a", {"x/cpu": 1}, M), "pool 'x/cpu' is not in the market"),
    (PackageBid("a", {"e/cpu": 0}, M), "moves no unit"),
    (PackageBid("a", {"e/cpu": 1.5}, M), "must be an int"),  # type: ignore[dict-item]
    (PackageBid("a", {"e/cpu": 2**63}, M), "must be an int within"),
    (PackageBid("a", {"e/cpu": 1}, 2**63), "value"),
    (PackageBid("a", {"e/cpu": 1}, 10**30), "value"),
    (PackageBid("a", {"e/cpu": 1}, 2**62), "exceeds 2\\*\\*61"),
])
def test_bad_package_bids_name_the_user_and_field(bid: PackageBid, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Packages.from_bids(MARKET, [bid])


def test_a_bundle_bid_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Packages.from_bids(MARKET, [PackageBid("a", {"e/cpu": 1}, M),
                                    PackageBid("a", {"e/cpu": 1}, 2 * M)])


@settings(max_examples=25, deadline=None)
@given(markets(traders=False, max_users=5))
def test_without_vcg_the_lp_payments_stay_within_the_bids_and_bound_every_blocking_gain(
        market: Market) -> None:
    """When VCG's re-solves do not finish, one LP prices the round: never above a bid, and
    whenever the independent enumeration finds a blocking coalition, the LP-duality bound
    said one might gain by blocking (at most 0 means certified: no coalition blocks)."""
    clock = run_clock(market)
    with mock.patch.object(proxy_module, "_vcg", return_value=None):
        proxy = run_proxy(market, clock, method="milp")
    assert proxy.vcg is None and "re-solve stopped" in proxy.note
    for u in proxy.winners.tolist():
        assert proxy.payments[u] <= proxy.packages.value[proxy.choice[u]]
    assert proxy.blocking_margin is not None
    assert proxy.core_certified == (proxy.blocking_margin <= 0)
    blocked = blocking_coalition(package_auction(market), _net_clearing(market, proxy),
                                 method="brute")
    if proxy.core_certified:
        assert blocked is None and "certified in the core" in proxy.note
    else:
        assert "not certified core" in proxy.note
    if proxy.blocking_found is not None:  # the allocation is optimal: exact separation ran
        assert (blocked is None) == (proxy.blocking_found <= 0)
        assert proxy.blocking_margin == max(0, proxy.blocking_found)


def test_each_phase_is_reported_as_it_starts() -> None:
    phases: list[str] = []
    proxy = run_proxy(MARKET, run_clock(MARKET), method="milp", progress=phases.append)
    assert phases[:4] == ["activity rule", "LP relaxation", "rounding the LP relaxation",
                          "winner determination"]
    assert "VCG re-solves" in phases and proxy.core_certified


def test_above_milp_columns_the_lp_rounding_is_the_allocation_and_the_lp_prices_it() -> None:
    clock = run_clock(MARKET)
    with mock.patch.object(proxy_module, "MILP_COLUMNS", 0):
        proxy = run_proxy(MARKET, clock, method="milp")
    assert proxy.status is Status.TIME_LIMIT and "integer program was not run" in proxy.note
    assert proxy.blocking_margin is not None and proxy.vcg is None
    assert proxy.welfare >= (proxy.clock_welfare or 0) and proxy.bound >= proxy.welfare
