"""``auctioneer serve`` and ``auctioneer load`` on the command line: bad options exit 2 naming
the option; a short load run reports and writes JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auctioneer.cli import main
from auctioneer.service.process import free_port

from ..usage import usage_error
from .conftest import Live


@pytest.mark.parametrize(("argv", "option"), [
    (["serve", "--port", "http"], "--port"),
    (["serve", "--fsync", "sometimes"], "--fsync"),
    (["serve", "--db", "::nope"], "--db"),
    (["serve", "--rate", "0"], "--rate"),
    (["load", "--url", "http://127.0.0.1:9"], "--admin-key"),
    (["load", "--clients", "0"], "--clients"),
    (["load", "--batch", "1001"], "--batch"),
    (["load", "--client", "curl"], "--client"),
    (["load", "--echo", "--url", "http://127.0.0.1:9"], "--echo"),
])
def test_bad_options_exit_2(argv: list[str], option: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert option in usage_error(argv, capsys)


@pytest.mark.parametrize("url", ["foo://x", "sqlite://", "sqlite:////nonexistent/dir/x.db"])
def test_a_bad_database_is_one_line_before_serving(url: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Checked (and connected to) before uvicorn starts: no traceback, exit 2."""
    assert main(["serve", "--db", url, "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--db" in err and repr(url) in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize("client", ["httpx", "raw"])
def test_load_runs_against_a_started_server(tmp_path: Path, client: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "load.json"
    argv = ["load", "--duration", "0.5", "--warmup", "0", "--client", client, "--json", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "orders/s" in printed and "p99" in printed
    result = json.loads(out.read_text())
    assert result["orders"] > 0 and result["errors"] == {}
    assert result["latency_ms"]["p99"] >= result["latency_ms"]["p50"] > 0
    assert "admin_key" not in result["config"]
    assert result["client_cpu_us"] > 0
    assert set(result["server_cpu_us"]) == {"service", "follower"}
    assert "CPU per order while measuring: service" in printed
    assert result["fsync_ms"]["p99"] >= result["fsync_ms"]["p50"] > 0
    assert "fsync of the data directory's disk" in printed


@pytest.mark.parametrize("batch", ["1", "20"])
def test_load_echo_measures_the_generator_alone(batch: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "echo.json"
    argv = ["load", "--echo", "--batch", batch, "--duration", "0.5", "--warmup", "0",
            "--json", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["orders"] == result["requests"] * int(batch) > 0
    assert result["errors"] == {} and result["trades"] == 0 and result["server_cpu_us"] == {}
    target = "single orders/s" if batch == "1" else "through POST /orders/batch"
    assert target in printed


def test_load_against_a_dead_server_or_with_a_wrong_key_is_one_line(
        market_live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 12 #9: httpx.ConnectError and HTTPStatusError (401) were tracebacks."""
    dead = f"http://127.0.0.1:{free_port()}"
    assert main(["load", "--url", dead, "--admin-key", "admin.x", "--duration", "0.1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'--url'" in err and "cannot reach the service" in err
    assert main(["load", "--url", market_live.url, "--admin-key", "admin.wrong",
                 "--duration", "0.1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'--admin-key'" in err and "refused the admin key (401" in err
