"""The fluid prediction against the slice-by-slice reference of the scheduler's policy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.kernel import FREE_WEIGHT, MAX_BID, TaskClass, fluid, simulate

classes = st.lists(
    st.builds(TaskClass, name=st.just(""), price=st.sampled_from([0, 5_000, 30_000, 100_000,
                                                                    300_000, MAX_BID]),
              tasks=st.integers(1, 3), units=st.integers(1, 4),
              budget=st.sampled_from([0, 0, 20_000_000, 100_000_000])),
    min_size=1, max_size=4,
).map(lambda cs: [TaskClass(f"c{i}", c.price, c.tasks, c.units, c.budget)
                  for i, c in enumerate(cs)])


# Each example simulates thousands of slices: fewer examples than the profile's.
@settings(max_examples=40)
@given(classes, st.integers(1, 2))
def test_fluid_matches_the_reference(cs: list[TaskClass], cpus: int) -> None:
    """Over 3 budget windows the reference's shares are within 3 points of the fluid model's.

    The gap is the reference's granularity: whole slices, a budget overrun
    of up to one slice per task per window, bank-clamped tags.
    """
    want = fluid(cs, cpus)
    got = simulate(cs, cpus, 3 * 10**9)
    for w, g in zip(want, got, strict=True):
        assert abs(w.share - g.share) <= 0.03, (cs, cpus, want, got)
    assert sum(w.share for w in want) == pytest.approx(min(1.0, sum(c.tasks for c in cs) / cpus))


def test_shares_follow_weights() -> None:
    """Two tasks on one CPU share it by weight: FREE_WEIGHT + bid."""
    a, b = TaskClass("a", 90_000, 1), TaskClass("b", 0, 1)
    got = {r.name: r.share for r in fluid([a, b], 1)}
    assert got["a"] == pytest.approx(100_000 / (100_000 + FREE_WEIGHT))


def test_budget_caps_spend() -> None:
    """A class pays at most its budget per window; past it, it runs at the free weight."""
    rich = TaskClass("rich", 300_000, 1, budget=50_000_000)
    got = fluid([rich, TaskClass("free", 0, 1)], 1)
    assert got[0].paid_per_s == pytest.approx(50_000_000)
    assert 0.5 < got[0].share < 1.0


def test_no_task_gets_nothing() -> None:
    """The free class keeps a share against the highest bids: nobody starves."""
    got = fluid([TaskClass("rich", MAX_BID, 8), TaskClass("free", 0, 1)], 2)
    assert got[1].share > 0


def test_a_bid_under_the_reserve_is_free() -> None:
    a = TaskClass("a", 50_000, 1)
    assert fluid([a, TaskClass("b", 0, 1)], 1, reserve=60_000)[0].share == pytest.approx(0.5)
    assert fluid([a], 1, reserve=60_000)[0].paid_per_s == 0
