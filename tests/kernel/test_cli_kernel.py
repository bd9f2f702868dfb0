"""``auctioneer kernel``: bad bid files exit 2 before anything loads; no sched_ext is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from auctioneer.cli import main
from auctioneer.kernel import scheduler

BAD = [
    ("bids:\n  - {pid: 1, price: -5}\n", "bids[0].price: -5 is negative"),
    ("bids:\n  - {pid: 1, price: 4294967296}\n", "past the u32 micro-unit fixed-point range"),
    ("bids:\n  - {cgroup: no-such-agent, price: 5}\n", "unknown cgroup 'no-such-agent'"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_bids_exit_2_and_load_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, text: str,
                                          message: str) -> None:
    def never(*_: object) -> object:
        raise AssertionError("the scheduler was touched")

    monkeypatch.setattr(scheduler.Scheduler, "load", never)
    bids = tmp_path / "bids.yaml"
    bids.write_text(text)
    assert main(["kernel", "load", "--bids", str(bids)]) == 2
    err = capsys.readouterr().err
    assert message in err and "--bids" in err and "Traceback" not in err


def test_a_kernel_without_sched_ext_gets_one_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "SCHED_EXT", tmp_path / "no-sched-ext")
    assert main(["kernel", "status"]) == 1
    err = capsys.readouterr().err
    assert "has no sched_ext" in err and "CONFIG_SCHED_CLASS_EXT=y" in err
    assert "Traceback" not in err


def test_predict_needs_no_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    mix = Path(__file__).resolve().parents[2] / "kernel" / "vm" / "mix.yaml"
    assert main(["kernel", "predict", str(mix)]) == 0
    out = capsys.readouterr().out
    assert "gold" in out and "free" in out


def test_predict_writes_the_simulators_scenario(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """``--scenario`` writes what ``auctioneer simulate`` runs: the same shares come back."""
    from auctioneer.sim import load_scenario, simulate

    mix = Path(__file__).resolve().parents[2] / "kernel" / "vm" / "mix.yaml"
    out = tmp_path / "mix-sim.yaml"
    assert main(["kernel", "predict", str(mix), "--scenario", str(out)]) == 0
    printed = capsys.readouterr().out
    shares = simulate(load_scenario(out)).metrics.class_share
    assert f"{100 * shares[0]:>7.2f}%" in printed


@pytest.mark.parametrize("reserve", ["-1", str(2**63), str(10**30), "x"])
def test_predict_refuses_a_bad_reserve(reserve: str, capsys: pytest.CaptureFixture[str]) -> None:
    mix = Path(__file__).resolve().parents[2] / "kernel" / "vm" / "mix.yaml"
    assert main(["kernel", "predict", str(mix), "--reserve", reserve]) == 2
    assert "--reserve" in capsys.readouterr().err
