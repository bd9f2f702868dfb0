"""Experiments on the loaded scheduler with CPU-bound tasks: bid classes and starvation.

* :func:`run_mix` -- classes of busy-loop processes, one cgroup per class with
  the class's bid and budget (a class without a price has no bid), run for a
  while; each class's measured share of the CPUs (``/proc/<pid>/schedstat``)
  and payment (the ``auc_accounts`` map) against what ``auctioneer simulate``
  predicts for the same classes (:func:`~auctioneer.kernel.predict.predict`)
  at the reserve the published price page sets, with the scheduler's
  counters over the measurement (how often the budget-window cut fired) and
  the part of the CPUs' run time that went to tasks outside the classes.
* :func:`run_starve` -- hogs at the highest bid and one hog with no bid: the
  free hog must run, and the longest wait any task saw (``max_wait_ns``)
  must stay under :func:`~auctioneer.kernel.layout.wait_bound_ns`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auctioneer.kernel.bids import CGROUP_ROOT, BidSpec, parse_bids
from auctioneer.kernel.layout import (
    BUDGET_PERIOD_NS,
    MAX_BID,
    MAX_UNITS,
    Account,
    wait_bound_ns,
)
from auctioneer.kernel.predict import TaskClass, load_prediction, predict
from auctioneer.kernel.scheduler import Scheduler

__all__ = ["Mix", "MixRow", "run_mix", "run_starve"]

SHARE_TOLERANCE = 0.05  # 5 percentage points per class
SYSTEM_TASKS = 8  # slack for the guest's own runnable tasks in the wait bound


@dataclass(frozen=True, slots=True)
class MixRow:
    """One class: predicted and measured share of all CPUs, and payments per second."""

    name: str
    predicted_share: float  # auctioneer simulate, cpu.policy fair-share
    measured_share: float
    predicted_paid_per_s: float
    measured_paid_per_s: float

    @property
    def share_error_pp(self) -> float:
        return 100 * (self.measured_share - self.predicted_share)


@dataclass(frozen=True, slots=True)
class Mix:
    """A mix run: each class's row, and ``auc_stats`` summed over CPUs during the measurement.

    Example: 12 cuts in 2 s are 6 a 1 s budget window, one per runnable hog.

        >>> Mix((), {"window_cuts": 12}, 2.0).window_cuts_per_window()
        6.0
    """

    rows: tuple[MixRow, ...]
    counters: dict[str, int]  # zeroed when the measurement starts
    seconds: float  # the measurement's length (CLOCK_MONOTONIC, the clock the windows use)
    # Of all tasks' run time on the CPUs, the part that was not the classes' (the guest's own
    # tasks, the controller); None where the kernel has no /proc/schedstat. The prediction
    # has no such tasks: they take their time from the classes that are not capped at a
    # CPU, so the capped ones' share of the classes' time rises.
    others: float | None = None

    def window_cuts_per_window(self) -> float:
        """O(1). Each still-runnable task is cut once a window it ends a slice in."""
        return self.counters["window_cuts"] * BUDGET_PERIOD_NS / (self.seconds * 1e9)


@dataclass(frozen=True, slots=True)
class _Measured:
    ran: dict[int, int]  # pid -> run time (ns)
    cpus_ran: int | None  # every task's run time on every CPU (ns)
    paid0: dict[int, Account]
    paid1: dict[int, Account]
    seconds: float
    counters: dict[str, int]


def _hog() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sh", "-c", "while :; do :; done"])


def _runtime_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def _accounts(sched: Scheduler) -> tuple[dict[int, Account], float]:
    """The accounts, stamped with the middle of the (slow, under emulation) read."""
    t0 = time.monotonic()
    accounts = sched.accounts()
    return accounts, (t0 + time.monotonic()) / 2


def _cpus_ran_ns(schedstat: Path = Path("/proc/schedstat")) -> int | None:
    """Every task's run time on every CPU so far (ns): ``/proc/schedstat``'s ``rq_cpu_time``,
    the clock of the tasks' own schedstat; None without schedstats. O(CPUs)."""
    try:
        text = schedstat.read_text()
    except OSError:
        return None
    return sum(int(line.split()[7]) for line in text.splitlines() if line.startswith("cpu"))


def _measure(sched: Scheduler, pids: Sequence[int], seconds: float) -> _Measured:
    """Zero the counters, then the pids' run time, the accounts and the counters over ``seconds``.

    The reset comes first so that the counters are the measurement's own, not
    the settling's or an earlier step's (``run_starve`` resets them too).
    """
    sched.reset_stats()
    paid0, t0 = _accounts(sched)
    before, cpus0 = {pid: _runtime_ns(pid) for pid in pids}, _cpus_ran_ns()
    time.sleep(seconds)
    ran = {pid: _runtime_ns(pid) - before[pid] for pid in pids}
    cpus1 = _cpus_ran_ns()
    cpus_ran = None if cpus0 is None or cpus1 is None else cpus1 - cpus0
    paid1, t1 = _accounts(sched)
    return _Measured(ran, cpus_ran, paid0, paid1, t1 - t0, sched.stats().counters)


@contextmanager
def _hogs(n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [_hog() for _ in range(n)]
    try:
        yield procs
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()


@contextmanager
def _controller_bid(sched: Scheduler, cgroup_root: Path) -> Iterator[None]:
    """Run this process and its children (bpftool) at the highest bid while it drives hogs.

    Otherwise the experiment's own reads and clean-up run at the free weight
    behind the busy loops it started, which under emulation takes minutes. It
    sleeps through the measurement, so it takes no share from the classes.
    Enter it after starting the hogs: children inherit the cgroup.
    """
    (cgroup_root / "cgroup.subtree_control").write_text("+cpu")
    ctl = cgroup_root / "auctioneer-ctl"
    ctl.mkdir(exist_ok=True)
    (ctl / "cgroup.procs").write_text(str(os.getpid()))
    specs = parse_bids({"bids": [{"cgroup": str(ctl), "price": MAX_BID}]}, "controller",
                       cgroup_root)
    sched.set_bids(specs)
    try:
        yield
    finally:
        (cgroup_root / "cgroup.procs").write_text(str(os.getpid()))
        sched.clear_bids(specs)
        ctl.rmdir()


def _cgroup(parent: Path, name: str) -> Path:
    for d in (parent.parent, parent):
        (d / "cgroup.subtree_control").write_text("+cpu")  # cgroup_move sees the class's cgroup
        if d == parent.parent:
            parent.mkdir(exist_ok=True)
    path = parent / name
    path.mkdir(exist_ok=True)
    return path


def run_mix(sched: Scheduler, cpus: int, classes: Sequence[TaskClass], seconds: float,
            cgroup_root: Path = CGROUP_ROOT, prediction: Path | None = None) -> Mix:
    """Run the classes for ``seconds``; each class's prediction and measurement.

    ``prediction``: a saved ``auctioneer kernel predict --json`` for the same
    CPUs, classes and reserve, instead of simulating here (the VM test makes
    it on the host: the simulator's imports are slow under emulation).
    """
    reserve = sched.reserve()
    saved = None if prediction is None else load_prediction(prediction, cpus, classes, reserve)
    parent = cgroup_root / "auctioneer-mix"
    groups = {c.name: _cgroup(parent, c.name) for c in classes}
    specs: list[BidSpec] = []
    try:
        with _hogs(sum(c.tasks for c in classes)) as procs, _controller_bid(sched, cgroup_root):
            it = iter(procs)
            members = {c.name: [next(it) for _ in range(c.tasks)] for c in classes}
            for c in classes:
                for p in members[c.name]:
                    (groups[c.name] / "cgroup.procs").write_text(str(p.pid))
            entries = [{"cgroup": str(groups[c.name]), "price": c.price, "units": c.units,
                        "budget": c.budget} for c in classes if c.price]
            specs = parse_bids({"bids": entries}, "mix", cgroup_root)
            sched.set_bids(specs)
            time.sleep(0.5)
            got = _measure(sched, [p.pid for p in procs], seconds)
    finally:
        sched.clear_bids(specs)
        for g in groups.values():
            g.rmdir()
        parent.rmdir()
    predicted = {r.name: r for r in (saved.classes if saved else predict(classes, cpus,
                                                                          reserve))}
    keys = {s.target: s.key for s in specs}
    # Shares of the hogs' own run time, scaled to the CPUs they can fill: under
    # emulation the guest's sched_clock (schedstat) and CLOCK_MONOTONIC (wall)
    # drift apart by up to tens of percent, so dividing by wall time is wrong.
    busy = sum(got.ran.values()) or 1
    filled = min(1.0, len(procs) / cpus)
    rows = []
    for c in classes:
        key = keys.get(f"cgroup {groups[c.name]}")
        paid = 0
        if key is not None and key in got.paid1:
            paid = got.paid1[key].charged - (got.paid0[key].charged if key in got.paid0 else 0)
        rows.append(MixRow(c.name, predicted[c.name].share,
                           filled * sum(got.ran[p.pid] for p in members[c.name]) / busy,
                           predicted[c.name].paid_per_s, paid / got.seconds))
    others = None if not got.cpus_ran else max(0.0, 1 - busy / got.cpus_ran)
    return Mix(tuple(rows), got.counters, got.seconds, others)


def run_starve(sched: Scheduler, hogs: int, seconds: float,
               cgroup_root: Path = CGROUP_ROOT) -> dict[str, float | int | bool]:
    """``hogs`` busy loops at the highest bid plus one with no bid; did the free one run in time?"""
    sched.reset_stats()
    with _hogs(hogs + 1) as procs, _controller_bid(sched, cgroup_root):
        rich, free = procs[:hogs], procs[hogs]
        specs = parse_bids({"bids": [{"pid": p.pid, "price": MAX_BID, "units": MAX_UNITS}
                                     for p in rich]}, "starve")
        sched.set_bids(specs)
        start = _runtime_ns(free.pid)
        time.sleep(seconds)
        free_ns = _runtime_ns(free.pid) - start
        sched.clear_bids(specs)
    stats = sched.stats()
    bound = wait_bound_ns(hogs + SYSTEM_TASKS)
    max_wait = stats.counters["max_wait_ns"]
    return {"hogs": hogs, "seconds": seconds, "free_ran_ns": free_ns, "max_wait_ns": max_wait,
            "bound_ns": bound, "ok": free_ns > 0 and max_wait <= bound}
