"""``auctioneer load`` on two or more trees of the code, interleaved: the A/B behind
docs/service.md's before/after tables.

``python -m tools.load_ab [--rounds 3] [--out DIR] NAME=TREE NAME=TREE ... -- LOAD_ARGS``

A TREE is a git revision of this repository (exported into ``DIR/trees/NAME`` with
``git archive`` and its C built in place by this interpreter) or a directory holding a
checkout (``.`` for this one), whose ``src`` is used as it is. Each round runs every tree
once, the order rotated by one each round so that neither always goes first on a machine
whose load drifts; each run is ``auctioneer load LOAD_ARGS --json DIR/NAME-ROUND.json``
with ``PYTHONPATH`` at the tree's ``src`` (the served process and the follower are its
children and inherit it). The host's 1-minute load is recorded before each run. It prints
every round and each tree's medians (service and follower CPU per order, orders/s, p99)
with their ratio to the first tree's, and writes them to ``DIR/summary.json``.

Example, the single-order A/B of issue 14 against main::

    python -m tools.load_ab base=main new=. -- --client wrk --batch 1 --clients 16 \\
        --fsync always --duration 10
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Run", "main", "rotation", "summarize"]

REPO = Path(__file__).resolve().parent.parent
AUCTIONEER = Path(sys.executable).with_name("auctioneer")

FIGURES = (("service_us", "service CPU µs/order"), ("follower_us", "follower CPU µs/order"),
           ("orders_per_s", "orders/s"), ("p99_ms", "p99 ms"))


@dataclass(frozen=True, slots=True)
class Run:
    """One ``auctioneer load`` run of one tree."""

    tree: str
    round: int
    load: float  # the host's 1-minute load average before the run
    service_us: float
    follower_us: float
    orders_per_s: float
    p99_ms: float

    @classmethod
    def of(cls, tree: str, round_: int, load: float, result: dict[str, object]) -> Run:
        """The figures of ``load``'s JSON ``result``."""
        cpu = result["server_cpu_us"]
        latency = result["latency_ms"]
        assert isinstance(cpu, dict) and isinstance(latency, dict)
        rate = result["orders_per_s"]
        assert isinstance(rate, float | int)
        return cls(tree, round_, load, float(cpu["service"]), float(cpu["follower"]),
                   float(rate), float(latency["p99"]))


def rotation(names: Sequence[str], round_: int) -> list[str]:
    """The trees' order in round ``round_`` (from 0): rotated by one a round.

    >>> [rotation("ab", r) for r in range(3)]
    [['a', 'b'], ['b', 'a'], ['a', 'b']]
    """
    k = round_ % len(names)
    return [*names[k:], *names[:k]]


def summarize(runs: Sequence[Run], names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each tree's median of each figure, and its ratio to the first tree's median."""
    out: dict[str, dict[str, float]] = {}
    for name in names:
        mine = [r for r in runs if r.tree == name]
        if not mine:
            raise ValueError(f"tree {name!r} has no runs")
        out[name] = {key: statistics.median(getattr(r, key) for r in mine)
                     for key, _ in FIGURES}
    base = out[names[0]]
    for name in names:
        out[name].update({f"{key}_ratio": out[name][key] / base[key] if base[key] else
                          float("nan") for key, _ in FIGURES})
    return out


def _tree(name: str, spec: str, out: Path) -> Path:
    """The checkout for ``spec``: a directory as it is, else a revision exported and built."""
    if Path(spec).is_dir() and (Path(spec) / "src" / "auctioneer").is_dir():
        return Path(spec).resolve()
    target = out / "trees" / name
    archive = subprocess.run(["git", "-C", str(REPO), "archive", spec], check=True,
                             capture_output=True).stdout
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=target,
                   check=True, stdout=subprocess.DEVNULL)
    return target


def _check_imports(name: str, tree: Path) -> None:
    """Fail unless ``tree``'s src is what its runs import (not this venv's install)."""
    where = subprocess.run([sys.executable, "-c", "import auctioneer; print(auctioneer.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(tree / "src")}, check=True,
                           capture_output=True, text=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(tree / "src"):
        raise SystemExit(f"tree {name!r}: PYTHONPATH={tree / 'src'} imports {where}")


def _parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    argv = list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m tools.load_ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", metavar="NAME=TREE")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("out/load_ab"))
    args = parser.parse_args(argv[:cut])
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {args.rounds}")
    for spec in args.trees:
        if "=" not in spec or not spec.split("=", 1)[0]:
            parser.error(f"a tree is NAME=TREE, not {spec!r}")
    if "--json" in argv[cut + 1:]:
        parser.error("--json is the tool's own (DIR/NAME-ROUND.json)")
    return args, argv[cut + 1:]


def main(argv: Sequence[str] | None = None) -> None:
    args, load_args = _parse(sys.argv[1:] if argv is None else argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    specs = dict(spec.split("=", 1) for spec in args.trees)
    names = list(specs)
    trees = {name: _tree(name, spec, out) for name, spec in specs.items()}
    for name, tree in trees.items():
        _check_imports(name, tree)
    runs: list[Run] = []
    for r in range(args.rounds):
        for name in rotation(names, r):
            path = out / f"{name}-{r}.json"
            load = os.getloadavg()[0]
            env = {**os.environ, "PYTHONPATH": str(trees[name] / "src")}
            subprocess.run([str(AUCTIONEER), "load", *load_args, "--json", str(path)],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            run = Run.of(name, r, load, json.loads(path.read_text()))
            runs.append(run)
            print(f"round {r} {name:>10}: service {run.service_us:7.1f} µs, follower "
                  f"{run.follower_us:6.1f} µs, {run.orders_per_s:9,.0f} orders/s, p99 "
                  f"{run.p99_ms:7.2f} ms (load {run.load:.1f})", flush=True)
    summary = summarize(runs, names)
    for name in names:
        print(f"{name:>10} medians: " + ", ".join(
            f"{label} {summary[name][key]:,.2f} ({summary[name][key + '_ratio']:.2f}x)"
            for key, label in FIGURES))
    (out / "summary.json").write_text(json.dumps(
        {"trees": specs, "load_args": load_args, "runs": [asdict(r) for r in runs],
         "medians": summary}, indent=2) + "\n")
    print(f"wrote {out / 'summary.json'}")


if __name__ == "__main__":
    main()
