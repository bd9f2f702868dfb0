"""Cache misses per tick, simulated by cachegrind: the directive's "cache miss rate".

``perf stat`` needs hardware counters, which a virtual machine often lacks;
cachegrind (valgrind) simulates the caches deterministically on any machine.
:func:`measure` runs this module under ``valgrind --tool=cachegrind`` twice
per structure and size -- once running ``ticks`` ticks inside C
(``time_ops``, update + select(2) each), once building the same book and
operations without running them -- and divides the difference by ``ticks``,
so the interpreter's start-up, the book's fill and the workload's
generation cancel out. The result is instructions, data references, L1 data
misses and last-level misses per tick, for cachegrind's default simulated
caches (the host's L1 and last-level geometry).

``python -m auctioneer.tick.cache_probe NAME N TICKS RUN`` is the probe
itself: a seeded LCG workload (bids uniform in $0.50..$1.50, as the tick
benchmark), no numpy, so the baseline stays small.

Example:
    >>> parse_summary("==1== I   refs:      2,000\\n==1== D1  misses:   30 (20 rd + 10 wr)")
    {'I': 2000, 'D1': 30}
"""

from __future__ import annotations

import array
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from auctioneer.checks import require_int

__all__ = ["CacheResult", "measure", "parse_summary", "probe"]

_LINE = re.compile(r"^==\d+== (I|D|D1|LLd|LL)\s+(refs|misses):\s+([\d,]+)", re.MULTILINE)
_KEYS = {("I", "refs"): "I", ("D", "refs"): "D", ("D1", "misses"): "D1",
         ("LLd", "misses"): "LLd", ("LL", "misses"): "LL"}
_LOW, _SPAN = 500_000, 1_000_001


def parse_summary(text: str) -> dict[str, int]:
    """Cachegrind's summary counts: I refs, D refs, D1 misses, LLd misses, LL misses."""
    out = {}
    for name, kind, count in _LINE.findall(text):
        key = _KEYS.get((name, kind))
        if key is not None:
            out[key] = int(count.replace(",", ""))
    return out


def probe(name: str, n: int, ticks: int, run: bool) -> None:
    """Fill a book of ``n`` agents, draw ``ticks`` operations, and run them if ``run``."""
    from auctioneer.tick import _core, _timing

    book = getattr(_core, name)(n)
    state = 12345

    def draw() -> int:
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        return state >> 33

    for agent in range(n):
        book.update(agent, _LOW + draw() % _SPAN)
    agents = array.array("I", (draw() % n for _ in range(ticks)))
    prices = array.array("I", (_LOW + draw() % _SPAN for _ in range(ticks)))
    if not run:
        agents, prices = agents[:0], prices[:0]
    _timing.time_ops(book, 2, agents, prices, min(2, n))


@dataclass(frozen=True, slots=True)
class CacheResult:
    """Per tick, the difference of a running and a non-running probe, over ``ticks``."""

    structure: str
    n: int
    ticks: int
    per_tick: dict[str, float]
    """instructions, data refs, D1 misses, LLd misses, LL misses per tick."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {"structure": self.structure, "n": self.n, "ticks": self.ticks,
                "instructions": round(self.per_tick["I"], 2),
                "data_refs": round(self.per_tick["D"], 2),
                "d1_misses": round(self.per_tick["D1"], 3),
                "lld_misses": round(self.per_tick["LLd"], 3),
                "ll_misses": round(self.per_tick["LL"], 3),
                "d1_miss_rate": round(self.per_tick["D1"] / self.per_tick["D"], 5)
                if self.per_tick["D"] > 0 else None}


def _counts(name: str, n: int, ticks: int, run: bool) -> dict[str, int]:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise ValueError("valgrind is not installed (apt-get install valgrind)")
    done = subprocess.run(
        [valgrind, "--tool=cachegrind", "--cache-sim=yes", "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", "auctioneer.tick.cache_probe", name, str(n), str(ticks),
         "1" if run else "0"],
        capture_output=True, text=True, check=False)
    counts = parse_summary(done.stderr)
    if done.returncode != 0 or set(counts) != set(_KEYS.values()):
        raise ValueError(f"cachegrind failed on {name} N={n}: {done.stderr.strip()[-400:]}")
    return counts


def measure(structures: Sequence[str], sizes: Sequence[int], ticks: int,
            step: Callable[[str], None] | None = None) -> list[CacheResult]:
    """Every structure at every size: two cachegrind runs each (about a minute per pair)."""
    require_int(ticks, "ticks", 1, 10_000_000)
    out = []
    for n in sizes:
        require_int(n, "n", 2, 1_000_000)
        for name in structures:
            if step is not None:
                step(f"cachegrind  {name}  N={n}")
            ran, idle = _counts(name, n, ticks, True), _counts(name, n, ticks, False)
            out.append(CacheResult(name, n, ticks,
                                   {k: (ran[k] - idle[k]) / ticks for k in ran}))
    return out


if __name__ == "__main__":
    probe(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1")
