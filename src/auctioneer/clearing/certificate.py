"""How far any coalition could block an allocation's payments, bounded by LP duality.

Core payments (:mod:`auctioneer.clearing.core`) need a proven-optimal
allocation and one winner determination per coalition constraint; at
thousands of bidders neither finishes in time. This module prices an
allocation from one LP instead and says, exactly, how far it can be from
the core.

With winners ``W`` bidding ``v_j`` (net) for what they win and paying
``p_j``, coalition ``C`` of bidders (with the seller) **blocks** by its
margin ``w(C) - sum over W \\ C of p_j - sum over W and C of v_j``, where
``w(C)`` is the best welfare ``C``'s bids alone can reach; the payments are
in the core when no margin is positive. Take any prices ``pi >= 0`` per
resource and each bid's utility at them, ``u_t = max(0, max over its
bundles of v - pi . q)``: that pair is feasible for the dual of every
coalition's LP relaxation, so ``w(C) <= sum over C of u_t + pi .
capacity``. Maximising the margin's bound over ``C`` (a loser always joins,
as ``u_t >= 0``; a winner joins when ``u_j - v_j > -p_j``) gives, for
every coalition at once,

    margin(C)  <=  sum over losers of u_t + pi . capacity
                   + sum over winners of max(u_j - v_j, -p_j)        (*)

The right side is :func:`blocking_bound`. When it is at most 0, no
coalition blocks: the payments are **certified in the core**. Otherwise it
is a certified upper bound on how much any coalition could gain by
blocking. It is smallest, at ``D - welfare`` with ``D = sum u + pi .
capacity``, exactly when every winner pays at least ``v_j - u_j``; the
least such payments, :func:`dual_payments`, charge each winner its bid
minus its utility at the prices (never more than ``pi . q_j``, the linear
prices' charge, and never less than 0 for a package that only buys). With
``pi`` the LP relaxation's optimal prices
(:func:`~auctioneer.clearing.milp.lp_prices`), ``D`` is the LP bound and
the bound on the margin is the LP's excess over the allocation's welfare.
No payments can do better than the allocation's own shortfall: every
coalition of all bidders blocks by ``optimum - welfare`` whatever is paid,
so a time-limited winner determination's gap is a floor that only a better
allocation lowers.

Everything is exact: the prices are rounded to ``1 / 2**PRICE_BITS`` of a
micro-unit (a dyadic rational, so ``(*)`` holds for the rounded prices as
given) and the bound is computed in Python integers.

Example (a and b want one item each at 6, c both at 10; the LP is integral
at prices 5 and 5, so a and b pay 5 each, certified in the core):
    >>> from auctioneer.clearing.sparse import SparseAuction
    >>> sp = SparseAuction.build([1, 1], [0, 1, 2], [6, 6, 10],
    ...                          [[(0, 1)], [(1, 1)], [(0, 1), (1, 1)]])
    >>> won = {0: 0, 1: 1}
    >>> pay = dual_payments(sp, won, [5.0, 5.0])
    >>> pay, blocking_bound(sp, won, pay, [5.0, 5.0])
    ({0: 5, 1: 5}, Fraction(0, 1))
    >>> blocking_bound(sp, won, {0: 4, 1: 4}, [5.0, 5.0])   # VCG's 4 and 4: c blocks by 2
    Fraction(2, 1)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from auctioneer.clearing.sparse import SparseAuction

__all__ = ["PRICE_BITS", "blocking_bound", "dual_payments", "utilities"]

PRICE_BITS = 20
"""Prices are rounded to this many binary places of a micro-unit: at most half of 2**-20
micro-units per unit, far below any tolerance of the LP that produced them, and exact."""


def _grid(pi: Sequence[float], dims: int) -> list[int]:
    if len(pi) != dims:
        raise ValueError(f"{len(pi)} prices for {dims} resources")
    if not all(math.isfinite(p) for p in pi):
        raise ValueError("prices must be finite")
    return [max(0, round(p * 2**PRICE_BITS)) for p in pi]


def utilities(sparse: SparseAuction, pi: Sequence[float]) -> list[Fraction]:
    """Each bid's utility at prices ``pi``: ``max(0, max over its bundles of v - pi . q)``."""
    scaled = _grid(pi, len(sparse.capacity))
    best = [0] * sparse.bids
    resource, quantity = sparse.resource.tolist(), sparse.quantity.tolist()
    start, owner = sparse.start.tolist(), sparse.owner.tolist()
    for c, v in enumerate(sparse.price.tolist()):
        charge = sum(scaled[resource[k]] * quantity[k] for k in range(start[c], start[c + 1]))
        t = owner[c]
        best[t] = max(best[t], (v << PRICE_BITS) - charge)
    return [Fraction(b, 1 << PRICE_BITS) for b in best]


def _values(sparse: SparseAuction, won: Mapping[int, int]) -> dict[int, int]:
    for t, c in won.items():
        if not 0 <= c < sparse.columns or int(sparse.owner[c]) != t:
            raise ValueError(f"bid {t}: column {c} is not one of its bundles")
    return {t: int(sparse.price[c]) for t, c in won.items()}


def dual_payments(sparse: SparseAuction, won: Mapping[int, int], pi: Sequence[float]
                  ) -> dict[int, int]:
    """The least whole payments that make :func:`blocking_bound` its smallest at ``pi``.

    ``won`` maps each winning bid to the column it wins. Winner ``j`` pays
    ``ceil(v_j - u_j)``, at least 0 (or its bid, if lower) when its bundle
    only buys; never more than its bid.
    """
    values = _values(sparse, won)
    u = utilities(sparse, pi)
    sells = np.zeros(sparse.columns, dtype=bool)
    np.logical_or.at(sells, np.repeat(np.arange(sparse.columns), np.diff(sparse.start)),
                     sparse.quantity < 0)
    pay = {}
    for t, c in won.items():
        least = math.ceil(values[t] - u[t])
        # A buyer's core payment is never below 0 (its VCG payment is not), unless its
        # bid is: charging it 0 rather than less leaves the bound where it is.
        pay[t] = least if sells[c] else max(least, min(0, values[t]))
    return pay


def blocking_bound(sparse: SparseAuction, won: Mapping[int, int], payments: Mapping[int, int],
                   pi: Sequence[float]) -> Fraction:
    """An upper bound on every coalition's blocking margin, from prices ``pi`` (module doc).

    ``payments`` are the winners' net payments; at most 0 means no coalition
    blocks (certified core). Exact for any ``pi``; tightest at the LP's prices.
    """
    values = _values(sparse, won)
    if set(payments) != set(won):
        raise ValueError("payments must be given for exactly the winners")
    u = utilities(sparse, pi)
    scaled = _grid(pi, len(sparse.capacity))
    total = Fraction(sum(p * c for p, c in zip(scaled, sparse.capacity.tolist(), strict=True)),
                     1 << PRICE_BITS)
    total += sum((u[t] for t in range(sparse.bids) if t not in won), Fraction(0))
    total += sum((max(u[j] - values[j], Fraction(-payments[j])) for j in won), Fraction(0))
    return total
