"""A benchmark's target: its name, whether this run met it, and what was measured.

Example:
    >>> target_line(Target("tick p99 in C <= 50 ns", True, "best TierBook 31 ns"))
    'PASS  tick p99 in C <= 50 ns: best TierBook 31 ns'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Target", "target_line"]


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
