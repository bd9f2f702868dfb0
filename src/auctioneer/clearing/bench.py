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
    >>> config = ClearingBenchConfig.build(sizes=(4,), sizes_3d=(), repeats=1, time_limit=2.0,
    ...                                    auto_instances=0)
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
from collections.abc import Callable, Sequence

from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.bench_auto import auto_target, run_auto_family
from auctioneer.clearing.bench_model import (
    CAPACITY,
    CELL_BUDGET_S,
    DEFAULT_METHODS,
    DEFAULT_SIZES,
    DEFAULT_SIZES_3D,
    DP_TARGET_S,
    QUICK_SIZES,
    QUICK_SIZES_3D,
    SERIES,
    TARGET_BIDS,
    VCG_TARGET_RATIO,
    Cell,
    ClearingBenchConfig,
    ClearingBenchResult,
    MethodRun,
    Series,
    VcgRun,
    build_instance,
    instance_seed,
    parse_methods,
    parse_sizes,
    series_for,
)
from auctioneer.clearing.generate import generate
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.solve import clear
from auctioneer.clearing.vcg import vcg_payments
from auctioneer.measure.memory import peak_bytes
from auctioneer.measure.target import Target
from auctioneer.measure.timing import environment, gc_paused

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

# --------------------------------------------------------------------------
# Measuring


def _timed(auction: Auction, method: str, time_limit: float) -> Clearing:
    with gc_paused():
        return clear(auction, method, time_limit=time_limit)


def _peak_bytes(auction: Auction, method: str, time_limit: float) -> int:
    return peak_bytes(lambda: clear(auction, method, time_limit=time_limit))


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
    auto = run_auto_family(config.auto_instances, seed=config.seed,
                           time_limit=config.time_limit, progress=step)
    provisional = ClearingBenchResult(config, env, tuple(cells), (), auto=auto)
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
    targets.append(auto_target(result.auto))
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
