"""The used order ids as a snapshot holds them: runs of consecutive numbers, and the rest.

A used id is refused forever, so a snapshot must name every id ever used;
listed one by one, that list (and the CPU to write and hash it) grows with
the service's life. Ids are often counters -- the service's own are ``o``
and its rising stamp in hex, a batch's orders consecutive stamps; a
client's are often ``name-1``, ``name-2`` -- so the form here splits each id
into a *stem* and a number in its hex tail, and lists each stem's maximal
runs of consecutive numbers as ``[stem, first, count]``:

* the tail is the id's last (up to :data:`TAIL_DIGITS`) characters that are
  lowercase hex digits, less its leading zeros (but a last ``0``); the stem is
  what precedes it, so ``stem + format(number, "x")`` is the id again, and
  each id has exactly one split;
* an id with no such tail (it ends in anything else), and a number with no
  neighbour, is listed whole (a run of one would be longer).

``{"ids": [...], "runs": [[stem, first, count], ...]}``, both sorted by stem,
then (for ``ids``, an id with no tail first) by number, is then one canonical
form per set of ids, so the state hash stays a function of the state. Decimal counters compress
too, in runs of up to ten (``9`` and ``10`` are not neighbours in hex).
``engine_snapshot.c`` writes the same form from the C engine's id table.

Example:
    >>> compact_ids(["o1f", "o20", "o21", "x", "o9", "o8", "b-007", "o"])
    {'ids': ['b-007', 'o', 'x'], 'runs': [['o', 8, 2], ['o', 31, 3]]}
    >>> sorted(expand_ids(compact_ids(["o1f", "o20", "a00"])))
    ['a00', 'o1f', 'o20']
"""

from __future__ import annotations

from typing import Any

__all__ = ["TAIL_DIGITS", "compact_ids", "expand_ids", "split_id"]

TAIL_DIGITS = 15
"""Hex digits of an id's number at most, so a run's numbers fit 64 bits (60 bits)."""
_HEX = "0123456789abcdef"


def split_id(order_id: str) -> tuple[str, int] | None:
    """``(stem, number)`` with ``stem + format(number, "x") == order_id``; None when the id
    does not end in a lowercase hex digit."""
    body = order_id.rstrip(_HEX)
    tail = order_id[max(len(body), len(order_id) - TAIL_DIGITS):]
    if not tail:
        return None
    digits = tail.lstrip("0") or "0"
    return order_id[:len(order_id) - len(digits)], int(digits, 16)


def compact_ids(ids: Any) -> dict[str, list[Any]]:
    """The canonical compact form of the set of ids ``ids`` (an iterable of str)."""
    numbered: dict[str, list[int]] = {}
    whole: list[tuple[str, int, int, str]] = []  # (stem, 0, 0, id) or (stem, 1, number, id)
    for order_id in ids:
        split = split_id(order_id)
        if split is None:
            whole.append((order_id, 0, 0, order_id))
        else:
            numbered.setdefault(split[0], []).append(split[1])
    runs: list[list[Any]] = []
    for stem in numbered:
        numbers = sorted(numbered[stem])
        first = previous = numbers[0]
        for n in [*numbers[1:], -1]:
            if n != previous + 1:
                if previous == first:  # no neighbour: listed whole, as long as a run of one
                    whole.append((stem, 1, first, stem + format(first, "x")))
                else:
                    runs.append([stem, first, previous - first + 1])
                first = n
            previous = n
    return {"ids": [order_id for *_, order_id in sorted(whole)], "runs": sorted(runs)}


def expand_ids(compact: dict[str, Any]) -> set[str]:
    """The ids :func:`compact_ids` listed as ``compact``; ValueError when it is malformed (a
    stem whose ids would split otherwise shows as a different state hash instead)."""
    whole = compact["ids"]
    if not all(type(i) is str for i in whole):
        raise ValueError("a used id is not a str")
    out = set(whole)
    for stem, first, count in compact["runs"]:
        if (type(stem) is not str or type(first) is not int or type(count) is not int
                or first < 0 or count < 1 or first + count > 16**TAIL_DIGITS):
            raise ValueError(f"bad run of used ids {[stem, first, count]!r}")
        # printf-style formatting in C, not a Python call per id
        out.update(map((stem.replace("%", "%%") + "%x").__mod__, range(first, first + count)))
    return out
