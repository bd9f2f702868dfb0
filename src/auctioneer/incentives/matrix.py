"""The seed's mechanism comparison matrix, built from measurements only.

One row per tick structure, each running its tick mechanism (winner +
Vickrey price, :data:`~auctioneer.incentives.market.STRUCTURE_MECHANISM`):

* **time** -- tick p99 (in C, else from Python) at N = 1000 (or the nearest N
  measured) from a tick benchmark JSON (``auctioneer bench tick --json``),
  and the growth exponent of the p50 between the smallest and largest N;
* **space** -- bytes per agent at that N, from the same JSON;
* **truthful** -- the share of (value, seed) cells where truthful bidding
  was a best response, and the largest gain from misreporting;
* **Sybil** -- the gain from the most identities tried, undefended;
* **price of anarchy** -- optimal over equilibrium welfare at the worst profile
  iterated best response reached from several starts (:mod:`.equilibrium`);
* **thermal** -- whether the price rose with the thermal multiplier, and by
  how much at the largest;
* **complexity** -- code lines of C and Python (:mod:`.complexity`).

Example:
    >>> bench = {"results": [{"structure": "TierBook", "n": 1000, "bytes_per_agent": 59.4,
    ...          "in_c_ns": {"tick": {"p50": 38.0, "p99": 55.0}},
    ...          "from_python_ns": {"tick": {"p50": 185.0, "p99": 245.0}}}]}
    >>> tick_costs(bench)["TierBook"].p99_ns
    55.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from auctioneer.incentives.complexity import LineCount
from auctioneer.incentives.equilibrium import EquilibriumCell
from auctioneer.incentives.market import STRUCTURE_MECHANISM
from auctioneer.incentives.sybil import SybilCell
from auctioneer.incentives.thermal import ThermalCell
from auctioneer.incentives.truthful import TruthfulSummary
from auctioneer.tick import STRUCTURES
from auctioneer.tick.bench_record import Latency, ResultRow, TickBenchRecord

__all__ = ["MatrixRow", "TickCost", "build_matrix", "tick_costs"]

TARGET_N = 1000


@dataclass(frozen=True, slots=True)
class TickCost:
    """What the tick benchmark measured for one structure."""

    n: int
    p99_ns: float
    timer: str
    """``C`` (timed inside the extension) or ``Python`` (per call)."""
    bytes_per_agent: float
    growth: float | None
    """log(p50 at largest N / p50 at smallest N) / log(N ratio): 0 is O(1)."""


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One structure's row of the comparison matrix."""

    structure: str
    mechanism: str
    cost: TickCost | None
    truthful: TruthfulSummary
    sybil: SybilCell | None
    thermal: ThermalCell
    equilibrium: EquilibriumCell | None
    lines: LineCount

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        cost = self.cost
        return {
            "structure": self.structure,
            "mechanism": self.mechanism,
            "time": None if cost is None else {
                "n": cost.n, "tick_p99_ns": cost.p99_ns, "timer": cost.timer,
                "growth_exponent": None if cost.growth is None else round(cost.growth, 3),
            },
            "space_bytes_per_agent": None if cost is None else cost.bytes_per_agent,
            "truthful_best_response_share": round(self.truthful.truthful_share, 4),
            "max_misreport_gain": round(self.truthful.max_gain, 3),
            "sybil_gain": None if self.sybil is None else {
                "identities": self.sybil.identities, **self.sybil.gain.to_dict()
            },
            "price_of_anarchy": None if self.equilibrium is None
            or self.equilibrium.price_of_anarchy is None
            else round(self.equilibrium.price_of_anarchy, 6),
            "thermal_aware": self.thermal.aware,
            "thermal_price_response": None if self.thermal.response is None
            else round(self.thermal.response, 4),
            "c_lines": self.lines.c_lines,
            "c_functions": self.lines.c_functions,
            "python_lines": self.lines.python_lines,
        }


def tick_costs(bench: object) -> dict[str, TickCost]:
    """Per structure, the tick p99 and memory at N = 1000 (or nearest) from bench JSON.

    ValueError naming the result and field when the JSON lacks what is needed.
    """
    rows: dict[str, dict[int, ResultRow]] = {}
    for row in TickBenchRecord.parse(bench).results:
        if row.structure in STRUCTURES:  # not the pure-Python baselines
            rows.setdefault(row.structure, {})[row.n] = row
    costs = {}
    for name, by_n in rows.items():
        n = min(by_n, key=lambda size: (abs(math.log(size / TARGET_N)), size))
        row = by_n[n]
        timer = "C" if row.in_c_ns is not None else "Python"

        def tick(r: ResultRow) -> Latency:
            return (r.in_c_ns or r.from_python_ns).tick

        growth = None
        low, high = min(by_n), max(by_n)
        if high > low:
            p50 = [tick(by_n[s]).p50 for s in (low, high)]
            if p50[0] > 0 and p50[1] > 0:
                growth = math.log(p50[1] / p50[0]) / math.log(high / low)
        costs[name] = TickCost(n, tick(row).p99, timer, row.bytes_per_agent, growth)
    return costs


def build_matrix(
    costs: dict[str, TickCost],
    truthful: dict[str, TruthfulSummary],
    sybil: dict[str, SybilCell],
    thermal: dict[str, ThermalCell],
    equilibrium: dict[str, EquilibriumCell],
    lines: dict[str, LineCount],
) -> tuple[MatrixRow, ...]:
    """One row per structure; the dicts are keyed by mechanism (structure for costs, lines)."""
    rows = []
    for structure in STRUCTURES:
        mechanism = STRUCTURE_MECHANISM[structure]
        rows.append(MatrixRow(
            structure=structure,
            mechanism=mechanism,
            cost=costs.get(structure),
            truthful=truthful[mechanism],
            sybil=sybil.get(mechanism),
            thermal=thermal[mechanism],
            equilibrium=equilibrium.get(mechanism),
            lines=lines[structure],
        ))
    return tuple(rows)
