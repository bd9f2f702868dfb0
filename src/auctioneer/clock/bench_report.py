"""Show a clock benchmark: a progress bar while it runs, then tables, target lines and a plot.

The measuring is :mod:`auctioneer.clock.bench`, apart from this for the reason
:mod:`auctioneer.measure.benchmark` gives.
"""

from __future__ import annotations

from pathlib import Path
from statistics import median

from rich.console import Console
from rich.table import Table

from auctioneer.clock.bench import (
    BIG_TARGET_S,
    PAPER_TARGET_S,
    ClockBenchResult,
    run_clock_bench,
)
from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets
from auctioneer.money import format_money

__all__ = [
    "BENCHMARK",
    "modes_table",
    "print_report",
    "results_table",
    "welfare_table",
    "write_plot",
]


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f}"


def _time(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.2f} s"


def results_table(result: ClockBenchResult) -> Table:
    """One row per market size: rounds, time, time per round, memory, winners, status."""
    table = Table(
        title=f"Clock auction, relative steps (median of up to {result.config.repeats} runs; "
        "runs over 1 s once)",
        caption="time = one whole run (all rounds, proxies + step), market building not "
        "counted. Peak = tracemalloc peak during one run beyond the market's own arrays.",
        caption_justify="left",
        header_style="bold",
    )
    for header in ("Users", "Pools", "Clusters x types", "Rounds", "Time", "Per round",
                   "Generate", "Peak MiB", "Market MiB", "Winners", "Status"):
        table.add_column(header, justify="right")
    for c in result.cells:
        status = c.status if c.feasible else f"[red]{c.status} (infeasible)[/red]"
        table.add_row(f"{c.users:,}", f"{c.pools:,}", f"{c.clusters} x {c.resources}",
                      f"{c.rounds:,}", _time(c.seconds), f"{c.per_round_s * 1000:,.2f} ms",
                      _time(c.generate_s), _mib(c.peak_bytes), _mib(c.market_bytes),
                      f"{c.winners:,}", status)
    return table


def modes_table(result: ClockBenchResult) -> Table:
    """Each step mode's default rule: rounds and time at each size."""
    table = Table(title="Step modes (each mode's default rule)", header_style="bold")
    for header in ("Size", "Mode", "Rule", "Rounds", "Time", "Winners", "Status"):
        table.add_column(header, justify="left" if header in ("Mode", "Rule") else "right")
    last = None
    for m in result.modes:
        size = (m.users, m.pools)
        if last is not None and size != last:
            table.add_section()
        last = size
        status = m.status if m.feasible else f"[red]{m.status}[/red]"
        table.add_row(f"{m.users:,} x {m.pools:,}", m.mode, m.rule, f"{m.rounds:,}",
                      _time(m.seconds), f"{m.winners:,}", status)
    return table


def welfare_table(result: ClockBenchResult) -> Table:
    """The welfare ratio over the small instances: median, min, and the worst instances."""
    ratios = result.welfare_ratios()
    table = Table(title="Welfare and revenue, clock vs clock + proxy "
                  f"({len(result.welfare)} markets of "
                  "12 users x 8 pools)", header_style="bold")
    for header in ("Seed", "Status", "Clock welfare", "Optimum", "Ratio", "Proxy ratio",
                   "Clock revenue", "Proxy revenue", "VCG revenue", "Core"):
        table.add_column(header, justify="right")
    worst = sorted(result.welfare, key=lambda w: (w.ratio is None, w.ratio or 0.0))[:5]
    for w in worst:
        table.add_row(str(w.seed), w.status if w.feasible else f"[red]{w.status}[/red]",
                      format_money(w.clock), format_money(w.optimum) + ("" if w.proven else "*"),
                      "-" if w.ratio is None else f"{w.ratio:.3f}",
                      "-" if w.proxy_ratio is None else f"{w.proxy_ratio:.4f}",
                      format_money(w.clock_revenue), format_money(w.proxy_revenue),
                      "-" if w.vcg_revenue is None else format_money(w.vcg_revenue),
                      "certified" if w.core_certified else "[red]no[/red]")
    if ratios:
        proxy = result.proxy_ratios() or [0.0]
        table.caption = (f"The 5 lowest clock ratios shown. Clock: median {median(ratios):.3f}, "
                         f"min {min(ratios):.3f}, {sum(r >= 0.999999 for r in ratios)} of "
                         f"{len(ratios)} optimal (the clock finds prices, not the optimum). "
                         f"Clock + proxy round: median {median(proxy):.4f}, min "
                         f"{min(proxy):.4f}. Revenue: what users pay, core-selecting "
                         "payments for the proxy round.")
        table.caption_justify = "left"
    return table


def print_report(result: ClockBenchResult, console: Console) -> None:
    """The environment line, the tables and the target lines."""
    env = result.environment
    console.print(env.header("bench clock", f"numpy {env.numpy}", f"{result.elapsed_s:.1f} s"))
    console.print(results_table(result))
    if result.modes:
        console.print(modes_table(result))
    if result.welfare:
        console.print(welfare_table(result))
    for p in result.python:
        console.print(
            f"Pure Python (one user at a time) at {p.users:,} x {p.pools:,}: "
            f"{_time(p.seconds)} against {_time(p.engine_seconds)} vectorised "
            f"({p.seconds / p.engine_seconds:,.0f}x); same prices and choices: "
            + ("[green]yes[/green]" if p.agree else "[red]NO[/red]"), highlight=False)
    print_targets(console, result.targets)


def write_plot(result: ClockBenchResult, path: Path) -> None:
    """A PNG: time per round, rounds to converge, and total time against market size."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 4.8), layout="constrained")
    per_round, rounds, total = fig.subplots(1, 3)
    by_pools: dict[int, list[tuple[int, float, int, float]]] = {}
    for c in result.cells:
        by_pools.setdefault(c.pools, []).append((c.users, c.per_round_s, c.rounds, c.seconds))
    for pools, rows in sorted(by_pools.items()):
        rows.sort()
        users = [r[0] for r in rows]
        label = f"{pools:,} pools"
        per_round.plot(users, [r[1] * 1000 for r in rows], marker="o", label=label)
        rounds.plot(users, [r[2] for r in rows], marker="o", label=label)
        total.plot(users, [r[3] for r in rows], marker="o", label=label)
    per_round.set_ylabel("ms per round (log)")
    per_round.set_title("Time per round")
    rounds.set_ylabel("rounds")
    rounds.set_title("Rounds to converge (relative steps)")
    total.axhline(PAPER_TARGET_S, color="tab:green", linestyle=":",
                  label=f"{PAPER_TARGET_S:g} s (paper size target)")
    total.axhline(BIG_TARGET_S, color="tab:red", linestyle=":",
                  label=f"{BIG_TARGET_S:g} s (100k x 1k target)")
    total.set_ylabel("seconds per auction (log)")
    total.set_title("Whole auction")
    for ax in (per_round, rounds, total):
        ax.set_xscale("log")
        ax.set_xlabel("users (log)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    per_round.set_yscale("log")
    total.set_yscale("log")
    write_png(fig, path, dpi=100)


BENCHMARK = Benchmark("bench clock", 160, run_clock_bench, print_report, write_plot)
