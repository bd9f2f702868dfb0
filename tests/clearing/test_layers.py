"""clearing/ imports one way: model -> knapsack form -> estimate -> dp -> solve -> vcg/kbest.

Every module has a layer; an import of another clearing module (at the top
or inside a function) must reach a strictly lower layer: no cycle can form.
"""

from __future__ import annotations

import ast
from pathlib import Path

import auctioneer.clearing

LAYERS = {
    "model": 0, "result": 0, "limits": 0,
    "knapsack": 1, "allocation": 1, "two_sided": 1, "generate": 1,
    "sparse": 1, "reader": 1, "schema": 1,
    "estimate": 2, "brute": 2, "bnb": 2, "io": 2, "report": 2, "dense": 2, "certificate": 2,
    "dp": 3, "milp": 3,
    "solve": 4, "rounding": 4,
    "vcg": 5, "kbest": 5,
    "core": 6,
    "bench_auto": 7, "bench_model": 8, "bench": 9, "bench_report": 10,
    "__init__": 11,
}
PACKAGE = Path(auctioneer.clearing.__file__).parent


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("auctioneer.clearing."):
                found.add(name.split(".")[2])
    return found


def test_every_module_has_a_layer() -> None:
    assert {p.stem for p in PACKAGE.glob("*.py")} == set(LAYERS)


def test_imports_go_down_the_layers() -> None:
    upward = [
        f"{path.stem} (layer {LAYERS[path.stem]}) imports {name} (layer {LAYERS[name]})"
        for path in sorted(PACKAGE.glob("*.py"))
        for name in sorted(_imports(path))
        if LAYERS[name] >= LAYERS[path.stem]
    ]
    assert not upward, upward
