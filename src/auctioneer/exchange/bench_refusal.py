"""What a refused command costs with many resting orders: ``auctioneer bench refusals``.

A refusal must not be a cliff: if an engine paid O(open orders) for one (the
native engine once moved its whole state to the reference for every refusal
and back at the next order), anyone able to send orders an account cannot pay
for could stall the exchange. For each book size (``resting`` non-crossing
sells) each engine gets a fresh exchange, then ``rounds`` times: one refused
command (cycling through a buy the account cannot pay for, an order id used
before, a cancel of an unknown id, a sell past the seller's capacity and a
withdrawal past the balance) followed by one ordinary resting buy, each timed
with ``perf_counter_ns``; and as many ordinary buys alone. **Cost of a
refusal** = median(refused + the next order) - median(ordinary order): it
counts any work the refusal leaves for the next order. **Cost of adding an
account or a market** is measured alike, ``rounds`` times: an OpenAccount or a
ListMarket (a new account, one already open, a new market, one already
listed, in turn) and the next order. Figures are medians over
``repeats``.

Target: on the native engine a refusal, and an account or market added or
refused, costs at most :data:`TARGET_NS` with :data:`TARGET_RESTING` orders resting,
and the state stays in C.

Example:
    >>> result = run_refusal_bench(RefusalBenchConfig(resting=(100,), rounds=5, repeats=1))
    >>> [(r.engine, r.resting, r.refused_ns > 0) for r in result.runs]
    [('auctioneer', 100, True), ('auctioneer-native-engine', 100, True)]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import Any

from rich.console import Console
from rich.table import Table

from auctioneer.checks import require_int
from auctioneer.exchange import commands as c
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.model import Market, Role, Side
from auctioneer.exchange.native import NativeExchange
from auctioneer.measure.benchmark import Benchmark, Step
from auctioneer.measure.record import write_png
from auctioneer.measure.target import Target, print_targets
from auctioneer.measure.timing import Environment, environment

__all__ = ["BENCHMARK", "TARGET_NS", "TARGET_RESTING", "EngineRefusals", "RefusalBenchConfig",
           "RefusalBenchResult", "run_refusal_bench"]

TARGET_NS = 20_000
"""Most a refusal may cost on the native engine, ns (an ordinary order costs about 1 us)."""
TARGET_RESTING = 100_000
"""The book size the target is judged at."""
ENGINES: dict[str, type[Exchange]] = {"auctioneer": Exchange,
                                      "auctioneer-native-engine": NativeExchange}

_MARKET = Market.of("bench/gpu", tick_size=1, base_price=1_000)
_M = (_MARKET.id,)


@dataclass(frozen=True, slots=True)
class RefusalBenchConfig:
    """What to measure."""

    resting: tuple[int, ...] = (1_000, 20_000, 100_000)
    rounds: int = 50
    repeats: int = 3

    def __post_init__(self) -> None:
        if not self.resting:
            raise ValueError("resting is empty: give at least one book size")
        for n in self.resting:
            require_int(n, "resting", 1, 1_000_000)
        require_int(self.rounds, "rounds", 1, 100_000)
        require_int(self.repeats, "repeats", 1, 1000)

    @property
    def steps(self) -> int:
        """Progress steps: one per engine, book size and repeat."""
        return len(ENGINES) * len(self.resting) * self.repeats


@dataclass(frozen=True, slots=True)
class EngineRefusals:
    """One engine at one book size (medians over the repeats)."""

    engine: str
    resting: int
    refused_ns: float
    """What a refused command costs, its work left for the next order included."""
    ordinary_ns: float
    """An ordinary resting buy."""
    opened_ns: float
    """An OpenAccount or ListMarket (accepted or refused), its work left for the next order
    included."""
    native: bool | None
    """Whether the state was still in C after the last refusal and the last OpenAccount
    (None: the reference)."""


@dataclass(frozen=True, slots=True)
class RefusalBenchResult:
    """Everything one run measured."""

    config: RefusalBenchConfig
    environment: Environment
    runs: tuple[EngineRefusals, ...]
    targets: tuple[Target, ...]

    def to_dict(self) -> dict[str, Any]:
        """Every figure, as builtins (what ``--json`` writes)."""
        return asdict(self)


def _refused(i: int) -> c.Command:
    """The ``i``-th refused command of the cycle."""
    kind = i % 5
    if kind == 0:
        return c.PlaceOrder(f"r{i}", "buyer", Side.BUY, _M, 900, 10**6, ts_ns=i)
    if kind == 1:
        return c.PlaceOrder("s0", "buyer", Side.BUY, _M, 900, 1, ts_ns=i)
    if kind == 2:
        return c.CancelOrder(f"nope{i}", "buyer", ts_ns=i)
    if kind == 3:
        return c.PlaceOrder(f"r{i}", "seller", Side.SELL, _M, 2_000, 10**6, ts_ns=i)
    return c.Withdraw("buyer", 10**9)


def _opened(i: int) -> c.OpenAccount | c.ListMarket:
    """The ``i``-th OpenAccount or ListMarket: a new account, one already open, a new
    market, one already listed."""
    kind = i % 4
    if kind < 2:
        return c.OpenAccount(f"t{i}" if kind == 0 else "buyer", Role.TRADER, ts_ns=i)
    return c.ListMarket(Market.of(f"m{i}/gpu", tick_size=1, base_price=1_000)
                        if kind == 2 else _MARKET, ts_ns=i)


def _exchange(engine: type[Exchange], resting: int) -> Exchange:
    """An exchange with ``resting`` sells above every buy the bench places."""
    ex = engine()
    ex.apply_many([c.ListMarket(_MARKET), c.OpenAccount("buyer", Role.TRADER),
                   c.Deposit("buyer", 10**8), c.OpenAccount("seller", Role.PROVIDER),
                   c.AddCapacity("seller", _MARKET.id, resting)])
    ex.apply_many([c.PlaceOrder(f"s{i}", "seller", Side.SELL, _M, 2_000 + i % 100, 1)
                   for i in range(resting)])
    return ex


def _timed(apply: Callable[[c.Command], object], command: c.Command) -> int:
    start = time.perf_counter_ns()
    apply(command)
    return time.perf_counter_ns() - start


def _measure(name: str, resting: int, rounds: int) -> EngineRefusals:
    ex = _exchange(ENGINES[name], resting)
    apply = ex.apply
    ordinary = [_timed(apply, c.PlaceOrder(f"a{i}", "buyer", Side.BUY, _M, 900, 1))
                for i in range(rounds)]
    native: bool | None = None
    costs: list[float] = []
    for commands in (_refused, _opened):
        pairs = []
        for i in range(rounds):
            t = _timed(apply, commands(i))
            if isinstance(ex, NativeExchange):
                native = ex.native and native is not False
            pairs.append(t + _timed(apply, c.PlaceOrder(f"b{len(costs)}.{i}", "buyer",
                                                        Side.BUY, _M, 900, 1)))
        costs.append(median(pairs))
    ordinary_ns = median(ordinary)
    return EngineRefusals(name, resting, costs[0] - ordinary_ns, ordinary_ns,
                          costs[1] - ordinary_ns, native)


def run_refusal_bench(config: RefusalBenchConfig, step: Step = lambda _: None
                      ) -> RefusalBenchResult:
    """Measure every engine at every book size (see the module docstring)."""
    runs = []
    for resting in config.resting:
        for name in ENGINES:
            got = []
            for r in range(config.repeats):
                step(f"{name}, {resting:,} resting, run {r + 1}")
                got.append(_measure(name, resting, config.rounds))
            runs.append(EngineRefusals(name, resting, median(g.refused_ns for g in got),
                                       median(g.ordinary_ns for g in got),
                                       median(g.opened_ns for g in got),
                                       None if got[-1].native is None
                                       else all(g.native for g in got)))
    judged = [r for r in runs if r.engine == "auctioneer-native-engine"
              and r.resting == TARGET_RESTING]
    target = Target(f"a refusal, and an account or market added or refused, on the native "
                    f"engine with "
                    f"{TARGET_RESTING:,} resting costs <= {TARGET_NS / 1000:.0f} us and the "
                    "state stays in C",
                    None if not judged else max(judged[0].refused_ns, judged[0].opened_ns)
                    <= TARGET_NS and bool(judged[0].native),
                    "not measured at that size" if not judged else
                    f"refusal {judged[0].refused_ns / 1000:,.1f} us, account or market "
                    f"{judged[0].opened_ns / 1000:,.1f} us, native {judged[0].native}")
    return RefusalBenchResult(config, environment(), tuple(runs), (target,))


def print_report(result: RefusalBenchResult, console: Console) -> None:
    """The environment line, one row per engine and book size, the target line."""
    console.print(result.environment.header("bench refusals",
                                             f"{result.config.rounds} rounds"), highlight=False)
    table = Table(title="A refused command with orders resting (median of "
                  f"{result.config.repeats})", header_style="bold",
                  caption="refused = median(refused + next order) - median(ordinary order)",
                  caption_justify="left")
    for header in ("Engine", "Resting", "Refused us", "Ordinary us", "Refused/ordinary",
                   "Add account/market us", "Still native"):
        table.add_column(header, justify="left" if header == "Engine" else "right")
    for r in result.runs:
        table.add_row(r.engine, f"{r.resting:,}", f"{r.refused_ns / 1000:,.2f}",
                      f"{r.ordinary_ns / 1000:,.2f}", f"{r.refused_ns / r.ordinary_ns:,.1f}x",
                      f"{r.opened_ns / 1000:,.2f}",
                      "-" if r.native is None else str(r.native))
    console.print(table)
    print_targets(console, result.targets)


def write_plot(result: RefusalBenchResult, path: Path) -> None:
    """A PNG: the cost of a refusal against the book size, per engine (log-log)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for name in ENGINES:
        rows = [r for r in result.runs if r.engine == name]
        ax.plot([r.resting for r in rows], [max(r.refused_ns, 1) / 1000 for r in rows],
                marker="o", label=f"{name}: refusal")
        ax.plot([r.resting for r in rows], [max(r.opened_ns, 1) / 1000 for r in rows],
                marker="s", linestyle="--", label=f"{name}: OpenAccount/ListMarket")
    ax.axhline(TARGET_NS / 1000, color="tab:red", linestyle=":",
               label=f"target {TARGET_NS / 1000:.0f} us")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("resting orders")
    ax.set_ylabel("microseconds per command (log)")
    ax.set_title("Cost of a refusal and of an OpenAccount or ListMarket")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    write_png(fig, path, dpi=100)


BENCHMARK = Benchmark("bench refusals", 110, run_refusal_bench, print_report, write_plot)
