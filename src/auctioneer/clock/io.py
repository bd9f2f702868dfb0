"""The JSON file of a clock market, and of a clock auction's result.

Validated at this boundary by pydantic (the only place the clock uses it);
the rest of the code sees :class:`~auctioneer.clock.model.Market`. The
format (``docs/clock.md`` documents it)::

    {
      "version": 1,
      "reserve_curve": [{"utilisation": "0%", "multiplier": "0.5"}, ...],
      "pools": [{"cluster": "us-east", "resource": "cpu", "capacity": 1000,
                 "used": 900, "base_price": "0.04"}, ...],
      "users": [{"name": "alice", "budget": "12.50",
                 "bundles": [{"us-east/cpu": 16, "us-east/ram": 64},
                             {"eu-west/cpu": 16, "eu-west/ram": 64}]}, ...]
    }

* Money (``base_price``, ``reserve``, ``budget``) is a decimal **string**
  of currency units, at most six decimal places; a JSON number is refused.
  Prices are per unit of the pool's resource. A negative budget is a
  seller's ask: ``"-5"`` means "pay me at least $5".
* Quantities, capacities and ``used`` are JSON integers (``3.0`` is
  refused). A bundle maps pool names, ``cluster/resource``, to units;
  negative units sell. A bundle must move at least one unit.
* ``reserve_curve`` (optional; the default curve otherwise) lists knots
  from utilisation 0% to 100%: decimals (``"0.85"``) or percentages
  (``"85%"``), to a basis point. A pool's optional ``reserve`` overrides
  the curve.

Any problem raises :class:`MarketFileError`, one line naming the place
(``users[3] 'alice' bundles[1]['us-west/cpu']``) and the value.

Complexity: O(file size) to load (pydantic validates every field, then one
scatter builds the arrays); O(U * B * K) to dump.

Example:
    >>> market = load_market({
    ...     "pools": [{"cluster": "east", "resource": "cpu", "capacity": 10, "used": 9,
    ...                "base_price": "1.00"}],
    ...     "users": [{"name": "alice", "budget": "9", "bundles": [{"east/cpu": 1}]}]})
    >>> market.user(0)
    User(name='alice', budget=9000000, bundles=({'east/cpu': 1},))
    >>> load_market({"pools": [], "users": [{"name": "bob", "budget": "1",
    ...                                      "bundles": [{"west/gpu": 2}]}]})
    Traceback (most recent call last):
      ...
    auctioneer.clock.io.MarketFileError: users[0] 'bob' bundles[0]['west/gpu']: is not a pool \
(pools: none)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from auctioneer.clock.auction import ClockResult
from auctioneer.clock.model import BPS, DEFAULT_CURVE, Market, Pool, ReserveCurve
from auctioneer.clock.step import parse_fraction
from auctioneer.jsonfile import (
    FileError,
    Money,
    Name,
    Strict,
    money_json,
    money_text,
    parse_json,
    read_json,
    validate,
)
from auctioneer.money import MONEY_MAX, parse_money

__all__ = [
    "FORMAT_VERSION",
    "MarketFile",
    "MarketFileError",
    "dump_market",
    "dump_result",
    "dumps_market",
    "load_market",
    "loads_market",
    "money_text",
]

FORMAT_VERSION = 1
"""The version of the file format this module reads and writes."""


class MarketFileError(FileError):
    """A market file that cannot be used: ``where`` in it, ``detail``, and the ``source`` file."""


class CurvePointSpec(Strict):
    """A knot of the reserve curve."""

    utilisation: Annotated[str, Field(description="'85%' or '0.85'.")]
    multiplier: Annotated[str, Field(description="Of the base price: '1.5' or '150%'.")]


Units = Annotated[int, Field(ge=0, le=MONEY_MAX)]
Quantity = Annotated[int, Field(ge=-MONEY_MAX, le=MONEY_MAX)]


class PoolSpec(Strict):
    """One resource type in one cluster."""

    cluster: Name
    resource: Name
    capacity: Units
    used: Units = 0
    base_price: Money
    reserve: Money | None = None


class UserSpec(Strict):
    """A bidder: acceptable bundles and a budget."""

    name: Name
    budget: Money
    bundles: list[dict[str, Quantity]]


class MarketFile(Strict):
    """A clock market (auctioneer clock format)."""

    version: Literal[1] = 1
    reserve_curve: list[CurvePointSpec] | None = None
    pools: list[PoolSpec]
    users: list[UserSpec]


# --------------------------------------------------------------------------
# Loading


def loads_market(text: str, source: str | None = None) -> Market:
    """Parse the JSON text of a market file; ``source`` names it in errors."""
    return _from_data(parse_json(text, source, MarketFileError), source)


def load_market(source: str | os.PathLike[str] | Mapping[str, Any]) -> Market:
    """A :class:`Market` from a file path, JSON text (starting with ``{``) or parsed data."""
    data, name = read_json(source, MarketFileError)
    return _from_data(data, name)


def _label(node: object) -> str | None:
    """A user's name, or a pool's ``cluster/resource``, to show after its index."""
    if not isinstance(node, Mapping):
        return None
    name = node.get("name")
    if isinstance(name, str) and name:
        return name
    cluster, resource = node.get("cluster"), node.get("resource")
    if isinstance(cluster, str) and isinstance(resource, str):
        return f"{cluster}/{resource}"
    return None


def _from_data(data: object, source: str | None) -> Market:
    spec = validate(MarketFile, data, source, MarketFileError, _label, keyed_under=("bundles",))
    return _to_market(spec, source)


def _bps(text: str, where: str, source: str | None) -> int:
    try:
        value = parse_fraction(text, where) * BPS
    except ValueError as exc:
        raise MarketFileError(where, str(exc).split(": ", 1)[-1], source) from None
    if value.denominator != 1:
        raise MarketFileError(where, f"{text!r} is finer than a basis point (0.01%)", source)
    return int(value)


def _to_market(spec: MarketFile, source: str | None) -> Market:
    """Checks that need more than one field, then the core's arrays."""

    def fail(where: str, detail: str) -> MarketFileError:
        return MarketFileError(where, detail, source)

    curve = DEFAULT_CURVE
    if spec.reserve_curve is not None:
        points = tuple(
            (_bps(p.utilisation, f"reserve_curve[{i}].utilisation", source),
             _bps(p.multiplier, f"reserve_curve[{i}].multiplier", source))
            for i, p in enumerate(spec.reserve_curve))
        try:
            curve = ReserveCurve(points)
        except ValueError as exc:
            raise fail("reserve_curve", str(exc).split(": ", 1)[-1]) from None

    index: dict[str, int] = {}
    pools: list[Pool] = []
    for i, p in enumerate(spec.pools):
        at = f"pools[{i}] '{p.cluster}/{p.resource}'"
        for attr in ("cluster", "resource"):
            if "/" in getattr(p, attr):
                raise fail(f"{at} {attr}", f"{getattr(p, attr)!r} must not contain '/'")
        name = f"{p.cluster}/{p.resource}"
        if name in index:
            raise fail(at, f"repeats pools[{index[name]}] (the same cluster and resource)")
        if p.used > p.capacity:
            raise fail(f"{at} used", f"{p.used} exceeds the capacity {p.capacity}")
        base = parse_money(p.base_price)
        if base < 1:
            raise fail(f"{at} base_price", f"{p.base_price!r} must be at least 0.000001")
        reserve = None if p.reserve is None else parse_money(p.reserve)
        if reserve is not None and reserve < 1:
            raise fail(f"{at} reserve", f"{p.reserve!r} must be at least 0.000001")
        index[name] = i
        pools.append(Pool(p.cluster, p.resource, p.capacity, base, used=p.used,
                          reserve=reserve))

    known = ", ".join(list(index)[:8]) + (", ..." if len(index) > 8 else "")
    seen: dict[str, int] = {}
    budgets: list[int] = []
    entries: list[tuple[int, int, int, int, int]] = []  # (k, u, b, pool, quantity)
    counts: list[int] = []
    depth = 1
    for u, user in enumerate(spec.users):
        at = f"users[{u}] {user.name!r}"
        if user.name in seen:
            raise fail(f"{at} name", f"{user.name!r} repeats the name of users[{seen[user.name]}]")
        seen[user.name] = u
        if not user.bundles:
            raise fail(f"{at} bundles", "is empty: list at least one acceptable bundle")
        for b, bundle in enumerate(user.bundles):
            k = 0
            for key, q in bundle.items():
                if key not in index:
                    raise fail(f"{at} bundles[{b}][{key!r}]",
                               f"is not a pool (pools: {known or 'none'})")
                if q:
                    entries.append((k, u, b, index[key], q))
                    k += 1
            if k == 0:
                raise fail(f"{at} bundles[{b}]",
                           f"{dict(bundle)!r} moves no unit: a bundle must buy or sell "
                           "something")
            moved = sum(abs(q) for q in bundle.values())
            if moved > MONEY_MAX:
                raise fail(f"{at} bundles[{b}]", f"moves {moved} units in all, more than "
                           f"{MONEY_MAX}: its cost could not be counted in 64 bits")
            depth = max(depth, k)
        budgets.append(parse_money(user.budget))
        counts.append(len(user.bundles))

    users = len(spec.users)
    width = max(counts, default=1)
    idx = np.zeros((depth, users, width), dtype=np.int32)
    qty = np.zeros((depth, users, width), dtype=np.int64)
    if entries:
        k_, u_, b_, r_, q_ = (np.asarray(col, dtype=np.int64) for col in zip(*entries,
                                                                              strict=True))
        idx[k_, u_, b_] = r_
        qty[k_, u_, b_] = q_
    try:
        return Market.from_arrays(pools, np.asarray(budgets, dtype=np.int64), idx, qty,
                                  np.asarray(counts, dtype=np.int32),
                                  tuple(s.name for s in spec.users), curve)
    except (ValueError, OverflowError) as exc:  # pragma: no cover - checked above
        raise fail("(market)", str(exc)) from None


# --------------------------------------------------------------------------
# Writing


def _percent(bps: int) -> str:
    whole, frac = divmod(bps, 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


def dump_market(market: Market) -> dict[str, Any]:
    """The market as the file's JSON data (:func:`load_market` reads it back equal)."""
    names = market.pool_names
    users = []
    for u in range(market.shape[0]):
        bundles = [{names[r]: q for r, q in market.bundle(u, b).items()}
                   for b in range(int(market.bundle_count[u]))]
        users.append({"name": market.user_names[u], "budget": money_text(int(market.budgets[u])),
                      "bundles": bundles})
    pools: list[dict[str, Any]] = []
    for p in market.pools:
        entry: dict[str, Any] = {"cluster": p.cluster, "resource": p.resource,
                                 "capacity": p.capacity, "used": p.used,
                                 "base_price": money_text(p.base_price)}
        if p.reserve is not None:
            entry["reserve"] = money_text(p.reserve)
        pools.append(entry)
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    if market.curve != DEFAULT_CURVE:
        data["reserve_curve"] = [{"utilisation": _percent(u), "multiplier": _percent(m)}
                                 for u, m in market.curve.points]
    data["pools"] = pools
    data["users"] = users
    return data


def dumps_market(market: Market) -> str:
    """:func:`dump_market` as JSON text: one pool or user per line, newline-terminated."""
    data = dump_market(market)
    head = {k: v for k, v in data.items() if k not in ("pools", "users")}
    lines = [json.dumps(head)[:-1] + ","]
    for key in ("pools", "users"):
        rows = data[key]
        lines.append(f'"{key}": [')
        lines.extend("  " + json.dumps(row) + ("," if i < len(rows) - 1 else "")
                     for i, row in enumerate(rows))
        lines.append("]," if key == "pools" else "]")
    return "\n".join(lines) + "\n}\n"


def dump_result(market: Market, result: ClockResult, *, trace: bool = True) -> dict[str, Any]:
    """A result as JSON data: status, prices and supply per pool, every user, the trace.

    Prices in the trace are micro-units per unit (ints); elsewhere money is
    ``{"amount": "1.25", "micros": 1250000}``.
    """
    names = market.pool_names
    supply = market.supply().tolist()
    kinds = market.kinds()
    pools = []
    for r, name in enumerate(names):
        excess = int(result.excess[r])
        pools.append({
            "pool": name, "utilisation": _percent(market.pools[r].utilisation),
            "reserve": money_json(int(result.reserves[r])),
            "price": money_json(int(result.prices[r])),
            "free": supply[r], "taken": supply[r] + excess,
            "unsold": max(-excess, 0), "excess_demand": excess,
        })
    users = []
    for u in range(market.shape[0]):
        c = int(result.choice[u])
        users.append({
            "user": market.user_names[u], "kind": kinds[u].value,
            "budget": money_json(int(market.budgets[u])),
            "bundle": None if c < 0 else c,
            "quantities": {} if c < 0 else {names[r]: q for r, q in
                                            market.bundle(u, c).items()},
            "payment": money_json(int(result.payments[u])),
        })
    data: dict[str, Any] = {
        "status": result.status.value,
        "detail": result.detail,
        "rule": result.rule.describe(),
        "rounds": result.rounds,
        "seconds": round(result.seconds, 6),
        "ceiling": money_json(result.ceiling),
        "revenue": money_json(result.revenue),
        "winners": int(result.winners.size),
        "pools": pools,
        "users": users,
        "cycle": None if result.cycle is None else {
            "start": result.cycle.start, "period": result.cycle.period,
            "users": [market.user_names[u] for u in result.cycle.users],
            "pools": [names[r] for r in result.cycle.pools],
        },
    }
    if trace:
        data["trace"] = {"pools": list(names),
                         "prices_micros": result.price_trace.tolist(),
                         "excess_demand": result.excess_trace.tolist()}
    return data
