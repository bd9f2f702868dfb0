"""The VM benchmark's summary: medians, ranges, ratios paired by round, PASS/MISS."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from auctioneer.cli.app import main
from auctioneer.kernel.benchreport import (
    clock_of,
    event_counts,
    parse_samples,
    summarise,
    targets,
)

TEXT = """\
# clock: icount shift=0
eevdf pipe_us 120 messaging_s 0.5 hackbench_s 0.3
auction pipe_us 210 messaging_s 0.8 hackbench_s nan
scx_simple pipe_us 200 messaging_s 1.0 hackbench_s 0.4
scx_simple pipe_us 400 messaging_s 1.0 hackbench_s 0.4
auction pipe_us 420 messaging_s 1.5 hackbench_s 0.4
"""


def test_ratios_pair_each_round() -> None:
    """Round 2 ran slower for both: pairing by round keeps that out of the ratio."""
    rows = {(r.scheduler, r.workload): r for r in summarise(parse_samples(TEXT))}
    pipe = rows["auction", "pipe_us"]
    assert (pipe.samples, pipe.median, pipe.low, pipe.high) == (2, 315, 210, 420)
    assert pipe.ratio == pytest.approx(1.05)
    assert rows["auction", "messaging_s"].ratio == pytest.approx((0.8 + 1.5) / 2)
    assert rows["auction", "hackbench_s"].samples == 1  # nan: the run gave no time
    assert rows["scx_simple", "pipe_us"].ratio == 1.0
    assert math.isnan(rows["eevdf", "pipe_us"].ratio) is False


def test_targets_pass_within_ten_percent() -> None:
    """messaging's two rounds (0.8x, 1.5x) straddle 1.10x: unresolved, not a verdict."""
    verdicts = {t.name.split(":")[0]: t.passed for t in targets(summarise(parse_samples(TEXT)))}
    assert verdicts == {"pipe_us": True, "messaging_s": None, "hackbench_s": True}


def test_a_miss_needs_the_whole_interval_above_the_target() -> None:
    lines = [f"{name} pipe_us {t} messaging_s {t} hackbench_s 1"
             for k in range(9) for name, t in (("auction", 120 + k), ("scx_simple", 100))]
    rows = summarise(parse_samples("\n".join(lines)))
    verdicts = {t.name.split(":")[0]: t.passed for t in targets(rows)}
    assert verdicts == {"pipe_us": False, "messaging_s": False, "hackbench_s": True}
    pipe = next(r for r in rows if (r.scheduler, r.workload) == ("auction", "pipe_us"))
    assert 1.2 <= pipe.ratio_low <= pipe.ratio <= pipe.ratio_high <= 1.28


def test_variants_pair_with_another_baseline() -> None:
    """The A/B: auction:KICK=0's rounds against auction's."""
    text = ("auction pipe_us 100 messaging_s 1 hackbench_s 1\n"
            "auction:KICK=0 pipe_us 90 messaging_s 1 hackbench_s 2\n")
    rows = {r.scheduler: r for r in summarise(parse_samples(text), "auction")
            if r.workload == "pipe_us"}
    assert rows["auction:KICK=0"].ratio == pytest.approx(0.9)
    assert rows["auction:KICK=0"].baseline == "auction"
    assert targets(list(rows.values())) == []  # the target is against scx_simple only


@pytest.mark.parametrize("line", ["auction pipe_us 1 messaging_s 2",
                                  "auction pipe_us x messaging_s 2 hackbench_s 3",
                                  "auction pipe 1 messaging_s 2 hackbench_s 3"])
def test_malformed_lines_are_refused(line: str) -> None:
    with pytest.raises(ValueError, match="line 1"):
        parse_samples(line)


def test_the_command_writes_json_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    samples = tmp_path / "bench.txt"
    samples.write_text(TEXT)
    code = main(["bench", "kernel", str(samples), "--json", str(tmp_path / "b.json"),
                 "--png", str(tmp_path / "b.png")])
    out = capsys.readouterr().out
    assert code == 0 and "PASS  pipe_us" in out and "SKIP  messaging_s" in out
    assert "unresolved" in out
    assert (tmp_path / "b.json").stat().st_size and (tmp_path / "b.png").stat().st_size


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    assert main(["bench", "kernel", str(tmp_path / "none.txt")]) == 2


def test_an_unknown_baseline_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = tmp_path / "bench.txt"
    samples.write_text(TEXT)
    assert main(["bench", "kernel", str(samples), "--baseline", "cfs"]) == 2
    assert "--baseline" in capsys.readouterr().err


def test_the_clock_line_names_the_guests_clock() -> None:
    assert clock_of(TEXT) == "icount shift=0"
    assert clock_of("auction pipe_us 1 messaging_s 1 hackbench_s 1") == "unknown clock"
    assert "(emulated: icount shift=0)" in targets(summarise(parse_samples(TEXT)),
                                                   clock_of(TEXT))[0].detail


def test_event_counts_are_medians_per_scheduler_and_workload(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("auction messaging ctxt 100 res 10\nauction messaging ctxt 300 res 30\n"
            "auction messaging ctxt 200 res 20\nscx_simple pipe ctxt 5 res 1\n")
    assert event_counts(text) == {("auction", "messaging"): {"ctxt": 200, "res": 20},
                                  ("scx_simple", "pipe"): {"ctxt": 5, "res": 1}}
    (tmp_path / "bench.txt").write_text(TEXT)
    (tmp_path / "counts.txt").write_text(text)
    assert main(["bench", "kernel", str(tmp_path / "bench.txt")]) == 0
    assert "ctxt 200 res 20" in capsys.readouterr().out


@pytest.mark.parametrize("line", ["auction pipe ctxt", "auction pipe ctxt x"])
def test_malformed_counts_are_refused(line: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="line 1"):
        event_counts(line)
    (tmp_path / "bench.txt").write_text(TEXT)
    (tmp_path / "counts.txt").write_text(line)
    assert main(["bench", "kernel", str(tmp_path / "bench.txt")]) == 2
