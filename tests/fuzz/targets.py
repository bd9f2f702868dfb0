"""Fuzz targets: every file loader, the journal and snapshot readers, the command codec.

Each target is a hypothesis test whose contract is the reader's documented error and
nothing else: bad input raises that one error type (naming the place), good input loads.
Inputs are structure-aware -- a real example document with up to a few leaves replaced by
hostile values (2**63, 10**30, NaN, deep nesting, wrong types) or keys dropped, or a valid
journal or snapshot with bytes flipped, cut or spliced (with checksums recomputed, so the
decoder behind them is reached) -- plus raw text and bytes.

``tests/fuzz/run.py`` drives them for a time budget (``make fuzz``), under atheris when it is
installed (coverage-guided, through hypothesis' ``fuzz_one_input``), else on random buffers;
``test_smoke.py`` runs each briefly inside ``make test``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auctioneer import exchange as ex
from auctioneer.clearing.io import AuctionFileError, loads_auction
from auctioneer.clock.io import MarketFileError, loads_market
from auctioneer.exchange.codec import (
    CommandError,
    decode_command,
    decode_command_json,
    encode_command,
)
from auctioneer.exchange.durable import restore_saved, split_saved
from auctioneer.exchange.journal import JournalError, encode_record, replay
from auctioneer.exchange.snapshot import Saved, decode_saved, encode_saved
from auctioneer.sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=20, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

# Values that broke loaders before (issue 12) and their kin.
HOSTILE = st.sampled_from([
    2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 10**30, -(10**30), 2**64, 0, -1, 1,
    float("nan"), float("inf"), -0.0, 1e400, 0.5, True, False, None, "", "0", "-1",
    "9" * 40, "1e400", "NaN", ".nan", "$-0.000001", "1,000,000.0000001", "\x00", "é",
    [], {}, [[[[[[]]]]]], {"": None},
])
LEAF = st.one_of(HOSTILE, st.integers(), st.floats(), st.text(max_size=20), st.booleans(),
                 st.none())
JSONISH = st.recursive(LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    if drop and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def mutations(example: Any) -> st.SearchStrategy[Any]:
    """``example`` with up to four places replaced by hostile values or dropped."""
    paths = _paths(example)

    @st.composite
    def mutated(draw: st.DrawFn) -> Any:
        doc = copy.deepcopy(example)
        for _ in range(draw(st.integers(0, 4))):
            live = [p for p in _paths(doc) if p in paths or not p]
            path = draw(st.sampled_from(live))
            try:
                doc = _set(doc, path, draw(JSONISH), draw(st.booleans()))
            except (KeyError, IndexError, TypeError):
                continue  # the path went away with an earlier change
        return doc

    return mutated()


def _example(name: str) -> Any:
    text = (ROOT / "examples" / name).read_text()
    return yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)


def _text_of(doc: Any) -> str:
    return json.dumps(doc, allow_nan=True)


# ------------------------------------------------------------------ file loaders

CLEARING = _example("clearing/office.json")
CLOCK = _example("clock/planet.json")
SCENARIO = _example("sim/steady.yaml")


@FUZZ
@given(st.one_of(mutations(CLEARING).map(_text_of), st.text(max_size=200)))
def clearing_json(text: str) -> None:
    """``loads_auction`` raises only AuctionFileError."""
    with contextlib.suppress(AuctionFileError):
        loads_auction(text, "fuzz.json")


@FUZZ
@given(st.one_of(mutations(CLOCK).map(_text_of), st.text(max_size=200)))
def clock_json(text: str) -> None:
    """``loads_market`` raises only MarketFileError."""
    with contextlib.suppress(MarketFileError):
        loads_market(text, "fuzz.json")


def _yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True) + "\n"


@FUZZ
@given(st.one_of(mutations(SCENARIO).map(_yaml), st.text(max_size=200).map(lambda t: t + "\n")))
def scenario_yaml(text: str) -> None:
    """``load_scenario`` raises only ScenarioError."""
    with contextlib.suppress(ScenarioError):
        load_scenario(text)


# ------------------------------------------------------------------ the codec

M = ex.Market.of("us-east-1/gpu.a100", tick_size=10, base_price=1_000)
_GTC, _IOC = ex.TimeInForce.GTC, ex.TimeInForce.IOC
COMMANDS = [ex.ListMarket(M, 1), ex.OpenAccount("t", ex.Role.TRADER, 2),
            ex.Deposit("t", 10**9, 3), ex.OpenAccount("p", ex.Role.PROVIDER, 4),
            ex.AddCapacity("p", M.id, 10, 5),
            ex.PlaceOrder("s", "p", ex.Side.SELL, (M.id,), 100, 4, _GTC, False, False, 6),
            ex.PlaceOrder("b", "t", ex.Side.BUY, (M.id,), 120, 6, _IOC, True, False, 7),
            ex.ModifyOrder("s", "p", 110, 3, 8), ex.CancelOrder("s", "p", 9),
            ex.Withdraw("t", 5, 10), ex.Tick(11)]
ENCODED = [encode_command(c) for c in COMMANDS]


@FUZZ
@given(st.one_of(st.sampled_from(ENCODED).flatmap(mutations), JSONISH))
def command_codec(data: Any) -> None:
    """Both decoders agree: the same command, or CommandError naming the same field; a
    decoded command encodes back to the document it came from."""
    payload = _text_of(data).encode()
    try:
        reference: Any = decode_command(json.loads(payload))
    except CommandError as exc:
        reference = exc.args
    except ValueError:  # not JSON at all (NaN is JSON to neither)
        reference = None
    try:
        fast: Any = decode_command_json(payload)
    except CommandError as exc:
        fast = exc.args
    if reference is not None:
        assert fast == reference, (payload, fast, reference)
    if not isinstance(fast, tuple):
        assert decode_command(encode_command(fast)) == fast


# ------------------------------------------------------------------ journal, snapshot

_HEADER = struct.Struct("<IIQ")
_SEQ = struct.Struct("<Q")
JOURNAL = b"".join(encode_record(i + 1, c) for i, c in enumerate(COMMANDS))


def _record(seq: int, payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq))),
                        seq) + payload


@st.composite
def journals(draw: st.DrawFn) -> list[bytes]:
    """One to three segments: real records, some payloads mutated (checksums made right),
    then bytes flipped, cut or spliced."""
    records = []
    for i, command in enumerate(COMMANDS):
        payload = _text_of(encode_command(command)).encode()
        if draw(st.integers(0, 9)) == 0:
            payload = _text_of(draw(mutations(encode_command(command)))).encode()
        seq = i + 1 + draw(st.sampled_from([0, 0, 0, 0, 1, -1, 2**40]))
        records.append(_record(max(seq, 0), payload))
    data = bytearray(b"".join(records))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(max_size=32))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=2)))
    bounds = [0, *cuts, len(data)]
    return [bytes(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


@FUZZ
@given(journals())
def journal_reader(parts: list[bytes]) -> None:
    """``replay`` raises only JournalError, and what it yields is in sequence."""
    with tempfile.TemporaryDirectory() as tmp:
        first = 1
        for part in parts:
            (Path(tmp) / f"journal-{first:020d}.log").write_bytes(part)
            first += 1 + len(part) // 64
        try:
            seqs = [seq for seq, _ in replay(tmp)]
        except JournalError:
            return
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True


def _snapshot_state() -> dict[str, Any]:
    exchange = ex.Exchange()
    for command in COMMANDS[:7]:
        exchange.apply(command)
    return exchange.snapshot()


STATE = _snapshot_state()


def _resealed(state: Any) -> bytes:
    """A saved state whose hash matches what it restores to, so restoring is reached."""
    try:
        digest = ex.Exchange.restore(state).state_hash()
    except Exception:  # noqa: BLE001 - an unrestorable state keeps any hash
        digest = "0" * 64
    return encode_saved(Saved(7, digest, state, {}))


@FUZZ
@given(st.one_of(mutations(STATE).map(_resealed),
                 st.binary(max_size=200),
                 st.builds(lambda b, i, x: b[:i] + x + b[i + 1:],
                           st.just(encode_saved(Saved(7, "0" * 64, STATE, {}))),
                           st.integers(0, 400), st.binary(max_size=4))))
def snapshot_reader(data: bytes) -> None:
    """Decoding and restoring a saved state raises only ValueError; read whole, or with its
    open orders and used ids read from the bytes in C (``split_saved``), it restores to the
    same state or fails alike."""
    hashes = []
    for split in (None, split_saved):
        try:
            parts = None if split is None else split(data)
            saved = decode_saved(data) if parts is None else parts[0]
            hashes.append(restore_saved(saved, None, None if parts is None else parts[1])
                          .state_hash())
        except ValueError:
            hashes.append("ValueError")
    assert hashes[0] == hashes[1]


TARGETS: dict[str, Callable[..., None]] = {
    "clearing_json": clearing_json,
    "clock_json": clock_json,
    "scenario_yaml": scenario_yaml,
    "command_codec": command_codec,
    "journal_reader": journal_reader,
    "snapshot_reader": snapshot_reader,
}
