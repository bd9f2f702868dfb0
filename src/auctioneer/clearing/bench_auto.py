"""The clearing benchmark's ``auto`` family: held-out MMKP instances, auto against DP and MILP.

On instances with many resource types, few bundles per bid and every bid
obliged to win (:func:`auctioneer.clearing.generate.mmkp`), the DP's cost
estimate is least reliable. For each seeded instance of the family this
times ``dp``, ``milp`` and ``auto`` (each the median of up to
:data:`REPEATS` runs, one run when a solve takes over a second) and the DP's
predicted seconds, and judges the target: ``auto`` within
:data:`AUTO_TARGET_RATIO` of the faster exact method in the median.
A method that does not finish (refused as too large, or stopped by the time
limit) is not a candidate for "the faster".

Example:
    >>> runs = run_auto_family(2, seed=0, time_limit=5.0)
    >>> [(r.bids, r.resources, r.status) for r in runs]
    [(16, 5, 'optimal'), (20, 6, 'optimal')]
    >>> auto_target(runs).name
    'auto within 1.25x of the faster exact method (median) on the MMKP family'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from auctioneer.clearing.estimate import estimate_dp
from auctioneer.clearing.generate import generate
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.solve import clear
from auctioneer.measure.target import Target
from auctioneer.measure.timing import gc_paused

__all__ = ["AUTO_TARGET_RATIO", "AutoRun", "auto_target", "family_instance", "run_auto_family"]

AUTO_TARGET_RATIO = 1.25
"""auto's median time over the faster exact method's must stay at or below this."""
REPEATS = 3
"""Runs per method and instance under a second (the median is kept)."""
_BIDS, _RESOURCES, _CAPACITY, _BUNDLES = (16, 20, 24, 30), (5, 6, 8), (30, 40), (2, 3)


@dataclass(frozen=True, slots=True)
class AutoRun:
    """One MMKP instance: each method's median seconds (None: did not finish) and auto's pick."""

    seed: int
    bids: int
    resources: int
    bundles: int
    capacity: int
    status: str
    dp_s: float | None
    milp_s: float | None
    auto_s: float
    dp_predicted_s: float
    auto_choice: str

    @property
    def estimate_only_s(self) -> float | None:
        """What auto took before the race: the DP whenever predicted under 5 s, else MILP."""
        return self.dp_s if self.dp_s is not None and self.dp_predicted_s <= 5.0 \
            else self.milp_s

    @property
    def best_s(self) -> float | None:
        """The faster of the exact methods that finished."""
        done = [s for s in (self.dp_s, self.milp_s) if s is not None]
        return min(done) if done else None

    @property
    def ratio(self) -> float | None:
        """auto's time over the faster exact method's."""
        best = self.best_s
        return None if best is None or best <= 0 else self.auto_s / best


def family_instance(i: int, seed: int) -> tuple[Auction, tuple[int, int, int, int]]:
    """Instance ``i`` of the family: (auction, (bids, resources, bundles, capacity))."""
    shape = (_BIDS[i % len(_BIDS)], _RESOURCES[i % len(_RESOURCES)],
             _BUNDLES[i % len(_BUNDLES)], _CAPACITY[i % len(_CAPACITY)])
    bids, resources, bundles, capacity = shape
    return generate("mmkp", bids=bids, bundles=bundles, resources=resources, capacity=capacity,
                    seed=seed + i), shape


def _timed(auction: Auction, method: str, time_limit: float) -> tuple[float, Clearing]:
    runs: list[float] = []
    result = None
    while len(runs) < REPEATS and (not runs or runs[-1] < 1.0):
        with gc_paused():
            started = time.perf_counter()
            result = clear(auction, method, time_limit=time_limit)
            runs.append(time.perf_counter() - started)
    assert result is not None
    return median(runs), result


def run_auto_family(count: int, *, seed: int = 0, time_limit: float = 5.0,
                    progress: Callable[[str], None] | None = None) -> tuple[AutoRun, ...]:
    """Time dp, milp and auto on ``count`` instances of the family."""
    out = []
    for i in range(count):
        auction, (bids, resources, bundles, capacity) = family_instance(i, seed)
        if progress is not None:
            progress(f"auto family: instance {i + 1}/{count}")
        times: dict[str, float | None] = {}
        statuses = set()
        for method in ("dp", "milp"):
            seconds, result = _timed(auction, method, time_limit)
            done = result.status in (Status.OPTIMAL, Status.INFEASIBLE)
            times[method] = seconds if done else None
            if done:
                statuses.add(result.status.value)
        auto_s, auto = _timed(auction, "auto", time_limit)
        out.append(AutoRun(seed + i, bids, resources, bundles, capacity, auto.status.value,
                           times["dp"], times["milp"], auto_s, estimate_dp(auction).seconds,
                           str(auto.stats.get("auto", ""))[:80]))
    return tuple(out)


def auto_target(runs: tuple[AutoRun, ...]) -> Target:
    """The median of auto's ratio over the faster exact method, against the target."""
    name = (f"auto within {AUTO_TARGET_RATIO:g}x of the faster exact method (median) on the "
            "MMKP family")
    ratios = [r.ratio for r in runs if r.ratio is not None]
    if not ratios:
        return Target(name, None, "not measured")
    both = [r.dp_s / r.milp_s for r in runs if r.dp_s is not None and r.milp_s]
    dp_over = median(both) if both else float("nan")
    misses = [r for r in runs if r.ratio is not None and r.ratio > 2]
    before = [r.estimate_only_s / r.best_s for r in runs
              if r.estimate_only_s is not None and r.best_s]
    return Target(name, median(ratios) <= AUTO_TARGET_RATIO,
                  f"median {median(ratios):.2f}x, worst {max(ratios):.2f}x over {len(ratios)} "
                  f"instances (DP / MILP median {dp_over:.2f}x; the estimate alone: median "
                  f"{median(before):.2f}x, worst {max(before):.2f}x); over 2x on "
                  f"{len(misses)}: seeds {[r.seed for r in misses][:6]}")
