"""Package bids for the proxy round, and the revealed-preference activity rule.

After the clock, each user submits **package bids**: bundles (units per pool)
with a value each, of which it wins at most one. The clock phase limits what
it may bid, by the **revealed-preference rule** of Ausubel, Cramton and
Milgrom (2006): in every clock round ``t`` the user demanded bundle ``S_t``
at prices ``p_t`` (or nothing), so it revealed that ``S_t`` was at least as
good as any package ``T`` at those prices. A package bid ``(T, v)`` must
agree with every round:

    v(T) - v(S_t) <= p_t . T - p_t . S_t     (a round in which it bid S_t)
    v(T)          <= p_t . T                 (a round in which it bid nothing)

``v(S_t)`` is the user's package bid for ``S_t`` when it has one, else the
clock cost ``p_t . S_t`` it was willing to pay (so dropping ``S_t`` from the
proxy round cannot loosen the rule). Why this rule rather than "only bundles
bid during the clock": the clock's welfare loss comes precisely from bundles
that were never the cheapest, or dropped out, and a user's truthful values
for those still satisfy the rule. A proxy that bids its cheapest bundle and
values every acceptable bundle at the budget (:meth:`Packages.truthful`)
passes in every round by construction; inflating a bundle the clock showed
the user did not want fails. Bundles no allocation could serve
(:meth:`~auctioneer.clock.model.Market.servable`) are left out of the
truthful bids: the clock never bid them, so the rule would refuse them, and
they could never win.

Money is int64 micro-units. A package's value and its cost at the clock's
highest price must stay within ``2**61`` so that the rule's four-term sums
cannot wrap; anything larger is refused, naming the user and bundle.

Complexity: O(rounds x (U * B * K + package entries)) numpy work.

Example:
    >>> from auctioneer.clock.auction import run_clock
    >>> from auctioneer.clock.model import Market, Pool, User
    >>> market = Market.from_users([Pool("e", "cpu", 10, 1_000_000, used=9),
    ...                             Pool("w", "cpu", 10, 1_000_000, used=2)],
    ...                            [User("a", 9_000_000, ({"e/cpu": 1}, {"w/cpu": 1}))])
    >>> clock = run_clock(market)
    >>> packages = Packages.truthful(market)
    >>> check_activity(market, clock, packages)       # truthful bids always pass
    >>> greedy = Packages.from_bids(market, [PackageBid("a", {"e/cpu": 1}, 12_000_000),
    ...                                      PackageBid("a", {"w/cpu": 1}, 9_000_000)])
    >>> check_activity(market, clock, greedy)   # a chose w at $0.62 when e cost $2.00
    Traceback (most recent call last):
    ...
    auctioneer.clock.activity.ActivityError: user 'a' bundle {'e/cpu': 1}: value $12.00 ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.clock.auction import ClockResult, demand_history
from auctioneer.clock.model import Market
from auctioneer.money import check_money, format_money

__all__ = ["ACTIVITY_LIMIT", "ActivityError", "PackageBid", "Packages", "check_activity"]

ACTIVITY_LIMIT = 2**61
"""Largest package value, and largest package cost at the clock's top prices, micro-units."""

IntArray = npt.NDArray[np.int64]


class ActivityError(ValueError):
    """A package bid the activity rule refuses; the message names the user and bundle."""


@dataclass(frozen=True, slots=True)
class PackageBid:
    """User ``user`` bids ``value`` micro-units for ``bundle`` (pool name -> units)."""

    user: str
    bundle: Mapping[str, int]
    value: int


@dataclass(frozen=True, slots=True, eq=False)
class Packages:
    """Package bids as arrays, grouped by user (``owner`` non-decreasing).

    Package ``i`` belongs to user ``owner[i]``, is worth ``value[i]``, and
    moves ``quantity[start[i]:start[i + 1]]`` units of pools
    ``pool[start[i]:start[i + 1]]``.
    """

    owner: IntArray
    value: IntArray
    start: IntArray
    pool: IntArray
    quantity: IntArray

    @classmethod
    def truthful(cls, market: Market) -> Packages:
        """Every servable bundle of every user, valued at the user's budget (vectorised)."""
        users, width, _ = market.shape
        real = (np.arange(width)[None, :] < market.bundle_count[:, None]) & market.servable()
        u, b = np.nonzero(real)
        qty = np.moveaxis(market.quantity, 0, -1)[u, b]  # (P, K), non-zero entries first
        idx = np.moveaxis(market.pool_index, 0, -1)[u, b].astype(np.int64)
        nonzero = qty != 0
        start = np.zeros(len(u) + 1, dtype=np.int64)
        np.cumsum(nonzero.sum(axis=1), out=start[1:])
        packages = cls(u.astype(np.int64), market.budgets[u].astype(np.int64), start,
                       idx[nonzero], qty[nonzero])
        _check_values(market, packages)
        return packages

    @classmethod
    def from_bids(cls, market: Market, bids: Iterable[PackageBid]) -> Packages:
        """Validate and group ``bids``; ValueError naming the user, bundle and field."""
        users = {name: u for u, name in enumerate(market.user_names)}
        pools = {name: r for r, name in enumerate(market.pool_names)}
        rows: list[tuple[int, int, list[tuple[int, int]]]] = []
        seen: set[tuple[int, frozenset[tuple[int, int]]]] = set()
        for n, bid in enumerate(bids):
            if bid.user not in users:
                raise ValueError(f"package bid {n}: user {bid.user!r} is not in the market")
            where = f"package bid {n} user {bid.user!r} bundle {dict(bid.bundle)}"
            check_money(bid.value, f"{where}: value")
            entries = []
            if not isinstance(bid.bundle, Mapping):
                raise ValueError(f"{where}: bundle must map pool names to units")
            for name, q in bid.bundle.items():
                if name not in pools:
                    raise ValueError(f"{where}: pool {name!r} is not in the market")
                if type(q) is not int or not -ACTIVITY_LIMIT <= q <= ACTIVITY_LIMIT:
                    raise ValueError(f"{where}: units of {name!r} {q!r} must be an int within "
                                     f"+-2**61")
                if q:
                    entries.append((pools[name], q))
            if not entries:
                raise ValueError(f"{where}: the bundle moves no unit")
            key = (users[bid.user], frozenset(entries))
            if key in seen:
                raise ValueError(f"{where}: the user bids on this bundle twice")
            seen.add(key)
            rows.append((users[bid.user], bid.value, entries))
        rows.sort(key=lambda row: row[0])  # stable: a user's bids keep their order
        start = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(e) for _, _, e in rows], out=start[1:])
        packages = cls(
            np.asarray([u for u, _, _ in rows], dtype=np.int64),
            np.asarray([v for _, v, _ in rows], dtype=np.int64), start,
            np.asarray([r for _, _, e in rows for r, _ in e], dtype=np.int64),
            np.asarray([q for _, _, e in rows for _, q in e], dtype=np.int64))
        _check_values(market, packages)
        return packages

    def __len__(self) -> int:
        return len(self.owner)

    def entries(self, i: int) -> list[tuple[int, int]]:
        """Package ``i``'s ``(pool, units)`` pairs."""
        lo, hi = int(self.start[i]), int(self.start[i + 1])
        return list(zip(self.pool[lo:hi].tolist(), self.quantity[lo:hi].tolist(), strict=True))

    def describe(self, market: Market, i: int) -> str:
        """``user 'a' bundle {'w/cpu': 1}``: how errors and reports name package ``i``."""
        names = market.pool_names
        bundle = {names[r]: q for r, q in self.entries(i)}
        return f"user {market.user_names[int(self.owner[i])]!r} bundle {bundle}"

    def costs(self, prices: IntArray) -> IntArray:
        """``prices . T`` for every package (callers keep it below 2**61, see the module doc)."""
        if not len(self.owner):
            return np.zeros(0, dtype=np.int64)
        # Every package has at least one entry, so each reduceat segment is non-empty.
        out: IntArray = np.add.reduceat(self.quantity * prices[self.pool], self.start[:-1])
        return out


def _check_values(market: Market, packages: Packages) -> None:
    """Refuse values or top-price costs beyond :data:`ACTIVITY_LIMIT`, naming the package."""
    big = np.flatnonzero(np.abs(packages.value) > ACTIVITY_LIMIT)
    if big.size:
        i = int(big[0])
        raise ValueError(f"{packages.describe(market, i)}: value "
                         f"{format_money(int(packages.value[i]))} exceeds 2**61 micro-units")


def _slot_values(market: Market, packages: Packages) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """``(U, B)``: the package value for each market bundle slot, and whether one exists."""
    users, width, _ = market.shape
    value = np.zeros((users, width), dtype=np.int64)
    has = np.zeros((users, width), dtype=bool)
    index = {(int(packages.owner[i]), frozenset(packages.entries(i))): i
             for i in range(len(packages))}
    for u in np.unique(packages.owner).tolist():
        for b in range(int(market.bundle_count[u])):
            i = index.get((u, frozenset(market.bundle(u, b).items())))
            if i is not None:
                value[u, b] = packages.value[i]
                has[u, b] = True
    return value, has


def check_activity(market: Market, clock: ClockResult, packages: Packages) -> None:
    """Raise :class:`ActivityError` for the first package bid the rule refuses.

    The message names the user, the bundle, its value, and the clock round
    and bundle that reveal the user preferred something else.
    """
    if not len(packages):
        return
    top = clock.price_trace[-1] if len(clock.price_trace) else market.reserves()
    moved = np.zeros(len(packages), dtype=object)
    column = np.repeat(np.arange(len(packages)), np.diff(packages.start))
    np.add.at(moved, column, np.abs(packages.quantity).astype(object))
    dear = np.flatnonzero(moved * int(top.max(initial=1)) > ACTIVITY_LIMIT)
    if dear.size:
        i = int(dear[0])
        raise ActivityError(f"{packages.describe(market, i)}: its cost at the clock's prices "
                            "could exceed 2**61 micro-units")
    slot_value, has = _slot_values(market, packages)
    owner = packages.owner
    for t, (prices, choice, payments) in enumerate(demand_history(market, clock)):
        cost = packages.costs(prices)
        held = choice[owner]
        slot = np.maximum(held, 0)
        known = has[owner, slot]
        # v(S_t): the package bid on S_t, else its clock cost; 0 when the user bid nothing.
        ref = np.where(held < 0, 0, np.where(known, slot_value[owner, slot], payments[owner]))
        slack = (ref - packages.value) + (cost - payments[owner])
        bad = np.flatnonzero(slack < 0)
        if bad.size:
            i = int(bad[0])
            u = int(owner[i])
            names = market.pool_names
            if held[i] < 0:
                why = (f"in round {t} it bid nothing, while this bundle cost "
                       f"{format_money(int(cost[i]))}")
            else:
                demanded = {names[r]: q for r, q in market.bundle(u, int(held[i])).items()}
                why = (f"in round {t} it bid {demanded} (valued "
                       f"{format_money(int(ref[i]))}, cost {format_money(int(payments[u]))}) "
                       f"while this bundle cost {format_money(int(cost[i]))}")
            raise ActivityError(
                f"{packages.describe(market, i)}: value {format_money(int(packages.value[i]))} "
                f"breaks the revealed-preference activity rule: {why}, so it may be worth at "
                f"most {format_money(int(packages.value[i] + slack[i]))}")
