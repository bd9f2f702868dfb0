"""Clear an auction as a 0-1 integer program solved by HiGHS (Kelly's exercise 2).

The formulation (Andersson, Tenhunen and Ygge's, for XOR bids):

* one binary ``x[t, j]`` per *admissible* bundle ``j`` of bid ``t`` (bundles
  below the reserve get no column, so no solver can award them); the zero
  bundle is implicit: all of a bid's columns at 0;
* ``sum_j x[t, j] <= 1`` per bid, ``= 1`` for a must-win bid;
* ``sum_{t, j} q[t, j, r] x[t, j] <= capacity[r]`` per resource (negative
  ``q`` sells, adding supply);
* ``min_winners <= sum x <= max_winners`` when either bound is set;
* maximise ``sum price[t, j] x[t, j] / g``, ``g`` the gcd of the prices.

**Exactness despite doubles.** HiGHS works in binary floating point; money
does not. Every coefficient and bound is an integer, the objective is
divided by the prices' gcd ``g`` (exact, and it shrinks the magnitudes),
and the solve is asked for ``mip_rel_gap = 0`` and ``mip_abs_gap = 1e-6``:
every allocation's objective is an integer, so once HiGHS proves no
allocation can beat its incumbent by more than a millionth of a unit (of
``g`` micro-units), none can beat it at all. Any gap below 1 would do in
exact arithmetic; the tiny one leaves almost a whole unit of margin for
rounding error in HiGHS's dual bound. The solution is then rounded to 0/1, checked against
every constraint in exact integer arithmetic, and its revenue and use are
recomputed in integers from the chosen bundles; HiGHS's objective value is
never used. The argument assumes the integers involved are ones a double
holds exactly and HiGHS accepts (sums up to 2**53, coefficients up to 1e15,
which ``stats["exact"]`` reports; beyond them the solve answers TOO_LARGE)
and relies on HiGHS's LP bounds being right to within its tolerances, as
every floating-point MIP solver does; an allocation that fails the exact
check raises :class:`ArithmeticError` rather than being returned.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> a = Auction((Resource("rooms", 10), Resource("parking", 20)), (
    ...     Bid("acme", (Bundle((3, 6), 18_000_000), Bundle((4, 8), 26_000_000))),
    ...     Bid("bolt", (Bundle((5, 12), 31_000_000),)),
    ... ))
    >>> r = solve_milp(a)
    >>> r.status.value, r.revenue, r.choice, r.used
    ('optimal', 57000000, (1, 0), (9, 20))

Complexity: exponential in the worst case (NP-hard); in practice HiGHS's
presolve, cuts and LP bounds make it the fastest method here beyond a few
resources or large capacities. Building the model is O(bundles x resources).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from auctioneer.clearing.allocation import allocation, no_allocation, violation
from auctioneer.clearing.bnb import greedy_allocation
from auctioneer.clearing.limits import check_time_limit
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.sparse import SparseAuction

__all__ = [
    "IPM_COLUMNS", "LEAST_PRICES_WEIGHT", "LpSolution", "MilpModel", "add_no_good", "build_milp",
    "lp_prices", "lp_relaxation", "solve_milp", "solve_model", "solve_sparse",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_EXACT = 2**53
"""Integers of at most this magnitude are exact in a double."""
_MATRIX_MAX = 10**15
"""HiGHS refuses a model with a larger matrix coefficient (its ``large_matrix_value``)."""
_ABS_GAP = 1e-6
"""Far below the objective's step of 1 (one gcd of the prices): a proven gap this small is
none, with a margin of almost a whole step for rounding error in HiGHS's dual bound."""


_banner_lock = threading.Lock()
_banner_done = False


def _highs() -> highspy.Highs:
    """A new HiGHS instance with its output off.

    HiGHS prints a banner to the C-level stdout the first time a process
    constructs one, before any option can be set. A library must not write
    to its caller's stdout (a CLI printing JSON, say), so that first
    construction runs with file descriptor 1 pointed at /dev/null.
    """
    global _banner_done
    # highspy's Highs.__init__ lacks annotations, hence the ignores.
    with _banner_lock:
        saved = None
        if not _banner_done:
            try:
                sys.stdout.flush()
                saved = os.dup(1)
            except OSError:  # no file descriptor 1: no stdout to keep clean
                saved = None
        if saved is None:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
        _banner_done = True
    h.setOptionValue("output_flag", False)
    return h


@dataclass(frozen=True, slots=True)
class MilpModel:
    """A built HiGHS model of an auction, ready to solve and to extend with cuts.

    ``columns[c]`` is the (bid, bundle) pair of column ``c``; ``scale`` is
    the gcd the prices were divided by; ``exact`` is True when every sum
    and bound is at most 2**53 (exact in a double) and every coefficient at
    most 1e15 (what HiGHS accepts): the premise of the exactness argument.
    When False the model is not passed to HiGHS and solving it reports
    TOO_LARGE; ``trivially_infeasible`` when a must-win bid has
    no admissible bundle (no solve needed). The fields never change;
    ``highs`` itself gains rows when :func:`add_no_good` adds cuts.
    """

    auction: Auction
    highs: highspy.Highs
    columns: tuple[tuple[int, int], ...]
    scale: int
    exact: bool
    trivially_infeasible: bool


def build_milp(auction: Auction) -> MilpModel:
    """Build the 0-1 program of ``auction`` (see the module doc) in a silent HiGHS instance.

    Complexity: O(bundles x resources).
    """
    # Units sellers could add at most; a bundle needing more than capacity
    # plus that can never be awarded, and leaving it out keeps absurd
    # quantities away from HiGHS.
    supply = [
        r.capacity + sum(max(0, -min(b.quantities[i] for b in bid.bundles), 0)
                         for bid in auction.bids if bid.bundles)
        for i, r in enumerate(auction.resources)
    ]
    columns = tuple(
        (t, j) for t, bid in enumerate(auction.bids) for j, bundle in enumerate(bid.bundles)
        if auction.is_admissible(t, j)
        and all(q <= cap for q, cap in zip(bundle.quantities, supply, strict=True))
    )
    prices = [auction.bids[t].bundles[j].price for t, j in columns]
    scale = math.gcd(*prices) or 1
    costs = [p // scale for p in prices]
    # Rows as (lower, upper, [(column, coefficient)]) in exact integers first.
    rows: list[tuple[float, float, list[tuple[int, int]]]] = []
    per_bid: list[list[int]] = [[] for _ in auction.bids]
    for c, (t, _) in enumerate(columns):
        per_bid[t].append(c)
    trivially_infeasible = False
    for t, bid in enumerate(auction.bids):
        if bid.must_win and not per_bid[t]:
            trivially_infeasible = True  # must win, but no bundle meets the reserve
        if per_bid[t]:
            rows.append((1.0 if bid.must_win else 0.0, 1.0, [(c, 1) for c in per_bid[t]]))
    for r, resource in enumerate(auction.resources):
        terms = [(c, auction.bids[t].bundles[j].quantities[r]) for c, (t, j) in enumerate(columns)]
        terms = [(c, q) for c, q in terms if q]
        if terms:
            rows.append((-highspy.kHighsInf, float(resource.capacity), terms))
    bidders = sum(1 for cols in per_bid if cols)
    high = auction.max_winners
    if auction.min_winners > 0 or (high is not None and high < bidders):
        upper = highspy.kHighsInf if high is None else float(high)
        rows.append((float(auction.min_winners), upper, [(c, 1) for c in range(len(columns))]))
    coefficients = [abs(v) for _, _, terms in rows for _, v in terms]
    magnitudes = [sum(abs(c) for c in costs), *(r.capacity for r in auction.resources)]
    exact = (max(magnitudes, default=0) <= _EXACT
             and max(coefficients, default=0) <= _MATRIX_MAX)

    h = _highs()
    if not exact:  # HiGHS would refuse the model; solve_model reports TOO_LARGE
        return MilpModel(auction, h, columns, scale, exact, trivially_infeasible)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", _ABS_GAP)
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    for _, _, terms in rows:
        starts.append(len(index))
        index.extend(c for c, _ in terms)
        value.extend(float(v) for _, v in terms)
    n = len(columns)
    if n:
        h.passModel(
            n, len(rows), len(index), int(highspy.MatrixFormat.kRowwise),
            int(highspy.ObjSense.kMaximize), 0.0,
            np.array(costs, dtype=np.float64), np.zeros(n), np.ones(n),
            np.array([lo for lo, _, _ in rows], dtype=np.float64),
            np.array([hi for _, hi, _ in rows], dtype=np.float64),
            np.array(starts, dtype=np.int64), np.array(index, dtype=np.int64),
            np.array(value, dtype=np.float64), np.ones(n, dtype=np.int64),
        )
    return MilpModel(auction, h, columns, scale, exact, trivially_infeasible)


def add_no_good(model: MilpModel, choice: Sequence[int | None]) -> None:
    """Cut off exactly the allocation ``choice`` from ``model`` (a no-good cut).

    With S the columns ``choice`` sets to 1, adds
    ``sum_{c in S} (1 - x_c) + sum_{c not in S} x_c >= 1``: every 0-1 vector
    but S's own satisfies it. The zero bundle needs no column: a bid that
    loses in ``choice`` has all its columns outside S. O(columns).
    """
    chosen = {(t, j) for t, j in enumerate(choice) if j is not None}
    coefficients = [-1.0 if col in chosen else 1.0 for col in model.columns]
    n = len(coefficients)
    model.highs.addRow(1.0 - len(chosen), highspy.kHighsInf, n,
                       np.arange(n, dtype=np.int64), np.array(coefficients, dtype=np.float64))


def _run(h: highspy.Highs, limit: float | None, scale: int,
         stats: dict[str, int | float | str]) -> tuple[highspy.HighsModelStatus, bool]:
    """Run HiGHS within ``limit`` seconds: its status, and whether it holds a solution.

    Both solvers record the same figures in ``stats``: status, nodes and, with a
    solution, the gap and the dual bound in micro-units.
    """
    h.setOptionValue("time_limit", highspy.kHighsInf if limit is None else limit)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    stats["solver_status"] = h.modelStatusToString(model_status)
    stats["nodes"] = int(info.mip_node_count)
    has_solution = bool(
        info.primal_solution_status == int(highspy.SolutionStatus.kSolutionStatusFeasible))
    if has_solution:
        stats["gap"] = float(info.mip_gap)
        stats["dual_bound"] = float(info.mip_dual_bound) * scale
    return model_status, has_solution


def solve_model(model: MilpModel, *, time_limit: float | None = None,
                method: str = "milp") -> Clearing:
    """Solve a built model: the work of :func:`solve_milp`, reusable after :func:`add_no_good`."""
    limit = check_time_limit(time_limit)
    started = time.perf_counter()
    auction, h = model.auction, model.highs
    stats: dict[str, int | float | str] = {
        "variables": len(model.columns), "rows": h.getNumRow(), "scale": model.scale,
        "exact": int(model.exact),
    }
    if model.trivially_infeasible:
        stats["solver_status"] = "must-win bid with no admissible bundle"
        return no_allocation(auction, method, Status.INFEASIBLE, stats, started)
    if not model.exact:
        stats["reason"] = (f"the integer program needs a sum beyond 2**53 or a quantity beyond "
                           f"{_MATRIX_MAX:.0e}, more than doubles carry exactly or HiGHS "
                           "accepts; use dp or bnb")
        return no_allocation(auction, method, Status.TOO_LARGE, stats, started)
    if not model.columns:  # nothing to award: HiGHS would call the model empty
        zero = (None,) * len(auction.bids)
        stats["solver_status"] = "no columns"
        if violation(auction, zero) is not None:
            return no_allocation(auction, method, Status.INFEASIBLE, stats, started)
        return allocation(auction, zero, method, Status.OPTIMAL, stats, started)
    model_status, has_solution = _run(h, limit, model.scale, stats)
    S = highspy.HighsModelStatus
    if model_status == S.kOptimal:
        status = Status.OPTIMAL
    elif model_status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        # 0-1 variables cannot be unbounded, so "unbounded or infeasible" is infeasible.
        return no_allocation(auction, method, Status.INFEASIBLE, stats, started)
    elif model_status in (S.kTimeLimit, S.kInterrupt):
        status = Status.TIME_LIMIT
        if not has_solution:  # stopped before HiGHS found one: try a greedy dive
            greedy = greedy_allocation(auction)
            if greedy is None:
                return no_allocation(auction, method, status, stats, started)
            stats["incumbent"] = "greedy"
            return allocation(auction, greedy, method, status, stats, started)
    else:
        raise RuntimeError(f"HiGHS stopped with model status {stats['solver_status']!r}")
    values = h.getSolution().col_value
    choice: list[int | None] = [None] * len(auction.bids)
    for (t, j), v in zip(model.columns, values, strict=True):
        if v > 0.5:
            choice[t] = j
    why = violation(auction, choice)
    if why is not None:
        raise ArithmeticError(f"HiGHS's solution, rounded to 0/1, is infeasible ({why}); "
                              "the coefficients are too large for exact double arithmetic")
    return allocation(auction, choice, method, status, stats, started)


def solve_milp(auction: Auction, *, time_limit: float | None = None) -> Clearing:
    """Clear ``auction`` optimally with HiGHS's branch and cut on the 0-1 program.

    Exact: ``mip_rel_gap = 0`` and ``mip_abs_gap = 1e-6``, below the
    objective's integer step (the module doc has the argument), and the
    revenue is recomputed in integers from the chosen bundles.

    Returns OPTIMAL, INFEASIBLE (must-win bids or winner counts cannot be
    met), or TIME_LIMIT after ``time_limit`` seconds with HiGHS's best
    incumbent; failing that a greedy allocation, the zero allocation when
    feasible, or no choice (``stats["incumbent"]`` says which).
    Stats: ``nodes``, ``solver_status`` (HiGHS's words), ``gap`` (relative),
    ``dual_bound`` (micro-units, a float), ``variables``, ``rows``,
    ``scale`` (the gcd of the prices) and ``exact`` (1 when every number
    fits a double exactly).

    Example:
        >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
        >>> a = Auction((Resource("cpu", 4),), (Bid("a", (Bundle((3,), 5),), must_win=True),
        ...                                     Bid("b", (Bundle((2,), 3),)),
        ...                                     Bid("c", (Bundle((2,), 3),))))
        >>> solve_milp(a).choice       # a must win, so only a 1-unit bundle could join it
        (0, None, None)
    """
    limit = check_time_limit(time_limit)
    started = time.perf_counter()
    result = solve_model(build_milp(auction), time_limit=limit)
    # Count the model build in ``seconds`` too.
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


def _sparse_matrix(sparse: SparseAuction) -> tuple[IntArray, IntArray, FloatArray]:
    """The winner determination's matrix, column-wise (``start``, ``index``, ``value``): each
    column's bid row (coefficient 1), then its resource rows (bid rows first, then
    resources). Read row-wise, the same arrays are the dual's constraint matrix."""
    n, bids = sparse.columns, sparse.bids
    lengths = np.diff(sparse.start) + 1
    col_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=col_start[1:])
    index = np.empty(int(col_start[-1]), dtype=np.int64)
    value = np.empty(int(col_start[-1]), dtype=np.float64)
    heads = col_start[:-1]
    index[heads] = sparse.owner
    value[heads] = 1.0
    body = np.ones(len(index), dtype=bool)
    body[heads] = False
    index[body] = bids + sparse.resource
    value[body] = sparse.quantity.astype(np.float64)
    return col_start, index, value


def _sparse_model(sparse: SparseAuction, scale: int, *, integer: bool) -> highspy.Highs:
    """HiGHS holding the winner determination of ``sparse`` (prices divided by ``scale``):
    one row per bid (at most one column), one per resource (at most its capacity); 0-1
    columns when ``integer``, else the LP relaxation. Built from the arrays in O(entries)."""
    n, bids, dims = sparse.columns, sparse.bids, len(sparse.capacity)
    col_start, index, value = _sparse_matrix(sparse)
    h = _highs()
    lower = np.concatenate([np.zeros(bids), np.full(dims, -highspy.kHighsInf)])
    upper = np.concatenate([np.ones(bids), sparse.capacity.astype(np.float64)])
    h.passModel(
        n, bids + dims, len(index), int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMaximize), 0.0, _scaled_prices(sparse, scale), np.zeros(n),
        np.ones(n), lower, upper, col_start, index, value,
        np.full(n, int(integer), dtype=np.int64),
    )
    return h


def _scaled_prices(sparse: SparseAuction, scale: int) -> FloatArray:
    return np.asarray([p // scale for p in sparse.price.tolist()], dtype=np.float64)


LEAST_PRICES_WEIGHT = 1e-6
"""How much extra :func:`lp_prices` weighs the prices' total in the dual's objective: small
enough to leave the dual optimal (a tie-break among optimal duals, as a lexicographic
objective would be), large enough to be seen beside HiGHS's tolerances."""


IPM_COLUMNS = 15_000
""":func:`lp_relaxation` solves programs with more columns than this by interior point (with
crossover, so the solution is still a vertex), fewer by simplex. Measured on the proxy round's
programs (issue 17, loaded 2-core machine): simplex 0.14 s / IPM 0.28 s at 1,565 columns,
0.85 / 1.98 s at 6,035, 14.7 / 8.4 s at 21,850; at 219,779 simplex had not finished in
28 minutes."""


@dataclass(frozen=True, slots=True, eq=False)
class LpSolution:
    """The LP relaxation of a sparse winner determination, from one solve of its dual."""

    prices: list[float]
    """The least per-unit resource prices supporting the LP, micro-units."""
    bound: float
    """The dual's objective at them: an upper bound on any allocation's welfare, micro-units."""
    fractions: FloatArray
    """The LP's optimal fractional allocation, one entry per column, in [0, 1]."""


def lp_relaxation(sparse: SparseAuction, *, time_limit: float | None = None
                  ) -> LpSolution | None:
    """Solve the LP relaxation through its dual: least supporting prices, bound, fractions.

    The LP ``max sum v x`` over fractional bundles (each bid's at most 1,
    each resource's use at most its capacity) has a dual in prices ``pi_r
    >= 0`` per resource and a utility ``u_t >= 0`` per bid with ``u_t +
    pi . q >= v`` for every bundle; at its optimum ``sum u + pi . capacity``
    equals the LP's, a bound on welfare. One LP over the dual, minimising
    ``sum u + (1 + w) pi . capacity`` (``w`` =
    :data:`LEAST_PRICES_WEIGHT`), finds among the optimal duals the prices
    of least total: linear prices at which no bidder wants more than the LP
    gives it, charging as little as that allows. When the LP's optimum is
    integral they are the least Walrasian prices, and charging the winners
    ``pi . q`` is a core outcome (no coalition can do better than trade at
    those prices). The dual's row duals are the primal's fractions. None
    when HiGHS does not finish within ``time_limit``.
    """
    limit = check_time_limit(time_limit)
    prices = sparse.price.tolist()
    scale = math.gcd(*prices) or 1
    n, bids, dims = sparse.columns, sparse.bids, len(sparse.capacity)
    if n == 0:
        return LpSolution([0.0] * dims, 0.0, np.zeros(0))
    # Variables (u per bid, pi per resource): the primal's column-wise matrix read
    # row-wise is one row per bundle, u_t + pi . q >= v.
    col_start, index, value = _sparse_matrix(sparse)
    capacity = sparse.capacity.astype(np.float64)
    h = _highs()
    h.passModel(
        bids + dims, n, len(index), int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize), 0.0,
        np.concatenate([np.ones(bids), (1.0 + LEAST_PRICES_WEIGHT) * capacity]),
        np.zeros(bids + dims), np.full(bids + dims, highspy.kHighsInf),
        _scaled_prices(sparse, scale), np.full(n, highspy.kHighsInf),
        col_start[:-1], index, value, np.zeros(bids + dims, dtype=np.int64),
    )
    h.setOptionValue("time_limit", highspy.kHighsInf if limit is None else limit)
    if n > IPM_COLUMNS:
        h.setOptionValue("solver", "ipm")
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    solution = h.getSolution()
    x = np.asarray(solution.col_value)
    pi = np.maximum(x[bids:], 0.0)
    bound = float(np.maximum(x[:bids], 0.0).sum() + pi @ capacity)
    fractions = np.clip(np.abs(np.asarray(solution.row_dual, dtype=np.float64)), 0.0, 1.0)
    return LpSolution([float(p) * scale for p in pi], bound * scale, fractions)


def lp_prices(sparse: SparseAuction, *, time_limit: float | None = None
              ) -> tuple[list[float], float] | None:
    """The least per-unit resource prices that support the LP relaxation, and its optimum
    (:func:`lp_relaxation`); None when HiGHS does not finish within ``time_limit``."""
    found = lp_relaxation(sparse, time_limit=time_limit)
    return None if found is None else (found.prices, found.bound)


def solve_sparse(sparse: SparseAuction, *, time_limit: float | None = None,
                 start: Sequence[int | None] | None = None, rel_gap: float = 0.0) -> Clearing:
    """Clear a :class:`SparseAuction` with HiGHS, built from its arrays in O(entries).

    The same 0-1 program as :func:`solve_milp` (one row per bid, one per
    resource), without the per-resource Python loops that make the dense
    model cost ``bundles x resources``. ``start`` (a bundle index or None
    per bid, feasible) replaces HiGHS's incumbent when a time-limited solve
    found nothing better, so it never returns less. (Handed to HiGHS as a
    starting solution instead, it stalled HiGHS at the root at 10 000 bids; as
    a complete 0/1 vector through ``setSolution`` it found nothing better in
    51 s either: issue 17's report.) ``rel_gap`` > 0 lets
    HiGHS stop once its incumbent is proven within that fraction of the
    optimum (status TIME_LIMIT then, as the result is not proven optimal).
    ``choice[t]`` indexes bid ``t``'s columns in order, as
    :meth:`SparseAuction.to_auction` numbers its bundles. Stats as
    :func:`solve_milp`'s, ``gap`` and ``dual_bound`` included whenever
    HiGHS holds a solution; the revenue and feasibility are recomputed in
    exact integers.
    """
    limit = check_time_limit(time_limit)
    if not 0.0 <= rel_gap < 1.0:
        raise ValueError(f"rel_gap {rel_gap!r} must be in [0, 1)")
    started = time.perf_counter()
    n, bids, dims = sparse.columns, sparse.bids, len(sparse.capacity)
    first = np.searchsorted(sparse.owner, np.arange(bids + 1))
    prices = sparse.price.tolist()
    scale = math.gcd(*prices) or 1
    stats: dict[str, int | float | str] = {"variables": n, "rows": bids + dims, "scale": scale}
    exact = (sum(abs(p) for p in prices) // scale <= _EXACT
             and int(sparse.capacity.max(initial=0)) <= _EXACT
             and int(np.abs(sparse.quantity).max(initial=0)) <= _MATRIX_MAX)
    stats["exact"] = int(exact)
    choice: list[int | None] = [None] * bids
    if not exact:
        stats["reason"] = "the integer program needs numbers beyond what doubles carry exactly"
        return Clearing(Status.TOO_LARGE, "milp", stats=stats,
                        seconds=time.perf_counter() - started)
    if n == 0:
        return Clearing(Status.OPTIMAL, "milp", 0, tuple(choice), (0,) * dims, stats=stats,
                        seconds=time.perf_counter() - started)
    h = _sparse_model(sparse, scale, integer=True)
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("mip_abs_gap", _ABS_GAP)
    model_status, has_solution = _run(h, limit, scale, stats)
    S = highspy.HighsModelStatus
    if model_status == S.kOptimal and rel_gap == 0.0:
        status = Status.OPTIMAL
    elif model_status in (S.kOptimal, S.kTimeLimit, S.kInterrupt):
        status = Status.TIME_LIMIT
    else:
        raise RuntimeError(f"HiGHS stopped with model status {stats['solver_status']!r}")
    if has_solution:
        chosen = np.flatnonzero(np.asarray(h.getSolution().col_value) > 0.5)
    else:
        stats["incumbent"] = "zero"
        chosen = np.zeros(0, dtype=np.int64)
    why = sparse.violation(chosen.tolist())
    if why is not None:
        raise ArithmeticError(f"HiGHS's solution, rounded to 0/1, is infeasible ({why})")
    if start is not None and status is not Status.OPTIMAL:
        given = np.asarray([int(first[t]) + j for t, j in enumerate(start) if j is not None],
                           dtype=np.int64)
        if sparse.violation(given.tolist()) is None and sum(prices[c] for c in given.tolist()) \
                > sum(prices[c] for c in chosen.tolist()):
            chosen = given
            stats["incumbent"] = "start"
    for c in chosen.tolist():
        t = int(sparse.owner[c])
        choice[t] = c - int(first[t])
    revenue = sum(prices[c] for c in chosen.tolist())
    return Clearing(status, "milp", revenue, tuple(choice), tuple(sparse.usage(chosen.tolist())),
                    stats=stats, seconds=time.perf_counter() - started)
