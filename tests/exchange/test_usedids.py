"""The used ids' compact form (usedids.py), and snapshots of version 1 (each id listed)
opening through the migration."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import Exchange, NativeExchange
from auctioneer.exchange import commands as c
from auctioneer.exchange.durable import load_snapshot
from auctioneer.exchange.files import write_atomic
from auctioneer.exchange.model import Market, Role, Side
from auctioneer.exchange.snapshot import Saved, canonical_json, encode_saved
from auctioneer.exchange.usedids import TAIL_DIGITS, compact_ids, expand_ids, split_id

HEXISH = st.text("0123456789abcdefg-_\u00e9", max_size=8)
IDS = st.sets(st.one_of(st.text(max_size=6), HEXISH,
                        st.integers(0, 2**64).map(lambda n: f"o{n:x}"),
                        st.integers(0, 99).map(lambda n: f"c{n}")))


@given(st.one_of(st.text(), HEXISH))
def test_an_id_splits_into_a_stem_and_a_number_that_give_it_back(order_id: str) -> None:
    split = split_id(order_id)
    if split is None:
        assert not order_id or order_id[-1] not in "0123456789abcdef"
    else:
        stem, number = split
        assert stem + format(number, "x") == order_id
        assert number < 16**TAIL_DIGITS


@given(IDS, st.randoms())
def test_the_compact_form_is_one_per_set_and_expands_to_it(ids: set[str], rng: object) -> None:
    listed = sorted(ids)
    rng.shuffle(listed)  # type: ignore[attr-defined]
    compact = compact_ids(listed)
    assert compact == compact_ids(sorted(ids))
    assert expand_ids(compact) == ids
    runs = compact["runs"]
    assert runs == sorted(runs) and all(count > 1 for *_, count in runs)
    singles = [split for split in map(split_id, compact["ids"]) if split is not None]
    spans = sorted([(stem, first, first + count) for stem, first, count in runs]
                   + [(stem, n, n + 1) for stem, n in singles])
    for (stem, _, end), (stem2, start, _) in zip(spans, spans[1:], strict=False):
        assert stem != stem2 or end < start  # maximal: no two runs (or ids) touch


def test_the_services_ids_make_a_run_per_batch() -> None:
    stamps = [1_700_000_000_000_000_000 + batch * 10**6 + i
              for batch in range(50) for i in range(200)]
    assert len(compact_ids(f"o{ts:x}" for ts in stamps)["runs"]) == 50


def v1_file(directory: Path, seq: int, ex: Exchange) -> bytes:
    """A snapshot file as version 1 wrote it: each used id listed, sorted."""
    state = {**ex.snapshot(), "version": 1, "used_ids": sorted(ex._used_ids)}
    data = encode_saved(Saved(seq, hashlib.sha256(canonical_json(state)).hexdigest(), state))
    write_atomic(directory / f"snapshot-{seq:020d}.json", data)
    return data


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 40).map(lambda n: f"o{n:x}"), max_size=30))
def test_a_version_1_snapshot_opens_as_the_same_state(tmp_path_factory: object,
                                                        ids: list[str]) -> None:
    directory = tmp_path_factory.mktemp("v1")  # type: ignore[attr-defined]
    m = Market.of("r/x", tick_size=1, base_price=5)
    commands: list[c.Command] = [c.ListMarket(m), c.OpenAccount("t", Role.TRADER),
                                 c.Deposit("t", 10**6)]
    commands += [c.PlaceOrder(i, "t", Side.BUY, (m.id,), 3, 1) for i in ids]
    ex = Exchange()
    ex.apply_many(commands)
    v1_file(directory, 5, ex)
    for engine in (Exchange, NativeExchange):
        loaded = load_snapshot(directory, engine_class=engine)
        assert loaded is not None and loaded[0] == 5
        restored = loaded[1]
        assert restored.state_hash() == ex.state_hash()
        assert restored.snapshot()["version"] == 2
        again = restored.apply(c.PlaceOrder(ids[0] if ids else "o0", "t", Side.BUY, (m.id,), 3, 1))
        assert (again[0].kind == "rejected") == bool(ids)  # a used id stays refused


def test_a_damaged_version_1_snapshot_is_passed_over(tmp_path: Path) -> None:
    ex = Exchange()
    ex.apply_many([c.OpenAccount("t", Role.TRADER), c.Deposit("t", 9)])
    data = v1_file(tmp_path, 3, ex)
    (tmp_path / f"snapshot-{3:020d}.json").write_bytes(data.replace(b'"t"', b'"u"'))
    assert load_snapshot(tmp_path) is None
