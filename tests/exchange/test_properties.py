"""Random command streams: invariants, replay and snapshot hashes, and the reference matcher.

The state machine drives one exchange with random orders, cancels,
modifications, capacity changes, deposits, withdrawals and ticks (rejections
included) and after every step checks the invariants (no crossed book at rest,
allocated <= provided, money conserved, reservations consistent); at the end
a replay of the same commands, a replay through the checked path alone (the
fast path switched off) and a snapshot round trip must reach the same events
and state hash. The differential test runs the fast engine and the plain
:class:`~auctioneer.exchange.reference.ReferenceMatcher` side by side and
compares every event and every book.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from auctioneer.exchange import (
    Command,
    Event,
    Exchange,
    ExecutionRule,
    Market,
    Rejected,
    Role,
    SelfTrade,
    Side,
    TimeInForce,
    commands,
    decode_command,
    encode_command,
)
from auctioneer.exchange.reference import ReferenceMatcher

MARKETS = (
    Market("r1", "gpu", 1, 100, ExecutionRule.AT_ASK, 5, SelfTrade.CANCEL_NEWEST),
    Market("r2", "gpu", 2, 100, ExecutionRule.AT_RESTING, 60, SelfTrade.CANCEL_OLDEST),
    Market("r3", "gpu", 1, 100, ExecutionRule.AT_ASK, 1, SelfTrade.CANCEL_BOTH),
)
IDS = tuple(m.id for m in MARKETS)
TRADERS = ("t1", "t2", "t3")
PROVIDERS = ("p1", "p2")
ACCOUNTS = TRADERS + PROVIDERS

prices = st.integers(47, 53).map(lambda p: 2 * p)  # on every market's tick, crossing often
quantities = st.integers(1, 6)
tifs = st.sampled_from([TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.FOK])
rarely = st.integers(0, 5).map(lambda x: x == 0)  # all-or-none and post-only: now and then
market_lists = st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True)


class CheckedPath(Exchange):
    """The exchange with its fast path off: every command goes through the checked handlers,
    the general matching path (planning, :meth:`Exchange._trade`) included."""

    def apply(self, command: Command) -> list[Event]:
        return self._dispatch(command)


def setup_commands(money: int, capacity: int) -> list[Command]:
    out: list[Command] = [commands.ListMarket(m) for m in MARKETS]
    for name in TRADERS:
        out += [commands.OpenAccount(name, Role.TRADER), commands.Deposit(name, money)]
    for name in PROVIDERS:
        out += [commands.OpenAccount(name, Role.PROVIDER), commands.Deposit(name, money)]
        out += [commands.AddCapacity(name, m, capacity) for m in IDS]
    return out


class ExchangeMachine(RuleBasedStateMachine):
    """Random streams against one exchange; every command is kept for the replay."""

    def __init__(self) -> None:
        super().__init__()
        self.ex = Exchange()
        self.log: list[Command] = []
        self.events: list[list[object]] = []
        self.ts = 0
        self.n = 0
        for cmd in setup_commands(money=5_000, capacity=20):
            self.do(cmd)

    def do(self, cmd: Command) -> None:
        self.log.append(cmd)
        events = self.ex.apply(cmd)
        self.events.append(list(events))
        if isinstance(events[0], Rejected):
            assert len(events) == 1

    def open_ids(self) -> list[str]:
        return [o.order_id for a in ACCOUNTS for o in self.ex.orders(a)]

    @rule(account=st.sampled_from(ACCOUNTS), buy=st.booleans(), price=prices,
          quantity=quantities, tif=tifs, aon=rarely, post_only=rarely, markets=market_lists,
          dt=st.integers(0, 700_000_000))
    def place(self, account: str, buy: bool, price: int, quantity: int, tif: TimeInForce,
              aon: bool, post_only: bool, markets: list[str], dt: int) -> None:
        self.n += 1
        self.ts += dt
        if not buy and account in TRADERS and self.n % 8:
            account = PROVIDERS[self.n % 2]  # mostly valid sells; now and then a refused one
        chosen = tuple(markets) if buy else tuple(markets[:1])
        side = Side.BUY if buy else Side.SELL
        self.do(commands.PlaceOrder(f"o{self.n}", account, side, chosen, price, quantity, tif,
                                    aon, post_only and tif is TimeInForce.GTC, self.ts))

    @rule(account=st.sampled_from(ACCOUNTS), buy=st.booleans(), quantity=quantities,
          budget=st.integers(0, 800), fok=st.booleans(), markets=market_lists,
          dt=st.integers(0, 700_000_000))
    def market(self, account: str, buy: bool, quantity: int, budget: int, fok: bool,
               markets: list[str], dt: int) -> None:
        self.n += 1
        self.ts += dt
        chosen = tuple(markets) if buy else tuple(markets[:1])
        tif = TimeInForce.FOK if fok else TimeInForce.IOC
        self.do(commands.MarketOrder(f"o{self.n}", account, Side.BUY if buy else Side.SELL, chosen,
                                     quantity, budget if buy else None, tif, self.ts))

    @precondition(lambda self: bool(self.open_ids()))
    @rule(data=st.data(), wrong_owner=st.booleans())
    def cancel(self, data: st.DataObject, wrong_owner: bool) -> None:
        order_id = data.draw(st.sampled_from(self.open_ids()))
        owner = self.ex.order(order_id).account  # type: ignore[union-attr]
        self.do(commands.CancelOrder(order_id, "t1" if wrong_owner and owner != "t1" else owner,
                                     self.ts))

    @precondition(lambda self: bool(self.open_ids()))
    @rule(data=st.data(), price=st.none() | prices, quantity=st.none() | quantities)
    def modify(self, data: st.DataObject, price: int | None, quantity: int | None) -> None:
        order_id = data.draw(st.sampled_from(self.open_ids()))
        owner = self.ex.order(order_id).account  # type: ignore[union-attr]
        self.do(commands.ModifyOrder(order_id, owner, price, quantity, self.ts))

    @rule(provider=st.sampled_from(PROVIDERS), market=st.sampled_from(IDS),
          quantity=st.integers(1, 8), add=st.booleans())
    def capacity(self, provider: str, market: str, quantity: int, add: bool) -> None:
        cls = commands.AddCapacity if add else commands.RemoveCapacity
        self.do(cls(provider, market, quantity, self.ts))

    @rule(account=st.sampled_from(ACCOUNTS), amount=st.integers(1, 3_000), deposit=st.booleans())
    def money(self, account: str, amount: int, deposit: bool) -> None:
        self.do((commands.Deposit if deposit else commands.Withdraw)(account, amount, self.ts))

    @rule(dt=st.integers(0, 3_000_000_000))
    def tick(self, dt: int) -> None:
        self.ts += dt
        self.do(commands.Tick(self.ts))

    @invariant()
    def consistent(self) -> None:
        self.ex.check()

    def teardown(self) -> None:
        replayed = Exchange()
        events = [replayed.apply(decode_command(encode_command(c))) for c in self.log]
        assert events == self.events
        assert replayed.state_hash() == self.ex.state_hash()
        batched = Exchange()  # the batch path too
        assert batched.apply_many(self.log) == self.events
        assert batched.state_hash() == self.ex.state_hash()
        checked = CheckedPath()  # the fast path is a shortcut: the same events, the same state
        assert [checked.apply(c) for c in self.log] == self.events
        assert checked.state_hash() == self.ex.state_hash()
        restored = Exchange.restore(self.ex.snapshot())
        restored.check()
        assert restored.state_hash() == self.ex.state_hash()
        # The restored exchange behaves the same from here on, too.
        later = self.ts + 5_000_000_000
        tail = [commands.PlaceOrder("z1", "t1", Side.BUY, IDS, 110, 9, ts_ns=later),
                commands.PlaceOrder("z2", "p1", Side.SELL, IDS[:1], 90, 1, ts_ns=later + 10**9)]
        for cmd in tail:
            assert restored.apply(cmd) == self.ex.apply(cmd)
        assert restored.state_hash() == self.ex.state_hash()


ExchangeMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30,
                                             deadline=None)
TestExchangeMachine = ExchangeMachine.TestCase


places = st.tuples(
    st.just("place"),
    st.booleans().flatmap(lambda buy: st.tuples(
        st.just(buy), st.sampled_from(ACCOUNTS if buy else PROVIDERS))),
    prices, quantities, tifs, rarely, rarely, market_lists)
markets_orders = st.tuples(
    st.just("market"),
    st.booleans().flatmap(lambda buy: st.tuples(
        st.just(buy), st.sampled_from(ACCOUNTS if buy else PROVIDERS))),
    quantities, st.integers(1, 1_500), st.booleans(), market_lists)
order_ops = st.lists(
    st.one_of(
        places, places, places, markets_orders,
        st.tuples(st.just("cancel"), st.integers(0, 10_000)),
        st.tuples(st.just("modify"), st.integers(0, 10_000), st.none() | prices,
                  st.none() | quantities),
    ),
    min_size=30,
    max_size=60,
)


@settings(max_examples=100)
@given(order_ops)
def test_engine_matches_the_reference(ops: list[tuple[object, ...]]) -> None:
    ex = Exchange()
    for cmd in setup_commands(money=10**12, capacity=10**6):
        ex.apply(cmd)
    ref = ReferenceMatcher(MARKETS)
    n = 0
    for op in ops:
        n += 1
        if op[0] == "place":
            _, (is_buy, account), price, quantity, tif, aon, post_only, markets = op
            assert isinstance(account, str) and isinstance(markets, list)
            assert isinstance(tif, TimeInForce) and isinstance(price, int)
            chosen = tuple(markets) if is_buy else tuple(markets[:1])
            post = bool(post_only) and tif is TimeInForce.GTC
            got = ex.apply(commands.PlaceOrder(f"o{n}", account, Side.BUY if is_buy else Side.SELL,
                                               chosen, price, quantity, tif, bool(aon), post, n))
            if post and ref.crosses(is_buy, price, chosen):
                assert isinstance(got[0], Rejected) and got[0].field == "post_only"
                continue
            want = ref.place(f"o{n}", account, is_buy, chosen, price, quantity, tif.value,
                             bool(aon), post, n)
        elif op[0] == "market":
            _, (is_buy, account), quantity, budget, fok, markets = op
            assert isinstance(account, str) and isinstance(markets, list)
            assert isinstance(quantity, int) and isinstance(budget, int)
            chosen = tuple(markets) if is_buy else tuple(markets[:1])
            tif = TimeInForce.FOK if fok else TimeInForce.IOC
            spend = budget if is_buy else None
            got = ex.apply(commands.MarketOrder(f"o{n}", account, Side.BUY if is_buy else Side.SELL,
                                                chosen, quantity, spend, tif, n))
            market_want = ref.place_market(f"o{n}", account, bool(is_buy), chosen, quantity,
                                           budget, tif.value, n)
            if market_want is None:
                assert isinstance(got[0], Rejected) and got[0].field == "quantity", got
                continue
            want = market_want
        else:
            if not ref.orders:
                continue
            target = ref.orders[op[1] % len(ref.orders)]  # type: ignore[operator]
            if op[0] == "cancel":
                got = ex.apply(commands.CancelOrder(target.id, target.account, n))
                want = ref.cancel(target.id, n)
            else:
                price = target.price if op[2] is None else op[2]
                quantity = target.remaining if op[3] is None else op[3]
                assert isinstance(price, int) and isinstance(quantity, int)
                new_price, new_quantity = op[2], op[3]
                assert new_price is None or isinstance(new_price, int)
                assert new_quantity is None or isinstance(new_quantity, int)
                got = ex.apply(commands.ModifyOrder(target.id, target.account, new_price,
                                                    new_quantity, n))
                if op[2] is None and op[3] is None:
                    assert isinstance(got[0], Rejected)
                    continue
                kept = price == target.price and quantity <= target.remaining
                if target.post_only and not kept and ref.crosses(target.buy, price,
                                                                  target.markets):
                    assert isinstance(got[0], Rejected) and got[0].field == "price"
                    continue
                want = ref.modify(target.id, price, quantity, n)
        assert got[0].kind == "accepted", got
        assert got[1:] == want
        ex.check()
    for m in IDS:
        assert ex.book(m, depth=1000) == ref.depth(m)
