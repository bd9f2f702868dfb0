"""The invariant checks: what must hold after every command, whatever the commands were.

:func:`check` raises :class:`InvariantError` (a bug, never bad input) unless
money is conserved, reservations and offers match the open orders, capacity
is never over-allocated, and every book is well formed. The durable exchange
runs the cheap part every ``check_every`` commands and the full check before
every snapshot; the property tests after every step.

Example:
    >>> from auctioneer.exchange import Exchange
    >>> check(Exchange())
"""

from __future__ import annotations

from auctioneer.exchange.state import State
from auctioneer.money import MONEY_MAX

__all__ = ["InvariantError", "check"]


class InvariantError(AssertionError):
    """:meth:`Exchange.check` found the state inconsistent (a bug, never bad input)."""



def check(state: State, full: bool = True) -> None:
    """Raise :class:`InvariantError` unless the state is consistent.

    Always (O(accounts + capacity records)): balances sum to deposits less
    withdrawals, every reservation lies within its balance, ``allocated +
    offered <= provided`` everywhere (each book's by-account index holding the same
    records), and bought instances equal allocated capacity per market. With
    ``full`` (O(open orders + levels)), also:
    levels hold exactly their live orders' quantity and count, a live head,
    no empty level; every open order is queued once in each of its books in
    time order; no book is crossed at rest (all-or-none orders aside);
    every reservation equals its account's open bids' limit x quantity and
    every offer its open sells.
    """
    _require(sum(a.balance for a in state._accounts.values()) == state._minted,
             "money is not conserved")
    _require(state._minted <= MONEY_MAX, "money held exceeds 2**63 - 1")
    for acct in state._accounts.values():
        _require(0 <= acct.reserved <= acct.balance, f"{acct.id}: reserved beyond balance")
    allocated: dict[str, int] = {}
    for (account, market_id), cap in state._capacity.items():
        _require(min(cap.allocated, cap.offered) >= 0
                 and cap.allocated + cap.offered <= cap.provided,
                 f"{account} {market_id}: allocated + offered > provided")
        _require(state._books[market_id].providers.get(account) is cap,
                 f"{account} {market_id}: capacity index")
        allocated[market_id] = allocated.get(market_id, 0) + cap.allocated
    _require(sum(len(book.providers) for book in state._books.values())
             == len(state._capacity), "capacity index size")
    held: dict[str, int] = {}
    for market_id, book in state._books.items():
        for quantity in book.holdings.values():
            held[market_id] = held.get(market_id, 0) + quantity
    _require(held == {m: q for m, q in allocated.items() if q},
             "bought instances differ from allocated capacity")
    if full:
        _check_books(state)

def _check_books(state: State) -> None:
    seen: dict[tuple[str, str], int] = {}
    for market_id, book in state._books.items():
        for buy in (True, False):
            levels = book.bids if buy else book.asks
            keys = book.bid_keys if buy else book.ask_keys
            heap = [-p for p in book.bid_heap] if buy else book.ask_heap
            _require(set(levels) <= keys and len(heap) == len(keys) and set(heap) == keys,
                     f"{market_id}: price heap")
            for price, level in levels.items():
                live = list(level.live())
                _require(bool(live), f"{market_id}: empty level {price}")
                _require(level.orders[0] is live[0], f"{market_id}: dead head at {price}")
                _require(level.count == len(live), f"{market_id}: count at {price}")
                _require(level.quantity == sum(o.remaining for o in live),
                         f"{market_id}: quantity at {price}")
                _require([o.seq for o in live] == sorted(o.seq for o in live),
                         f"{market_id}: time order at {price}")
                for o in live:
                    _require(o.buy is buy and o.price == price, f"{o.id}: misplaced")
                    _require(state._orders.get(o.id) is o, f"{o.id}: not indexed")
                    key = (o.id, market_id)
                    seen[key] = seen.get(key, 0) + 1
        bid = max((p for p, lv in book.bids.items() if any(not o.aon for o in lv.live())),
                  default=None)
        ask = min((p for p, lv in book.asks.items() if any(not o.aon for o in lv.live())),
                  default=None)
        _require(bid is None or ask is None or bid < ask,
                 f"{market_id}: crossed at rest, bid {bid} >= ask {ask}")
    expected = {(o.id, m): 1 for o in state._orders.values() for m in o.markets}
    _require(seen == expected, "open orders and book entries differ")
    _require(sum(len(v) for v in state._by_account.values()) == len(state._orders)
             and all(state._orders.get(i) is o
                     for v in state._by_account.values() for i, o in v.items()),
             "per-account order index")
    reserved: dict[str, int] = {}
    offered: dict[tuple[str, str], int] = {}
    for o in state._orders.values():
        _require(o.remaining > 0 and o.id in state._used_ids, f"{o.id}: bad open order")
        if o.buy:
            reserved[o.account] = reserved.get(o.account, 0) + o.price * o.remaining
        else:
            key = (o.account, o.markets[0])
            offered[key] = offered.get(key, 0) + o.remaining
    for acct in state._accounts.values():
        _require(acct.reserved == reserved.get(acct.id, 0), f"{acct.id}: reservation")
    for (account, market_id), cap in state._capacity.items():
        _require(cap.offered == offered.get((account, market_id), 0),
                 f"{account} {market_id}: offered")
    stray = sorted(offered.keys() - state._capacity.keys())
    _require(not stray, f"{stray}: offered without capacity")


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise InvariantError(what)
