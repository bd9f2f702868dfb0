"""The native engine (:class:`NativeExchange`) against the Python reference, command by command.

A hypothesis state machine drives both with the same commands -- the
reference's own state machine (``test_properties``) plus rules for the
native path (all-or-none, post-only and cross-market orders among them,
which stay in C too) -- and compares the
events of every command and ``state_hash`` after it; a refusal of a command
the native engine takes leaves the state in C. Every field a native command
reads is tried at 2**63 and 10**30 (and the other bad values the reference
refuses): the same refusal, field and message, no change, still in C.
"""

from __future__ import annotations

import copy
import pickle
import random
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from auctioneer.exchange import (
    AddCapacity,
    CancelOrder,
    Command,
    Deposit,
    Event,
    Exchange,
    FsyncPolicy,
    Journal,
    JournalError,
    ListMarket,
    Market,
    MarketOrder,
    ModifyOrder,
    NativeExchange,
    NotFound,
    OpenAccount,
    PlaceOrder,
    Rejected,
    RemoveCapacity,
    Rested,
    Role,
    SelfTrade,
    Side,
    Tick,
    TimeInForce,
    Withdraw,
    open_exchange,
)
from auctioneer.exchange._engine import Events, Gate, crc32, id_hash, scan
from auctioneer.exchange.invariants import InvariantError
from auctioneer.exchange.journal import _scan as journal_scan
from auctioneer.exchange.journal import encode_record
from auctioneer.exchange.refusals import REASONS, Why

from .test_properties import (
    ACCOUNTS,
    IDS,
    PROVIDERS,
    TRADERS,
    ExchangeMachine,
    prices,
    quantities,
    setup_commands,
    tifs,
)

pytestmark = pytest.mark.native


class EagerNative(NativeExchange):
    """Tries C again at every order, so a stream moves between the engines often."""

    retry = 0


def outcome(query: Callable[[str], object], key: str) -> object:
    """What ``query(key)`` returns, or the message of the NotFound it raises."""
    try:
        return query(key)
    except NotFound as exc:
        return str(exc)


NATIVE_COMMANDS = (PlaceOrder, MarketOrder, CancelOrder, ModifyOrder, Deposit, Withdraw,
                   AddCapacity, RemoveCapacity, Tick, OpenAccount, ListMarket)


def plain(cmd: Command) -> bool:
    """Whether the native engine takes ``cmd``'s shape (post-only, all-or-none and
    cross-market orders included): it stays in C, refused or not."""
    return isinstance(cmd, NATIVE_COMMANDS)


def aon_kind(cmd: Command, events: Sequence[Event]) -> str | None:
    """For an all-or-none order in one market, what it did (the reference's ``events`` say):
    rested whole, or filled or was cancelled whole; else None."""
    if not (isinstance(cmd, PlaceOrder) and cmd.all_or_none is True and len(cmd.markets) == 1):
        return None
    return "rested" if any(isinstance(e, Rested) for e in events) else "did not rest"


class NativeMachine(ExchangeMachine):
    """The reference's state machine, every command also applied to the native engine."""

    def __init__(self) -> None:
        self.native = EagerNative()
        super().__init__()
        self.do(OpenAccount("admin", Role.ADMIN))

    def do(self, cmd: Command) -> None:
        super().do(cmd)
        was_native = self.native.native
        got = self.native.apply(cmd)
        assert len(got) == len(self.events[-1]), cmd  # counted before any event is built
        assert got == self.events[-1], cmd
        refused = isinstance(got[0], Rejected)
        aon = aon_kind(cmd, got)
        if was_native and plain(cmd):
            event(f"{'refused' if refused else 'applied'} in C")
            if aon and not refused:
                event(f"all-or-none {cmd.tif.value} {aon} in C")  # type: ignore[attr-defined]
            if len(getattr(cmd, "markets", ())) > 1 and not refused:
                event(f"cross-market {cmd.kind} in C")
            assert self.native.native, cmd  # no state moved
        for account in ACCOUNTS:  # read from C where it holds the state
            assert outcome(self.native.account, account) == outcome(self.ex.account, account)
        for market in IDS:
            assert outcome(self.native.book, market) == outcome(self.ex.book, market)
        self.native.check(full=False)  # the ledger checked in C, the orders still there
        self.native.check()  # and the books, in C while it holds the state
        assert self.native.state_hash() == self.ex.state_hash(), cmd
        for market in IDS:  # the tape C held until the copy
            assert outcome(self.native.trades, market) == outcome(self.ex.trades, market)

    @rule(account=st.sampled_from(ACCOUNTS), buy=st.booleans(), price=prices,
          quantity=quantities, tif=tifs, market=st.sampled_from(IDS),
          dt=st.integers(0, 700_000_000))
    def place_native(self, account: str, buy: bool, price: int, quantity: int,
                     tif: TimeInForce, market: str, dt: int) -> None:
        self.n += 1
        self.ts += dt
        if not buy and self.n % 8:
            account = PROVIDERS[self.n % 2]
        self.do(PlaceOrder(f"o{self.n}", account, Side.BUY if buy else Side.SELL, (market,),
                           price, quantity, tif, ts_ns=self.ts))

    @rule(account=st.sampled_from(ACCOUNTS), buy=st.booleans(), quantity=quantities,
          budget=st.integers(1, 800), fok=st.booleans(), market=st.sampled_from(IDS))
    def market_native(self, account: str, buy: bool, quantity: int, budget: int, fok: bool,
                      market: str) -> None:
        self.n += 1
        tif = TimeInForce.FOK if fok else TimeInForce.IOC
        self.do(MarketOrder(f"o{self.n}", account, Side.BUY if buy else Side.SELL, (market,),
                            quantity, budget if buy else None, tif, self.ts))

    @rule(account=st.sampled_from(ACCOUNTS), buy=st.booleans(), price=prices,
          quantity=quantities, tif=tifs, market=st.sampled_from(IDS), sweep=st.booleans())
    def aon_native(self, account: str, buy: bool, price: int, quantity: int,
                   tif: TimeInForce, market: str, sweep: bool) -> None:
        """An all-or-none order: IOC, FOK, or GTC that fills whole, in C; GTC that cannot
        rests whole in the reference. ``sweep``: one unit at the far price, so it mostly
        fills."""
        self.n += 1
        if not buy and self.n % 8:
            account = PROVIDERS[self.n % 2]
        if sweep:
            price, quantity = (106 if buy else 94), 1
        self.do(PlaceOrder(f"o{self.n}", account, Side.BUY if buy else Side.SELL, (market,),
                           price, quantity, tif, all_or_none=True, ts_ns=self.ts))

    @rule(account=st.sampled_from(ACCOUNTS), price=prices, quantity=quantities, tif=tifs,
          markets=st.lists(st.sampled_from(IDS), min_size=2, max_size=3, unique=True),
          aon=st.integers(0, 3), budget=st.none() | st.integers(1, 800))
    def cross_native(self, account: str, price: int, quantity: int, tif: TimeInForce,
                     markets: list[str], aon: int, budget: int | None) -> None:
        """A cross-market bid (a quarter all-or-none), or with ``budget`` a market buy over
        several markets, in C: it rests in each of its books, and sells in any of them fill
        it."""
        self.n += 1
        if budget is None:
            self.do(PlaceOrder(f"o{self.n}", account, Side.BUY, tuple(markets), price,
                               quantity, tif, all_or_none=aon == 0, ts_ns=self.ts))
        else:
            self.do(MarketOrder(f"o{self.n}", account, Side.BUY, tuple(markets), quantity,
                                budget, TimeInForce.FOK if aon == 0 else TimeInForce.IOC,
                                self.ts))

    @rule(account=st.sampled_from(ACCOUNTS), buy=st.booleans(), price=prices,
          quantity=quantities, market=st.sampled_from(IDS))
    def post_only_native(self, account: str, buy: bool, price: int, quantity: int,
                         market: str) -> None:
        """A post-only order, refused when it would trade; its modifications come from
        ``modify``."""
        self.n += 1
        if not buy and self.n % 8:
            account = PROVIDERS[self.n % 2]
        self.do(PlaceOrder(f"o{self.n}", account, Side.BUY if buy else Side.SELL, (market,),
                           price, quantity, post_only=True, ts_ns=self.ts))

    @rule(kind=st.integers(0, 13), account=st.sampled_from((*ACCOUNTS, "admin", "nobody")),
          market=st.sampled_from((*IDS, "r9-gpu")), big=st.sampled_from((10**4, 10**6, 10**9)),
          bad_ts=st.booleans(), data=st.data())
    def refuse_native(self, kind: int, account: str, market: str, big: int, bad_ts: bool,
                      data: st.DataObject) -> None:
        """Commands the state refuses (mostly), of shapes the native engine takes."""
        self.n += 1
        ts = -1 if bad_ts else self.ts
        open_ids = self.open_ids()
        some = data.draw(st.sampled_from(open_ids)) if open_ids else "o1"
        new = f"o{self.n}"
        buy, sell = Side.BUY, Side.SELL
        cmd: Command = [
            PlaceOrder(some, account, buy, (market,), 100, 1, ts_ns=ts),  # an id used
            PlaceOrder(new, account, buy, (market,), 100, big, ts_ns=ts),  # money short
            PlaceOrder(new, account, sell, (market,), 100, big, ts_ns=ts),  # capacity short
            PlaceOrder(new, account, buy, (market,), 101, 1, ts_ns=ts),  # off r2's tick
            MarketOrder(new, account, buy, (market,), 1, big * 10, ts_ns=ts),
            MarketOrder(new, account, sell, (market,), big, None, TimeInForce.FOK, ts),
            CancelOrder(data.draw(st.sampled_from((some, "nope"))), account, ts),
            ModifyOrder(some, account, data.draw(st.sampled_from((None, 101, 100))),
                        data.draw(st.sampled_from((None, big, 1))), ts),
            Withdraw(account, big * 10, ts),
            Deposit(account, 2**63 - 1, ts),
            AddCapacity(account, market, data.draw(st.sampled_from((big, 10**9))), ts),
            RemoveCapacity(account, market, big, ts),
            PlaceOrder(new, account, buy, data.draw(st.sampled_from((IDS, IDS[1:], (market,)))),
                       data.draw(st.sampled_from((100, 101))), big,
                       all_or_none=data.draw(st.booleans()), ts_ns=ts),
            PlaceOrder(new, account, data.draw(st.sampled_from((buy, sell))), IDS[:2], 104, 1,
                       post_only=True, ts_ns=ts),
        ][kind]
        self.do(cmd)

    @rule(kind=st.integers(0, 2), role=st.sampled_from(Role), dt=st.integers(0, 10**9),
          market=st.sampled_from(IDS), price=prices)
    def open_account_native(self, kind: int, role: Role, dt: int, market: str,
                            price: int) -> None:
        """An account opened in C (then trading there: its records were added in place), or
        refused there: an id taken, a bad ts (the other shapes, which the journal's codec
        does not take, are in test_every_field_is_range_checked_as_the_reference_does)."""
        self.n += 1
        self.ts += dt
        new = f"n{self.n}"
        self.do([OpenAccount(new, role, self.ts),
                 OpenAccount(ACCOUNTS[self.n % len(ACCOUNTS)], role, self.ts),
                 OpenAccount(new, role, -1)][kind])
        if kind == 0 and role is Role.PROVIDER:
            self.do(AddCapacity(new, market, 3, self.ts))
            self.do(PlaceOrder(f"{new}s", new, Side.SELL, (market,), price, 2, ts_ns=self.ts))
        elif kind == 0:
            self.do(Deposit(new, 1_000, self.ts))
            self.do(PlaceOrder(f"{new}b", new, Side.BUY, (market,), price, 2, ts_ns=self.ts))

    @rule(kind=st.integers(0, 2), dt=st.integers(0, 10**9), price=prices,
          rule=st.sampled_from(SelfTrade))
    def list_market_native(self, kind: int, dt: int, price: int, rule: SelfTrade) -> None:
        """A market listed in C (then traded there: its book and records were added in
        place), or refused there: listed already, a bad ts."""
        self.n += 1
        self.ts += dt
        new = Market.of(f"n{self.n}/gpu", tick_size=2, base_price=100, self_trade=rule)
        self.do([ListMarket(new, self.ts), ListMarket(Market.of(IDS[0], tick_size=1,
                                                                base_price=5), self.ts),
                 ListMarket(new, -1)][kind])
        if kind == 0:
            self.do(AddCapacity(PROVIDERS[0], new.id, 4, self.ts))
            self.do(PlaceOrder(f"{new.id}s", PROVIDERS[0], Side.SELL, (new.id,), price, 2,
                               ts_ns=self.ts))
            self.do(PlaceOrder(f"{new.id}b", ACCOUNTS[0], Side.BUY, (new.id,), price, 1,
                               ts_ns=self.ts))

    @rule(orders=st.integers(0, 300))
    def reserve(self, orders: int) -> None:
        """A sizing hint, the state in C or not (the books regrow with their orders)."""
        self.ex.reserve(orders)
        self.native.reserve(orders)

    def teardown(self) -> None:
        batched = NativeExchange()  # the batch path, from nothing
        assert batched.apply_many(self.log) == self.events
        assert batched.state_hash() == self.ex.state_hash()
        restored = NativeExchange.restore(self.native.snapshot())
        assert restored.state_hash() == self.ex.state_hash()
        super().teardown()  # the reference's own replays (it applies more commands)


NativeMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=40,
                                           deadline=None)
TestNativeMachine = NativeMachine.TestCase


def pair(engine: type[NativeExchange] = NativeExchange) -> tuple[Exchange, NativeExchange]:
    """Both engines set up alike, with a resting bid and ask in the first market."""
    ex, native = Exchange(), engine()
    for cmd in [*setup_commands(money=5_000, capacity=20),
                PlaceOrder("bid", "t1", Side.BUY, IDS[:1], 96, 2),
                PlaceOrder("ask", "p1", Side.SELL, IDS[:1], 104, 2)]:
        assert native.apply(cmd) == ex.apply(cmd)
    assert native.native
    return ex, native


def test_events_are_a_sequence_equal_to_the_references_list() -> None:
    ex, native = pair()
    cmd = PlaceOrder("x", "t2", Side.BUY, IDS[:1], 104, 3, ts_ns=7)
    want, got = ex.apply(cmd), native.apply(cmd)
    assert type(got) is Events and isinstance(got, Sequence)
    assert len(got) == len(want) == 3 and bool(got)  # Accepted, Traded, Rested
    assert got == want and want == got and got == [*got] and (got != want) is False
    assert got != want[:2] and got != tuple(want) and got != "x"
    assert [got[0], got[-1], got[1:]] == [want[0], want[-1], want[1:]]
    assert list(got) == list(reversed(list(reversed(got)))) == want
    assert want[1] in got and got.index(want[2]) == 2 and got.count(want[0]) == 1
    assert got + [want[0]] == [*want, want[0]] and repr(got) == repr(want)
    assert pickle.loads(pickle.dumps(got)) == want and copy.copy(got) == want
    with pytest.raises(TypeError):
        hash(got)
    with pytest.raises(IndexError):
        got[3]


def test_events_held_past_later_commands_stay_their_own() -> None:
    """engine_lazy.c reuses a released Events for a later command: ones still held, read
    only after many later commands (some of them sweeps of more book events than a reused
    one has room for) were applied and dropped, are still the reference's events."""
    ex, native = pair()
    held = []
    for i in range(240):
        if i % 40 == 39:  # a sell that takes up to 10 bids: more events than are kept
            cmd = PlaceOrder(f"s{i}", PROVIDERS[i // 40 % 2], Side.SELL, IDS[:1], 90, 10,
                             ts_ns=10 + i)
        else:
            cmd = PlaceOrder(f"b{i}", TRADERS[i % 3], Side.BUY, IDS[:1], 90 + i % 5, 1,
                             ts_ns=10 + i)
        want, got = ex.apply(cmd), native.apply(cmd)
        if i % 3 == 0 or i % 40 == 39:
            held.append((want, got))
    assert native.native
    assert [got for _, got in held] == [want for want, _ in held]
    assert any(len(got) > 9 for _, got in held)


@pytest.mark.parametrize(("market", "field", "why", "value"), [
    ("r9/gpu", "market", Why.NOT_MARKET, "r9/gpu"),
    (Market("r9/x", "gpu", 1, 100), "market.region", Why.MARKET_ID, "r9/x/gpu"),
    (Market("r1", "gpu", 1, 100), "market", Why.LISTED, "r1/gpu"),
    (Market("r9", "gpu", 1, 100, "at_ask"), "market.execution", Why.NOT_EXECUTION, "at_ask"),
    (Market("r9", "gpu", 1, 100, self_trade="both"), "market.self_trade", Why.NOT_SELF_TRADE,
     "both"),
])
def test_a_refused_listing_reads_the_shared_template_and_stays_in_c(
        market: object, field: str, why: Why, value: object) -> None:
    ex, native = pair()
    cmd = ListMarket(market)  # type: ignore[arg-type]
    want = [Rejected(cmd.kind, field, REASONS[why].format(value))]
    assert native.apply(cmd) == ex.apply(cmd) == want
    assert native.native


def test_the_gate_hands_over_what_the_core_does_not_take() -> None:
    calls: list[Command] = []

    def fallback(cmd: Command) -> list[Event]:
        calls.append(cmd)
        return []

    gate = Gate(fallback)
    assert gate.core is None and gate(Tick(1)) == [] and calls == [Tick(1)]
    ex, native = pair()
    gate.core = native._core
    assert gate(Tick(9)) == ex.apply(Tick(9)) and len(calls) == 1  # the core took it
    odd = PlaceOrder("\ud800", "t2", Side.BUY, IDS[:1], 90, 3, ts_ns=10)  # an id with no UTF-8
    assert gate(odd) == [] and calls[-1] is odd  # the core hands it back
    with pytest.raises(TypeError):
        gate.core = "core"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        Gate(1)  # type: ignore[arg-type]


def test_the_trades_c_holds_reach_the_tape_and_the_price_index() -> None:
    """Two markets' trades, many times what a tape keeps (C's ring of them wraps), across
    seconds of command time (each publication hands them over, halfway through a ring) and
    a Tick: every tape, price, price index and the state equal the reference's."""
    ex, native = pair()
    commands: list[Command] = [Deposit("t1", 10**9)]
    commands += [AddCapacity("p1", market, 10**6) for market in IDS[:2]]
    commands += [PlaceOrder(f"q{i}", "t1" if i % 4 < 2 else "p1",
                            Side.BUY if i % 4 < 2 else Side.SELL, IDS[i % 2:i % 2 + 1], 100, 1,
                            ts_ns=10 + i * 23_000) for i in range(100_000)]
    assert native.apply_many(commands) == ex.apply_many(commands)
    for market in IDS[:2]:
        assert native.trades(market, 1000) == ex.trades(market, 1000)
    assert native.state_hash() == ex.state_hash()
    commands = [Tick(5_000_000_000)]
    assert native.apply_many(commands) == ex.apply_many(commands)
    for market in IDS[:2]:
        assert native.trades(market, 1000) == ex.trades(market, 1000)
        assert native.price(market) == ex.price(market)
    assert native.state_hash() == ex.state_hash()


def test_ids_past_a_full_group_of_the_id_table_are_found_there() -> None:
    """Ids whose hashes' low 32 bits start with 8 one bits start in the id table's last
    group (of the 171 a new table has, any count up to 256): twelve fill it, the next go on
    in the first group and the second. Each is then found (a second order under it refused,
    its cancel taken) as the reference finds it, before and after the table grows (its
    names hashed again)."""
    ex, native = pair()
    ids = [f"g{i}" for i in range(20_000) if id_hash(f"g{i}") >> 24 & 255 == 255][:30]
    assert len(ids) == 30
    commands: list[Command] = [PlaceOrder(i, "t1", Side.BUY, IDS[:1], 90, 1) for i in ids]
    commands += [PlaceOrder(i, "t1", Side.BUY, IDS[:1], 91, 1) for i in ids]
    assert native.apply_many(commands) == ex.apply_many(commands)
    native.reserve(10_000)
    ex.reserve(10_000)
    commands = [CancelOrder(i, "t1") for i in ids]
    commands += [PlaceOrder(i, "t1", Side.BUY, IDS[:1], 92, 1) for i in ids]
    assert native.apply_many(commands) == ex.apply_many(commands)
    assert native.native
    assert native.state_hash() == ex.state_hash()


def test_many_orders_rest_grow_the_book_and_leave_in_any_order() -> None:
    """Thousands of resting orders (the book and the id table grow many times, and ids share
    hash tags), a used id refused, then every order cancelled in a shuffled order: each
    event and the state equal the reference's."""
    ex, native = pair()
    commands: list[Command] = [Deposit("t1", 10**12), AddCapacity("p1", IDS[0], 10**6)]
    n = 5_000
    commands += [PlaceOrder(f"r{i}", "t1" if i % 2 else "p1",
                            Side.BUY if i % 2 else Side.SELL, IDS[:1],
                            95 - i % 40 if i % 2 else 105 + i % 40, 1 + i % 3, ts_ns=10 + i)
                 for i in range(n)]
    assert native.apply_many(commands) == ex.apply_many(commands)
    for cmd in (PlaceOrder("r77", "t1", Side.BUY, IDS[:1], 90, 1),
                PlaceOrder("r4998", "p1", Side.SELL, IDS[:1], 110, 1)):
        refused = ex.apply(cmd)
        assert isinstance(refused[0], Rejected)
        assert native.apply(cmd) == refused
    order = list(range(n))
    random.Random(7).shuffle(order)
    cancels = [CancelOrder(f"r{i}", "t1" if i % 2 else "p1", ts_ns=10 + n) for i in order]
    assert native.apply_many(cancels) == ex.apply_many(cancels)
    assert native.native
    assert native.state_hash() == ex.state_hash()


def _hint_slot(name: str) -> int:
    """The slot of the C binding's account and market hints that ``name`` takes."""
    return (hash(name) % 2**64 * 0x9E3779B97F4A7C15 % 2**64) >> 58


def test_ids_named_by_equal_copies_are_found_in_c_past_shared_hints() -> None:
    """Commands naming an account and a market by equal strs that are not the state's own
    objects (as every order over HTTP does), for two accounts whose hints share a slot: each
    is found in C, as the reference finds it."""
    ex, native = pair()
    first = "acct0"
    second = next(name for name in (f"acct{i}" for i in range(1, 10_000))
                  if _hint_slot(name) == _hint_slot(first))
    setup: list[Command] = []
    for name in (first, second):
        setup += [OpenAccount(name, Role.TRADER), Deposit(name, 10**6)]
    assert native.apply_many(setup) == ex.apply_many(setup)
    orders = [PlaceOrder(f"h{i}", "".join(list((first, second)[i % 3 % 2])), Side.BUY,
                         ("".join(list(IDS[0])),), 90, 1, ts_ns=10 + i) for i in range(30)]
    assert native.apply_many(orders) == ex.apply_many(orders)
    assert native.native
    assert native.state_hash() == ex.state_hash()


# with the edges of the ints of one and two 30-bit digits, which C reads from their digits
HUGE = (2**63, 10**30, -(2**63) - 1, -1, 0, True, 1.5, "7", None, 2**30 - 1, 2**30,
        2**60 - 1, 2**60, -(2**30), -(2**60))
VALID: dict[type, dict[str, Any]] = {
    PlaceOrder: {"order_id": "n", "account": "t1", "side": Side.BUY, "markets": IDS[:1],
                 "price": 100, "quantity": 1, "ts_ns": 5},
    MarketOrder: {"order_id": "m", "account": "t1", "side": Side.BUY, "markets": IDS[:1],
                  "quantity": 1, "max_spend": 500, "tif": TimeInForce.IOC, "ts_ns": 5},
    CancelOrder: {"order_id": "bid", "account": "t1", "ts_ns": 5},
    ModifyOrder: {"order_id": "ask", "account": "p1", "price": 102, "quantity": 1,
                  "ts_ns": 5},
    Deposit: {"account": "t1", "amount": 10, "ts_ns": 5},
    Withdraw: {"account": "t1", "amount": 10, "ts_ns": 5},
    AddCapacity: {"account": "p1", "market": IDS[0], "quantity": 1, "ts_ns": 5},
    RemoveCapacity: {"account": "p1", "market": IDS[0], "quantity": 1, "ts_ns": 5},
    Tick: {"ts_ns": 5},
    OpenAccount: {"account": "new", "role": Role.TRADER, "ts_ns": 5},
    ListMarket: {"market": Market.of("r9/gpu", tick_size=1, base_price=10), "ts_ns": 5},
}
CASES = [(cls, name, value) for cls, fields in VALID.items() for name in fields
         for value in HUGE]


@pytest.mark.parametrize(("cls", "name", "value"), CASES,
                         ids=[f"{c.__name__}.{n}={v!r}" for c, n, v in CASES])
def test_every_field_is_range_checked_as_the_reference_does(cls: type, name: str,
                                                            value: object) -> None:
    ex, native = pair()
    cmd = cls(**{**VALID[cls], name: value})
    want = ex.apply(cmd)
    assert native.apply(cmd) == want
    assert native.native  # refused or not, in C
    assert native.state_hash() == ex.state_hash()
    if isinstance(want[0], Rejected):
        assert len(want) == 1


def test_the_valid_commands_run_natively() -> None:
    ex, native = pair()
    for cls, fields in VALID.items():
        cmd = cls(**fields)
        assert native.apply(cmd) == ex.apply(cmd), cls
        assert native.native, cls
    assert native.state_hash() == ex.state_hash()


def test_post_only_orders_run_natively() -> None:
    ex, native = pair()
    commands = [PlaceOrder("po", "t1", Side.BUY, IDS[:1], 104, 1, post_only=True, ts_ns=1),
                PlaceOrder("po", "t1", Side.BUY, IDS[:1], 98, 2, post_only=True, ts_ns=2),
                ModifyOrder("po", "t1", 104, None, 3),  # would trade: refused
                ModifyOrder("po", "t1", None, 1, 4),  # keeps its place
                ModifyOrder("po", "t1", 100, 2, 5),  # arrives anew, post-only still
                PlaceOrder("x", "p1", Side.SELL, IDS[:1], 100, 1, ts_ns=6)]
    for cmd in commands:
        assert native.apply(cmd) == ex.apply(cmd), cmd
        assert native.native, cmd
    assert [type(e) for e in ex.apply(commands[2])] == [Rejected]
    assert native.state_hash() == ex.state_hash()
    assert NativeExchange.restore(native.snapshot()).state_hash() == ex.state_hash()


class Name(str):
    """A str subclass: the reference compares it by value, so C hands its command over."""

    __slots__ = ()


def test_an_order_the_core_does_not_take_moves_the_state_and_back() -> None:
    ex, native = pair(EagerNative)
    odd = PlaceOrder("xb", Name("t2"), Side.BUY, IDS[:2], 90, 3, ts_ns=1)  # a str subclass
    assert native.apply(odd) == ex.apply(odd)
    assert not native.native
    for cmd in (CancelOrder("xb", "t2", 2), PlaceOrder("x", "t2", Side.BUY, IDS[:1], 104, 1)):
        assert native.apply(cmd) == ex.apply(cmd)
    assert native.native  # it tried C again after the last order that needed the reference
    assert native.state_hash() == ex.state_hash()


def test_a_full_book_hands_the_order_to_the_reference() -> None:
    ex, native = Exchange(), NativeExchange()
    commands = [*setup_commands(money=10**9, capacity=10**6),
                *(PlaceOrder(f"b{i}", "t1", Side.BUY, IDS[:1], 2 + 2 * i, 1)
                  for i in range(1500))]
    assert native.apply_many(commands) == ex.apply_many(commands)
    assert native.state_hash() == ex.state_hash()
    assert native.nbytes > 0 or not native.native


def journal_of(directory: Path, commands: list[Command]) -> None:
    with Journal(directory, FsyncPolicy.NEVER) as journal:
        journal.append_many(commands)


def recovered(directory: Path, engine: str, monkeypatch: pytest.MonkeyPatch) -> Exchange:
    monkeypatch.setenv("AUCTIONEER_ENGINE", engine)
    exchange, journal = open_exchange(directory, FsyncPolicy.NEVER)
    journal.close()
    return exchange


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.booleans(), prices, quantities, tifs,
                          st.sampled_from(IDS), st.sampled_from(["place", "cancel", "market",
                                                                 "modify", "money"])),
                min_size=1, max_size=60))
def test_native_replay_reaches_the_reference_state(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        steps: list[tuple[str, bool, int, int, TimeInForce, str, str]]) -> None:
    commands: list[Command] = list(setup_commands(money=5_000, capacity=20))
    for n, (account, buy, price, quantity, tif, market, kind) in enumerate(steps):
        side = Side.BUY if buy else Side.SELL
        seller = account if buy else PROVIDERS[n % 2]
        if kind == "place":
            commands.append(PlaceOrder(f"o{n}", seller, side, (market,), price, quantity, tif,
                                       ts_ns=n * 400_000_000))
        elif kind == "market":
            commands.append(MarketOrder(f"o{n}", seller, side, (market,), quantity,
                                        price * quantity if buy else None, ts_ns=n))
        elif kind == "cancel":
            commands.append(CancelOrder(f"o{n - 1}", seller, n))
        elif kind == "modify":
            commands.append(ModifyOrder(f"o{n - 2}", seller, price, None, n))
        else:
            commands.append((Deposit if buy else Withdraw)(account, quantity * 100, n))
    directory = tmp_path_factory.mktemp("journal")
    journal_of(directory, commands)
    want = recovered(directory, "python", monkeypatch)
    got = recovered(directory, "native", monkeypatch)
    assert isinstance(got, NativeExchange) and not isinstance(want, NativeExchange)
    assert got.state_hash() == want.state_hash()


def record(seq: int, payload: bytes) -> bytes:
    """A journal record with any payload (the journal writes only canonical JSON)."""
    crc = zlib.crc32(payload, zlib.crc32(struct.pack("<Q", seq)))
    return struct.pack("<IIQ", len(payload), crc, seq) + payload


ODD = [  # not the canonical form the C path takes: the reader decodes them itself
    b'{"account": "t1","amount":7,"ts_ns":1,"type":"deposit"}',
    b'{"account":"t\\u0031","amount":8,"ts_ns":1,"type":"deposit"}',
    b'{"account":"t1","amount":9.0,"ts_ns":1,"type":"deposit"}',
    b'{"account":"t1","amount":010,"ts_ns":1,"type":"deposit"}',
    b'{"amount":11,"account":"t1","ts_ns":1,"type":"deposit","extra":1}',
    b'{"account":"t1","amount":12,"type":"deposit"}',
    b'{"account":"t1","amount":9223372036854775808,"ts_ns":1,"type":"deposit"}',
    b'{"account":"t1","all_or_none":false,"markets":["' + IDS[0].encode()
    + b'","' + IDS[0].encode() + b'"],"order_id":"x","post_only":false,"price":100,'
    b'"quantity":1,"side":"buy","tif":"gtc","ts_ns":2,"type":"place_order"}',
    b'{"account":"t1","all_or_none":false,"markets":["' + IDS[0].encode()
    + b'"],"order_id":"y","post_only":false,"price":100,"quantity":1,"side":"buy",'
    b'"tif":"gtc","ts_ns":3,"type":"place_order"}',
]


@pytest.mark.parametrize("payload", ODD, ids=range(len(ODD)))
def test_a_record_the_c_path_does_not_take_is_decoded_by_the_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: bytes) -> None:
    journal_of(tmp_path, list(setup_commands(money=5_000, capacity=20)))
    last = max(int(p.stem.split("-")[1]) for p in tmp_path.glob("journal-*.log"))
    segment = sorted(tmp_path.glob("journal-*.log"))[-1]
    seq = sum(1 for _ in setup_commands(money=5_000, capacity=20))
    assert last <= seq
    with segment.open("ab") as out:
        out.write(record(seq + 1, payload) + record(seq + 2, b'{"ts_ns":5,"type":"tick"}'))
    outcomes = []
    for engine in ("python", "native"):
        try:
            outcomes.append(recovered(tmp_path, engine, monkeypatch).state_hash())
        except JournalError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


def reference_scan(data: bytes, pos: int, previous: int, upto: int) -> tuple[int, int]:
    """What ``_engine.scan`` does, by the journal's own Python reader of records."""
    try:
        for seq, end, _ in journal_scan(data, "segment", pos):
            if (previous != -1 and seq != previous + 1) or seq > upto:
                break
            pos, previous = end, seq
    except JournalError:  # damage before the end: C stops there too
        pass
    return pos, previous


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=0, max_size=8), st.integers(0, 10),
       st.data())
def test_the_c_scan_passes_exactly_the_records_the_python_reader_would(
        seqs: list[int], upto: int, data: st.DataObject) -> None:
    blob = bytearray(b"".join(encode_record(s, Tick(s)) for s in seqs))
    if blob and data.draw(st.booleans()):
        blob[data.draw(st.integers(0, len(blob) - 1))] ^= data.draw(st.integers(1, 255))
    if blob and data.draw(st.booleans()):
        del blob[data.draw(st.integers(0, len(blob) - 1)):]
    previous = data.draw(st.sampled_from([-1, 0, 1, 2]))
    assert scan(bytes(blob), 0, previous, upto) == reference_scan(bytes(blob), 0, previous, upto)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700), st.integers(0, 2**32 - 1))
def test_the_c_crc_is_zlibs(data: bytes, crc: int) -> None:
    assert crc32(data, crc) == zlib.crc32(data, crc)


int64 = st.integers(-(2**63), 2**63 - 1)
small = st.integers(-3, 3000)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["account", "capacity", "holding", "order"]),
       st.integers(0, 3), st.integers(0, 1), st.lists(st.one_of(small, int64), min_size=3,
                                                      max_size=3), st.booleans())
def test_the_c_check_fails_exactly_where_the_python_check_does(
        what: str, account: int, market: int, values: list[int], full: bool) -> None:
    """A state corrupted in C: Core.check finds something wrong exactly when the
    reference's check over the same state (copied out) does."""
    _, native = pair()
    core = native._core
    assert core is not None and core.check() is None
    a = min(account, len(native._accounts) - 1)
    if what == "account":
        core.load_account(a, values[0], values[1])
    elif what == "capacity":  # a new record (t1 provides nothing), so C's total stays true
        try:
            core.load_capacity(native._account_no["t1"], market, *values)
        except OverflowError:  # past what a market's total holds: refused, nothing loaded
            assert core.check() is None
            return
    elif what == "holding":
        core.load_holding(a, market, values[0])
    else:
        core.load_order("forged", a, market, values[0] % 2 == 0, 1 + abs(values[1]) % 200,
                        values[2] % 5, 0, 0, False, values[0] % 3 == 0)
    native._dirty = True
    c_says = core.check(full)
    try:
        native._sync()
        Exchange.check(native, full)
        python_says = None
    except InvariantError as exc:
        python_says = str(exc)
    event(f"broken: {python_says is not None}")
    assert (c_says is None) == (python_says is None), (c_says, python_says)
