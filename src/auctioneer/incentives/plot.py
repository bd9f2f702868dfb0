"""Plot an incentive experiment: utility against bid factor, Sybil gain against k, ring revenue.

Every plotted number is read from an
:class:`~auctioneer.incentives.experiment.IncentiveResult` (the same cells
the tables and the JSON show), nothing is recomputed: the ``*_series``
functions pick the series out, :func:`write_plot` draws them. matplotlib is
imported only to draw, with its object API and the Agg canvas (no pyplot,
no GUI backend).

Example:
    >>> from auctioneer.incentives import IncentiveConfig, run_experiment
    >>> config = IncentiveConfig.build(quick=True, rounds=20)
    >>> result = run_experiment(config, tick_bench={"results": []})
    >>> representative_value(result)
    825000
    >>> curve = utility_series(result)[0]
    >>> curve.mechanism, curve.factors[curve.factors.index(1000)], len(curve.utility)
    ('first-price', 1000, 11)
    >>> [(s.mechanism, s.identities) for s in sybil_series(result, "none")][1]
    ('second-price', (2, 4))
    >>> [(b.strategy, b.colluders) for b in revenue_bars(result)]
    [('rotation', 3), ('all-low', 3)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auctioneer.incentives.collusion import STRATEGIES
from auctioneer.incentives.experiment import IncentiveResult
from auctioneer.incentives.stats import Interval
from auctioneer.incentives.sybil import mitigations

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import SubFigure

__all__ = [
    "RevenueBars",
    "SybilSeries",
    "UtilityCurve",
    "fee_mitigation",
    "representative_value",
    "revenue_bars",
    "sybil_series",
    "utility_series",
    "write_plot",
]

_DOLLAR = 1e6
"""Micro-units per currency unit: the plot shows dollars per tick."""


@dataclass(frozen=True, slots=True)
class UtilityCurve:
    """One mechanism's expected utility at each bid factor, for one agent value."""

    mechanism: str
    value: int
    factors: tuple[int, ...]
    """Bid factors, per mille of value (1000 = truthful)."""
    utility: tuple[float, ...]
    """Mean utility per tick at each factor, micro-units (the cell's ``curve``)."""
    truthful: float
    best_factor: int
    best: float
    """Mean utility at the best response."""


@dataclass(frozen=True, slots=True)
class SybilSeries:
    """One mechanism's Sybil gain at each identity count, under one defence."""

    mechanism: str
    mitigation: str
    identities: tuple[int, ...]
    gain: tuple[Interval, ...]
    """Micro-units per tick, mean and 95 % interval over seeds."""


@dataclass(frozen=True, slots=True)
class RevenueBars:
    """Seller revenue against one ring (size and strategy), per mechanism and defence."""

    colluders: int
    strategy: str
    mechanisms: tuple[str, ...]
    mitigations: tuple[str, ...]
    ratio: tuple[tuple[float, ...], ...]
    """``ratio[i][j]``: revenue under mechanism i and defence j over the undefended
    truthful revenue."""
    truthful: tuple[tuple[float, ...], ...]
    """The same for truthful bidders (no ring) under the same defence."""


def representative_value(result: IncentiveResult) -> int:
    """The agent value nearest the middle of the value range (the lower one on a tie)."""
    middle = (result.config.low + result.config.high) / 2
    return min(result.config.values, key=lambda v: (abs(v - middle), v))


def utility_series(result: IncentiveResult, value: int | None = None
                   ) -> tuple[UtilityCurve, ...]:
    """Per mechanism, in run order: utility by bid factor at ``value`` (default representative)."""
    value = representative_value(result) if value is None else value
    factors = result.config.factors
    return tuple(
        UtilityCurve(c.mechanism, c.value, factors, c.curve, c.truthful.mean, c.best_factor,
                     c.best.mean)
        for c in result.truthful if c.value == value
    )


def fee_mitigation(result: IncentiveResult) -> str:
    """The name of the defence that charges a fee per identity."""
    return next(m.name for m in mitigations(result.config) if m.fee)


def sybil_series(result: IncentiveResult, mitigation: str) -> tuple[SybilSeries, ...]:
    """Per mechanism, in run order: the gain at each identity count under ``mitigation``."""
    names = dict.fromkeys(c.mechanism for c in result.sybil)
    out = []
    for name in names:
        cells = sorted((c for c in result.sybil
                        if c.mechanism == name and c.mitigation == mitigation),
                       key=lambda c: c.identities)
        if cells:
            out.append(SybilSeries(name, mitigation, tuple(c.identities for c in cells),
                                   tuple(c.gain for c in cells)))
    return tuple(out)


def revenue_bars(result: IncentiveResult) -> tuple[RevenueBars, ...]:
    """Per ring size, then per ring strategy (truthful is the baseline, not a ring)."""
    cells = {(c.mechanism, c.mitigation, c.colluders, c.strategy): c for c in result.collusion}
    mechanisms = tuple(dict.fromkeys(c.mechanism for c in result.collusion))
    defences = tuple(dict.fromkeys(c.mitigation for c in result.collusion))

    def ratios(m: int, strategy: str) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(cells[(name, d, m, strategy)].revenue_ratio for d in defences)
                     for name in mechanisms)

    return tuple(
        RevenueBars(m, strategy, mechanisms, defences, ratios(m, strategy),
                    ratios(m, "truthful"))
        for m in result.config.colluders for strategy in STRATEGIES if strategy != "truthful"
    )


def _utility_panel(ax: Axes, curve: UtilityCurve, color: object) -> None:
    x = [f / 1000 for f in curve.factors]
    y = [u / _DOLLAR for u in curve.utility]
    ax.plot(x, y, color=color, marker=".", markersize=3, linewidth=1.2)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.plot([1.0], [curve.truthful / _DOLLAR], "o", color="black",
            label=f"truthful: ${curve.truthful / _DOLLAR:,.4f}")
    ax.plot([curve.best_factor / 1000], [curve.best / _DOLLAR], "*", color="red",
            markersize=12, label=f"best x{curve.best_factor / 1000:.2f}: "
            f"${curve.best / _DOLLAR:,.4f}")
    # Linear around the peak, logarithmic down the overbidding tail, which runs to
    # minus dollars while the gains are fractions of a cent; under 100 micro-units a
    # tick is noise. A threshold on a decade keeps decade ticks out of the linear part.
    top = max(abs(curve.best), abs(curve.truthful), 100.0) / _DOLLAR
    ax.set_yscale("symlog", linthresh=10.0 ** math.floor(math.log10(top)), linscale=1.5)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks([0.25, 0.5, 1, 2, 4], ["0.25", "0.5", "1", "2", "4"])
    ax.set_title(f"{curve.mechanism}  (value ${curve.value / _DOLLAR:.3f})", fontsize="medium")
    ax.set_xlabel("bid / value (log)")
    ax.set_ylabel("utility, $ per tick (symlog)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="x-small", loc="lower left")


def _sybil_panel(ax: Axes, series: tuple[SybilSeries, ...], colors: dict[str, object],
                 title: str) -> None:
    for i, s in enumerate(series):
        # A small sideways step per mechanism keeps overlapping intervals apart.
        dodge = 2 ** (0.04 * (i - (len(series) - 1) / 2))
        x = [k * dodge for k in s.identities]
        y = [g.mean / _DOLLAR for g in s.gain]
        err = [[(g.mean - g.low) / _DOLLAR for g in s.gain],
               [(g.high - g.mean) / _DOLLAR for g in s.gain]]
        ax.errorbar(x, y, yerr=err, color=colors[s.mechanism], marker="o", markersize=4,
                    capsize=3, linewidth=1.2, label=s.mechanism)
    ks = sorted({k for s in series for k in s.identities})
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.minorticks_off()
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("identities k (log)")
    ax.set_ylabel("gain over one identity, $ per tick (symlog)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)


def _revenue_panel(ax: Axes, bars: RevenueBars, colors: Sequence[object]) -> None:
    width = 0.8 / len(bars.mitigations)
    for j, name in enumerate(bars.mitigations):
        x = [i + (j + 0.5) * width - 0.4 for i in range(len(bars.mechanisms))]
        ax.bar(x, [100 * r[j] for r in bars.ratio], width, color=colors[j], label=name)
        ax.plot(x, [100 * r[j] for r in bars.truthful], "_", color="black", markersize=9,
                markeredgewidth=1.5, label="no ring (same defence)" if j == 0 else None)
    ax.axhline(100.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(bars.mechanisms)), bars.mechanisms, rotation=30, ha="right")
    ax.set_ylabel("revenue, % of undefended truthful")
    ax.set_title(f"{bars.strategy} ring of m={bars.colluders}", fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)


def _figure_rows(result: IncentiveResult) -> tuple[int, int]:
    """Rows of utility panels (three per row) and of revenue panels (one per ring size)."""
    return -(-len(utility_series(result)) // 3), len(result.config.colluders)


def _draw_utility(fig: SubFigure, result: IncentiveResult, palette: dict[str, object]) -> None:
    curves = utility_series(result)
    rows = _figure_rows(result)[0]
    axes = fig.subplots(rows, 3, squeeze=False).ravel()
    for ax, curve in zip(axes, curves, strict=False):
        _utility_panel(ax, curve, palette[curve.mechanism])
    for ax in axes[len(curves):]:
        ax.set_visible(False)
    fig.suptitle("Expected utility against the bid factor (opponents truthful); "
                 "dashed: truthful bid, star: best response", fontweight="bold")


def _draw_sybil(fig: SubFigure, result: IncentiveResult, palette: dict[str, object]) -> None:
    fee = fee_mitigation(result)
    axes = fig.subplots(1, 2, sharey=True)
    cfg = result.config
    _sybil_panel(axes[0], sybil_series(result, "none"), palette, "no defence")
    _sybil_panel(axes[1], sybil_series(result, fee), palette,
                 f"{fee}: ${cfg.fee / _DOLLAR:.2f} per identity per tick")
    axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Sybil gain: best with k identities minus best with one "
                 "(mean, 95% CI over seeds)", fontweight="bold")


def _draw_revenue(fig: SubFigure, result: IncentiveResult) -> None:
    from matplotlib import colormaps

    groups = revenue_bars(result)
    strategies = len(STRATEGIES) - 1
    axes = fig.subplots(len(groups) // strategies, strategies, sharey=True, squeeze=False)
    palette = colormaps["Set2"]
    colors = [palette(j % palette.N) for j in range(len(groups[0].mitigations))]
    for ax, bars in zip(axes.ravel(), groups, strict=True):
        _revenue_panel(ax, bars, colors)
    axes[0, -1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(f"Collusion: seller revenue against a ring, by defence "
                 f"(reserve ${result.config.reserve / _DOLLAR:.2f}); "
                 "dashes: truthful bidders under the same defence", fontweight="bold")


def write_plot(result: IncentiveResult, path: Path) -> None:
    """A PNG: utility curves per mechanism, Sybil gain against k, ring revenue per defence."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    utility_rows, revenue_rows = _figure_rows(result)
    heights = (3.6 * utility_rows, 4.6, 4.2 * revenue_rows)
    fig = Figure(figsize=(18, sum(heights)), layout="constrained")
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=heights, squeeze=False).ravel()
    tab10 = colormaps["tab10"]
    names = dict.fromkeys(c.mechanism for c in result.truthful)
    palette: dict[str, object] = {name: tab10(i % tab10.N) for i, name in enumerate(names)}
    _draw_utility(top, result, palette)
    _draw_sybil(middle, result, palette)
    _draw_revenue(bottom, result)
    cfg = result.config
    fig.suptitle(f"auctioneer experiment incentives: seed {cfg.seed}, {cfg.seeds} seeds x "
                 f"{cfg.rounds:,} auctions{' (--quick)' if cfg.quick else ''}",
                 fontsize="x-large")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80, format="png")
