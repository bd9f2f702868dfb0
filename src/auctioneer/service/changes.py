"""What one journaled command changes in the SQL projection, as flat tuples.

The projection needs little of a command's events: a placed order's fields, its
trades, and the cancels and modifications that move an order's row. A *change*
is one such fact, a tuple whose first item says which (the constants below)
and whose second is its journal record's seq:

=========== ==================================================================
``ORDER``    ``(ORDER, seq, order_id, account, side, markets, price, quantity,
             tif, ts_ns)``: a placed order (a market order's price is 0)
``TRADE``    ``(TRADE, seq, trade_id, market, buy_order, sell_order, buyer,
             seller, price, quantity, ts_ns)``
``CANCEL``   ``(CANCEL, seq, order_id, ts_ns)``
``MODIFY``   ``(MODIFY, seq, order_id, remaining, price, ts_ns)``
``MONEY``    ``(MONEY, seq, account, amount, kind, ts_ns)``: a deposit (amount
             > 0) or a withdrawal (< 0)
``CAPACITY`` ``(CAPACITY, seq, account, market, delta)``
``COMMAND``  ``(COMMAND, seq, command)``: an account opened or a market listed
=========== ==================================================================

:func:`changes` derives them from a command and its events (the reference).
The native engine logs the same tuples while it replays journal bytes
(``NativeExchange.replay_bytes`` with a ``log``; ``engine_changes.c``), so the
follower builds no command or event object for the commands C replays; the
tests compare the two on random journals.

Example:
    >>> from auctioneer.exchange.commands import Deposit
    >>> from auctioneer.exchange.events import Accepted
    >>> changes(3, Deposit("alice", 7, 5), [Accepted("deposit", "alice", 5)])
    [(4, 3, 'alice', 7, 'deposit', 5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auctioneer.exchange import commands as c
from auctioneer.exchange.events import Cancelled, Event, Modified, Rejected, Traded

__all__ = ["CANCEL", "CAPACITY", "COMMAND", "MODIFY", "MONEY", "ORDER", "TRADE", "Change",
           "changes"]

ORDER, TRADE, CANCEL, MODIFY, MONEY, CAPACITY, COMMAND = range(7)
Change = tuple[Any, ...]
"""One change: its kind (one of the constants), then that kind's fields."""


def _command(seq: int, cmd: c.Command) -> Change | None:
    if isinstance(cmd, c.PlaceOrder | c.MarketOrder):
        # A market order has no price of its own: its row says 0, its trades the prices.
        price = cmd.price if isinstance(cmd, c.PlaceOrder) else 0
        return (ORDER, seq, cmd.order_id, cmd.account, cmd.side.value, ",".join(cmd.markets),
                price, cmd.quantity, cmd.tif.value, cmd.ts_ns)
    if isinstance(cmd, c.Deposit):
        return (MONEY, seq, cmd.account, cmd.amount, "deposit", cmd.ts_ns)
    if isinstance(cmd, c.Withdraw):
        return (MONEY, seq, cmd.account, -cmd.amount, "withdraw", cmd.ts_ns)
    if isinstance(cmd, c.AddCapacity):
        return (CAPACITY, seq, cmd.account, cmd.market, cmd.quantity)
    if isinstance(cmd, c.RemoveCapacity):
        return (CAPACITY, seq, cmd.account, cmd.market, -cmd.quantity)
    if isinstance(cmd, c.OpenAccount | c.ListMarket):
        return (COMMAND, seq, cmd)
    return None


def changes(seq: int, command: c.Command, events: Sequence[Event]) -> list[Change]:
    """The changes of ``command`` (journal record ``seq``) that produced ``events``, in
    their order: the command's own first, then one per trade, cancel and modification."""
    if not events or type(events[0]) is Rejected:
        return []
    out: list[Change] = []
    own = _command(seq, command)
    if own is not None:
        out.append(own)
    for ev in events:
        if isinstance(ev, Traded):
            out.append((TRADE, seq, ev.trade_id, ev.market, ev.buy_order, ev.sell_order,
                        ev.buyer, ev.seller, ev.price, ev.quantity, ev.ts_ns))
        elif isinstance(ev, Cancelled):
            out.append((CANCEL, seq, ev.order_id, ev.ts_ns))
        elif isinstance(ev, Modified):
            out.append((MODIFY, seq, ev.order_id, ev.remaining, ev.price, ev.ts_ns))
    return out
