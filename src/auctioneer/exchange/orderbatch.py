"""Orders in bulk at C speed, for the service's ``POST /orders/batch`` (``engine_batch.c``).

Two fast paths, each with Python code as its reference (the service's
``tests/service/test_batchpath.py`` holds them equal):

- :func:`place_orders` turns decoded orders into :class:`~auctioneer.exchange.commands.PlaceOrder`
  commands, each admitted as :meth:`~auctioneer.exchange.Exchange.admit` with
  ``held=False`` would, and sums the bids' cost. It takes only single-market
  limit orders it can judge whole and stops at the first other one, which the
  caller builds and admits itself: refusals are always worded by the reference.
- :func:`order_summary` reads what a place's events did to its order straight from
  the native engine's events, without building an event object; None for events
  it does not hold (the reference engine's list, a refusal).
- :func:`valid_orders` checks a decoded batch's orders against the rules of the
  service's ``FastOrder.valid`` (its reference) in one call.
- :func:`batch_answer` writes a whole batch's answer body from those events in one
  call (``engine_answer.c``): the bytes orjson writes for the service's result
  dicts; None where any order's would not come from :func:`order_summary`, or a
  text in it would need escaping.

Example:
    >>> from auctioneer.exchange import Exchange, ListMarket, Market, OpenAccount, Role
    >>> from types import SimpleNamespace as Order
    >>> order = Order(type="limit", markets_=None, market="r/x", side="buy", price=10,
    ...               quantity=2, tif=None, all_or_none=False, post_only=False)
    >>> out = []
    >>> place_orders([order, order], 0, out, "t", Role.TRADER, {"r/x": 5}, 16)
    (2, 40)
    >>> [(c.order_id, c.price, c.ts_ns) for c in out]
    [('o10', 10, 16), ('o11', 10, 17)]
"""

from __future__ import annotations

from auctioneer.exchange import _engine
from auctioneer.exchange.commands import Command
from auctioneer.exchange.model import Role
from auctioneer.exchange.native import ROLE_NUMBERS

__all__ = ["batch_answer", "order_summary", "place_orders", "valid_orders"]

order_summary = _engine.order_summary
"""``order_summary(oid, quantity, events)``: what the service's ``order_result(oid, quantity,
events)`` answers, for a place's events as the native engine returns them; else None."""

batch_answer = _engine.batch_answer
"""``batch_answer(orders, outcomes)``: ``orjson.dumps({"results": [...]})`` of each order's
:func:`order_summary` (its ``quantity``, its command's ``order_id`` and events, from
``outcomes``' ``(command, events)``); None unless each has one and every text is plain."""


valid_orders = _engine.valid_orders
"""``valid_orders(orders)``: whether each decoded order (``markets_``, ``market``, ``type``,
``price``, ``all_or_none``, ``post_only``) holds what ``FastOrder.valid`` checks: one of
``market``/``markets`` (distinct, each a market id), a price exactly for a limit order, no
all-or-none or post-only for a market order."""


def place_orders(orders: list[object], start: int, out: list[Command], account: str,
                 role: Role | None, ticks: dict[str, int], first_ts: int) -> tuple[int, int]:
    """Append to ``out`` the :class:`~auctioneer.exchange.commands.PlaceOrder` of each of
    ``orders[start:]`` (decoded orders: ``type``, ``markets_``, ``market``, ``side``,
    ``price``, ``quantity``, ``tif``, ``all_or_none``, ``post_only``) by ``account`` (whose
    role is ``role``; None: it has none, and no order is taken), while each is a
    single-market limit order in a market of ``ticks`` (market id -> tick) that admission
    takes. The i-th order is stamped ``first_ts + i`` with the sequencer's id for that
    stamp. Return where it stopped (``len(orders)`` at the end) and the bids' total cost."""
    return _engine.place_orders(orders, start, out, account,
                                -1 if role is None else ROLE_NUMBERS[role], ticks, first_ts)
