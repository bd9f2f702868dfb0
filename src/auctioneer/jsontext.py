"""The project's JSON files as text: parsing, reading, errors and money out, without pydantic.

The half of :mod:`auctioneer.jsonfile` a reader needs before any model is
involved. It is its own module so that a command reading a small file
(``auctioneer clear``) can parse and report errors without importing
pydantic (about 80 ms of a 250 ms start-up budget): duplicate keys,
NaN and malformed JSON are refused here with the line and column, and
:class:`FileError` is the one-line error every file format raises.

Example:
    >>> parse_json('{"a": 1, "a": 2}', "f.json", FileError)
    Traceback (most recent call last):
      ...
    auctioneer.jsontext.FileError: f.json: key 'a' appears twice in one object
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auctioneer.money import format_money

__all__ = ["FileError", "money_json", "money_text", "parse_json", "read_json", "read_text"]


class FileError(ValueError):
    """A file that cannot be used: one line naming where and what.

    ``where`` is the location in the file (``bids[3] 'alice' bundles[1].price``,
    or ``line 4 column 7`` for malformed JSON), ``detail`` the problem with the
    value, ``source`` the file (None for in-memory data).
    """

    def __init__(self, where: str, detail: str, source: str | None = None) -> None:
        self.where = where
        self.detail = detail
        self.source = source
        parts = [p for p in (source, where) if p]
        super().__init__(": ".join([*parts, detail]))


def money_text(micros: int) -> str:
    """Micro-units as the files write them: ``"18.25"``, no symbol or separators.

    Example:
        >>> money_text(18_250_000), money_text(-1), money_text(0)
        ('18.25', '-0.000001', '0.00')
    """
    return format_money(micros, symbol="").replace(",", "")


def money_json(micros: int) -> dict[str, Any]:
    """An amount in output JSON: the text and the exact micro-units."""
    return {"amount": money_text(micros), "micros": micros}


def parse_json(text: str, source: str | None, error: type[FileError]) -> Any:
    """Parse JSON text, refusing duplicate keys and NaN/Infinity, as ``error``."""

    def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise error("", f"key {key!r} appears twice in one object", source)
            out[key] = value
        return out

    def no_constants(name: str) -> Any:
        raise error("", f"{name} is not a number JSON allows", source)

    try:
        return json.loads(text, object_pairs_hook=no_duplicate_keys, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise error(f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}",
                    source) from None


def read_json(source: str | os.PathLike[str] | Mapping[str, Any],
              error: type[FileError]) -> tuple[Any, str | None]:
    """``(data, name)`` from a path, JSON text (a ``str`` starting with ``{``) or parsed data.

    The name is the file's path, None for text and data. Unreadable files
    and non-UTF-8 bytes raise ``error`` too.
    """
    if isinstance(source, Mapping):
        return source, None
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return parse_json(source, None, error), None
    path = Path(source)
    return parse_json(read_text(path, error), str(path), error), str(path)


def read_text(path: Path, error: type[FileError]) -> str:
    """A file's UTF-8 text; an unreadable file or non-UTF-8 bytes raise ``error`` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"byte {exc.start}", "is not UTF-8 text", str(path)) from None
    except OSError as exc:
        raise error("", f"cannot read the file: {exc.strerror or exc}", str(path)) from None


