"""``auctioneer load --client wrk``: the wrk program drives a real served app, its orders land;
without wrk, or with a fractional duration, the CLI exits 2 naming the option."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from auctioneer.cli import main
from auctioneer.service.load import LoadConfig, run_load
from auctioneer.service.loadwrk import MARK, lua_script, thread_groups

from .conftest import MARKET, OTHER, Live

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None,
                               reason="the wrk program (Debian package wrk) is not installed")


def _orders_landed(live: Live, batch: int) -> None:
    keys = [live.provider(f"wrk-{batch}-{i}", (MARKET, OTHER), 10**6) for i in range(3)]
    markets = [(MARKET, 1_000, 2_000_000), (OTHER, 100, 40_000)]
    before = live.state()["seq"]
    config = LoadConfig(url=live.url, admin_key=live.service.admin_key, clients=3,
                        duration_s=1.0, warmup_s=0.0, batch=batch, client="wrk")
    result = asyncio.run(run_load(config, (keys, markets)))
    assert result.errors == {} and result.requests > 0
    assert result.orders == result.requests * batch
    assert result.latency_ms.p99 >= result.latency_ms.p50 > 0 and result.client_cpu_us > 0
    # Every order answered was journaled first (one record or more each); the resting ones
    # are in their owners' books.
    assert live.state()["seq"] - before >= result.orders
    open_orders = 0
    for key in keys:
        with live.client(key) as c:
            listed = c.get("/orders")
            assert listed.status_code == 200, listed.text
            open_orders += len(listed.json())
    assert open_orders > 0


@needs_wrk
@pytest.mark.parametrize("batch", [1, 5])
def test_wrk_orders_land_in_a_served_app(market_live: Live, batch: int) -> None:
    _orders_landed(market_live, batch)


@needs_wrk
def test_wrk_counts_refused_requests_as_errors(market_live: Live) -> None:
    """Keys the service does not know: every answer a 401, none counted as an order."""
    config = LoadConfig(url=market_live.url, admin_key=market_live.service.admin_key,
                        clients=2, duration_s=1.0, warmup_s=0.0, batch=1, client="wrk")
    markets = [(MARKET, 1_000, 2_000_000)]
    result = asyncio.run(run_load(config, (["nobody.x", "nobody.y"], markets)))
    assert result.orders == 0 and result.errors == {"http:401": result.requests} != {}


def test_the_script_quotes_bodies_as_they_are() -> None:
    body = b'{"a":"]]","b":"]=]"}'
    script = lua_script([[("k.1", body)]], "/orders", single=True)
    assert "[==[" + body.decode() + "]==]" in script and MARK in script


@pytest.mark.parametrize("body", [b"x]=", b"x]", b"]=]x]="])
def test_a_body_ending_in_a_closing_bracket_is_not_cut(body: bytes) -> None:
    """Lua closes a long string at the first "]" + its level's "=" + "]", so a text ending in
    "]" and that many "=" must go one level up."""
    script = lua_script([[("k.1", body)]], "/orders", single=True)
    start = script.index("[", script.index(body.decode()) - 8)
    level = script[start + 1:].index("[")
    opened = start + level + 2
    assert script[opened:].index("]" + "=" * level + "]") == len(body)


@pytest.mark.parametrize(("clients", "cores", "threads"),
                         [(5, 2, 1), (4, 2, 2), (6, 4, 3), (1, 8, 1)])
def test_every_client_gets_its_own_connection(clients: int, cores: int, threads: int) -> None:
    """wrk opens connections // threads per thread: the threads divide the clients, and each
    thread sends its clients' bodies in turn, as many turns as its client with the fewest."""
    bodies = {f"k.{i}": [b"%d" % i] * (2 + i % 2) for i in range(clients)}
    groups = thread_groups(list(bodies.items()), cores)
    assert len(groups) == threads
    assert sorted({key for group in groups for key, _ in group}) == sorted(bodies)
    for group in groups:
        keys = {key for key, _ in group}
        turns = min(len(bodies[key]) for key in keys)
        assert [key for key, _ in group] == [key for _ in range(turns) for key in sorted(keys)]


def test_without_wrk_the_cli_names_the_option_and_the_package(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["load", "--client", "wrk", "--url", "http://127.0.0.1:9",
                 "--admin-key", "admin.x"]) == 2
    err = capsys.readouterr().err
    assert "'--client'" in err and "Debian package wrk" in err


@needs_wrk
@pytest.mark.parametrize("option", ["--duration", "--warmup"])
def test_wrk_runs_whole_seconds(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--client", "wrk", option, "0.5"]) == 2
    assert f"'{option}'" in capsys.readouterr().err
