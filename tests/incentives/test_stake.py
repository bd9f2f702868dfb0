"""Stake weighting: draws and service order follow stake, so splitting capital buys nothing."""

import numpy as np

from auctioneer.incentives.market import IncentiveConfig, Mitigation, mechanism
from auctioneer.incentives.stake import CAPITAL, split_stakes, stake_order, stake_sample
from auctioneer.incentives.sybil import sybil_cells


def test_draws_follow_stake_and_never_pick_a_zero_stake() -> None:
    gen = np.random.default_rng(1)
    rows = 20_000
    stakes = np.tile(np.array([1, 3, 0, 4], dtype=np.int64), (rows, 1))
    picked = stake_sample(gen, 1, stakes, np.ones((rows, 4), dtype=bool))
    share = picked.mean(axis=0)
    assert share[2] == 0.0 and picked.sum(axis=1).tolist() == [1] * rows
    assert np.allclose(share, [1 / 8, 3 / 8, 0, 4 / 8], atol=0.015)


def test_absent_bids_are_never_drawn_and_a_small_book_is_ranked_whole() -> None:
    gen = np.random.default_rng(2)
    present = np.array([[True, False, True]] * 100)
    stakes = np.full((100, 3), 5, dtype=np.int64)
    assert not stake_sample(gen, 1, stakes, present)[:, 1].any()
    assert (stake_sample(gen, 2, stakes, present) == present).all()


def test_order_puts_the_larger_stake_first_in_proportion() -> None:
    gen = np.random.default_rng(3)
    arrival = stake_order(gen, np.tile(np.array([1, 3], dtype=np.int64), (40_000, 1)))
    assert sorted(arrival[0].tolist()) == [0, 1]
    assert abs((arrival[:, 1] == 0).mean() - 0.75) < 0.01


def test_splitting_capital_keeps_the_chance_that_some_identity_is_first() -> None:
    gen = np.random.default_rng(4)
    rows = 40_000
    one = stake_order(gen, split_stakes(rows, 3, 1))[:, 0] == 0
    four = (stake_order(gen, split_stakes(rows, 6, 4))[:, :4] == 0).any(axis=1)
    assert split_stakes(1, 6, 4)[0].tolist() == [CAPITAL // 4] * 4 + [CAPITAL] * 2
    assert abs(one.mean() - 1 / 3) < 0.01 and abs(four.mean() - 1 / 3) < 0.01


def test_stake_removes_the_sampled_books_sybil_gain() -> None:
    config = IncentiveConfig.build(quick=True)
    spec = mechanism("sampled")
    plain = sybil_cells(spec, config, Mitigation("none"))
    staked = sybil_cells(spec, config, Mitigation("stake", stake=True))
    assert plain[-1].gain.low > 0                        # four identities, four times the tickets
    assert all(c.gain.low <= 0 <= c.gain.high for c in staked)
    assert all(s.gain.mean < p.gain.mean for s, p in zip(staked, plain, strict=True))
