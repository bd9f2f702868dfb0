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
   which is what scales to thousands of users. It first solves the LP
   relaxation (:func:`~auctioneer.clearing.milp.lp_relaxation`) and rounds
   it (:func:`~auctioneer.clearing.rounding.round_lp`); the better of that
   and the clock's allocation is kept as the incumbent should HiGHS find
   nothing better. A time limit stops it with the incumbent, and the
   proven bound (HiGHS's or the LP's, the lower) and gap are reported.
2. **VCG payments** (the floor): one re-solve per winner, or the clearing
   module's prefix/suffix DP where it applies.
3. **Core-selecting payments**, by constraint generation from the VCG
   point, minimising the total payment within the core, the tie broken
   towards VCG (:func:`auctioneer.clearing.core.core_point`).
4. **At scale**, when VCG's re-solves (one MILP per winner) do not finish
   in their share of the time (:data:`VCG_SHARE`) or winner determination
   stopped short of a proven optimum, payments come from one LP instead:
   at the LP relaxation's least prices ``pi``
   (:func:`auctioneer.clearing.milp.lp_prices`) each winner pays its bid
   minus its utility at ``pi`` (:func:`auctioneer.clearing.certificate.dual_payments`),
   and LP duality bounds, exactly, how much any coalition could gain by
   blocking them (``blocking_margin``,
   :func:`auctioneer.clearing.certificate.blocking_bound`): at most 0 is a
   certified core outcome, otherwise ``note`` gives the bound. No payments
   on an allocation short of the optimum can do better than its shortfall
   (all the bidders together block by it), so the bound is the LP's excess
   over the welfare. Pay-as-bid only if the LP does not finish either.

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

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.clearing.certificate import blocking_bound, dual_payments
from auctioneer.clearing.core import core_point, raise_to_core
from auctioneer.clearing.milp import LpSolution, lp_relaxation, solve_sparse
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.rounding import round_lp
from auctioneer.clearing.solve import METHODS, clear
from auctioneer.clearing.sparse import SparseAuction
from auctioneer.clearing.vcg import vcg_payments
from auctioneer.clock.activity import Packages, check_activity
from auctioneer.clock.auction import ClockResult
from auctioneer.clock.model import Market
from auctioneer.clock.welfare import welfare
from auctioneer.money import format_money

__all__ = ["VCG_SHARE", "WD_SHARE", "Outcome", "ProxyResult", "package_auction", "run_proxy"]

IntArray = npt.NDArray[np.int64]

WD_SHARE = 0.75
"""Of what is left of a round's time limit after the activity check (and, with ``milp``, the
LP relaxation and its rounding), the share winner determination may use; payments get the
rest. At 10,000 users x 1,000 pools HiGHS found nothing better than the allocation it was
handed in 50 s (issue 17's reports), so the quarter left buys the payments."""


LP_SHARE = 0.7
"""Of what is left after the activity check, the most the LP relaxation may use (it solves
in 6-17 s at 10,000 users x 1,000 pools, as loaded as the machine is): it runs first with
``method="milp"``, since it prices the round whenever exact payments do not finish, and
its rounding is the incumbent HiGHS did not beat there; it returns as soon as it is done."""


MILP_COLUMNS = 100_000
"""Above this many columns, with the LP solved and rounded, the full integer program is not
started: at 219,779 columns (100,000 users) HiGHS overran its time limit, once by more
than 7 minutes after a 120 s limit and once past 25 minutes after a 900 s one, inside its
root LP, where the limit is not checked at that size (issue 17's reports)."""


ROUND_SHARE = 0.2
"""Of what the LP leaves, the most its rounding's residual integer program may use
(0.6 s at 10,000 users)."""


VCG_RESOLVE_RATIO = 0.25
"""A VCG re-solve (one per winner, warm-started) costs at least this share of the winner
determination's time: at 1,000 users x 1,000 pools 628 re-solves had not finished in 357 s,
over 0.57 s each against 1.5-2.2 s for winner determination. With ``milp`` and a time limit,
VCG is not started when the re-solves would not fit in their share even at this rate."""


VCG_SHARE = 0.6
"""Of what winner determination leaves, the share the exact VCG re-solves (one MILP per
winner) may use; if they do not finish, the LP relaxation prices the round
(:func:`_dual_payments`), solved already with ``milp``."""


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
    ``blocking_margin`` is a proven upper bound on what any coalition of
    bidders could gain by blocking the payments with the operator,
    micro-units: 0 when the core search certified them, the LP-duality
    bound when they come from the LP (at most 0: certified too), None when
    nothing bounds it (pay-as-bid, or a core search stopped short).
    ``blocking_found`` is the gain of the last blocking coalition the
    repair of the LP's payments found (:func:`~auctioneer.clearing.core.raise_to_core`;
    at most 0 when none blocks; None: not run).
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
    blocking_margin: int | None
    blocking_found: int | None
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


def _unsolved(sparse: SparseAuction, first: IntArray, start: Sequence[int | None]) -> Clearing:
    """``start`` as the round's allocation, the integer program not run (:data:`MILP_COLUMNS`)."""
    chosen = [int(first[t]) + j for t, j in enumerate(start) if j is not None]
    stats: dict[str, int | float | str] = {
        "incumbent": "start", "solver_status": "not run",
        "reason": f"{sparse.columns:,} columns, more than the {MILP_COLUMNS:,} at which HiGHS "
                  "stops checking its time limit"}
    return Clearing(Status.TIME_LIMIT, "milp", sum(int(sparse.price[c]) for c in chosen),
                    tuple(start), tuple(sparse.usage(chosen)), stats=stats)


def _quiet(phase: str) -> None:
    """No progress display."""


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.perf_counter())


def run_proxy(market: Market, clock: ClockResult, packages: Packages | None = None, *,
              method: str = "auto", time_limit: float | None = None,
              progress: Callable[[str], None] | None = None) -> ProxyResult:
    """Run the proxy round after ``clock`` (see the module doc).

    ``packages`` defaults to :meth:`Packages.truthful`; any package bid the
    activity rule refuses raises :class:`~auctioneer.clock.activity.ActivityError`
    naming the user and bundle. ``method`` is a clearing method;
    ``time_limit`` (seconds) bounds the whole round: with ``milp`` the LP
    relaxation may use :data:`LP_SHARE` of what the activity check leaves
    and its rounding :data:`ROUND_SHARE` of the rest; winner determination
    may use :data:`WD_SHARE` of what is left then, VCG :data:`VCG_SHARE` of
    the rest, then the core search. Exact VCG and core payments need a
    proven optimum; otherwise payments come from the LP relaxation's least
    prices with a proven bound on any coalition's gain from blocking them
    (or pay-as-bid if the LP does not finish), and ``note`` says so.
    ``progress(phase)`` is called as each phase starts (a command line's
    status display).
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    started = time.perf_counter()
    deadline = None if time_limit is None else started + float(time_limit)
    seconds: dict[str, float] = {}
    say = progress or _quiet
    say("activity rule")
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
    lp: LpSolution | None = None
    if method == "milp":
        lp, start = _lp_start(sparse, first, start, deadline, seconds, say)
    t0 = time.perf_counter()
    left = _left(deadline)
    wd_limit = None if left is None else WD_SHARE * left
    if lp is not None and start is not None and sparse.columns > MILP_COLUMNS:
        best = _unsolved(sparse, first, start)
    else:
        say("winner determination")
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
    gap = float(best.stats.get("gap", 1.0))
    if best.status is Status.OPTIMAL:
        bound, gap = float(best.revenue), 0.0
    elif lp is not None or "dual_bound" in best.stats:
        # The incumbent may be the start (the clock's, or the LP's rounding), not HiGHS's own.
        bound = min(bound if "dual_bound" in best.stats else math.inf, lp.bound if lp else math.inf)
        gap = max(0.0, bound - best.revenue) / max(1, best.revenue)

    def separate(surplus: Mapping[int, int], left: float | None) -> Clearing:
        """The most violated coalition: winner determination with winners' bids lowered
        by their surplus, the winners' own allocation as the start."""
        lowered = sparse.price - np.asarray(
            [surplus.get(int(t), 0) for t in sparse.owner.tolist()], dtype=np.int64)
        return solver.solve(sparse.select(np.ones(sparse.columns, dtype=bool), lowered),
                            left, best.choice)

    t0 = time.perf_counter()
    vcg_net: dict[int, int] | None = None
    found: int | None = None
    core_net = dict(values)  # pay-as-bid unless the payments below are computed
    certified, iterations, constraints = False, 0, 0
    margin: int | None = None
    note = reason = ""
    if best.status is not Status.OPTIMAL:
        how = (f"the integer program was not run ({best.stats['reason']}): the allocation is "
               f"the better of the LP's rounding and the clock's, gap {gap:.2%}"
               if best.stats.get("solver_status") == "not run" else
               f"winner determination stopped at its time limit with gap {gap:.2%}")
        reason = f"{how}, and VCG and the core price an optimal allocation"
    else:
        left = _left(deadline)
        vcg_deadline = None if left is None else time.perf_counter() + VCG_SHARE * left
        wd = seconds["winner determination"]
        guess = len(won) * wd * VCG_RESOLVE_RATIO
        if method == "milp" and left is not None and guess > VCG_SHARE * left:
            reason = (f"VCG needs {len(won):,} re-solves, about {guess:.0f} s at "
                      f"{VCG_RESOLVE_RATIO:.0%} of winner determination's {wd:.1f} s each, more "
                      f"than its {VCG_SHARE * left:.0f} s")
        else:
            say("VCG re-solves")
            vcg_net = _vcg(solver, best, won, values, vcg_deadline)
            seconds["vcg"] = time.perf_counter() - t0
        if vcg_net is None:
            reason = reason or "a VCG re-solve stopped at the time limit"
        else:
            t1 = time.perf_counter()
            say("core constraint generation")
            point = core_point(values, vcg_net, separate, time_limit=_left(deadline))
            core_net = dict(point.payments)
            certified, iterations, constraints = (point.certified, point.iterations,
                                                  point.constraints)
            margin = 0 if certified else None
            seconds["core"] = time.perf_counter() - t1
            if not certified:
                note = "the core search stopped at the time limit: payments not certified"
    if vcg_net is None:
        t1 = time.perf_counter()
        say("payments from the LP relaxation")
        priced = _dual_payments(sparse, won, best.revenue, lp, deadline)
        seconds["lp payments"] = time.perf_counter() - t1
        if priced is not None:
            core_net, margin, why = priced
            note = f"{why}; exact core search not run: {reason}"
            if margin > 0 and best.status is Status.OPTIMAL:
                t1 = time.perf_counter()
                say("raising the payments to the core")
                point, found, proven = raise_to_core(values, core_net, separate,
                                                     time_limit=_left(deadline))
                seconds["core repair"] = time.perf_counter() - t1
                iterations, constraints = point.iterations, point.constraints
                raised = sum(point.payments.values()) - sum(core_net.values())
                if point.certified:
                    margin = 0
                    note = (f"payments at the LP relaxation's least prices, each winner its bid "
                            f"less its utility there, raised until an exact separation found no "
                            f"coalition that gains by blocking ({point.iterations} separations, "
                            f"+{format_money(raised)}): certified in the core, not the least "
                            f"total; {reason}")
                else:
                    margin = min(margin, found) if proven else margin
                    note += (f"; raised over {point.iterations} separations, the last "
                             f"{'solved' if proven else 'stopped at the time limit'} with a "
                             f"coalition gaining {format_money(max(0, found))} by blocking")
                core_net = dict(point.payments)
            certified = margin <= 0
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
        blocking_margin=margin, blocking_found=found,
        clock_welfare=welfare(market, clock) if cleared else None,
        clock_revenue=clock.revenue if cleared else None,
        clock_winners=len(clock.winners), note=note, seconds=seconds,
    )


def _dual_payments(sparse: SparseAuction, won: Mapping[int, int], welfare: int,
                   lp: LpSolution | None, deadline: float | None
                   ) -> tuple[dict[int, int], int, str] | None:
    """Payments from the LP relaxation's least prices, the proven bound on any coalition's
    blocking margin (micro-units, rounded up), and what they are; None when the LP does
    not finish in the time left.

    The scalable rule when exact core payments need more winner determinations than the
    time allows: one LP (:func:`~auctioneer.clearing.milp.lp_relaxation`) instead of one
    MILP per winner and per coalition, and an exact certificate
    (:mod:`auctioneer.clearing.certificate`) of how far from the core they can be.
    """
    lp = lp_relaxation(sparse, time_limit=_left(deadline)) if lp is None else lp
    if lp is None:
        return None
    pi = lp.prices
    pay = dual_payments(sparse, won, pi)
    margin = math.ceil(blocking_bound(sparse, won, pay, pi))
    if margin <= 0:
        return pay, margin, ("payments at the LP relaxation's least prices, each winner its "
                             "bid less its utility there: certified in the core by LP duality")
    return pay, margin, (
        f"payments at the LP relaxation's least prices, each winner its bid less its utility "
        f"there: not certified core; LP duality proves no coalition gains more than "
        f"{format_money(margin)} by blocking ({margin / max(1, welfare):.2%} of the welfare, "
        f"the LP bound's excess over it)")


def _lp_start(sparse: SparseAuction, first: IntArray, start: list[int | None] | None,
              deadline: float | None, seconds: dict[str, float], say: Callable[[str], None]
              ) -> tuple[LpSolution | None, list[int | None] | None]:
    """The LP relaxation (its prices, bound and fractions), solved before the integer
    program, and the better start of ``start`` (the clock's) and the LP's rounding.

    The LP is what prices the round if exact payments do not finish, and its rounding
    (:func:`~auctioneer.clearing.rounding.round_lp`) is the allocation HiGHS could not find
    at 10,000 users in a minute; both cost a fraction of the integer program's time.
    """
    say("LP relaxation")
    t0 = time.perf_counter()
    left = _left(deadline)
    lp = lp_relaxation(sparse, time_limit=None if left is None else LP_SHARE * left)
    seconds["lp relaxation"] = time.perf_counter() - t0
    if lp is None:
        return None, start
    say("rounding the LP relaxation")
    t0 = time.perf_counter()
    left = _left(deadline)
    chosen = round_lp(sparse, lp.fractions, time_limit=None if left is None else ROUND_SHARE * left)
    seconds["lp rounding"] = time.perf_counter() - t0
    prices = sparse.price.tolist()
    given = sum(prices[int(first[t]) + j] for t, j in enumerate(start or []) if j is not None)
    if start is not None and given >= sum(prices[c] for c in chosen):
        return lp, start
    rounded: list[int | None] = [None] * sparse.bids
    for c in chosen:
        t = int(sparse.owner[c])
        rounded[t] = c - int(first[t])
    return lp, rounded


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
