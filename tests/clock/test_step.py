"""The price increment: each mode's formula, exactly, and never a stalled clock."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.clock import DEFAULT_RULES, StepMode, StepRule, parse_fraction
from auctioneer.clock.reference import reference_step


def _steps(rule: StepRule, z: list[int], p: list[int], base: list[int],
           supply: list[int]) -> list[int]:
    return rule.steps(np.array(z), np.array(p), base=np.array(base),
                      supply=np.array(supply)).tolist()


def test_absolute_is_the_papers_rule() -> None:
    rule = StepRule(StepMode.ABSOLUTE, Fraction(3, 2), Fraction(100), Fraction(0))
    # min(1.5 z, 100) rounded down; nothing where z <= 0; at least 1 where z > 0.
    assert _steps(rule, [0, -4, 1, 2, 50, 67, 10**12], [5] * 7, [5] * 7, [1] * 7) == [
        0, 0, 1, 3, 75, 100, 100]


def test_normalised_and_relative_scale_by_base_and_price() -> None:
    norm = StepRule(StepMode.NORMALISED, Fraction(1), Fraction(1, 10), Fraction(1, 100))
    # base 1000; z/S = 5/100 -> 5%; z/S = 1 -> capped 10%; z/S = 1/1000 -> floor 1%.
    assert _steps(norm, [5, 100, 1], [7, 7, 7], [1000, 1000, 1000], [100, 100, 1000]) == [
        50, 100, 10]
    rel = StepRule(StepMode.RELATIVE, Fraction(1), Fraction(1, 10), Fraction(1, 100))
    assert _steps(rel, [5, 100, 1], [2000, 2000, 2000], [1, 1, 1], [100, 100, 1000]) == [
        100, 200, 20]
    # Supply 0 counts as 1: any excess over an empty pool is capped at delta.
    assert _steps(rel, [1], [1000], [1], [0]) == [100]


def test_tiny_prices_still_move() -> None:
    rel = StepRule(StepMode.RELATIVE, Fraction(1, 2), Fraction(1, 20), Fraction(0))
    assert _steps(rel, [1, 1], [1, 3], [1, 1], [10**9, 10**9]) == [1, 1]


def test_no_overflow_at_money_max_scale() -> None:
    rel = StepRule(StepMode.RELATIVE, Fraction(10**6), Fraction(1, 2), Fraction(0))
    big = 2**62
    assert _steps(rel, [2**62], [big], [1], [1]) == [big // 2]


@given(z=st.integers(-5, 10**9), price=st.integers(1, 10**13), base=st.integers(1, 10**9),
       supply=st.integers(0, 10**7), mode=st.sampled_from(list(StepMode)),
       alpha=st.fractions(Fraction(1, 1000), 1000), delta=st.fractions(Fraction(1, 10**6), 10),
       eps=st.fractions(0, 1))
def test_vectorised_steps_match_the_definition(z: int, price: int, base: int, supply: int,
                                               mode: StepMode, alpha: Fraction,
                                               delta: Fraction, eps: Fraction) -> None:
    if mode is StepMode.ABSOLUTE:
        delta, eps = delta * 10**6, eps * 10**6
    rule = StepRule(mode, alpha, delta, min(eps, delta))
    got = _steps(rule, [z], [price], [base], [supply])[0]
    assert got == reference_step(rule, z, price, base, supply)
    assert (got >= 1) == (z > 0)


def test_rule_validation_and_description() -> None:
    with pytest.raises(ValueError, match="alpha"):
        StepRule(alpha=Fraction(0))
    with pytest.raises(ValueError, match="epsilon"):
        StepRule(delta=Fraction(1, 100), epsilon=Fraction(1, 10))
    with pytest.raises(TypeError, match="exact"):
        StepRule(alpha=0.5)  # type: ignore[arg-type]
    assert StepRule.default() == DEFAULT_RULES[StepMode.RELATIVE]
    assert DEFAULT_RULES[StepMode.ABSOLUTE].describe() == (
        "absolute: step = max(min(1000 * z, 10000), 1) micro-units")
    assert DEFAULT_RULES[StepMode.NORMALISED].describe() == (
        "normalised: step = base * max(min(1/2 * z/S, 5%), 0.1%)")
    # A smaller delta drags the default epsilon down with it.
    assert StepRule.default().with_values(delta=Fraction(1, 10_000)).epsilon == Fraction(
        1, 10_000)


def test_parse_fraction() -> None:
    assert parse_fraction("12.5%") == Fraction(1, 8)
    assert parse_fraction(" 3 ") == 3
    with pytest.raises(ValueError, match="--alpha 'nan' is not a number"):
        parse_fraction("nan", "--alpha")
    with pytest.raises(ValueError, match="percentage is not allowed"):
        parse_fraction("5%", "--delta", percent=False)
    with pytest.raises(ValueError):
        parse_fraction("1/0")
