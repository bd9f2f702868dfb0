"""Comma-separated size lists, as every ``auctioneer bench`` option takes them.

One rule for all of them: items are trimmed, an empty item is an error, and
the result is sorted without repeats; each error names the item (or the
whole text) so the user sees what to fix.

Example:
    >>> parse_int_list("1000, 10,100,10", "size", 1, 10_000, "10,100,1000")
    (10, 100, 1000)
    >>> parse_int_list("10,,100", "size", 1, 10_000, "10,100,1000")
    Traceback (most recent call last):
    ...
    ValueError: '10,,100' has an empty item; give e.g. 10,100,1000
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["int_item", "parse_int_list", "parse_list"]

T = TypeVar("T", int, tuple[int, int])


def int_item(what: str, low: int, high: int) -> Callable[[str], int]:
    """A parser of one integer item in ``low..high``; its ValueError names ``what`` and the item."""
    def parse(item: str) -> int:
        try:
            value = int(item)
        except ValueError:
            raise ValueError(f"{what} {item!r} is not an integer") from None
        if not low <= value <= high:
            raise ValueError(f"{what} {item!r} is out of range {low}..{high}")
        return value

    return parse


def parse_list(text: str, what: str, item: Callable[[str], T], example: str, *,
               empty_ok: bool = False) -> tuple[T, ...]:
    """The items of ``text``, each parsed by ``item``, sorted, without repeats.

    A blank ``text`` is no items when ``empty_ok`` (a series left out), else
    an error naming ``what`` was missing; ``example`` shows a valid list.
    """
    if not text.strip():
        if empty_ok:
            return ()
        raise ValueError(f"{text!r} names no {what}; give e.g. {example}")
    values: list[T] = []
    for part in (part.strip() for part in text.split(",")):
        if not part:
            raise ValueError(f"{text!r} has an empty item; give e.g. {example}")
        values.append(item(part))
    return tuple(sorted(set(values)))


def parse_int_list(text: str, what: str, low: int, high: int, example: str, *,
                   empty_ok: bool = False) -> tuple[int, ...]:
    """Integers in ``low..high`` from ``text``, e.g. ``"10,100,1000"``, sorted, without repeats."""
    return parse_list(text, what, int_item(what, low, high), example, empty_ok=empty_ok)
