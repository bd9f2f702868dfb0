"""The design document's sources and items: which command produces each number.

``docs/design.template.md`` places the items defined here; ``make docs``
(``python -m tools.docs build``) runs every source's command, writing into
``docs/design/``, and renders ``docs/design.md``. To quote a new figure, add
its source (the command, with the options used and why) and an item here,
and its marker in the template.

Example:
    >>> [s.name for s in DESIGN_SPEC.sources][:2]
    ['bench-tick', 'bench-cache']
"""

from __future__ import annotations

from typing import Any

from auctioneer.clearing.estimate import format_bytes
from auctioneer.tick.bench_record import TickBenchRecord
from tools.docs.exchange import EXCHANGE_ITEMS, EXCHANGE_SOURCES
from tools.docs.formats import (
    LEFT,
    TARGET_COLUMNS,
    bytes_,
    money,
    money4,
    ms,
    ns,
    pct,
    seconds,
    times,
    us,
    x,
    yes,
)
from tools.docs.render import Column, DocSpec, Figure, Source, SourceTable, Table, Value

__all__ = ["DESIGN_SPEC", "DOCUMENTS"]


def _solve_time(value: Any) -> str:
    return "–" if value is None else f"{ms(value)} ms"


def _solve_ms(run: Any) -> str:
    """One method's cell: median ms and repeats, or why there is none (as the bench prints)."""
    if run is None:
        return "–"
    if run["status"] in ("skipped", "too-large"):
        return str(run["status"])
    if run["status"] == "time-limit":
        return "time limit"
    took = ms(run["median_s"])
    return (f"{took} ({run['repeats']})" if run["status"] == "optimal"
            else f"{run['status']} {took}")


def _binary_bytes(value: Any) -> str:
    return "–" if value is None else format_bytes(int(value))


_CLEARING_METHODS = (("dp", "DP"), ("milp", "MILP"), ("bnb", "B&B"))

_SCENARIOS = ("steady", "gpu-hot", "diurnal-burst", "thermal-closed")


def _tick_record(data: Any) -> dict[str, Any]:
    return TickBenchRecord.parse(data).to_json_dict()


SOURCES = (
    Source("bench-tick", ("bench", "tick", "--json", "{json}", "--plot", "{plot}"),
           "bench-tick.json", "bench-tick.png",
           "the defaults: N = 10, 100, 1,000, 10,000; 100,000 timed operations × 5 repeats "
           "per cell, each figure the median over repeats", validate=_tick_record),
    Source("bench-cache", ("bench", "cache", "--json", "{json}"), "bench-cache.json",
           note="the defaults: TierBook, LazyHeap and IndexedHeap at N = 1,000 and 10,000, "
           "100,000 ticks; two cachegrind runs per cell (needs valgrind)"),
    Source("bpf", ("bpf", "--json", "{json}"), "bpf.json", module="tools.docs",
           note="builds kernel/ with clang for the BPF target and counts instructions "
           "with llvm-objdump"),
    Source("bench-ring", ("bench", "ring", "--json", "{json}", "--plot", "{plot}"),
           "bench-ring.json", "bench-ring.png", "the defaults"),
    Source("bench-thermal", ("bench", "thermal", "--json", "{json}", "--plot", "{plot}"),
           "bench-thermal.json", "bench-thermal.png", "the defaults"),
    Source("thermal-step", ("thermal", "step-response", "-o", "{plot}"),
           "thermal-step.json", "thermal-step.png",
           "the defaults: offered CPU load 0.3 → 1.0 with the GPU at 0.9, 120 s, "
           "shipped gains; the JSON is written next to the PNG"),
    Source("bench-sim", ("bench", "sim", "--json", "{json}", "--plot", "{plot}"),
           "bench-sim.json", "bench-sim.png",
           "the defaults: 10 s of host time at 10 kHz with N = 1,000, against SimPy"),
    *(Source(f"sim-{name}", ("simulate", f"examples/sim/{name}.yaml", "--out",
                             f"{{dir}}/sim-{name}"),
             f"sim-{name}/metrics.json", f"sim-{name}/temperatures.png",
             "the whole scenario file, its own seed") for name in _SCENARIOS),
    Source("bench-clearing", ("bench", "clearing", "--json", "{json}", "--plot", "{plot}"),
           "bench-clearing.json", "bench-clearing.png",
           "the defaults: one seeded instance per size, 5 repeats, 5 s limit per solve"),
    *EXCHANGE_SOURCES,
    Source("incentives", ("experiment", "incentives", "--tick-bench",
                          "{dir}/bench-tick.json", "--json", "{json}", "--plot", "{plot}"),
           "incentives.json", "incentives.png",
           note="the defaults; time and space columns from the bench-tick run above"),
)

_TICK_ROWS = "results"
_ACCURACY_COLUMNS = (
    Column("N", "n", "{:,}"),
    Column("samples", "samples", "{:,}"),
    Column("winner differs", "miss_rate", pct),
    Column("Vickrey price differs", "price_miss_rate", pct),
    Column("mean price error", "mean_rel_price_error", pct),
)

_TICK_COLUMNS = (
    Column("structure", "structure", align=LEFT),
    Column("N", "n", "{:,}"),
    Column("C tick p50", "in_c_ns.tick.p50", ns),
    Column("C tick p99", "in_c_ns.tick.p99", ns),
    Column("C tick p99.9", "in_c_ns.tick.p999", ns),
    Column("C update p99", "in_c_ns.update.p99", ns),
    Column("C expire p99", "in_c_ns.expire.p99", ns),
    Column("Py tick p50", "from_python_ns.tick.p50", ns),
    Column("Py tick p99", "from_python_ns.tick.p99", ns),
    Column("Py tick p99.9", "from_python_ns.tick.p999", ns),
    Column("bytes/agent", "bytes_per_agent", bytes_),
    Column("× heapq p99", "speedup_vs_heapq.p99", x),
)


def _tick_value(name: str, structure: str, n: int, path: str) -> Value:
    return Value(name, "bench-tick", f"results[structure={structure},n={n}].{path}", ns)


ITEMS: tuple[Table | SourceTable | Figure | Value, ...] = (
    # -- the tick structures
    *(Table(f"tick-latency-{n}", "bench-tick", _TICK_ROWS, _TICK_COLUMNS, {"n": n},
            f"Tick latency at N = {n:,} (ns; C = timed inside the extension, Py = per call "
            "from Python)") for n in (10, 100, 1000, 10000)),
    Table("tick-ops-1000", "bench-tick", _TICK_ROWS, (
        Column("structure", "structure", align=LEFT),
        *(Column(f"{label} {name}", f"in_c_ns.{op}.{key}", ns)
          for op, label in (("update", "insert"), ("select", "select"), ("expire", "expire"))
          for name, key in (("p50", "p50"), ("p99", "p99"), ("p99.9", "p999"))),
    ), {"n": 1000, "native": True},
       "Each operation alone at N = 1,000, timed in C (ns; insert = update of a random agent; "
       "select = select(2) after an untimed update; expire re-inserts untimed)"),
    Table("tick-adversarial", "bench-tick", "adversarial", (
        Column("workload", "workload", align=LEFT),
        Column("structure", "structure", align=LEFT),
        Column("tick p50", "in_c_ns.tick.p50", ns),
        Column("tick p99", "in_c_ns.tick.p99", ns),
        Column("tick p99.9", "in_c_ns.tick.p999", ns),
        Column("LazyHeap rescans / tick", "rescans_per_tick",
               "{:.3f}"),
    ), {"n": 1000},
       "Adversarial workloads at N = 1,000, tick in C (ns): rescan = one agent bidding above "
       "everyone re-bids every tick; crowded = every bid and update inside one tier"),
    Value("lazy-rescan-c50-10000", "bench-tick",
          "adversarial[workload=rescan,structure=LazyHeap,n=10000].in_c_ns.tick.p50", ns),
    Value("lazy-rescan-c50-1000", "bench-tick",
          "adversarial[workload=rescan,structure=LazyHeap,n=1000].in_c_ns.tick.p50", ns),
    Value("tier-rescan-c999-10000", "bench-tick",
          "adversarial[workload=rescan,structure=TierBook,n=10000].in_c_ns.tick.p999", ns),
    Value("tier-crowd-c999-1000", "bench-tick",
          "adversarial[workload=crowded,structure=TierBook,n=1000].in_c_ns.tick.p999", ns),
    Value("lazy-crowd-rescans-1000", "bench-tick",
          "adversarial[workload=crowded,structure=LazyHeap,n=1000].rescans_per_tick", "{:.3f}"),
    Table("tick-cache", "bench-cache", "results", (
        Column("structure", "structure", align=LEFT),
        Column("N", "n", "{:,}"),
        Column("instructions", "instructions", "{:,.0f}"),
        Column("data refs", "data_refs", "{:,.0f}"),
        Column("L1d misses", "d1_misses", "{:.2f}"),
        Column("last-level misses", "ll_misses", "{:.3f}"),
        Column("L1d miss rate", "d1_miss_rate", pct),
    ), caption="Per tick (update + select(2)), simulated by cachegrind: the difference "
       "between a run with 100,000 ticks and one without, over the ticks"),
    Value("cache-tier-d1-1000", "bench-cache", "results[structure=TierBook,n=1000].d1_misses",
          "{:.2f}"),
    Value("cache-tier-d1-10000", "bench-cache",
          "results[structure=TierBook,n=10000].d1_misses", "{:.2f}"),
    Value("cache-tier-ll-10000", "bench-cache",
          "results[structure=TierBook,n=10000].ll_misses", "{:.3f}"),
    Table("tick-targets", "bench-tick", "targets", TARGET_COLUMNS),
    *(Table(name, "bench-tick", "sampled_accuracy", _ACCURACY_COLUMNS, where, caption=caption)
      for name, where, caption in (
          ("tick-accuracy", {}, "SampledTopK against an exact book fed the same operations"),
          ("tick-accuracy-1000", {"n": 1000}, "SampledTopK at N = 1,000 against an exact book "
                                              "fed the same operations (every N: docs/tick.md)"))),
    Figure("tick-plot", "bench-tick", "Tick latency distributions at N = 1,000"),
    Value("tick-cpu", "bench-tick", "environment.cpu_model"),
    Value("tick-cores", "bench-tick", "environment.cpu_count"),
    Value("tick-date", "bench-tick", "environment.date"),
    Value("tick-python", "bench-tick", "environment.python"),
    Value("tick-timer-c", "bench-tick", "timer.native_empty_interval_ns.p50", ns),
    Value("tick-timer-py", "bench-tick", "timer.python_empty_perf_counter_pair_ns.p50", ns),
    *(
        _tick_value(f"{short}-{metric}-{n}", name, n, path)
        for short, name in (("tier", "TierBook"), ("lazy", "LazyHeap"),
                            ("tourney", "TournamentTree"), ("sampled", "SampledTopK"),
                            ("heap", "IndexedHeap"))
        for n in (100, 1000, 10000)
        for metric, path in (("c50", "in_c_ns.tick.p50"), ("c99", "in_c_ns.tick.p99"),
                             ("c999", "in_c_ns.tick.p999"), ("py99", "from_python_ns.tick.p99"),
                             ("py999", "from_python_ns.tick.p999"))
    ),
    *(
        _tick_value(f"{short}-py50-{n}", name, n, "from_python_ns.tick.p50")
        for short, name in (("heapq", "heapq"), ("sorted", "SortedList"))
        for n in (100, 1000, 10000)
    ),
    *(
        _tick_value(f"{short}-py99-{n}", name, n, "from_python_ns.tick.p99")
        for short, name in (("heapq", "heapq"), ("sorted", "SortedList"))
        for n in (1000,)
    ),
    *(_tick_value(f"tier-{op[:3]}{metric}-1000", "TierBook", 1000, f"in_c_ns.{op}.{key}")
      for op in ("update", "expire", "select") for metric, key in (("50", "p50"), ("99", "p99"),
                                                         ("999", "p999"))),
    Value("tier-bytes-1000", "bench-tick", "results[structure=TierBook,n=1000].bytes_per_agent",
          bytes_),
    Value("tier-x-heapq-1000", "bench-tick",
          "results[structure=TierBook,n=1000].speedup_vs_heapq.p99", x),
    Value("lazy-x-heapq-1000", "bench-tick",
          "results[structure=LazyHeap,n=1000].speedup_vs_heapq.p50", x),
    # -- the BPF object
    Table("bpf-programs", "bpf", "programs", (
        Column("callback", "callback", align=LEFT),
        Column("BPF instructions", "instructions", "{:,}"),
        Column("section", "section", "`{}`", align=LEFT),
    )),
    Value("bpf-total", "bpf", "total_instructions", "{:,}"),
    Value("bpf-compiler", "bpf", "compiler"),
    Value("bpf-enqueue", "bpf", "programs[callback=enqueue].instructions", "{:,}"),
    Value("bpf-dispatch", "bpf", "programs[callback=dispatch].instructions", "{:,}"),
    # -- bid rings and price page
    Table("ring-latency", "bench-ring", "latency_ns", (
        Column("operation", "name", align=LEFT),
        Column("where", "where", align=LEFT),
        Column("p50 ns", "p50", ns),
        Column("p99 ns", "p99", ns),
        Column("p99.9 ns", "p999", ns),
    ), caption="Submit and read latency (raw, timer included)"),
    Table("ring-throughput", "bench-ring", "throughput", (
        Column("ring", "name", align=LEFT),
        Column("where", "where", align=LEFT),
        Column("producers", "producers", "{:,}"),
        Column("bids/s", "per_second", "{:,.0f}"),
    ), caption="Throughput"),
    Table("ring-targets", "bench-ring", "targets", TARGET_COLUMNS),
    Figure("ring-plot", "bench-ring", "Bid submission latency and throughput"),
    Value("ring-spsc-p50", "bench-ring", "latency_ns[name=SPSC push].p50", ns),
    Value("ring-timer", "bench-ring", "timer.c_empty_interval_ns.p50", ns),
    # -- thermal
    Table("thermal-ops", "bench-thermal", "ops", (
        Column("operation", "name", align=LEFT),
        Column("p50 ns", "p50_ns", ns),
        Column("p99 ns", "p99_ns", ns),
        Column("compared with", "baseline", align=LEFT),
        Column("speed-up", "speedup", x),
    ), caption="Thermal hot paths (ns per call, from Python)"),
    Table("thermal-dispatch", "bench-thermal", "dispatch", (
        Column("GPU dispatch path", "path", align=LEFT),
        Column("bids", "bids", "{:,}"),
        Column("bundles per bid", "bundles_per_bid", "{:,}"),
        Column("p50 µs", "p50_ns", us),
        Column("p99 µs", "p99_ns", us),
        Column("p99 on-CPU µs", "cpu_p99_ns", us),
        Column("clearing p99 µs", "baseline_p99_ns", us),
        Column("winners", "winners", "{:,}"),
        Column("preempted", "preempted", "{:,}"),
    ), caption="GPU plane: one batch auction (budget 100 µs); the bundle rows also time the "
       "general clearing path (`clearing.clear` + VCG) on the same batches; preempted: timed "
       "dispatches the scheduler switched out, of all runs"),
    Table("thermal-targets", "bench-thermal", "targets", TARGET_COLUMNS),
    Figure("thermal-plot", "bench-thermal", "Thermal hot paths and GPU dispatch latency"),
    *(Value(f"gpu-{path}-{n}x{k}-{q}", "bench-thermal",
            f"dispatch[path={path},bids={n},bundles_per_bid={k}].{q}_ns", us)
      for path, n, k in (("bundles", 16, 4), ("vickrey", 1024, 1), ("vickrey-arrays", 1024, 1))
      for q in ("p50", "p99", "cpu_p99")),
    Value("gpu-policy", "bench-thermal",
          "dispatch[path=bundles,bids=16,bundles_per_bid=4].scheduler", "{}"),
    Value("gpu-load", "bench-thermal", "config.load_average", lambda v: f"{v[0]:.1f}"),
    *(Value(f"op-{name.replace(' ', '-')}-p50", "bench-thermal", f"ops[name={name}].p50_ns", ns)
      for name in ("schedule lookup", "recompute per tick", "coupling lookup",
                   "coupling formula")),
    Value("coupling-cpu-bytes", "bench-thermal", "coupling_table_bytes.cpu", "{:,}"),
    Value("coupling-gpu-bytes", "bench-thermal", "coupling_table_bytes.gpu", "{:,}"),
    Figure("step-plot", "thermal-step", "Closed-loop step response: temperature and multiplier"),
    Value("step-overshoot", "thermal-step", "overshoot_c", "{:.2f}"),
    Value("step-settling", "thermal-step", "settling_s", "{:.1f}"),
    Value("step-rise", "thermal-step", "rise_s", "{:.1f}"),
    Value("step-crossings", "thermal-step", "crossings"),
    Value("step-final", "thermal-step", "final_multiplier", "{:.2f}"),
    Value("step-kp", "thermal-step", "gains.kp", "{:.3g}"),
    Value("step-ki", "thermal-step", "gains.ki", "{:.3g}"),
    Value("step-kd", "thermal-step", "gains.kd", "{:.3g}"),
    Value("step-noise", "thermal-step", "scenario.noise_sd_c", "{:g}"),
    Value("step-delay", "thermal-step", "scenario.delay_s", lambda v: f"{1000 * v:g}"),
    # -- simulation
    SourceTable("sim-metrics", tuple(f"sim-{n}" for n in _SCENARIOS), (
        Column("scenario", "scenario", align=LEFT),
        Column("efficiency", "efficiency", pct),
        Column("allocative eff.", "allocative_efficiency", pct),
        Column("revenue", "revenue", money),
        Column("Gini", "gini", "{:.2f}"),
        Column("feeder share when hot", "feeder_share_hot",
               pct),
        Column("CPU temp var (K²)", "cpu_temp_var", "{:.2f}"),
        Column("CPU max °C", "cpu_temp_max", "{:.1f}"),
        Column("s above limit", "cpu_above_s", "{:.2f}"),
        Column("auction overhead p99", "overhead_p99", pct),
    ), caption="The simulator's measures, one row per scenario"),
    Figure("sim-hot-plot", "sim-gpu-hot", "Temperatures in the gpu-hot scenario"),
    SourceTable("sim-loop", tuple(f"sim-{n}" for n in _SCENARIOS), (
        Column("scenario", "scenario", align=LEFT),
        Column("die at target from", "target_reached_s", seconds),
        Column("overshoot K", "overshoot_c", "{:.2f}"),
        Column("settling", "settling_s", seconds),
        Column("crossings", "crossings", "{:,}"),
        Column("reserve multiple min", "multiplier_min", times),
        Column("max", "multiplier_max", times),
        Column("PID max", "pid_max", times),
        Column("ticks at 8× cap", "cap_share", pct),
        Column("feeder share, GPU ≥ 95 %", "feeder_share_gpu_full",
               pct),
        Column("GPU s above limit", "gpu_above_s", "{:.1f}"),
    ), caption="The thermal loop in each scenario: when the CPU die came within 1 K of its "
       "target, overshoot and settling (band ±1 K), the CPU reserve's multiple of its base "
       "(coupling × PID, capped at 8×), and who wins CPU quanta while the GPU is ≥ 95 % busy"),
    Value("steady-ovh50", "sim-steady", "overhead_p50", pct),
    Value("steady-ovh99", "sim-steady", "overhead_p99", pct),
    Value("steady-handler99", "sim-steady", "handler_p99", pct),
    Value("tier-c99-share", "bench-tick", "results[structure=TierBook,n=1000].in_c_ns.tick.p99",
          lambda v: f"{float(v) / 100_000:.2%}".replace("%", " %")),
    Value("closed-reached", "sim-thermal-closed", "target_reached_s", seconds),
    Value("closed-overshoot", "sim-thermal-closed", "overshoot_c", "{:.2f}"),
    Value("closed-settling", "sim-thermal-closed", "settling_s", seconds),
    Value("closed-crossings", "sim-thermal-closed", "crossings", "{:,}"),
    Value("closed-pid-max", "sim-thermal-closed", "pid_max", "{:.2f}"),
    Value("closed-cap", "sim-thermal-closed", "cap_share", pct),
    Value("closed-feeders", "sim-thermal-closed", "feeder_share_gpu_full", pct),
    Value("closed-cpu-max", "sim-thermal-closed", "cpu_temp_max", "{:.1f}"),
    Value("closed-gpu-above", "sim-thermal-closed", "gpu_above_s", "{:.0f}"),
    Value("hot-cpu-max", "sim-gpu-hot", "cpu_temp_max", "{:.1f}"),
    Value("hot-feeders", "sim-gpu-hot", "feeder_share_gpu_full", pct),
    Figure("sim-closed-plot", "sim-thermal-closed",
           "Temperatures in the thermal-closed scenario: the die reaches its 85 °C target"),
    # -- combinatorial clearing
    Table("clearing-results", "bench-clearing", "results", (
        Column("series", "series", align=LEFT),
        Column("bids", "bids"),
        *(Column(f"{label} ms", f"methods.{method}", _solve_ms)
          for method, label in _CLEARING_METHODS),
        Column("optimum", "optimum_micros", money),
        Column("exact", "agree", yes),
        Column("VCG / DP", "vcg.median_ratio", "{:.2f}×"),
        *(Column(f"peak {label}", f"methods.{method}.peak_bytes", _binary_bytes)
          for method, label in _CLEARING_METHODS),
    ), caption="Median solve time in ms (timed repeats in brackets), one seeded instance per "
       "size; easy = uncorrelated, hard = strongly correlated prices; 2 resources of capacity "
       "100, 3r = 3; VCG / DP = all VCG payments, clearing included, over one DP clearing; "
       "peak = tracemalloc peak of one solve (HiGHS's C++ memory unseen)"),
    Table("clearing-targets", "bench-clearing", "targets", TARGET_COLUMNS),
    Figure("clearing-plot", "bench-clearing", "Clearing time and memory against bids"),
    *(Value(f"clearing-{method}-{series.replace(' ', '')}-{bids}", "bench-clearing",
            f"results[series={series},bids={bids}].methods.{method}.median_s", _solve_time)
      for method, _ in _CLEARING_METHODS for series in ("easy", "hard", "easy 3r", "hard 3r")
      for bids in (50, 100, 200) if not (bids == 200 and "3r" in series)),
    Value("clearing-vcg-easy-100", "bench-clearing",
          "results[series=easy,bids=100].vcg.median_ratio", "{:.2f}×"),
    Value("clearing-vcg-hard-100", "bench-clearing",
          "results[series=hard,bids=100].vcg.median_ratio", "{:.2f}×"),
    Value("clearing-dp-peak-easy3r-100", "bench-clearing",
          "results[series=easy 3r,bids=100].methods.dp.peak_bytes", _binary_bytes),
    Table("sim-engine", "bench-sim", "rows", (
        Column("engine", "engine", align=LEFT),
        Column("workload", "workload", align=LEFT),
        Column("wall s", "wall_s", "{:.2f}"),
        Column("events", "events", "{:,}"),
        Column("events/s", "events_per_s", "{:,.0f}"),
    ), caption="The simulator's event loop against SimPy on the same events"),
    Table("sim-targets", "bench-sim", "targets", TARGET_COLUMNS),
    # -- incentives
    Table("incentives-matrix", "incentives", "matrix", (
        Column("structure", "structure", align=LEFT),
        Column("mechanism", "mechanism", align=LEFT),
        Column("tick p99 ns", "time.tick_p99_ns", ns),
        Column("growth exp.", "time.growth_exponent", "{:.2f}"),
        Column("bytes/agent", "space_bytes_per_agent", bytes_),
        Column("truthful best resp.", "truthful_best_response_share", pct),
        Column("max misreport gain µ", "max_misreport_gain", "{:,.0f}"),
        Column("Sybil gain µ", "sybil_gain.mean", "{:,.0f}"),
        Column("price of anarchy", "price_of_anarchy", "{:.4f}"),
        Column("thermal-aware", "thermal_aware", yes),
        Column("C lines", "c_lines", "{:,}"),
    ), caption="Mechanism comparison matrix (money in micro-units per tick)"),
    Table("incentives-equilibrium", "incentives", "equilibrium", (
        Column("mechanism", "mechanism", align=LEFT),
        Column("ended", "status", align=LEFT),
        Column("rounds", "rounds", "{:,}"),
        Column("price of anarchy", "price_of_anarchy", "{:.4f}"),
        Column("truthful welfare ratio", "truthful_welfare_ratio", "{:.4f}"),
        Column("revenue / Vickrey", "revenue_over_vickrey", pct),
    ), caption="Iterated best response among symmetric bidders (8 value buckets): "
       "price of anarchy = optimal welfare / welfare at the profile reached"),
    Table("incentives-truthful", "incentives", "truthfulness_summary", (
        Column("mechanism", "mechanism", align=LEFT),
        Column("truthful best response", "truthful_best_response_share", pct),
        Column("max gain from misreport µ", "max_gain", "{:,.0f}"),
    )),
    Table("incentives-thermal", "incentives", "thermal", (
        Column("mechanism", "mechanism", align=LEFT),
        Column("thermal-aware", "aware", yes),
        Column("price at 8× / at 1×", "price_response", "{:.2f}"),
    )),
    Table("incentives-sybil", "incentives", "sybil_by_defence", (
        Column("mechanism", "mechanism", align=LEFT),
        Column("identities", "identities", "{:,}"),
        Column("no defence", "none", "{:,.0f}"),
        Column("reserve", "reserve", "{:,.0f}"),
        Column("identity fee", "identity-fee", "{:,.0f}"),
        Column("reputation", "reputation", "{:,.0f}"),
        Column("stake-weighted", "stake", "{:,.0f}"),
    ), caption="Sybil gain (µ per tick, mean over seeds; 95 % intervals in the JSON) with the "
       "most identities, under each defence"),
    Figure("incentives-plot", "incentives",
           "Utility against bid factor, Sybil gain against identities, revenue under collusion"),
    Table("incentives-collusion", "incentives", "collusion_by_defence", (
        Column("mechanism", "mechanism", align=LEFT),
        Column("ring size", "colluders", "{:,}"),
        Column("ring strategy", "strategy", align=LEFT),
        Column("ring gain µ", "gain_none", "{:,.0f}"),
        Column("ring gain µ, reserve", "gain_reserve", "{:,.0f}"),
        Column("revenue / truthful", "revenue_none", "{:.2f}"),
        Column("revenue / truthful, reserve", "revenue_reserve", "{:.2f}"),
    ), caption="Bid rotation in the one-shot analysis: the ring's gain (µ per tick, mean "
       "over seeds) and the seller's revenue over undefended truthful revenue, without and "
       "with the reserve (all-low rings: the JSON's collusion_by_defence)",
       where={"strategy": "rotation"}),
    Table("incentives-starts", "incentives", "worst_equilibrium", (
        Column("mechanism", "mechanism", align=LEFT),
        Column("worst start", "start", align=LEFT),
        Column("ended", "status", align=LEFT),
        Column("factor per bucket (low → high)", "factors_permille",
               lambda v: " ".join(f"{f / 1000:.2f}" for f in v), align=LEFT),
        Column("worst price of anarchy", "price_of_anarchy", "{:.4f}"),
    ), caption="The worst equilibrium found from four starting profiles (truthful; every "
       "bucket shading to 0.7; inflating to 1.3; a seeded random profile)"),
    Table("incentives-learning", "incentives", "learning", (
        Column("mechanism", "mechanism", align=LEFT),
        Column("revenue / Vickrey", "revenue_over_vickrey.mean", "{:.3f}"),
        Column("95 % interval", "revenue_over_vickrey.ci95",
               lambda v: f"{v[0]:.3f}–{v[1]:.3f}"),
        Column("mean bid factor", "mean_factor_permille.mean", lambda v: f"{v / 1000:.2f}"),
        Column("collusive games", "collusive_games", "{:,}"),
        Column("detected", "detected", "{:,}"),
        Column("false alarms", "false_alarms", "{:,}"),
        Column("games", "games", "{:,}"),
    ), caption="Q-learning bidders in the repeated game: revenue over the last rounds against "
       "truthful Vickrey revenue on the same values, and the seller's screen"),
    Value("sybil-sampled-none", "incentives", "sybil_by_defence[mechanism=sampled].none",
          "{:,.0f}"),
    Value("sybil-sampled-stake", "incentives", "sybil_by_defence[mechanism=sampled].stake",
          "{:,.0f}"),
    *(Value(f"col-sp-{m}-{key}", "incentives",
            f"collusion_by_defence[mechanism=second-price,colluders={m},strategy=rotation]"
            f".{field}", fmt)
      for m in (3, 10)
      for key, field, fmt in (("none", "gain_none", "{:,.0f}"),
                              ("reserve", "gain_reserve", "{:,.0f}"),
                              ("rev-reserve", "revenue_reserve", pct))),
    Value("learn-fp-revenue", "incentives",
          "learning[mechanism=first-price].revenue_over_vickrey.mean", pct),
    Value("learn-sp-revenue", "incentives",
          "learning[mechanism=second-price].revenue_over_vickrey.mean", pct),
    Value("learn-rounds", "incentives", "learning_config.rounds", "{:,}"),
    Value("learn-learners", "incentives", "learning_config.learners", "{:,}"),
    Value("learn-window", "incentives", "learning_config.window", "{:,}"),
    Value("learn-seeds", "incentives", "learning_config.seeds", "{:,}"),
    Table("incentives-widths", "incentives", "tier_widths", (
        Column("tier width", "width", money4),
        Column("tiers", "tiers", "{:,}"),
        Column("wrong winner", "error_rate", pct),
        Column("welfare / optimum", "welfare_ratio", "{:.4f}"),
        Column("max misreport gain µ", "misreport_gain", "{:,.0f}"),
        Column("Sybil gain µ", "sybil_gain.mean", "{:,.0f}"),
        Column("early-mover gain µ (FIFO)", "early_gain_fifo.mean", "{:,.0f}"),
        Column("(random order)", "early_gain_random.mean", "{:,.0f}"),
    ), caption="Tier width: allocation error, incentives to misreport, split and arrive "
       "early (µ per tick; Sybil gain with the most identities, no defence)"),
    Table("incentives-fairness", "incentives", "sampled_fairness", (
        Column("live bids L", "live", "{:,}"),
        Column("samples s", "samples", "{:,}"),
        Column("P(top loses)", "top_loses", "{:.4f}"),
        Column("measured", "top_loses_measured", "{:.4f}"),
        Column("E[rank − 1]", "mean_rank_minus_one", "{:.2f}"),
        Column("measured", "mean_rank_minus_one_measured", "{:.2f}"),
        Column("bound L/(s+1)", "rank_bound", "{:.2f}"),
        Column("max deviation", "max_deviation", "{:.4f}"),
    ), caption="The sampled book's unfairness: the closed form against sampled Vickrey "
       "auctions of distinct bids"),
)

DESIGN_SPEC = DocSpec(sources=SOURCES, items=(*ITEMS, *EXCHANGE_ITEMS))
"""Everything ``docs/design.template.md`` and the area notes may place."""

DOCUMENTS = tuple((f"{name}.template.md", f"{name}.md")
                  for name in ("design", "tick", "ring", "sim", "thermal", "incentives",
                               "clearing", "exchange", "scale-out"))
"""The documents ``make docs`` renders from this spec, as (template, output) in ``docs/``:
the design document and the area notes whose measurements it quotes. One run of each
source feeds them all, so no two documents quote different runs."""
