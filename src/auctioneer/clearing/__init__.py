"""Combinatorial clearing: allocate bundles of several resources to XOR bids, and price them.

Kelly's auction-knapsack connection: clearing a multi-unit combinatorial
auction with XOR bids is a multidimensional multiple-choice knapsack. The
model is in :mod:`~auctioneer.clearing.model`, every solver returns a
:class:`Clearing`, and :func:`clear` picks a method: exact dynamic
programming over the capacity grid when the back-of-the-envelope
:func:`estimate_dp` says it fits, integer programming otherwise.
:func:`vcg_payments` prices the allocation with the Generalized Vickrey
auction, and :func:`check_feasible` verifies any result.

Example:
    >>> from auctioneer.clearing import Auction, Bid, Bundle, Resource, clear, vcg_payments
    >>> auction = Auction((Resource("rooms", 10), Resource("parking", 20)), (
    ...     Bid("acme", (Bundle((3, 6), 18), Bundle((4, 8), 26), Bundle((5, 12), 31))),
    ...     Bid("bolt", (Bundle((6, 6), 30),)),
    ...     Bid("core", (Bundle((2, 10), 14), Bundle((1, 2), 5))),
    ... ))
    >>> result = clear(auction)
    >>> result.revenue, result.choice, result.used
    (56, (1, 0, None), (10, 14))
    >>> vcg_payments(auction, result).payments
    (14, 14, 0)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auctioneer.clearing.allocation import check_feasible
    from auctioneer.clearing.bnb import solve_bnb
    from auctioneer.clearing.brute import solve_brute
    from auctioneer.clearing.dp import solve_dp
    from auctioneer.clearing.estimate import DpEstimate, estimate_dp
    from auctioneer.clearing.generate import KINDS
    from auctioneer.clearing.generate import generate as generate_auction
    from auctioneer.clearing.io import (
        AuctionFileError,
        dump_auction,
        dump_clearing,
        dump_k_best,
        dumps_auction,
        load_auction,
        loads_auction,
    )
    from auctioneer.clearing.kbest import k_best
    from auctioneer.clearing.knapsack import bid_options
    from auctioneer.clearing.milp import solve_milp
    from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    from auctioneer.clearing.result import Clearing, Status
    from auctioneer.clearing.solve import METHODS, clear
    from auctioneer.clearing.two_sided import Balance, BudgetReport, Order, Side, budget_balance
    from auctioneer.clearing.vcg import vcg_payments

# two_sided.exchange (orders to an auction) and generate.generate are not
# re-exported under their names: a package attribute named like a submodule
# would shadow it.

# Each public name's module, imported on first use: `auctioneer clear` on a
# small file needs the model, io and DP, not the MILP and branch and bound
# stack (the command line's start-up budget is 250 ms).
_HOME = {
    "check_feasible": "allocation", "solve_bnb": "bnb", "solve_brute": "brute",
    "solve_dp": "dp", "DpEstimate": "estimate", "estimate_dp": "estimate", "KINDS": "generate",
    "generate_auction": "generate:generate", "AuctionFileError": "io", "dump_auction": "io",
    "dump_clearing": "io", "dump_k_best": "io", "dumps_auction": "io", "load_auction": "io",
    "loads_auction": "io", "k_best": "kbest", "bid_options": "knapsack", "solve_milp": "milp",
    "Auction": "model", "Bid": "model", "Bundle": "model", "Resource": "model",
    "Clearing": "result", "Status": "result", "METHODS": "solve", "clear": "solve",
    "Balance": "two_sided", "BudgetReport": "two_sided", "Order": "two_sided",
    "Side": "two_sided", "budget_balance": "two_sided", "vcg_payments": "vcg",
}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attribute = home.partition(":")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute or name)
    globals()[name] = value
    return value


__all__ = [
    "KINDS",
    "METHODS",
    "Auction",
    "AuctionFileError",
    "Balance",
    "Bid",
    "BudgetReport",
    "Bundle",
    "Clearing",
    "DpEstimate",
    "Order",
    "Resource",
    "Side",
    "Status",
    "bid_options",
    "budget_balance",
    "check_feasible",
    "clear",
    "dump_auction",
    "dump_clearing",
    "dump_k_best",
    "dumps_auction",
    "estimate_dp",
    "generate_auction",
    "k_best",
    "load_auction",
    "loads_auction",
    "solve_bnb",
    "solve_brute",
    "solve_dp",
    "solve_milp",
    "vcg_payments",
]
