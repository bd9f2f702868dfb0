"""Implementation complexity, counted: lines of C and Python each tick structure needs.

For C, ``tick_core.c`` is split into its top-level functions; a structure's
code is its own functions (``tiers_*``, ``lazy_*``, ``sampled_*``,
``tourney_*``, ``heap_*``) and every function they call, transitively
(shared helpers count for each structure that uses them). For Python, the
structure's class in :mod:`auctioneer.tick.reference` plus the shared base
class. Invariant checkers (``*_check``) are test support and do not count.
Lines are code lines: blank lines and comment- or docstring-only
lines do not count.

Example:
    >>> counts = count_lines()
    >>> sorted(counts) == sorted(STRUCTURE_PREFIX)
    True
    >>> counts["TierBook"].c_lines > 0
    True
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import auctioneer.tick

__all__ = ["STRUCTURE_PREFIX", "LineCount", "c_functions", "count_lines"]

STRUCTURE_PREFIX = {
    "TierBook": "tiers_",
    "LazyHeap": "lazy_",
    "TournamentTree": "tourney_",
    "SampledTopK": "sampled_",
    "IndexedHeap": "heap_",
}
"""Each structure's function prefix in ``tick_core.c``."""

_DEFINITION = re.compile(r"^[A-Za-z_][\w \*]*?\b([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True, slots=True)
class LineCount:
    """Code lines of one structure."""

    c_lines: int
    c_functions: int
    python_lines: int


def _code_lines(text: str) -> int:
    """Lines with code once C comments are removed."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    text = re.sub(r"//[^\n]*", "", text)
    return sum(1 for line in text.splitlines() if line.strip())


def c_functions(source: str) -> dict[str, str]:
    """Every top-level function definition in C ``source``: name to its text.

    A definition starts at column 0 and its body ends at the first ``}`` back
    at column 0 (the house style of ``tick_core.c``).
    """
    out: dict[str, str] = {}
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        match = _DEFINITION.match(lines[i])
        if match is None or lines[i].rstrip().endswith(";"):
            i += 1
            continue
        end = i
        while end < len(lines) and lines[end] != "}":
            if lines[end].rstrip().endswith(";") and end == i:
                break
            end += 1
        body = "\n".join(lines[i:end + 1])
        if "{" in body:
            out[match.group(1)] = body
        i = end + 1
    return out


def _closure(functions: dict[str, str], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        body = functions[name].split("{", 1)[1]
        todo.extend(c for c in _CALL.findall(body) if c in functions and c not in seen)
    return seen


def _python_lines(source: str, classes: tuple[str, ...]) -> int:
    tree = ast.parse(source)
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in classes:
            docstrings = {
                n.body[0].value.lineno
                for n in ast.walk(node)
                if isinstance(n, ast.ClassDef | ast.FunctionDef) and n.body
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
            }
            checks = {
                n for c in ast.walk(node) if isinstance(c, ast.FunctionDef) and c.name == "_check"
                for n in range(c.lineno, (c.end_lineno or c.lineno) + 1)
            }
            for child in ast.walk(node):
                if isinstance(child, ast.stmt) and child.lineno not in docstrings:
                    span = range(child.lineno, (child.end_lineno or child.lineno) + 1)
                    lines.update(n for n in span if n not in checks)
            source_lines = source.splitlines()
            lines = {n for n in lines if not source_lines[n - 1].strip().startswith("#")}
    text = source.splitlines()
    return sum(1 for n in lines if text[n - 1].strip())


def count_lines(package: Path | None = None) -> dict[str, LineCount]:
    """Code lines per structure, read from ``tick_core.c`` and ``reference.py``."""
    root = package or Path(auctioneer.tick.__file__).parent
    functions = c_functions((root / "tick_core.c").read_text(encoding="utf-8"))
    python = (root / "reference.py").read_text(encoding="utf-8")
    counts = {}
    for structure, prefix in STRUCTURE_PREFIX.items():
        # The operations a port needs; the invariant checkers are test support.
        own = [name for name in functions
               if name.startswith(prefix) and not name.endswith("_check")]
        used = _closure(functions, own)
        counts[structure] = LineCount(
            c_lines=sum(_code_lines(functions[name]) for name in used),
            c_functions=len(used),
            python_lines=_python_lines(python, ("_Book", structure)),
        )
    return counts
