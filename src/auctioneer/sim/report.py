"""A run's outputs: the markdown report, ``metrics.json`` and PNG plots over time.

``write_outputs(result, out_dir)`` writes ``report.md``, ``metrics.json``
and four plots -- ``temperatures.png`` (true die and chassis temperatures
with the target and limit), ``multipliers.png`` (the PID feedback and the
coupled CPU and GPU multipliers), ``prices.png`` (CPU clearing price and
reserve, GPU reserve) and ``allocations.png`` (CPU quanta per tick split
into GPU-feeding and background, GPU milliseconds per dispatch). Per-tick
series are averaged into at most :data:`POINTS` bins so a 100,000-tick run
plots quickly and legibly.

Example:
    >>> from auctioneer.sim.scenario import EXAMPLE, load_scenario
    >>> from auctioneer.sim.run import simulate
    >>> text = markdown(simulate(load_scenario(EXAMPLE), seed=1))
    >>> text.splitlines()[0]
    '# Simulation: tiny (seed 1)'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.measure.record import write_json
from auctioneer.money import format_money
from auctioneer.sim.run import COOL_X, GPU_FULL, HOT_X, LOOP_BAND_C, SimResult
from auctioneer.sim.scenario import Scenario

__all__ = ["POINTS", "binned", "flat_feedback_note", "markdown", "write_outputs", "write_plots"]

POINTS = 1000
"""Most points a per-tick series is drawn with."""


def binned(values: npt.NDArray[np.int64] | npt.NDArray[np.float64],
           points: int = POINTS) -> npt.NDArray[np.float64]:
    """Means of consecutive equal bins, at most ``points`` of them (the tail bin may be short).

    Example:
        >>> binned(np.arange(10), 5).tolist()
        [0.5, 2.5, 4.5, 6.5, 8.5]
    """
    data = np.asarray(values, dtype=np.float64)
    if data.size <= points:
        return data
    width = -(-data.size // points)
    pad = (-data.size) % width
    sums = np.add.reduceat(data, np.arange(0, data.size, width))
    counts = np.full(sums.size, width, dtype=np.float64)
    counts[-1] = width - pad
    return sums / counts


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def markdown(result: SimResult) -> str:
    """The run as a markdown report: scenario, figures, and what each figure means."""
    sc, m = result.scenario, result.metrics
    cls = ", ".join(f"{c.name} ({c.share:.0%}{', GPU-feeding' if c.gpu_feeding else ''})"
                    for c in sc.agents.classes)
    churn = ("no churn" if sc.agents.lifetime_s is None else
             f"agents stay {sc.agents.lifetime_s:g} s on average, slots empty "
             f"{sc.agents.gap_s:g} s")
    rows = [
        ("CPU quanta sold / supply", f"{m.quanta_sold:,} / {m.quanta_supply:,} "
         f"({_pct(m.quanta_sold / m.quanta_supply if m.quanta_supply else 0)})"),
        ("CPU welfare / offline optimum", f"{format_money(m.cpu_welfare)} / "
         f"{format_money(m.cpu_optimum)}"),
        ("Allocation efficiency (vs top-k per tick)", f"{m.efficiency:.4f}"),
        ("Allocative efficiency (vs top-m, m = quanta sold)", f"{m.allocative_efficiency:.6f}"),
        ("GPU welfare / optimum (exact, reserve ignored)", f"{format_money(m.gpu_welfare)} / "
         f"{format_money(m.gpu_optimum)} = {m.gpu_efficiency:.4f}"),
        ("Revenue: CPU + GPU", f"{format_money(m.cpu_revenue)} + {format_money(m.gpu_revenue)}"
         f" = {format_money(m.revenue)}"),
        ("Gini of CPU quanta (agents with demand)", f"{m.gini:.3f} over "
         f"{m.agents_with_demand:,} agents"),
        ("GPU-feeding share of CPU quanta: all ticks", _pct(m.feeder_share)),
        (f"... hot ticks (reserve >= {HOT_X}x base; {m.hot_ticks:,} ticks)",
         _pct(m.feeder_share_hot)),
        (f"... cool ticks (reserve < {COOL_X}x base)", _pct(m.feeder_share_cool)),
        ("GPU ms sold / supply", f"{m.gpu_ms_sold:,} / {m.gpu_ms_supply:,} "
         f"({m.dispatches:,} dispatches)"),
        ("CPU die: mean / variance / max", f"{m.cpu_temp_mean:.2f} C / {m.cpu_temp_var:.3f} K² / "
         f"{m.cpu_temp_max:.2f} C"),
        ("GPU die: mean / variance / max", f"{m.gpu_temp_mean:.2f} C / {m.gpu_temp_var:.3f} K² / "
         f"{m.gpu_temp_max:.2f} C"),
        (f"Time above {sc.thermal.limit_c:g} C: CPU / GPU", f"{m.cpu_above_s:g} s / "
         f"{m.gpu_above_s:g} s"),
        (f"CPU die at its {sc.thermal.target_c:g} C target (within {LOOP_BAND_C:g} K) from",
         "never: the PID stayed at 1x" if m.target_reached_s is None
         else f"{m.target_reached_s:.1f} s"),
        ("Overshoot / settling time / crossings",
         f"{m.overshoot_c:.2f} K / " + ("not settled" if m.settling_s is None
                                        else f"{m.settling_s:.1f} s") + f" / {m.crossings}"),
        ("CPU reserve multiple (coupling x PID, capped): min / max; PID max",
         f"{m.multiplier_min:.2f}x / {m.multiplier_max:.2f}x; {m.pid_max:.2f}x"),
        ("Ticks at the multiplier cap", _pct(m.cap_share)),
        (f"GPU-feeding share of CPU quanta with the GPU >= {GPU_FULL:.0%} busy "
         f"({m.gpu_full_ticks:,} ticks)", _pct(m.feeder_share_gpu_full)),
        ("Auction overhead (tick core), share of the tick: mean / p50 / p99",
         f"{_pct(m.overhead_mean)} / {_pct(m.overhead_p50)} / {_pct(m.overhead_p99)}"),
        ("Simulator tick handler (auction + bookkeeping), share of the tick: mean / p50 / p99",
         f"{_pct(m.handler_mean)} / {_pct(m.handler_p50)} / {_pct(m.handler_p99)}"),
        ("Events; loop wall time; speed", f"{m.events:,}; {m.loop_s:.3f} s; "
         f"{m.speed:.1f}x real time"),
        ("Trace hash", f"`{m.trace}`"),
    ]
    lines = [
        f"# Simulation: {sc.name} (seed {result.seed})", "",
        sc.description or "", "",
        f"{sc.duration_s:g} s of host time. CPU: {sc.cpu.tick_hz:,} Hz tick, {sc.cpu.cores} "
        f"cores, {sc.cpu.structure}, {_policy(sc)}, reserve "
        f"{format_money(sc.cpu.reserve)} per quantum at 1x. GPU: {sc.gpu.dispatch_hz} Hz "
        f"dispatch, {sc.gpu.memory_gib} GiB, reserve {format_money(sc.gpu.reserve)} per ms at 1x. "
        f"Sensors {sc.thermal.sensor_hz} Hz, noise {sc.thermal.noise_c:g} C, delay "
        f"{sc.thermal.delay_ms:g} ms; target {sc.thermal.target_c:g} C, limit "
        f"{sc.thermal.limit_c:g} C. {sc.agents.count:,} agent slots: {cls}; {churn}.", "",
        "| Figure | Value |", "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows), "",
        "Efficiency is welfare (true values of the quanta sold) over the offline optimum on "
        "the recorded demand: per tick, the k highest values among the agents bidding then "
        "(exact for unit demand). It counts what the thermal reserve withholds; the allocative "
        "figure compares with the best choice of as many quanta as were sold, so only the "
        "ranking (tiers, sampling) can lower it. Auction overhead is the time inside the tick "
        "core per tick -- the select and the mechanism, plus the book updates and expiries "
        "since the last tick, each timed from Python around the native call -- over the tick "
        "period; the tick handler row is the simulator's whole tick (the auction plus its own "
        "bookkeeping), a cost of simulating, not of the auction.", "",
        "Plots: `temperatures.png`, `multipliers.png`, `prices.png`, `allocations.png`.", "",
        "| Class | Share of CPU quanta | Paid per second |", "|---|---|---|",
        *(f"| {c.name} | {_pct(share)} | {format_money(round(paid / sc.duration_s))} |"
          for c, share, paid in zip(sc.agents.classes, m.class_share, m.class_paid,
                                    strict=True)), "",
    ]
    return "\n".join(lines)


def _policy(sc: Scenario) -> str:
    if sc.cpu.policy != "fair-share":
        return sc.cpu.mechanism.value
    fs = sc.cpu.fair_share
    return (f"fair share (weight {fs.free_weight:,} + bid up to {format_money(fs.max_bid)}, "
            f"budget window {fs.window_ns / 1e9:g} s)")


def flat_feedback_note(feedback: Any, cpu_die_c: Any, target_c: float) -> str | None:
    """Why the PID feedback line is flat, when it never left 1.0x (else None).

    The controller's floor is 1.0x: it raises the price only while the CPU
    die is above its target, so a run that stays cool draws a flat line that
    needs its reason on the chart.
    """
    if len(feedback) == 0 or not feedback.min() == feedback.max() == 1.0:
        return None
    return (f"PID feedback stays at 1.0x: the CPU die peaked at {cpu_die_c.max():.1f} °C, "
            f"below its {target_c:g} °C target\n(the controller raises the price only above "
            "the target; the couplings follow the GPU die)")


def write_plots(result: SimResult, out_dir: Path) -> list[Path]:
    """The four PNGs over simulated time; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, sc = result.series, result.scenario
    th = s.thermal
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def save(fig: Any, name: str, title: str) -> None:
        fig.suptitle(f"{sc.name} (seed {result.seed}): {title}")
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)

    fig, ax = plt.subplots(figsize=(10, 4))
    for col, label in ((1, "CPU die"), (2, "GPU die"), (3, "chassis")):
        ax.plot(th[:, 0], th[:, col], label=label)
    ax.axhline(sc.thermal.target_c, color="grey", linestyle=":", label="CPU target")
    ax.axhline(sc.thermal.limit_c, color="red", linestyle="--", label="limit")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("°C")
    ax.legend(loc="best")
    save(fig, "temperatures.png", "temperatures")

    fig, ax = plt.subplots(figsize=(10, 4))
    for col, label in ((6, "PID feedback"), (7, "CPU coupling"), (8, "GPU coupling")):
        ax.step(th[:, 0], th[:, col], where="post", label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("multiplier (x)")
    ax.legend(loc="best")
    note = flat_feedback_note(th[:, 6], th[:, 1], sc.thermal.target_c)
    if note is not None:
        ax.annotate(note, xy=(0.99, 0.2), xycoords="axes fraction", ha="right", va="bottom",
                    fontsize="small", color="tab:blue",
                    bbox={"boxstyle": "round", "fc": "white", "ec": "tab:blue", "alpha": 0.9})
    save(fig, "multipliers.png", "price multipliers")

    t = binned(s.tick_s)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    top.plot(t, binned(s.price) / 1e6, label="CPU clearing price (per quantum)")
    top.plot(t, binned(s.reserve) / 1e6, label="CPU reserve (per quantum)")
    top.set_ylabel("$")
    top.legend(loc="best")
    bottom.step(s.dispatch_s, s.gpu_reserve / 1e6, where="post", label="GPU reserve (per ms)")
    bottom.set_ylabel("$")
    bottom.set_xlabel("time (s)")
    bottom.legend(loc="best")
    save(fig, "prices.png", "prices")

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    fed = binned(s.feed_sold)
    top.stackplot(t, fed, binned(s.sold) - fed, labels=("GPU-feeding", "background"))
    top.axhline(sc.cpu.cores, color="grey", linestyle=":", label="cores")
    top.set_ylabel("CPU quanta per tick")
    top.legend(loc="best")
    bottom.plot(s.dispatch_s, s.gpu_sold_ms, label="GPU ms sold per dispatch")
    bottom.set_ylabel("ms")
    bottom.set_xlabel("time (s)")
    bottom.legend(loc="best")
    save(fig, "allocations.png", "allocations")
    return paths


def write_outputs(result: SimResult, out_dir: Path) -> list[Path]:
    """``report.md``, ``metrics.json`` and the plots in ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.md"
    report.write_text(markdown(result), encoding="utf-8")
    metrics = out_dir / "metrics.json"
    data = {"scenario": result.scenario.name, "seed": result.seed,
            **result.metrics.as_dict()}
    write_json(data, metrics)
    return [report, metrics, *write_plots(result, out_dir)]
