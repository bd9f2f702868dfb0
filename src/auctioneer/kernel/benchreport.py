"""The VM benchmark's samples (``kernel/vm/run.sh bench``), summarised against scx_simple.

The guest writes one line per scheduler and round, ``<scheduler> pipe_us <x>
messaging_s <y> hackbench_s <z>`` (``kernel/vm/bench.sh``), after a ``# clock:``
line naming the guest's clock (MTTCG wall clock, or ``-icount``'s count of
emulated instructions: :func:`clock_of`), the schedulers
interleaved round by round in one boot. Every figure is from an emulated
(QEMU TCG) machine on a shared host: only comparisons within the boot mean
anything. :func:`summarise` gives, per workload and scheduler, the median
and range of the samples and the median over rounds of the time paired with
scx_simple's (or another baseline's) in the same round, with its bootstrap
confidence interval, the target being ``scx_auction`` within :data:`TARGET`
of ``scx_simple``. A verdict needs the whole interval on one side of the
target: where it straddles the target the clock has not resolved it.
Schedulers named ``auction:KNOB=V`` are builds of the same scheduler with
kernel/Makefile's knobs (the A/B variants).

Example:
    >>> rows = parse_samples("auction pipe_us 110 messaging_s 1 hackbench_s 1\\n"
    ...                      "scx_simple pipe_us 100 messaging_s 1 hackbench_s 2\\n")
    >>> [(r.workload, round(r.ratio, 2)) for r in summarise(rows) if r.scheduler == "auction"]
    [('pipe_us', 1.1), ('messaging_s', 1.0), ('hackbench_s', 0.5)]
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auctioneer.measure.interval import median_interval, ratio_spread, rounds_to_resolve
from auctioneer.measure.target import Target

__all__ = ["BASELINE", "TARGET", "WORKLOADS", "Sample", "Summary", "clock_of", "event_counts",
           "parse_samples", "plot", "summarise", "targets"]

WORKLOADS = ("pipe_us", "messaging_s", "hackbench_s")
UNITS = {"pipe_us": "µs per op", "messaging_s": "s", "hackbench_s": "s"}
BASELINE = "scx_simple"
OURS = "auction"
TARGET = 1.10
"""scx_auction's paired median time at most this multiple of scx_simple's."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One round of one scheduler: the three workloads' times (nan: the run gave none)."""

    scheduler: str
    round: int
    times: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Summary:
    """One scheduler on one workload over the rounds."""

    scheduler: str
    workload: str
    samples: int
    median: float
    low: float
    high: float
    ratio: float
    """Median over rounds of this scheduler's time over the baseline's in the same round."""
    ratio_low: float
    ratio_high: float
    """The ratio's 95 % bootstrap confidence interval."""
    spread: float
    """How far one round's ratio strays: a robust standard deviation of the log ratios."""
    rounds_needed: float
    """Rounds this spread needs for the ratio's interval to be about +-5 %."""
    baseline: str = BASELINE


def parse_samples(text: str) -> list[Sample]:
    """The guest's lines; a scheduler's n-th line is its round n."""
    seen: dict[str, int] = {}
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) != 7 or tuple(words[1::2]) != WORKLOADS:
            raise ValueError(f"line {number}: expected '<scheduler> pipe_us X messaging_s Y "
                             f"hackbench_s Z', got {line!r}")
        try:
            times = tuple(float(w) for w in words[2::2])
        except ValueError:
            raise ValueError(f"line {number}: a time is not a number: {line!r}") from None
        name = words[0]
        seen[name] = seen.get(name, 0) + 1
        out.append(Sample(name, seen[name], (times[0], times[1], times[2])))
    return out


def clock_of(text: str) -> str:
    """The guest's clock as the samples' ``# clock:`` line names it."""
    for line in text.splitlines():
        if line.startswith("# clock:"):
            return line.removeprefix("# clock:").strip()
    return "unknown clock"


def event_counts(text: str) -> dict[tuple[str, str], dict[str, float]]:
    """``counts.txt`` (bench.sh): per scheduler and workload, each count's median per run.

    A line is ``<scheduler> <workload> <name> <n> ...``: the guest's context
    switches, idle ticks and IPIs over one run, which the host's load does
    not move the way it moves times.
    """
    runs: dict[tuple[str, str], dict[str, list[float]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        if len(words) < 4 or len(words) % 2:
            raise ValueError(f"line {number}: expected '<scheduler> <workload> <name> <n> ...', "
                             f"got {line!r}")
        mine = runs.setdefault((words[0], words[1]), {})
        for name, value in zip(words[2::2], words[3::2], strict=True):
            try:
                mine.setdefault(name, []).append(float(value))
            except ValueError:
                raise ValueError(f"line {number}: {name} is not a number: {value!r}") from None
    return {key: {name: statistics.median(v) for name, v in counts.items()}
            for key, counts in runs.items()}


def summarise(samples: Sequence[Sample], baseline: str = BASELINE) -> list[Summary]:
    """Per scheduler and workload: median, range and paired ratio to ``baseline``."""
    base = {s.round: s.times for s in samples if s.scheduler == baseline}
    out = []
    for name in dict.fromkeys(s.scheduler for s in samples):
        mine = [s for s in samples if s.scheduler == name]
        for w, workload in enumerate(WORKLOADS):
            times = [s.times[w] for s in mine if not math.isnan(s.times[w])]
            pairs = [s.times[w] / base[s.round][w] for s in mine
                     if s.round in base and base[s.round][w] > 0 and not math.isnan(s.times[w])
                     and not math.isnan(base[s.round][w])]
            nan = float("nan")
            ratio = median_interval(pairs)
            spread = ratio_spread(pairs)
            out.append(Summary(name, workload, len(times),
                               statistics.median(times) if times else nan,
                               min(times, default=nan), max(times, default=nan),
                               ratio.median, ratio.low, ratio.high, spread,
                               rounds_to_resolve(spread), baseline))
    return out


def targets(rows: Sequence[Summary], clock: str = "TCG") -> list[Target]:
    """scx_auction within TARGET of scx_simple, per workload (paired medians).

    PASS when the ratio's whole confidence interval lies at or under the
    target, MISS when it lies above, SKIP (unresolved) when it straddles it.
    """
    out = []
    for r in rows:
        if r.scheduler != OURS or r.baseline != BASELINE:
            continue
        passed: bool | None = None
        if r.ratio_high <= TARGET:
            passed = True
        elif r.ratio_low > TARGET:
            passed = False
        verdict = "" if passed is not None or math.isnan(r.ratio) else ", unresolved"
        out.append(Target(f"{r.workload}: scx_auction <= {TARGET:.2f}x {BASELINE}", passed,
                          f"{r.ratio:.2f}x, 95 % CI {r.ratio_low:.2f}-{r.ratio_high:.2f}x "
                          f"over {r.samples} rounds{verdict} (emulated: {clock})"))
    return out


def plot(rows: Sequence[Summary], path: Path, clock: str = "TCG") -> None:
    """Each workload's medians per scheduler, the bars spanning the samples' range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.scheduler for r in rows))
    fig, axes = plt.subplots(1, len(WORKLOADS), figsize=(12, 4))
    for ax, workload in zip(axes, WORKLOADS, strict=True):
        mine = {r.scheduler: r for r in rows if r.workload == workload}
        xs = [n for n in names if n in mine]
        med = [mine[n].median for n in xs]
        err = [[m - mine[n].low for n, m in zip(xs, med, strict=True)],
               [mine[n].high - m for n, m in zip(xs, med, strict=True)]]
        ax.bar(xs, med, yerr=err, capsize=4, color="tab:blue")
        ax.set_title(workload.rsplit("_", 1)[0])
        ax.set_xlabel("scheduler")
        ax.set_ylabel(f"time, {UNITS[workload].replace('µs', 'us')} (median, range)")
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"perf bench / hackbench under QEMU, 2 vCPUs, {clock} (emulated, not hardware)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
