"""The whole state as canonical JSON-safe data, its hash, and the exchange rebuilt from it.

:func:`snapshot_of` lists everything that decides future events -- markets,
accounts, capacity, holdings, open orders by arrival, used order ids, the
trade tapes and price indexes, clocks and counters -- in a canonical order,
so equal states give equal bytes and :func:`state_hash` is a fingerprint
replicas, replays and the native core are compared by.

:class:`Saved` is the one on-disk form of a state -- the service's
snapshots and the scale-out engines' checkpoints alike: canonical JSON of
``{"hash", "seq", "state"}`` plus any labels (a partition and its stream),
where ``seq`` is the last command the state includes.

Example:
    >>> from auctioneer.exchange import Exchange
    >>> ex = Exchange()
    >>> state_hash(restore_into(Exchange(), snapshot_of(ex))) == state_hash(ex)
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from auctioneer.exchange.book import Order
from auctioneer.exchange.codec import decode_event, decode_market, encode_event, encode_market
from auctioneer.exchange.events import Traded
from auctioneer.exchange.ledger import Account, Capacity
from auctioneer.exchange.model import Role
from auctioneer.exchange.state import State
from auctioneer.exchange.usedids import compact_ids, expand_ids

__all__ = [
    "SNAPSHOT_VERSION",
    "Saved",
    "canonical_json",
    "decode_saved",
    "digest_of",
    "encode_saved",
    "restore_into",
    "saved_json",
    "saved_of",
    "saved_pieces",
    "snapshot_json",
    "snapshot_of",
    "snapshot_pieces",
    "state_hash",
    "upgraded",
]

SNAPSHOT_VERSION = 2
"""2: used ids in :mod:`~auctioneer.exchange.usedids`' compact form (1 listed each; read by
:func:`upgraded`)."""
_S = TypeVar("_S", bound=State)


def snapshot_of(state: State) -> dict[str, Any]:
    """The whole state as canonical JSON-safe data; :func:`restore_into` reverses it.

    Open orders are listed by arrival, which rebuilds every queue in order.
    """
    return {**_markets_of(state), **_ledger_of(state)}


def snapshot_json(state: State, ledger: dict[str, bytes | int] | None = None) -> bytes:
    """``canonical_json(snapshot_of(state))``, or the same with the parts that grow with the
    state -- accounts, capacity, holdings, orders, used ids, counters, and perhaps the trade
    tapes -- given in ``ledger`` (bytes already canonical JSON, or ints), as the native engine
    writes them (``engine_snapshot.c``)."""
    return b"".join(snapshot_pieces(state, ledger))


def snapshot_pieces(state: State, ledger: dict[str, bytes | int] | None = None
                    ) -> list[bytes]:
    """:func:`snapshot_json` in pieces, which it joins: a snapshot file is hashed and written
    from them (:func:`saved_pieces`), so its megabytes of orders are not copied twice more.
    O(size of the state)."""
    given = _ledger_of(state) if ledger is None else ledger
    parts = _encoded({**_markets_of(state, ("prices", *given)), **given})
    prices = {m: _pieces(_encoded(index.state_parts())) for m, index in state._prices.items()}
    return _pieces({**parts, "prices": _pieces(prices)})


def _encoded(parts: Mapping[str, Any]) -> dict[str, bytes]:
    """``parts`` with each value not bytes already made its canonical JSON."""
    return {key: value if isinstance(value, bytes) else canonical_json(value)
            for key, value in parts.items()}


def _pieces(parts: Mapping[str, bytes | list[bytes]]) -> list[bytes]:
    """The canonical JSON of an object whose values' canonical JSON is ``parts`` (each one
    bytes, or pieces), in pieces."""
    out: list[bytes] = []
    sep = b"{"
    for key in sorted(parts):
        value = parts[key]
        out.append(sep + canonical_json(key) + b":")
        out.extend([value] if isinstance(value, bytes) else value)
        sep = b","
    out.append(b"}" if out else b"{}")
    return out


def _markets_of(state: State, given: Container[str] = ()) -> dict[str, Any]:
    """The parts of :func:`snapshot_of` that the Python objects hold in either engine, but
    the trade tapes and price indexes when ``given`` names them (written in C)."""
    out: dict[str, Any] = {
        "version": SNAPSHOT_VERSION,
        "markets": [encode_market(m) for m in state._markets.values()],
    }
    if "prices" not in given:
        out["prices"] = {m: index.state() for m, index in state._prices.items()}
    if "trades" not in given:
        out["trades"] = {m: [encode_event(t) for t in ts] for m, ts in state._trades.items()}
    return out


def _ledger_of(state: State) -> dict[str, Any]:
    """The parts of :func:`snapshot_of` that grow with the state (``ledger`` of
    :func:`snapshot_json`)."""
    orders = sorted(state._orders.values(), key=lambda o: o.seq)
    return {
        "clock": state._clock,
        "second": state._second,
        "seq": state._seq,
        "trade_seq": state._trade_seq,
        "minted": state._minted,
        "accounts": [[a.id, a.role.value, a.balance, a.reserved]
                     for a in sorted(state._accounts.values(), key=lambda a: a.id)],
        "capacity": [[a, m, cap.provided, cap.allocated, cap.offered]
                     for (a, m), cap in sorted(state._capacity.items())],
        "holdings": sorted([a, m, q] for m, book in state._books.items()
                           for a, q in book.holdings.items()),
        "orders": [[o.id, o.account, o.buy, list(o.markets), o.price, o.remaining, o.aon,
                    o.post_only, o.seq, o.ts_ns] for o in orders],
        "used_ids": compact_ids(state._used_ids),
    }


def restore_into(ex: _S, snapshot: dict[str, Any]) -> _S:
    """``ex`` (a new, empty exchange) made the exchange whose :func:`snapshot_of` was
    ``snapshot``; ValueError for another snapshot version."""
    if snapshot.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"snapshot version {snapshot.get('version')!r} is not "
                         f"{SNAPSHOT_VERSION}")
    for data in snapshot["markets"]:
        venue = ex._add_venue(decode_market(data))
        venue.index.load(snapshot["prices"][venue.market])
        for t in snapshot["trades"][venue.market]:
            event = decode_event(t)
            assert isinstance(event, Traded)
            venue.trades.append(event)
    for account, role, balance, reserved in snapshot["accounts"]:
        ex._accounts[account] = Account(account, Role(role), balance, reserved)
    for account, market_id, provided, allocated, offered in snapshot["capacity"]:
        cap = ex._capacity[(account, market_id)] = Capacity(provided, allocated, offered)
        ex._books[market_id].providers[account] = cap
    for account, market_id, quantity in snapshot["holdings"]:
        ex._books[market_id].holdings[account] = quantity
    ex._used_ids = expand_ids(snapshot["used_ids"])
    for (order_id, account, buy, markets, price, remaining, aon, post_only, seq,
         ts_ns) in snapshot["orders"]:
        order = Order(order_id, account, buy, tuple(markets), price, remaining, aon, seq,
                      ts_ns, post_only)
        for m in order.markets:
            ex._books[m].add(order)
        ex._orders[order_id] = order
        ex._by_account.setdefault(account, {})[order_id] = order
    ex._clock = snapshot["clock"]
    ex._second = snapshot["second"]
    ex._seq = snapshot["seq"]
    ex._trade_seq = snapshot["trade_seq"]
    ex._minted = snapshot["minted"]
    return ex


def upgraded(snapshot: dict[str, Any]) -> dict[str, Any]:
    """``snapshot`` in the current version's form: version 1's used ids compacted."""
    if snapshot.get("version") != 1:
        return snapshot
    return {**snapshot, "version": SNAPSHOT_VERSION,
            "used_ids": compact_ids(snapshot["used_ids"])}


def state_hash(state: State) -> str:
    """sha256 hex of the canonical JSON of :func:`snapshot_of`: equal states, equal hashes."""
    return digest_of(snapshot_pieces(state))


def digest_of(pieces: Iterable[bytes]) -> str:
    """sha256 hex of the concatenation of ``pieces``, without making it."""
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    return digest.hexdigest()


def canonical_json(data: Any) -> bytes:
    """``data`` as compact JSON with sorted keys, UTF-8: one byte string per value."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Saved:
    """A state after command ``seq``, the hash it should restore to, and labels."""

    seq: int
    state_hash: str
    state: dict[str, Any]
    labels: dict[str, Any] = field(default_factory=dict)


_KEYS = ("hash", "seq", "state")


def encode_saved(saved: Saved) -> bytes:
    """``saved`` as canonical JSON bytes."""
    return saved_json(saved.seq, saved.state_hash, canonical_json(saved.state), saved.labels)


def saved_json(seq: int, digest: str, state: bytes, labels: dict[str, Any] | None = None
               ) -> bytes:
    """What :func:`encode_saved` writes for a state whose canonical JSON is ``state``
    (:func:`snapshot_json`), without decoding it."""
    return b"".join(saved_pieces(seq, digest, [state], labels))


def saved_pieces(seq: int, digest: str, state: list[bytes],
                 labels: dict[str, Any] | None = None) -> list[bytes]:
    """:func:`saved_json` of a state given as the pieces :func:`snapshot_pieces` makes, in
    pieces (the state's own among them, not copied)."""
    parts: dict[str, bytes | list[bytes]] = {
        key: canonical_json(value) for key, value in (labels or {}).items()}
    return _pieces({**parts, "hash": canonical_json(digest), "seq": canonical_json(seq),
                    "state": state})


def decode_saved(data: bytes) -> Saved:
    """What :func:`encode_saved` wrote; ValueError when it is not that (its state is checked
    only by restoring it)."""
    return saved_of(json.loads(data))


def saved_of(body: Any) -> Saved:
    """The :class:`Saved` whose encoding decodes to ``body``; ValueError when it is not one."""
    if not isinstance(body, dict) or any(key not in body for key in _KEYS):
        raise ValueError(f"not a saved state: it lacks one of {list(_KEYS)}")
    seq, digest, state = body["seq"], body["hash"], body["state"]
    if type(seq) is not int or not isinstance(digest, str) or not isinstance(state, dict):
        raise ValueError("not a saved state: bad seq, hash or state")
    return Saved(seq, digest, state, {k: v for k, v in body.items() if k not in _KEYS})
