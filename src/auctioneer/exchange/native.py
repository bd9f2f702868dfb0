"""The native engine behind the :class:`~auctioneer.exchange.engine.Exchange` interface.

:class:`NativeExchange` is an :class:`Exchange` whose state, while it holds
only what the C engine (``_engine.c`` over ``engine_core.c`` and
``match_core.c``) takes, lives in C: limit orders (all-or-none, post-only and
cross-market ones too), market orders, cancels, modifications,
deposits, withdrawals, capacity changes and ticks run there whole --
validation, matching, reservations, settlement and events -- and so do their
refusals: C decides why, and formats the reference's own message
(:mod:`~auctioneer.exchange.refusals`), with no state moved. The Python
engine it inherits from is the reference, and takes over -- the state moved
back into its objects first -- for what C does not take: an order over more
than 64 markets, an order id with no UTF-8 form, a str subclass for an id.
(A new account or market is added in C, after the reference's checks.) The
state moves into C again at the next order while no open order needs the
reference.

A query, a snapshot or a check first copies the C state into the Python
objects (once per change), so every read is the reference's code over the
same state, and ``state_hash`` is comparable across engines -- but for the
reads the service makes per request, an account and a book's depth, which C
answers itself.

Example:
    >>> from auctioneer.exchange import *
    >>> ex = NativeExchange()
    >>> m = Market.of("r/x", tick_size=1, base_price=10)
    >>> for cmd in (ListMarket(m), OpenAccount("p", Role.PROVIDER), AddCapacity("p", m.id, 5),
    ...             OpenAccount("t", Role.TRADER), Deposit("t", 100),
    ...             PlaceOrder("a", "p", Side.SELL, (m.id,), 10, 2)):
    ...     _ = ex.apply(cmd)
    >>> ex.native
    True
    >>> [e.kind for e in ex.apply(PlaceOrder("b", "t", Side.BUY, (m.id,), 12, 3))]
    ['accepted', 'traded', 'rested']
    >>> ex.account("t").balance, ex.account("t").reserved
    (80, 12)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import wraps
from typing import Any, TypeVar, cast

from auctioneer.exchange import _engine
from auctioneer.exchange import commands as c
from auctioneer.exchange.book import Order
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Event, Rejected, Traded
from auctioneer.exchange.invariants import InvariantError
from auctioneer.exchange.journal import Segment
from auctioneer.exchange.ledger import Account, AccountView, Capacity
from auctioneer.exchange.limits import EXPECT_MAX
from auctioneer.exchange.model import ExecutionRule, Role, SelfTrade, Side
from auctioneer.exchange.snapshot import restore_into, snapshot_pieces
from auctioneer.exchange.state import Refusal, check_ts

__all__ = ["ENGINE_VARIABLE", "ROLE_NUMBERS", "NativeExchange", "engine"]

Sequence.register(_engine.Events)  # what the native engine's apply returns

ENGINE_VARIABLE = "AUCTIONEER_ENGINE"
"""The environment variable that picks the engine recovery and the service run: ``native``
(the default) or ``python`` (the reference)."""

ROLE_NUMBERS = {Role.TRADER: 0, Role.PROVIDER: 1, Role.ADMIN: 2}
"""Each role as the C core numbers it (``enum ec_role`` in ``engine_core.h``)."""
_ROLE_WORDS = tuple(role.value for role in sorted(ROLE_NUMBERS, key=ROLE_NUMBERS.__getitem__))
# A trade as encode_event writes it: its keys sorted, each with its field's place ("type": -1),
# and the side's word.
_TRADED_KEYS = tuple(sorted([*((f, i) for i, f in enumerate(Traded._fields)), ("type", -1)]))
_SIDE_WORDS = tuple((side, side.value) for side in Side)
_RULES = {SelfTrade.CANCEL_NEWEST: 0, SelfTrade.CANCEL_OLDEST: 1, SelfTrade.CANCEL_BOTH: 2}
# The commands that move the state into C: the order path.
_ORDERS = frozenset({c.PlaceOrder, c.MarketOrder, c.CancelOrder, c.ModifyOrder})
_ROOM = 64  # order slots per market book at first (a full book doubles in C)
_CROSS_MAX = 64  # markets a cross-market bid in C may list (MC_CROSS_MAX in match_core.h)
_F = TypeVar("_F", bound=Callable[..., Any])


def _utf8(text: str) -> bool:
    """Whether ``text`` has a UTF-8 form (no lone surrogate), as C keeps order ids."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _synced(method: _F) -> _F:
    """``method`` reading the Python objects after the C state was copied into them."""

    @wraps(method)
    def read(self: NativeExchange, *args: Any, **kwargs: Any) -> Any:
        self._sync()
        return method(self, *args, **kwargs)

    return cast(_F, read)


class NativeExchange(Exchange):
    """:class:`Exchange` with the order path in C; see the module docstring."""

    retry = 64
    """Orders the reference takes before C is tried again, after an open order needed the
    reference (trying scans every open order)."""

    def __init__(self, *, expect_orders: int = 0) -> None:
        super().__init__(expect_orders=expect_orders)
        # The instance's own ``apply`` is the gate: a command crosses into C with no Python
        # frame on the way, and only what C hands back reaches :meth:`_fallback`.
        self._gate = _engine.Gate(self._fallback)
        self.__dict__["apply"] = self._gate
        self._wait = 0  # reference commands left before C is tried again
        self._account_no: dict[str, int] = {}  # the C engine's numbers, while it holds the state
        self._market_no: dict[str, int] = {}
        # A snapshot reads from its own thread while the service's loop reads: one copy at once.
        self._copying = threading.Lock()
        self._expect = expect_orders  # hinted orders, for when the state next moves into C

    @property
    def native(self) -> bool:
        """Whether the state is in C now."""
        return self._core is not None

    @property
    def _core(self) -> _engine.Core | None:
        return self._gate.core

    @property
    def _dirty(self) -> bool:
        """Whether the C state changed since it was copied into Python."""
        core = self._gate.core
        return core is not None and core.dirty

    @_dirty.setter
    def _dirty(self, value: bool) -> None:
        core = self._gate.core
        if core is not None:
            core.dirty = value

    # ------------------------------------------------------------- commands

    def apply(self, command: c.Command) -> Sequence[Event]:
        # Reached through the class only (``NativeExchange.apply(ex, cmd)``): an instance's
        # ``apply`` is its gate.
        return self._gate(command)

    def _fallback(self, command: c.Command) -> Sequence[Event]:
        """A command the gate did not apply in C: the first order moves the state into C
        and is tried there; anything C hands back moves it to the reference, which applies
        it."""
        core = self._core
        if core is not None and isinstance(command, c.OpenAccount | c.ListMarket):
            added = self._add_in(core, command)
            if added is not None:
                return added
        if core is None and type(command) in _ORDERS:
            core = self._load()
            if core is not None:
                events = core.apply(command)
                if events is not None:
                    return events
        if core is not None:
            self._unload()
        return super().apply(command)

    def _add_in(self, core: _engine.Core, cmd: c.OpenAccount | c.ListMarket
                ) -> Sequence[Event] | None:
        """OpenAccount or ListMarket with the state kept in C: the reference's checks (O(1):
        they read only the accounts' and markets' ids, which C never changes), then C adds
        it; None (the reference takes it) for an id C keeps no name of: a str subclass or
        one with no UTF-8 form."""
        key = cmd.account if isinstance(cmd, c.OpenAccount) else getattr(cmd.market, "id", None)
        if isinstance(key, str) and (type(key) is not str or not _utf8(key)):
            return None
        try:
            added = self._check_open(cmd) if isinstance(cmd, c.OpenAccount) else (
                self._check_list(cmd))
            check_ts(cmd.ts_ns)
        except Refusal as exc:
            return [Rejected(cmd.kind, exc.field, exc.reason)]
        if isinstance(added, tuple):
            account, role = added
            events = core.open_account(cmd.kind, account, ROLE_NUMBERS[role], cmd.ts_ns)
            self._accounts[account] = Account(account, role)
            self._account_no[account] = len(self._account_no)
            return events
        m = added
        venue = self._add_venue(m)
        try:
            events = core.list_market(cmd.kind, m.id, m.tick_size,
                                      m.execution is ExecutionRule.AT_ASK, _RULES[m.self_trade],
                                      _ROOM, _ROOM, venue.index, venue.trades, cmd.ts_ns)
        except MemoryError:  # the core is unusable: the reference keeps the state, unlisted
            for table in (self._books, self._markets, self._prices, self._trades):
                del table[m.id]
            self._unload()
            raise
        self._market_no[m.id] = len(self._market_no)
        return events

    def apply_many(self, commands: Iterable[c.Command]) -> list[Sequence[Event]]:
        batch = commands if isinstance(commands, list) else list(commands)
        out: list[Sequence[Event]] = []
        while len(out) < len(batch):
            core = self._core
            if core is not None:
                done = core.apply_many(batch, len(out))
                if done:
                    out += done
                    continue
            out.append(self.apply(batch[len(out)]))
        return out

    def reserve(self, orders: int) -> None:
        """Room for about ``orders`` more orders: more order ids in the id table, their
        numbers' tables and the trade buffer, and each market's book a share of them as if
        none matched. It is made now where the state is in C or can move there (it has a
        market, and no open order needs the reference), else when it next moves there
        (hints given before that add up). MemoryError when C cannot have it now."""
        super().reserve(orders)
        core = self._core
        if core is not None:
            core.reserve(orders)
            return
        self._expect = min(self._expect + orders, EXPECT_MAX)
        if self._markets and not self._wait:
            self._load()  # which makes the room, off the order path

    def replay_bytes(self, data: Segment, pos: int, last_seq: int,
                     log: list[tuple[Any, ...]] | None = None) -> tuple[int, int]:
        """Apply the whole journal records of ``data`` from offset ``pos`` on, in C, while
        each follows ``last_seq`` and is a command C takes in the journal's canonical JSON;
        return where it stopped and the last sequence number applied. The journal reader
        (:class:`~auctioneer.exchange.journal.JournalReader` with ``bulk``) takes the
        record there, if any, on its own path. With ``log``, each applied command's changes
        to the SQL projection are appended to it (``engine_changes.c``)."""
        core = self._core or self._load()
        if core is None:
            return pos, last_seq
        return core.replay(data, pos, last_seq) if log is None else (
            core.replay(data, pos, last_seq, log))

    @classmethod
    def restore_parts(cls, state: dict[str, Any], data: bytes, orders: tuple[int, int],
                      used: tuple[int, int]) -> NativeExchange | None:
        """The exchange whose snapshot is ``state`` but for its open orders and used ids,
        whose JSON is ``data[orders[0]:orders[1]]`` and ``data[used[0]:used[1]]``: they are
        read straight into C (``engine_restore.c``), with no Python object per order or id,
        and the rest by :func:`~auctioneer.exchange.snapshot.restore_into`. None when C does
        not take them as they are (:meth:`restore` takes the whole state). Like
        :meth:`restore`, it expects as many orders again as it has taken."""
        ex = restore_into(cls(), {**state, "orders": [], "used_ids": {"ids": [], "runs": []}})
        core = ex._load()  # holds no order yet, so C takes it
        used_ids = None if core is None else core.restore(data, orders, used)
        if used_ids is None:
            return None
        ex.reserve(min(used_ids, EXPECT_MAX))
        return ex

    # --------------------------------------------------------- moving state

    def _load(self) -> _engine.Core | None:
        """Move the state into C; None (and the reference keeps it) when an open order needs
        the reference."""
        if self._wait:
            self._wait -= 1
            return None
        orders = sorted(self._orders.values(), key=lambda o: o.seq)
        if any(len(o.markets) > _CROSS_MAX or not _utf8(o.id) for o in orders):
            self._wait = self.retry
            return None
        counts: dict[str, int] = {}
        for o in orders:
            for market_id in o.markets:
                counts[market_id] = counts.get(market_id, 0) + 1
        markets = []
        for m in self._markets.values():
            venue = self._books[m.id]
            room = max(_ROOM, 2 * counts.get(m.id, 0))
            markets.append((m.id, m.tick_size, m.execution is ExecutionRule.AT_ASK,
                            _RULES[m.self_trade], room, room, venue.index, venue.trades))
        accounts = list(self._accounts.values())
        core = _engine.Core(markets, [(a.id, ROLE_NUMBERS[a.role]) for a in accounts],
                            self._used_ids)
        account_no = self._account_no = {a.id: i for i, a in enumerate(accounts)}
        market_no = self._market_no = {m: i for i, m in enumerate(self._markets)}
        for i, a in enumerate(accounts):
            core.load_account(i, a.balance, a.reserved)
        for (a_id, m_id), cap in self._capacity.items():
            core.load_capacity(account_no[a_id], market_no[m_id], cap.provided,
                               cap.allocated, cap.offered)
        for m_id, venue in self._books.items():
            for a_id, quantity in venue.holdings.items():
                core.load_holding(account_no[a_id], market_no[m_id], quantity)
        for o in orders:
            numbers = (market_no[o.markets[0]] if len(o.markets) == 1
                       else tuple(market_no[m] for m in o.markets))
            if not core.load_order(o.id, account_no[o.account], numbers, o.buy, o.price,
                                   o.remaining, o.seq, o.ts_ns, o.post_only, o.aon):
                raise AssertionError(f"order {o.id!r} does not fit a book sized for it")
        core.load_counters(self._seq, self._trade_seq, self._clock, self._second,
                           self._minted)
        if self._expect:
            with suppress(MemoryError):  # a hint: without its room the tables grow as needed
                core.reserve(self._expect)
            self._expect = 0
        self._gate.core = core
        return core

    def _sync(self) -> None:
        """Copy the C state into the Python objects, if it changed since the last copy."""
        with self._copying:
            core = self._core
            if core is not None and self._dirty:
                self._copy(core)

    def _copy(self, core: _engine.Core, orders_too: bool = True) -> None:
        """Copy the C state into the Python objects; without ``orders_too`` only the ledger
        (accounts, capacity, holdings, counters), which leaves the copy still to be made."""
        balances, capacity, holdings, orders, counters = core.dump(orders_too)
        accounts = list(self._accounts.values())
        markets = list(self._markets)
        for acct, (balance, reserved) in zip(accounts, balances, strict=True):
            acct.balance, acct.reserved = balance, reserved
        for a, m, provided, allocated, offered in capacity:
            key = (accounts[a].id, markets[m])
            cap = self._capacity.get(key)
            if cap is None:
                cap = self._capacity[key] = Capacity()
                self._books[markets[m]].providers[key[0]] = cap
            cap.provided, cap.allocated, cap.offered = provided, allocated, offered
        for venue in self._books.values():
            venue.holdings.clear()
        for a, m, quantity in holdings:
            self._books[markets[m]].holdings[accounts[a].id] = quantity
        self._seq, self._trade_seq, self._clock, self._second, self._minted = counters
        if not orders_too:
            return
        for venue in self._books.values():
            venue.bids.clear()
            venue.asks.clear()
            venue._rebuild(True)
            venue._rebuild(False)
        self._orders.clear()
        for mine in self._by_account.values():
            mine.clear()
        for order_id, a, where, buy, price, remaining, seq, ts, post_only, aon in sorted(
                orders, key=lambda r: r[6]):
            account = accounts[a].id
            listed = ((markets[where],) if isinstance(where, int)
                      else tuple(markets[i] for i in where))
            order = Order(order_id, account, buy, listed, price, remaining, aon, seq, ts,
                          post_only)
            for market in listed:
                self._books[market].add(order)
            self._orders[order_id] = order
            self._by_account.setdefault(account, {})[order_id] = order
        self._dirty = False

    def _unload(self) -> None:
        """Hand the state back to the reference engine."""
        self._sync()
        self._gate.core = None

    # ---------------------------------------------------------------- reads

    @property
    def clock(self) -> int:
        self._sync()
        return self._clock

    @property
    def nbytes(self) -> int:
        """Bytes the C engine holds now (0 while the reference holds the state)."""
        return 0 if self._core is None else self._core.nbytes

    def book(self, market_id: str, depth: int = 10
             ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        core = self._core
        if core is None or not self._dirty or depth < 0:
            self._sync()
            return super().book(market_id, depth)
        self.market(market_id)
        number, limit = self._market_no[market_id], max(0, min(depth, 2**32 - 1))
        return core.depth(number, True, limit), core.depth(number, False, limit)

    def account(self, account: str) -> AccountView:
        core = self._core
        number = self._account_no.get(account) if core is not None and self._dirty else None
        if core is None or number is None:
            self._sync()
            return super().account(account)
        balance, reserved = core.account(number)
        return AccountView(account, self._accounts[account].role, balance, reserved)

    order = _synced(Exchange.order)
    trades = _synced(Exchange.trades)  # C holds the latest trades until a copy
    orders = _synced(Exchange.orders)
    price = _synced(Exchange.price)
    ohlc = _synced(Exchange.ohlc)
    capacity = _synced(Exchange.capacity)
    allocations = _synced(Exchange.allocations)
    positions = allocations
    def admit(self, cmd: c.PlaceOrder | c.MarketOrder, held: bool = True
              ) -> tuple[Account, Capacity | None]:
        # Without ``held`` it reads only accounts' roles, markets and the command: the C
        # engine changes none of them, so the Python objects are current enough.
        if held:
            self._sync()
        return super().admit(cmd, held)

    def check(self, full: bool = True) -> None:
        core = self._core
        if core is None or not self._dirty:
            super().check(full)
            return
        # The state lives in C and its copy is stale: check it there (engine_check.c holds
        # the same invariants), instead of copying every order out first.
        with self._copying:
            broken = core.check(full)
        if broken is not None:
            raise InvariantError(broken)

    snapshot = _synced(Exchange.snapshot)

    def snapshot_pieces(self) -> list[bytes]:
        # While C holds the state it writes the parts that grow with it (engine_snapshot.c),
        # and nothing is copied into the Python objects.
        core = self._core
        if core is None:
            self._sync()
            return super().snapshot_pieces()
        with self._copying:
            ledger = core.snapshot_parts(_ROLE_WORDS)  # the tapes are current after it
            tapes = None if ledger is None else _engine.tapes_json(
                sorted(self._trades.items()), _TRADED_KEYS, Traded.kind, _SIDE_WORDS)
        if ledger is None:  # an id only the reference keeps
            self._sync()
            return super().snapshot_pieces()
        if tapes is not None:  # else a value C does not write: the reference writes them
            ledger["trades"] = tapes
        return snapshot_pieces(self, ledger)


def engine() -> type[Exchange]:
    """The engine class :data:`ENGINE_VARIABLE` names (default :class:`NativeExchange`);
    ValueError naming the variable for another value."""
    choice = os.environ.get(ENGINE_VARIABLE, "native")
    if choice not in ("native", "python"):
        raise ValueError(f"{ENGINE_VARIABLE}={choice!r} is not 'native' or 'python'")
    return NativeExchange if choice == "native" else Exchange
