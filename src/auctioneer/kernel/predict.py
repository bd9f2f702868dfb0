"""What the scheduler should give CPU-bound bid classes: a fluid model and a reference.

Both model ``kernel/scx_auction.bpf.c``'s policy for tasks that never sleep:
weight ``FREE_WEIGHT + min(price, MAX_BID)`` while the class pays (a bid at
or above the reserve, budget left in the current window), ``FREE_WEIGHT``
otherwise; each task at most one CPU.

* :func:`fluid` -- the weighted fair share in closed form, window by window
  (water-filling over the CPUs, advanced to each budget exhaustion): the
  prediction the kernel is measured against.
* :func:`simulate` -- the simple reference: the scheduler's own decisions,
  one slice at a time (smallest vtime first, slices of ``units`` quanta capped
  at weight/FREE_WEIGHT, enqueue's vtime clamp, budgets reset per window). The tests check the two
  agree, and the VM test checks the kernel against :func:`fluid`.

Example:
    >>> gold, free = TaskClass("gold", 90_000, 1), TaskClass("free", 0, 1)
    >>> {c.name: round(c.share, 3) for c in fluid([gold, free], cpus=1)}
    {'gold': 0.909, 'free': 0.091}
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from auctioneer.checks import require_int
from auctioneer.kernel.layout import (
    BANK_NS,
    BUDGET_PERIOD_NS,
    FREE_WEIGHT,
    MAX_BID,
    MAX_UNITS,
    QUANTUM_NS,
    U64_MAX,
    Bid,
)

__all__ = ["ClassResult", "TaskClass", "fluid", "simulate"]


@dataclass(frozen=True, slots=True)
class TaskClass:
    """``tasks`` CPU-bound tasks of one agent: price (0: no bid), slice units, budget per window."""

    name: str
    price: int
    tasks: int
    units: int = 1
    budget: int = 0

    def __post_init__(self) -> None:
        Bid(price=self.price, units=self.units, budget=self.budget)  # the map's ranges
        require_int(self.price, "price", 0, MAX_BID)
        require_int(self.tasks, "tasks", 1, 4096)


@dataclass(frozen=True, slots=True)
class ClassResult:
    """A class's share of all the CPUs' time, and what it paid per second (micro-units)."""

    name: str
    share: float
    paid_per_s: float


def _paying(c: TaskClass, reserve: int, spent: float) -> bool:
    return c.price > 0 and c.price >= reserve and (not c.budget or spent < c.budget)


def _weight(c: TaskClass, paying: bool) -> int:
    return FREE_WEIGHT + (min(c.price, MAX_BID) if paying else 0)


def _rates(weights: list[int], counts: list[int], cpus: int) -> list[float]:
    """Per-task CPU rate by class: weighted fair share, each task capped at one CPU."""
    rate = [0.0] * len(weights)
    left, capacity = set(range(len(weights))), float(cpus)
    while left:
        lam = capacity / sum(weights[i] * counts[i] for i in left)
        capped = [i for i in left if weights[i] * lam >= 1.0]
        if not capped:
            for i in left:
                rate[i] = weights[i] * lam
            break
        for i in capped:
            rate[i] = 1.0
            capacity -= counts[i]
            left.discard(i)
    return rate


def fluid(classes: Sequence[TaskClass], cpus: int, reserve: int = 0,
          window_ns: int = BUDGET_PERIOD_NS) -> list[ClassResult]:
    """The fluid model over one budget window (every window repeats it)."""
    require_int(cpus, "cpus", 1, 4096)
    spent = [0.0] * len(classes)
    cpu = [0.0] * len(classes)
    counts = [c.tasks for c in classes]
    t = 0.0
    while t < window_ns:
        paying = [_paying(c, reserve, s) for c, s in zip(classes, spent, strict=True)]
        rates = _rates([_weight(c, p) for c, p in zip(classes, paying, strict=True)], counts, cpus)
        spend = [c.price * c.tasks * r / QUANTUM_NS if p else 0.0
                 for c, r, p in zip(classes, rates, paying, strict=True)]
        dt = window_ns - t
        for c, s, rate in zip(classes, spent, spend, strict=True):
            if c.budget and rate > 0:
                dt = min(dt, (c.budget - s) / rate)
        for i, c in enumerate(classes):
            cpu[i] += c.tasks * rates[i] * dt
            spent[i] += spend[i] * dt
        t += dt
    scale = 1e9 / window_ns
    return [ClassResult(c.name, cpu[i] / (cpus * window_ns), spent[i] * scale)
            for i, c in enumerate(classes)]


def simulate(classes: Sequence[TaskClass], cpus: int, duration_ns: int, reserve: int = 0,
             window_ns: int = BUDGET_PERIOD_NS) -> list[ClassResult]:
    """The reference: the scheduler's decisions slice by slice on ``cpus`` CPUs."""
    require_int(cpus, "cpus", 1, 4096)
    require_int(duration_ns, "duration_ns", 1, U64_MAX)
    owner = [k for k, c in enumerate(classes) for _ in range(c.tasks)]
    vtime = [0] * len(owner)
    vtime_now = 0
    spent, window = [0] * len(classes), [0] * len(classes)
    cpu_ns, paid = [0] * len(classes), [0] * len(classes)
    waiting = [(0, i) for i in range(len(owner))]
    heapq.heapify(waiting)
    free_at = [(0, c) for c in range(cpus)]  # (time the CPU frees, cpu)
    running: dict[int, tuple[int, int, int, int]] = {}  # cpu -> task, start, price, weight
    while free_at:
        now, c = heapq.heappop(free_at)
        if c in running:  # the task on it stops: charge it, advance its vtime, queue it again
            task, start, price, weight = running.pop(c)
            k, used = owner[task], min(now, duration_ns) - start
            vtime[task] += used * FREE_WEIGHT // weight
            cpu_ns[k] += used
            charge = price * (used // 1000) // (QUANTUM_NS // 1000)
            spent[k] += charge
            paid[k] += charge
            # enqueue's clamp: no more than bank_ns behind vtime_now
            vtime[task] = max(vtime[task], vtime_now - BANK_NS)
            heapq.heappush(waiting, (vtime[task], task))
        if now >= duration_ns or not waiting:
            continue
        _, task = heapq.heappop(waiting)
        vtime_now = max(vtime_now, vtime[task])
        k = owner[task]
        cls = classes[k]
        if now // window_ns != window[k]:
            window[k], spent[k] = now // window_ns, 0
        pays = _paying(cls, reserve, spent[k])
        weight = _weight(cls, pays)
        units = max(1, min(cls.units, weight // FREE_WEIGHT, MAX_UNITS))
        running[c] = (task, now, cls.price if pays else 0, weight)
        heapq.heappush(free_at, (now + units * QUANTUM_NS, c))
    return [ClassResult(cls.name, cpu_ns[k] / (cpus * duration_ns), paid[k] * 1e9 / duration_ns)
            for k, cls in enumerate(classes)]
