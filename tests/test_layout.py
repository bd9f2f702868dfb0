"""House rules a reviewer would otherwise check by hand (docs/architecture.md).

import-linter (``make lint``) enforces the layers and the absence of cycles
between areas, but it sees only Python modules and only module names. The
rest is checked here: no area uses another area's private names (functions,
constants, native extension modules), and no module grows past about 600
lines without a stated reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import auctioneer

SRC = Path(auctioneer.__file__).parent
MAX_LINES = 600
# Modules allowed past MAX_LINES, and why. A module that shrinks below the
# limit must leave this table (tested), so it cannot go stale.
LONG_MODULES = {
    "tick/tick_core.c": "the tick market's C core: the four bid structures share one block "
                        "layout and inline helpers, kept in one translation unit so they inline",
    "tick/_core.c": "the CPython binding of the five tick structures: their shared type, "
                    "spec table, methods and argument checks, which must reproduce the pure-"
                    "Python reference's errors exactly (CPython's messages included)",
}


def private_uses(text: str, area: str) -> list[str]:
    """Imported names, in a module of ``area``, that reach a private part of another area."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module:
            targets = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            if parts[0] != "auctioneer" or len(parts) < 3 or parts[1] == area:
                continue
            if any(p.startswith("_") and not p.startswith("__") for p in parts[2:]):
                found.append(target)
    return found


def _area(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else ""


def test_no_area_imports_another_areas_private_names() -> None:
    uses = [f"{path.relative_to(SRC)}: {use}" for path in sorted(SRC.rglob("*.py"))
            for use in private_uses(path.read_text(encoding="utf-8"), _area(path))]
    assert uses == []


def test_private_uses_sees_modules_names_and_lazy_imports() -> None:
    text = ("from auctioneer.tick import _core\n"
            "import auctioneer.tick._ring\n"
            "def f():\n    from auctioneer.thermal.coupling import _bin_pm, DEMAND_BIN_PM\n"
            "from auctioneer.sim.run import _once\n"
            "from auctioneer.exchange import __all__\n")
    assert private_uses(text, "sim") == ["auctioneer.tick._core", "auctioneer.tick._ring",
                                         "auctioneer.thermal.coupling._bin_pm"]


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_over_600_lines_without_a_reason() -> None:
    modules = [p for p in SRC.rglob("*") if p.suffix in {".py", ".c", ".h"}]
    long = {str(p.relative_to(SRC)): _lines(p) for p in modules if _lines(p) > MAX_LINES}
    assert sorted(set(long) - set(LONG_MODULES)) == [], long
    # An exception that no longer applies must go, so the table stays true.
    assert sorted(set(LONG_MODULES) - set(long)) == []
