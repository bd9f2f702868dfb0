"""JSON records of benchmark results: a dataclass's fields as builtins, and the file.

Every ``auctioneer bench`` result has a ``to_dict()``; :func:`write_json`
writes it, indented, one trailing newline, creating the folder.

Example:
    >>> from auctioneer.measure.target import Target
    >>> fields_dict(Target("p99 <= 50 ns", True, "31 ns"))
    {'name': 'p99 <= 50 ns', 'passed': True, 'detail': '31 ns'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Recordable", "fields_dict", "write_json", "write_png"]


class Recordable(Protocol):
    """A result that renders itself as JSON-ready builtins."""

    def to_dict(self) -> dict[str, Any]:
        """Everything worth keeping, as builtins."""
        ...


def fields_dict(obj: Any) -> dict[str, Any]:
    """A dataclass instance's fields by name, tuples as lists (one level, not deep)."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def write_json(result: Recordable | Mapping[str, Any], path: Path) -> None:
    """Write ``result.to_dict()`` (or a mapping as it is) to ``path`` as indented JSON,
    one trailing newline, creating its folder."""
    data = result if isinstance(result, Mapping) else result.to_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def write_png(figure: Any, path: Path, dpi: int = 110) -> None:
    """Save a matplotlib ``figure`` to ``path`` as PNG, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, format="png")
