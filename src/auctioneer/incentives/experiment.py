"""The whole incentive experiment: truthfulness, Sybil, collusion, thermal, equilibria, the matrix.

:func:`run_experiment` runs every part on one :class:`IncentiveConfig` and
returns an :class:`IncentiveResult`, which the report prints and writes as
markdown and JSON. The matrix's time and space come from a tick benchmark
JSON (``auctioneer bench tick --json``) when one is given, else from a
reduced tick benchmark run here (N = 100 and 1000, few operations).

Example:
    >>> config = IncentiveConfig.build(quick=True)
    >>> bench = {"results": []}
    >>> result = run_experiment(config, tick_bench=bench)
    >>> [row.structure for row in result.matrix][:2]
    ['TierBook', 'LazyHeap']
    >>> result.matrix[0].cost is None      # the JSON measured no structure
    True
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from auctioneer.incentives.collusion import CollusionCell, run_collusion
from auctioneer.incentives.complexity import count_lines
from auctioneer.incentives.equilibrium import (
    EquilibriumCell,
    run_equilibrium,
    starting_profiles,
    worst,
)
from auctioneer.incentives.fairness import SIZES, FairnessCell, run_fairness
from auctioneer.incentives.learning import (
    LEARNING_MECHANISMS,
    LearningCell,
    LearningConfig,
    run_learning,
)
from auctioneer.incentives.market import MECHANISMS, IncentiveConfig
from auctioneer.incentives.matrix import MatrixRow, build_matrix, tick_costs
from auctioneer.incentives.sybil import SybilCell, run_sybil
from auctioneer.incentives.thermal import ThermalCell, run_thermal
from auctioneer.incentives.tiers import WIDTHS, WidthCell, run_widths
from auctioneer.incentives.truthful import TruthfulCell, TruthfulSummary, run_truthful, summaries
from auctioneer.measure.record import write_json

__all__ = ["IncentiveResult", "load_tick_bench", "run_experiment", "steps", "write_json"]

REDUCED_BENCH_SIZES = (100, 1000)
"""The book sizes of the tick benchmark run when no JSON is given."""


@dataclass(frozen=True, slots=True)
class IncentiveResult:
    """Everything one run measured."""

    config: IncentiveConfig
    truthful: tuple[TruthfulCell, ...]
    summaries: tuple[TruthfulSummary, ...]
    sybil: tuple[SybilCell, ...]
    collusion: tuple[CollusionCell, ...]
    thermal: tuple[ThermalCell, ...]
    equilibrium: tuple[EquilibriumCell, ...]
    """From truthful bidding, one per mechanism."""
    equilibrium_starts: tuple[EquilibriumCell, ...]
    """From the other starting profiles."""
    worst_equilibrium: tuple[EquilibriumCell, ...]
    """Per mechanism, the end profile with the largest price of anarchy over all starts."""
    learning: tuple[LearningCell, ...]
    learning_config: LearningConfig
    widths: tuple[WidthCell, ...]
    fairness: tuple[FairnessCell, ...]
    matrix: tuple[MatrixRow, ...]
    tick_bench_source: str
    elapsed_s: float

    def sybil_by_defence(self) -> list[dict[str, Any]]:
        """Per mechanism, the mean Sybil gain at the most identities under each defence."""
        most = max(self.config.identities)
        rows: dict[str, dict[str, Any]] = {}
        for c in self.sybil:
            if c.identities == most:
                row = rows.setdefault(c.mechanism, {"mechanism": c.mechanism,
                                                    "identities": most})
                row[c.mitigation] = round(c.gain.mean, 3)
        return list(rows.values())

    def collusion_by_defence(self) -> list[dict[str, Any]]:
        """Per mechanism, ring size and ring strategy: ring gain and revenue share, without
        and with the reserve (the defences that act on established bidders)."""
        index = {(c.mechanism, c.mitigation, c.colluders, c.strategy): c
                 for c in self.collusion}
        rows = []
        for name in dict.fromkeys(c.mechanism for c in self.collusion):
            for m in self.config.colluders:
                for strategy in ("rotation", "all-low"):
                    plain = index[(name, "none", m, strategy)]
                    guarded = index[(name, "reserve", m, strategy)]
                    rows.append({"mechanism": name, "colluders": m, "strategy": strategy,
                                 "gain_none": round(plain.ring_gain.mean, 3),
                                 "gain_reserve": round(guarded.ring_gain.mean, 3),
                                 "revenue_none": round(plain.revenue_ratio, 5),
                                 "revenue_reserve": round(guarded.revenue_ratio, 5)})
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins; money in micro-units per tick."""
        config = {f.name: getattr(self.config, f.name) for f in fields(self.config)}
        return {
            "experiment": "auctioneer.incentives",
            "schema": 1,
            "units": "utility, revenue and gains are micro-units per tick; "
                     "ci95 is a 95% Student t interval over seeds",
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
            "mechanisms": [
                {"name": m.name, "description": m.description, "demand": m.demand,
                 "k": m.rule.k, "price": m.rule.price, "semantics": m.rule.semantics.value}
                for m in MECHANISMS
            ],
            "truthfulness": [c.to_dict() for c in self.truthful],
            "truthfulness_summary": [
                {"mechanism": s.mechanism, "truthful_best_response_share":
                 round(s.truthful_share, 4), "max_gain": round(s.max_gain, 3),
                 "max_relative_gain": None if s.max_relative_gain is None
                 else round(s.max_relative_gain, 5)}
                for s in self.summaries
            ],
            "sybil": [c.to_dict() for c in self.sybil],
            "sybil_by_defence": self.sybil_by_defence(),
            "collusion": [c.to_dict() for c in self.collusion],
            "collusion_by_defence": self.collusion_by_defence(),
            "thermal": [c.to_dict() for c in self.thermal],
            "equilibrium": [c.to_dict() for c in self.equilibrium],
            "equilibrium_starts": [c.to_dict() for c in self.equilibrium_starts],
            "worst_equilibrium": [c.to_dict() for c in self.worst_equilibrium],
            "learning_config": {f.name: list(v) if isinstance(v, tuple) else v
                                for f in fields(self.learning_config)
                                for v in (getattr(self.learning_config, f.name),)},
            "learning": [c.to_dict() for c in self.learning],
            "tier_widths": [c.to_dict() for c in self.widths],
            "sampled_fairness": [c.to_dict() for c in self.fairness],
            "matrix": [r.to_dict() for r in self.matrix],
            "tick_bench_source": self.tick_bench_source,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def load_tick_bench(path: Path) -> dict[str, Any]:
    """A tick benchmark JSON; ValueError naming the file when unreadable or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{str(path)!r} is not a tick benchmark JSON object")
    tick_costs(data)  # fail now, naming the field, rather than after the experiment
    return data


def _reduced_bench() -> dict[str, Any]:
    from auctioneer.tick.bench import TickBenchConfig, run_tick_bench

    config = TickBenchConfig.build(sizes=REDUCED_BENCH_SIZES, ops=2_000, repeats=1, quick=True)
    return run_tick_bench(config).to_dict()


def steps(config: IncentiveConfig, bench_given: bool) -> int:
    """How many progress steps :func:`run_experiment` reports."""
    mechanisms = len(MECHANISMS)
    return (mechanisms * len(config.values) + mechanisms * 5
            + mechanisms * len(config.colluders) * 4 + mechanisms
            + mechanisms * len(starting_profiles(config))
            + len(LEARNING_MECHANISMS) + len(WIDTHS) + len(SIZES)
            + (0 if bench_given else 1))


FAIRNESS_AUCTIONS = (10_000, 1_000)
"""Sampled auctions per (L, s) cell: the full run's, and ``quick``'s."""


def run_experiment(config: IncentiveConfig, tick_bench: dict[str, Any] | None = None,
                   progress: Callable[[str], None] | None = None,
                   source: str = "given") -> IncentiveResult:
    """Run every part; ``progress(description)`` hears each of :func:`steps` steps start."""
    started = time.perf_counter()
    truthful = run_truthful(config, progress)
    sybil = run_sybil(config, progress)
    collusion = run_collusion(config, progress)
    thermal = run_thermal(config, progress)
    equilibria = run_equilibrium(config, progress)
    others = tuple(cell for start in starting_profiles(config) if start != "truthful"
                   for cell in run_equilibrium(config, progress, start=start))
    worst_cells = worst(equilibria + others)
    learning_config = LearningConfig.build(seed=config.seed, quick=config.quick)
    learning = run_learning(learning_config, progress)
    widths = run_widths(config, progress)
    fairness = run_fairness(FAIRNESS_AUCTIONS[config.quick], config.seed, progress)
    if tick_bench is None:
        if progress is not None:
            progress("tick bench (reduced: N = 100, 1000)")
        tick_bench = _reduced_bench()
        source = "reduced tick benchmark run in-process (N = 100, 1000; 2,000 ops, 1 repeat)"
    most = max(config.identities)
    summary = summaries(truthful)
    matrix = build_matrix(
        tick_costs(tick_bench),
        {s.mechanism: s for s in summary},
        {c.mechanism: c for c in sybil if c.mitigation == "none" and c.identities == most},
        {c.mechanism: c for c in thermal},
        {c.mechanism: c for c in worst_cells},
        count_lines(),
    )
    return IncentiveResult(config, truthful, summary, sybil, collusion, thermal, equilibria,
                           others, worst_cells, learning, learning_config, widths, fairness,
                           matrix, source, time.perf_counter() - started)
