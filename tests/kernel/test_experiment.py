"""The mix experiment's measurement, on a stand-in scheduler (no sched_ext here).

The experiments themselves need the loaded scheduler and cgroup v2 (``make
scx-vm-test``); what runs here is the order of the reads that make a mix's
counters its own, and what the counters are turned into.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auctioneer.kernel import Mix, experiment
from auctioneer.kernel.experiment import _cpus_ran_ns, _measure
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


def test_measure_reads_every_cpus_run_time_around_the_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    reads = iter([1_000, 3_500])
    monkeypatch.setattr(experiment, "_cpus_ran_ns", lambda: next(reads))
    got = _measure(FakeScheduler(), [os.getpid()], 0.01)  # type: ignore[arg-type]
    assert got.cpus_ran == 2_500
    monkeypatch.setattr(experiment, "_cpus_ran_ns", lambda: None)
    assert _measure(FakeScheduler(), [os.getpid()], 0.01).cpus_ran is None  # type: ignore[arg-type]


def test_cpus_ran_sums_each_cpus_rq_cpu_time(tmp_path: Path) -> None:
    """``/proc/schedstat`` (version 17): the 8th field of each ``cpu<N>`` line; domains skipped."""
    stat = tmp_path / "schedstat"
    stat.write_text("version 17\ntimestamp 4295\n"
                    "cpu0 0 0 120 30 40 20 7000000 900 120\n"
                    "domain0 MC 3 1 2 3 4 5 6 7 8 9 10 11 12\n"
                    "cpu1 0 0 80 10 30 10 5000000 800 80\n")
    assert _cpus_ran_ns(stat) == 12_000_000
    assert _cpus_ran_ns(tmp_path / "absent") is None
