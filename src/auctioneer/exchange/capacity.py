"""Market and capacity handlers: list a market, add and remove a provider's capacity.

A provider's capacity in a market is what its sells may offer; capacity
that is allocated (sold) or offered (in open sells) is never removed, only
the free rest. Quantities are bounded by
:data:`~auctioneer.exchange.limits.QUANTITY_MAX` per record.

Example:
    >>> from auctioneer.exchange import Exchange, ListMarket, Market
    >>> ex = Exchange()
    >>> ex.apply(ListMarket(Market.of("r/x", tick_size=0, base_price=1)))[0].field
    'market.tick_size'
"""

from __future__ import annotations

from auctioneer.exchange import commands as c
from auctioneer.exchange.events import Event
from auctioneer.exchange.ledger import Account, Capacity
from auctioneer.exchange.limits import PRICE_MAX, QUANTITY_MAX
from auctioneer.exchange.model import ExecutionRule, Market, Role, SelfTrade, split_market_id
from auctioneer.exchange.state import State, Why, positive, refused
from auctioneer.money import MONEY_MAX

__all__ = ["CapacityDesk"]


class CapacityDesk(State):
    """The handlers of ListMarket, AddCapacity and RemoveCapacity."""

    def _list_market(self, cmd: c.ListMarket) -> list[Event]:
        m = self._check_list(cmd)
        events = self._accept(cmd.kind, m.id, cmd.ts_ns)
        self._add_venue(m)
        return events

    def _check_list(self, cmd: c.ListMarket) -> Market:
        """The market to list; :class:`Refusal` for every check but the timestamp's
        (``_accept`` makes that one last)."""
        m = cmd.market
        if not isinstance(m, Market):
            raise refused("market", Why.NOT_MARKET, m)
        try:
            split_market_id(m.id)
        except ValueError:
            raise refused("market.region", Why.MARKET_ID, m.id) from None
        if m.id in self._markets:
            raise refused("market", Why.LISTED, m.id)
        positive(m.tick_size, "market.tick_size", PRICE_MAX)
        positive(m.base_price, "market.base_price", PRICE_MAX)
        positive(m.half_life_s, "market.half_life_s", 10 * 365 * 86_400)
        if not isinstance(m.execution, ExecutionRule):
            raise refused("market.execution", Why.NOT_EXECUTION, m.execution)
        if not isinstance(m.self_trade, SelfTrade):
            raise refused("market.self_trade", Why.NOT_SELF_TRADE, m.self_trade)
        return m

    def _provider(self, account: object) -> Account:
        acct = self._account_of(account)
        if acct.role is not Role.PROVIDER:
            raise refused("account", Why.NOT_PROVIDER, acct.id, acct.role.value)
        return acct

    def _add_capacity(self, cmd: c.AddCapacity) -> list[Event]:
        acct = self._provider(cmd.account)
        market = self._market_of(cmd.market)
        cap = self._capacity.get((acct.id, market.id))
        held = cap.provided if cap else 0
        quantity = positive(cmd.quantity, "quantity", QUANTITY_MAX - held)
        # Bought and traded instances in a market never exceed what was ever allocated
        # there, which never exceeds what is provided: bounding the market's total bounds
        # every holding and volume.
        provided = sum(p.provided for p in self._books[market.id].providers.values())
        if quantity > MONEY_MAX - provided:
            raise refused("quantity", Why.PROVIDED, quantity, market.id, MONEY_MAX)
        events = self._accept(cmd.kind, acct.id, cmd.ts_ns)
        if cap is None:
            cap = self._capacity[(acct.id, market.id)] = Capacity()
            self._books[market.id].providers[acct.id] = cap
        cap.provided += quantity
        return events

    def _remove_capacity(self, cmd: c.RemoveCapacity) -> list[Event]:
        acct = self._provider(cmd.account)
        market = self._market_of(cmd.market)
        quantity = positive(cmd.quantity, "quantity", QUANTITY_MAX)
        cap = self._capacity.get((acct.id, market.id))
        free = cap.free if cap else 0
        if cap is None or quantity > free:
            raise refused("quantity", Why.NOT_FREE, quantity, free)
        events = self._accept(cmd.kind, acct.id, cmd.ts_ns)
        cap.provided -= quantity
        return events
