"""Rich tables for a clearing: the winners, the summary, the k best allocations.

The text side of ``auctioneer clear``; :mod:`auctioneer.clearing.io` is the
JSON side.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing
from auctioneer.clearing.two_sided import budget_balance
from auctioneer.money import format_money

__all__ = ["k_best_table", "print_clearing"]

_NOT_OPTIMAL = {
    "infeasible": "no allocation meets the must-win bids and winner-count bounds",
    "too-large": "refused before solving: over the method's limits",
    "time-limit": "stopped at the time limit: the best allocation found, not proven optimal",
}


def print_clearing(console: Console, file: str, auction: Auction, result: Clearing,
                    rule: str) -> None:
    """Print the winners table and the summary of ``auctioneer clear``."""
    names = [r.name for r in auction.resources]
    bundles = sum(len(b.bundles) for b in auction.bids)
    console.print(f"[bold]{file}[/bold]: {len(auction.bids)} bids, {bundles} bundles, "
                  f"{auction.dimensions} resources ({', '.join(names)})", highlight=False)
    ok = result.is_optimal
    if result.choice and result.winners:
        title = "Winners" if ok else "Winners (best found, NOT proven optimal)"
        table = Table(title=title, header_style="bold")
        table.add_column("Bid")
        table.add_column("Bundle", justify="right")
        for name in names:
            table.add_column(name, justify="right")
        table.add_column("Price", justify="right")
        table.add_column("Payment" + (" (VCG)" if result.payments is not None else ""),
                         justify="right")
        for t in result.winners:
            j = result.choice[t]
            assert j is not None
            bundle = auction.bids[t].bundles[j]
            paid = bundle.price if result.payments is None else result.payments[t]
            table.add_row(auction.bids[t].name, str(j), *(f"{q:,}" for q in bundle.quantities),
                          format_money(bundle.price), format_money(paid))
        console.print(table)
    elif result.choice:
        console.print("No bid wins." if ok else "No bid wins in the best allocation found.")
    rows: list[tuple[str, str]] = []
    status = result.status.value
    why_not = _NOT_OPTIMAL.get(status, "not proven optimal")
    rows.append(("status", f"[green]{status}[/green]" if ok
                 else f"[bold red]{status}[/bold red] ({why_not})"))
    reason = result.stats.get("reason")
    if reason:
        rows.append(("reason", str(reason)))
    if not ok and result.choice and "dual_bound" in result.stats:
        bound = float(result.stats["dual_bound"])
        rows.append(("bound", f"best bound {format_money(int(bound))}, incumbent "
                     f"{format_money(result.revenue)}: gap "
                     f"{float(result.stats.get('gap', 0.0)):.3%} (how far the optimum may be)"))
    if result.choice:
        rows.append(("revenue", format_money(result.revenue)))
        if rule == "vcg":
            if result.payments is None:
                why = result.stats.get("vcg", "not computed")
                rows.append(("payments", f"[yellow]VCG {why}; pay-as-bid shown[/yellow]"))
            else:
                rows.append(("payments", f"{format_money(sum(result.payments))} (VCG)"))
        used = result.used or (0,) * auction.dimensions
        for resource, u in zip(auction.resources, used, strict=True):
            share = f" ({u / resource.capacity:.0%})" if resource.capacity else ""
            rows.append((resource.name, f"{u:,} / {resource.capacity:,} used{share}"))
        if auction.is_two_sided and len(result.choice) == len(auction.bids):
            report = budget_balance(auction, result)
            rows.append(("budget", f"buyers pay {format_money(report.buyers_pay)}, sellers "
                         f"receive {format_money(report.sellers_receive)}, surplus "
                         f"{format_money(report.surplus)}"
                         + (" (balanced)" if report.balanced else " [red](DEFICIT)[/red]")))
            if report.payments is not None:
                under = report.payments
                rows.append(("budget (VCG)", f"buyers pay {format_money(under.buyers_pay)}, "
                             f"sellers receive {format_money(under.sellers_receive)}, surplus "
                             f"{format_money(under.surplus)}"
                             + (" (balanced)" if under.balanced else " [red](DEFICIT)[/red]")))
    rows.append(("method", result.method))
    if "auto" in result.stats:
        rows.append(("auto", str(result.stats["auto"])))
    rows.append(("time", f"{result.seconds * 1000:,.2f} ms"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"[bold]{label:<{width}}[/bold]  {value}", highlight=False, soft_wrap=True)


def k_best_table(auction: Auction, ranked: Sequence[Clearing]) -> Table:
    """The k best allocations, ranked: revenue and winners (bid#bundle)."""
    table = Table(title=f"The {len(ranked)} best allocations", header_style="bold")
    table.add_column("Rank", justify="right")
    table.add_column("Revenue", justify="right")
    table.add_column("Winners (bid#bundle)")
    for rank, r in enumerate(ranked, 1):
        winners = " ".join(f"{auction.bids[t].name}#{r.choice[t]}" for t in r.winners)
        table.add_row(str(rank), format_money(r.revenue), winners or "(none)")
    return table
