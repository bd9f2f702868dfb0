"""The clearing benchmark's configuration and results: what to measure, and what was measured.

:mod:`auctioneer.clearing.bench` runs the measurements; this module holds the
series, the configuration, the instances they name, and the values a run
fills in, with the JSON record it writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from auctioneer.checks import require_int
from auctioneer.clearing.bench_auto import AutoRun
from auctioneer.clearing.generate import generate
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Status
from auctioneer.measure.record import fields_dict
from auctioneer.measure.sizes import parse_int_list
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment

__all__ = [
    "BUNDLES",
    "CAPACITY",
    "CAPACITY_3D",
    "CELL_BUDGET_S",
    "DEFAULT_METHODS",
    "DEFAULT_REPEATS",
    "DEFAULT_SIZES",
    "DEFAULT_SIZES_3D",
    "DEFAULT_TIME_LIMIT",
    "DP_TARGET_S",
    "QUICK_REPEATS",
    "QUICK_SIZES",
    "QUICK_SIZES_3D",
    "QUICK_TIME_LIMIT",
    "SERIES",
    "TARGET_BIDS",
    "VCG_TARGET_RATIO",
    "Cell",
    "ClearingBenchConfig",
    "ClearingBenchResult",
    "MethodRun",
    "Series",
    "VcgRun",
    "build_instance",
    "instance_seed",
    "parse_methods",
    "parse_sizes",
    "series_for",
]

DEFAULT_SIZES = (10, 20, 50, 100, 200)
"""Bids per instance in the two-resource series of a full run."""
DEFAULT_SIZES_3D = (10, 20, 50, 100)
"""Bids per instance in the three-resource series of a full run."""
QUICK_SIZES = (10, 50, 100)
QUICK_SIZES_3D = (10,)
DEFAULT_METHODS = ("dp", "milp", "bnb")
"""The methods compared, in table order."""
DEFAULT_AUTO_INSTANCES = 12
QUICK_AUTO_INSTANCES = 3
DEFAULT_REPEATS = 5
QUICK_REPEATS = 3
DEFAULT_TIME_LIMIT = 5.0
"""Seconds one solve may take before it is stopped (TIME_LIMIT)."""
QUICK_TIME_LIMIT = 1.0
CELL_BUDGET_S = 3.0
"""Stop repeating a method on one instance once its solves have taken this long."""
BUNDLES = 3
CAPACITY = 100
CAPACITY_3D = 100

TARGET_BIDS = 100
"""The instance size the targets are stated at (2 resources, capacity 100)."""
DP_TARGET_S = 0.010
VCG_TARGET_RATIO = 3.0
_SEED_MAX = 2**64 - 1


@dataclass(frozen=True, slots=True)
class Series:
    """A family of instances: one kind, number of resources and capacity; growing bids."""

    name: str
    """How the table names it: ``easy``, ``hard``, ``easy 3r``, ``hard 3r``."""
    kind: str
    """A :data:`auctioneer.clearing.generate.KINDS` name."""
    resources: int
    capacity: int
    sizes: tuple[int, ...]

    @property
    def hard(self) -> bool:
        """Strongly correlated (True) or uncorrelated."""
        return self.kind == "strongly"


SERIES = ("easy", "hard", "easy 3r", "hard 3r")
"""Series names in run order."""


def series_for(
    sizes: Sequence[int], sizes_3d: Sequence[int], capacity: int = CAPACITY,
    capacity_3d: int = CAPACITY_3D,
) -> tuple[Series, ...]:
    """The four series: uncorrelated and strongly correlated, 2 then 3 resources."""
    out = []
    for name in SERIES:
        three = name.endswith("3r")
        chosen = tuple(sizes_3d if three else sizes)
        if chosen:
            out.append(Series(name, "strongly" if name.startswith("hard") else "uncorrelated",
                              3 if three else 2, capacity_3d if three else capacity, chosen))
    return tuple(out)


# --------------------------------------------------------------------------
# Configuration



def parse_sizes(text: str) -> tuple[int, ...]:
    """Bid counts from ``"10,20,50"``; an empty string is no series. ValueError names the item."""
    return parse_int_list(text, "size", 1, 100_000, "10,20,50", empty_ok=True)


def parse_methods(text: str) -> tuple[str, ...]:
    """Methods from ``"dp,milp"`` or ``"all"``; ValueError naming an unknown one."""
    chosen: list[str] = []
    for item in (part.strip().lower() for part in text.split(",")):
        if item == "all":
            chosen.extend(DEFAULT_METHODS)
        elif item in DEFAULT_METHODS:
            chosen.append(item)
        else:
            raise ValueError(f"unknown method {item!r}: choose from "
                             f"{', '.join(DEFAULT_METHODS)} or all")
    return tuple(m for m in DEFAULT_METHODS if m in chosen)


@dataclass(frozen=True, slots=True)
class ClearingBenchConfig:
    """What to measure. Build one with :meth:`build`, which fills in the defaults."""

    sizes: tuple[int, ...] = DEFAULT_SIZES
    """Bids per instance, two-resource series (capacity ``capacity``)."""
    sizes_3d: tuple[int, ...] = DEFAULT_SIZES_3D
    """Bids per instance, three-resource series (capacity ``capacity_3d``)."""
    methods: tuple[str, ...] = DEFAULT_METHODS
    bundles: int = BUNDLES
    capacity: int = CAPACITY
    capacity_3d: int = CAPACITY_3D
    repeats: int = DEFAULT_REPEATS
    time_limit: float = DEFAULT_TIME_LIMIT
    """Seconds per solve."""
    vcg: bool = True
    seed: int = 0
    quick: bool = False
    auto_instances: int = DEFAULT_AUTO_INSTANCES
    """Instances of the MMKP family on which auto is timed against DP and MILP."""

    def __post_init__(self) -> None:
        if not self.sizes and not self.sizes_3d:
            raise ValueError("sizes and sizes_3d are both empty: give at least one size")
        for size in (*self.sizes, *self.sizes_3d):
            require_int(size, "size", 1)
        if not self.methods:
            raise ValueError("methods is empty: give at least one method")
        for method in self.methods:
            if method not in DEFAULT_METHODS:
                raise ValueError(f"unknown method {method!r}: choose from "
                                 f"{', '.join(DEFAULT_METHODS)}")
        require_int(self.bundles, "bundles", 1)
        require_int(self.capacity, "capacity", 1)
        require_int(self.capacity_3d, "capacity_3d", 1)
        require_int(self.repeats, "repeats", 1)
        require_int(self.seed, "seed", 0, _SEED_MAX)
        require_int(self.auto_instances, "auto_instances", 0, 10_000)
        limit = self.time_limit
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not (
            limit > 0 and math.isfinite(limit)
        ):
            raise ValueError(f"time limit {limit!r} must be a positive number of seconds")

    @classmethod
    def build(
        cls,
        *,
        sizes: Iterable[int] | None = None,
        sizes_3d: Iterable[int] | None = None,
        methods: Iterable[str] | None = None,
        repeats: int | None = None,
        time_limit: float | None = None,
        vcg: bool = True,
        seed: int = 0,
        quick: bool = False,
        auto_instances: int | None = None,
    ) -> ClearingBenchConfig:
        """A configuration: what is given, else the full run's (or ``quick``'s) defaults."""
        return cls(
            sizes=tuple(sizes) if sizes is not None else (QUICK_SIZES if quick else DEFAULT_SIZES),
            sizes_3d=tuple(sizes_3d) if sizes_3d is not None else (
                QUICK_SIZES_3D if quick else DEFAULT_SIZES_3D
            ),
            methods=tuple(methods) if methods is not None else DEFAULT_METHODS,
            repeats=repeats if repeats is not None else (
                QUICK_REPEATS if quick else DEFAULT_REPEATS
            ),
            time_limit=time_limit if time_limit is not None else (
                QUICK_TIME_LIMIT if quick else DEFAULT_TIME_LIMIT
            ),
            vcg=vcg,
            seed=seed,
            quick=quick,
            auto_instances=auto_instances if auto_instances is not None else (
                QUICK_AUTO_INSTANCES if quick else DEFAULT_AUTO_INSTANCES),
        )

    @property
    def series(self) -> tuple[Series, ...]:
        """The series this run measures, in order."""
        return series_for(self.sizes, self.sizes_3d, self.capacity, self.capacity_3d)

    @property
    def steps(self) -> int:
        """How many progress steps :func:`run_clearing_bench` reports."""
        total = 0
        for s in self.series:
            per = len(self.methods) + (1 if self.vcg and s.resources == 2 and
                                       "dp" in self.methods else 0)
            total += per * len(s.sizes)
        return total + self.auto_instances


def instance_seed(seed: int, series: Series, bids: int) -> int:
    """The generator seed of one instance: a function of the run seed, series and size."""
    words = [seed & 0xFFFFFFFF, seed >> 32, SERIES.index(series.name), bids]
    state = np.random.SeedSequence(words).generate_state(2, np.uint32)
    return int(state[0]) | int(state[1]) << 32


def build_instance(config: ClearingBenchConfig, series: Series, bids: int) -> Auction:
    """The instance the benchmark clears for ``series`` at ``bids`` bids."""
    return generate(series.kind, bids=bids, bundles=config.bundles, resources=series.resources,
                    capacity=series.capacity, seed=instance_seed(config.seed, series, bids))


# --------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class MethodRun:
    """One method on one instance."""

    method: str
    status: str
    """The last solve's status value, or ``"skipped"`` (it failed to finish a smaller size)."""
    seconds: tuple[float, ...]
    """Wall time of each timed solve."""
    revenue: int | None
    """Micro-units; None when the method produced no allocation."""
    peak_bytes: int | None
    """tracemalloc's peak during one untimed solve; None when not measured."""
    stats: dict[str, int | float | str] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """True when it proved an optimum."""
        return self.status == Status.OPTIMAL.value

    @property
    def median_s(self) -> float | None:
        """Median solve time, seconds (None when nothing was timed)."""
        return float(median(self.seconds)) if self.seconds else None


@dataclass(frozen=True, slots=True)
class VcgRun:
    """VCG payments against one DP clearing on one instance."""

    ratios: tuple[float, ...]
    """Per repeat: VCG time (clearing included) / one DP clearing's time."""
    vcg_seconds: tuple[float, ...]
    clear_seconds: tuple[float, ...]
    how: str
    """``stats["vcg"]``: the algorithm the payments used."""

    @property
    def ratio(self) -> float | None:
        """Median of the per-repeat ratios."""
        return float(median(self.ratios)) if self.ratios else None


@dataclass(frozen=True, slots=True)
class Cell:
    """Every method on one instance: one table row."""

    series: str
    kind: str
    resources: int
    capacity: int
    bids: int
    bundles: int
    seed: int
    methods: dict[str, MethodRun]
    optimum: int | None
    """The revenue every finished method agrees on (None if none finished or they disagree)."""
    problems: tuple[str, ...]
    """Disagreements and infeasible results found on this instance."""
    vcg: VcgRun | None

    @property
    def agree(self) -> bool:
        """True when no method contradicts another or the feasibility check."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class ClearingBenchResult:
    """A whole run: configuration, environment, one cell per instance, targets."""

    config: ClearingBenchConfig
    environment: Environment
    cells: tuple[Cell, ...]
    targets: tuple[Target, ...]
    elapsed_s: float = 0.0
    auto: tuple[AutoRun, ...] = ()
    """auto against DP and MILP on the MMKP family."""

    @property
    def disagreements(self) -> tuple[str, ...]:
        """Every exactness problem found, ``series/bids: what``."""
        return tuple(f"{c.series} {c.bids} bids: {p}" for c in self.cells for p in c.problems)

    def cell(self, series: str, bids: int) -> Cell | None:
        """The cell of ``series`` at ``bids`` bids, if measured."""
        return next((c for c in self.cells if c.series == series and c.bids == bids), None)

    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON-ready builtins (money in micro-units, times in seconds)."""
        return {
            "benchmark": "auctioneer.bench.clearing",
            "schema": 1,
            "environment": fields_dict(self.environment),
            "config": {
                **fields_dict(self.config),
                "series": [fields_dict(s) for s in self.config.series],
                "cell_budget_s": CELL_BUDGET_S,
                "timing": "wall time of clear(), median over repeats, gc paused",
                "memory": "tracemalloc peak of one untimed solve",
            },
            "results": [_cell_dict(c) for c in self.cells],
            "disagreements": list(self.disagreements),
            "auto_family": [{**fields_dict(r), "ratio": r.ratio} for r in self.auto],
            "targets": [fields_dict(t) for t in self.targets],
            "elapsed_s": round(self.elapsed_s, 3),
        }


def _json_stat(value: int | float | str) -> int | float | str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _cell_dict(cell: Cell) -> dict[str, Any]:
    methods = {}
    for name, run in cell.methods.items():
        methods[name] = {
            "status": run.status,
            "finished": run.finished,
            "median_s": run.median_s,
            "seconds": list(run.seconds),
            "repeats": len(run.seconds),
            "revenue_micros": run.revenue,
            "peak_bytes": run.peak_bytes,
            "stats": {k: _json_stat(v) for k, v in run.stats.items()},
        }
    vcg = None
    if cell.vcg is not None:
        vcg = {
            "median_ratio": cell.vcg.ratio,
            "ratios": list(cell.vcg.ratios),
            "vcg_seconds": list(cell.vcg.vcg_seconds),
            "clear_seconds": list(cell.vcg.clear_seconds),
            "how": cell.vcg.how,
        }
    return {
        "series": cell.series,
        "kind": cell.kind,
        "resources": cell.resources,
        "capacity": cell.capacity,
        "bids": cell.bids,
        "bundles": cell.bundles,
        "instance_seed": cell.seed,
        "optimum_micros": cell.optimum,
        "agree": cell.agree,
        "problems": list(cell.problems),
        "methods": methods,
        "vcg": vcg,
    }
