"""What every benchmark shares: latency percentiles, the timer's own cost, the environment.

Latencies are nanoseconds as floats (they are measurements, not money).
Percentiles use the nearest-rank definition (numpy's ``inverted_cdf``), so
p99.9 of 1000 samples is the 999th: every reported value is a latency that
was actually observed.

Example:
    >>> summarize([10, 20, 30, 40, 1000])
    Percentiles(p50=30.0, p99=1000.0, p999=1000.0)
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

import numpy as np
import numpy.typing as npt

import auctioneer

__all__ = [
    "Environment",
    "Percentiles",
    "cpu_model",
    "environment",
    "gc_paused",
    "median_percentiles",
    "perf_counter_overhead",
    "summarize",
]

_LEVELS = (0.5, 0.99, 0.999)


@dataclass(frozen=True, slots=True)
class Percentiles:
    """p50, p99 and p99.9 of one latency distribution, nanoseconds."""

    p50: float
    p99: float
    p999: float

    def as_tuple(self) -> tuple[float, float, float]:
        """``(p50, p99, p999)``."""
        return (self.p50, self.p99, self.p999)

    def rounded(self) -> dict[str, float]:
        """``{"p50": ..., "p99": ..., "p999": ...}`` to 0.01 ns, for a JSON record."""
        return {"p50": round(self.p50, 2), "p99": round(self.p99, 2), "p999": round(self.p999, 2)}


def summarize(samples_ns: Sequence[float] | npt.NDArray[np.float64]) -> Percentiles:
    """Nearest-rank p50, p99 and p99.9 of latencies in ns; ValueError when empty."""
    data = np.asarray(samples_ns, dtype=np.float64)
    count = data.size
    if count == 0:
        raise ValueError("no latency samples to summarize")
    # inverted_cdf is the nearest rank: the ceil(count * q)-th smallest sample.
    p50, p99, p999 = np.quantile(data, _LEVELS, method="inverted_cdf")
    return Percentiles(float(p50), float(p99), float(p999))


def median_percentiles(runs: Sequence[Percentiles]) -> Percentiles:
    """Each percentile's median across repeated runs (robust to one noisy repeat)."""
    if not runs:
        raise ValueError("no runs to take the median of")
    return Percentiles(
        float(median(r.p50 for r in runs)),
        float(median(r.p99 for r in runs)),
        float(median(r.p999 for r in runs)),
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of a timed loop, as :mod:`timeit` does."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def perf_counter_overhead(count: int) -> npt.NDArray[np.float64]:
    """``count`` timings of an empty ``perf_counter_ns()`` pair: the Python timer's own cost."""
    clock = time.perf_counter_ns
    out = [0] * count
    with gc_paused():
        for i in range(count):
            t0 = clock()
            t1 = clock()
            out[i] = t1 - t0
    return np.asarray(out, dtype=np.float64)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


@dataclass(frozen=True, slots=True)
class Environment:
    """Where and when a benchmark ran, so results can be compared honestly."""

    date: str
    python: str
    implementation: str
    platform: str
    machine: str
    cpu_model: str
    cpu_count: int
    numpy: str
    auctioneer: str

    def header(self, title: str, *details: str) -> str:
        """A report's first line: ``auctioneer <title>``, when, Python, CPU, then ``details``."""
        return "  ".join((f"[bold]auctioneer {title}[/bold]", self.date, f"Python {self.python}",
                          f"{self.cpu_model} ({self.cpu_count} CPUs)", *details))


def environment() -> Environment:
    """Describe this machine and interpreter now."""
    return Environment(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        python=sys.version.split()[0],
        implementation=platform.python_implementation(),
        platform=platform.platform(),
        machine=platform.machine(),
        cpu_model=cpu_model(),
        cpu_count=os.cpu_count() or 0,
        numpy=np.__version__,
        auctioneer=auctioneer.__version__,
    )
