"""The mix experiment's measurement, on a stand-in scheduler (no sched_ext here).

The experiments themselves need the loaded scheduler and cgroup v2 (``make
scx-vm-test``); what runs here is the order of the reads that make a mix's
counters its own, and what the counters are turned into.
"""

from __future__ import annotations

import os

import pytest

from auctioneer.kernel import Mix
from auctioneer.kernel.experiment import _measure
from auctioneer.kernel.layout import Account, Stats


class FakeScheduler:
    """Logs the calls; each accounts() read charges the agent 1 000 more, stats() counts cuts."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.charged = 0

    def reset_stats(self) -> None:
        self.calls.append("reset_stats")

    def accounts(self) -> dict[int, Account]:
        self.calls.append("accounts")
        self.charged += 1_000
        return {7: Account(self.charged, 0, 0, 0, 0)}

    def stats(self) -> Stats:
        self.calls.append("stats")
        return Stats({"window_cuts": 6, "window_cut_ns": 5_000_000}, ())


def test_measure_zeroes_the_counters_before_the_window_and_reads_them_after() -> None:
    sched = FakeScheduler()
    got = _measure(sched, [os.getpid()], 0.02)  # type: ignore[arg-type]
    assert sched.calls == ["reset_stats", "accounts", "accounts", "stats"]
    assert got.counters == {"window_cuts": 6, "window_cut_ns": 5_000_000}
    assert got.paid1[7].charged - got.paid0[7].charged == 1_000
    assert got.seconds >= 0.02
    assert list(got.ran) == [os.getpid()] and got.ran[os.getpid()] >= 0


@pytest.mark.parametrize(("cuts", "seconds", "per_window"), [(12, 2.0, 6.0), (0, 6.0, 0.0),
                                                             (3, 0.5, 6.0)])
def test_window_cuts_per_window(cuts: int, seconds: float, per_window: float) -> None:
    mix = Mix((), {"window_cuts": cuts}, seconds)
    assert mix.window_cuts_per_window() == pytest.approx(per_window)
