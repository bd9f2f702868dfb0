"""Sybil identities: a hand-computed sampled case, and who gains in the experiment."""

from fractions import Fraction

import numpy as np

from auctioneer.incentives.market import IncentiveConfig, Mitigation, mechanism
from auctioneer.incentives.rules import Rule, Semantics, draw_sample, outcomes
from auctioneer.incentives.sybil import run_sybil, sybil_cells, with_fee
from auctioneer.tick.mechanism import Mechanism

VALUE, OPPONENT = 8, 10
RULE = Rule(Mechanism.SECOND_PRICE, 1, semantics=Semantics.SAMPLED, samples=1)


def _exact_utility(k: int) -> Fraction:
    """Expected utility with ``k`` identities bidding VALUE against one bid of OPPONENT.

    One draw: each of the k + 1 live bids is the sample with chance 1/(k+1),
    and the sampled bid wins at price 0 (nobody else is in the sample).
    """
    n = k + 1
    bids = np.array([[VALUE] * k + [OPPONENT]] * n, dtype=np.int64)
    arrival = np.tile(np.arange(n, dtype=np.int64), (n, 1))
    sample = np.eye(n, dtype=bool)  # row i: bidder i alone is drawn
    units, paid = outcomes(RULE, bids, arrival, sample)
    per_row = VALUE * np.minimum(units[:, :k].sum(axis=1), 1) - paid[:, :k].sum(axis=1)
    return Fraction(int(per_row.sum()), n)


def test_hand_computed_sampled_sybil() -> None:
    # By hand: utility = 8 * k / (k + 1).
    assert _exact_utility(1) == 4
    assert _exact_utility(2) == Fraction(16, 3)
    assert _exact_utility(4) == Fraction(32, 5)
    assert _exact_utility(2) - _exact_utility(1) == Fraction(4, 3)  # the gain from one split


def test_sampled_draws_agree_with_the_hand_computation() -> None:
    rng = np.random.default_rng(7)
    rounds, k = 40_000, 4
    bids = np.array([[VALUE] * k + [OPPONENT]] * rounds, dtype=np.int64)
    arrival = np.tile(np.arange(k + 1, dtype=np.int64), (rounds, 1))
    present = draw_sample(rng, 1, arrival, np.ones_like(bids, dtype=bool))
    units, paid = outcomes(RULE, bids, arrival, present)
    mean = float((VALUE * units[:, :k].sum(axis=1) - paid[:, :k].sum(axis=1)).mean())
    assert abs(mean - 32 / 5) < 4 * 8 * 0.4 / rounds**0.5 * 2


def test_exact_mechanisms_give_no_sybil_gain_and_sampled_does(quick: IncentiveConfig) -> None:
    cells = run_sybil(quick, specs=(mechanism("second-price"), mechanism("sampled")))
    undefended = {(c.mechanism, c.identities): c for c in cells if c.mitigation == "none"}
    for k in (2, 4):
        assert undefended[("second-price", k)].gain.mean <= 0
    assert undefended[("sampled", 4)].gain.low > 0


def test_identity_fee_costs_each_extra_identity(quick: IncentiveConfig) -> None:
    (cell, *_) = sybil_cells(mechanism("sampled"), quick, Mitigation("none"))
    fee = with_fee(cell, 1_000, "fee")
    assert fee.gain.mean == cell.gain.mean - (cell.identities - 1) * 1_000
    assert fee.honest.mean == cell.honest.mean - 1_000
