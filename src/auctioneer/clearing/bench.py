"""The clearing benchmark: DP, integer programming and branch and bound, easy and hard.

Kelly's exercises 3, 4 and 7: compare the exact clearing methods on
*uncorrelated* (easy) and *strongly correlated* (hard) instances of growing
size (:mod:`auctioneer.clearing.generate`), and measure what Generalized
Vickrey payments cost on top of one clearing. For every *series* (an
instance kind, a number of resources and a capacity) and every number of
bids, one seeded instance is built and every method clears it through
:func:`auctioneer.clearing.solve.clear`:

* **time** -- the median over repeats of the whole call's wall time (model
  building included), the cyclic garbage collector paused as in
  :mod:`timeit`. Repeats stop early once a cell has used
  :data:`CELL_BUDGET_S`, and a solve that does not finish (time limit,
  refused as too large) is not repeated; the method is then skipped at the
  larger sizes of that series, which can only be harder.
* **exactness** -- every method is exact, so every method that finishes
  (OPTIMAL) must report the same revenue, and every result must pass
  :func:`~auctioneer.clearing.solve.check_feasible`; a time-limited result
  may not beat the optimum either. Any breach is a *disagreement*, listed
  and failing a target.
* **memory** -- one more, untimed solve under :mod:`tracemalloc`: the peak
  of Python-visible allocations (numpy arrays included; HiGHS's own C++
  memory is invisible to it).
* **VCG** -- on the two-resource series, wherever DP finishes:
  ``vcg_payments(auction, method="dp")`` (clearing included) against one DP
  clearing, timed back to back in each repeat; the median of the per-repeat
  ratios.

Targets: 100 bids x 3 bundles x 2 resources of capacity 100 cleared exactly
by DP in at most 10 ms (median); VCG for all bidders at most 3x one
clearing; every method exact wherever it finishes.

Example:
    >>> config = ClearingBenchConfig.build(sizes=(4,), sizes_3d=(), repeats=1, time_limit=2.0)
    >>> result = run_clearing_bench(config)
    >>> [(c.series, c.bids, sorted(c.methods)) for c in result.cells]
    [('easy', 4, ['bnb', 'dp', 'milp']), ('hard', 4, ['bnb', 'dp', 'milp'])]
    >>> all(c.agree for c in result.cells), result.disagreements
    (True, ())
"""

from __future__ import annotations

import dataclasses
import math
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from auctioneer.checks import require_int
from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.generate import generate
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.solve import clear
from auctioneer.clearing.vcg import vcg_payments
from auctioneer.measure.record import fields_dict
from auctioneer.measure.sizes import parse_int_list
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment, environment, gc_paused

__all__ = [
    "CELL_BUDGET_S",
    "DEFAULT_METHODS",
    "DEFAULT_SIZES",
    "DEFAULT_SIZES_3D",
    "QUICK_SIZES",
    "QUICK_SIZES_3D",
    "SERIES",
    "TARGET_BIDS",
    "Cell",
    "ClearingBenchConfig",
    "ClearingBenchResult",
    "MethodRun",
    "Series",
    "Target",
    "VcgRun",
    "evaluate_targets",
    "parse_methods",
    "parse_sizes",
    "run_clearing_bench",
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
        return total


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


# --------------------------------------------------------------------------
# Measuring


def _timed(auction: Auction, method: str, time_limit: float) -> Clearing:
    with gc_paused():
        return clear(auction, method, time_limit=time_limit)


def _peak_bytes(auction: Auction, method: str, time_limit: float) -> int:
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        clear(auction, method, time_limit=time_limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base)


def _run_method(auction: Auction, method: str, config: ClearingBenchConfig) -> tuple[
    MethodRun, list[str]
]:
    seconds: list[float] = []
    problems: list[str] = []
    last: Clearing | None = None
    revenues: set[int] = set()
    for _ in range(config.repeats):
        result = _timed(auction, method, config.time_limit)
        last = result
        seconds.append(result.seconds)
        try:
            check_feasible(auction, result)
        except AssertionError as exc:
            problems.append(f"{method} returned an invalid result: {exc}")
        if result.choice:
            revenues.add(result.revenue)
        if not result.is_optimal or sum(seconds) >= CELL_BUDGET_S:
            break
    assert last is not None
    if len(revenues) > 1:
        problems.append(f"{method} gave different revenues on repeats: {sorted(revenues)}")
    peak = _peak_bytes(auction, method, config.time_limit) if last.is_optimal else None
    if last.status is Status.TOO_LARGE:
        seconds = []  # refused before solving: nothing was timed
    run = MethodRun(
        method,
        last.status.value,
        tuple(seconds),
        last.revenue if last.choice else None,
        peak,
        {k: v for k, v in last.stats.items() if isinstance(v, int | float | str)},
    )
    return run, problems


def _skipped(method: str) -> MethodRun:
    return MethodRun(method, "skipped", (), None, None)


def _check_agreement(runs: dict[str, MethodRun]) -> tuple[int | None, list[str]]:
    finished = {m: r.revenue for m, r in runs.items() if r.finished}
    values = {v for v in finished.values() if v is not None}
    problems = []
    if len(values) > 1:
        listed = ", ".join(f"{m} {v}" for m, v in finished.items())
        problems.append(f"DISAGREEMENT: optimal revenues differ: {listed}")
    optimum = next(iter(values)) if len(values) == 1 else None
    if optimum is not None:
        for m, r in runs.items():
            if r.status == Status.TIME_LIMIT.value and r.revenue is not None and (
                r.revenue > optimum
            ):
                problems.append(f"DISAGREEMENT: {m} (time-limited) found {r.revenue} > "
                                f"the proven optimum {optimum}")
    return optimum, problems


def _run_vcg(auction: Auction, config: ClearingBenchConfig, optimum: int) -> tuple[
    VcgRun | None, list[str]
]:
    ratios: list[float] = []
    vcg_times: list[float] = []
    clear_times: list[float] = []
    how = ""
    problems: list[str] = []
    for _ in range(config.repeats):
        one = _timed(auction, "dp", config.time_limit)
        if not one.is_optimal:
            return None, problems
        start = time.perf_counter()
        with gc_paused():
            priced = vcg_payments(auction, method="dp")
        spent = time.perf_counter() - start
        how = str(priced.stats.get("vcg", ""))
        if priced.payments is None:
            return VcgRun((), (spent,), (one.seconds,), how or "not computed"), problems
        if priced.revenue != optimum:
            problems.append(f"DISAGREEMENT: vcg_payments cleared {priced.revenue}, "
                            f"not the optimum {optimum}")
        ratios.append(spent / one.seconds if one.seconds > 0 else math.inf)
        vcg_times.append(spent)
        clear_times.append(one.seconds)
        if sum(vcg_times) + sum(clear_times) >= CELL_BUDGET_S:
            break
    return VcgRun(tuple(ratios), tuple(vcg_times), tuple(clear_times), how), problems


def _warm_up(methods: Sequence[str]) -> None:
    """One tiny solve per method, so imports and first-call costs stay out of the timings."""
    tiny = generate("uncorrelated", bids=3, bundles=2, resources=2, capacity=10, seed=0)
    for method in methods:
        clear(tiny, method, time_limit=5.0)
    vcg_payments(tiny, method="dp")


def run_clearing_bench(
    config: ClearingBenchConfig, step: Callable[[str], None] | None = None
) -> ClearingBenchResult:
    """Measure everything ``config`` asks for; ``step(description)`` starts each step."""
    started = time.perf_counter()
    env = environment()
    _warm_up(config.methods)
    cells: list[Cell] = []
    for series in config.series:
        given_up: set[str] = set()
        for bids in series.sizes:
            seed = instance_seed(config.seed, series, bids)
            auction = build_instance(config, series, bids)
            runs: dict[str, MethodRun] = {}
            problems: list[str] = []
            for method in config.methods:
                if step is not None:
                    step(f"{series.name} {bids} bids: {method}")
                if method in given_up:
                    runs[method] = _skipped(method)
                    continue
                run, found = _run_method(auction, method, config)
                runs[method] = run
                problems.extend(found)
                if not run.finished:
                    given_up.add(method)
            optimum, found = _check_agreement(runs)
            problems.extend(found)
            vcg = None
            if config.vcg and series.resources == 2 and "dp" in config.methods:
                if step is not None:
                    step(f"{series.name} {bids} bids: vcg")
                if runs["dp"].finished and optimum is not None:
                    vcg, found = _run_vcg(auction, config, optimum)
                    problems.extend(found)
            cells.append(Cell(series.name, series.kind, series.resources, series.capacity,
                              bids, config.bundles, seed, runs, optimum if not problems else None,
                              tuple(problems), vcg))
    provisional = ClearingBenchResult(config, env, tuple(cells), ())
    return dataclasses.replace(provisional, targets=evaluate_targets(provisional),
                               elapsed_s=time.perf_counter() - started)


# --------------------------------------------------------------------------
# Targets


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f} ms"


def evaluate_targets(result: ClearingBenchResult) -> tuple[Target, ...]:
    """The three targets against this run's cells."""
    targets = []
    easy, hard = result.cell("easy", TARGET_BIDS), result.cell("hard", TARGET_BIDS)
    shape = f"{TARGET_BIDS} bids x {result.config.bundles} bundles x 2 resources"
    name = (f"DP clears {shape} of capacity {result.config.capacity} exactly in "
            f"<= {DP_TARGET_S * 1000:.0f} ms (median)")
    dp_runs = [(label, c.methods.get("dp")) for label, c in (("easy", easy), ("hard", hard))
               if c is not None]
    measured = [(label, r) for label, r in dp_runs if r is not None and r.median_s is not None]
    if not measured or result.config.capacity != CAPACITY:
        targets.append(Target(name, None, f"not measured (no {TARGET_BIDS}-bid 2-resource "
                                          f"instance of capacity {CAPACITY} in this run)"))
    else:
        ok = all(r.finished and r.median_s is not None and r.median_s <= DP_TARGET_S
                 for _, r in measured)
        detail = ", ".join(
            f"{label} {_ms(r.median_s)} ({r.status}, {len(r.seconds)} repeats)"
            for label, r in measured
        )
        targets.append(Target(name, ok, detail))

    name = f"VCG payments for all bidders <= {VCG_TARGET_RATIO:.0f}x one DP clearing"
    at_target = [(label, c.vcg) for label, c in (("easy", easy), ("hard", hard))
                 if c is not None and c.vcg is not None and c.vcg.ratio is not None]
    everywhere = [c for c in result.cells if c.vcg is not None and c.vcg.ratio is not None]
    if at_target:
        ok = all(v.ratio is not None and v.ratio <= VCG_TARGET_RATIO for _, v in at_target)
        detail = ", ".join(f"{label} {TARGET_BIDS} bids {v.ratio:.2f}x ({v.how})"
                           for label, v in at_target if v.ratio is not None)
        if everywhere:
            worst = max(everywhere, key=lambda c: c.vcg.ratio if c.vcg and c.vcg.ratio else 0.0)
            assert worst.vcg is not None and worst.vcg.ratio is not None
            detail += f"; worst of all sizes {worst.vcg.ratio:.2f}x ({worst.series} " \
                      f"{worst.bids} bids)"
        targets.append(Target(name, ok, detail))
    elif everywhere:
        ok = all(c.vcg is not None and c.vcg.ratio is not None and
                 c.vcg.ratio <= VCG_TARGET_RATIO for c in everywhere)
        worst = max(everywhere, key=lambda c: c.vcg.ratio if c.vcg and c.vcg.ratio else 0.0)
        assert worst.vcg is not None and worst.vcg.ratio is not None
        targets.append(Target(name, ok, f"no {TARGET_BIDS}-bid instance; worst measured "
                                        f"{worst.vcg.ratio:.2f}x ({worst.series} {worst.bids} "
                                        "bids)"))
    else:
        targets.append(Target(name, None, "not measured"))

    name = "every method exact wherever it finishes (revenues agree, results feasible)"
    finished = sum(1 for c in result.cells for r in c.methods.values() if r.finished)
    unfinished = sum(1 for c in result.cells for r in c.methods.values()
                     if not r.finished and r.status != "skipped")
    problems = result.disagreements
    if problems:
        targets.append(Target(name, False, f"{len(problems)} problem(s): " + "; ".join(problems)))
    elif finished == 0:
        targets.append(Target(name, None, "no method finished any instance"))
    else:
        targets.append(Target(name, True, f"{finished} finished solves on {len(result.cells)} "
                                          f"instances agree; {unfinished} stopped unfinished"))
    return tuple(targets)


def calibrate() -> None:  # pragma: no cover - a measurement, run by hand
    """Print measured against predicted DP seconds per form, for the constants in
    :mod:`auctioneer.clearing.estimate`, and the VCG-over-clearing ratio."""
    import random
    import statistics

    from auctioneer.clearing.dp import solve_dp
    from auctioneer.clearing.estimate import estimate_dp
    from auctioneer.clearing.model import Bid, Bundle, Resource

    rng = random.Random(1)

    def instance(bids: int, bundles: int, dims: int, capacity: int) -> Auction:
        return Auction(
            tuple(Resource(f"r{i}", capacity) for i in range(dims)),
            tuple(Bid(f"b{t}", tuple(
                Bundle(tuple(rng.randint(0, capacity // 5) for _ in range(dims)),
                       rng.randint(0, 1000)) for _ in range(bundles)))
                for t in range(bids)))

    cases = [(100, 3, 2, 100, "dense"), (200, 3, 3, 40, "dense"), (400, 5, 1, 1000, "dense"),
             (16, 3, 4, 30, "sparse"), (10, 4, 6, 20, "sparse"), (40, 2, 2, 100, "sparse")]
    for bids, bundles, dims, capacity, form in cases:
        auction = instance(bids, bundles, dims, capacity)
        e = estimate_dp(auction, form)
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            result = solve_dp(auction, form=form, max_bytes=2**34)
            runs.append(time.perf_counter() - start)
        print(f"{bids}x{bundles}x{dims} cap {capacity} {form}: measured "
              f"{statistics.median(runs):.4f} s, predicted {e.seconds:.4f} s, "
              f"{result.status.value}, states {result.stats.get('states', '-')}, "
              f"operations {result.stats.get('operations', '-')} (bound {e.operations:.3g})")

    # The headline case: 100 bids x 3 bundles x 2 resources of capacity 100,
    # and all VCG payments (their clearing included) against one clearing.
    auctions = [instance(100, 3, 2, 100) for _ in range(5)]
    clearing, payments = [], []
    for _ in range(21):
        for auction in auctions:
            start = time.perf_counter()
            solve_dp(auction, form="dense")
            middle = time.perf_counter()
            vcg_payments(auction)
            clearing.append(middle - start)
            payments.append(time.perf_counter() - middle)
    one, vcg = statistics.median(clearing), statistics.median(payments)
    print(f"100x3x2 cap 100 dense, median of {len(clearing)}: clearing {one * 1e3:.2f} ms, "
          f"clearing + all VCG payments {vcg * 1e3:.2f} ms ({vcg / one:.2f}x)")
