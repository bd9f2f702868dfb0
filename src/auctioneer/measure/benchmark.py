"""The one shape every ``auctioneer bench <area>`` takes, and the one way it is run.

An area describes its benchmark once, as a :class:`Benchmark`: a title for
the progress bar, the report's table width, the measuring function and the
two ways a result is shown (a console report, a PNG). :func:`run_benchmark`
does the rest the same way for every area: progress on stderr, the report on
stdout, then the JSON (when asked) and the plot.

An area keeps the measuring (``bench.py``) apart from the showing
(``bench_report.py``, which defines its ``BENCHMARK``): the measurements run
and are tested without a console, and matplotlib is imported only to plot.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     steps: int = 2
    >>> @dataclass(frozen=True)
    ... class Result:
    ...     done: tuple[str, ...]
    ...     def to_dict(self) -> dict[str, object]:
    ...         return {"done": list(self.done)}
    >>> def measure(config: Config, step: Step) -> Result:
    ...     names = ("warm", "timed")
    ...     for name in names:
    ...         step(name)
    ...     return Result(names)
    >>> demo = Benchmark("bench demo", 80, measure, lambda r, c: c.print(r.done),
    ...                  lambda r, p: None)
    >>> import io
    >>> from rich.console import Console
    >>> with_progress(demo, Config(), Console(file=io.StringIO())).done
    ('warm', 'timed')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from rich.console import Console

from auctioneer.measure.progress import run_with_progress, wide_console
from auctioneer.measure.record import Recordable, write_json

__all__ = ["Benchmark", "Config", "Step", "run_benchmark", "with_progress"]

Step = Callable[[str], None]
"""Called with each step's description as the step starts (drives the progress bar)."""


class Config(Protocol):
    """A benchmark's configuration: how many progress steps a run takes."""

    @property
    def steps(self) -> int:
        """Progress steps in one run."""
        ...


C = TypeVar("C", bound=Config)
R = TypeVar("R", bound=Recordable)


@dataclass(frozen=True, slots=True)
class Benchmark(Generic[C, R]):
    """One area's benchmark: how to measure, and how to show what was measured."""

    title: str
    """The progress bar's label, e.g. ``"bench exchange"``."""
    width: int
    """Columns the report's table needs when output is redirected."""
    measure: Callable[[C, Step], R]
    print_report: Callable[[R, Console], None]
    write_plot: Callable[[R, Path], None]

    def console(self) -> Console:
        """The report's console: the terminal, or ``width`` columns when redirected."""
        return wide_console(self.width)


def with_progress(benchmark: Benchmark[C, R], config: C, console: Console) -> R:
    """Measure under a progress bar on ``console``."""
    return run_with_progress(benchmark.title, config.steps,
                             lambda step: benchmark.measure(config, step), console)


def run_benchmark(benchmark: Benchmark[C, R], config: C, json_path: Path | None,
                  plot: Path) -> R:
    """Run ``benchmark`` as every ``auctioneer bench`` command does; return its result.

    Progress goes to stderr, the report to stdout, then the JSON (if asked)
    and the PNG, each announced with the path it was written to.
    """
    console = benchmark.console()
    result = with_progress(benchmark, config, Console(stderr=True))
    benchmark.print_report(result, console)
    if json_path is not None:
        write_json(result, json_path)
        console.print(f"wrote {json_path}")
    benchmark.write_plot(result, plot)
    console.print(f"wrote {plot}")
    return result
