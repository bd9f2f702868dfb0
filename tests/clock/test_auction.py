"""The clock: convergence, feasibility, the proxies' rule, and every way it stops."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.clock import (
    InfeasibleAllocation,
    Market,
    Pool,
    Status,
    StepMode,
    StepRule,
    User,
    allocation_problems,
    check_allocation,
    generate_market,
    run_clock,
)
from auctioneer.clock.reference import reference_clock

from .conftest import SWAP_RULE, swap_traders
from .strategies import cycle_rules, markets, rules, swap_markets

M = 1_000_000


def _assert_cleared_properly(market: Market, result) -> None:  # type: ignore[no-untyped-def]
    assert result.status is Status.CLEARED, result.detail
    assert (result.excess <= 0).all()
    assert (result.excess_trace[-1] == result.excess).all()
    held = result.choice >= 0
    assert (result.payments[held] <= market.budgets[held]).all()
    assert (result.payments[~held] == 0).all()
    assert (result.prices >= result.reserves).all()
    assert allocation_problems(market, result) == []


@pytest.mark.parametrize("mode", list(StepMode))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_pure_markets_clear(mode: StepMode, seed: int) -> None:
    # Absolute steps are one price scale for all pools: keep to cpu and ram, whose list
    # prices are close, or the gpu pools crawl for tens of thousands of rounds.
    market = generate_market(clusters=6, resources=2 if mode is StepMode.ABSOLUTE else 4,
                             users=300, bundles=3, seed=seed, sellers=0.1)
    result = run_clock(market, StepRule.default(mode))
    _assert_cleared_properly(market, result)
    # The losers could not afford any acceptable bundle at the final prices.
    p = result.prices
    costs = (market.quantity * p[market.pool_index]).sum(axis=0)
    costs[~market.servable()] = np.iinfo(np.int64).max  # never bid: could never be served
    losers = result.choice < 0
    assert (costs[losers].min(axis=1) > market.budgets[losers]).all()
    # Prices only ever rise, and only where demand exceeded supply.
    rises = np.diff(result.price_trace, axis=0)
    assert (rises >= 0).all()
    assert ((rises > 0) == (result.excess_trace[:-1] > 0)).all()


@given(market=markets(traders=False, fast=True), rule=rules(fast=True))
def test_pure_buyers_and_sellers_always_clear(market: Market, rule: StepRule) -> None:
    # Termination is guaranteed, but tiny steps would take millions of rounds: the
    # ``fast`` strategies keep every step at 1% or 10 cents, so a few thousand suffice.
    result = run_clock(market, rule, max_rounds=100_000)
    _assert_cleared_properly(market, result)


@given(market=markets(), rule=rules(), limit=st.integers(0, 60))
def test_engine_matches_the_reference(market: Market, rule: StepRule, limit: int) -> None:
    got = run_clock(market, rule, max_rounds=limit, detect_cycles=False)
    want = reference_clock(market, rule, max_rounds=limit)
    assert got.status.value == want.status
    assert got.rounds == want.rounds
    assert got.price_trace.tolist() == want.price_trace
    assert got.choice.tolist() == want.choice
    assert got.payments.tolist() == want.payments
    assert got.excess.tolist() == want.excess


@given(market=markets(), rule=rules())
def test_no_silent_wrong_answer(market: Market, rule: StepRule) -> None:
    """Whatever the market, the run stops, and only a CLEARED run claims feasibility."""
    result = run_clock(market, rule, max_rounds=300)
    if result.status is Status.CLEARED:
        assert allocation_problems(market, result) == []
    else:
        assert (result.excess > 0).any()
        assert result.detail
    if result.status is Status.CYCLE:
        # Proven only where the step depends on the excess demand alone.
        assert rule.mode is not StepMode.RELATIVE
        assert result.cycle is not None and result.cycle.period >= 1


@given(market=swap_markets(), rule=cycle_rules())
def test_reported_cycles_are_real(market: Market, rule: StepRule) -> None:
    """Markets of swapping traders, where cycles are common: each one reported is checked
    by running on without detection, and nothing that clears is ever called a cycle."""
    result = run_clock(market, rule, max_rounds=2_000)
    if result.status is not Status.CYCLE:
        return
    assert result.cycle is not None
    start, period = result.cycle.start, result.cycle.period
    longer = run_clock(market, rule, max_rounds=result.rounds + 40 * period,
                       detect_cycles=False)
    assert longer.status is not Status.CLEARED
    tail = longer.excess_trace[start:]
    assert (tail[period:] == tail[:-period]).all()  # the excess demand repeats exactly
    rises = np.diff(longer.price_trace[start:], axis=0)
    assert (rises[period:] == rises[:-period]).all()  # and so do the price steps


def test_reserves_steer_users_to_idle_pools() -> None:
    pools = (Pool("busy", "cpu", 100, M, used=95), Pool("idle", "cpu", 100, M, used=10))
    users = [User(f"u{i}", 10 * M, ({"busy/cpu": 1}, {"idle/cpu": 1})) for i in range(5)]
    result = run_clock(Market.from_users(pools, users))
    assert result.rounds == 0  # the reserves alone balance it
    assert result.choice.tolist() == [1] * 5
    assert result.prices.tolist() == [2_500_000, 560_000]  # 2.5x and 0.56x


def test_a_bundle_no_allocation_could_serve_is_never_bid() -> None:
    pools = (Pool("e", "cpu", 10, M, used=2), Pool("w", "cpu", 10, M, used=6))
    market = Market.from_users(pools, [
        # 9 units fit nowhere alone; with s's 2 units for sale in w, 6 do fit there.
        User("whale", 100 * M, ({"e/cpu": 9}, {"w/cpu": 6})),
        User("big", 100 * M, ({"e/cpu": 9},)),
        User("s", -M, ({"w/cpu": -2},)),
        User("small", 6 * M, ({"e/cpu": 8},)),  # 8 x $0.62 at 20% utilisation
    ])
    assert market.max_supply().tolist() == [8, 6]
    assert market.servable().tolist() == [[False, True], [False, False], [True, True],
                                           [True, True]]
    result = run_clock(market)
    assert result.choice.tolist() == [1, -1, 0, 0]
    assert result.rounds == 0  # big's hopeless demand never pushed e's price up
    _assert_cleared_properly(market, result)


def test_known_trader_cycle_is_detected() -> None:
    market = swap_traders()
    result = run_clock(market, SWAP_RULE)
    assert result.status is Status.CYCLE
    assert result.cycle is not None
    assert (result.cycle.start, result.cycle.period) == (0, 2)
    assert [market.user_names[u] for u in result.cycle.users] == ["t1", "t2"]
    assert [market.pool_names[r] for r in result.cycle.pools] == ["x/a", "x/b"]
    assert "period 2" in result.detail and "t1, t2" in result.detail
    with pytest.raises(InfeasibleAllocation, match="over-demanded|take"):
        check_allocation(market, result)
    # Normalised steps are a function of the excess demand too: the same proof applies.
    assert run_clock(market, StepRule.default(StepMode.NORMALISED)).status is Status.CYCLE


def test_trader_cycle_without_detection_hits_the_ceiling() -> None:
    market = swap_traders()
    off = run_clock(market, SWAP_RULE, detect_cycles=False)
    assert off.status is Status.PRICE_CEILING
    assert off.ceiling == 10 * M
    assert "above the ceiling $10.00" in off.detail
    # Relative steps are not translation-invariant: the cycle ends at the ceiling.
    rel = run_clock(market)
    assert rel.status is Status.PRICE_CEILING and rel.cycle is None
    assert rel.rounds < 200


def test_round_limit() -> None:
    market = swap_traders()
    result = run_clock(market, SWAP_RULE, max_rounds=5, detect_cycles=False)
    assert result.status is Status.ROUND_LIMIT
    assert result.rounds == 5
    assert result.price_trace.shape == (6, 3)
    assert "max_rounds=5" in result.detail
    with pytest.raises(ValueError, match="max_rounds"):
        run_clock(market, max_rounds=-1)


def test_a_buyer_who_only_rises_is_not_a_cycle() -> None:
    """A pool over-demanded for many rounds by the same buyer is progress, not a cycle."""
    pools = (Pool("x", "a", 0, M, reserve=M), Pool("x", "b", 5, M, reserve=M))
    market = Market.from_users(pools, [
        User("rich", 50 * M, ({"x/a": 1},)),
        User("richer", 60 * M, ({"x/a": 1},)),
        User("t", M, ({"x/b": 1, "x/a": -1},), ),  # a trader, so detection is on
    ])
    rule = StepRule(StepMode.ABSOLUTE, Fraction(100_000), Fraction(100_000), Fraction(1))
    result = run_clock(market, rule)
    assert result.status is Status.CLEARED
    assert result.rounds == 491  # $1.00 to $50.10 in 10-cent steps: past rich's $50 budget
    assert result.choice.tolist() == [-1, 0, 0]


def test_overflowing_money_is_refused_before_the_first_round() -> None:
    pools = (Pool("x", "a", 10, M),)
    market = Market.from_users(pools, [User("whale", 2**62, ({"x/a": 4},))])
    with pytest.raises(ValueError, match="user 0 'whale' bundle 0: moves 4 units"):
        run_clock(market)


def test_free_units_past_64_bits_in_all_are_refused() -> None:
    # Two pools of 2**63 - 1 free units: an int64 sum of the supply wrapped to -2.
    pools = (Pool("x", "a", 2**63 - 1, M), Pool("x", "b", 2**63 - 1, M))
    market = Market.from_users(pools, [User("u", M, ({"x/a": 1},))])
    with pytest.raises(ValueError, match="excess demand would overflow 64 bits"):
        run_clock(market)


def test_progress_hears_every_round() -> None:
    heard: list[tuple[int, int]] = []
    market = generate_market(clusters=3, resources=2, users=40, seed=3)
    result = run_clock(market, progress=lambda t, over: heard.append((t, over)))
    assert [t for t, _ in heard] == list(range(result.rounds + 1))
    assert heard[-1][1] == 0 and all(over > 0 for _, over in heard[:-1])


def test_tampered_results_fail_the_check() -> None:
    market = generate_market(clusters=3, resources=2, users=40, seed=4)
    result = run_clock(market)
    check_allocation(market, result)
    winner = int(result.winners[0])
    for name, change in (("payments", lambda a: a.__setitem__(winner, a[winner] + 1)),
                         ("prices", lambda a: a.__setitem__(0, a[0] - 1)),
                         ("choice", lambda a: a.__setitem__(winner, -1))):
        copy = np.array(getattr(result, name))
        change(copy)
        import dataclasses
        bad = dataclasses.replace(result, **{name: copy})
        assert allocation_problems(market, bad), name
