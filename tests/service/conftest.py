"""A live service per test (uvicorn in a thread, a fresh data directory) and API helpers."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from auctioneer.service.main import create_app
from auctioneer.service.process import free_port
from auctioneer.service.protocols import Parser, server_config
from auctioneer.service.runtime import Service
from auctioneer.service.settings import Settings

MARKET = "us-east-1/gpu.a100"
OTHER = "eu-west-1/cpu.small"


@dataclass
class Live:
    """A running service: its URL, its Service object, an admin client."""

    url: str
    service: Service
    server: uvicorn.Server
    thread: threading.Thread
    settings: Settings

    @property
    def admin(self) -> dict[str, str]:
        return {"X-API-Key": self.service.admin_key}

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def post(self, path: str, body: Any, key: str | None = None) -> httpx.Response:
        with self.client(key) as c:
            return c.post(path, json=body)

    def account(self, name: str, role: str = "trader", deposit: int = 10**12) -> str:
        """Open ``name`` and return its key."""
        made = self.post("/admin/accounts", {"id": name, "role": role, "deposit": deposit},
                         self.service.admin_key)
        assert made.status_code == 201, made.text
        return str(made.json()["api_key"])

    def provider(self, name: str, markets: tuple[str, ...] = (MARKET,),
                 quantity: int = 1000) -> str:
        key = self.account(name, "provider")
        for m in markets:
            done = self.post("/admin/capacity",
                             {"account": name, "market": m, "quantity": quantity},
                             self.service.admin_key)
            assert done.status_code == 200, done.text
        return key

    def market(self, market_id: str, tick: int = 1_000, base: int = 2_000_000) -> None:
        region, kind = market_id.split("/")
        made = self.post("/admin/markets", {"region": region, "instance_type": kind,
                                            "tick_size": tick, "base_price": base},
                         self.service.admin_key)
        assert made.status_code == 201, made.text

    def state(self) -> dict[str, Any]:
        with self.client(self.service.admin_key) as c:
            return dict(c.get("/admin/state").json())

    def wait_projected(self, timeout_s: float = 20.0) -> dict[str, Any]:
        """Wait until the SQL follower has caught up with the journal."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.state()
            if state["projected_seq"] == state["seq"] or time.monotonic() > deadline:
                return state
            time.sleep(0.05)


def start_live(settings: Settings, parser: Parser = "h11", lane: bool = True,
               wire: bool = False, loop: str = "asyncio", **options: Any) -> Live:
    """A service in a thread; ``lane=False`` leaves the orders' fast lane out (the reference),
    ``wire=True`` (with httptools) answers order posts in the HTTP protocol; ``loop`` is
    uvicorn's (``auctioneer serve`` runs uvloop), ``options`` more of its config."""
    app = create_app(settings, lane)
    config = server_config(app, settings, parser, wire, loop=loop, ws="none",
                           lifespan="on", log_level="warning", access_log=False, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.01)
    return Live(settings.url, app.state.service, server, thread, settings)


def stop_live(live: Live) -> None:
    live.server.should_exit = True
    live.thread.join(60)
    assert not live.thread.is_alive()


def fresh_settings(root: Path, **changes: Any) -> Settings:
    """Settings for a service in ``root`` on a free port."""
    changes.setdefault("tick_interval_s", 0.2)
    return Settings(data_dir=root / "data", port=free_port(), **changes)


@contextmanager
def two_markets(root: Path) -> Iterator[Live]:
    """A live service in ``root`` with MARKET (tick 1,000) and OTHER (tick 100) listed."""
    running = start_live(fresh_settings(root))
    try:
        running.market(MARKET, tick=1_000, base=2_000_000)
        running.market(OTHER, tick=100, base=40_000)
        yield running
    finally:
        stop_live(running)


@pytest.fixture(scope="module")
def market_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One live service per test module with two markets; tests use their own accounts."""
    with two_markets(tmp_path_factory.mktemp("service")) as running:
        yield running


def unique(prefix: str) -> str:
    """An account name no other test uses."""
    return f"{prefix}-{next(_NAMES)}"


_NAMES = itertools.count(1)


def restarted(live: Live) -> Live:
    """Stop ``live`` and start a new service on the same data directory."""
    stop_live(live)
    return start_live(replace(live.settings, port=free_port()))
