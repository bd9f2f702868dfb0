"""The order-id table's keyed hash (``eb_hash`` in ``engine_names.c``, seen through
``_engine.id_hash``): keyed by the interpreter's hash secret, and spreading structured and
adversarial id sets over the table's buckets and tags as a random function would -- in
particular a set built to collide in the buckets of Python's own str hash, which is what the
reference engine's used-id set hashes with."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.exchange._engine import id_hash

pytestmark = pytest.mark.native

BITS = 12
"""Buckets 2**BITS: a table of a couple of thousand ids at the engine's half load."""
IDS = (1 << BITS) // 2


def _displacement(hashes: list[int]) -> int:
    """Steps past the home bucket, summed, of these hashes put in turn into a table of
    2**BITS buckets by linear probing (the id table probes its groups of buckets so)."""
    mask = (1 << BITS) - 1
    taken = [False] * (mask + 1)
    steps = 0
    for h in hashes:
        at = h & mask
        while taken[at]:
            at = (at + 1) & mask
            steps += 1
        taken[at] = True
    return steps


def _no_worse_than_pythons(ids: list[str]) -> None:
    """The ids' probes here are within 1.5x of those under Python's str hash (a random
    function of the ids, as this process's seed is random), and no two ids share a hash."""
    hashes = [id_hash(i) for i in ids]
    assert len(set(hashes)) == len(set(ids))
    assert _displacement(hashes) <= 1.5 * _displacement([hash(i) for i in ids])
    assert len({h >> 57 for h in hashes}) == 128  # the tags: the top 7 bits


def _colliding_in_python(count: int) -> list[str]:
    """Ids that all share one bucket of Python's str hash under PYTHONHASHSEED=0 (the one
    seed an attacker knows): what a flood against the reference's set would send."""
    code = ("import sys\nn, bits = int(sys.argv[1]), int(sys.argv[2])\nout, i = [], 0\n"
            "while len(out) < n:\n    s = f'id{i}'\n    i += 1\n"
            "    if hash(s) & ((1 << bits) - 1) == 0:\n        out.append(s)\n"
            "print('\\n'.join(out))\n")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-c", code, str(count), "8"], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout.split()


FAMILIES: dict[str, Callable[[int], list[str]]] = {
    "sequential": lambda n: [f"o{i}" for i in range(n)],
    "zero-padded": lambda n: [f"order-{i:012d}" for i in range(n)],
    "one byte apart at each place": lambda n: [
        "".join(chr(48 + (i >> 6) % 64) if p == i % 40 else "a" for p in range(40))
        for i in range(n)],
    "trailing NULs": lambda n: ["x" + "\0" * i for i in range(n % 100)] + [
        f"{i}\0" for i in range(n - n % 100)],
    "word multiples": lambda n: [(i * 2**32).to_bytes(8, "little").decode("latin-1")
                                 for i in range(n)],
    "long (SipHash)": lambda n: [f"{i:0200d}" for i in range(n)],
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_structured_ids_spread_as_at_random(family: str) -> None:
    _no_worse_than_pythons(FAMILIES[family](IDS))


def test_a_flood_against_pythons_hash_spreads_here() -> None:
    _no_worse_than_pythons(_colliding_in_python(IDS))


def _hashes_under(seed: str, ids: list[str]) -> list[int]:
    code = ("import sys\nfrom auctioneer.exchange._engine import id_hash\n"
            "print(*(id_hash(s) for s in sys.argv[1:]))")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", code, *ids], env=env, check=True,
                          capture_output=True, text=True)
    return [int(h) for h in done.stdout.split()]


def test_keyed_by_the_interpreters_hash_seed() -> None:
    ids = ["o1", "o2", "a" * 17, "x" * 300]
    one = _hashes_under("1", ids)
    assert one == _hashes_under("1", ids)
    other = _hashes_under("2", ids)
    assert all(a != b for a, b in zip(one, other, strict=True))


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=140)


@given(_TEXT, _TEXT)
def test_the_same_id_the_same_hash_and_another_id_another(a: str, b: str) -> None:
    assert id_hash(a) == id_hash("".join(a))
    assert (id_hash(a) == id_hash(b)) == (a == b)


def test_refuses_what_has_no_utf8() -> None:
    with pytest.raises(TypeError, match="id_hash"):
        id_hash("\ud800")
