"""The exchange benchmark: in-process matching throughput and latency against PyPI engines.

One seeded stream of limit orders (half buys, half sells; prices within
:data:`SPREAD_TICKS` ticks of a fixed mid, so the sides cross often; 1..10
instances) is fed, order by order, to each engine in one run:

* **auctioneer** -- :meth:`auctioneer.exchange.Exchange.apply` of prebuilt
  :class:`~auctioneer.exchange.PlaceOrder` commands: validation, matching,
  settlement (money, reservations, capacity), events and the price index.
* **auctioneer-native-engine** -- :meth:`auctioneer.exchange.NativeExchange.apply` of
  the same commands: the same work as **auctioneer** (validation, matching,
  settlement, events, the price index), in C. After its setup the exchange
  is given the public sizing hint ``reserve(len(stream))``
  (:meth:`~auctioneer.exchange.Exchange.reserve`; the Python engine only
  checks it), as a service restored from a snapshot or a journal sizes
  itself, so its tables do not grow in the run.
* **auctioneer-native** -- the native matching core
  (:mod:`auctioneer.exchange._match`), one ``Book.place`` call per order:
  matching only, like the peers below (no accounts, money or capacity yet).
* **lightmatchingengine**, **pyorderbook** -- pure-Python books from PyPI
  (matching only: no accounts, no validation).
* **liquibook** -- the C++ engine behind a SWIG wrapper: the ceiling.

Each engine gets a fresh book per run. **Throughput**: the stream in one
loop, orders per second of wall time. **Latency**: a second fresh run timing
each call with ``perf_counter_ns`` (the timer's own cost is reported, not
subtracted). Each figure is the median over ``repeats``. The garbage
collector stays on for what an engine allocates while it runs: its pauses
are part of a Python engine's real latency. The inputs built before a run
(the engine, its setup and every engine's pre-built orders) are collected
once and frozen (``gc.collect(); gc.freeze()``) for the run, and unfrozen
after, for every engine alike: a service's inputs arrive one at a time, not
as a list of 100,000 objects, so a collection that walks all of them would
time the harness, not the engine.
The same loop, ``submit(*args)`` per order with its arguments built
beforehand, drives every engine. **Matched volume** checks the engines did
the same matching (not available from liquibook without callbacks).

Targets: >= 300,000 orders/s with p99 <= 20 us (:data:`TARGET_RATE`,
:data:`TARGET_P99_NS`) for auctioneer; for the native core, >= 1.2x
liquibook's orders/s in the same run with p99 <= 2 us
(:data:`NATIVE_VS_LIQUIBOOK`, :data:`NATIVE_P99_NS`).

**Mixed stream** (``mix`` > 0, :func:`mixed_stream`): about ``mix`` % of the orders
are resting GTC all-or-none orders (four ticks off the mid, five times the size) and
``mix`` % cross-market bids over 2-3 markets (five ticks under the mid), the rest the
plain stream's limit orders spread over three markets. Only the Python and the native
engine take it (the others are skipped, with the reason in
:attr:`ExchangeBenchResult.skipped`); the native engine's untimed extra pass counts the
commands after which its state was outside C (:attr:`EngineRun.outside_c`). Replay
recovers the mixed stream's journal too (its cross-market bids' records are read in C);
decoding and memory use the plain stream either way.

**Replay** (:func:`replay_rate`): the stream journaled (with its accounts
and capacity), then recovered by :func:`~auctioneer.exchange.durable.open_exchange`
-- read, decode, apply, check, open the journal for appending -- in commands
per second, by the native engine (whose C path reads the records itself) and
by the Python reference; target >= 2,000,000 (:data:`TARGET_REPLAY`).

**Decoding** (:func:`decode_rates`): the journal payloads of the stream
decoded by ``json.loads`` plus the hand-written strict decoder (the
reference) and by :func:`~auctioneer.exchange.codec.decode_command_json`
(msgspec tagged structs), commands per second each, best of the repeats.

**Memory**: bytes per resting order and per market, from
:mod:`auctioneer.exchange.bench_memory`.

Example:
    >>> result = run_exchange_bench(ExchangeBenchConfig.build(orders=300, repeats=1,
    ...                                                       engines=("auctioneer",)))
    >>> [(r.engine, r.orders, r.volume > 0) for r in result.runs]
    [('auctioneer', 300, True)]
"""

from __future__ import annotations

import gc
import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any, cast

import numpy as np

from auctioneer.checks import require_int
from auctioneer.exchange import (
    Command,
    Exchange,
    NativeExchange,
    PlaceOrder,
)
from auctioneer.exchange._match import Book
from auctioneer.exchange.bench_memory import Memory, memory_figures
from auctioneer.exchange.bench_stream import (
    MARKET,
    MIX_SETUP,
    SETUP,
    SPREAD_TICKS,
    Order,
    mixed_stream,
    order_stream,
    place_commands,
)
from auctioneer.exchange.codec import decode_command, decode_command_json
from auctioneer.exchange.durable import open_exchange
from auctioneer.exchange.journal import FsyncPolicy, Journal, encode_record
from auctioneer.measure.target import Target
from auctioneer.measure.timing import (
    Environment,
    Percentiles,
    environment,
    median_percentiles,
    perf_counter_overhead,
    summarize,
)

__all__ = [
    "ENGINES",
    "NATIVE_P99_NS",
    "NATIVE_VS_LIQUIBOOK",
    "TARGET_P99_NS",
    "TARGET_RATE",
    "TARGET_REPLAY",
    "EngineRun",
    "ExchangeBenchConfig",
    "ExchangeBenchResult",
    "MIX_ENGINES",
    "evaluate_targets",
    "decode_rates",
    "parse_engines",
    "replay_rate",
    "run_exchange_bench",
]

ENGINES = ("auctioneer", "auctioneer-native-engine", "auctioneer-native",
           "lightmatchingengine", "pyorderbook", "liquibook")
"""Every engine the benchmark knows, ours first."""
MIX_ENGINES = ("auctioneer", "auctioneer-native-engine")
"""The engines that take the mixed stream's all-or-none orders and cross-market bids."""
TARGET_RATE = 300_000
"""Orders per second auctioneer should sustain in process."""
TARGET_P99_NS = 20_000
"""p99 latency per order auctioneer should stay within, ns."""
NATIVE_VS_LIQUIBOOK = 1.2
"""The native core's orders/s over liquibook's, at least, in the same run."""
NATIVE_P99_NS = 2_000
"""p99 latency per order the native core should stay within, ns."""
TARGET_REPLAY = 2_000_000
"""Journaled commands per second recovery should replay."""
def parse_engines(text: str) -> tuple[str, ...]:
    """Engines from ``"all"`` or a comma-separated list; ValueError naming an unknown one.

    Example:
        >>> parse_engines("liquibook,auctioneer")
        ('auctioneer', 'liquibook')
    """
    if text.strip() == "all":
        return ENGINES
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(ENGINES))
    if unknown or not names:
        raise ValueError(f"engine {unknown[0] if unknown else text!r} is not one of "
                         f"{', '.join(ENGINES)} (or all)")
    return tuple(e for e in ENGINES if e in names)


@dataclass(frozen=True, slots=True)
class ExchangeBenchConfig:
    """What to measure. Build one with :meth:`build`, which fills in the defaults."""

    orders: int = 200_000
    repeats: int = 3
    engines: tuple[str, ...] = ENGINES
    seed: int = 0
    quick: bool = False
    mix: int = 0
    """Percent of all-or-none orders, and again of cross-market bids; 0: the plain stream."""

    def __post_init__(self) -> None:
        require_int(self.orders, "orders", 1, 10_000_000)
        require_int(self.mix, "mix", 0, 50)
        if self.mix and not set(self.engines) & set(MIX_ENGINES):
            raise ValueError(f"--mix needs one of the engines {', '.join(MIX_ENGINES)}")
        require_int(self.repeats, "repeats", 1, 1000)
        require_int(self.seed, "seed", 0, 2**64 - 1)
        if not self.engines:
            raise ValueError("engines is empty: give at least one engine")

    @classmethod
    def build(cls, *, orders: int | None = None, repeats: int | None = None,
              engines: Iterable[str] | None = None, seed: int = 0,
              quick: bool = False, mix: int = 0) -> ExchangeBenchConfig:
        """A configuration: what is given, else the full run's (or ``quick``'s) defaults."""
        return cls(orders=orders if orders is not None else (20_000 if quick else 200_000),
                   repeats=repeats if repeats is not None else (1 if quick else 3),
                   engines=tuple(engines) if engines is not None else ENGINES,
                   seed=seed, quick=quick, mix=mix)

    @property
    def steps(self) -> int:
        """Progress steps: a throughput and a latency run per engine and repeat."""
        return 2 * self.repeats * len(self.runnable)

    @property
    def runnable(self) -> tuple[str, ...]:
        """The engines that take the stream: all of them, or with ``mix`` :data:`MIX_ENGINES`."""
        return tuple(e for e in self.engines if not self.mix or e in MIX_ENGINES)


@dataclass(frozen=True, slots=True)
class EngineRun:
    """One engine's figures (medians over the repeats)."""

    engine: str
    version: str
    orders: int
    rate: float
    """Orders per second, throughput run."""
    rates: tuple[float, ...]
    latency: Percentiles
    """Per-order latency, ns."""
    volume: int
    """Instances matched; -1 where the engine does not report it."""
    resting: int
    """Orders left in the book; -1 where not reported."""
    outside_c: int = -1
    """Native engine, mixed stream: commands after which its state was outside C; else -1."""


@dataclass(frozen=True, slots=True)
class ExchangeBenchResult:
    """Everything one benchmark run measured."""

    config: ExchangeBenchConfig
    environment: Environment
    runs: tuple[EngineRun, ...]
    timer_ns: float
    """Median cost of one empty ``perf_counter_ns`` pair."""
    targets: tuple[Target, ...]
    elapsed_s: float
    memory: Memory | None = None
    replay_rate: float | None = None
    """Journaled commands per second the native engine recovered (median over the repeats)."""
    replay_reference: float | None = None
    """The same by the Python reference engine."""
    decode: dict[str, float] | None = None
    """Journal payloads decoded per second, by decoder."""
    skipped: tuple[str, ...] = ()
    """Engines left out of this run, each with the reason."""

    def run(self, engine: str) -> EngineRun | None:
        """The figures of ``engine``, if it ran."""
        return next((r for r in self.runs if r.engine == engine), None)

    def to_dict(self) -> dict[str, Any]:
        """Every figure, as builtins (what ``--json`` writes)."""
        data = asdict(self)
        data["config"]["engines"] = list(self.config.engines)
        return data


# --------------------------------------------------------------------------
# Engines: each returns (submit, argument tuples, figures-after-the-run).

def _volume(stream: Sequence[Order], open_quantity: int) -> int:
    """Instances matched: each trade takes as many from a buy as from a sell."""
    return (sum(quantity for _, _, quantity in stream) - open_quantity) // 2


_Prepared = tuple[Callable[..., object], list[tuple[Any, ...]], Callable[[], tuple[int, int]]]


def _place_all(commands: Sequence[PlaceOrder], engine: type[Exchange],
               setup: Sequence[Any] = SETUP) -> tuple[Exchange, _Prepared]:
    """An exchange after ``setup`` and the sizing hint, and the commands to place on it."""
    ex = engine()
    ex.apply_many(setup)
    ex.reserve(len(commands))  # the public sizing hint (the reference only checks it)
    placed = sum(c.quantity for c in commands)

    def figures() -> tuple[int, int]:
        open_orders = ex.orders("buyer") + ex.orders("seller")
        return (placed - sum(o.remaining for o in open_orders)) // 2, len(open_orders)

    return ex, (ex.apply, [(c,) for c in commands], figures)


def _auctioneer(stream: Sequence[Order], engine: type[Exchange] = Exchange) -> _Prepared:
    return _place_all(place_commands(stream), engine)[1]


def _outside_c(commands: Sequence[PlaceOrder]) -> int:
    """Commands of the mixed stream after which the native engine's state was outside C."""
    ex, (apply, args, _) = _place_all(commands, NativeExchange, MIX_SETUP)
    native = cast(NativeExchange, ex)
    outside = 0
    for a in args:
        apply(*a)
        outside += not native.native
    return outside


def _native(stream: Sequence[Order]) -> _Prepared:
    book = Book(len(stream) + 1, 2 * SPREAD_TICKS + 2)
    args = [(i, 0 if buy else 1, buy, price, quantity, 0)
            for i, (buy, price, quantity) in enumerate(stream)]

    def figures() -> tuple[int, int]:
        levels = book.depth(True, 1 << 20) + book.depth(False, 1 << 20)
        return _volume(stream, sum(quantity for _, quantity, _ in levels)), book.open

    return book.place, args, figures


def _lightmatchingengine(stream: Sequence[Order]) -> _Prepared:
    from lightmatchingengine.lightmatchingengine import LightMatchingEngine

    engine = LightMatchingEngine()
    args = [("X", price, quantity, 1 if buy else 2) for buy, price, quantity in stream]

    def figures() -> tuple[int, int]:
        book = engine.order_books.get("X")
        queues = [] if book is None else [*book.bids.values(), *book.asks.values()]
        open_orders = [o for queue in queues for o in queue]
        return _volume(stream, sum(o.leaves_qty for o in open_orders)), len(open_orders)

    return engine.add_order, args, figures


def _pyorderbook(stream: Sequence[Order]) -> _Prepared:
    import pyorderbook

    logging.getLogger("pyorderbook.book").setLevel(logging.WARNING)  # it logs at INFO
    book = pyorderbook.Book()
    bid, ask = pyorderbook.Side.BID, pyorderbook.Side.ASK
    args = [(pyorderbook.Order(bid if buy else ask, "X", price, quantity),)
            for buy, price, quantity in stream]

    def figures() -> tuple[int, int]:
        open_orders = list(book.order_map.values())
        return _volume(stream, sum(o.quantity for o in open_orders)), len(open_orders)

    return book.match, args, figures


def _liquibook(stream: Sequence[Order]) -> _Prepared:
    import liquibook

    book = liquibook.DepthOrderBook()
    args = [(liquibook.SimpleOrder(buy, price, quantity),) for buy, price, quantity in stream]

    def figures() -> tuple[int, int]:
        return -1, -1  # fills reach Python only through per-fill callbacks

    return book.add, args, figures


def _native_engine(stream: Sequence[Order]) -> _Prepared:
    return _auctioneer(stream, NativeExchange)


_PREPARE: dict[str, Callable[[Sequence[Order]], _Prepared]] = {
    "auctioneer": _auctioneer,
    "auctioneer-native-engine": _native_engine,
    "auctioneer-native": _native,
    "lightmatchingengine": _lightmatchingengine,
    "pyorderbook": _pyorderbook,
    "liquibook": _liquibook,
}


def _version(engine: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    if engine.startswith("auctioneer-"):
        engine = "auctioneer"
    try:
        return version(engine)
    except PackageNotFoundError:  # pragma: no cover - every engine is a declared dependency
        return "?"


@contextmanager
def _inputs_frozen() -> Iterator[None]:
    """The objects alive now (the run's inputs) out of the collector's sight until the end."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _throughput(submit: Callable[..., object], args: list[tuple[Any, ...]]) -> float:
    with _inputs_frozen():
        start = time.perf_counter()
        for a in args:
            submit(*a)
        return len(args) / (time.perf_counter() - start)


def _latencies(submit: Callable[..., object], args: list[tuple[Any, ...]]) -> Percentiles:
    clock = time.perf_counter_ns
    out = [0] * len(args)
    with _inputs_frozen():
        for i, a in enumerate(args):
            t0 = clock()
            submit(*a)
            out[i] = clock() - t0
    return summarize(np.asarray(out, dtype=np.float64))


def run_exchange_bench(config: ExchangeBenchConfig,
                       step: Callable[[str], None] = lambda _: None) -> ExchangeBenchResult:
    """Measure every configured engine on the same stream; see the module docstring."""
    started = time.perf_counter()
    stream = order_stream(config.orders, config.seed)
    mixed = mixed_stream(config.orders, config.seed, config.mix) if config.mix else []
    runs = []
    for engine in config.runnable:
        prepare = _PREPARE[engine]
        if mixed:
            kind = NativeExchange if engine == "auctioneer-native-engine" else Exchange

            def prepare(_: Sequence[Order], kind: type[Exchange] = kind) -> _Prepared:
                return _place_all(mixed, kind, MIX_SETUP)[1]
        rates, latencies = [], []
        volume = resting = -1
        for r in range(config.repeats):
            step(f"{engine}: throughput {r + 1}/{config.repeats}")
            submit, args, figures = prepare(stream)
            rates.append(_throughput(submit, args))
            volume, resting = figures()
            step(f"{engine}: latency {r + 1}/{config.repeats}")
            submit, args, _ = prepare(stream)
            latencies.append(_latencies(submit, args))
        outside = _outside_c(mixed) if mixed and engine == "auctioneer-native-engine" else -1
        runs.append(EngineRun(engine, _version(engine), config.orders, float(median(rates)),
                              tuple(rates), median_percentiles(latencies), volume, resting,
                              outside))
    skipped = tuple(f"{e}: takes no all-or-none orders or cross-market bids"
                    for e in config.engines if e not in config.runnable)
    timer = float(np.median(perf_counter_overhead(10_000)))
    step("memory")
    memory = memory_figures(MARKET)
    step("replay")
    replayed = float(median(replay_rate(stream, mixed=mixed) for _ in range(config.repeats)))
    reference = float(median(replay_rate(stream, Exchange, mixed)
                             for _ in range(config.repeats)))
    step("decoding")
    decoded = decode_rates(stream, config.repeats)
    result = ExchangeBenchResult(config, environment(), tuple(runs), timer, (),
                                 time.perf_counter() - started, memory, replayed, reference,
                                 decoded, skipped)
    return ExchangeBenchResult(config, result.environment, result.runs, timer,
                               evaluate_targets(result), result.elapsed_s, memory, replayed,
                               reference, decoded, skipped)


def decode_rates(stream: Sequence[Order], repeats: int) -> dict[str, float]:
    """Journal payloads of ``stream`` decoded per second by each decoder (best of
    ``repeats``); both must give the same commands."""
    _, args, _ = _auctioneer(stream)
    payloads = [encode_record(1, a[0])[16:] for a in args]
    decoders: dict[str, Callable[[bytes], object]] = {
        "json.loads + hand-written": lambda p: decode_command(json.loads(p)),
        "msgspec": decode_command_json,
    }
    rates: dict[str, float] = {}
    results = []
    for name, decode in decoders.items():
        best = 0.0
        for _ in range(repeats):
            start = time.perf_counter()
            out = [decode(p) for p in payloads]
            best = max(best, len(payloads) / (time.perf_counter() - start))
        rates[name] = best
        results.append(out)
    if results[0] != results[1]:  # pragma: no cover - the differential test holds them equal
        raise AssertionError("the decoders disagree")
    return rates


def replay_rate(stream: Sequence[Order], engine: type[Exchange] = NativeExchange,
                mixed: Sequence[PlaceOrder] = ()) -> float:
    """Commands per second :func:`open_exchange` recovers the journaled ``stream`` at, with
    ``engine``; with ``mixed`` (``--mix``'s stream), that stream instead."""
    setup: Sequence[Any] = MIX_SETUP if mixed else SETUP
    commands: list[Command] = [*setup, *(mixed or (a[0] for a in _auctioneer(stream)[1]))]
    with tempfile.TemporaryDirectory() as directory:
        with Journal(directory, FsyncPolicy.NEVER) as journal:
            journal.append_many(commands)
        start = time.perf_counter()
        _, reopened = open_exchange(directory, FsyncPolicy.NEVER, engine)
        elapsed = time.perf_counter() - start
        reopened.close()
    return len(commands) / elapsed


def evaluate_targets(result: ExchangeBenchResult) -> tuple[Target, ...]:
    """Each target whose engines ran (a SKIP for auctioneer's when it did not), and whether
    the engines agree."""
    ours = result.run("auctioneer")
    name = f"in-process matching >= {TARGET_RATE:,} orders/s with p99 <= {TARGET_P99_NS // 1000} us"
    if ours is None:
        targets = [Target(name, None, "auctioneer did not run")]
    else:
        met = ours.rate >= TARGET_RATE and ours.latency.p99 <= TARGET_P99_NS
        targets = [Target(name, met, f"{ours.rate:,.0f} orders/s ({ours.rate / TARGET_RATE:.2f}x "
                                     f"the target), p99 {ours.latency.p99 / 1000:.1f} us")]
    liquibook = result.run("liquibook")
    for engine, what in (("auctioneer-native", "native core (matching only)"),
                         ("auctioneer-native-engine", "native engine (settling too)")):
        native = result.run(engine)
        if native is None:
            continue
        name = (f"{what} >= {NATIVE_VS_LIQUIBOOK}x liquibook's orders/s with p99 <= "
                f"{NATIVE_P99_NS // 1000} us")
        if liquibook is None:
            targets.append(Target(name, None, "liquibook did not run"))
        else:
            ratio = native.rate / liquibook.rate
            targets.append(Target(name, ratio >= NATIVE_VS_LIQUIBOOK
                                  and native.latency.p99 <= NATIVE_P99_NS,
                                  f"{ratio:.2f}x liquibook, p99 "
                                  f"{native.latency.p99 / 1000:.2f} us"))
    if result.replay_rate is not None:
        versus = (f", {result.replay_rate / result.replay_reference:.2f}x the Python engine's "
                  f"{result.replay_reference:,.0f}" if result.replay_reference else "")
        targets.append(Target(f"journal replay >= {TARGET_REPLAY:,} commands/s",
                              result.replay_rate >= TARGET_REPLAY,
                              f"{result.replay_rate:,.0f} commands/s "
                              f"({result.replay_rate / TARGET_REPLAY:.2f}x the target{versus})"))
    native = result.run("auctioneer-native-engine")
    if native is not None and native.outside_c >= 0:
        targets.append(Target("native engine kept the mixed stream's state in C",
                              native.outside_c == 0,
                              f"{native.outside_c:,} of {native.orders:,} commands left the "
                              "state outside C"))
    volumes = {r.engine: r.volume for r in result.runs if r.volume >= 0}
    if len(volumes) > 1:
        same = len(set(volumes.values())) == 1
        targets.append(Target("every engine matched the same volume", same,
                              ", ".join(f"{e} {v:,}" for e, v in volumes.items())))
    return tuple(targets)
