"""The median's bootstrap interval: it holds the median, is reproducible, and narrows."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.measure.interval import median_interval, ratio_spread, rounds_to_resolve

VALUES = st.lists(st.floats(min_value=0.01, max_value=100.0), min_size=1, max_size=40)


@given(VALUES)
def test_the_interval_holds_the_median_and_lies_within_the_values(values: list[float]) -> None:
    got = median_interval(values, draws=200)
    assert got.median == statistics.median(values) and got.n == len(values)
    assert min(values) <= got.low <= got.high <= max(values)


def test_it_is_reproducible_and_narrows_with_more_values() -> None:
    few = [1.0, 1.3, 0.9, 1.1, 1.2, 0.8]
    assert median_interval(few) == median_interval(few)
    wide = median_interval(few)
    narrow = median_interval(few * 20)
    assert narrow.high - narrow.low < wide.high - wide.low


def test_no_values_give_nan() -> None:
    got = median_interval([])
    assert math.isnan(got.median) and math.isnan(got.low) and got.n == 0


@pytest.mark.parametrize(("level", "draws"), [(0.0, 10), (1.0, 10), (0.95, 0)])
def test_bad_parameters_are_refused(level: float, draws: int) -> None:
    with pytest.raises(ValueError, match="level|draws"):
        median_interval([1.0], level=level, draws=draws)


def test_the_spread_is_the_log_ratios_robust_deviation() -> None:
    assert ratio_spread([1.0, 1.0, 1.0]) == 0.0
    assert math.isnan(ratio_spread([1.2]))
    wide = ratio_spread([0.5, 1.0, 2.0, 1.0, 0.5, 2.0])
    assert wide == pytest.approx(1.4826 * math.log(2))


def test_rounds_to_resolve_grow_with_the_square_of_the_spread() -> None:
    """At a 10 % spread, +-5 % takes 26 rounds; twice the spread, four times as many."""
    assert rounds_to_resolve(0.1) == 26
    assert rounds_to_resolve(0.2) == 102
    assert rounds_to_resolve(0.0) == 0 and math.isnan(rounds_to_resolve(math.nan))
    with pytest.raises(ValueError, match="half_width"):
        rounds_to_resolve(0.1, 0.0)
