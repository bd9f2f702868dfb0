"""The proxy round of the clock-proxy auction: package bids cleared exactly, core payments.

Ausubel, Cramton and Milgrom's clock-proxy auction (2006) ends the clock
with one sealed round. Each user submits package bids, limited by the clock
phase's revealed-preference activity rule (:mod:`auctioneer.clock.activity`);
by default its proxy bids every servable bundle at the user's budget, which
always passes. Then:

1. **Winner determination** with :mod:`auctioneer.clearing`. The operator is
   the seller and values each unit it keeps at the pool's reserve price, so
   a package ``T`` worth ``v`` enters as a bundle of net price
   ``v - reserve . T`` over the pools' free units (a user's sale adds units
   and is worth the reserve to the operator). A package that only buys and
   is worth no more than its reserve value is never awarded, which is the
   reserve rule. The optimum maximises welfare exactly as
   :func:`auctioneer.clock.welfare.welfare` measures it. Small markets go
   through :func:`~auctioneer.clearing.solve.clear` with any method
   (``auto`` by default); ``method="milp"`` builds the 0-1 program straight
   from the package arrays (:func:`~auctioneer.clearing.milp.solve_sparse`),
   with the clock's allocation kept as the incumbent should HiGHS find
   nothing better, which is what scales to thousands of users. A time
   limit stops it with the incumbent, and its proven bound and gap are
   reported.
2. **VCG payments** (the floor): one re-solve per winner, or the clearing
   module's prefix/suffix DP where it applies.
3. **Core-selecting payments**, by constraint generation from the VCG
   point, minimising the total payment within the core, the tie broken
   towards VCG (:func:`auctioneer.clearing.core.core_point`).
4. **At scale**, when VCG's re-solves (one MILP per winner) do not finish
   in their share of the time (:data:`VCG_SHARE`) or winner determination
   stopped short of a proven optimum, payments are charged at the **least
   linear prices supporting the LP relaxation** (two LPs of the winner
   determination's size, :func:`auctioneer.clearing.milp.lp_prices`),
   capped at each bid. Exact when the LP's optimum equals the allocation's
   welfare (least Walrasian prices: a core outcome); otherwise an
   approximation, and ``note`` says which and by how much the LP bound
   exceeds the welfare. Pay-as-bid only if the LPs do not finish either.

Payments are reported gross: the reserve value of the package plus the net
payment. Revenue is what users pay in all.

Example:
    >>> from auctioneer.clock.auction import run_clock
    >>> from auctioneer.clock.model import Market, Pool, User
    >>> market = Market.from_users(
    ...     [Pool("e", "cpu", 2, 1_000_000, used=0), Pool("e", "gpu", 1, 1_000_000, used=0)],
    ...     [User("a", 6_000_000, ({"e/cpu": 1},)), User("b", 6_000_000, ({"e/gpu": 1},)),
    ...      User("c", 9_000_000, ({"e/cpu": 2, "e/gpu": 1},))])
    >>> proxy = run_proxy(market, run_clock(market))
    >>> [(o.mechanism, o.welfare, o.revenue) for o in proxy.outcomes()]
    [('clock only', 11000000, 6081316), ('clock + proxy', 11000000, 8500000), \
('VCG', 11000000, 5000000)]

    a and b win everywhere; VCG charges them $2.50 each, but c, bidding $9
    for both pools ($7.50 over their reserves), would block that with the
    operator, so the core charges a and b $7.50 over the reserves between them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.clearing.core import core_point
from auctioneer.clearing.milp import lp_prices, solve_sparse
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.solve import METHODS, clear
from auctioneer.clearing.sparse import SparseAuction
from auctioneer.clearing.vcg import vcg_payments
from auctioneer.clock.activity import Packages, check_activity
from auctioneer.clock.auction import ClockResult
from auctioneer.clock.model import Market
from auctioneer.clock.welfare import welfare

__all__ = ["VCG_SHARE", "WD_SHARE", "Outcome", "ProxyResult", "package_auction", "run_proxy"]

IntArray = npt.NDArray[np.int64]

WD_SHARE = 0.75
"""Of what is left of a round's time limit after the activity check, the share winner
determination may use; payments get the rest. At 10,000 users x 1,000 pools HiGHS found
nothing better than the clock's allocation in 50 s, with the clock's allocation handed to it
as a start or not, and the LP prices need about 6 s there (issue 17's report): a quarter of
the round buys priced payments for at most the few % the MILP might find in the last 10 s."""


VCG_SHARE = 0.6
"""Of what winner determination leaves, the share the exact VCG re-solves (one MILP per
winner) may use; if they do not finish, the rest goes to the LP prices, which are two LPs
in all (:func:`_lp_price_payments`)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One mechanism's totals, micro-units (None: not computed, or no feasible allocation)."""

    mechanism: str
    welfare: int | None
    revenue: int | None
    winners: int | None


@dataclass(frozen=True, slots=True, eq=False)
class ProxyResult:
    """The proxy round's allocation and payments (arrays per user, read-only).

    ``choice[u]`` is the package user ``u`` wins (an index into
    ``packages``, -1 for none); ``payments[u]`` its core-selecting payment
    and ``vcg[u]`` its VCG payment, gross (reserve value plus net payment),
    micro-units; ``vcg`` is None and ``payments`` pay-as-bid when they could
    not be computed (``note`` says why). ``bound`` is the best proven upper
    bound on welfare and ``gap`` the relative gap (0 when optimal).
    """

    status: Status
    method: str
    packages: Packages
    choice: npt.NDArray[np.int64]
    payments: IntArray
    vcg: IntArray | None
    welfare: int
    bound: float
    gap: float
    core_certified: bool
    core_iterations: int
    core_constraints: int
    clock_welfare: int | None
    clock_revenue: int | None
    clock_winners: int
    note: str
    seconds: Mapping[str, float]

    @property
    def winners(self) -> npt.NDArray[np.int64]:
        """Users who win a package."""
        return np.flatnonzero(self.choice >= 0)

    @property
    def revenue(self) -> int:
        """What the users pay in all under the core-selecting payments."""
        return sum(self.payments.tolist())

    @property
    def vcg_revenue(self) -> int | None:
        """What they would pay under VCG (None when not computed)."""
        return None if self.vcg is None else sum(self.vcg.tolist())

    def outcomes(self) -> tuple[Outcome, Outcome, Outcome]:
        """Clock only, clock + proxy, and VCG side by side (VCG shares the proxy's allocation)."""
        winners = len(self.winners)
        return (
            Outcome("clock only", self.clock_welfare, self.clock_revenue,
                    self.clock_winners if self.clock_welfare is not None else None),
            Outcome("clock + proxy", self.welfare, self.revenue, winners),
            Outcome("VCG", self.welfare if self.vcg is not None else None, self.vcg_revenue,
                    winners if self.vcg is not None else None),
        )


class _Solver:
    """Winner determination over the package auction (or a variant of it), dense or sparse."""

    def __init__(self, market: Market, sparse: SparseAuction, method: str) -> None:
        self.market, self.sparse, self.method = market, sparse, method

    def solve(self, variant: SparseAuction, limit: float | None,
              start: Sequence[int | None] | None = None) -> Clearing:
        if self.method == "milp":
            return solve_sparse(variant, time_limit=limit, start=start)
        return clear(self.dense(variant), self.method, time_limit=limit)

    def dense(self, variant: SparseAuction) -> Auction:
        return variant.to_auction(self.market.user_names, self.market.pool_names)


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.perf_counter())


def run_proxy(market: Market, clock: ClockResult, packages: Packages | None = None, *,
              method: str = "auto", time_limit: float | None = None) -> ProxyResult:
    """Run the proxy round after ``clock`` (see the module doc).

    ``packages`` defaults to :meth:`Packages.truthful`; any package bid the
    activity rule refuses raises :class:`~auctioneer.clock.activity.ActivityError`
    naming the user and bundle. ``method`` is a clearing method;
    ``time_limit`` (seconds) bounds the whole round: winner determination
    may use 75% of what the activity check leaves, VCG 60% of the rest,
    then the core search or the LP prices. Exact VCG and core payments need
    a proven optimum; otherwise payments are at the LP relaxation's least
    prices (or pay-as-bid if those do not finish) and ``note`` says so.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    started = time.perf_counter()
    deadline = None if time_limit is None else started + float(time_limit)
    seconds: dict[str, float] = {}
    packages = Packages.truthful(market) if packages is None else packages
    check_activity(market, clock, packages)
    seconds["activity"] = time.perf_counter() - started

    t0 = time.perf_counter()
    full, reserve_cost = _net_form(market, packages)
    sells = np.zeros(len(packages), dtype=bool)
    np.logical_or.at(sells, np.repeat(np.arange(len(packages)), np.diff(packages.start)),
                     packages.quantity < 0)
    # A package that only buys and is worth no more than its reserve value never helps.
    keep = (full.price > 0) | sells
    sparse = full.select(keep)
    columns = np.flatnonzero(keep)
    first = np.searchsorted(sparse.owner, np.arange(sparse.bids + 1))
    solver = _Solver(market, sparse, method)
    start = _clock_start(market, clock, packages, columns, first)
    left = _left(deadline)
    wd_limit = None if left is None else WD_SHARE * left
    best = solver.solve(sparse, wd_limit, start)
    seconds["winner determination"] = time.perf_counter() - t0
    if best.status not in (Status.OPTIMAL, Status.TIME_LIMIT) or not best.choice:
        raise ValueError(f"the proxy round's winner determination ended {best.status.value}: "
                         f"{best.stats.get('reason', best.stats.get('solver_status', ''))}")
    won = {t: int(first[t]) + j for t, j in enumerate(best.choice) if j is not None}
    choice = np.full(market.shape[0], -1, dtype=np.int64)
    for t, c in won.items():
        choice[t] = columns[c]
    values = {t: int(sparse.price[c]) for t, c in won.items()}
    bound = float(best.stats.get("dual_bound", best.revenue))
    if best.status is Status.OPTIMAL:
        bound = float(best.revenue)
    gap = 0.0 if best.status is Status.OPTIMAL else float(best.stats.get("gap", 1.0))

    t0 = time.perf_counter()
    vcg_net: dict[int, int] | None = None
    core_net = dict(values)  # pay-as-bid unless the payments below are computed
    certified, iterations, constraints = False, 0, 0
    note = reason = ""
    if best.status is not Status.OPTIMAL:
        reason = (f"winner determination stopped at its time limit with gap {gap:.2%}, and "
                  "VCG and the core price an optimal allocation")
    else:
        left = _left(deadline)
        vcg_deadline = None if left is None else time.perf_counter() + VCG_SHARE * left
        vcg_net = _vcg(solver, best, won, values, vcg_deadline)
        seconds["vcg"] = time.perf_counter() - t0
        if vcg_net is None:
            reason = "a VCG re-solve stopped at the time limit"
        else:
            t1 = time.perf_counter()

            def separate(surplus: Mapping[int, int], left: float | None) -> Clearing:
                lowered = sparse.price - np.asarray(
                    [surplus.get(int(t), 0) for t in sparse.owner.tolist()], dtype=np.int64)
                return solver.solve(sparse.select(np.ones(sparse.columns, dtype=bool), lowered),
                                    left, best.choice)

            point = core_point(values, vcg_net, separate, time_limit=_left(deadline))
            core_net = dict(point.payments)
            certified, iterations, constraints = (point.certified, point.iterations,
                                                  point.constraints)
            seconds["core"] = time.perf_counter() - t1
            if not certified:
                note = "the core search stopped at the time limit: payments not certified"
    if vcg_net is None:
        t1 = time.perf_counter()
        priced = _lp_price_payments(sparse, won, values, best.revenue, deadline)
        seconds["lp prices"] = time.perf_counter() - t1
        if priced is not None:
            core_net, why = priced
            note = f"{why}; exact payments not computed: {reason}"
        else:
            note = f"payments are pay-as-bid: {reason}; the LP prices did not finish either"
    gross = {t: int(reserve_cost[choice[t]]) for t in won}
    payments = np.zeros(market.shape[0], dtype=np.int64)
    for t in won:
        payments[t] = gross[t] + core_net[t]
    vcg = None
    if vcg_net is not None:
        vcg = np.zeros(market.shape[0], dtype=np.int64)
        for t in won:
            vcg[t] = gross[t] + vcg_net[t]
    cleared = clock.cleared
    for array in (choice, payments, *(() if vcg is None else (vcg,))):
        array.flags.writeable = False
    seconds["total"] = time.perf_counter() - started
    return ProxyResult(
        status=best.status, method=best.method, packages=packages, choice=choice,
        payments=payments, vcg=vcg, welfare=best.revenue, bound=bound, gap=gap,
        core_certified=certified, core_iterations=iterations, core_constraints=constraints,
        clock_welfare=welfare(market, clock) if cleared else None,
        clock_revenue=clock.revenue if cleared else None,
        clock_winners=len(clock.winners), note=note, seconds=seconds,
    )


def _lp_price_payments(sparse: SparseAuction, won: Mapping[int, int],
                       values: Mapping[int, int], welfare: int, deadline: float | None
                       ) -> tuple[dict[int, int], str] | None:
    """Each winner's net payment at the least linear prices of the LP relaxation, capped at
    its bid, and what they are; None when the LP does not finish in the time left.

    The scalable rule when VCG needs more exact re-solves than the time allows: two LPs
    of the winner determination's size (:func:`~auctioneer.clearing.milp.lp_prices`)
    instead of one MILP per winner. When the LP's optimum equals the allocation's
    welfare the prices are Walrasian and the payments a core outcome, exactly; otherwise
    (an LP gap, or an allocation short of the optimum) they are an approximation.
    """
    found = lp_prices(sparse, time_limit=_left(deadline))
    if found is None:
        return None
    pi, lp_bound = found
    pay = {}
    for t, c in won.items():
        lo, hi = int(sparse.start[c]), int(sparse.start[c + 1])
        charge = sum(pi[int(r)] * int(q) for r, q in zip(
            sparse.resource[lo:hi].tolist(), sparse.quantity[lo:hi].tolist(), strict=True))
        pay[t] = min(values[t], round(charge))
    exact = abs(lp_bound - welfare) <= 1e-9 * max(1.0, abs(lp_bound))
    why = ("payments at the least Walrasian prices of the LP relaxation (integral: a core "
           "outcome)" if exact else
           f"payments at the least LP-relaxation prices, capped at each bid: approximate, "
           f"the LP bound {lp_bound / max(1, welfare) - 1:.2%} above this allocation's welfare")
    return pay, why


def _net_form(market: Market, packages: Packages) -> tuple[SparseAuction, IntArray]:
    """Every package at its net price ``value - reserve . T``, and the reserve values."""
    reserve_cost = packages.costs(market.reserves())
    return SparseAuction.from_arrays(
        market.supply(), packages.owner, packages.value - reserve_cost, packages.start,
        packages.pool, packages.quantity, bids=market.shape[0]), reserve_cost


def package_auction(market: Market, packages: Packages | None = None) -> Auction:
    """The proxy round's winner determination as a dense clearing auction (small markets).

    One resource per pool (its free units), one bid per user whose bundles
    are its packages in order, each at its net price ``value - reserve . T``.
    """
    packages = Packages.truthful(market) if packages is None else packages
    sparse, _ = _net_form(market, packages)
    return sparse.to_auction(market.user_names, market.pool_names)


def _clock_start(market: Market, clock: ClockResult, packages: Packages,
                 columns: IntArray, first: IntArray) -> list[int | None] | None:
    """The clock's allocation as a choice over the package columns, when every part maps."""
    if not clock.cleared:
        return None
    column_of = {int(p): c for c, p in enumerate(columns.tolist())}
    index = {(int(packages.owner[i]), frozenset(packages.entries(i))): i
             for i in range(len(packages))}
    start: list[int | None] = [None] * market.shape[0]
    for u in clock.winners.tolist():
        i = index.get((u, frozenset(market.bundle(u, int(clock.choice[u])).items())))
        if i is None:
            return None
        if i in column_of:  # else a package worth no more than its reserve: dropping it is fine
            start[u] = column_of[i] - int(first[u])
    return start


def _vcg(solver: _Solver, best: Clearing, won: Mapping[int, int], values: Mapping[int, int],
         deadline: float | None) -> dict[int, int] | None:
    """Each winner's net VCG payment, or None if a re-solve did not finish."""
    if solver.method != "milp":
        priced = vcg_payments(solver.dense(solver.sparse), best, method=solver.method)
        if priced.payments is None:
            return None
        return {t: priced.payments[t] for t in won}
    out = {}
    for t in won:
        others = solver.sparse.select(solver.sparse.owner != t)
        start = [None if s == t else j for s, j in enumerate(best.choice)]
        sub = solver.solve(others, _left(deadline), start)
        if sub.status is not Status.OPTIMAL:
            return None
        out[t] = sub.revenue - (best.revenue - values[t])
    return out
