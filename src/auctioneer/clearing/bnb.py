"""Clear an auction by a hand-written depth-first branch and bound (Lagrangian bounds).

Kelly's exercise 7 asks for a branch and bound "without reinventing wheels":
HiGHS (:func:`auctioneer.clearing.milp.solve_milp`) already is a far better
branch and bound, with presolve, cuts and an LP at every node. This one
exists beside it for two reasons: it is a *comparison point* (how much of
HiGHS's speed is the LP, how much the search), and a *pure-Python fallback*
that needs neither HiGHS nor floating-point arithmetic in its decisions.

The search branches on one bid per level (the bids whose best bundle is
worth most first), trying the bid's admissible bundles best-first, by
Lagrangian value (price minus what the multipliers below charge for its
resources), and its zero bundle last (none for a must-win bid). The
incumbent starts from a greedy dive (bids by best price, each its dearest
bundle that keeps completion possible). A node is cut when it cannot be
completed feasibly (below) or when its upper bound is below the
incumbent's revenue plus ``g``, the gcd of the prices: every revenue is a
sum of prices, hence a multiple of ``g``, so nothing in between exists.

**The bound.** Write every side constraint as a row ``a_r . x <= b_r``: one
per resource (``q . x <= capacity``), ``sum x <= max_winners`` and
``-sum x <= -min_winners``. For *any* multipliers ``lam >= 0`` and any
feasible completion ``x`` of a node,

    price . x  <=  price . x + lam . (b - A x)          (each b_r - a_r . x >= 0)
               =   lam . b + sum_t (price_t - lam . a_t) . x_t
               <=  lam . b + sum_t max_j (price_tj - lam . a_tj)

where the max runs over bid ``t``'s options (0 for its zero bundle when it may
lose). This is Lagrangian weak duality: the right-hand side is a valid upper
bound for every ``lam >= 0``, tight or not. Only the choice of ``lam`` is
heuristic: a few rounds of subgradient optimisation in floating point pick
it, then it is truncated to integers over a power-of-two denominator ``D``,
so every bound is evaluated in exact integer arithmetic (``D`` times the
bound) and no rounding can make it invalid. The best multipliers nearly
match the root LP bound (for this problem the Lagrangian dual equals the LP
relaxation, since each bid's choose-one polytope is integral). ``lam = 0``
(the sum of each bid's best price) and a few runner-up multipliers are kept
too, as deeper in the tree another one can be tighter, and a node is cut
when *any* of the bounds fails to beat the incumbent, a minimum of valid
bounds being valid. The per-bid maxima do not depend on the node, so suffix sums make
each bound O(rows) per node.

**Feasibility look-ahead.** A node is also cut when, for some row, what is
already fixed plus the least every remaining bid must add exceeds ``b_r``.
With sellers (negative quantities) this is the only sound capacity test, as
a partial allocation may overdraw a resource that a later seller refills.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> a = Auction((Resource("rooms", 5),), (
    ...     Bid("x", (Bundle((3,), 18), Bundle((5,), 26))),
    ...     Bid("y", (Bundle((2,), 11),)),
    ... ))
    >>> r = solve_bnb(a)
    >>> r.status.value, r.revenue, r.choice
    ('optimal', 29, (0, 0))

Complexity: exponential in the worst case (the problem is NP-hard), O(bids
x rows) memory; each node costs O(rows x bounds) plus its bid's options.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from auctioneer.clearing.allocation import admissible, allocation, no_allocation
from auctioneer.clearing.limits import check_time_limit
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status, relative_gap

__all__ = ["branch_and_bound", "greedy_allocation", "solve_bnb"]

_DENOMINATOR = 1 << 32
"""Multipliers are truncated to multiples of 1/_DENOMINATOR: exact integer bounds."""
_SUBGRADIENT_ROUNDS = 400
"""At most this many subgradient rounds (O(bundles x rows) each, in numpy); two-sided
instances needed about 200 to reach the LP bound, one-sided ones far fewer."""
_THETA_MIN = 1e-6
"""Step scale below which the subgradient rounds stop: the multipliers no longer move."""
_KEEP = 3
"""Multiplier vectors kept besides zero: deep in the tree a runner-up is sometimes tighter."""
_CLOCK_EVERY = 256
"""Nodes between clock reads: the time limit is honoured to within that many nodes."""


# An option of a bid: (bundle index or None, price, row coefficients).
_Option = tuple[int | None, int, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class _Problem:
    """The auction as rows ``a . x <= b`` over per-bid option lists (see the module doc)."""

    rhs: tuple[int, ...]
    options: tuple[tuple[_Option, ...], ...]  # per bid, bundles only (no zero option)
    may_lose: tuple[bool, ...]


def _problem(auction: Auction) -> _Problem:
    rhs = list(auction.capacities)
    extra: list[int] = []  # coefficient of a winning option in each winner-count row
    if auction.max_winners is not None:
        rhs.append(auction.max_winners)
        extra.append(1)
    if auction.min_winners > 0:
        rhs.append(-auction.min_winners)
        extra.append(-1)
    options = tuple(
        tuple((j, bid.bundles[j].price, bid.bundles[j].quantities + tuple(extra)) for j in js)
        for bid, js in zip(auction.bids, admissible(auction), strict=True)
    )
    return _Problem(tuple(rhs), options, tuple(not bid.must_win for bid in auction.bids))


@dataclass(frozen=True, slots=True)
class _Bound:
    """Multipliers ``lam = weights / denominator``; ``value`` of option = D*price - w . a."""

    weights: tuple[int, ...]
    denominator: int

    def value(self, option: _Option) -> int:
        return self.denominator * option[1] - sum(
            w * a for w, a in zip(self.weights, option[2], strict=True))

    def best(self, options: Sequence[_Option], may_lose: bool) -> int | None:
        values = [self.value(o) for o in options]
        if may_lose:
            values.append(0)
        return max(values) if values else None

    def root(self, problem: _Problem) -> int | None:
        """D times the bound on the whole problem (None: some must-win bid has no option)."""
        total = sum(w * b for w, b in zip(self.weights, problem.rhs, strict=True))
        for options, may_lose in zip(problem.options, problem.may_lose, strict=True):
            best = self.best(options, may_lose)
            if best is None:
                return None
            total += best
        return total


def _multipliers(problem: _Problem, lower: int | None, deadline: float | None) -> list[_Bound]:
    """Lagrange multipliers by subgradient optimisation, the best last: any ``lam`` is valid.

    Floats are fine here because only the *choice* of multipliers uses them;
    the bound they give is then evaluated exactly (see :class:`_Bound`).
    """
    rows = len(problem.rhs)
    zero = _Bound((0,) * rows, 1)
    flat = [(t, o) for t, opts in enumerate(problem.options) for o in opts]
    if rows == 0 or not flat:
        return [zero]
    owner = np.array([t for t, _ in flat])
    price = np.array([float(o[1]) for _, o in flat])
    coef = np.array([[float(a) for a in o[2]] for _, o in flat]).reshape(len(flat), rows)
    rhs = np.array([float(b) for b in problem.rhs])
    floor_value = np.where(np.array(problem.may_lose), 0.0, -np.inf)  # the zero option
    lam = np.zeros(rows)
    candidates = [zero]
    best_float = math.inf
    # Polyak steps theta * (bound - lower) / |grad|^2, theta halved whenever three
    # rounds in a row fail to cut the best bound by 0.1%: a poor lower bound
    # otherwise makes the steps overshoot and the iterates oscillate.
    theta = 1.0
    stale = 0
    scale = max(1.0, float(np.abs(price).max()))
    # The step's target: a revenue some allocation surely reaches. Without a
    # greedy one, every bid at its cheapest option (nothing, if it may lose).
    target = float(lower) if lower is not None else float(sum(
        min([o[1] for o in opts] + ([0] if lose else []), default=0)
        for opts, lose in zip(problem.options, problem.may_lose, strict=True)))
    for _ in range(_SUBGRADIENT_ROUNDS):
        if deadline is not None and time.perf_counter() > deadline:
            break
        value = price - coef @ lam
        top = floor_value.copy()
        np.maximum.at(top, owner, value)
        if not np.all(np.isfinite(top)):
            return [zero]  # a must-win bid has no option: the problem is infeasible anyway
        bound = float(lam @ rhs + top.sum())
        # Each bid's arg max (the first option reaching its max; none = the zero option).
        hit = np.flatnonzero(value >= top[owner])
        _, first = np.unique(owner[hit], return_index=True)
        grad = rhs - coef[hit[first]].sum(axis=0)
        if best_float - bound > 1e-3 * abs(bound):  # (inf - bound: the first round)
            stale = 0
        else:
            stale += 1
            if stale >= 3:
                theta, stale = theta / 2, 0
                if theta < _THETA_MIN:
                    break
        if bound < best_float:
            best_float = bound
            candidates.append(_Bound(tuple(int(x * _DENOMINATOR) for x in lam), _DENOMINATOR))
        # Projected step towards a smaller bound; stop once it cannot move or has
        # proved the lower bound optimal.
        active = (grad < 0) | (lam > 0)
        norm = float(grad[active] @ grad[active])
        gap = bound - target
        if norm == 0 or gap < 1:
            break
        lam = np.maximum(0.0, lam - theta * max(gap, 1e-9 * scale) / norm * grad)
    # Re-evaluate the last few candidates exactly; the best last.
    scored = [(Fraction(root, c.denominator), -n, c) for n, c in enumerate(candidates[-_KEEP:])
              if (root := c.root(problem)) is not None]
    return [c for _, _, c in sorted(scored, reverse=True)]


def _greedy(problem: _Problem, order: Sequence[int]) -> tuple[int, list[int | None]] | None:
    """One dive, no backtracking: each bid's best-priced option that keeps completion possible."""
    n = len(order)
    rows = len(problem.rhs)
    least = _least_rest(problem, order)
    if any(least[0][r] > problem.rhs[r] for r in range(rows)):
        return None
    load = [0] * rows
    revenue = 0
    picks: list[int | None] = [None] * n
    for d, t in enumerate(order):
        options = sorted(problem.options[t], key=lambda o: (-o[1], o[0]))
        choices: list[_Option] = [*options, (None, 0, (0,) * rows)] if problem.may_lose[t] \
            else options
        for o in choices:
            if all(load[r] + o[2][r] + least[d + 1][r] <= problem.rhs[r] for r in range(rows)):
                for r in range(rows):
                    load[r] += o[2][r]
                revenue += o[1]
                picks[t] = o[0]
                break
        else:
            return None
    return revenue, picks


def _greedy_start(problem: _Problem) -> tuple[int, list[int | None]] | None:
    """The greedy dive over the bids in order of their best price."""
    by_price = sorted(range(len(problem.options)), key=lambda t: (
        -max((o[1] for o in problem.options[t]), default=0), t))
    return _greedy(problem, by_price)


def greedy_allocation(auction: Auction) -> tuple[int | None, ...] | None:
    """A feasible allocation by one greedy dive (bids by best price, each its dearest
    bundle that keeps completion possible), or None when the dive dead-ends.

    Not optimal; a fallback incumbent. O(bids x (log bids + bundles x rows)).
    """
    problem = _problem(auction)
    if any(not opts and not lose for opts, lose in zip(problem.options, problem.may_lose,
                                                       strict=True)):
        return None
    found = _greedy_start(problem)
    return None if found is None else tuple(found[1])


def _least_rest(problem: _Problem, order: Sequence[int]) -> list[list[int]]:
    """least[d][r]: the least that bids order[d:] must add to row r (0 for a bid that may lose)."""
    rows = len(problem.rhs)
    least = [[0] * rows for _ in range(len(order) + 1)]
    for d in range(len(order) - 1, -1, -1):
        t = order[d]
        options = problem.options[t]
        for r in range(rows):
            low = min((o[2][r] for o in options), default=0)
            if problem.may_lose[t]:
                low = min(low, 0)
            least[d][r] = least[d + 1][r] + low
    return least


@dataclass(slots=True)
class _Search:
    """The depth-first search state and counters (mutable by design: one search)."""

    nodes: int = 0
    pruned: int = 0
    infeasible: int = 0
    timed_out: bool = False


def _search(
    problem: _Problem,
    bounds: Sequence[_Bound],
    k: int,
    initial: Sequence[tuple[int, list[int | None]]],
    deadline: float | None,
) -> tuple[list[tuple[int, tuple[int | None, ...]]], _Search]:
    """Depth-first branch and bound for the ``k`` best allocations (distinct choice vectors)."""
    n = len(problem.options)
    rows = len(problem.rhs)
    rhs = problem.rhs
    # Every revenue is a sum of prices, so a multiple of their gcd: beating
    # the incumbent means beating it by a whole step.
    step = math.gcd(*(o[1] for opts in problem.options for o in opts)) or 1
    # Branch on the bids whose best option is worth most (under the best bound) first.
    guide = bounds[-1]
    best_value = [guide.best(problem.options[t], problem.may_lose[t]) or 0 for t in range(n)]
    order = sorted(range(n), key=lambda t: (-best_value[t], t))
    least = _least_rest(problem, order)
    # Options per level, best (Lagrangian value, then price) first, the zero bundle last.
    zero: _Option = (None, 0, (0,) * rows)
    levels: list[list[_Option]] = []
    for t in order:
        opts = sorted(problem.options[t], key=lambda o: (-guide.value(o), -o[1], o[0]))
        if problem.may_lose[t]:
            opts.append(zero)
        levels.append(opts)
    # value[d][o][i]: D_i times option o's Lagrangian value under bound i (see
    # _Bound); rest[d][i]: the most bids order[d:] can add, the sum of their best.
    value = [[[b.value(o) for b in bounds] for o in opts] for opts in levels]
    rest = [[0] * len(bounds) for _ in range(n + 1)]
    for d in range(n - 1, -1, -1):
        for i in range(len(bounds)):
            rest[d][i] = rest[d + 1][i] + max(v[i] for v in value[d])
    state = _Search()
    # The k best so far: a min-heap of (revenue, -sequence, choice), so equal
    # revenues keep the earlier-found one (deterministic). The search never
    # reaches a leaf twice, but the initial allocations may come round again.
    best: list[tuple[int, int, tuple[int | None, ...]]] = []
    held: set[tuple[int | None, ...]] = set()
    found = 0

    def offer(revenue: int, choice: tuple[int | None, ...]) -> None:
        nonlocal found
        if choice in held:
            return
        found += 1
        if len(best) < k:
            heapq.heappush(best, (revenue, -found, choice))
        elif revenue > best[0][0]:
            held.discard(heapq.heapreplace(best, (revenue, -found, choice))[2])
        else:
            return
        held.add(choice)

    for revenue, picks in initial:
        offer(revenue, tuple(picks))

    load = [0] * rows
    choice: list[int | None] = [None] * n
    revenue = 0
    # Per level: the feasible options with their values, the next one to try,
    # and D_i times (revenue so far + the Lagrangian value of the slack) per bound.
    cand: list[list[tuple[_Option, list[int]]]] = [[] for _ in range(n)]
    nxt = [0] * n
    base: list[list[int]] = [[] for _ in range(n)]

    def open_level(d: int) -> None:
        """The options of level d that leave a completion possible."""
        kept = []
        after = least[d + 1]
        for option, v in zip(levels[d], value[d], strict=True):
            a = option[2]
            if all(load[r] + a[r] + after[r] <= rhs[r] for r in range(rows)):
                kept.append((option, v))
            else:
                state.infeasible += 1
        cand[d] = kept
        nxt[d] = 0
        base[d] = [b.denominator * revenue + sum(
            w * (rhs[r] - load[r]) for r, w in enumerate(b.weights)) for b in bounds]

    if n == 0 or any(least[0][r] > rhs[r] for r in range(rows)):
        if n == 0 and all(b >= 0 for b in rhs):
            offer(0, ())
        return _ranked(best), state
    open_level(0)
    d = 0
    while d >= 0:
        if nxt[d] == len(cand[d]):
            d -= 1
            if d >= 0:  # undo the option that level d had applied
                option = cand[d][nxt[d] - 1][0]
                revenue -= option[1]
                for r in range(rows):
                    load[r] -= option[2][r]
                choice[order[d]] = None
            continue
        option, values = cand[d][nxt[d]]
        nxt[d] += 1
        if len(best) == k:
            target = best[0][0] + step  # the next revenue up that could beat the k-th
            parent, after_rest = base[d], rest[d + 1]
            if any(parent[i] + values[i] + after_rest[i] < b.denominator * target
                   for i, b in enumerate(bounds)):
                state.pruned += 1
                continue
        state.nodes += 1
        if deadline is not None and state.nodes % _CLOCK_EVERY == 0 \
                and time.perf_counter() > deadline:
            state.timed_out = True
            break
        if d == n - 1:  # a leaf, feasible by the look-ahead
            choice[order[d]] = option[0]
            offer(revenue + option[1], tuple(choice))
            choice[order[d]] = None
            continue
        revenue += option[1]
        for r in range(rows):
            load[r] += option[2][r]
        choice[order[d]] = option[0]
        d += 1
        open_level(d)
    return _ranked(best), state


def _ranked(
    best: list[tuple[int, int, tuple[int | None, ...]]],
) -> list[tuple[int, tuple[int | None, ...]]]:
    """Revenue descending, then the earliest found."""
    return [(rev, choice) for rev, _, choice in sorted(best, reverse=True)]


def branch_and_bound(
    auction: Auction, k: int, time_limit: float | None,
) -> tuple[list[tuple[int, tuple[int | None, ...]]], dict[str, int | float | str], bool]:
    """The ``k`` best allocations as (revenue, choice), best first; stats; whether time ran out."""
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    problem = _problem(auction)
    stats: dict[str, int | float | str] = {"bound": "lagrangian"}
    if any(not opts and not lose for opts, lose in zip(problem.options, problem.may_lose,
                                                       strict=True)):
        stats.update(nodes=0, pruned=0, infeasible=0)
        return [], stats, False  # a must-win bid with no admissible bundle
    greedy = _greedy_start(problem)
    stats["greedy"] = "none" if greedy is None else greedy[0]
    zero = _Bound((0,) * len(problem.rhs), 1)
    bounds = [zero, *(b for b in _multipliers(problem, None if greedy is None else greedy[0],
                                              deadline) if any(b.weights))]
    lagrange = bounds[-1]
    root = lagrange.root(problem)
    if root is not None:
        stats["root_bound"] = root // lagrange.denominator
    # Start from the greedy allocation and, when feasible, the zero one (with
    # sellers the greedy dive can dead-end while awarding nothing cannot).
    initial = [] if greedy is None else [greedy]
    if all(problem.may_lose) and all(b >= 0 for b in problem.rhs):
        initial.append((0, [None] * len(problem.options)))
    found, state = _search(problem, bounds, k, initial, deadline)
    stats.update(nodes=state.nodes, pruned=state.pruned, infeasible=state.infeasible)
    return found, stats, state.timed_out


def solve_bnb(auction: Auction, *, time_limit: float | None = None) -> Clearing:
    """Clear ``auction`` optimally by depth-first branch and bound with Lagrangian bounds.

    Returns OPTIMAL with a revenue-maximising allocation, INFEASIBLE when no
    allocation meets the must-win bids and winner counts, or TIME_LIMIT after
    ``time_limit`` seconds with the best allocation found (the greedy start,
    or the zero allocation, or none when even that is infeasible). Revenue
    and use are recomputed exactly from the chosen bundles; everything here
    is integer arithmetic except the choice of multipliers.

    Stats: ``nodes`` explored, ``pruned`` by the bound, ``infeasible``
    options cut by the look-ahead, ``bound`` ("lagrangian"), ``root_bound``
    (the best bound at the root, micro-units) and ``greedy`` (the starting
    incumbent's revenue, or "none"); on a time limit with an incumbent,
    ``dual_bound`` (the root bound) and ``gap`` (relative, as HiGHS's).

    Example:
        >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
        >>> a = Auction((Resource("cpu", 4),), (Bid("a", (Bundle((3,), 5),)),
        ...                                     Bid("b", (Bundle((2,), 3),)),
        ...                                     Bid("c", (Bundle((2,), 3),))))
        >>> solve_bnb(a).revenue        # b and c together beat a alone
        6

    Complexity: see the module docstring; ``time_limit`` is checked every
    few hundred nodes.
    """
    limit = check_time_limit(time_limit)
    started = time.perf_counter()
    found, stats, timed_out = branch_and_bound(auction, 1, limit)
    status = Status.TIME_LIMIT if timed_out else Status.OPTIMAL
    if not found:
        return no_allocation(auction, "bnb", Status.TIME_LIMIT if timed_out
                             else Status.INFEASIBLE, stats, started)
    if timed_out and "root_bound" in stats:
        # The root's Lagrangian bound holds for the whole tree: the best bound known.
        bound = int(stats["root_bound"])
        stats["dual_bound"] = bound
        stats["gap"] = relative_gap(found[0][0], bound)
    return allocation(auction, found[0][1], "bnb", status, stats, started)
