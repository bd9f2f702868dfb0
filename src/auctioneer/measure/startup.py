"""``auctioneer bench startup``: how long the command line takes, as whole processes.

Each case is one ``auctioneer ...`` process, started, run to its exit and
timed from outside (wall clock, and its CPU time from ``wait4``), the way a
user meets it in a shell. Two baselines run in the same rounds: a bare
interpreter (``python -c pass``) and ``import typer`` (the floor any typer
command line starts from). Rounds interleave the cases, so a burst of load
on a shared machine hits them all alike; each figure is a median over the
rounds, after one unrecorded warm-up round (cold caches are not start-up).

Targets: ``auctioneer --help`` <= 150 ms and ``auctioneer clear`` on a
10-bid file <= 250 ms (median wall time).

Example:
    >>> StartupConfig.build(repeats=None, quick=True).repeats
    5
    >>> median_ms([3.0, 1.0, 2.0])
    2.0
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from auctioneer.measure.record import fields_dict
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment, environment

__all__ = [
    "TARGETS_MS",
    "CaseResult",
    "StartupConfig",
    "StartupResult",
    "median_ms",
    "run_startup_bench",
    "targets",
    "time_process",
]

TARGETS_MS = {"auctioneer --help": 150.0, "auctioneer clear (10 bids)": 250.0}
"""The issue's start-up targets, median wall milliseconds per whole process."""


@dataclass(frozen=True, slots=True)
class StartupConfig:
    """How many timed rounds (each runs every case once)."""

    repeats: int = 20

    @property
    def steps(self) -> int:
        """Progress steps: the file, the warm-up round, then each timed round."""
        return self.repeats + 2

    @classmethod
    def build(cls, repeats: int | None, quick: bool) -> StartupConfig:
        """The config for the options given (``--quick``: 5 rounds)."""
        chosen = repeats if repeats is not None else (5 if quick else 20)
        if not 1 <= chosen <= 10_000:
            raise ValueError(f"repeats {chosen} is outside 1..10000")
        return cls(chosen)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One command's timings over the rounds, milliseconds per process."""

    name: str
    argv: tuple[str, ...]
    baseline: bool
    wall_ms: tuple[float, ...]
    cpu_ms: tuple[float, ...]

    @property
    def wall_median(self) -> float:
        """Median wall time."""
        return median_ms(self.wall_ms)

    @property
    def cpu_median(self) -> float:
        """Median CPU time (user + system) of the process."""
        return median_ms(self.cpu_ms)


@dataclass(frozen=True, slots=True)
class StartupResult:
    """Every case's timings, the machine's load while measuring, and where it ran."""

    config: StartupConfig
    cases: tuple[CaseResult, ...]
    load_average: tuple[float, float, float]
    environment: Environment = field(default_factory=environment)

    def case(self, name: str) -> CaseResult:
        """The case named ``name``."""
        return next(c for c in self.cases if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON record: medians, every sample, the targets."""
        return {
            "config": fields_dict(self.config),
            "load_average": list(self.load_average),
            "cases": [{**fields_dict(c), "wall_median_ms": round(c.wall_median, 2),
                       "cpu_median_ms": round(c.cpu_median, 2)} for c in self.cases],
            "targets": [fields_dict(t) for t in targets(self)],
            "environment": fields_dict(self.environment),
        }


def median_ms(samples: Sequence[float]) -> float:
    """The median of ``samples``."""
    return float(median(samples))


def _command() -> list[str]:
    """How a user starts the command line: the installed script, else the interpreter."""
    script = Path(sys.executable).with_name("auctioneer")
    found = script if script.exists() else shutil.which("auctioneer")
    if found is not None:
        return [str(found)]
    return [sys.executable, "-c", "import sys; from auctioneer.cli import main; "
            "sys.exit(main())"]


def _cases(workdir: Path) -> list[tuple[str, list[str], bool]]:
    cli = _command()
    ten = str(workdir / "ten.json")
    return [
        ("python -c pass", [sys.executable, "-c", "pass"], True),
        ("python -c 'import typer'", [sys.executable, "-c", "import typer"], True),
        ("auctioneer --version", [*cli, "--version"], False),
        ("auctioneer --help", [*cli, "--help"], False),
        ("auctioneer clear --help", [*cli, "clear", "--help"], False),
        ("auctioneer clear (10 bids)", [*cli, "clear", ten], False),
        ("auctioneer clear --json (10 bids)", [*cli, "clear", ten, "--json"], False),
    ]


def time_process(argv: Sequence[str]) -> tuple[float, float]:
    """Run ``argv`` to its exit, output discarded; (wall ms, CPU ms). Fails loudly."""
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], list(argv), os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                                       (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - start) * 1e3
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with status {code}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1e3


def run_startup_bench(config: StartupConfig, step: Callable[[str], None]) -> StartupResult:
    """Time every case over ``config.repeats`` interleaved rounds."""
    with tempfile.TemporaryDirectory(prefix="auctioneer-startup-") as tmp:
        workdir = Path(tmp)
        step("writing a 10-bid auction")
        time_process([*_command(), "generate", "clearing", "--bids", "10", "--seed", "1",
               "-o", str(workdir / "ten.json")])
        cases = _cases(workdir)
        step("warm-up round")
        for _, argv, _ in cases:
            time_process(argv)
        walls: list[list[float]] = [[] for _ in cases]
        cpus: list[list[float]] = [[] for _ in cases]
        for round_no in range(config.repeats):
            step(f"round {round_no + 1}/{config.repeats}")
            for i, (_, argv, _) in enumerate(cases):
                wall, cpu = time_process(argv)
                walls[i].append(wall)
                cpus[i].append(cpu)
        load = os.getloadavg()
    return StartupResult(
        config,
        tuple(CaseResult(name, tuple(argv), baseline, tuple(w), tuple(c))
              for (name, argv, baseline), w, c in zip(cases, walls, cpus, strict=True)),
        (round(load[0], 2), round(load[1], 2), round(load[2], 2)))


def targets(result: StartupResult) -> list[Target]:
    """The start-up targets, judged on median wall time."""
    out = []
    for name, limit in TARGETS_MS.items():
        case = result.case(name)
        out.append(Target(f"{name} <= {limit:g} ms", case.wall_median <= limit,
                          f"median {case.wall_median:.0f} ms wall, {case.cpu_median:.0f} ms "
                          f"CPU (load average {result.load_average[0]:.1f})"))
    return out
