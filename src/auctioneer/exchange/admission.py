"""Order admission: the one place that decides whether an order may be placed.

:meth:`Admission.admit` checks every field of a
:class:`~auctioneer.exchange.commands.PlaceOrder` against the state, in a
fixed order, and raises :class:`~auctioneer.exchange.state.Refusal` naming
the first bad field. The engine's order path calls it for every order (fast
path and checked path alike); the service calls it with ``held=False`` to
refuse a request before it is sequenced, when the order id, the timestamp
and the funds are not yet known (a batch's bids are judged together).

Example:
    >>> from auctioneer.exchange import Exchange, ListMarket, Market, OpenAccount, Role
    >>> from auctioneer.exchange import PlaceOrder, Side
    >>> ex = Exchange()
    >>> _ = ex.apply(ListMarket(Market.of("r/x", tick_size=5, base_price=10)))
    >>> _ = ex.apply(OpenAccount("t", Role.TRADER))
    >>> try:
    ...     ex.admit(PlaceOrder("", "t", Side.BUY, ("r/x",), 12, 1), held=False)
    ... except Refusal as exc:
    ...     exc.field, exc.reason
    ('price', "12 is not on the tick of 'r/x' (5)")
"""

from __future__ import annotations

from auctioneer.exchange import commands as c
from auctioneer.exchange.ledger import Account, Capacity
from auctioneer.exchange.limits import PRICE_MAX, QUANTITY_MAX
from auctioneer.exchange.model import Role, Side, TimeInForce
from auctioneer.exchange.state import Refusal, State, Why, check_ts, positive, refused, text
from auctioneer.money import MONEY_MAX

__all__ = ["Admission", "Refusal"]

_BUY, _SELL = Side.BUY, Side.SELL
_GTC, _IOC, _FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
_ADMIN, _PROVIDER = Role.ADMIN, Role.PROVIDER


class Admission(State):
    """:meth:`admit`, and the price check a modification shares with it."""

    def _check_price(self, price: object, markets: tuple[str, ...]) -> int:
        value = positive(price, "price", PRICE_MAX)
        for m in markets:
            tick = self._markets[m].tick_size
            if value % tick:
                raise refused("price", Why.OFF_TICK, value, m, tick)
        return value

    def _admit_party(self, cmd: c.PlaceOrder | c.MarketOrder, held: bool
                     ) -> tuple[Account, bool]:
        """The checks every order shares: its id, account, side and markets. Returns the
        account and whether it buys."""
        # Each check tests the usual value with exact types first and calls the general
        # helper, which names the field, only when that fails: this runs for every order.
        if held:
            order_id = cmd.order_id
            if type(order_id) is not str or not order_id:
                order_id = text(order_id, "order_id")
            if order_id in self._used_ids:
                raise refused("order_id", Why.USED, order_id)
        account = cmd.account
        acct = self._accounts.get(account) if type(account) is str else None
        if acct is None:
            acct = self._account_of(account)
        side = cmd.side
        if side is _BUY:
            buy = True
            if acct.role is _ADMIN:
                raise refused("account", Why.ADMIN_TRADES, acct.id)
        elif side is _SELL:
            buy = False
            if acct.role is not _PROVIDER:
                raise refused("side", Why.NOT_SELLER, acct.id, acct.role.value)
        else:
            raise refused("side", Why.NOT_SIDE, side)
        markets = cmd.markets
        if not isinstance(markets, tuple) or not markets:
            raise refused("markets", Why.NOT_MARKETS, markets)
        books = self._books
        for i, m in enumerate(markets):
            if type(m) is not str or m not in books:
                self._market_of(m, "markets", i)
        if len(markets) > 1:
            if not buy:
                raise refused("markets", Why.SELL_MARKETS)
            if len(set(markets)) != len(markets):
                raise refused("markets", Why.MARKET_TWICE, list(markets))
        return acct, buy

    def admit(self, cmd: c.PlaceOrder | c.MarketOrder, held: bool = True
              ) -> tuple[Account, Capacity | None]:
        """The ordering account and (for a sell) its capacity record, if ``cmd`` may be placed.

        Raises :class:`Refusal` naming the first bad field. With ``held``
        (the engine's own call) it also checks the order id is new, the
        timestamp, that a post-only order would not trade, and that the
        account can reserve the bid's money or offer the sell's capacity.
        Changes nothing.
        """
        acct, buy = self._admit_party(cmd, held)
        if isinstance(cmd, c.MarketOrder):
            return self._admit_market(cmd, acct, buy, held)
        markets = cmd.markets
        books = self._books
        price = cmd.price
        if type(price) is not int or not 0 < price <= PRICE_MAX:
            positive(price, "price", PRICE_MAX)
        for m in markets:
            tick = books[m].tick
            if price % tick:
                raise refused("price", Why.OFF_TICK, price, m, tick)
        quantity = cmd.quantity
        if type(quantity) is not int or not 0 < quantity <= QUANTITY_MAX:
            positive(quantity, "quantity", QUANTITY_MAX)
        tif = cmd.tif
        if not isinstance(tif, TimeInForce):
            raise refused("tif", Why.NOT_TIF, tif)
        aon, post_only = cmd.all_or_none, cmd.post_only
        if aon is not False and aon is not True:
            raise refused("all_or_none", Why.NOT_BOOL, aon)
        if post_only is not False and post_only is not True:
            raise refused("post_only", Why.NOT_BOOL, post_only)
        if post_only and tif is not _GTC:
            raise refused("post_only", Why.POST_ONLY_TIF, tif.value)
        if not held:
            return acct, None
        if post_only and self._crosses(buy, price, markets):
            raise refused("post_only", Why.POST_ONLY_TRADES, price)
        cap = None
        if buy:
            cost = price * quantity
            if cost > acct.balance - acct.reserved:
                raise refused("quantity", Why.COST, quantity, price, cost,
                              acct.balance - acct.reserved)
        else:
            cap = self._offerable(acct, markets[0], quantity)
        ts = cmd.ts_ns
        if type(ts) is not int or not 0 <= ts <= MONEY_MAX:
            check_ts(ts)
        return acct, cap

    def _offerable(self, acct: Account, market: str, quantity: int) -> Capacity:
        """``acct``'s capacity record in ``market`` if ``quantity`` more may be offered there."""
        # The book's index holds the same record as _capacity[(account, market)].
        cap = self._books[market].providers.get(acct.id)
        free = cap.free if cap else 0
        if cap is None or quantity > free:
            raise refused("quantity", Why.NOT_OFFERABLE, quantity, free, acct.id, market)
        return cap

    def _admit_market(self, cmd: c.MarketOrder, acct: Account, buy: bool, held: bool
                      ) -> tuple[Account, Capacity | None]:
        """:meth:`admit`'s checks of what a market order has of its own."""
        quantity = positive(cmd.quantity, "quantity", QUANTITY_MAX)
        max_spend = cmd.max_spend
        if buy:
            if max_spend is None:
                raise refused("max_spend", Why.NO_SPEND)
            positive(max_spend, "max_spend", MONEY_MAX)
        elif max_spend is not None:
            raise refused("max_spend", Why.SELL_SPEND, max_spend)
        tif = cmd.tif
        if tif is not _IOC and tif is not _FOK:
            shown = tif.value if isinstance(tif, TimeInForce) else repr(tif)
            raise refused("tif", Why.MARKET_TIF, shown)
        if not held:
            return acct, None
        cap = None
        if buy:
            assert max_spend is not None
            available = acct.balance - acct.reserved
            if max_spend > available:
                raise refused("max_spend", Why.AVAILABLE, max_spend, available)
        else:
            cap = self._offerable(acct, cmd.markets[0], quantity)
        check_ts(cmd.ts_ns)
        return acct, cap
