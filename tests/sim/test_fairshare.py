"""The kernel scheduler's policy in the simulator: heap against scan, against the fluid model,
and as a scenario's CPU plane."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.sim.fairshare import FairShare, FairSharePolicy, FairShareReference, _State, fluid
from auctioneer.sim.run import simulate
from auctioneer.sim.scenario import ScenarioError, load_scenario

from .conftest import tiny

Q = 1_000_000
POLICY = FairSharePolicy()
BIDS = st.sampled_from([0, 1, 5_000, 30_000, 100_000, 310_000, 400_000])


@st.composite
def runs(draw: st.DrawFn) -> tuple[int, list[int], list[int], list[int], list[list[int]]]:
    """Agents with bids, budgets and slices, and per tick the agents that join or leave."""
    n = draw(st.integers(1, 6))
    bids = draw(st.lists(BIDS, min_size=n, max_size=n))
    budgets = draw(st.lists(st.sampled_from([0, 0, 200_000, 3_000_000]), min_size=n,
                            max_size=n))
    units = draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    toggles = draw(st.lists(st.lists(st.integers(0, n - 1), max_size=2), min_size=1,
                            max_size=60))
    return draw(st.integers(1, 3)), bids, budgets, units, toggles


@settings(max_examples=200)
@given(runs(), st.integers(0, 200_000), st.sampled_from([POLICY, FairSharePolicy(
    free_weight=3, max_bid=50_000, max_units=3, bank_ns=0, lag_ns=0, window_ns=7 * Q)]))
def test_heap_matches_the_scan(run: tuple[int, list[int], list[int], list[int], list[list[int]]],
                               reserve: int, policy: FairSharePolicy) -> None:
    """Every tick, the heap and the full scan pick the same agents at the same prices."""
    cores, bids, budgets, units, toggles = run
    fast, ref = FairShare(len(bids), policy, Q), FairShareReference(len(bids), policy, Q)
    active = [False] * len(bids)
    for tick, flips in enumerate(toggles):
        for a in flips:
            for model in (fast, ref):
                if active[a]:
                    model.leave(a)
                else:
                    model.join(a)
            active[a] = not active[a]
        now = tick * Q
        got = fast.tick(now, cores, reserve, bids, budgets, units)
        want = ref.tick(now, cores, reserve, bids, budgets, units)
        assert got == want, tick
        assert fast.tags == ref.tags
        assert set(got.winners) <= {a for a in range(len(bids)) if active[a]}
        assert len(got.winners) == min(cores, sum(active))  # work conserving


def busy_ticks(bids: list[int], budgets: list[int], cores: int, ticks: int,
               policy: FairSharePolicy = POLICY) -> tuple[list[int], list[int]]:
    """Quanta run and paid per agent, every agent always busy from the start."""
    fs = FairShare(len(bids), policy, Q)
    for a in range(len(bids)):
        fs.join(a)
    won, paid = [0] * len(bids), [0] * len(bids)
    for t in range(ticks):
        out = fs.tick(t * Q, cores, 0, bids, budgets, [1] * len(bids))
        for w, p in zip(out.winners, out.payments, strict=True):
            won[w] += 1
            paid[w] += p
    return won, paid


@settings(max_examples=30)
@given(st.lists(st.tuples(BIDS, st.sampled_from([0, 0, 20_000_000, 100_000_000]),
                          st.integers(1, 3)), min_size=1, max_size=4),
       st.integers(1, 2))
def test_ticks_follow_the_fluid_shares(classes: list[tuple[int, int, int]], cores: int) -> None:
    """Always-busy agents over 12 windows get the fluid model's shares within 2 points (a free
    agent's first slices, max_units quanta each, are a start-up transient that 3 windows of
    seven free agents did not absorb), and
    no class pays past its budget (one slice's overrun per agent and window aside), budgets
    on two cores too (test_budget_phases_do_not_carry_over_on_two_cores)."""
    bids = [b for b, _, n in classes for _ in range(n)]
    budgets = [g for _, g, n in classes for _ in range(n)]
    owner = [k for k, (_, _, n) in enumerate(classes) for _ in range(n)]
    ticks = 12_000
    by_agent = busy_ticks(bids, budgets, cores, ticks)
    won, paid = [0] * len(classes), [0] * len(classes)
    for a, k in enumerate(owner):
        won[k] += by_agent[0][a]
        paid[k] += by_agent[1][a]
    shares, _ = fluid([b for b, _, _ in classes], [g for _, g, _ in classes],
                      [n for _, _, n in classes], cores, POLICY)
    for k, (bid, budget, n) in enumerate(classes):
        assert won[k] / (ticks * cores) == pytest.approx(shares[k], abs=0.02), k
        if budget:
            assert paid[k] <= ticks * Q // POLICY.window_ns * n * (budget + bid)


@pytest.mark.parametrize("bids", [[0, 5_000, 0], [0, 1, 0], [0, 0, 0, 30_000, 30_000]])
def test_a_bid_buys_its_share_on_two_cores_beside_free_agents(bids: list[int]) -> None:
    """A free agent's slice (max_units quanta) started on one core moves the latest started tag
    up to a slice ahead of a bidder running on the other; a bank shorter than that slice clipped
    the bidder's credit at each of its slice ends, and a bid of 5,000 bought nothing on two cores
    (a third each, fluid 0.43), a bid of 1 less than no bid."""
    won, _ = busy_ticks(bids, [0] * len(bids), 2, 6000)
    shares, _ = fluid(bids, [0] * len(bids), [1] * len(bids), 2, POLICY)
    assert [w / 12_000 for w in won] == pytest.approx(shares, abs=0.01)
    assert POLICY.bank_ns >= POLICY.max_units * Q  # the bank covers the longest tag step


def test_budget_phases_do_not_carry_over_on_two_cores() -> None:
    """Two budgeted bidders and one unbudgeted at the same bid, two cores: the fluid model gives
    each a third of the cores while the budgets last, then the unbudgeted one a core. Once the
    budgets are spent the unbudgeted agent is worth more than its core, falls behind and sits a
    whole bank behind the others; with the bank kept across the window boundary it spent that
    lead when the budgeted agents paid again and held a core throughout (0.48 of all, against
    0.45). The first slice end in each window keeps only lag_ns (_State.rebank)."""
    bids, budgets = [100_000] * 3, [0, 20_000_000, 20_000_000]
    won, paid = busy_ticks(bids, budgets, 2, 3000)
    shares, _ = fluid([100_000, 100_000], [0, 20_000_000], [1, 2], 2, POLICY)
    assert won[0] / 6000 == pytest.approx(shares[0], abs=0.01)
    assert [p // 3 for p in paid[1:]] == [20_000_000] * 2  # the budgets bought their windows


def test_no_budget_windows_means_budgets_never_bind() -> None:
    """window_ns = 0 (the scheduler's budget_period_ns = 0): the same quanta and payments as
    with no budgets at all, and the fluid model ignores the budgets."""
    policy = FairSharePolicy(window_ns=0)
    bids, budgets = [100_000] * 3, [0, 20_000_000, 20_000_000]
    assert busy_ticks(bids, budgets, 2, 1500, policy) == busy_ticks(bids, [0] * 3, 2, 1500, policy)
    assert fluid(bids, budgets, [1] * 3, 2, policy) == fluid(bids, [0] * 3, [1] * 3, 2, POLICY)


def test_weights_and_budget_in_closed_form() -> None:
    shares, paid = fluid([90_000, 0], [0, 0], [1, 1], 1, POLICY)
    assert shares == pytest.approx([100_000 / 110_000, 10_000 / 110_000])
    shares, paid = fluid([300_000, 0], [50_000_000, 0], [1, 1], 1, POLICY)
    assert paid[0] == pytest.approx(50_000_000)
    assert 0.5 < shares[0] < 1.0


def test_a_bid_under_the_reserve_runs_free() -> None:
    shares, paid = fluid([50_000, 0], [0, 0], [1, 1], 1, POLICY, reserve=60_000)
    assert shares == pytest.approx([0.5, 0.5]) and paid == [0, 0]


def test_slices_a_bidder_by_its_weight_and_a_task_with_no_bid_by_max_units() -> None:
    """The kernel's rule (classify in scx_auction.bpf.c): a bidder is re-priced every slice."""
    fw = POLICY.free_weight
    assert POLICY.slice_units(16, fw + 30_000, 30_000) == 4
    assert POLICY.slice_units(2, fw + 300_000, 300_000) == 2
    assert POLICY.slice_units(1, fw, 0) == POLICY.max_units


def test_nobody_starves_at_the_highest_bids() -> None:
    """A free agent against eight at the highest bid still gets its weight's share."""
    fs = FairShare(9, POLICY, Q)
    for a in range(9):
        fs.join(a)
    bids = [POLICY.max_bid] * 8 + [0]
    ran = sum(8 in fs.tick(t * Q, 2, 0, bids, [0] * 9, [16] * 9).winners for t in range(2000))
    assert ran > 0


def _mix(**cpu: object) -> dict[str, object]:
    busy = {"arrivals": {"process": "poisson", "rate_hz": 1000},
            "quanta": {"dist": "constant", "value": 1_000_000}}
    return tiny(duration_s=2, cpu={"tick_hz": 1000, "cores": 1, "policy": "fair-share",
                                   "coupled": False, "reserve": 0, **cpu},
                agents={"count": 2, "classes": [
                    {"name": "rich", "share": 0.5, "value": {"dist": "constant",
                                                             "value": 90_000}, **busy},
                    {"name": "free", "share": 0.5, "value": {"dist": "constant", "value": 0},
                     **busy}]})


def test_a_scenario_runs_the_policy() -> None:
    """``cpu.policy: fair-share`` in a scenario: per-class shares and payments by weight."""
    m = simulate(load_scenario(_mix())).metrics
    assert m.class_share == pytest.approx((10 / 11, 1 / 11), abs=0.01)
    assert m.class_paid[1] == 0
    assert m.class_paid[0] == pytest.approx(m.class_share[0] * 2000 * 90_000, rel=0.01)


def test_a_scenario_with_a_reserve_and_budgets() -> None:
    data = _mix(reserve=100_000)
    m = simulate(load_scenario(data)).metrics
    assert m.class_share == pytest.approx((0.5, 0.5), abs=0.01) and m.class_paid == (0, 0)
    data = _mix()
    data["agents"]["classes"][0]["budget"] = 9_000_000  # type: ignore[index]
    m = simulate(load_scenario(data)).metrics
    assert m.class_paid[0] <= 2 * (9_000_000 + 90_000)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("budget", 2**63, "budget: 9223372036854775808 is outside"),
    ("budget", 10**30, "budget: 1000000000000000000000000000000 is outside"),
    ("budget", -1, "budget"),
    ("units", 0, "units"),
])
def test_bad_class_fields_are_refused(field: str, value: int, message: str) -> None:
    data = _mix()
    data["agents"]["classes"][0][field] = value  # type: ignore[index]
    with pytest.raises(ScenarioError, match=message):
        load_scenario(data)


def test_budgets_need_the_fair_share_policy() -> None:
    data = _mix(policy="auction")
    data["agents"]["classes"][0]["budget"] = 1000  # type: ignore[index]
    with pytest.raises(ScenarioError, match="budget: needs cpu.policy fair-share"):
        load_scenario(data)


@given(st.integers(0, 2**40), st.integers(0, 2**40), st.integers(0, 2**32), st.integers(0, 2**32),
       st.sampled_from([0, 1, 7, 10**6, 10**9]),
       st.lists(st.integers(0, 3 * 10**9), min_size=1, max_size=8))
def test_a_slice_end_only_raises_a_tag_and_never_past_vnow(tag: int, vnow: int, lag: int,
                                                           bank: int, window: int,
                                                           ends: list[int]) -> None:
    """What the wait bound needs of the clamp: a tag is never lowered, never raised past vnow,
    and ends at most bank_ns behind vnow. The exact rule: raised to vnow - bank_ns, and at the
    first slice end of a window also to vnow - lag_ns (a no-op where lag_ns > bank_ns); with
    no budget windows (window_ns = 0) never."""
    policy = FairSharePolicy(lag_ns=lag, bank_ns=bank, window_ns=window)
    s = _State(1, policy, Q)
    s.vnow = vnow
    seen: set[int] = set()
    for now in sorted(ends):
        s.tag[0] = tag
        s.rebank(0, now)
        got = s.tag[0]
        assert got >= tag
        assert got <= max(tag, vnow)
        assert got >= vnow - bank
        want = max(tag, vnow - bank)
        if window and now // window not in seen:
            want = max(want, vnow - lag)
            seen.add(now // window)
        assert got == want
