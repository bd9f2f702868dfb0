"""Two-sided exchanges: orders that buy and sell, and whether the books balance.

Kelly's exercise 5. The clearing model already is two-sided (see
:mod:`auctioneer.clearing.model`): a negative quantity sells units into the
pool the others draw on and a negative price is paid *to* the bidder, so
every solver clears an exchange unchanged, maximising the auctioneer's
surplus (what buyers pay minus what sellers receive). This module adds the
two things an exchange needs on top:

* :func:`exchange` builds an auction from plain buy and sell :class:`Order`
  values (a buy of ``u`` units at limit ``p`` is the bundle ``(+u, +p)``, a
  sell is ``(-u, -p)``), with the operator's own supply as capacity (0 for a
  pure exchange);
* :func:`budget_balance` reports who pays and who is paid under a clearing,
  pay-as-bid and, when the clearing carries them, under its payments (VCG
  payments, typically, which in an exchange can run a deficit).

Under pay-as-bid the optimum is budget balanced (surplus >= 0) whenever
nothing forces a trade (no must-win bids, ``min_winners`` 0): awarding
nothing is feasible, since capacity is never negative, and has surplus 0.

Example:
    >>> a = exchange(["cpu"], [Order("ann", Side.SELL, {"cpu": 4}, 20),
    ...                        Order("bob", Side.BUY, {"cpu": 4}, 30)])
    >>> [b.bundles for b in a.bids]
    [(Bundle(quantities=(-4,), price=-20),), (Bundle(quantities=(4,), price=30),)]
    >>> from auctioneer.clearing.result import Clearing, Status
    >>> r = budget_balance(a, Clearing(Status.OPTIMAL, "hand", 10, (0, 0), (0,)))
    >>> r.buyers_pay, r.sellers_receive, r.surplus, r.bought, r.sold, r.net
    (30, 20, 10, (4,), (4,), (0,))
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Clearing
from auctioneer.money import check_money

__all__ = ["Balance", "BudgetReport", "Order", "Side", "budget_balance", "exchange"]


class Side(enum.Enum):
    """Which way an order trades."""

    BUY = "buy"
    """Takes units, pays at most its limit."""
    SELL = "sell"
    """Gives units, asks at least its limit."""


@dataclass(frozen=True, slots=True)
class Order:
    """An all-or-nothing order: ``units`` per resource name at ``limit`` micro-units in all.

    A buy pays at most ``limit``; a sell wants at least ``limit`` (>= 0 either
    way). The order becomes a one-bundle bid: it trades entirely or not at all.
    """

    name: str
    side: Side
    units: Mapping[str, int]
    limit: int
    must_win: bool = False


def exchange(
    resources: Sequence[Resource | str],
    orders: Sequence[Order],
    *,
    min_winners: int = 0,
    max_winners: int | None = None,
) -> Auction:
    """An auction clearing ``orders``; a resource given by name has no supply of its own.

    Raises ValueError naming the order and field for an unknown resource,
    a quantity that is not an int >= 1, a negative or non-int limit, or a
    bad side. O(orders x resources).
    """
    pool = tuple(r if isinstance(r, Resource) else Resource(r, 0) for r in resources)
    index = {r.name: i for i, r in enumerate(pool)}
    bids = []
    for n, order in enumerate(orders):
        where = f"order {n} {order.name!r}"
        if not isinstance(order.side, Side):
            raise ValueError(f"{where}: side {order.side!r} must be Side.BUY or Side.SELL")
        check_money(order.limit, f"{where}: limit")
        if order.limit < 0:
            raise ValueError(f"{where}: limit {order.limit!r} must be >= 0")
        if not order.units:
            raise ValueError(f"{where}: units {order.units!r} must name at least one resource")
        sign = 1 if order.side is Side.BUY else -1
        quantities = [0] * len(pool)
        for name, units in order.units.items():
            if name not in index:
                raise ValueError(f"{where}: resource {name!r} is not one of {sorted(index)}")
            if type(units) is not int or units < 1:
                raise ValueError(f"{where}: units of {name!r} {units!r} must be an int >= 1")
            quantities[index[name]] = sign * units
        bids.append(Bid(order.name, (Bundle(tuple(quantities), sign * order.limit),),
                        order.must_win))
    return Auction(pool, tuple(bids), min_winners, max_winners)


@dataclass(frozen=True, slots=True)
class Balance:
    """Money in and out of the auctioneer, micro-units."""

    buyers_pay: int
    """Sum of the positive amounts (bids that pay)."""
    sellers_receive: int
    """Sum of the negated negative amounts (bids that are paid)."""

    @property
    def surplus(self) -> int:
        """``buyers_pay - sellers_receive``: the auctioneer's take; >= 0 is budget balance."""
        return self.buyers_pay - self.sellers_receive

    @property
    def balanced(self) -> bool:
        """True when the auctioneer runs no deficit."""
        return self.surplus >= 0


def _balance(amounts: Sequence[int]) -> Balance:
    return Balance(sum(a for a in amounts if a > 0), -sum(a for a in amounts if a < 0))


@dataclass(frozen=True, slots=True)
class BudgetReport:
    """Who pays and who is paid under a clearing, and the units that change hands.

    ``buyers_pay``/``sellers_receive``/``surplus`` are pay-as-bid (each
    winner pays its bundle's price); ``payments`` is the same under the
    clearing's own payments when it has them. A bid counts as a buyer or a
    seller by the sign of its money, whatever its quantities. ``bought[r]``
    and ``sold[r]`` are the units winners take and give of resource ``r``;
    ``net`` is their difference (the clearing's ``used``), at most capacity.
    """

    buyers_pay: int
    sellers_receive: int
    surplus: int
    payments: Balance | None
    bought: tuple[int, ...]
    sold: tuple[int, ...]

    @property
    def balanced(self) -> bool:
        """True when pay-as-bid leaves the auctioneer no deficit."""
        return self.surplus >= 0

    @property
    def net(self) -> tuple[int, ...]:
        """Units taken net of units given, per resource."""
        return tuple(b - s for b, s in zip(self.bought, self.sold, strict=True))


def budget_balance(auction: Auction, clearing: Clearing) -> BudgetReport:
    """Report the money and units flows of ``clearing`` on ``auction``.

    Raises ValueError when the clearing has no allocation for these bids
    (an infeasible result, say) or payments of the wrong length.
    O(bids x resources).
    """
    bids = auction.bids
    if len(clearing.choice) != len(bids):
        raise ValueError(f"clearing choice {clearing.choice!r} does not give one entry for "
                         f"each of the {len(bids)} bids (status {clearing.status.value})")
    prices = []
    bought = [0] * auction.dimensions
    sold = [0] * auction.dimensions
    for bid, j in zip(bids, clearing.choice, strict=True):
        if j is None:
            continue
        bundle = bid.bundles[j]
        prices.append(bundle.price)
        for r, q in enumerate(bundle.quantities):
            if q > 0:
                bought[r] += q
            else:
                sold[r] -= q
    under = None
    if clearing.payments is not None:
        if len(clearing.payments) != len(bids):
            raise ValueError(f"clearing payments {clearing.payments!r} do not give one entry "
                             f"for each of the {len(bids)} bids")
        under = _balance(clearing.payments)
    pay_as_bid = _balance(prices)
    return BudgetReport(pay_as_bid.buyers_pay, pay_as_bid.sellers_receive, pay_as_bid.surplus,
                        under, tuple(bought), tuple(sold))
