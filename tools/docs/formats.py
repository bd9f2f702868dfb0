"""How the documents print numbers: one formatter per unit, shared by every spec.

A formatter is a ``str.format`` pattern where that says it all, else a function.

Example:
    >>> ns.format(1234.4), pct(0.0512), us(41_600), pass_(None)
    ('1,234', '5.1 %', '41.6', 'not measured')
"""

from __future__ import annotations

from typing import Any

from tools.docs.render import Column

__all__ = ["LEFT", "TARGET_COLUMNS", "bytes_", "money", "money4", "ms", "ns", "pass_", "pct",
           "seconds", "times", "us", "when", "x", "yes"]

ns = "{:,.0f}"
x = "{:.1f}×"
bytes_ = "{:,.1f}"
times = "{:.2f}×"
LEFT = "left"


def pct(value: Any) -> str:
    return f"{100 * float(value):.1f} %"


def pass_(value: Any) -> str:
    return {True: "**PASS**", False: "MISS"}.get(value, "not measured")


def us(value: Any) -> str:
    return f"{float(value) / 1000:,.1f}"


def money(value: Any) -> str:
    return f"${int(value) / 1_000_000:,.2f}"


def seconds(value: Any) -> str:
    return "never" if value is None else f"{float(value):.1f} s"


def money4(value: Any) -> str:
    return f"${int(value) / 1_000_000:,.4f}"


def yes(value: Any) -> str:
    return "yes" if value else "no"


def when(value: Any) -> str:
    """An ISO timestamp (a bench's environment.date) to the minute, in UTC."""
    return f"{str(value)[:16].replace('T', ' ')} UTC"


def ms(value: Any) -> str:
    """Seconds printed in milliseconds, three significant figures below 100."""
    millis = 1000 * float(value)
    return f"{millis:,.0f}" if millis >= 100 else f"{millis:.3g}"

TARGET_COLUMNS = (
    Column("target", "name", align=LEFT),
    Column("result", "passed", pass_, align=LEFT),
    Column("detail", "detail", align=LEFT),
)
"""A benchmark's targets as its ``--json`` writes them: name, PASS/MISS, detail."""
