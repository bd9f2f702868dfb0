"""Market orders: trade at once at the best prices in the book, IOC or FOK.

A market **buy** reserves its ``max_spend`` while it matches, takes the
cheapest asks among its markets (then the earliest) while its money lasts --
a level it cannot afford whole is filled as far as the money goes -- pays
each resting order's price, and releases what it did not spend. A market
**sell** takes the best bids at any price, each at the bid's price. Neither
rests: IOC cancels the rest (reason ``ioc``; ``self_trade`` when self-trade
prevention stopped it), and a FOK order that cannot fill whole, within its
``max_spend``, is refused with a
:class:`~auctioneer.exchange.events.Rejected` event naming ``quantity`` and
saying how much could fill -- it changes nothing, not even the clock.

Example:
    >>> from auctioneer.exchange import *
    >>> ex = Exchange()
    >>> m = Market.of("r/x", tick_size=1, base_price=10)
    >>> for cmd in (ListMarket(m), OpenAccount("p", Role.PROVIDER), AddCapacity("p", m.id, 5),
    ...             OpenAccount("t", Role.TRADER), Deposit("t", 100),
    ...             PlaceOrder("a1", "p", Side.SELL, (m.id,), 10, 2),
    ...             PlaceOrder("a2", "p", Side.SELL, (m.id,), 12, 3)):
    ...     _ = ex.apply(cmd)
    >>> [(e.kind, getattr(e, "price", None), getattr(e, "quantity", None))
    ...  for e in ex.apply(MarketOrder("b", "t", Side.BUY, (m.id,), 5, max_spend=50))]
    [('accepted', None, None), ('traded', 10, 2), ('traded', 12, 2), ('cancelled', None, None)]
    >>> ex.account("t").balance, ex.account("t").reserved
    (56, 0)
    >>> ex.apply(MarketOrder("c", "t", Side.BUY, (m.id,), 2, max_spend=50,
    ...                      tif=TimeInForce.FOK))[0].reason
    'only 1 of 2 can fill now within max_spend 50'
"""

from __future__ import annotations

from auctioneer.exchange import commands as c
from auctioneer.exchange.admission import Admission
from auctioneer.exchange.events import Cancelled, Event
from auctioneer.exchange.matching import MarketTaker, Matching
from auctioneer.exchange.model import TimeInForce
from auctioneer.exchange.state import Why, refused

__all__ = ["MarketOrders"]

_FOK = TimeInForce.FOK


class MarketOrders(Admission, Matching):
    """The handler of :class:`~auctioneer.exchange.commands.MarketOrder`."""

    def _market_order(self, cmd: c.MarketOrder) -> list[Event]:
        acct, cap = self.admit(cmd)
        buy = cap is None
        quantity = cmd.quantity
        budget = cmd.max_spend if cmd.max_spend is not None else 0
        order = MarketTaker(cmd.order_id, acct.id, buy, cmd.markets, quantity, budget,
                            self._seq + 1, self._clock)
        steps, stop, fillable = self._plan(order)  # read-only: a refusal changes nothing
        if cmd.tif is _FOK and fillable < quantity:
            within = f" within max_spend {budget}" if buy else ""
            raise refused("quantity", Why.FOK_SHORT, fillable, quantity, within)
        events = self._accept(cmd.kind, cmd.order_id, cmd.ts_ns)
        ts = order.ts_ns = self._clock
        self._used_ids.add(cmd.order_id)
        self._seq += 1
        if cap is None:
            acct.reserved += budget
        else:
            cap.offered += quantity
        for book, resting, fill in steps:
            if fill:
                self._trade(order, resting, book, fill, ts, events)
            else:
                self._retire(resting, "self_trade", ts, events)
        if cap is None:
            acct.reserved -= order.budget
        remaining = order.remaining
        if remaining:
            if cap is not None:
                cap.offered -= remaining
            order.remaining = 0
            events.append(Cancelled(order.id, order.account, order.markets, remaining,
                                    "self_trade" if stop else "ioc", ts))
        return events
