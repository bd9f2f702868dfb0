"""Best responses: Vickrey's is truthful, first price's shades."""

from dataclasses import replace

import numpy as np
import pytest

from auctioneer.incentives.market import IncentiveConfig, mechanism
from auctioneer.incentives.rules import Rule, outcomes
from auctioneer.incentives.stats import interval, t_quantile
from auctioneer.incentives.truthful import run_truthful, summaries, summarize, utility_curves
from auctioneer.tick.mechanism import Mechanism


def _utility(rule: Rule, value: int, bid: int, opponents: list[int]) -> int:
    bids = np.array([[bid, *opponents]], dtype=np.int64)
    arrival = np.arange(bids.shape[1], dtype=np.int64)[None, :]
    units, paid = outcomes(rule, bids, arrival, np.ones_like(bids, dtype=bool))
    return int(value * units[0, 0] - paid[0, 0])


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("opponents", [[700, 950, 400], [1_200, 1_100, 1_000], [999, 1_001, 5],
                                       [1_000, 1_000, 1_000]])
def test_vickrey_truth_is_a_best_response_on_hand_built_auctions(
    k: int, opponents: list[int]
) -> None:
    """Against any fixed opponents no bid beats truth, and the gain is exactly 0."""
    rule = Rule(Mechanism.SECOND_PRICE, k=k)
    value = 1_000
    truthful = _utility(rule, value, value, opponents)
    best = max(_utility(rule, value, bid, opponents) for bid in range(0, 2_501, 7))
    assert best - truthful == 0


def test_hand_built_second_price_utility() -> None:
    # Value 1000 against 700, 950, 400: wins and pays 950.
    assert _utility(Rule(Mechanism.SECOND_PRICE), 1_000, 1_000, [700, 950, 400]) == 50
    # Shading below 950 loses; inflating pays the same.
    assert _utility(Rule(Mechanism.SECOND_PRICE), 1_000, 900, [700, 950, 400]) == 0
    assert _utility(Rule(Mechanism.SECOND_PRICE), 1_000, 2_000, [700, 950, 400]) == 50


@pytest.mark.parametrize("name", ["second-price", "vickrey-k", "sampled"])
def test_vickrey_gain_is_exactly_zero(quick: IncentiveConfig, name: str) -> None:
    spec = mechanism(name)
    for value in quick.values:
        cell = summarize(spec, quick, value, utility_curves(spec, quick, value))
        assert cell.best_factor == 1000
        assert cell.gain.mean == 0.0 and cell.gain.half_width == 0.0
        assert cell.truthful_share == 1.0


def test_first_price_best_response_shades(quick: IncentiveConfig) -> None:
    config = replace(quick, rounds=300, values=(1_425_000,))
    spec = mechanism("first-price")
    cell = summarize(spec, config, 1_425_000, utility_curves(spec, config, 1_425_000))
    assert cell.best_factor < 1000
    assert cell.gain.low > 0
    assert cell.truthful.mean == 0.0  # paying your value leaves nothing


def test_posted_price_rewards_inflation(quick: IncentiveConfig) -> None:
    """Posted price rations by bid rank: inflating jumps the queue at the same price."""
    spec = mechanism("posted")
    cell = summarize(spec, quick, 1_225_000, utility_curves(spec, quick, 1_225_000))
    assert cell.best_factor > 1000 and cell.gain.low > 0


def test_run_is_deterministic_for_a_seed(quick: IncentiveConfig) -> None:
    specs = (mechanism("gsp"),)
    first = run_truthful(quick, specs=specs)
    assert first == run_truthful(quick, specs=specs)
    other = run_truthful(replace(quick, seed=1), specs=specs)
    assert [c.curve for c in other] != [c.curve for c in first]
    (summary,) = summaries(first)
    assert summary.mechanism == "gsp" and 0 <= summary.truthful_share <= 1


def test_interval() -> None:
    assert interval([2.0, 2.0, 2.0]).half_width == 0.0
    wide = interval([0.0, 10.0])
    assert wide.mean == 5.0 and wide.low < 0 < 10 < wide.high
    assert t_quantile(1) > t_quantile(30) > t_quantile(1000) == 1.96
    with pytest.raises(ValueError, match="at least 2"):
        interval([1.0])
