"""How unfair the sampled book is: a closed-form bound, checked against the mechanism's draws.

A SampledTopK tick ranks ``s`` uniform draws (with replacement) from the
``L`` live bids. With distinct bids, the bid of rank r (1 = highest) wins
exactly when it is drawn and nothing above it is:

    P(r wins) = (1 - (r-1)/L)^s - (1 - r/L)^s.

Three consequences bound the structure's unfairness:

* **Monotone.** P(r wins) falls with r: a higher bid never lowers the
  chance to win, so the sampled book is unfair only towards the top, never
  in reverse.
* **The top bidder loses** with probability (1 - 1/L)^s <= exp(-s/L): it
  needs s of order L draws to win reliably.
* **The winner's expected rank** is bounded independently of L:
  E[rank - 1] = sum_{j=1}^{L-1} (1 - j/L)^s <= L/(s+1) (the sum is below
  the integral of (1 - x)^s over [0, 1], times L). So the expected value
  lost per tick is at most the mean gap between neighbouring ranks times
  L/(s+1); for values spread evenly over a range R that is R/(s+1),
  whatever N is.

:func:`measure` draws auctions through the experiments' vectorised sampled
rule (:func:`~auctioneer.incentives.rules.draw_sample` and
:func:`~auctioneer.incentives.rules.outcomes`) and compares the empirical
win frequency by rank and the winner's mean rank with the formulas.

Example:
    >>> round(top_loses(1000, 32), 4), round(rank_bound(1000, 32), 1)
    (0.9685, 30.3)
    >>> round(sum(win_probability(10, 4, r) for r in range(1, 11)), 12)
    1.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from auctioneer.checks import require_int
from auctioneer.incentives.rules import Rule, Semantics, draw_sample, outcomes
from auctioneer.tick.mechanism import Mechanism

__all__ = ["SIZES", "FairnessCell", "measure", "rank_bound", "run_fairness", "top_loses",
           "win_probability"]

SIZES = ((10, 4), (100, 4), (100, 32), (1000, 32), (1000, 256))
"""(live bids L, samples s) measured: the experiments' book, and the tick benchmark's."""
_STREAM = 9


def win_probability(live: int, samples: int, rank: int) -> float:
    """P(the bid of ``rank`` wins) among ``live`` distinct bids and ``samples`` draws."""
    require_int(live, "live", 1, 10**7)
    require_int(rank, "rank", 1, live)
    if samples >= live:  # the book ranks every bid
        return 1.0 if rank == 1 else 0.0
    return (1 - (rank - 1) / live) ** samples - (1 - rank / live) ** samples


def top_loses(live: int, samples: int) -> float:
    """P(the highest bid is not drawn, so it loses)."""
    return 1.0 - win_probability(live, samples, 1)


def rank_bound(live: int, samples: int) -> float:
    """The bound L/(s+1) on the winner's expected rank minus one."""
    return live / (samples + 1)


@dataclass(frozen=True, slots=True)
class FairnessCell:
    """One (L, s): the formulas and what the sampled rule did."""

    live: int
    samples: int
    auctions: int
    top_loses: float
    top_loses_measured: float
    mean_rank_minus_one: float
    """Exact E[rank - 1] from the formula."""
    mean_rank_measured: float
    rank_bound: float
    max_deviation: float
    """Largest |measured - formula| win frequency over ranks."""
    consistent: bool
    """Every rank's measured frequency is within 5 standard errors of the formula."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {"live": self.live, "samples": self.samples, "auctions": self.auctions,
                "top_loses": round(self.top_loses, 5),
                "top_loses_measured": round(self.top_loses_measured, 5),
                "mean_rank_minus_one": round(self.mean_rank_minus_one, 4),
                "mean_rank_minus_one_measured": round(self.mean_rank_measured, 4),
                "rank_bound": round(self.rank_bound, 4),
                "max_deviation": round(self.max_deviation, 5), "consistent": self.consistent}


def measure(live: int, samples: int, auctions: int, seed: int = 0) -> FairnessCell:
    """Run ``auctions`` sampled Vickrey auctions of ``live`` distinct bids; O(auctions x live)."""
    gen = np.random.default_rng([seed, _STREAM, live, samples])
    rule = Rule(Mechanism.SECOND_PRICE, 1, semantics=Semantics.SAMPLED, samples=samples)
    wins = np.zeros(live, dtype=np.int64)
    rank_sum = 0
    batch = max(1, 2_000_000 // live)
    done = 0
    while done < auctions:
        rows = min(batch, auctions - done)
        # Distinct bids in a random column order: column -> rank through argsort.
        bids = np.argsort(gen.random((rows, live)), axis=1).astype(np.int64) + 1
        arrival = np.argsort(gen.random((rows, live)), axis=1).astype(np.int64)
        present = draw_sample(gen, samples, arrival, np.ones((rows, live), dtype=bool))
        units, _ = outcomes(rule, bids, arrival, present)
        rank = live - bids[np.arange(rows), units.argmax(axis=1)]  # 0 = the highest bid
        wins += np.bincount(rank, minlength=live)
        rank_sum += int(rank.sum())
        done += rows
    freq = wins / auctions
    exact = np.array([win_probability(live, samples, r) for r in range(1, live + 1)])
    error = np.sqrt(exact * (1 - exact) / auctions)
    return FairnessCell(
        live=live, samples=samples, auctions=auctions,
        top_loses=top_loses(live, samples), top_loses_measured=1.0 - float(freq[0]),
        mean_rank_minus_one=float((exact * np.arange(live)).sum()),
        mean_rank_measured=rank_sum / auctions, rank_bound=rank_bound(live, samples),
        max_deviation=float(np.abs(freq - exact).max()),
        consistent=bool(np.all(np.abs(freq - exact) <= 5 * error + 1 / auctions)),
    )


def run_fairness(auctions: int, seed: int = 0, step: Callable[[str], None] | None = None,
                 sizes: tuple[tuple[int, int], ...] = SIZES) -> tuple[FairnessCell, ...]:
    """Every (L, s) of ``sizes``."""
    cells = []
    for live, samples in sizes:
        if step is not None:
            step(f"sampled fairness  L={live}  s={samples}")
        cells.append(measure(live, samples, auctions, seed))
    return tuple(cells)
