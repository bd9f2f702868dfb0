"""The clock auction written plainly: one Python loop over users per round, Python ints.

The specification :func:`auctioneer.clock.run_clock` is tested against
(same prices, choices and trace, round for round), and the "pure Python"
baseline of ``auctioneer bench clock``: the shape of the implementation the
paper timed at "a few minutes" for about 100 bidders and 100 pools. It
stops on clearing, the price ceiling and the round limit; it does not look
for cycles. Like the engine, a proxy never bids a bundle that asks a pool
for more units than any allocation could hand out there.

Complexity: O(U * B * K) Python operations per round.

Example:
    >>> from auctioneer.clock.model import Market, Pool, User
    >>> market = Market.from_users([Pool("east", "cpu", 10, 1_000_000, used=9)],
    ...                            [User("a", 9_000_000, ({"east/cpu": 1},)),
    ...                             User("c", 3_000_000, ({"east/cpu": 1},))])
    >>> out = reference_clock(market)
    >>> out.status, out.rounds, out.prices, out.choice
    ('cleared', 9, [3102653], [0, -1])
"""

from __future__ import annotations

from dataclasses import dataclass

from auctioneer.clock.auction import DEFAULT_MAX_ROUNDS, price_ceiling
from auctioneer.clock.model import Market
from auctioneer.clock.step import StepMode, StepRule

__all__ = ["ReferenceResult", "reference_clock", "reference_step"]


@dataclass(frozen=True, slots=True)
class ReferenceResult:
    """The reference run's end: status value, final prices, choices (-1: none), payments."""

    status: str
    rounds: int
    prices: list[int]
    choice: list[int]
    payments: list[int]
    excess: list[int]
    price_trace: list[list[int]]


def reference_step(rule: StepRule, z: int, price: int, base: int, supply: int) -> int:
    """One pool's increment under ``rule``, from the definitions, in Fractions."""
    if z <= 0:
        return 0
    if rule.mode is StepMode.ABSOLUTE:
        step = max(min(rule.alpha * z, rule.delta), rule.epsilon)
    else:
        scale = base if rule.mode is StepMode.NORMALISED else price
        step = scale * max(min(rule.alpha * z / max(supply, 1), rule.delta), rule.epsilon)
    return max(int(step), 1)  # int() of a non-negative Fraction rounds down


def reference_clock(market: Market, rule: StepRule | None = None, *,
                    max_rounds: int = DEFAULT_MAX_ROUNDS) -> ReferenceResult:
    """Run the clock on ``market`` one user at a time (see the module docstring)."""
    rule = rule if rule is not None else StepRule.default()
    users, _, _ = market.shape
    bundles = [[list(market.bundle(u, b).items()) for b in range(int(market.bundle_count[u]))]
               for u in range(users)]
    budgets = [int(v) for v in market.budgets.tolist()]
    prices = [int(v) for v in market.reserves().tolist()]
    supply = [p.free for p in market.pools]
    # The most any allocation could hand out per pool: free units plus each user's
    # largest sale there. A bundle asking for more is never bid.
    most = list(supply)
    for user_bundles in bundles:
        for r in range(len(most)):
            most[r] += max((-q for bundle in user_bundles for pool, q in bundle
                            if pool == r and q < 0), default=0)
    servable = [[all(q <= most[r] for r, q in bundle) for bundle in user_bundles]
                for user_bundles in bundles]
    base = [p.base_price for p in market.pools]
    ceiling = price_ceiling(market)
    trace: list[list[int]] = []
    t = 0
    while True:
        choice, payments = [], []
        z = [-s for s in supply]
        for u in range(users):
            costs = [sum(q * prices[r] for r, q in bundle) for bundle in bundles[u]]
            open_slots = [b for b in range(len(costs)) if servable[u][b]]
            best = min(open_slots, key=costs.__getitem__) if open_slots else -1  # first min
            if best >= 0 and costs[best] <= budgets[u]:
                choice.append(best)
                payments.append(costs[best])
                for r, q in bundles[u][best]:
                    z[r] += q
            else:
                choice.append(-1)
                payments.append(0)
        trace.append(list(prices))
        over = [r for r, v in enumerate(z) if v > 0]
        if not over:
            status = "cleared"
            break
        if any(prices[r] > ceiling for r in over):
            status = "price-ceiling"
            break
        if t >= max_rounds:
            status = "round-limit"
            break
        prices = [p + reference_step(rule, z[r], p, base[r], supply[r])
                  for r, p in enumerate(prices)]
        t += 1
    return ReferenceResult(status, t, prices, choice, payments, z, trace)
