"""The CPU-cost measurement of the scale-out stages runs against a real nats-server."""

import json
from pathlib import Path

import pytest

from auctioneer.exchange.scaleout import find_nats_server
from auctioneer.exchange.scaleout.costs import cpu_seconds, main, process_tree, processes_with


def test_costs_reports_every_stage(tmp_path: Path) -> None:
    if find_nats_server() is None:
        pytest.skip("nats-server is not installed (Debian package nats-server)")
    out = tmp_path / "costs.json"
    assert main(["--orders", "60", "--runs", "2", "--json", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 2
    result = runs[0]
    for key in ("apply_us", "publish_client_us", "replay_client_us", "publish_per_s"):
        assert result[key] > 0
    assert result["publish_server_us"] >= 0
    for bad in (["--json", str(tmp_path / "no" / "such.json")], ["--runs", "0"]):
        with pytest.raises(SystemExit) as caught:
            main(bad)
        assert caught.value.code == 2


def test_process_cpu_is_read_from_proc() -> None:
    mine = processes_with("pytest")
    assert mine and cpu_seconds(mine) > 0
    assert process_tree(mine[0])[0] == mine[0]
