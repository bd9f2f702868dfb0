"""The scale-out commands: kill -9 an engine process mid-stream and resume it; bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auctioneer.cli import main
from auctioneer.exchange import Exchange
from auctioneer.exchange.scaleout import (
    LocalNats,
    PartitionMap,
    Router,
    dumps_commands,
    read_checkpoint,
    workload,
)
from auctioneer.exchange.scaleout.workload import REGIONS

from ..plots import is_png
from ..usage import names_option_and_value, usage_error
from .nats_fixture import nats_server

__all__ = ["nats_server"]

PARTITIONS = PartitionMap.spread(2, REGIONS)
MAP_ARGS = ["--partitions", "2", "--assign",
            ",".join(f"{r}={p}" for r, p in PARTITIONS.assignments.items())]
_CLI = "import sys; from auctioneer.cli import main; sys.exit(main(sys.argv[1:]))"


def _engine(url: str, checkpoints: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CLI, "stream", "engine", "--nats", url, "--partition", "1",
         "--checkpoint-dir", str(checkpoints), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_engine_process_killed_mid_stream_resumes_to_the_same_hash(
        nats_server: LocalNats, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = workload(PARTITIONS, orders=3000, seed=5)
    commands = tmp_path / "cmds.jsonl"
    commands.write_text(dumps_commands(items))
    assert main(["stream", "publish", str(commands), "--nats", nats_server.url, *MAP_ARGS]) == 0
    assert "0 duplicates ignored" in capsys.readouterr().out
    checkpoints = tmp_path / "ck"
    crashed = _engine(nats_server.url, checkpoints, "--checkpoint-every", "20")
    deadline = time.monotonic() + 20
    while read_checkpoint(checkpoints, 1, "AUCTIONEER_CMDS") is None:
        assert time.monotonic() < deadline and crashed.poll() is None, crashed.communicate()
        time.sleep(0.002)
    crashed.kill()  # SIGKILL: no clean stop, no last checkpoint
    crashed.communicate()
    saved = read_checkpoint(checkpoints, 1, "AUCTIONEER_CMDS")
    assert saved is not None
    router, reference = Router(PARTITIONS), Exchange()
    expected = [it.command for it in items if 1 in router.route(it.command, it.partition)]
    for command in expected:
        reference.apply(command)
    assert saved.seq > 0 and saved.state_hash != reference.state_hash()

    resumed = _engine(nats_server.url, checkpoints, "--idle-exit", "0.5")
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    status = json.loads(out)
    assert status["state_hash"] == reference.state_hash()
    assert 0 < status["applied"] < len(expected)  # it resumed: only the tail was applied
    # Publishing the same file again stores nothing: every id is a duplicate.
    assert main(["stream", "publish", str(commands), "--nats", nats_server.url, *MAP_ARGS]) == 0
    assert " 0 messages stored" in capsys.readouterr().out


def test_publisher_with_another_partition_map_is_refused(
        nats_server: LocalNats, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commands = tmp_path / "cmds.jsonl"
    commands.write_text('{"type": "tick", "ts_ns": 1}\n')
    assert main(["stream", "publish", str(commands), "--nats", nats_server.url, *MAP_ARGS]) == 0
    assert main(["stream", "publish", str(commands), "--nats", nats_server.url,
                 "--partitions", "3"]) == 2
    err = capsys.readouterr().err
    assert "--partitions/--assign" in err and "needs a migration" in err


@pytest.mark.parametrize(("line", "words"), [
    ('{"type": "tick"}', ["line 1", "ts_ns", "required"]),
    ("[1, 2]", ["line 1", "JSON object"]),
    ('{"type": "deposit", "account": "a", "amount": 5}', ["partition", "money is per"]),
    ('{"type": "place_order", "order_id": "o", "account": "a", "side": "buy", "markets": '
     '["us-east-1/gpu.a100", "us-west-2/gpu.a100"], "price": 1, "quantity": 1}',
     ["markets", "cross-market bid"]),
])
def test_bad_command_files_exit_2_before_publishing(
        line: str, words: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    commands = tmp_path / "bad.jsonl"
    commands.write_text(line + "\n")
    # Nothing listens on port 9: the file is refused before any connection.
    assert main(["stream", "publish", str(commands), "--nats", "nats://127.0.0.1:9",
                 *MAP_ARGS]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "FILE.jsonl" in err
    assert all(word in err for word in words), err


@pytest.mark.parametrize(("args", "option", "value"), [
    (["stream", "engine", "--partition", "x"], "--partition", "x"),
    (["stream", "engine", "--partition", "0", "--idle-exit", "0"], "--idle-exit", "0"),
    (["stream", "status", "--partitions", "0"], "--partitions", "0"),
    (["stream", "publish", "f.jsonl", "--assign", "us-east-1:1", "--partitions", "2"],
     "--assign", "us-east-1:1"),
    (["stream", "status", "--stream", "a.b"], "--stream", "a.b"),
    (["bench", "stream", "--orders", "0"], "--orders", "0"),
])
def test_bad_options_exit_2_naming_them(args: list[str], option: str, value: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert names_option_and_value(usage_error(args, capsys), option, value)


def test_generated_command_file_is_seeded(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        assert main(["generate", "stream", "--orders", "50", "--seed", "7", "-o",
                     str(path)]) == 0
    assert first.read_text() == second.read_text()
    assert first.read_text().count("\n") > 50


def test_bench_stream_quick_writes_json_and_png(nats_server: LocalNats, tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "s.json", tmp_path / "s.png"
    assert main(["bench", "stream", "--orders", "200", "--latency-samples", "20", "--nats",
                 nats_server.url, "--json", str(out_json), "--plot", str(out_png)]) == 0
    data = json.loads(out_json.read_text())
    assert all(p["replicas_agree"] and p["matches_baseline"] for p in data["partitions"])
    assert is_png(out_png)
