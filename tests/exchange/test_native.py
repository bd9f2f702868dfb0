"""The native matching core against the plain reference matcher: every event, every book.

Hypothesis drives both with the same stream of single-market limit orders
(GTC, IOC, FOK; self-trades under each rule; both execution rules), market
orders (IOC and FOK, a buy's spending bound), cancels and modifications, and compares the
events of every step and both sides of the book after it. The golden
scenarios run on it too, as far as they use only what it takes (single-
market limit orders that are neither all-or-none nor post-only, cancels).
Refusals carry the reference's field and message; no integer, at 2**63 or
10**30, reaches C unchecked.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import (
    Exchange,
    ExecutionRule,
    Market,
    Refusal,
    Rejected,
    Role,
    SelfTrade,
    Side,
    TimeInForce,
    codec,
    commands,
)
from auctioneer.exchange._match import Book
from auctioneer.exchange.events import Cancelled, Event, Modified, Rested, Traded
from auctioneer.exchange.reference import ReferenceMatcher

pytestmark = pytest.mark.native

RULES = list(SelfTrade)
TIFS = ("gtc", "ioc", "fok")
REASONS = ("cancelled", "ioc", "fok", "self_trade")
ACCOUNTS = ("a0", "a1", "a2")


def translate(raw: list[tuple[int, int, bool, int, int, int, int, int, int, int]],
              market: str, ts: int, names: dict[int, str] | None = None,
              accounts: Sequence[str] = ACCOUNTS, trades: Iterator[int] | None = None
              ) -> list[Event]:
    """The native events as the reference's named tuples: order ``i`` is ``names[i]``
    (default ``o<i>``), account ``a`` is ``accounts[a]``; ``trades`` renumbers the trades
    (the engine numbers them across markets, a native book within its own)."""
    out: list[Event] = []
    markets = (market,)

    def name(i: int) -> str:
        return f"o{i}" if names is None else names[i]

    for kind, reason, buy, order, taker, account, taker_account, price, quantity, tid in raw:
        if kind == 1:
            resting, incoming = (name(order), accounts[account]), (name(taker),
                                                                   accounts[taker_account])
            (b, ba), (s, sa) = (incoming, resting) if buy else (resting, incoming)
            out.append(Traded(tid if trades is None else next(trades), market, b, s, ba, sa,
                              price, quantity, Side.BUY if buy else Side.SELL, ts))
        elif kind == 2:
            out.append(Rested(name(order), accounts[account], Side.BUY if buy else Side.SELL,
                              markets, price, quantity, ts))
        elif kind == 3:
            out.append(Cancelled(name(order), accounts[account], markets, quantity,
                                 REASONS[reason], ts))
        else:
            out.append(Modified(name(order), accounts[account], markets, price, quantity,
                                bool(reason), ts))
    return out


ops = st.lists(st.one_of(
    st.tuples(st.just("place"), st.integers(0, 2), st.booleans(), st.integers(95, 105),
              st.integers(1, 8), st.sampled_from([0, 0, 0, 1, 2])),
    st.tuples(st.just("market"), st.integers(0, 2), st.booleans(), st.integers(1, 8),
              st.integers(1, 1_500), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 10_000)),
    st.tuples(st.just("modify"), st.integers(0, 10_000), st.none() | st.integers(95, 105),
              st.none() | st.integers(1, 8)),
), min_size=1, max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(RULES), st.sampled_from(list(ExecutionRule)), ops)
def test_native_book_matches_the_reference(rule: SelfTrade, execution: ExecutionRule,
                                           steps: list[tuple[object, ...]]) -> None:
    market = Market.of("r/x", tick_size=1, base_price=100, execution=execution,
                       self_trade=rule)
    ref = ReferenceMatcher([market])
    book = Book(200, 64, RULES.index(rule), execution is ExecutionRule.AT_ASK)
    for n, step in enumerate(steps, 1):
        if step[0] == "place":
            _, account, buy, price, quantity, tif = step
            assert isinstance(account, int) and isinstance(buy, bool)
            assert isinstance(price, int) and isinstance(quantity, int)
            assert isinstance(tif, int)
            filled = book.place(n, account, buy, price, quantity, tif)
            want = ref.place(f"o{n}", ACCOUNTS[account], buy, (market.id,), price, quantity,
                             TIFS[tif], False, False, n)
            assert filled == sum(e.quantity for e in want if isinstance(e, Traded))
        elif step[0] == "market":
            _, account, buy, quantity, budget, fok = step
            assert isinstance(account, int) and isinstance(buy, bool)
            assert isinstance(quantity, int) and isinstance(budget, int)
            spend = budget if buy else None
            market_want = ref.place_market(f"o{n}", ACCOUNTS[account], buy, (market.id,),
                                           quantity, budget, "fok" if fok else "ioc", n)
            if market_want is None:
                with pytest.raises(Refusal, match="can fill now") as refused:
                    book.place_market(n, account, buy, quantity, spend, 2)
                assert refused.value.field == "quantity" and book.events() == []
                continue
            want = market_want
            filled = book.place_market(n, account, buy, quantity, spend, 2 if fok else 1)
            assert filled == sum(e.quantity for e in want if isinstance(e, Traded))
        else:
            if not ref.orders:
                continue
            index = step[1]
            assert isinstance(index, int)
            target = ref.orders[index % len(ref.orders)]
            if step[0] == "cancel":
                assert book.cancel(int(target.id[1:])) == target.remaining
                want = ref.cancel(target.id, n)
            else:
                price, quantity = step[2], step[3]
                assert price is None or isinstance(price, int)
                assert quantity is None or isinstance(quantity, int)
                if price is None and quantity is None:
                    with pytest.raises(Refusal, match="give a new price"):
                        book.modify(int(target.id[1:]), None, None)
                    continue
                book.modify(int(target.id[1:]), price, quantity)
                want = ref.modify(target.id, target.price if price is None else price,
                                  target.remaining if quantity is None else quantity, n)
        assert translate(book.events(), market.id, n) == want
        bids, asks = ref.depth(market.id)
        assert (book.depth(True, 1000), book.depth(False, 1000)) == (bids, asks)
        assert book.open == len(ref.orders)


@pytest.mark.parametrize("bad", [0, -1, 2**63, 10**30, "5", 5.0, True])
@pytest.mark.parametrize(("position", "field"), [(3, "price"), (4, "quantity")])
def test_refusals_are_the_references(bad: object, position: int, field: str) -> None:
    book = Book(4, 4)
    args: list[object] = [1, 0, True, 100, 1, 0]
    args[position] = bad
    with pytest.raises(Refusal) as native:
        book.place(*args)  # type: ignore[arg-type]
    assert native.value.field == field
    assert book.open == 0 and book.events() == []


@pytest.mark.parametrize("rule", RULES)
def test_a_market_buy_out_of_money_still_meets_its_own_orders(rule: SelfTrade) -> None:
    """The engine plans over every candidate once: after the money runs out partway through
    one, the buyer's own orders behind it still meet self-trade prevention."""
    market = Market.of("r/x", tick_size=1, base_price=100, self_trade=rule)
    ref = ReferenceMatcher([market])
    book = Book(8, 8, RULES.index(rule))
    for n, (account, price, quantity) in enumerate([(0, 93, 1), (2, 98, 5), (1, 98, 1),
                                                    (1, 99, 1), (2, 99, 1)], 1):
        book.place(n, account, False, price, quantity, 0)
        ref.place(f"o{n}", ACCOUNTS[account], False, (market.id,), price, quantity, "gtc",
                  False, False, 0)
    want = ref.place_market("o9", "a1", True, (market.id,), 8, 241, "ioc", 9)
    book.place_market(9, 1, True, 8, 241, 1)
    assert want is not None and translate(book.events(), market.id, 9) == want
    assert want[-1] == Cancelled("o9", "a1", (market.id,), 6,
                                 "ioc" if rule is SelfTrade.CANCEL_OLDEST else "self_trade", 9)
    assert (book.depth(True, 9), book.depth(False, 9)) == ref.depth(market.id)


MARKET_REFUSALS = [
    (True, 1, None, 1), (False, 1, 10, 1), (True, 1, 10, 0), (True, 1, 2**63, 1),
    (True, 1, 10**30, 1), (True, 2**63, 10, 1), (True, 10**30, 10, 1), (True, 0, 10, 1),
    (True, 2, 50, 2), (False, 5, None, 2),
]


@pytest.mark.parametrize(("buy", "quantity", "spend", "tif"), MARKET_REFUSALS)
def test_market_order_refusals_are_the_engines(buy: bool, quantity: int, spend: int | None,
                                               tif: int) -> None:
    m = Market.of("r/x", tick_size=1, base_price=10)
    ex = Exchange()
    for cmd in (commands.ListMarket(m), commands.OpenAccount("p", Role.PROVIDER),
                commands.AddCapacity("p", m.id, 20), commands.OpenAccount("t", Role.TRADER),
                commands.Deposit("t", 10**15),
                commands.PlaceOrder("a1", "p", Side.SELL, (m.id,), 30, 1),
                commands.PlaceOrder("b1", "t", Side.BUY, (m.id,), 20, 1)):
        ex.apply(cmd)
    book = Book(8, 8)
    book.place(1, 1, False, 30, 1, 0)
    book.place(2, 0, True, 20, 1, 0)
    account = "t" if buy else "p"
    side = Side.BUY if buy else Side.SELL
    [rejected] = ex.apply(commands.MarketOrder("x", account, side, (m.id,), quantity, spend,
                                               TimeInForce(TIFS[tif])))
    with pytest.raises(Refusal) as native:
        book.place_market(3, 0 if buy else 1, buy, quantity, spend, tif)
    assert isinstance(rejected, Rejected)
    assert (native.value.field, native.value.reason) == (rejected.field, rejected.reason)


@pytest.mark.parametrize("bad", [-1, 2**64, 10**30, "1"])
def test_ids_accounts_and_sizes_are_range_checked(bad: object) -> None:
    book = Book(2, 1)
    with pytest.raises(ValueError, match="order id"):
        book.place(bad, 0, True, 100, 1, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="account"):
        book.place(1, bad if bad != -1 else 2**32, True, 100, 1, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_orders"):
        Book(bad, 1)  # type: ignore[arg-type]


def test_a_full_book_refuses_before_changing_anything() -> None:
    book = Book(2, 1)
    assert book.place(1, 0, True, 100, 1, 0) == 0
    with pytest.raises(MemoryError):
        book.place(2, 0, True, 99, 1, 0)  # a second level: only one fits
    assert book.place(3, 0, True, 100, 1, 0) == 0
    with pytest.raises(MemoryError):
        book.place(4, 0, True, 100, 1, 0)  # a third order: only two fit
    assert book.place(4, 1, False, 100, 1, 1) == 1  # an IOC never needs room
    with pytest.raises(ValueError, match="already open"):
        book.place(3, 0, True, 100, 1, 0)
    assert book.depth(True, 5) == [(100, 1, 1)]
    assert book.nbytes > 0


GOLDEN = Path(__file__).parent / "golden"
WHOLE = {"price_time_priority", "partial_fills", "level_sweep", "ioc_fok",
         "cancel_after_partial", "self_trade", "modify"}
"""Golden scenarios made only of what the native core takes, run on it whole."""


def _native_golden(scenario: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """Run ``scenario``'s order commands on native books (one per market) and check each
    step's order events against the golden expectation. Returns the steps run and the
    final books, or None for the books when a command the core does not take stopped it."""
    markets = [codec.decode_market(m) for m in scenario["markets"]]
    books = {m.id: Book(100, 100, RULES.index(m.self_trade),
                        m.execution is ExecutionRule.AT_ASK) for m in markets}
    ids: dict[str, int] = {}
    accounts = [*scenario["accounts"].get("traders", []),
                *scenario["accounts"].get("providers", [])]
    where: dict[str, str] = {}
    trades = itertools.count(1)
    for n, step in enumerate(scenario["steps"]):
        expect = step["expect"]
        command = codec.decode_command(step["do"])
        if expect[0]["type"] == "rejected":
            continue  # refused by the engine's checks: nothing to match
        ts = next(e["ts_ns"] for e in expect if e["type"] == "accepted")
        order_events = [e for e in expect
                        if e["type"] in ("traded", "rested", "cancelled", "modified")]
        if isinstance(command, commands.PlaceOrder):
            if len(command.markets) != 1 or command.all_or_none or command.post_only:
                return n, None
            market = command.markets[0]
            ids[command.order_id] = len(ids)
            where[command.order_id] = market
            book = books[market]
            book.place(ids[command.order_id], accounts.index(command.account),
                       command.side is Side.BUY, command.price, command.quantity,
                       TIFS.index(command.tif.value))
        elif isinstance(command, commands.CancelOrder):
            market = where[command.order_id]
            book = books[market]
            book.cancel(ids[command.order_id])
        elif isinstance(command, commands.ModifyOrder):
            market = where[command.order_id]
            book = books[market]
            book.modify(ids[command.order_id], command.price, command.quantity)
        elif order_events or not isinstance(
                command, commands.Tick | commands.Deposit | commands.Withdraw):
            return n, None
        else:
            continue
        names = {v: k for k, v in ids.items()}
        got = [codec.encode_event(e) for e in translate(book.events(), market, ts, names, accounts,
                                                        trades)]
        assert got == order_events, f"step {n}: {step['do']}"
    final = {m: {"bids": [list(x) for x in b.depth(True, 100)],
                 "asks": [list(x) for x in b.depth(False, 100)]} for m, b in books.items()}
    return len(scenario["steps"]), final


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_scenarios_on_the_native_core(path: Path) -> None:
    scenario = yaml.safe_load(path.read_text())
    steps, books = _native_golden(scenario)
    if path.stem in WHOLE:
        assert books == scenario["book"] and steps == len(scenario["steps"])
    else:
        assert books is None  # it uses what only the Python engine does (cross-market, ...)


@pytest.mark.parametrize("bad", [0, -1, 2**63, 10**30, "5", 5.0])
@pytest.mark.parametrize("field", ["price", "quantity"])
def test_modify_refusals_are_the_references(bad: object, field: str) -> None:
    book = Book(4, 4)
    book.place(1, 0, True, 100, 2, 0)
    args = (bad, None) if field == "price" else (None, bad)
    with pytest.raises(Refusal) as native:
        book.modify(1, *args)  # type: ignore[arg-type]
    assert native.value.field == field
    assert book.depth(True, 5) == [(100, 2, 1)] and book.events() == []
    with pytest.raises(KeyError):
        book.modify(2, 100, 1)
