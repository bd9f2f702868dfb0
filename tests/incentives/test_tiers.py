"""The tier-width sweep: coarser tiers rank worse and invite more gaming."""

import numpy as np

from auctioneer.incentives.market import IncentiveConfig
from auctioneer.incentives.tiers import _first, mid_tier, run_widths, tier_spec


def test_moving_a_bidder_first_keeps_the_others_order() -> None:
    arrival = np.array([[2, 0, 1, 3], [0, 3, 2, 1]])
    assert _first(arrival).tolist() == [[0, 1, 2, 3], [0, 3, 2, 1]]


def test_mid_tier_values() -> None:
    assert mid_tier((612_345,), 10_000) == (615_000,)
    assert tier_spec(25_000).rule.tiermap is not None


def test_wider_tiers_err_more_and_pay_more_to_early_movers() -> None:
    cells = run_widths(IncentiveConfig.build(quick=True), widths=(10_000, 100_000, 500_000))
    errors = [c.error_rate for c in cells]
    assert errors == sorted(errors) and errors[0] < 0.05 < 0.5 < errors[-1]
    welfare = [c.welfare_ratio for c in cells]
    assert welfare == sorted(welfare, reverse=True) and welfare[0] > 0.999
    assert cells[-1].early_gain.low > 0 and cells[-1].early_gain.mean > cells[0].early_gain.mean
    assert cells[-1].misreport_gain > cells[0].misreport_gain >= 0
    assert [c.tiers for c in cells] == [100, 10, 2]
