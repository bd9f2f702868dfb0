"""Collusion as a repeated game: learning bidders over many rounds, and a screen that detects it.

The one-shot ring analysis (:mod:`.collusion`) fixes the ring's strategy.
Here nobody is told to collude: ``learners`` bidders with private values
(drawn once per seed, fixed for the game) each run a Q-learning rule over a
grid of bid factors (stateless: a constant-step-size bandit, the setting of
Banchio and Skrzypacz 2022, where Q-learners in first-price auctions learn
to bid low together and in second-price auctions do not). Each round every
learner picks a factor, epsilon-greedy with exploration decaying
geometrically from 1 (ties between equal estimates broken at random), the
mechanism runs, and the learner updates its
estimate of that factor's payoff: ``Q += alpha * (utility - Q)``.

Measured per mechanism over seeds, on the last ``window`` rounds:
revenue over truthful Vickrey revenue on the same values (1 = competitive;
below 1 = the learners keep surplus the seller would have had), and the
learners' mean bid factor.

**Detection.** The seller sees bids, not values. Its screen estimates each
bidder's value from below by the highest bid it has ever placed (nobody
bids above its value here: the grid stops at the value), so the Vickrey
revenue those bids imply is a floor on competitive revenue; the screen
flags a game when revenue over the last window falls below ``1 - margin``
of that floor. Ground truth: revenue below ``1 - margin`` of the true
Vickrey revenue. The report gives the detection rate over collusive games
and the false-alarm rate over the others.

Example:
    >>> cell = learn(mechanism("second-price"), LearningConfig.build(quick=True))
    >>> cell.mechanism, 0 < cell.revenue_ratio.mean
    ('second-price', True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from auctioneer.checks import require_int
from auctioneer.incentives.market import MechanismSpec, everyone, mechanism, shuffled_arrival
from auctioneer.incentives.rules import Semantics, draw_sample, outcomes
from auctioneer.incentives.stats import Interval, interval

__all__ = ["LEARNING_MECHANISMS", "LearningCell", "LearningConfig", "learn", "run_learning"]

LEARNING_MECHANISMS = ("first-price", "second-price", "tier-fifo", "tier-coarse", "sampled")
"""The single-unit mechanisms the learners play (k-unit ones need more bidders than learners)."""
_STREAM = 7


@dataclass(frozen=True, slots=True)
class LearningConfig:
    """The repeated game: bidders, rounds, the learning rule and the screen."""

    seed: int = 0
    seeds: int = 10
    learners: int = 4
    rounds: int = 20_000
    window: int = 2_000
    """Rounds at the end over which revenue is measured."""
    factors: tuple[int, ...] = tuple(range(100, 1001, 50))
    """The bid grid, per mille of value (never above the value)."""
    alpha_pm: int = 50
    """Step size, per mille."""
    decay_ppm: int = 400
    """Exploration falls by this many parts per million per round: 1 -> ~0.0003 over 20,000."""
    low: int = 500_000
    high: int = 1_500_000
    margin_pm: int = 100
    """The screen flags (and ground truth counts) revenue more than this per mille below."""

    def __post_init__(self) -> None:
        require_int(self.seeds, "seeds", 2, 1000)
        require_int(self.learners, "learners", 2, 64)
        require_int(self.rounds, "rounds", 10, 10_000_000)
        require_int(self.window, "window", 1, self.rounds // 2)
        require_int(self.alpha_pm, "alpha_pm", 1, 1000)
        require_int(self.decay_ppm, "decay_ppm", 1, 1_000_000)
        require_int(self.margin_pm, "margin_pm", 0, 999)
        if 1000 not in self.factors or max(self.factors) > 1000:
            raise ValueError("factors must include 1000 (truthful) and stay at or below it")

    @classmethod
    def build(cls, *, seed: int = 0, quick: bool = False) -> LearningConfig:
        """The full game, or a ``quick`` one (a second or two per mechanism)."""
        if quick:
            return cls(seed=seed, seeds=4, rounds=2_000, window=200, decay_ppm=3_500)
        return cls(seed=seed)


@dataclass(frozen=True, slots=True)
class LearningCell:
    """One mechanism's repeated game, over seeds."""

    mechanism: str
    revenue_ratio: Interval
    """Revenue over the last window / truthful Vickrey revenue on the same values."""
    mean_factor: Interval
    """The learners' mean bid factor (per mille) over the last window."""
    collusive: int
    """Games whose revenue fell more than the margin below the true Vickrey revenue."""
    flagged: int
    """Games the screen flagged."""
    detected: int
    """Collusive games the screen flagged."""
    false_alarms: int
    """Competitive games the screen flagged."""
    games: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        competitive = self.games - self.collusive
        return {
            "mechanism": self.mechanism,
            "revenue_over_vickrey": self.revenue_ratio.to_dict(),
            "mean_factor_permille": self.mean_factor.to_dict(),
            "games": self.games,
            "collusive_games": self.collusive,
            "flagged": self.flagged,
            "detected": self.detected,
            "false_alarms": self.false_alarms,
            "detection_rate": round(self.detected / self.collusive, 4) if self.collusive
            else None,
            "false_alarm_rate": round(self.false_alarms / competitive, 4) if competitive
            else None,
        }


def _vickrey(values: np.ndarray) -> np.ndarray:
    """Second-highest value per row (the truthful single-unit Vickrey revenue)."""
    return np.sort(values, axis=1)[:, -2]


def learn(spec: MechanismSpec, config: LearningConfig) -> LearningCell:
    """Play the repeated game under ``spec``; every seed at once, one row per seed."""
    gen = np.random.default_rng([config.seed, _STREAM])
    seeds, n, rounds = config.seeds, config.learners, config.rounds
    grid = np.asarray(config.factors, dtype=np.int64)
    values = gen.integers(config.low, config.high, size=(seeds, n), endpoint=True,
                          dtype=np.int64)
    q = np.zeros((seeds, n, grid.size))
    alpha = config.alpha_pm / 1000
    explore = 1.0
    keep = 1 - config.decay_ppm / 1_000_000
    top_bid = np.zeros((seeds, n), dtype=np.int64)
    revenue = np.zeros(seeds)
    factor_sum = np.zeros(seeds)
    rows, cols = np.arange(seeds)[:, None], np.arange(n)[None, :]
    tail = rounds - config.window
    for t in range(rounds):
        # Ties broken at random: a bidder that never wins holds equal estimates (all 0)
        # and would otherwise always pick the lowest factor.
        greedy = np.argmax(q + gen.random(q.shape) * 1e-6, axis=2)
        random = gen.integers(0, grid.size, size=(seeds, n))
        action = np.where(gen.random((seeds, n)) < explore, random, greedy)
        bids = values * grid[action] // 1000
        arrival = shuffled_arrival(gen, seeds, n)
        present = everyone((seeds, n))
        if spec.rule.semantics is Semantics.SAMPLED:
            present = draw_sample(gen, spec.rule.samples, arrival, present)
        units, paid = outcomes(spec.rule, bids, arrival, present)
        utility = values * np.minimum(units, spec.demand) - paid
        q[rows, cols, action] += alpha * (utility - q[rows, cols, action])
        np.maximum(top_bid, bids, out=top_bid)
        if t >= tail:
            revenue += paid.sum(axis=1)
            factor_sum += grid[action].mean(axis=1)
        explore *= keep
    revenue /= config.window
    ratio = revenue / _vickrey(values)
    margin = 1 - config.margin_pm / 1000
    collusive = ratio < margin
    flagged = revenue < margin * _vickrey(top_bid)
    return LearningCell(
        mechanism=spec.name,
        revenue_ratio=interval(ratio.tolist()),
        mean_factor=interval((factor_sum / config.window).tolist()),
        collusive=int(collusive.sum()), flagged=int(flagged.sum()),
        detected=int((collusive & flagged).sum()),
        false_alarms=int((~collusive & flagged).sum()), games=seeds,
    )


def run_learning(config: LearningConfig, step: Callable[[str], None] | None = None
                 ) -> tuple[LearningCell, ...]:
    """Every mechanism of :data:`LEARNING_MECHANISMS`."""
    cells = []
    for name in LEARNING_MECHANISMS:
        if step is not None:
            step(f"learning  {name}")
        cells.append(learn(mechanism(name), config))
    return tuple(cells)
