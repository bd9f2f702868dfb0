"""The clock market: pools of capacity, the reserve-price curve, users and their bundles.

A **pool** is one resource type (CPU, RAM, disk, GPU, ...) in one cluster,
named ``cluster/resource``. It holds ``capacity`` units of which ``used``
are already committed; the operator offers the rest, ``free`` units, at a
**reserve price** read off the :class:`ReserveCurve` at the pool's
utilisation (or set explicitly per pool).

A **user** has a set of acceptable bundles (integer quantities per pool;
negative quantities sell) and a signed **budget** in micro-units: the most
it pays for any acceptable bundle, or, negative, minus the least it must
receive. So a pure seller asking $5 for its bundle has budget ``-5_000_000``;
a trader who sells here and buys there pays (or receives) the net. The user
is indifferent among its acceptable bundles: its proxy takes the cheapest
(the first listed on a tie) if that costs no more than the budget. A bundle
that asks a pool for more units than any allocation could hand out there
(:meth:`Market.servable`) is never bid.

For speed the :class:`Market` keeps the bundles as padded integer arrays,
not as objects: bundle ``b`` of user ``u`` is the ``K`` entries
``(pool_index[k, u, b], quantity[k, u, b])``; unused entries are ``(0, 0)``
and unused bundle slots repeat bundle 0 (so ``argmin`` over a user's slots,
which returns the first minimum, never picks a padding slot). Memory is
``12 * K * U * B`` bytes. Build a market from :class:`User` objects with
:meth:`Market.from_users`, or from arrays (the generator does) with
:meth:`Market.from_arrays`.

Complexity: construction is O(U * B * K); :func:`reserve_prices` is
O(pools * log(curve points)).

Example:
    >>> pools = (Pool("us-east", "cpu", capacity=100, used=90, base_price=40_000),
    ...          Pool("eu-west", "cpu", capacity=100, used=20, base_price=40_000))
    >>> DEFAULT_CURVE.multiplier(9_000), DEFAULT_CURVE.multiplier(2_000)
    (20000, 6200)
    >>> tuple(reserve_prices(pools).tolist())      # busy pool 2x base, idle pool 0.62x
    (80000, 24800)
    >>> market = Market.from_users(pools, [
    ...     User("alice", 500_000, ({"us-east/cpu": 4}, {"eu-west/cpu": 4})),
    ...     User("ops", -100_000, ({"us-east/cpu": -2},)),
    ... ])
    >>> market.shape, market.user(0).bundles, market.kinds()
    ((2, 2, 1), ({'us-east/cpu': 4}, {'eu-west/cpu': 4}), (<UserKind.BUYER: 'buyer'>, \
<UserKind.SELLER: 'seller'>))
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from auctioneer.money import MONEY_MAX, check_money

__all__ = [
    "BPS",
    "DEFAULT_CURVE",
    "Market",
    "Pool",
    "ReserveCurve",
    "User",
    "UserKind",
    "reserve_prices",
    "utilisation_bps",
]

BPS = 10_000
"""Basis points in a whole: utilisations and curve multipliers are counted in them."""

IntArray = npt.NDArray[np.int64]


def _fail(where: str, field_name: str, value: object, why: str) -> ValueError:
    return ValueError(f"{where}: {field_name} {value!r} {why}")


def _check_int(value: object, where: str, field_name: str, low: int | None = None,
               high: int | None = None) -> int:
    if type(value) is not int:
        raise _fail(where, field_name, value, "must be an int")
    if low is not None and value < low:
        raise _fail(where, field_name, value, f"must be >= {low}")
    if high is not None and value > high:
        raise _fail(where, field_name, value, f"must be <= {high}")
    return value


# --------------------------------------------------------------------------
# The reserve curve


@dataclass(frozen=True, slots=True)
class ReserveCurve:
    """A pool's reserve price as a multiple of its base price, against its utilisation.

    ``points`` are ``(utilisation, multiplier)`` knots, both in basis points
    (``(9_000, 20_000)``: at 90% utilisation the reserve is 2x the base
    price), utilisations strictly increasing from 0 to 10 000, multipliers
    positive and non-decreasing (a busier pool is never cheaper: the curve
    is what steers users toward idle pools). Between knots the multiplier is
    linear, rounded down to a whole basis point; everything is integer.
    """

    points: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            raise _fail("reserve curve", "points", self.points,
                        "needs at least two knots, at 0 and 10000 basis points")
        last_u, last_m = -1, 0
        for i, point in enumerate(self.points):
            if not isinstance(point, tuple) or len(point) != 2:
                raise _fail("reserve curve", f"point {i}", point,
                            "must be a (utilisation, multiplier) pair")
            u = _check_int(point[0], "reserve curve", f"point {i} utilisation", 0, BPS)
            m = _check_int(point[1], "reserve curve", f"point {i} multiplier", 1, 10**9)
            if u <= last_u:
                raise _fail("reserve curve", f"point {i} utilisation", u,
                            "must exceed the previous knot's")
            if m < last_m:
                raise _fail("reserve curve", f"point {i} multiplier", m,
                            f"is below the previous knot's {last_m}: the curve must not fall")
            last_u, last_m = u, m
        if self.points[0][0] != 0 or self.points[-1][0] != BPS:
            raise _fail("reserve curve", "points", self.points,
                        f"must start at utilisation 0 and end at {BPS}")

    def multiplier(self, utilisation: int) -> int:
        """The multiplier (basis points) at ``utilisation`` basis points, 0..10000."""
        return int(self.multipliers(np.asarray([utilisation], dtype=np.int64))[0])

    def multipliers(self, utilisation: npt.NDArray[np.int64]) -> IntArray:
        """:meth:`multiplier` of every element, vectorised and integer."""
        u = np.clip(np.asarray(utilisation, dtype=np.int64), 0, BPS)
        knots_u = np.asarray([p[0] for p in self.points], dtype=np.int64)
        knots_m = np.asarray([p[1] for p in self.points], dtype=np.int64)
        right = np.clip(np.searchsorted(knots_u, u, side="right"), 1, len(knots_u) - 1)
        u0, u1 = knots_u[right - 1], knots_u[right]
        m0, m1 = knots_m[right - 1], knots_m[right]
        # (m1 - m0) <= 1e9 and (u - u0) <= 1e4: the product fits easily in int64.
        out: IntArray = m0 + (m1 - m0) * (u - u0) // (u1 - u0)
        return out


DEFAULT_CURVE = ReserveCurve(((0, 5_000), (5_000, 8_000), (7_000, 10_000), (8_500, 15_000),
                              (9_500, 25_000), (10_000, 40_000)))
"""Half the base price when idle, the base price at the 70% target, 1.5x at 85%,
2.5x at 95% and 4x when full: flat where spare capacity costs the operator
little, steep where the last free units are the fleet's headroom
(``docs/clock.md`` explains the choice)."""


# --------------------------------------------------------------------------
# Pools


@dataclass(frozen=True, slots=True)
class Pool:
    """One resource type in one cluster: ``capacity`` units, ``used`` already committed.

    ``base_price`` (micro-units per unit, at least 1) is the resource's list
    price; the reserve is ``base_price`` times the curve's multiplier at the
    pool's utilisation, unless ``reserve`` sets it explicitly.
    """

    cluster: str
    resource: str
    capacity: int
    base_price: int
    used: int = 0
    reserve: int | None = None

    def __post_init__(self) -> None:
        for attr in ("cluster", "resource"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value or "/" in value:
                raise _fail("pool", attr, value, "must be a non-empty string without '/'")
        where = f"pool {self.name!r}"
        _check_int(self.capacity, where, "capacity", 0, MONEY_MAX)
        _check_int(self.used, where, "used", 0, self.capacity)
        check_money(self.base_price, f"{where}: base_price")
        if self.base_price < 1:
            raise _fail(where, "base_price", self.base_price, "must be at least 1 micro-unit")
        if self.reserve is not None:
            check_money(self.reserve, f"{where}: reserve")
            if self.reserve < 1:
                raise _fail(where, "reserve", self.reserve, "must be at least 1 micro-unit")

    @property
    def name(self) -> str:
        """``cluster/resource``: how bundles refer to the pool."""
        return f"{self.cluster}/{self.resource}"

    @property
    def free(self) -> int:
        """Units the operator offers: ``capacity - used``."""
        return self.capacity - self.used

    @property
    def utilisation(self) -> int:
        """``used / capacity`` in basis points, rounded down (a pool of no capacity is full)."""
        return self.used * BPS // self.capacity if self.capacity else BPS


def utilisation_bps(pools: Sequence[Pool]) -> IntArray:
    """Every pool's :attr:`Pool.utilisation`, as an array."""
    return np.asarray([p.utilisation for p in pools], dtype=np.int64)


def reserve_prices(pools: Sequence[Pool], curve: ReserveCurve = DEFAULT_CURVE) -> IntArray:
    """Each pool's reserve price, micro-units per unit, at least 1.

    ``base_price * curve(utilisation) // 10_000`` unless the pool sets
    ``reserve``. The floor of 1 keeps relative (percentage) steps moving.
    """
    if not pools:
        return np.zeros(0, dtype=np.int64)
    mult = curve.multipliers(utilisation_bps(pools))
    out = []
    for pool, m in zip(pools, mult.tolist(), strict=True):
        # Python ints: base_price (< 2**63) times a multiplier could overflow int64.
        value = pool.reserve if pool.reserve is not None else pool.base_price * m // BPS
        out.append(min(max(value, 1), MONEY_MAX))
    return np.asarray(out, dtype=np.int64)


# --------------------------------------------------------------------------
# Users


class UserKind(enum.Enum):
    """Which side of the market a user is on, read off its bundles."""

    BUYER = "buyer"
    """Every quantity of every bundle is >= 0. Its demand falls as prices rise."""
    SELLER = "seller"
    """Every quantity of every bundle is <= 0. Its supply grows as prices rise."""
    TRADER = "trader"
    """Buys and sells: some bundle has a negative and some bundle a positive quantity.
    Convergence is no longer guaranteed (``docs/clock.md``)."""


@dataclass(frozen=True, slots=True)
class User:
    """A bidder: acceptable ``bundles`` (pool name or index -> units) and a signed ``budget``.

    ``budget`` is in micro-units: the most the user will pay for any one of
    its bundles, or, when negative, minus the least it must be paid.
    """

    name: str
    budget: int
    bundles: tuple[Mapping[str, int] | Mapping[int, int], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Market:
    """Pools, users' budgets and bundles as padded arrays, and the reserve curve.

    Arrays are read-only. ``pool_index`` (int32) and ``quantity`` (int64)
    have shape ``(K, U, B)``: entry ``k`` of bundle slot ``b`` of user
    ``u``; ``bundle_count[u]`` slots are real, the rest repeat bundle 0.
    Use :meth:`from_users` or :meth:`from_arrays`; both validate.
    """

    pools: tuple[Pool, ...]
    budgets: IntArray
    pool_index: npt.NDArray[np.int32] = field(repr=False)
    quantity: IntArray = field(repr=False)
    bundle_count: npt.NDArray[np.int32] = field(repr=False)
    user_names: tuple[str, ...] = field(repr=False)
    curve: ReserveCurve = DEFAULT_CURVE

    # ----------------------------------------------------------------------
    # Construction

    @classmethod
    def from_users(cls, pools: Sequence[Pool], users: Iterable[User],
                   curve: ReserveCurve = DEFAULT_CURVE) -> Market:
        """Build from :class:`User` objects; ValueError naming the user, bundle and field.

        Bundle keys are pool names (``"us-east/cpu"``) or indices; a zero
        quantity is dropped; a bundle must move at least one unit, and a
        user must have at least one bundle.
        """
        pools = tuple(pools)
        index = {p.name: r for r, p in enumerate(pools)}
        if len(index) != len(pools):
            listed = [p.name for p in pools]
            dup = next(n for n in listed if listed.count(n) > 1)
            raise _fail("market", "pools", dup, "appears twice")
        names: list[str] = []
        budgets: list[int] = []
        rows: list[list[list[tuple[int, int]]]] = []
        for u, user in enumerate(users):
            if not isinstance(user.name, str) or not user.name:
                raise _fail(f"user {u}", "name", user.name, "must be a non-empty string")
            where = f"user {u} {user.name!r}"
            check_money(user.budget, f"{where}: budget")
            if not user.bundles:
                raise _fail(where, "bundles", user.bundles, "must list at least one bundle")
            bundles = []
            for b, bundle in enumerate(user.bundles):
                at = f"{where} bundle {b}"
                if not isinstance(bundle, Mapping):
                    raise _fail(at, "bundle", bundle, "must map pools to quantities")
                entries = []
                for key, q in bundle.items():
                    r = _pool_of(key, index, len(pools), at)
                    _check_int(q, at, f"quantity of {pools[r].name!r}", -MONEY_MAX, MONEY_MAX)
                    if q:
                        entries.append((r, q))
                if not entries:
                    raise _fail(at, "quantities", dict(bundle), "move no unit: a bundle must "
                                "buy or sell something")
                if len({r for r, _ in entries}) != len(entries):
                    raise _fail(at, "quantities", dict(bundle), "name a pool twice")
                bundles.append(entries)
            names.append(user.name)
            budgets.append(user.budget)
            rows.append(bundles)
        if len(set(names)) != len(names):
            seen: dict[str, int] = {}
            for u, n in enumerate(names):
                if n in seen:
                    raise _fail(f"user {u} {n!r}", "name", n,
                                f"repeats the name of user {seen[n]}")
                seen[n] = u
        count = len(rows)
        width = max((len(bs) for bs in rows), default=1)
        depth = max((len(e) for bs in rows for e in bs), default=1)
        pool_index = np.zeros((depth, count, width), dtype=np.int32)
        quantity = np.zeros((depth, count, width), dtype=np.int64)
        flat = [(k, u, b, r, q) for u, bundles in enumerate(rows)
                for b, entries in enumerate(bundles) for k, (r, q) in enumerate(entries)]
        if flat:
            # One scatter instead of an element-wise loop; from_arrays pads the slots.
            k_, u_, b_, r_, q_ = (np.asarray(col, dtype=np.int64) for col in zip(*flat,
                                                                                 strict=True))
            pool_index[k_, u_, b_] = r_
            quantity[k_, u_, b_] = q_
        return cls.from_arrays(
            pools, np.asarray(budgets, dtype=np.int64), pool_index, quantity,
            np.asarray([len(bs) for bs in rows], dtype=np.int32), tuple(names), curve,
        )

    @classmethod
    def from_arrays(cls, pools: Sequence[Pool], budgets: npt.ArrayLike,
                    pool_index: npt.ArrayLike, quantity: npt.ArrayLike,
                    bundle_count: npt.ArrayLike, user_names: Sequence[str] | None = None,
                    curve: ReserveCurve = DEFAULT_CURVE) -> Market:
        """Build from padded arrays (see the class docstring), validating them.

        Padding slots ``b >= bundle_count[u]`` are overwritten with bundle 0.
        ``user_names`` defaults to ``u0, u1, ...``.
        """
        idx = np.array(pool_index, dtype=np.int32, copy=True)
        qty = np.array(quantity, dtype=np.int64, copy=True)
        cnt = np.array(bundle_count, dtype=np.int32, copy=True)
        bud = np.array(budgets, dtype=np.int64, copy=True)
        if idx.ndim != 3 or qty.shape != idx.shape:
            raise _fail("market", "arrays", (idx.shape, qty.shape),
                        "must be pool_index and quantity of one shape (K, U, B)")
        _, users, width = idx.shape
        if bud.shape != (users,) or cnt.shape != (users,):
            raise _fail("market", "budgets/bundle_count", (bud.shape, cnt.shape),
                        f"must have shape ({users},)")
        if users and (cnt.min() < 1 or cnt.max() > width):
            u = int(np.flatnonzero((cnt < 1) | (cnt > width))[0])
            raise _fail(f"user {u}", "bundle_count", int(cnt[u]), f"must be 1..{width}")
        if idx.size and (idx.min() < 0 or idx.max() >= max(len(pools), 1)):
            _, u, b = (int(v) for v in np.argwhere((idx < 0) | (idx >= len(pools)))[0])
            raise _fail(f"user {u} bundle {b}", "pool index", "out of range",
                        f"must be 0..{len(pools) - 1}")
        names = tuple(user_names) if user_names is not None else tuple(
            f"u{u}" for u in range(users))
        if len(names) != users:
            raise _fail("market", "user_names", len(names), f"must name {users} users")
        # Padding slots repeat bundle 0, so argmin (first minimum) never picks one.
        pad = np.arange(width)[None, :] >= cnt[:, None]
        if pad.any():
            idx = np.where(pad[None], idx[:, :, :1], idx)
            qty = np.where(pad[None], qty[:, :, :1], qty)
        # Canonical form: a bundle's non-zero entries first, in order, zero entries (0, 0),
        # and no all-zero trailing plane -- so equal markets have equal arrays, and K is
        # no larger than the longest bundle (K is the inner loop of every round).
        if qty.size:
            order = np.argsort(qty == 0, axis=0, kind="stable")
            idx = np.take_along_axis(idx, order, axis=0)
            qty = np.take_along_axis(qty, order, axis=0)
            idx[qty == 0] = 0
            used_planes = np.flatnonzero((qty != 0).any(axis=(1, 2)))
            depth = int(used_planes[-1]) + 1 if used_planes.size else 1
            idx, qty = idx[:depth].copy(), qty[:depth].copy()
            # A pool at most once per bundle (the file format cannot say it twice).
            keys = np.sort(np.where(qty != 0, idx.astype(np.int64), -1 - np.arange(depth)[
                :, None, None]), axis=0)
            twice = (keys[1:] == keys[:-1]) & (keys[1:] >= 0)
            if twice.any():
                _, u, b = (int(v) for v in np.argwhere(twice)[0])
                raise _fail(f"user {u} bundle {b}", "quantities", "a pool twice",
                            "name each pool once per bundle")
        if users:
            still = ~(qty != 0).any(axis=0)
            if still.any():
                u, b = (int(v) for v in np.argwhere(still)[0])
                raise _fail(f"user {u} {names[u]!r} bundle {b}", "quantities", "all zero",
                            "move no unit: a bundle must buy or sell something")
            moved = _units_moved(qty)
            if (moved > MONEY_MAX).any():
                u, b = (int(v) for v in np.argwhere(moved > MONEY_MAX)[0])
                raise _fail(f"user {u} {names[u]!r} bundle {b}", "quantities",
                            [q for q in qty[:, u, b].tolist() if q], f"move more than "
                            f"{MONEY_MAX} units in all: the bundle's cost could not be "
                            "counted in 64 bits")
        for array in (idx, qty, cnt, bud):
            array.flags.writeable = False
        return cls(tuple(pools), bud, idx, qty, cnt, names, curve)

    def __eq__(self, other: object) -> bool:
        """Equal pools, curve, names and arrays (dataclass equality cannot compare arrays)."""
        if not isinstance(other, Market):
            return NotImplemented
        return (self.pools == other.pools and self.curve == other.curve
                and self.user_names == other.user_names
                and all(np.array_equal(a, b) for a, b in (
                    (self.budgets, other.budgets), (self.pool_index, other.pool_index),
                    (self.quantity, other.quantity), (self.bundle_count, other.bundle_count))))

    __hash__ = None  # type: ignore[assignment]  # arrays are not hashable

    # ----------------------------------------------------------------------
    # Views

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(U, B, K)``: users, bundle slots per user, entries per bundle."""
        k, u, b = self.pool_index.shape
        return (u, b, k)

    @property
    def pool_names(self) -> tuple[str, ...]:
        """Every pool's ``cluster/resource`` name, in pool order."""
        return tuple(p.name for p in self.pools)

    def reserves(self) -> IntArray:
        """:func:`reserve_prices` of this market's pools under its curve."""
        return reserve_prices(self.pools, self.curve)

    def supply(self) -> IntArray:
        """Units the operator offers in each pool (its free capacity)."""
        return np.asarray([p.free for p in self.pools], dtype=np.int64)

    def bundle(self, user: int, slot: int) -> dict[int, int]:
        """Bundle ``slot`` of ``user`` as ``{pool index: quantity}``."""
        out: dict[int, int] = {}
        for r, q in zip(self.pool_index[:, user, slot].tolist(),
                        self.quantity[:, user, slot].tolist(), strict=True):
            if q:
                out[r] = out.get(r, 0) + q
        return out

    def user(self, u: int) -> User:
        """User ``u`` as a :class:`User` (bundle keys are pool names)."""
        names = self.pool_names
        bundles = tuple({names[r]: q for r, q in self.bundle(u, b).items()}
                        for b in range(int(self.bundle_count[u])))
        return User(self.user_names[u], int(self.budgets[u]), bundles)

    def kinds(self) -> tuple[UserKind, ...]:
        """Every user's :class:`UserKind`."""
        codes = self.kind_codes().tolist()
        order = (UserKind.BUYER, UserKind.SELLER, UserKind.TRADER)
        return tuple(order[c] for c in codes)

    def max_supply(self) -> IntArray:
        """The most units any allocation could hand out per pool.

        The operator's free units plus, for every user, the largest amount
        one of its bundles sells there (a user holds one bundle at most).
        """
        out = self.supply()
        k_, u_, b_ = np.nonzero(self.quantity < 0)
        if not u_.size:
            return out
        count = len(self.pools)
        # A pool appears once per bundle, so the largest sale per (user, pool) is a max
        # over the runs of the sorted keys user * pools + pool.
        key = u_.astype(np.int64) * count + self.pool_index[k_, u_, b_]
        sold = -self.quantity[k_, u_, b_]
        order = np.argsort(key, kind="stable")
        key, sold = key[order], sold[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        np.add.at(out, key[starts] % count, np.maximum.reduceat(sold, starts))
        return out

    def servable(self) -> npt.NDArray[np.bool_]:
        """``(U, B)``: whether each bundle slot asks no pool for more than :meth:`max_supply`.

        A bundle that fails can be in no feasible allocation whatever the
        prices, so proxies never bid it (it would only push prices up for
        everyone until its user dropped out).
        """
        limit = self.max_supply()
        ok = np.ones(self.shape[:2], dtype=bool)
        for k in range(self.shape[2]):
            ok &= self.quantity[k] <= limit[self.pool_index[k]]
        return ok

    def kind_codes(self) -> npt.NDArray[np.int8]:
        """Kinds as codes, vectorised: 0 buyer, 1 seller, 2 trader."""
        if not self.budgets.size:
            return np.zeros(0, dtype=np.int8)
        buys = (self.quantity > 0).any(axis=(0, 2))
        sells = (self.quantity < 0).any(axis=(0, 2))
        return np.where(buys & sells, 2, np.where(sells, 1, 0)).astype(np.int8)


def _units_moved(quantity: IntArray) -> npt.NDArray[np.uint64]:
    """``(U, B)``: the units each bundle moves, ``sum_k |q|``, saturating at ``2**63``.

    An int64 sum would wrap silently; in uint64 each term is below ``2**63`` and the
    running total is held at ``2**63``, so no addition can wrap.
    """
    if (quantity < -MONEY_MAX).any():  # |-2**63| is not an int64
        raise _fail("market", "quantity", int(quantity.min()), f"must be >= {-MONEY_MAX}")
    total = np.zeros(quantity.shape[1:], dtype=np.uint64)
    for plane in np.abs(quantity).astype(np.uint64):
        total = np.minimum(total + plane, np.uint64(MONEY_MAX + 1))
    return total


def _pool_of(key: object, index: Mapping[str, int], count: int, at: str) -> int:
    if isinstance(key, str):
        if key not in index:
            known = ", ".join(list(index)[:8]) + (", ..." if len(index) > 8 else "")
            raise _fail(at, "pool", key, f"is not a pool (pools: {known or 'none'})")
        return index[key]
    if type(key) is int and 0 <= key < count:
        return key
    raise _fail(at, "pool", key, f"must be a pool name or an index 0..{count - 1}")
