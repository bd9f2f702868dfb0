"""Show a clock auction: a rich summary of pools, users and status, and a PNG of the clocks.

Kept apart from the engine so it runs without a console, and so matplotlib
is imported only to plot (its object API, Agg canvas, no pyplot).

Example:
    >>> from auctioneer.clock.auction import run_clock
    >>> from auctioneer.clock.model import Market, Pool, User
    >>> market = Market.from_users([Pool("east", "cpu", 10, 1_000_000, used=9)],
    ...                            [User("a", 9_000_000, ({"east/cpu": 1},))])
    >>> summary_rows(market, run_clock(market))[0]
    ('status', '[green]cleared[/green] (no pool is over-demanded after 0 price update(s))')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from auctioneer.clock.auction import ClockResult, Status, allocation_problems
from auctioneer.clock.model import Market, UserKind
from auctioneer.money import format_money

__all__ = [
    "POOL_ROWS",
    "USER_ROWS",
    "market_line",
    "pools_table",
    "print_summary",
    "summary_rows",
    "users_table",
    "write_price_plot",
]

POOL_ROWS = 24
"""Pools shown in the table; a bigger market shows the most over-priced and notes the rest."""
USER_ROWS = 16
"""Users shown in the table."""


def market_line(market: Market, name: str) -> str:
    """``FILE: 12 users (9 buyers, 2 sellers, 1 trader), 6 pools in 3 clusters``."""
    kinds = market.kind_codes()
    counts = [int((kinds == k).sum()) for k in range(3)]
    clusters = len({p.cluster for p in market.pools})
    words = ", ".join(f"{n:,} {label}{'' if n == 1 else 's'}"
                      for n, label in zip(counts, ("buyer", "seller", "trader"), strict=True)
                      if n)
    return (f"[bold]{name}[/bold]: {market.shape[0]:,} users ({words or 'none'}), "
            f"{len(market.pools):,} pools in {clusters:,} cluster{'' if clusters == 1 else 's'}")


def _ratio(price: int, reserve: int) -> str:
    return f"{price / reserve:.2f}x" if reserve else "-"  # display only


def pools_table(market: Market, result: ClockResult, limit: int = POOL_ROWS) -> Table:
    """Per pool: utilisation, free units, reserve, final price, units taken and unsold."""
    count = len(market.pools)
    order = list(range(count))
    title = "Pools"
    if count > limit:
        # The pools the clock moved most, in pool order.
        gain = result.prices.astype(np.float64) / np.maximum(result.reserves, 1)
        order = sorted(np.argsort(-gain, kind="stable")[:limit].tolist())
        title = f"Pools: the {limit} whose price rose most of {count:,} (--json lists all)"
    table = Table(title=title, header_style="bold")
    for header in ("Pool", "Util", "Free", "Reserve", "Price", "x reserve", "Taken", "Unsold",
                   "Excess"):
        table.add_column(header, justify="left" if header == "Pool" else "right")
    supply = market.supply()
    for r in order:
        excess = int(result.excess[r])
        table.add_row(
            market.pools[r].name, f"{market.pools[r].utilisation / 100:.0f}%",
            f"{int(supply[r]):,}", format_money(int(result.reserves[r])),
            format_money(int(result.prices[r])),
            _ratio(int(result.prices[r]), int(result.reserves[r])),
            f"{int(supply[r]) + excess:,}", f"{max(-excess, 0):,}",
            f"[red]{excess:,}[/red]" if excess > 0 else f"{excess:,}",
        )
    return table


def users_table(market: Market, result: ClockResult, limit: int = USER_ROWS) -> Table:
    """The first ``limit`` users: kind, budget, bundle held and payment."""
    users = market.shape[0]
    title = "Users" if users <= limit else f"Users: the first {limit} of {users:,}"
    table = Table(title=title, header_style="bold")
    for header in ("User", "Kind", "Budget", "Bundle", "Quantities", "Payment"):
        table.add_column(header, justify="right" if header in ("Budget", "Payment") else "left")
    kinds = market.kinds()
    names = market.pool_names
    for u in range(min(users, limit)):
        c = int(result.choice[u])
        quantities = "" if c < 0 else ", ".join(
            f"{names[r]} {q:+,}" for r, q in market.bundle(u, c).items())
        table.add_row(market.user_names[u], kinds[u].value,
                      format_money(int(market.budgets[u])),
                      "-" if c < 0 else str(c), quantities or "(nothing)",
                      format_money(int(result.payments[u])))
    return table


_STATUS_STYLE = {Status.CLEARED: "green"}


def summary_rows(market: Market, result: ClockResult,
                 problems: list[str] | None = None) -> list[tuple[str, str]]:
    """The summary's label/value lines (rich markup)."""
    style = _STATUS_STYLE.get(result.status, "bold red")
    rows = [("status", f"[{style}]{result.status.value}[/{style}] ({result.detail})")]
    rows.append(("rule", result.rule.describe()))
    rows.append(("rounds", f"{result.rounds:,}"))
    kinds = market.kind_codes()
    held = result.choice >= 0
    parts = []
    for code, kind in enumerate(UserKind):
        mine = kinds == code
        if mine.any():
            parts.append(f"{kind.value}s {int((held & mine).sum()):,}/{int(mine.sum()):,}")
    rows.append(("winners", f"{int(held.sum()):,} of {market.shape[0]:,} ({', '.join(parts)})"))
    rows.append(("revenue", f"{format_money(result.revenue)} (users pay the operator, net)"))
    unsold = result.unsold
    rows.append(("unsold", f"{int((unsold > 0).sum()):,} pool(s) keep units unsold"))
    if not result.cleared:
        rows.append(("check", "[bold red]no allocation[/bold red]: the clock did not clear, so "
                     "the bundles above are the last round's bids, not an allocation to act on"))
    elif problems is not None:
        rows.append(("check", "[green]feasible[/green]" if not problems else
                     f"[bold red]NOT feasible[/bold red]: {'; '.join(problems[:3])}"))
    rows.append(("time", f"{result.seconds * 1000:,.2f} ms "
                 f"({result.seconds * 1e6 / (result.rounds + 1):,.1f} us per round)"))
    return rows


def print_summary(market: Market, result: ClockResult, console: Console, name: str,
                  *, check: bool = True) -> list[str]:
    """The market line, the pools and users tables and the summary; returns the problems."""
    console.print(market_line(market, name), highlight=False)
    console.print(pools_table(market, result))
    console.print(users_table(market, result))
    problems = allocation_problems(market, result) if check and result.cleared else None
    rows = summary_rows(market, result, problems)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"[bold]{label:<{width}}[/bold]  {value}", highlight=False, soft_wrap=True)
    return problems or []


_HIGHLIGHT = 8
"""Pools drawn in colour, with a legend, in a big market (the rest are grey)."""
_ALL_BELOW = 12
"""Markets of at most this many pools draw every pool in colour."""


def write_price_plot(market: Market, result: ClockResult, path: Path, *,
                     title: str | None = None) -> None:
    """A PNG: every pool's price clock (price / reserve by round), and excess demand by round."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig = Figure(figsize=(14, 5.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    trace = result.price_trace.astype(np.float64)  # plotting only
    ratio = trace / np.maximum(result.reserves, 1)[None, :]
    rounds = np.arange(trace.shape[0])
    count = ratio.shape[1]
    shown = count if count <= _ALL_BELOW else _HIGHLIGHT
    top = np.argsort(-ratio[-1], kind="stable")[:shown]
    palette = colormaps["tab20" if shown > 10 else "tab10"]
    names = market.pool_names
    if count > shown:
        left.plot(rounds, ratio, color="grey", alpha=max(0.08, min(0.5, 20 / count)),
                  linewidth=0.6)
    for i, r in enumerate(top.tolist()):
        left.plot(rounds, ratio[:, r], color=palette(i % palette.N), linewidth=1.6,
                  label=f"{names[r]} {format_money(int(result.prices[r]))}")
    left.set_xlabel("round")
    left.set_ylabel("price / reserve")
    left.set_title(f"Price clocks, {count:,} pools" + (
        f" (grey: all; colour: the {len(top)} that rose most)" if count > shown else ""))
    left.grid(True, alpha=0.3)
    # Below the axes: inside, it hides the pools whose price never moved.
    left.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14),
                ncol=3, title="pool and its final price per unit", title_fontsize="small")

    excess = result.excess_trace
    supply = np.maximum(market.supply(), 1).astype(np.float64)
    relative = np.maximum(excess, 0) / supply[None, :]
    right.plot(rounds, (excess > 0).sum(axis=1), color="tab:red", label="pools over-demanded")
    right.set_xlabel("round")
    right.set_ylabel("pools with positive excess demand")
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    twin = right.twinx()
    largest = relative.max(axis=1) * 100
    twin.plot(rounds, largest, color="tab:blue", linestyle="--",
              label="largest excess / free supply, %")
    twin.set_ylabel("largest excess demand, % of free supply")
    positive = largest[largest > 0]
    # A log scale only when the excess spans more than two decades; linear below
    # the smallest excess seen, so zero (cleared) stays on the axis.
    if positive.size and positive.max() > 100 * positive.min():
        twin.set_yscale("symlog", linthresh=float(positive.min()))
    else:
        twin.yaxis.set_major_locator(MaxNLocator(6))
        twin.set_ylim(bottom=0)
    twin.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    for axis in (left, right):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_title(f"Excess demand: {result.status.value} after {result.rounds} rounds")
    right.grid(True, alpha=0.3)
    lines = right.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    right.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize="small",
                 loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    if title:
        fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, format="png")
