"""A benchmark's target: its name, whether this run met it, and what was measured.

Example:
    >>> target_line(Target("tick p99 in C <= 50 ns", True, "best TierBook 31 ns"))
    'PASS  tick p99 in C <= 50 ns: best TierBook 31 ns'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Target", "print_targets", "target_line"]

_STYLES = {True: "green", False: "red", None: "yellow"}


@dataclass(frozen=True, slots=True)
class Target:
    """One target and whether this run met it (None: not measured)."""

    name: str
    passed: bool | None
    detail: str


def target_line(target: Target) -> str:
    """``PASS``, ``MISS`` or ``SKIP``, the target, and what was measured."""
    verdict = {True: "PASS", False: "MISS", None: "SKIP"}[target.passed]
    return f"{verdict}  {target.name}: {target.detail}"


def print_targets(console: Console, targets: Iterable[Target]) -> None:
    """One :func:`target_line` per target, PASS green, MISS red, SKIP yellow, never folded."""
    for target in targets:
        console.print(target_line(target), style=_STYLES[target.passed], highlight=False,
                      soft_wrap=True)
