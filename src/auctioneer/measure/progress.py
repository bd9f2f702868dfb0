"""What every benchmark report shares: a wide console and a progress bar over steps.

Example:
    >>> wide_console(120).width >= 80
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["run_with_progress", "wide_console"]

_R = TypeVar("_R")


def wide_console(width: int) -> Console:
    """The terminal's console, or one ``width`` columns wide when output is redirected.

    Redirected output (a file, a pipe, a test runner) has no width of its own;
    rich would assume 80 columns and fold every cell of a wide table.
    """
    probe = Console()
    return probe if probe.is_terminal else Console(width=width)


def run_with_progress(
    name: str, steps: int, run: Callable[[Callable[[str], None]], _R], console: Console
) -> _R:
    """Call ``run(step)`` under a progress bar of ``steps`` steps named ``name``.

    ``run`` calls ``step(description)`` as each step starts, so the call
    before it is the one that completed.
    """
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(name, total=steps)
        first = True

        def step(description: str) -> None:
            nonlocal first
            bar.update(task, description=description, advance=0 if first else 1)
            first = False

        result = run(step)
        bar.update(task, completed=steps)
    return result
