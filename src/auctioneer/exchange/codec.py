"""Commands and events as JSON-safe dicts: ``{"type": kind, field: value, ...}``.

The journal, the HTTP layer and NATS all speak this form. Values are plain
JSON: ints (money in micro-units, quantities, nanoseconds), strings, booleans,
enums by their lower-case value, tuples as lists, a market as a nested object.
An encoded command or market has its keys in sorted order, so a JSON encoder
that does not sort writes its canonical form (the journal relies on it).
Decoding is strict -- no ``"3"`` for 3, no ``true`` for 1, no float, no
unknown or missing field -- and the first problem raises
:class:`CommandError` naming the field (``market.tick_size`` inside a
market) and the value. Decoding checks types only; the engine judges values
(a zero quantity is a :class:`~auctioneer.exchange.events.Rejected` event).

:func:`decode_command_json` decodes a command straight from JSON bytes (the
journal's payload) through ``msgspec`` tagged structs mirroring the command
classes: on the benchmark's journal payloads (``auctioneer bench exchange``
prints both rates) about four times the rate of ``json.loads`` plus
:func:`decode_command`, which stays as the reference. A
document msgspec refuses goes through the reference, which names the field;
a differential test holds the two to the same answer on valid and invalid
documents.

Example:
    >>> from auctioneer.exchange.commands import Deposit
    >>> encode_command(Deposit("alice", 5_000_000))
    {'account': 'alice', 'amount': 5000000, 'ts_ns': 0, 'type': 'deposit'}
    >>> decode_command({'type': 'deposit', 'account': 'alice', 'amount': 5000000})
    Deposit(account='alice', amount=5000000, ts_ns=0)
    >>> decode_command({'type': 'deposit', 'account': 'alice', 'amount': '5'})
    Traceback (most recent call last):
      ...
    auctioneer.exchange.codec.CommandError: amount: '5' is not an integer
"""

from __future__ import annotations

import enum
import json
import operator
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from typing import Annotated, Any, TypeVar

import msgspec

from auctioneer.exchange import model
from auctioneer.exchange.commands import COMMAND_TYPES, Command, ListMarket
from auctioneer.exchange.events import EVENT_TYPES, Event

__all__ = [
    "INT_MAX",
    "CommandError",
    "decode_command",
    "decode_command_json",
    "decode_event",
    "decode_market",
    "encode_command",
    "encode_command_json",
    "encode_event",
    "encode_market",
]

INT_MAX = 2**63 - 1
"""Largest magnitude of an integer field (signed 64-bit, as the stores hold them)."""

_T = TypeVar("_T")
_Decoder = Callable[[object, str], Any]


class CommandError(ValueError):
    """A command (or event) dict that cannot be decoded: ``field`` and ``value`` say where."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.value = value
        self.message = message


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(value: object, name: str) -> int:
    if type(value) is not int:
        raise CommandError(name, value, f"{_short(value)} is not an integer")
    if not -INT_MAX <= value <= INT_MAX:
        raise CommandError(name, value, f"{value} is outside ±{INT_MAX}")
    return value


def _str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise CommandError(name, value, f"{_short(value)} is not a string")
    if not value:
        raise CommandError(name, value, "must not be empty")
    return value


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise CommandError(name, value, f"{_short(value)} is not true or false")
    return value


def _enum(cls: type[enum.Enum]) -> _Decoder:
    allowed = ", ".join(repr(member.value) for member in cls)

    def decode(value: object, name: str) -> enum.Enum:
        try:
            return cls(value)
        except ValueError:
            raise CommandError(name, value, f"{_short(value)} is not one of {allowed}") from None

    return decode


def _str_tuple(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise CommandError(name, value, f"{_short(value)} is not a list")
    return tuple(_str(item, f"{name}[{i}]") for i, item in enumerate(value))


def _optional(inner: _Decoder) -> _Decoder:
    def decode(value: object, name: str) -> Any:
        return None if value is None else inner(value, name)

    return decode


def _decoder(hint: Any) -> _Decoder:
    if hint is int:
        return _int
    if hint is str:
        return _str
    if hint is bool:
        return _bool
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if hint is model.Market:
        return decode_market
    origin = typing.get_origin(hint)
    if origin is tuple:
        return _str_tuple
    if origin in (types.UnionType, typing.Union):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _optional(_decoder(args[0]))
    raise TypeError(f"no decoder for {hint!r}")  # pragma: no cover - a new field type


def _spec(cls: type) -> list[tuple[str, _Decoder, bool]]:
    """``(field, decoder, required)`` for each field of the dataclass or named tuple ``cls``."""
    hints = typing.get_type_hints(cls)
    if hasattr(cls, "_fields"):
        defaults = cls._field_defaults  # type: ignore[attr-defined]
        return [(name, _decoder(hints[name]), name not in defaults) for name in cls._fields]
    return [(f.name, _decoder(hints[f.name]), f.default is MISSING) for f in fields(cls)]


def _build(cls: type[_T], spec: list[tuple[str, _Decoder, bool]], data: Mapping[str, Any],
           prefix: str, skip: frozenset[str]) -> _T:
    known = {name for name, _, _ in spec}
    for key in data:
        if key not in known and key not in skip:
            raise CommandError(prefix + str(key), data[key], f"is not a field of {cls.__name__}")
    values: dict[str, Any] = {}
    for name, decode, required in spec:
        if name in data:
            values[name] = decode(data[name], prefix + name)
        elif required:
            raise CommandError(prefix + name, None, "is required but missing")
    return cls(**values)


_MARKET_SPEC: list[tuple[str, _Decoder, bool]] = []


def decode_market(value: object, name: str = "market") -> model.Market:
    """The market encoded in ``value``; :class:`CommandError` naming ``name.field``."""
    if not isinstance(value, Mapping):
        raise CommandError(name, value, f"{_short(value)} is not an object")
    return _build(model.Market, _MARKET_SPEC, value, name + ".", frozenset())


_MARKET_SPEC.extend(_spec(model.Market))
_COMMAND_SPECS = {kind: _spec(cls) for kind, cls in COMMAND_TYPES.items()}
_EVENT_SPECS = {kind: _spec(cls) for kind, cls in EVENT_TYPES.items()}
_TYPE_ONLY = frozenset({"type"})


_Plan = tuple[tuple[str, str], ...]
_PLAIN = frozenset({int, str, bool, type(None)})


def _plan(cls: type, typed: bool) -> _Plan:
    """``(key, attribute)`` per key of ``cls``'s encoded dict, in sorted key order.

    Computed once per class: ``dataclasses.fields`` and sorting per call were
    most of the journal's encoding cost.
    """
    keys = {f.name: f.name for f in fields(cls)}
    if typed:
        keys["type"] = "kind"
    return tuple(sorted(keys.items()))


def _encode_plan(obj: object, plan: _Plan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, attribute in plan:
        value = getattr(obj, attribute)
        # The exact-type test passes the usual values through at the cost of one set
        # lookup; anything else (enums, tuples, markets, and ill-typed values of
        # commands the engine will reject) goes through the general conversion.
        out[key] = value if type(value) in _PLAIN else _encode_value(value)
    return out


def _encode_value(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, model.Market):
        return encode_market(value)
    return value


_MARKET_PLAN = _plan(model.Market, False)
_COMMAND_PLANS = {cls: _plan(cls, True) for cls in COMMAND_TYPES.values()}


def encode_market(market: model.Market) -> dict[str, Any]:
    """A market as a JSON-safe dict (its id is implied by region and instance type)."""
    return _encode_plan(market, _MARKET_PLAN)


def encode_command(command: Command) -> dict[str, Any]:
    """``command`` as ``{"type": kind, field: value, ...}``, keys in sorted order."""
    plan = _COMMAND_PLANS.get(type(command))
    return _encode_plan(command, plan if plan is not None else _plan(type(command), True))


# One encoder for every command (``json.dumps`` with options builds one per call); no
# ``sort_keys``, as ``encode_command`` already returns its keys in sorted order.
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_SORTED = msgspec.json.Encoder(order="sorted")
# Values msgspec writes exactly as ``_JSON`` does (a float, say, it may write otherwise).
_ALIKE = frozenset({int, str, bool, type(None), model.Side, model.TimeInForce, model.Role})


_Values = Callable[[Any], tuple[Any, ...]]


def _fast_plan(cls: type) -> tuple[_Values, _Values, bytes]:
    """The values of ``cls``'s fields but ``markets``, its ``markets`` (a tuple of strings;
    none when it has no such field), and the end of its canonical JSON: ``"type"`` sorts
    after every field name, so it closes the object."""
    names = [f.name for f in fields(cls) if f.name != "markets"]
    getter = operator.attrgetter(*names)
    values = getter if len(names) > 1 else lambda obj: (getter(obj),)
    markets = operator.attrgetter("markets") if len(names) < len(fields(cls)) else _no_markets
    end = b',"type":' + _JSON(cls.kind).encode() + b"}"  # type: ignore[attr-defined]
    return values, markets, end


def _no_markets(obj: object) -> tuple[()]:
    return ()


# A market is a nested object, so the fast path takes every command but ListMarket.
_FAST = {cls: _fast_plan(cls) for cls in COMMAND_TYPES.values() if cls is not ListMarket}
assert all(max(f.name for f in fields(cls)) < "type" for cls in _FAST)
_STR = frozenset({str})  # what a tuple of markets may hold


def encode_command_json(command: Command) -> bytes:
    """``command``'s canonical JSON (the journal's payload): ``encode_command`` written
    without spaces, non-ASCII as UTF-8.

    Commands whose values have their declared types are written by msgspec straight from
    the dataclass, a fraction of the cost (the type checks run in C); anything else by
    the reference, ``json`` over :func:`encode_command`. ``tests/exchange/test_codec.py``
    holds the two to the same bytes, ill-typed values included.

    Example:
        >>> from auctioneer.exchange.commands import CancelOrder
        >>> encode_command_json(CancelOrder("o1", "ä"))
        b'{"account":"\\xc3\\xa4","order_id":"o1","ts_ns":0,"type":"cancel_order"}'
    """
    fast = _FAST.get(type(command))
    if fast is not None:
        values, markets, end = fast
        listed = markets(command)
        if (_ALIKE.issuperset(map(type, values(command))) and type(listed) is tuple
                and _STR.issuperset(map(type, listed))):
            try:
                return _SORTED.encode(command)[:-1] + end
            except ValueError:  # a lone surrogate: the reference raises its own error
                pass
    return _JSON(encode_command(command)).encode()


def encode_event(event: Event) -> dict[str, Any]:
    """``event`` as ``{"type": kind, field: value, ...}``."""
    out: dict[str, Any] = {"type": event.kind}
    for name, value in zip(event._fields, event, strict=True):
        out[name] = _encode_value(value)
    return out


def _decode(data: object, specs: Mapping[str, list[tuple[str, _Decoder, bool]]],
            classes: Mapping[str, type[_T]]) -> _T:
    if not isinstance(data, Mapping):
        raise CommandError("", data, f"{_short(data)} is not an object")
    kind = data.get("type")
    if kind is None:
        raise CommandError("type", None, "is required but missing")
    if not isinstance(kind, str) or kind not in classes:
        allowed = ", ".join(sorted(classes))
        raise CommandError("type", kind, f"{_short(kind)} is not one of {allowed}")
    return _build(classes[kind], specs[kind], data, "", _TYPE_ONLY)


def decode_command(data: object) -> Command:
    """The command encoded in ``data``; :class:`CommandError` naming the first bad field."""
    return _decode(data, _COMMAND_SPECS, COMMAND_TYPES)


def decode_event(data: object) -> Event:
    """The event encoded in ``data``; :class:`CommandError` naming the first bad field."""
    return _decode(data, _EVENT_SPECS, EVENT_TYPES)


_Int = Annotated[int, msgspec.Meta(ge=-INT_MAX, le=INT_MAX)]
_Str = Annotated[str, msgspec.Meta(min_length=1)]


def _mirror_type(hint: Any) -> Any:
    """The msgspec type that accepts exactly what :func:`_decoder` of ``hint`` accepts."""
    if hint is int:
        return _Int
    if hint is str:
        return _Str
    if hint is model.Market:
        return _MARKET_STRUCT
    origin = typing.get_origin(hint)
    if origin is tuple:
        return tuple[_Str, ...]
    if origin in (types.UnionType, typing.Union):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _mirror_type(args[0]) | None
    return hint  # bool and the enums: msgspec is as strict as the reference


def _mirror(cls: type, tag: str | None) -> type[msgspec.Struct]:
    """A msgspec struct with ``cls``'s fields, types and defaults (tagged by ``tag``)."""
    hints = typing.get_type_hints(cls)
    spec: list[Any] = []
    for f in fields(cls):
        kind = _mirror_type(hints[f.name])
        spec.append((f.name, kind) if f.default is MISSING else (f.name, kind, f.default))
    return msgspec.defstruct(cls.__name__, spec, tag=tag, tag_field="type",
                             forbid_unknown_fields=True)


_MARKET_STRUCT = _mirror(model.Market, None)
_MIRRORS = {_mirror(cls, kind): cls for kind, cls in COMMAND_TYPES.items()}
_JSON_DECODER = msgspec.json.Decoder(typing.Union[tuple(_MIRRORS)])  # noqa: UP007
_astuple = msgspec.structs.astuple


def decode_command_json(payload: bytes) -> Command:
    """The command encoded as JSON in ``payload``; :class:`CommandError` naming the first bad
    field, exactly as ``decode_command(json.loads(payload))`` would."""
    try:
        struct = _JSON_DECODER.decode(payload)
    except msgspec.DecodeError:
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise CommandError("", payload, f"not JSON: {exc}") from None
        return decode_command(data)  # raises, naming the field
    values = _astuple(struct)
    cls = _MIRRORS[type(struct)]
    if cls is ListMarket:
        values = (model.Market(*_astuple(values[0])), *values[1:])
    return cls(*values)
