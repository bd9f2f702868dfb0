"""The text side of ``auctioneer clear``: the winners, the summary, the k best allocations.

:mod:`auctioneer.clearing.io` is the JSON side. The report is built once as
plain data (:class:`TextTable`, :class:`Line`) and written one of two ways:
with rich (boxed tables, colour) on a terminal, or as aligned plain text
when the output goes to a file or a pipe. The plain writer needs no rich,
whose import costs about 30 ms of the command's 250 ms start-up budget
(``auctioneer bench startup``), and a pipe gets no box drawing to strip.

Example:
    >>> from auctioneer.clearing.model import Bid, Bundle, Resource
    >>> from auctioneer.clearing.result import Status
    >>> a = Auction((Resource("cpu", 8),), (Bid("a", (Bundle((2,), 5_000_000),)),))
    >>> c = Clearing(Status.OPTIMAL, "dp", 5_000_000, (0,), (2,))
    >>> print(plain_table(winners_table(a, c)))
    Winners
    Bid  Bundle  cpu  Price  Payment
    a         0    2  $5.00    $5.00
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TextIO

from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing
from auctioneer.clearing.two_sided import budget_balance
from auctioneer.money import format_money

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "Line",
    "TextTable",
    "k_best_table",
    "plain_table",
    "print_clearing",
    "rich_table",
    "summary",
    "winners_table",
]

Tone = Literal["", "good", "bad", "warn"]

_NOT_OPTIMAL = {
    "infeasible": "no allocation meets the must-win bids and winner-count bounds",
    "too-large": "refused before solving: over the method's limits",
    "time-limit": "stopped at the time limit: the best allocation found, not proven optimal",
}
_STYLE = {"good": "green", "bad": "bold red", "warn": "yellow"}


@dataclass(frozen=True, slots=True)
class TextTable:
    """A table as text: a title, column headers (right-aligned or not) and rows."""

    title: str
    columns: tuple[str, ...]
    right: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Line:
    """One summary line: a label and its value in parts, each with a tone (its colour on a
    terminal)."""

    label: str
    parts: tuple[tuple[str, Tone], ...]

    @property
    def value(self) -> str:
        """The value as plain text."""
        return "".join(text for text, _ in self.parts)


def _line(label: str, value: str, tone: Tone = "") -> Line:
    return Line(label, ((value, tone),))


def winners_table(auction: Auction, result: Clearing) -> TextTable:
    """The winners with their bundles, prices and payments (VCG when the result has them)."""
    names = tuple(r.name for r in auction.resources)
    rows = []
    for t in result.winners:
        j = result.choice[t]
        assert j is not None
        bundle = auction.bids[t].bundles[j]
        paid = bundle.price if result.payments is None else result.payments[t]
        rows.append((auction.bids[t].name, str(j), *(f"{q:,}" for q in bundle.quantities),
                     format_money(bundle.price), format_money(paid)))
    title = "Winners" if result.is_optimal else "Winners (best found, NOT proven optimal)"
    payment = "Payment" + (" (VCG)" if result.payments is not None else "")
    return TextTable(title, ("Bid", "Bundle", *names, "Price", payment),
                     (False, *(True,) * (len(names) + 3)), tuple(rows))


def summary(auction: Auction, result: Clearing, rule: str) -> list[Line]:
    """Status, revenue, payments, resources used, budget, method and time."""
    ok = result.is_optimal
    status = result.status.value
    lines = [_line("status", status, "good") if ok else Line(
        "status", ((status, "bad"), (f" ({_NOT_OPTIMAL.get(status, 'not proven optimal')})", "")))]
    reason = result.stats.get("reason")
    if reason:
        lines.append(_line("reason", str(reason)))
    if not ok and result.choice and "dual_bound" in result.stats:
        bound = float(result.stats["dual_bound"])
        gap = float(result.stats.get("gap", 0.0))
        lines.append(_line("bound", f"best bound {format_money(int(bound))}, incumbent "
                           f"{format_money(result.revenue)}: gap {gap:.3%} "
                           "(how far the optimum may be)"))
    if result.choice:
        lines.append(_line("revenue", format_money(result.revenue)))
        if rule == "vcg":
            if result.payments is None:
                why = result.stats.get("vcg", "not computed")
                lines.append(_line("payments", f"VCG {why}; pay-as-bid shown", "warn"))
            else:
                lines.append(_line("payments", f"{format_money(sum(result.payments))} (VCG)"))
        used = result.used or (0,) * auction.dimensions
        for resource, u in zip(auction.resources, used, strict=True):
            share = f" ({u / resource.capacity:.0%})" if resource.capacity else ""
            lines.append(_line(resource.name, f"{u:,} / {resource.capacity:,} used{share}"))
        if auction.is_two_sided and len(result.choice) == len(auction.bids):
            report = budget_balance(auction, result)
            lines.append(_budget_line("budget", report.buyers_pay, report.sellers_receive,
                                      report.surplus, report.balanced))
            if report.payments is not None:
                under = report.payments
                lines.append(_budget_line("budget (VCG)", under.buyers_pay,
                                          under.sellers_receive, under.surplus, under.balanced))
    lines.append(_line("method", result.method))
    if "auto" in result.stats:
        lines.append(_line("auto", str(result.stats["auto"])))
    lines.append(_line("time", f"{result.seconds * 1000:,.2f} ms"))
    return lines


def _budget_line(label: str, pay: int, receive: int, surplus: int, balanced: bool) -> Line:
    text = (f"buyers pay {format_money(pay)}, sellers receive {format_money(receive)}, "
            f"surplus {format_money(surplus)}")
    if balanced:
        return _line(label, text + " (balanced)")
    return Line(label, ((text, ""), (" (DEFICIT)", "bad")))


def k_best_table(auction: Auction, ranked: Sequence[Clearing]) -> TextTable:
    """The k best allocations, ranked: revenue and winners (bid#bundle)."""
    rows = tuple(
        (str(rank), format_money(r.revenue),
         " ".join(f"{auction.bids[t].name}#{r.choice[t]}" for t in r.winners) or "(none)")
        for rank, r in enumerate(ranked, 1))
    return TextTable(f"The {len(ranked)} best allocations", ("Rank", "Revenue",
                     "Winners (bid#bundle)"), (True, True, False), rows)


def plain_table(table: TextTable) -> str:
    """``table`` as aligned plain text: the title, the header, one line per row."""
    cells = [table.columns, *table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    lines = [table.title]
    for row in cells:
        lines.append("  ".join(
            (text.rjust(w) if right else text.ljust(w))
            for text, w, right in zip(row, widths, table.right, strict=True)).rstrip())
    return "\n".join(lines)


def rich_table(table: TextTable) -> Table:
    """``table`` as a rich table (bold header, boxed)."""
    from rich.table import Table

    out = Table(title=table.title, header_style="bold")
    for name, right in zip(table.columns, table.right, strict=True):
        out.add_column(name, justify="right" if right else "left")
    for row in table.rows:
        out.add_row(*row)
    return out


def print_clearing(file: str, auction: Auction, result: Clearing, rule: str,
                   ranked: Sequence[Clearing] | None = None, *,
                   out: TextIO | None = None, rich: bool | None = None) -> None:
    """Print ``auctioneer clear``'s report: header, winners, summary, the k best.

    ``rich``: boxed and coloured (None: when ``out``, default stdout, is a terminal).
    """
    stream = sys.stdout if out is None else out
    fancy = stream.isatty() if rich is None else rich
    bundles = sum(len(b.bundles) for b in auction.bids)
    names = ", ".join(r.name for r in auction.resources)
    head = (f"{file}: {len(auction.bids)} bids, {bundles} bundles, {auction.dimensions} "
            f"resources ({names})")
    tables = []
    if result.choice and result.winners:
        tables.append(winners_table(auction, result))
    lines = summary(auction, result, rule)
    none = None
    if result.choice and not result.winners:
        none = "No bid wins." if result.is_optimal else "No bid wins in the best allocation found."
    after = [] if ranked is None else [k_best_table(auction, ranked)]
    width = max(len(line.label) for line in lines)
    if not fancy:
        text = [head, *(plain_table(t) for t in tables), *([none] if none else [])]
        text += [f"{line.label:<{width}}  {line.value}" for line in lines]
        text += [plain_table(t) for t in after]
        stream.write("\n".join(text) + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream)
    console.print(Text(file, style="bold") + head[len(file):], highlight=False)
    for table in tables:
        console.print(rich_table(table))
    if none:
        console.print(none, highlight=False)
    for line in lines:
        console.print(Text.assemble((f"{line.label:<{width}}", "bold"), "  ", *(
            (text, _STYLE.get(tone, "")) for text, tone in line.parts)),
            highlight=False, soft_wrap=True)
    for table in after:
        console.print(rich_table(table))
