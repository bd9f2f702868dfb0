"""The ascending clock auction driven by bidder proxies, every proxy evaluated at once.

Each round (the paper's algorithm, Fig. 1):

1. every proxy ``G_u(p)`` names its user's cheapest acceptable bundle at the
   current prices ``p`` if it costs no more than the user's budget, else
   nothing: one gather-multiply-add per bundle entry over the padded
   ``(K, U, B)`` arrays, then ``argmin`` over each user's bundles. A bundle
   asking a pool for more than any allocation could hand out
   (:meth:`Market.servable`) is never bid: it could never be served, and
   bidding it would only push prices up for everyone;
2. excess demand ``z = sum of the chosen bundles - operator supply`` (an
   integer scatter-add over the chosen entries);
3. if ``z <= 0`` in every pool the auction has **cleared**; otherwise every
   pool with ``z > 0`` rises by :meth:`StepRule.steps` and the loop repeats.

Prices start at the pools' reserve prices (:func:`reserve_prices`) and never
fall, so the operator, a seller asking the reserve, always offers its free
capacity. Money and quantities are int64 throughout; :func:`run_clock`
refuses, before the first round, a market whose costs could overflow.

**Termination.** With pure buyers and sellers the clock always clears: a
pool whose price exceeds every budget has no buyer left, and every round
raises some price by at least one micro-unit. Traders (users who buy and
sell) can keep a pool over-demanded forever, so three more ways to stop
are reported as such, never as a clearing:

* :attr:`Status.CYCLE` -- the same demand state (every user's choice)
  recurred, and along the price movement between the two occurrences no
  user's decision can ever change: the state sequence repeats forever.
  Proven for absolute and normalised steps, whose increments depend on the
  excess demand alone; relative steps are not translation-invariant, so
  there a cycle ends at the ceiling instead.
* :attr:`Status.PRICE_CEILING` -- a pool with positive excess demand is
  priced above the ceiling (the highest buyer budget or reserve): no user
  can afford a unit out of its budget, so only traders' sales fund it.
* :attr:`Status.ROUND_LIMIT` -- ``max_rounds`` price updates without any
  of the above.

Complexity: O(U * B * K) numpy work per round (and the same again in rounds
where a market with traders repeats a state); memory O(U * B) beyond the
market, plus the trace, O(rounds * pools).

Example:
    >>> from auctioneer.clock.model import Market, Pool, User
    >>> pools = (Pool("east", "cpu", capacity=10, used=9, base_price=1_000_000),
    ...          Pool("west", "cpu", capacity=10, used=2, base_price=1_000_000))
    >>> market = Market.from_users(pools, [
    ...     User("a", 9_000_000, ({"east/cpu": 1},)),
    ...     User("b", 5_000_000, ({"east/cpu": 1}, {"west/cpu": 1})),
    ...     User("c", 3_000_000, ({"east/cpu": 1},)),
    ... ])
    >>> result = run_clock(market)
    >>> result.status, result.rounds, result.prices.tolist()
    (<Status.CLEARED: 'cleared'>, 9, [3102653, 620000])
    >>> result.choice.tolist(), result.payments.tolist(), result.unsold.tolist()
    ([0, 1, -1], [3102653, 620000, 0], [0, 7])
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from auctioneer.clock.model import Market
from auctioneer.clock.step import StepMode, StepRule
from auctioneer.money import MONEY_MAX, format_money

__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "ClockResult",
    "Cycle",
    "InfeasibleAllocation",
    "Status",
    "allocation_problems",
    "check_allocation",
    "demand_history",
    "price_ceiling",
    "run_clock",
]

DEFAULT_MAX_ROUNDS = 10_000
"""Price updates before :attr:`Status.ROUND_LIMIT`."""
CYCLE_WINDOW = 64
"""The longest cycle (in rounds) that :attr:`Status.CYCLE` detection can prove."""

_BLOCKED = np.iinfo(np.int64).max
"""The cost given to a bundle that no allocation could serve (see Market.servable)."""

IntArray = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]
"""``progress(round, pools_over)``: called once per round evaluated."""


class Status(enum.Enum):
    """How a clock auction ended. Only CLEARED is an allocation to act on."""

    CLEARED = "cleared"
    """No pool has positive excess demand: every chosen bundle can be served. The
    allocation is feasible (:func:`check_allocation` verifies it)."""
    ROUND_LIMIT = "round-limit"
    """``max_rounds`` price updates and some pool is still over-demanded."""
    PRICE_CEILING = "price-ceiling"
    """A pool is over-demanded at a price above every budget and reserve: only traders'
    sales can be paying for it, and prices could rise without end."""
    CYCLE = "cycle"
    """The demand state repeats along a price direction that changes no user's decision:
    the clock would run forever (traders only; see :class:`Cycle`)."""


@dataclass(frozen=True, slots=True)
class Cycle:
    """A proven cycle: the state of round ``start`` recurred ``period`` rounds later."""

    start: int
    period: int
    users: tuple[int, ...]
    """Users whose choice changes within the cycle, or who buy a rising pool (at most 20)."""
    pools: tuple[int, ...]
    """Pools whose price rises over one period."""


@dataclass(frozen=True, slots=True, eq=False)
class ClockResult:
    """The end state of a clock auction and how it got there (arrays are read-only).

    ``choice[u]`` is the bundle slot user ``u`` holds (-1: nothing) and
    ``payments[u]`` what it pays, ``q . p`` at the final prices (negative:
    it is paid). ``excess`` is the final excess demand per pool;
    ``price_trace[t]`` and ``excess_trace[t]`` are the prices and excess
    demand of round ``t``, ``t = 0..rounds``. Money in micro-units.
    """

    status: Status
    detail: str
    rule: StepRule
    prices: IntArray
    reserves: IntArray
    choice: npt.NDArray[np.int32] = field(repr=False)
    payments: IntArray = field(repr=False)
    excess: IntArray = field(repr=False)
    rounds: int = 0
    price_trace: IntArray = field(default_factory=lambda: np.zeros((0, 0), np.int64),
                                  repr=False)
    excess_trace: IntArray = field(default_factory=lambda: np.zeros((0, 0), np.int64),
                                   repr=False)
    ceiling: int = 0
    """The price ceiling: the highest positive budget or reserve, micro-units."""
    cycle: Cycle | None = None
    seconds: float = 0.0

    @property
    def cleared(self) -> bool:
        """True when ``status`` is CLEARED."""
        return self.status is Status.CLEARED

    @property
    def winners(self) -> npt.NDArray[np.int64]:
        """Indices of the users holding a bundle."""
        return np.flatnonzero(self.choice >= 0)

    @property
    def unsold(self) -> IntArray:
        """Units offered but not taken, per pool: ``max(-excess, 0)``."""
        return np.maximum(-self.excess, 0)

    @property
    def revenue(self) -> int:
        """What the users pay in all (the operator's net receipts), micro-units."""
        return sum(int(v) for v in self.payments[self.choice >= 0].tolist())


class InfeasibleAllocation(ValueError):
    """A result that fails :func:`check_allocation`; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more"
                                           if len(problems) > 5 else "")
        super().__init__(f"the allocation is not feasible: {shown}")
        self.problems = problems


def price_ceiling(market: Market) -> int:
    """The highest positive budget or reserve: above it no user can buy a unit alone."""
    budgets = market.budgets
    top_budget = int(budgets.max()) if budgets.size else 0
    reserves = market.reserves()
    top_reserve = int(reserves.max()) if reserves.size else 0
    return max(top_budget, top_reserve, 1)


# --------------------------------------------------------------------------
# The engine


class _Engine:
    """The arrays and buffers of one run; ``evaluate`` is the proxies' round."""

    def __init__(self, market: Market, rule: StepRule) -> None:
        self.market = market
        self.rule = rule
        users, width, depth = market.shape
        self.users, self.width, self.depth = users, width, depth
        self.pools = len(market.pools)
        self.idx = market.pool_index
        self.qty = market.quantity
        self.flat_idx = self.idx.reshape(depth, -1)
        self.flat_qty = self.qty.reshape(depth, -1)
        self.budgets = market.budgets
        self.reserves = market.reserves()
        self.supply = market.supply()
        self.base = np.asarray([p.base_price for p in market.pools], dtype=np.int64)
        self.ceiling = price_ceiling(market)
        self.rows = np.arange(users, dtype=np.int64) * width
        servable = market.servable()
        self.servable = servable.reshape(-1)
        # Bundles no allocation could serve cost "infinity": never the cheapest, never won.
        self.blocked = None if servable.all() else ~servable
        self.cost = np.empty((users, width), dtype=np.int64)
        self.buf = np.empty((users, width), dtype=np.int64)
        self._check_bounds()

    def _check_bounds(self) -> None:
        """Refuse a market whose costs or excess demand could overflow int64."""
        base_max = int(self.base.max()) if self.base.size else 1
        top = self.ceiling + self.rule.max_step(self.ceiling, base_max)
        if self.users == 0:
            return
        # (U, B): units each bundle moves. Market refuses a bundle moving more than
        # 2**63 - 1, so no partial sum of |q| here can wrap.
        moved = np.abs(self.qty).sum(axis=0)
        biggest = int(moved.max()) if moved.size else 0
        flat = int(np.argmax(moved)) if moved.size else 0
        if biggest * top > MONEY_MAX:
            u, b = divmod(flat, self.width)
            raise ValueError(
                f"user {u} {self.market.user_names[u]!r} bundle {b}: moves {biggest:,} units; "
                f"at the price bound {format_money(min(top, MONEY_MAX))} its cost would "
                "overflow 64-bit money (lower the budgets or quantities)")
        total = sum(moved.max(axis=1).tolist()) + sum(self.supply.tolist())  # Python ints
        if total > MONEY_MAX:
            raise ValueError(f"the market moves {total:,} units in all: excess demand would "
                             "overflow 64 bits")

    def costs(self, prices: IntArray, out: IntArray) -> IntArray:
        """``out[u, b] = sum_k q[k, u, b] * prices[idx[k, u, b]]``."""
        np.take(prices, self.idx[0], out=out)
        np.multiply(out, self.qty[0], out=out)
        for k in range(1, self.depth):
            np.take(prices, self.idx[k], out=self.buf)
            np.multiply(self.buf, self.qty[k], out=self.buf)
            np.add(out, self.buf, out=out)
        if self.blocked is not None:
            np.putmask(out, self.blocked, _BLOCKED)
        return out

    def evaluate(self, prices: IntArray) -> tuple[npt.NDArray[np.int32], IntArray, IntArray]:
        """Every proxy at ``prices``: (choice with -1 for none, payments, excess demand)."""
        cost = self.costs(prices, self.cost)
        slot = cost.argmin(axis=1)
        flat = self.rows + slot
        pay = cost.reshape(-1)[flat]
        win = (pay <= self.budgets) & self.servable[flat]
        choice = np.where(win, slot, -1).astype(np.int32)
        payments = np.where(win, pay, 0)
        demand = np.zeros(self.pools, dtype=np.int64)
        chosen = flat[win]
        for k in range(self.depth):
            np.add.at(demand, self.flat_idx[k][chosen], self.flat_qty[k][chosen])
        return choice, payments, demand - self.supply

    def stable_along(self, delta: IntArray, states: list[npt.NDArray[np.int32]]) -> bool:
        """Whether no decision of ``states`` can change as prices move by k * delta, k >= 1.

        A holder of bundle c keeps it iff its cost does not rise (d_c <= 0)
        and no other bundle gains on it (d_b >= d_c); a user holding nothing
        stays out iff no bundle gets cheaper (d_b >= 0).
        """
        d = self.costs(delta, np.empty((self.users, self.width), dtype=np.int64))
        dmin = d.min(axis=1)
        flat_d = d.reshape(-1)
        for state in states:
            held = state >= 0
            d_held = flat_d[self.rows + np.maximum(state, 0)]
            ok_held = (d_held <= 0) & (d_held == dmin)
            if not np.all(np.where(held, ok_held, dmin >= 0)):
                return False
        return True


def _state_key(choice: npt.NDArray[np.int32]) -> bytes:
    return hashlib.blake2b(choice.tobytes(), digest_size=16).digest()


def run_clock(
    market: Market,
    rule: StepRule | None = None,
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    progress: Progress | None = None,
    detect_cycles: bool = True,
) -> ClockResult:
    """Run the clock on ``market`` from its reserve prices until it stops.

    ``rule`` defaults to :meth:`StepRule.default` (relative steps).
    ``progress(round, pools_over)`` hears every round. ``detect_cycles``
    (markets with traders, absolute or normalised steps only) can be turned
    off to let a cycle run into the ceiling or the round limit.
    Raises ValueError before the first round if money could overflow.
    """
    if type(max_rounds) is not int or max_rounds < 0:
        raise ValueError(f"max_rounds {max_rounds!r} must be an int >= 0")
    rule = rule if rule is not None else StepRule.default()
    started = time.perf_counter()
    engine = _Engine(market, rule)
    prices = engine.reserves.copy()
    has_traders = bool((market.kind_codes() == 2).any())
    watch = detect_cycles and has_traders and rule.mode is not StepMode.RELATIVE
    seen: dict[bytes, int] = {}
    window: deque[npt.NDArray[np.int32]] = deque(maxlen=CYCLE_WINDOW)
    price_trace: list[IntArray] = []
    excess_trace: list[IntArray] = []
    names = market.pool_names
    cycle: Cycle | None = None
    t = 0
    while True:
        choice, payments, excess = engine.evaluate(prices)
        price_trace.append(prices.copy())
        excess_trace.append(excess)
        over = np.flatnonzero(excess > 0)
        if progress is not None:
            progress(t, int(over.size))
        if not over.size:
            status = Status.CLEARED
            detail = f"no pool is over-demanded after {t} price update(s)"
            break
        if watch:
            key = _state_key(choice)
            first = seen.get(key)
            if first is not None and t - first <= len(window):
                states = list(window)[len(window) - (t - first):]
                if np.array_equal(states[0], choice):
                    delta = prices - price_trace[first]
                    if engine.stable_along(delta, states):
                        cycle = _describe_cycle(engine, states, delta, first, t)
                        status = Status.CYCLE
                        detail = _cycle_detail(market, cycle)
                        break
            seen[key] = t
            window.append(choice)
        above = over[prices[over] > engine.ceiling]
        if above.size:
            r = int(above[0])
            status = Status.PRICE_CEILING
            detail = (f"{names[r]} is over-demanded by {int(excess[r]):,} units at "
                      f"{format_money(int(prices[r]))}, above the ceiling "
                      f"{format_money(engine.ceiling)} (the highest budget or reserve): only "
                      "traders' sales can fund that demand"
                      + (f"; {above.size - 1} more pool(s) likewise" if above.size > 1 else ""))
            break
        if t >= max_rounds:
            status = Status.ROUND_LIMIT
            worst = int(over[np.argmax(excess[over])])
            detail = (f"stopped after max_rounds={max_rounds}: {over.size} pool(s) still "
                      f"over-demanded, most {names[worst]} by {int(excess[worst]):,} units")
            break
        prices = prices + rule.steps(excess, prices, base=engine.base, supply=engine.supply)
        t += 1

    trace_p = np.stack(price_trace)
    trace_z = np.stack(excess_trace)
    for array in (prices, choice, payments, excess, trace_p, trace_z, engine.reserves):
        array.flags.writeable = False
    return ClockResult(
        status=status, detail=detail, rule=rule, prices=prices, reserves=engine.reserves,
        choice=choice, payments=payments, excess=excess, rounds=t, price_trace=trace_p,
        excess_trace=trace_z, ceiling=engine.ceiling, cycle=cycle,
        seconds=time.perf_counter() - started,
    )


def demand_history(market: Market, result: ClockResult
                   ) -> Iterator[tuple[IntArray, npt.NDArray[np.int32], IntArray]]:
    """Every round's ``(prices, choice, payments)``, re-derived from ``result.price_trace``.

    The proxies are deterministic, so the trace of prices is the whole record:
    round ``t``'s choices are the proxies' answers at ``price_trace[t]``. The
    proxy round's activity rule reads them. O(U * B * K) per round.
    """
    engine = _Engine(market, result.rule)
    for prices in result.price_trace:
        choice, payments, _ = engine.evaluate(prices)
        yield prices, choice, payments


def _describe_cycle(engine: _Engine, states: list[npt.NDArray[np.int32]], delta: IntArray,
                    first: int, now: int) -> Cycle:
    stack = np.stack(states)
    varies = (stack != stack[0]).any(axis=0)
    rising = delta > 0
    held = states[0] >= 0
    slot = np.maximum(states[0], 0)
    buys_rising = np.zeros(engine.users, dtype=bool)
    for k in range(engine.depth):
        r = engine.idx[k][np.arange(engine.users), slot]
        q = engine.qty[k][np.arange(engine.users), slot]
        buys_rising |= held & (q > 0) & rising[r]
    users = np.flatnonzero(varies | buys_rising)[:20]
    return Cycle(start=first, period=now - first, users=tuple(int(u) for u in users),
                 pools=tuple(int(r) for r in np.flatnonzero(rising)))


def _cycle_detail(market: Market, cycle: Cycle) -> str:
    users = ", ".join(market.user_names[u] for u in cycle.users[:6])
    more = len(cycle.users) - 6
    pools = ", ".join(market.pool_names[r] for r in cycle.pools[:6])
    return (f"the demand state of round {cycle.start} recurred at round "
            f"{cycle.start + cycle.period} (period {cycle.period}) and no user's choice can "
            f"change as prices keep rising the same way ({pools}): the clock would never "
            f"clear; users involved: {users}" + (f" and {more} more" if more > 0 else ""))


# --------------------------------------------------------------------------
# Checking a result


def allocation_problems(market: Market, result: ClockResult) -> list[str]:
    """Everything wrong with ``result`` as an allocation of ``market``; empty when feasible.

    Recomputed in Python integers from the market, independently of the
    engine: every held bundle exists, every payment is ``q . p`` and within
    the budget, losers pay nothing, no pool hands out more than it is
    offered (operator's free capacity plus what users sell), prices are at
    least the reserves. Also the proxies' rule: every winner holds its
    cheapest servable bundle, every loser could afford none at the final
    prices.
    """
    problems: list[str] = []
    names = market.user_names
    pools = market.pool_names
    prices = [int(v) for v in result.prices.tolist()]
    reserves = [int(v) for v in market.reserves().tolist()]
    users, width, depth = market.shape
    if len(prices) != len(pools) or result.choice.shape != (users,):
        return [f"the result's shapes ({len(prices)} prices, {result.choice.shape} choices) "
                f"do not fit the market ({len(pools)} pools, {users} users)"]
    for r, (p, floor) in enumerate(zip(prices, reserves, strict=True)):
        if p < floor:
            problems.append(f"pool {pools[r]}: price {p} is below its reserve {floor}")
    net = [0] * len(pools)
    idx = market.pool_index.transpose(1, 2, 0).tolist()   # [u][b][k]
    qty = market.quantity.transpose(1, 2, 0).tolist()
    budgets = market.budgets.tolist()
    counts = market.bundle_count.tolist()
    choice = result.choice.tolist()
    payments = result.payments.tolist()
    servable = market.servable().tolist()
    for u in range(users):
        c = choice[u]
        costs = [sum(q * prices[r] for r, q in zip(idx[u][b], qty[u][b], strict=True))
                 for b in range(counts[u])]
        open_costs = [cost for b, cost in enumerate(costs) if servable[u][b]]
        cheapest = min(open_costs) if open_costs else None
        if c < 0:
            if payments[u] != 0:
                problems.append(f"user {names[u]!r} holds nothing but pays {payments[u]}")
            if cheapest is not None and cheapest <= budgets[u]:
                problems.append(f"user {names[u]!r} holds nothing but could afford a bundle "
                                f"({cheapest} <= budget {budgets[u]})")
            continue
        if c >= counts[u]:
            problems.append(f"user {names[u]!r} holds bundle {c}, which it did not offer")
            continue
        if not servable[u][c]:
            problems.append(f"user {names[u]!r} holds bundle {c}, which no allocation could "
                            "serve")
            continue
        if payments[u] != costs[c]:
            problems.append(f"user {names[u]!r} pays {payments[u]}, not q.p = {costs[c]}")
        if costs[c] > budgets[u]:
            problems.append(f"user {names[u]!r} pays {costs[c]}, over its budget {budgets[u]}")
        if costs[c] != cheapest:
            problems.append(f"user {names[u]!r} holds bundle {c} costing {costs[c]}, but "
                            f"another costs {cheapest}")
        for r, q in zip(idx[u][c], qty[u][c], strict=True):
            net[r] += q
    for r, pool in enumerate(market.pools):
        if net[r] > pool.free:
            problems.append(f"pool {pools[r]}: users take {net[r]:,} units net but only "
                            f"{pool.free:,} are free")
    return problems


def check_allocation(market: Market, result: ClockResult) -> None:
    """Raise :class:`InfeasibleAllocation` unless :func:`allocation_problems` finds nothing."""
    problems = allocation_problems(market, result)
    if problems:
        raise InfeasibleAllocation(problems)
