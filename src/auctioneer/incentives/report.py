"""Show an incentive experiment: rich tables on the terminal, the same tables as markdown.

Each table is built once as a :class:`Grid` (title, header, rows of text)
and rendered either way, so the terminal and the markdown file cannot
disagree. Money is shown in currency units per tick with four decimals
(the measurements are means of integer micro-units).

Example:
    >>> money(1_234_567.0)
    '$1.2346'
    >>> Grid("t", ("a", "b"), (("1", "2"),)).markdown().splitlines()[2:4]
    ['| a | b |', '|---|---|']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from auctioneer.incentives.experiment import IncentiveResult, run_experiment, steps
from auctioneer.incentives.market import MECHANISMS, IncentiveConfig
from auctioneer.incentives.stats import Interval
from auctioneer.measure import progress
from auctioneer.measure.progress import wide_console

__all__ = [
    "Grid",
    "equilibrium_grid",
    "fairness_grid",
    "grids",
    "learning_grid",
    "markdown_report",
    "money",
    "print_report",
    "report_console",
    "run_with_progress",
    "starts_grid",
    "widths_grid",
    "write_markdown",
]

_WIDTH = 180


@dataclass(frozen=True, slots=True)
class Grid:
    """A table: title, header, rows of cell text, and a caption."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""

    def rich(self) -> Table:
        """As a rich table (numbers right-aligned)."""
        table = Table(title=self.title, caption=self.caption or None, caption_justify="left")
        for i, name in enumerate(self.header):
            table.add_column(name, justify="left" if i == 0 else "right")
        for row in self.rows:
            table.add_row(*row)
        return table

    def markdown(self) -> str:
        """As a markdown section: a heading, the table, the caption."""
        lines = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |",
                 "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.caption:
            lines += ["", self.caption]
        return "\n".join(lines) + "\n"


def money(micros: float) -> str:
    """A mean amount of micro-units as currency units, four decimals."""
    text = f"${abs(micros) / 1e6:,.4f}"
    return f"-{text}" if micros < 0 and text != "$0.0000" else text


def _ci(i: Interval) -> str:
    return f"{money(i.mean)} ± {abs(i.half_width) / 1e6:,.4f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:,.1f}%"


def truthful_grid(result: IncentiveResult) -> Grid:
    """Truthful vs best-response utility per mechanism and value."""
    rows = tuple(
        (c.mechanism, money(c.value), _ci(c.truthful), f"{c.best_factor / 1000:.2f}",
         _ci(c.best), _ci(c.gain), _pct(c.relative_gain), _pct(c.truthful_share))
        for c in result.truthful
    )
    cfg = result.config
    return Grid(
        "Truthfulness: best response to truthful opponents",
        ("mechanism", "value", "U truthful", "best factor", "U best", "gain", "gain/U",
         "truthful BR"),
        rows,
        f"Utility per tick, mean ± 95% CI over {cfg.seeds} seeds x {cfg.rounds:,} auctions "
        f"against {cfg.opponents} opponents (values uniform {money(cfg.low)}..{money(cfg.high)}); "
        f"bids = value x factor over {len(cfg.factors)} factors "
        f"{cfg.factors[0] / 1000:g}..{cfg.factors[-1] / 1000:g}, same opponents for every "
        f"factor. truthful BR = share of seeds where no factor beats truth by more than "
        f"{money(cfg.tolerance)}.",
    )


def sybil_grid(result: IncentiveResult) -> Grid:
    """Sybil gain per mechanism and identity count, undefended."""
    ks = sorted({c.identities for c in result.sybil})
    rows = []
    for spec in MECHANISMS:
        cells = {c.identities: c for c in result.sybil
                 if c.mechanism == spec.name and c.mitigation == "none"}
        if not cells:
            continue
        top = cells[max(ks)]
        rows.append((spec.name, money(top.honest.mean), *(_ci(cells[k].gain) for k in ks),
                     _pct(top.relative_gain), top.best))
    return Grid(
        "Sybil: gain from splitting into k identities (no defence)",
        ("mechanism", "U one identity", *(f"gain k={k}" for k in ks), f"gain/U k={max(ks)}",
         f"best strategy k={max(ks)}"),
        tuple(rows),
        "Best utility with k identities minus best with one, per tick, mean ± 95% CI, "
        f"averaged over values {', '.join(money(v) for v in result.config.sybil_values)}. "
        "equal@f: every identity bids value x f/1000; shills@f: one does, the rest bid 0.",
    )


def collusion_grid(result: IncentiveResult) -> Grid:
    """Revenue and ring gain per mechanism, ring size and strategy, without and with reserve."""
    index = {(c.mechanism, c.mitigation, c.colluders, c.strategy): c for c in result.collusion}
    rows = []
    for spec in MECHANISMS:
        for m in result.config.colluders:
            for strategy in ("truthful", "rotation", "all-low"):
                plain = index[(spec.name, "none", m, strategy)]
                guarded = index[(spec.name, "reserve", m, strategy)]
                rows.append((spec.name, str(m), strategy, money(plain.revenue.mean),
                             _pct(plain.revenue_ratio), _ci(plain.ring_gain),
                             money(guarded.revenue.mean), _pct(guarded.revenue_ratio),
                             _ci(guarded.ring_gain)))
    return Grid(
        "Collusion: ring of m bidders, seller revenue and ring gain per tick",
        ("mechanism", "m", "ring", "revenue", "of truthful", "ring gain",
         "revenue +reserve", "of truthful", "ring gain +reserve"),
        tuple(rows),
        f"{result.config.bidders} bidders, ring = the first m. 'of truthful' = revenue over the "
        f"undefended truthful revenue. Reserve {money(result.config.reserve)}. Fee and "
        "reputation leave established rings unchanged (JSON has them).",
    )


def mitigation_grid(result: IncentiveResult) -> Grid:
    """Every defence against the worst Sybil and the largest all-low ring."""
    k, m = max(result.config.identities), max(result.config.colluders)
    sybil = {(c.mechanism, c.mitigation): c for c in result.sybil if c.identities == k}
    ring = {(c.mechanism, c.mitigation): c for c in result.collusion
            if c.colluders == m and c.strategy == "all-low"}
    names = list(dict.fromkeys(c.mitigation for c in result.sybil))
    def ring_cells(mechanism: str, name: str) -> tuple[str, str]:
        cell = ring.get((mechanism, name))
        return ("–", "–") if cell is None else (_pct(cell.revenue_ratio), _ci(cell.ring_gain))

    rows = tuple(
        (spec.name, name, _ci(sybil[(spec.name, name)].gain), *ring_cells(spec.name, name))
        for spec in MECHANISMS for name in names
    )
    cfg = result.config
    return Grid(
        "Mitigations",
        ("mechanism", "defence", f"Sybil gain k={k}", f"all-low revenue m={m}",
         f"all-low ring gain m={m}"),
        rows,
        f"reserve {money(cfg.reserve)}; identity fee {money(cfg.fee)} per identity per tick; "
        f"reputation: new identities queue last and enter a sampled draw with chance "
        f"{cfg.reputation / 10:g}%; stake: identities split one agent's capital and the book "
        "draws and orders by stake (not run against rings of equal-stake bidders). Revenue as "
        "a share of the undefended truthful revenue.",
    )


def thermal_grid(result: IncentiveResult) -> Grid:
    """Price per unit and units sold at each thermal multiplier."""
    mults = result.config.multipliers
    rows = tuple(
        (c.mechanism, *(f"{money(p.price_per_unit)} / {p.units_per_tick:.2f}" for p in c.points),
         "–" if c.response is None else f"x{c.response:.3f}", "yes" if c.aware else "no")
        for c in result.thermal
    )
    return Grid(
        "Thermal: price per unit / units per tick as the multiplier raises the reserve",
        ("mechanism", *(f"x{m}" for m in mults), "price response", "aware"),
        rows,
        f"Reserve (posted price) = {money(result.config.thermal_reserve)} x multiplier; "
        "truthful bidders. Proportional share has no reserve to raise.",
    )


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.4f}"


def equilibrium_grid(result: IncentiveResult) -> Grid:
    """Where iterated best response ended per mechanism: profile, welfare, PoA, revenue."""
    rows = []
    for c in result.equilibrium:
        status = {"converged": f"fixed point, round {c.rounds}",
                  "cycle": f"cycle of {c.cycle}, round {c.rounds}",
                  "capped": f"no fixed point in {c.rounds}"}[c.status]
        per = c.auctions
        rows.append((c.mechanism, status, " ".join(f"{f / 1000:.2f}" for f in c.factors),
                     money(c.welfare / per), money(c.optimum / per), _ratio(c.price_of_anarchy),
                     _ratio(c.truthful_ratio), money(c.revenue / per), _pct(c.revenue_ratio)))
    cfg = result.config
    edges = result.equilibrium[0].edges if result.equilibrium else ()
    return Grid(
        "Equilibrium: iterated best response among symmetric bidders, price of anarchy",
        ("mechanism", "ended", "factor per value bucket (low → high)", "welfare", "optimum",
         "PoA", "optimum/truthful", "revenue", "of Vickrey"),
        tuple(rows),
        f"All {cfg.bidders} bidders bid value x factor, one factor per value bucket "
        f"({', '.join(money(e) for e in edges)}), from the {len(cfg.factors)}-factor grid; "
        f"start truthful; each round every bucket moves halfway towards its best response "
        f"to the current profile unless that gains at most {money(cfg.tolerance)} per auction; "
        f"cap {cfg.equilibrium_rounds} rounds; {cfg.seeds} x {cfg.rounds:,} auctions replayed "
        "each round. Per tick: welfare = value of units won; optimum = units to the highest "
        "values; PoA = optimum / welfare at the profile reached; optimum/truthful = the same "
        "for truthful bids; revenue vs truthful k-unit Vickrey (VCG) on the same values.",
    )


def starts_grid(result: IncentiveResult) -> Grid:
    """The price of anarchy from every starting profile, and the worst per mechanism."""
    cells = result.equilibrium + result.equilibrium_starts
    starts = list(dict.fromkeys(c.start for c in cells))
    index = {(c.mechanism, c.start): c for c in cells}
    rows = []
    for w in result.worst_equilibrium:
        row = [w.mechanism]
        for start in starts:
            c = index[(w.mechanism, start)]
            row.append(f"{_ratio(c.price_of_anarchy)} ({c.status})")
        row += [w.start, _ratio(w.price_of_anarchy)]
        rows.append(tuple(row))
    return Grid(
        "Equilibrium from several starts: the worst price of anarchy",
        ("mechanism", *(f"PoA from {s}" for s in starts), "worst from", "worst PoA"),
        tuple(rows),
        "Iterated best response as in the equilibrium table from each starting profile "
        "(shaded: every bucket at the grid factor nearest 0.7; inflated: nearest 1.3; random: "
        "a seeded random profile). Worst: the largest PoA among runs that reached a fixed "
        "point or a cycle.",
    )


def learning_grid(result: IncentiveResult) -> Grid:
    """Learning bidders in the repeated game: revenue and detection per mechanism."""
    lc = result.learning_config
    rows = tuple(
        (c.mechanism, f"{c.revenue_ratio.mean:.3f} ± {c.revenue_ratio.half_width:.3f}",
         f"{c.mean_factor.mean / 1000:.2f}", f"{c.collusive}/{c.games}",
         f"{c.detected}/{c.collusive}", f"{c.false_alarms}/{c.games - c.collusive}")
        for c in result.learning
    )
    return Grid(
        "Collusion as a repeated game: Q-learning bidders",
        ("mechanism", "revenue / Vickrey", "mean bid factor", "collusive games",
         "detected", "false alarms"),
        rows,
        f"{lc.learners} learners with fixed private values, {lc.rounds:,} rounds, "
        f"{lc.seeds} games; epsilon-greedy over {len(lc.factors)} factors "
        f"{lc.factors[0] / 1000:g}..1, step {lc.alpha_pm / 1000:g}, exploration x"
        f"{1 - lc.decay_ppm / 1e6:.6f} per round. Revenue over the last {lc.window:,} rounds. "
        f"Collusive: revenue more than {lc.margin_pm / 10:g}% below truthful Vickrey; the "
        "screen flags revenue that far below the Vickrey revenue of each bidder's highest "
        "bid so far.",
    )


def widths_grid(result: IncentiveResult) -> Grid:
    """The tier-width sweep."""
    rows = tuple(
        (money(c.width), str(c.tiers), _pct(c.error_rate), f"{c.welfare_ratio:.5f}",
         money(c.misreport_gain), _ci(c.sybil_gain), _ci(c.early_gain))
        for c in result.widths
    )
    k = result.widths[0].identities if result.widths else 0
    return Grid(
        "Tier width: allocation error, misreport, Sybil and early-mover gains",
        ("tier width", "tiers", "wrong winner", "welfare / optimum", "max misreport gain",
         f"Sybil gain k={k}", "early-mover gain (FIFO)"),
        rows,
        "Vickrey on a linear tier book, FIFO within a tier; values moved to mid-tier. The "
        "early-mover gain is zero by construction when a tier is served in random order, "
        "whose Sybil gain equals the column shown.",
    )


def fairness_grid(result: IncentiveResult) -> Grid:
    """The sampled book's unfairness: formula against measurement."""
    rows = tuple(
        (f"{c.live:,}", f"{c.samples:,}", f"{c.top_loses:.4f}", f"{c.top_loses_measured:.4f}",
         f"{c.mean_rank_minus_one:.2f}", f"{c.mean_rank_measured:.2f}", f"{c.rank_bound:.2f}",
         f"{c.max_deviation:.4f}", "yes" if c.consistent else "no")
        for c in result.fairness
    )
    return Grid(
        "Sampled book: how unfair, bound against measurement",
        ("live bids L", "samples s", "P(top loses)", "measured", "mean rank - 1", "measured",
         "bound L/(s+1)", "max |freq - formula|", "within 5 SE"),
        rows,
        "P(rank r wins) = (1-(r-1)/L)^s - (1-r/L)^s; measured over sampled Vickrey auctions "
        "of distinct bids through the experiments' vectorised rule.",
    )


def matrix_grid(result: IncentiveResult) -> Grid:
    """The seed's comparison matrix, every cell measured."""
    rows = []
    for r in result.matrix:
        cost = r.cost
        time_cell = "not measured" if cost is None else (
            f"{cost.p99_ns:,.0f} ns p99 ({cost.timer}, N={cost.n:,})"
            + ("" if cost.growth is None else f"; ~N^{cost.growth:.2f}"))
        space = "not measured" if cost is None else f"{cost.bytes_per_agent:,.1f} B/agent"
        truthful = (f"{100 * r.truthful.truthful_share:.0f}% BR; max gain "
                    f"{money(r.truthful.max_gain)}")
        sybil = "–" if r.sybil is None else f"{_ci(r.sybil.gain)} (k={r.sybil.identities})"
        thermal = ("yes" if r.thermal.aware else "no") + (
            "" if r.thermal.response is None else f" (price x{r.thermal.response:.3f} at "
            f"x{result.config.multipliers[-1]})")
        lines = f"{r.lines.c_lines} C / {r.lines.python_lines} Py"
        poa = "–" if r.equilibrium is None else (
            f"{_ratio(r.equilibrium.price_of_anarchy)} ({r.equilibrium.status})")
        rows.append((r.structure, r.mechanism, time_cell, space, truthful, sybil, poa, thermal,
                     lines))
    return Grid(
        "Mechanism comparison matrix (measured)",
        ("structure", "mechanism", "time", "space", "truthful?", "Sybil gain",
         "price of anarchy", "thermal-aware?", "impl. lines"),
        tuple(rows),
        f"Time and space: {result.tick_bench_source}. Truthful: share of (value, seed) cells "
        "where truthful bidding is a best response, and the largest mean gain from "
        "misreporting. Price of anarchy: optimal / equilibrium welfare at the worst profile "
        "iterated best response reached from several starts (see the starts table). "
        "Thermal: the price responds to the multiplier through the reserve. "
        "Lines: code lines of the structure's C functions and their callees, and of its "
        "Python reference class.",
    )


def grids(result: IncentiveResult) -> tuple[Grid, ...]:
    """Every table of the report, in order."""
    return (matrix_grid(result), truthful_grid(result), sybil_grid(result),
            collusion_grid(result), mitigation_grid(result), thermal_grid(result),
            equilibrium_grid(result), starts_grid(result), learning_grid(result),
            widths_grid(result), fairness_grid(result))


def report_console() -> Console:
    """The terminal, or a wide console when redirected."""
    return wide_console(_WIDTH)


def run_with_progress(config: IncentiveConfig, console: Console, tick_bench: dict[str, Any]
                      | None, source: str) -> IncentiveResult:
    """Run the experiment under a rich progress bar on ``console``."""
    def run(step: Callable[[str], None]) -> IncentiveResult:
        return run_experiment(config, tick_bench, step, source)

    return progress.run_with_progress(
        "experiment incentives", steps(config, tick_bench is not None), run, console)


def print_report(result: IncentiveResult, console: Console) -> None:
    """Every table, then the run's time."""
    for grid in grids(result):
        console.print(grid.rich())
        console.print()
    console.print(f"seed {result.config.seed}, {result.elapsed_s:.1f} s")


def markdown_report(result: IncentiveResult) -> str:
    """The whole report as markdown."""
    cfg = result.config
    head = (f"## Incentive experiments\n\nCommand: `auctioneer experiment incentives --seed "
            f"{cfg.seed} --rounds {cfg.rounds}{' --quick' if cfg.quick else ''}` "
            f"({result.elapsed_s:.1f} s).\n")
    return "\n".join([head, *(g.markdown() for g in grids(result))])


def write_markdown(result: IncentiveResult, path: Path) -> None:
    """Write :func:`markdown_report` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown_report(result), encoding="utf-8")
