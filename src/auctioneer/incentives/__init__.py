"""Incentive experiments on the tick mechanisms: can an agent gain by lying, splitting or colluding?

``auctioneer experiment incentives`` runs them all. The parts:

* :mod:`~auctioneer.incentives.rules` -- the tick mechanisms vectorised over
  many small auctions, equal to the reference books (tested);
* :mod:`~auctioneer.incentives.market` -- the mechanisms studied, the
  bidders and the parameters;
* :mod:`~auctioneer.incentives.truthful` -- best responses over shaded and
  inflated bids;
* :mod:`~auctioneer.incentives.sybil` -- one agent as k identities;
* :mod:`~auctioneer.incentives.collusion` -- bid rotation and all-low rings;
* :mod:`~auctioneer.incentives.equilibrium` -- iterated best response among
  symmetric bidders and the price of anarchy;
* :mod:`~auctioneer.incentives.thermal` -- does the price follow a thermal
  multiplier;
* :mod:`~auctioneer.incentives.complexity` -- code lines per structure;
* :mod:`~auctioneer.incentives.matrix` -- the seed's comparison matrix from
  all of the above and a tick benchmark JSON;
* :mod:`~auctioneer.incentives.experiment` and
  :mod:`~auctioneer.incentives.report` -- the run, its tables, markdown and JSON;
* :mod:`~auctioneer.incentives.plot` -- its curves as a PNG (``--plot``).

Example:
    >>> from auctioneer.incentives import IncentiveConfig, run_experiment
    >>> result = run_experiment(IncentiveConfig.build(quick=True), tick_bench={"results": []})
    >>> {s.mechanism: s.max_gain for s in result.summaries}["second-price"]
    0.0
"""

from auctioneer.incentives.collusion import CollusionCell, run_collusion
from auctioneer.incentives.equilibrium import EquilibriumCell, run_equilibrium
from auctioneer.incentives.experiment import IncentiveResult, run_experiment
from auctioneer.incentives.market import MECHANISMS, IncentiveConfig, MechanismSpec, Mitigation
from auctioneer.incentives.matrix import MatrixRow, build_matrix, tick_costs
from auctioneer.incentives.rules import Rule, Semantics, outcomes
from auctioneer.incentives.sybil import SybilCell, run_sybil
from auctioneer.incentives.thermal import ThermalCell, run_thermal
from auctioneer.incentives.truthful import TruthfulCell, run_truthful

__all__ = [
    "MECHANISMS",
    "CollusionCell",
    "EquilibriumCell",
    "IncentiveConfig",
    "IncentiveResult",
    "MatrixRow",
    "MechanismSpec",
    "Mitigation",
    "Rule",
    "Semantics",
    "SybilCell",
    "ThermalCell",
    "TruthfulCell",
    "build_matrix",
    "outcomes",
    "run_collusion",
    "run_equilibrium",
    "run_experiment",
    "run_sybil",
    "run_thermal",
    "run_truthful",
    "tick_costs",
]
