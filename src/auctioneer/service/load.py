"""The load generator: many concurrent HTTP clients placing orders, throughput and latency.

Each client is its own provider account (so it may both buy and sell), with
money and capacity in every market (opened through :mod:`auctioneer.client`),
and runs a closed loop (over ``httpx``,
or the lighter :class:`~auctioneer.service.rawhttp.RawHttp`): send a request
of ``batch`` random orders (``POST /orders/batch``, or ``POST /orders`` when
``batch`` is 1) around each market's price, half of them IOC, wait for the
answer, repeat, until ``duration`` is up; each client makes 64 bodies before
the clock starts and sends them in turn. Latency is measured per request,
from just before it is sent to the last byte of the answer, so it includes
the server's journal group commit (fsync) -- an order is answered only once
it is durable. Throughput counts orders answered 2xx.

Closed loops understate queueing under overload (a slow answer delays the
next request); the percentiles are what these clients saw.

Example:
    >>> cfg = LoadConfig(url="http://127.0.0.1:8000", admin_key="admin.x", clients=2,
    ...                  duration_s=1.0, batch=50)
    >>> len(random_batch(cfg, __import__("random").Random(1),
    ...                  [("a/b", 1_000, 100_000)])["orders"])
    50
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from auctioneer.client import AsyncClient
from auctioneer.client.errors import ApiError
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment, Percentiles, environment, summarize
from auctioneer.service.loadwrk import run_wrk, wrk_program
from auctioneer.service.rawhttp import RawHttp

__all__ = [
    "TARGET_BATCH_PER_S",
    "TARGET_ORDERS_PER_S",
    "TARGET_P99_MS",
    "TARGET_SINGLE_P99_MS",
    "TARGET_SINGLE_PER_S",
    "WRK_MISSING",
    "LoadConfig",
    "LoadError",
    "LoadResult",
    "cpu_seconds",
    "echo_setup",
    "probe_fsync",
    "random_batch",
    "run_load",
    "targets",
]

TARGET_ORDERS_PER_S = 5_000
"""The service's first target (batches of 25), end to end, journal on, on a 2-core machine."""
TARGET_P99_MS = 20.0
"""Its p99 latency per request, in milliseconds."""
TARGET_SINGLE_PER_S = 15_000
"""Issue 14: single orders (``POST /orders``) per second, fsync always."""
TARGET_SINGLE_P99_MS = 10.0
"""Issue 14: their p99 latency, in milliseconds."""
TARGET_BATCH_PER_S = 200_000
"""Issue 14: orders per second through ``POST /orders/batch``, durable (fsync always)."""

WRK_MISSING = ("--client wrk runs the wrk program, which is not on PATH: install the Debian "
               "package wrk (apt-get install wrk)")
"""Why ``--client wrk`` cannot run here."""

_LOAD_MARKETS = (("load-1", "cpu.small", 40_000), ("load-1", "gpu.a100", 3_200_000),
                 ("load-2", "cpu.small", 42_000), ("load-2", "gpu.a100", 3_300_000))
_FUNDS = 10**15
_BODIES = 64  # distinct request bodies per client
_CAPACITY = 10**9 // 2


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """What to drive: the service's ``url``, an admin key, clients, duration, orders per request.

    ``client`` is the hot loop's HTTP client: ``httpx`` (the default), ``raw``
    (:class:`~auctioneer.service.rawhttp.RawHttp`, light enough not to compete
    with the service for the CPU) or ``wrk`` (the C program sends the same bodies:
    :mod:`~auctioneer.service.loadwrk`; whole seconds of warm-up and duration).
    """

    url: str
    admin_key: str
    clients: int = 2
    duration_s: float = 10.0
    batch: int = 25
    warmup_s: float = 1.0
    seed: int = 0
    client: str = "httpx"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What the clients saw."""

    config: LoadConfig
    requests: int
    orders: int
    trades: int
    errors: dict[str, int]
    elapsed_s: float
    orders_per_s: float
    requests_per_s: float
    latency_ms: Percentiles
    mean_ms: float
    client_cpu_us: float = 0.0
    """The generator's own CPU (this process, all threads) per request while measuring, in
    microseconds: one core would let it send at most ``1e6 / client_cpu_us`` requests/s."""
    fsync_ms: Percentiles | None = None
    """fsync latency of the disk under the service's data directory, in milliseconds, when
    ``auctioneer load`` started the service (:func:`probe_fsync`): with ``fsync always`` an
    order waits for at least one."""
    server_cpu_us: dict[str, float] = field(default_factory=dict)
    """CPU per order while measuring, in microseconds, of each process watched (the
    service and its SQL follower when ``auctioneer load`` started them), by name."""
    environment: Environment = field(default_factory=environment)

    def as_json(self) -> dict[str, Any]:
        """The result as JSON-safe data (the admin key left out)."""
        data = asdict(self)
        data["config"].pop("admin_key")
        return data


def random_batch(config: LoadConfig, rng: random.Random,
                 markets: list[tuple[str, int, int]]) -> dict[str, Any]:
    """One request body of ``config.batch`` random orders around each market's price.

    ``markets`` is ``(id, tick, price)``; prices stray up to 5 ticks either
    side, so about half the orders cross and trade.
    """
    orders = []
    for _ in range(config.batch):
        market_id, tick, price = rng.choice(markets)
        side = "buy" if rng.random() < 0.5 else "sell"
        offset = rng.randint(-5, 5) * tick
        orders.append({"side": side, "market": market_id,
                       "price": max(tick, price + offset),
                       "quantity": rng.randint(1, 5),
                       "tif": "ioc" if rng.random() < 0.5 else "gtc"})
    return {"orders": orders}


async def _setup(config: LoadConfig) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Markets to trade (listing the load markets if none exist) and one key per client."""
    async with AsyncClient(config.url, config.admin_key) as admin:
        listed = await admin.markets()
        if not listed:
            for region, kind, base in _LOAD_MARKETS:
                await admin.list_market(region, kind, 1_000, base)
            listed = await admin.markets()
        markets = [(m.id, m.tick_size, m.price) for m in listed]
        run = uuid.uuid4().hex[:8]
        keys = []
        for i in range(config.clients):
            made = await admin.open_account(f"load-{run}-{i}", "provider", _FUNDS)
            keys.append(made.api_key)
            for market_id, _, _ in markets:
                await admin.add_capacity(made.id, market_id, _CAPACITY)
    return keys, markets


def _path(config: LoadConfig) -> str:
    return "/orders" if config.batch == 1 else "/orders/batch"


def _payloads(config: LoadConfig, seed: int, markets: list[tuple[str, int, int]]) -> list[bytes]:
    """One client's request bodies, sent in turn: made before the clock starts, since making
    200 random orders took the generator longer than sending them."""
    rng = random.Random(seed)
    payloads = []
    for _ in range(_BODIES):
        body = random_batch(config, rng, markets)
        payloads.append(orjson.dumps(body["orders"][0] if config.batch == 1 else body))
    return payloads


async def _client(client: httpx.AsyncClient, config: LoadConfig, key: str, seed: int,
                  markets: list[tuple[str, int, int]], start: float, stop: float,
                  latencies: list[float], tally: Counter[str]) -> None:
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    single = config.batch == 1
    path = _path(config)
    clock = time.perf_counter
    raw = RawHttp(config.url) if config.client == "raw" else None
    try:
        for payload in itertools.cycle(_payloads(config, seed, markets)):
            sent = clock()
            if sent >= stop:
                return
            try:
                if raw is not None:
                    status, data = await raw.post(path, payload, {"X-API-Key": key})
                else:
                    response = await client.post(path, content=payload, headers=headers)
                    status, data = response.status_code, response.content
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError) as exc:
                tally[f"error:{type(exc).__name__}"] += 1
                if raw is not None:
                    await raw.close()
                continue
            done = clock()
            if sent < start:
                continue
            latencies.append((done - sent) * 1e3)
            if status in (200, 201):
                parsed = orjson.loads(data)
                results = [parsed] if single else parsed["results"]
                tally["orders"] += len(results)
                tally["trades"] += sum(len(r["trades"]) for r in results)
            elif status == 422 and single:
                tally["orders"] += 1  # refused by matching (e.g. a post-only): still answered
            else:
                tally[f"http:{status}"] += 1
    finally:
        if raw is not None:
            await raw.close()


class LoadError(ValueError):
    """The service could not be set up for the run: ``option`` is the one to fix."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def echo_setup(config: LoadConfig) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Keys and markets for a server that needs none (:mod:`~auctioneer.service.loadecho`)."""
    return ([f"echo-{i}.0" for i in range(config.clients)],
            [(f"{region}/{kind}", 1_000, base) for region, kind, base in _LOAD_MARKETS])


def probe_fsync(directory: Path, count: int = 30) -> Percentiles:
    """fsync latency (ms) of ``count`` 4 KiB appends to a scratch file in ``directory``,
    like the journal's group commits (the file is removed)."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    took = []
    try:
        for _ in range(count):
            os.write(fd, b"\0" * 4096)
            began = time.perf_counter()
            os.fsync(fd)
            took.append((time.perf_counter() - began) * 1e3)
    finally:
        os.close(fd)
        path.unlink()
    return summarize(took)


def cpu_seconds(pid: int) -> float | None:
    """The CPU time process ``pid`` has used, user and system (None where ``/proc`` cannot
    tell: not Linux, or the process is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_load(config: LoadConfig,
                   prepared: tuple[list[str], list[tuple[str, int, int]]] | None = None,
                   watch: Callable[[], dict[str, int]] | None = None) -> LoadResult:
    """Set up accounts (unless ``prepared`` gives keys and markets), drive the service for
    ``config.duration_s``, and measure; ``watch`` names the processes whose CPU to measure
    too (by pid)."""
    limits = httpx.Limits(max_connections=config.clients + 4,
                          max_keepalive_connections=config.clients + 4)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(base_url=config.url, limits=limits, timeout=timeout) as client:
        try:
            keys, markets = prepared or await _setup(config)
        except ApiError as exc:
            if exc.status in (401, 403):
                raise LoadError("--admin-key", f"the service at {config.url} refused the admin "
                                f"key ({exc.status}: {exc.message}): give the key in its data "
                                "directory's admin.key") from None
            raise LoadError("--url", f"the service at {config.url} answered {exc}") from None
        except httpx.HTTPError as exc:
            raise LoadError("--url", f"cannot reach the service at {config.url}: "
                            f"{exc or type(exc).__name__}") from None
        latencies: list[float] = []
        tally: Counter[str] = Counter()
        start = time.perf_counter() + config.warmup_s
        cpu: list[float] = []
        pids = watch() if watch is not None else {}
        servers: list[dict[str, float | None]] = []

        def sample() -> None:
            cpu.append(time.process_time())
            servers.append({name: cpu_seconds(pid) for name, pid in pids.items()})

        if config.client == "wrk":
            return await asyncio.to_thread(_wrk_load, config, keys, markets, pids)
        asyncio.get_running_loop().call_later(config.warmup_s, sample)
        stop = start + config.duration_s
        await asyncio.gather(*(
            _client(client, config, key, config.seed * 10_007 + i, markets, start, stop,
                    latencies, tally)
            for i, key in enumerate(keys)))
        elapsed = max(time.perf_counter(), stop) - start
        sample()
    orders = tally.pop("orders", 0)
    trades = tally.pop("trades", 0)
    if not latencies:
        raise RuntimeError("no request completed inside the measured window")
    return LoadResult(
        config=config, requests=len(latencies), orders=orders, trades=trades,
        errors=dict(tally), elapsed_s=elapsed, orders_per_s=orders / elapsed,
        requests_per_s=len(latencies) / elapsed, latency_ms=summarize(latencies),
        mean_ms=sum(latencies) / len(latencies),
        client_cpu_us=(cpu[-1] - cpu[0]) * 1e6 / len(latencies),
        server_cpu_us=_per_order(servers[0], servers[-1], orders))


def _wrk_load(config: LoadConfig, keys: list[str], markets: list[tuple[str, int, int]],
              pids: dict[str, int]) -> LoadResult:
    """The run of ``--client wrk``: wrk for the warm-up, then wrk again measured."""
    program = wrk_program()
    if program is None:
        raise LoadError("--client", WRK_MISSING)
    clients = [(key, _payloads(config, config.seed * 10_007 + i, markets))
               for i, key in enumerate(keys)]
    with tempfile.TemporaryDirectory(prefix="auctioneer-wrk-") as tmp:
        if config.warmup_s > 0:
            run_wrk(program, config.url, clients, _path(config), round(config.warmup_s),
                    Path(tmp))
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        run = run_wrk(program, config.url, clients, _path(config), round(config.duration_s),
                      Path(tmp))
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    if not run.requests:
        raise RuntimeError("no request completed inside the measured window")
    return LoadResult(
        config=config, requests=run.requests, orders=run.orders, trades=run.trades,
        errors=run.errors, elapsed_s=run.elapsed_s, orders_per_s=run.orders / run.elapsed_s,
        requests_per_s=run.requests / run.elapsed_s, latency_ms=run.latency_ms,
        mean_ms=run.mean_ms, client_cpu_us=run.cpu_s * 1e6 / run.requests,
        server_cpu_us=_per_order(before, after, run.orders))


def _per_order(before: dict[str, float | None], after: dict[str, float | None],
               orders: int) -> dict[str, float]:
    """Each process's CPU between two samples per order, in µs (where both were read)."""
    spent = {}
    for name, was in before.items():
        now = after[name]
        if was is not None and now is not None:
            spent[name] = (now - was) * 1e6 / max(orders, 1)
    return spent


def targets(result: LoadResult) -> list[Target]:
    """The targets for ``result``'s kind of request: issue 14's for single orders or for
    batches, and the service's first (batches of 25)."""
    rate = f"{result.orders_per_s:,.0f} orders/s"
    p99 = result.latency_ms.p99
    if result.config.batch == 1:
        return [
            Target(f">= {TARGET_SINGLE_PER_S:,} single orders/s over HTTP (POST /orders)",
                   result.orders_per_s >= TARGET_SINGLE_PER_S, rate),
            Target(f"p99 <= {TARGET_SINGLE_P99_MS:g} ms per single order",
                   p99 <= TARGET_SINGLE_P99_MS, f"p99 {p99:.1f} ms"),
        ]
    return [
        Target(f">= {TARGET_BATCH_PER_S:,} orders/s through POST /orders/batch",
               result.orders_per_s >= TARGET_BATCH_PER_S, rate),
        Target(f">= {TARGET_ORDERS_PER_S:,} orders/s over HTTP with the journal on",
               result.orders_per_s >= TARGET_ORDERS_PER_S, rate),
        Target(f"p99 <= {TARGET_P99_MS:g} ms per request",
               p99 <= TARGET_P99_MS, f"p99 {p99:.1f} ms ({result.config.batch} orders/request)"),
    ]
