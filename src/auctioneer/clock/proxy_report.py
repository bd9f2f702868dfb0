"""Show the proxy round: clock only, clock + proxy and VCG side by side, as a table, JSON and PNG.

Example:
    >>> from auctioneer.clock.auction import run_clock
    >>> from auctioneer.clock.model import Market, Pool, User
    >>> from auctioneer.clock.proxy import run_proxy
    >>> market = Market.from_users([Pool("e", "cpu", 1, 1_000_000)],
    ...                            [User("a", 5_000_000, ({"e/cpu": 1},)),
    ...                             User("b", 3_000_000, ({"e/cpu": 1},))])
    >>> proxy = run_proxy(market, run_clock(market))
    >>> [row[:3] for row in comparison_rows(proxy)]    # one unit: the core is VCG, b's $3
    [('clock only', '$4.50', '$3.040658'), ('clock + proxy', '$4.50', '$3.00'), \
('VCG', '$4.50', '$3.00')]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from auctioneer.clock.model import Market
from auctioneer.clock.proxy import ProxyResult
from auctioneer.jsonfile import money_json
from auctioneer.money import format_money

__all__ = ["comparison_rows", "comparison_table", "dump_proxy", "print_proxy", "proxy_summary",
           "write_comparison_plot"]


def _money(value: int | None) -> str:
    return "-" if value is None else format_money(value)


def comparison_rows(proxy: ProxyResult) -> list[tuple[str, str, str, str]]:
    """``(mechanism, welfare, revenue, winners)`` per mechanism, formatted."""
    return [(o.mechanism, _money(o.welfare), _money(o.revenue),
             "-" if o.winners is None else f"{o.winners:,}") for o in proxy.outcomes()]


def comparison_table(proxy: ProxyResult) -> Table:
    """The three mechanisms side by side (welfare and revenue in currency units)."""
    table = Table(title="Clock only, clock + proxy, and VCG on the proxy round's allocation")
    for name, justify in (("mechanism", "left"), ("welfare", "right"), ("revenue", "right"),
                          ("winners", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in comparison_rows(proxy):
        table.add_row(*row)
    return table


def proxy_summary(proxy: ProxyResult) -> list[tuple[str, str]]:
    """Label/value lines: how the round was solved and how good the answer is."""
    rows = [("proxy round", f"{proxy.status.value} by {proxy.method}, "
             f"{len(proxy.packages):,} package bids (revealed-preference activity rule passed)")]
    if proxy.gap:
        rows.append(("gap", f"welfare {format_money(proxy.welfare)}, best bound "
                     f"{format_money(int(proxy.bound))}: within {proxy.gap:.3%} of the optimum"))
    rows.append(("payments", "core-selecting, certified: no coalition blocks "
                 f"({proxy.core_iterations} separations, {proxy.core_constraints} coalition "
                 "constraints)" if proxy.core_certified and proxy.vcg is not None
                 else proxy.note))
    rows.append(("time", ", ".join(f"{k} {v:.2f} s" for k, v in proxy.seconds.items())))
    return rows


def print_proxy(proxy: ProxyResult, console: Console) -> None:
    """The comparison table and the proxy round's summary lines."""
    console.print(comparison_table(proxy))
    rows = proxy_summary(proxy)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"[bold]{label:<{width}}[/bold]  {value}", highlight=False, soft_wrap=True)


def dump_proxy(market: Market, proxy: ProxyResult) -> dict[str, Any]:
    """The proxy round as JSON-ready data: outcomes, and each winner's package and payments."""
    names = market.pool_names
    winners = []
    for u in proxy.winners.tolist():
        i = int(proxy.choice[u])
        winners.append({
            "user": market.user_names[u],
            "bundle": {names[r]: q for r, q in proxy.packages.entries(i)},
            "value": money_json(int(proxy.packages.value[i])),
            "payment": money_json(int(proxy.payments[u])),
            "vcg_payment": None if proxy.vcg is None else money_json(int(proxy.vcg[u])),
        })
    return {
        "status": proxy.status.value, "method": proxy.method, "packages": len(proxy.packages),
        "bound": proxy.bound, "gap": proxy.gap, "core_certified": proxy.core_certified,
        "core_iterations": proxy.core_iterations, "core_constraints": proxy.core_constraints,
        "blocking_margin": None if proxy.blocking_margin is None
        else money_json(proxy.blocking_margin),
        "blocking_found": None if proxy.blocking_found is None
        else money_json(proxy.blocking_found),
        "note": proxy.note, "seconds": dict(proxy.seconds),
        "outcomes": [{"mechanism": o.mechanism,
                      "welfare": None if o.welfare is None else money_json(o.welfare),
                      "revenue": None if o.revenue is None else money_json(o.revenue),
                      "winners": o.winners} for o in proxy.outcomes()],
        "winners": winners,
    }


def write_comparison_plot(proxy: ProxyResult, path: Path, *, title: str | None = None) -> None:
    """A PNG: welfare and revenue of each mechanism (bars, dollars), and payments per winner."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 5), layout="constrained")
    left, right = fig.subplots(1, 2)
    outcomes = proxy.outcomes()
    labels = [o.mechanism for o in outcomes]
    width = 0.38
    for k, (attr, colour) in enumerate((("welfare", "tab:green"), ("revenue", "tab:blue"))):
        values = [getattr(o, attr) for o in outcomes]
        xs = [i + (k - 0.5) * width for i in range(len(outcomes))]
        left.bar(xs, [0 if v is None else v / 1e6 for v in values], width, color=colour,
                 label=attr)
        for x, v in zip(xs, values, strict=True):
            left.annotate("n/a" if v is None else f"${v / 1e6:,.2f}", (x, 0 if v is None
                          else v / 1e6), ha="center", va="bottom", fontsize="small")
    left.set_xticks(range(len(outcomes)), labels)
    left.set_xlabel("mechanism")
    left.set_ylabel("welfare and revenue, $")
    left.set_title("Welfare and revenue by mechanism")
    left.grid(True, axis="y", alpha=0.3)
    left.legend(fontsize="small")

    winners = proxy.winners
    order = winners[(-proxy.payments[winners]).argsort(kind="stable")]
    xs = list(range(len(order)))
    right.plot(xs, proxy.payments[order] / 1e6, "o-", color="tab:blue", markersize=3,
               label="core-selecting payment")
    if proxy.vcg is not None:
        right.plot(xs, proxy.vcg[order] / 1e6, "s", color="tab:orange", markersize=3,
                   label="VCG payment")
    right.plot(xs, proxy.packages.value[proxy.choice[order]] / 1e6, "_", color="grey",
               label="package bid (value)")
    right.set_xlabel("winner (by core payment, descending)")
    right.set_ylabel("payment, $")
    right.set_title(f"Payments of the {len(order):,} winners")
    right.grid(True, alpha=0.3)
    right.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
