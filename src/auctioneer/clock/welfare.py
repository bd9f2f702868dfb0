"""How much welfare the clock reaches, against the optimum of the clearing module.

A user values each of its acceptable bundles at its budget (that is all the
proxy knows), and the operator values a unit it keeps at the pool's reserve
price (its opportunity cost: what it would otherwise ask). So an
allocation's **welfare** is the winners' budgets minus the reserve value of
the units they take net::

    W = sum over winners u of (budget[u] - reserve . q[u])

Payments are transfers and cancel out. The best feasible allocation is an
XOR-bid combinatorial auction, which :func:`to_auction` builds for the
clearing module: one resource per pool (capacity: its free units, no
reserve), one bid per user, each bundle priced at ``budget - reserve . q``;
its optimal revenue is the optimal welfare (an exchange when users sell).
The clock is not built to maximise welfare (it finds prices, and the first
proxy to drop out of a pool loses it all), so the ratio is a measurement,
not a promise; a cleared allocation is always feasible for the auction, so
the ratio is at most 1.

Complexity: :func:`to_auction` O(U * B * pools); the optimum is NP-hard
(HiGHS MILP, brute force for tiny markets).

Example:
    >>> from auctioneer.clock.auction import run_clock
    >>> from auctioneer.clock.model import Market, Pool, User
    >>> market = Market.from_users([Pool("east", "cpu", 10, 1_000_000, used=9)],
    ...                            [User("a", 9_000_000, ({"east/cpu": 1},)),
    ...                             User("c", 3_000_000, ({"east/cpu": 1},))])
    >>> compare_welfare(market, run_clock(market), method="brute")
    WelfareComparison(clock=7000000, optimum=7000000, ratio=1.0, method='brute', optimal=True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auctioneer.clock.auction import ClockResult
from auctioneer.clock.model import Market

if TYPE_CHECKING:
    from auctioneer.clearing.model import Auction

__all__ = ["WelfareComparison", "compare_welfare", "to_auction", "welfare"]


def welfare(market: Market, result: ClockResult) -> int:
    """The welfare of ``result``'s allocation, micro-units (see the module docstring)."""
    reserves = [int(v) for v in market.reserves().tolist()]
    total = 0
    for u in result.winners.tolist():
        bundle = market.bundle(u, int(result.choice[u]))
        total += int(market.budgets[u]) - sum(q * reserves[r] for r, q in bundle.items())
    return total


def to_auction(market: Market) -> Auction:
    """The market as a clearing :class:`~auctioneer.clearing.model.Auction` (welfare prices)."""
    from auctioneer.clearing.model import Auction, Bid, Bundle, Resource

    reserves = [int(v) for v in market.reserves().tolist()]
    resources = tuple(Resource(p.name, p.free) for p in market.pools)
    bids = []
    for u in range(market.shape[0]):
        budget = int(market.budgets[u])
        bundles = []
        for b in range(int(market.bundle_count[u])):
            entries = market.bundle(u, b)
            quantities = [0] * len(market.pools)
            for r, q in entries.items():
                quantities[r] = q
            price = budget - sum(q * reserves[r] for r, q in entries.items())
            bundles.append(Bundle(tuple(quantities), price))
        bids.append(Bid(market.user_names[u], tuple(bundles)))
    return Auction(resources, tuple(bids))


@dataclass(frozen=True, slots=True)
class WelfareComparison:
    """The clock's welfare against the optimum (micro-units) and their ratio."""

    clock: int
    optimum: int
    ratio: float | None
    """``clock / optimum`` (a statistic, so a float); 1.0 when both are 0, None when the
    optimum is not positive otherwise."""
    method: str
    optimal: bool
    """Whether the solver proved its optimum (False: time limit or too large)."""


def compare_welfare(market: Market, result: ClockResult, *, method: str = "milp",
                    time_limit: float | None = None) -> WelfareComparison:
    """Solve the welfare problem with the clearing module's ``method`` ("milp", "brute", ...).

    ``method="brute"`` uses :func:`~auctioneer.clearing.brute.solve_brute`,
    the reference every clearing method is tested against; anything else
    goes through :func:`~auctioneer.clearing.solve.clear`. A result that did
    not clear holds no feasible allocation, so it is refused (ValueError)
    rather than compared.
    """
    if not result.cleared:
        raise ValueError(f"the clock stopped with status {result.status.value}, not cleared: "
                         "its allocation is not feasible, so its welfare is not comparable")
    auction = to_auction(market)
    if method == "brute":
        from auctioneer.clearing.brute import solve_brute

        best = solve_brute(auction, time_limit=time_limit)
    else:
        from auctioneer.clearing.solve import clear

        best = clear(auction, method, time_limit=time_limit)
    mine = welfare(market, result)
    optimum = best.revenue
    if optimum > 0:
        ratio: float | None = mine / optimum
    else:
        ratio = 1.0 if mine == optimum == 0 else None
    return WelfareComparison(mine, optimum, ratio, best.method, best.is_optimal)
