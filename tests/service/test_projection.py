"""The SQL projection against the engine, the journal tail against replay, and the small
parts (keys, rate limits, error fields, the stream hub)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from auctioneer.exchange import Command, Exchange, Market, Role, Side, TimeInForce, commands
from auctioneer.exchange.journal import FsyncPolicy, Journal, JournalReader, replay
from auctioneer.service.broadcast import Hub
from auctioneer.service.errors import field_name
from auctioneer.service.keys import KeyRing
from auctioneer.service.projector import Applied, Projector
from auctioneer.service.ratelimit import RateLimiter
from auctioneer.service.store import accounts, capacity, connect, orders, projected_seq, trades

MARKETS = (Market("r1", "gpu", 1, 100), Market("r2", "gpu", 1, 100))
IDS = tuple(m.id for m in MARKETS)
TRADERS, PROVIDERS = ("t1", "t2"), ("p1", "p2")


def setup() -> list[Command]:
    out: list[Command] = [commands.ListMarket(m) for m in MARKETS]
    for name in TRADERS + PROVIDERS:
        role = Role.TRADER if name in TRADERS else Role.PROVIDER
        out += [commands.OpenAccount(name, role), commands.Deposit(name, 100_000)]
    out += [commands.AddCapacity(p, m, 40) for p in PROVIDERS for m in IDS]
    return out


@st.composite
def streams(draw: st.DrawFn) -> list[Command]:
    out = setup()
    for n in range(draw(st.integers(1, 60))):
        kind = draw(st.sampled_from(["buy", "buy", "sell", "sell", "cancel", "modify", "money"]))
        oid = f"o{draw(st.integers(0, n))}"
        if kind in ("buy", "sell"):
            buy = kind == "buy"
            account = draw(st.sampled_from(TRADERS + PROVIDERS if buy else PROVIDERS))
            markets = tuple(draw(st.lists(st.sampled_from(IDS), min_size=1,
                                          max_size=2 if buy else 1, unique=True)))
            side = Side.BUY if buy else Side.SELL
            out.append(commands.PlaceOrder(f"o{n}", account, side, markets,
                                           draw(st.integers(95, 105)), draw(st.integers(1, 6)),
                                           draw(st.sampled_from(list(TimeInForce))), ts_ns=n))
        elif kind == "cancel":
            account = draw(st.sampled_from(TRADERS + PROVIDERS))
            out.append(commands.CancelOrder(oid, account, ts_ns=n))
        elif kind == "modify":
            out.append(commands.ModifyOrder(oid, draw(st.sampled_from(TRADERS + PROVIDERS)),
                                            draw(st.none() | st.integers(95, 105)),
                                            draw(st.none() | st.integers(1, 6)), ts_ns=n))
        else:
            money = commands.Deposit if draw(st.booleans()) else commands.Withdraw
            out.append(money(draw(st.sampled_from(TRADERS)), draw(st.integers(1, 500)),
                             ts_ns=n))
    return out


@settings(max_examples=25)
@given(stream=streams(), cuts=st.lists(st.integers(0, 200), max_size=6))
def test_projection_matches_the_engine(stream: list[Command], cuts: list[int]) -> None:
    exchange = Exchange()
    applied: list[Applied] = [(seq, cmd, exchange.apply(cmd))
                              for seq, cmd in enumerate(stream, 1)]
    db = connect("sqlite://")
    bounds = sorted({0, len(applied), *(c for c in cuts if c < len(applied))})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        Projector(db).project(applied[lo:hi])  # a fresh projector: as after a restart
    assert projected_seq(db) == len(applied)
    with db.connect() as conn:
        balances = dict(conn.execute(select(accounts.c.id, accounts.c.balance)).all())
        open_rows = {row.id: row for row in conn.execute(
            select(orders).where(orders.c.status == "open"))}
        trade_count = conn.execute(select(trades.c.id)).all()
        provided = {(r.account, r.market): r.quantity
                    for r in conn.execute(select(capacity))}
    assert balances == {a.id: a.balance for a in exchange.accounts()}
    engine_open = {o.order_id: o for a in exchange.accounts() for o in exchange.orders(a.id)}
    assert open_rows.keys() == engine_open.keys()
    for oid, row in open_rows.items():
        assert row.quantity - row.filled == engine_open[oid].remaining
        assert row.price == engine_open[oid].price
    assert len(trade_count) == sum(len(exchange.trades(m)) for m in IDS)
    assert provided == {(p, c.market): c.provided for p in PROVIDERS
                        for c in exchange.capacity(p)}


@settings(max_examples=40)
@given(batches=st.lists(st.integers(1, 5), min_size=1, max_size=12),
       rotate=st.sets(st.integers(0, 11)), polls=st.sets(st.integers(0, 11)))
def test_journal_tail_equals_replay(batches: list[int], rotate: set[int],
                                    polls: set[int]) -> None:
    with tempfile.TemporaryDirectory() as d:
        seen: list[tuple[int, Command]] = []
        tail = JournalReader(d, after=0)
        with Journal(d, FsyncPolicy.NEVER) as journal:
            for i, size in enumerate(batches):
                journal.append_many([commands.Deposit("a", i * 10 + k + 1) for k in range(size)])
                if i in rotate:
                    journal.rotate()
                if i in polls:
                    seen += tail.poll()
        seen += tail.poll()
        tail.close()
        assert seen == list(replay(d))
        later = JournalReader(d, after=3)
        assert later.poll() == [r for r in replay(d) if r[0] > 3]
        later.close()


def test_torn_record_is_left_for_later(tmp_path: Path) -> None:
    with Journal(tmp_path, FsyncPolicy.NEVER) as journal:
        journal.append_many([commands.Deposit("a", 1), commands.Deposit("a", 2)])
    segment = next(tmp_path.glob("journal-*.log"))
    whole = segment.read_bytes()
    segment.write_bytes(whole[:-3])
    tail = JournalReader(tmp_path, after=0)
    assert [seq for seq, _ in tail.poll()] == [1]
    with open(segment, "ab") as out:
        out.write(whole[-3:])
    assert [seq for seq, _ in tail.poll()] == [2]
    tail.close()


def test_keys() -> None:
    ring = KeyRing(b"k" * 32)
    key = ring.key_for("p.1")
    assert ring.account_of(key) == "p.1"
    assert ring.account_of(key[:-1] + "0") is None or key.endswith("0")
    assert ring.account_of("nodot") is None
    assert KeyRing(b"x" * 32).account_of(key) is None


def test_keys_remembered_stay_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A good key is remembered (no HMAC the second time); forged ones never are, and the
    memory is bounded (full, it starts again)."""
    monkeypatch.setattr("auctioneer.service.keys._REMEMBERED", 3)
    ring = KeyRing(b"k" * 32)
    keys = {name: ring.key_for(name) for name in "abcd"}
    forged = keys["a"][:-1] + ("1" if keys["a"].endswith("0") else "0")
    assert [ring.account_of(keys[name]) for name in "abcd"] == list("abcd")
    monkeypatch.setattr(KeyRing, "_tag", lambda self, account: "")  # no HMAC matches now
    assert ring.account_of(keys["d"]) == "d"  # remembered
    assert ring.account_of(keys["a"]) is None  # forgotten when the memory filled
    assert ring.account_of(forged) is None


@given(costs=st.lists(st.tuples(st.integers(1, 5), st.floats(0, 0.5)), max_size=40))
def test_rate_limiter_never_exceeds_rate_plus_burst(costs: list[tuple[int, float]]) -> None:
    limiter = RateLimiter(rate=10.0, burst=5)
    now, taken = 0.0, 0
    for cost, step in costs:
        now += step
        wait = limiter.take("a", cost, now)
        if wait == 0.0:
            taken += cost
        else:
            assert wait > 0 and limiter.take("a", cost, now + wait + 1e-9) == 0.0
            now += wait + 1e-9
            taken += cost
        assert taken <= 5 + 10.0 * now + 1e-6


def test_error_fields() -> None:
    assert field_name(("body", "orders", 0, "markets", 1)) == "orders[0].markets[1]"
    assert field_name(("body",)) == "body"
    assert field_name(("path", "oid")) == "oid"


def test_hub_drops_a_slow_subscriber() -> None:
    async def run() -> tuple[int, bytes]:
        hub = Hub(limit=3)
        slow = hub.subscribe()
        for i in range(5):
            hub.publish("price", {"i": i})
        last = b"x"
        while not slow.empty():
            last = slow.get_nowait()
        return hub.subscribers, last

    assert asyncio.run(run()) == (0, b"")
