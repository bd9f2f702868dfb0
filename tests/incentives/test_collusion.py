"""Collusion: an all-low ring lowers revenue, and a reserve price restores it."""

from dataclasses import replace

import numpy as np
import pytest

from auctioneer.incentives.collusion import collusion_cells, ring_bids
from auctioneer.incentives.market import IncentiveConfig, Mitigation, mechanism
from auctioneer.incentives.rules import Rule, outcomes
from auctioneer.tick.mechanism import Mechanism

VALUES = np.array([[900_000, 800_000, 700_000]], dtype=np.int64)
ARRIVAL = np.array([[0, 1, 2]], dtype=np.int64)


def _revenue(rule: Rule, strategy: str, m: int = 3) -> int:
    bids, present = ring_bids(strategy, rule, VALUES, m, np.array([0]))
    _, paid = outcomes(rule, bids, ARRIVAL, present)
    return int(paid.sum())


def test_all_low_ring_by_hand() -> None:
    plain = Rule(Mechanism.SECOND_PRICE, 1)
    assert _revenue(plain, "truthful") == 800_000  # the second bid
    assert _revenue(plain, "all-low") == 1  # everyone bids 1 micro-unit
    guarded = plain.with_price(600_000)
    assert _revenue(guarded, "truthful") == 800_000
    assert _revenue(guarded, "all-low") == 600_000  # the ring must bid the reserve


def test_rotation_by_hand() -> None:
    plain = Rule(Mechanism.SECOND_PRICE, 1)
    _, present = ring_bids("rotation", plain, VALUES.repeat(2, axis=0), 2, np.array([0, 1]))
    # Tick 0: member 0 bids; tick 1: member 1; the outsider always does.
    assert present.tolist() == [[True, False, True], [False, True, True]]
    assert _revenue(plain, "rotation", m=3) == 0  # one bidder left: no second price


def test_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="unknown strategy 'bribe'"):
        ring_bids("bribe", Rule(Mechanism.FIRST_PRICE), VALUES, 2, np.array([0]))


def test_reserve_restores_revenue_against_a_full_ring(quick: IncentiveConfig) -> None:
    config = replace(quick, colluders=(quick.bidders,))
    spec = mechanism("second-price")
    plain = {c.strategy: c for c in collusion_cells(spec, config, Mitigation("none"),
                                                     config.bidders)}
    base = plain["truthful"].revenue.mean
    guarded = {c.strategy: c for c in collusion_cells(
        spec, config, Mitigation("reserve", reserve=config.reserve), config.bidders, base)}
    assert plain["all-low"].revenue_ratio < 0.01
    assert plain["all-low"].ring_gain.low > 0
    assert guarded["all-low"].revenue.mean >= config.reserve * 0.5
    assert guarded["all-low"].ring_gain.mean < plain["all-low"].ring_gain.mean
