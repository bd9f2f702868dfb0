"""Shared markets for the clock tests."""

from fractions import Fraction

import pytest

from auctioneer.clock import Market, Pool, StepMode, StepRule, User

M = 1_000_000


def swap_traders() -> Market:
    """The known non-converging trader pair: t1 swaps b for a, t2 swaps a for b, at no cost.

    Neither pool has free capacity. t1 trades while p_a <= p_b, t2 while p_b <= p_a;
    whichever trades alone over-demands its pool, the step jumps that price past the
    other, and the roles swap for ever. The buyer of pool c sets the ceiling ($10).
    """
    pools = (Pool("x", "a", capacity=0, base_price=M, reserve=M),
             Pool("x", "b", capacity=0, base_price=M, reserve=M + 10_000),
             Pool("x", "c", capacity=10, base_price=M))
    return Market.from_users(pools, [
        User("t1", 0, ({"x/a": 1, "x/b": -1},)),
        User("t2", 0, ({"x/b": 1, "x/a": -1},)),
        User("u", 10 * M, ({"x/c": 1},)),
    ])


SWAP_RULE = StepRule(StepMode.ABSOLUTE, Fraction(20_000), Fraction(20_000), Fraction(1))
"""Two cents per unit of excess demand, at most two cents: each step jumps the gap."""


@pytest.fixture(scope="module")
def swap_market() -> Market:
    return swap_traders()
