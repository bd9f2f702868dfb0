"""Generalized Vickrey (VCG) payments: each winner pays the harm it does the others.

``payment_t = V(-t) - (V* - price_t)``: the best revenue the other bids could
raise without bid ``t``, minus what they raise in the chosen allocation.
Losers pay 0. With truthful bids, winners never pay more than they bid.

**Prefix/suffix DP** (the default where it applies). Re-solving without each
winner costs T more clearings. Instead, keep the dense DP's forward tables
``F_t`` (best revenue of bids ``1..t`` within *at most* ``c`` units, the
tables the clearing built anyway) and sweep a backward table ``G_t`` (bids
``t..T``). Because both are monotone in ``c``, the best split of the
capacity between the bids before ``t`` and those after is a max-plus
product at one point:

    V(-t) = max over c of F_{t-1}[c] + G_{t+1}[D_t - c]

where ``D_t`` is the grid top without bid ``t``. That is one elementwise
add and max over the grid per winner, on top of one backward pass: all
payments for about twice the cost of one clearing (measured ~2.2x for
100 bids x 3 bundles x 2 resources of capacity 100, the clearing included).

**Re-solve** (the fallback): solve the auction without ``t`` for each
winner, with any method. Used for methods other than DP, for auctions too
large for dense tables, and for side constraints, where the split above
does not hold (a must-win bid removed changes the normalised grid, and a
winner-count bound couples the prefix and suffix counts).

Side constraints change what ``V(-t)`` means; the choices made here:

* ``V(-t)`` is the optimum of the auction with bid ``t`` deleted: its own
  must-win requirement goes with it, the other bids' must-win flags and the
  winner-count bounds stay.
* If that auction is infeasible (``t`` was essential, e.g. for
  ``min_winners``), ``V(-t)`` is minus infinity and the Clarke payment is
  undefined: ``t`` pays its bid (pay-as-bid), and ``stats["vcg_essential"]``
  names it.
* A bid forced in by must-win or ``min_winners`` can displace more valuable
  bids, so its Clarke payment can exceed its bid. Payments are capped at
  the bid (individual rationality); ``stats["vcg_capped"]`` counts the caps.
  Without side constraints the cap never binds.

Two-sided auctions: a seller's payment is usually negative (it is paid), and
the payments need not sum to >= 0: VCG is not budget balanced.
``stats["vcg_deficit"]`` is the amount by which the auctioneer pays out more
than it takes in (0 when balanced).

Example (one item, three bidders: the winner pays the second-highest bid):
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> auction = Auction((Resource("item", 1),), (
    ...     Bid("a", (Bundle((1,), 10),)), Bid("b", (Bundle((1,), 7),)),
    ...     Bid("c", (Bundle((1,), 4),))))
    >>> result = vcg_payments(auction)
    >>> result.choice, result.payments, result.stats["vcg"]
    ((0, None, None), (7, 0, 0), 'prefix-suffix dense DP')
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.dense import (
    NEG,
    REACHABLE,
    Index,
    Table,
    all_moves,
    dense_step,
    dense_tables,
    final_cells,
    initial_table,
    read_back,
)
from auctioneer.clearing.dp import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_OPERATIONS,
    clearing_from_picks,
    solve_dp,
)
from auctioneer.clearing.estimate import estimates
from auctioneer.clearing.knapsack import Normalized, normalize
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.solve import METHODS, clear

__all__ = ["vcg_payments"]

# REACHABLE also holds for combined values: reachable ones are >= -2**60 (all
# prices' magnitudes sum to at most 2**60); a sum involving a clipped sentinel
# is <= -2**62 + 2**60.


def vcg_payments(
    auction: Auction, clearing: Clearing | None = None, *, method: str = "auto"
) -> Clearing:
    """Return ``clearing`` (solved with ``method`` if None) with VCG ``payments`` filled.

    Uses the prefix/suffix DP (O(grid) per winner after one backward pass)
    when ``method`` is ``"auto"`` or ``"dp"``, the auction has no must-win
    bids or binding winner-count bounds and the dense tables fit the default
    limits; otherwise re-solves without each winner with ``method``
    (``"auto"`` re-solves with :func:`~auctioneer.clearing.solve.clear`).
    ``stats`` gains ``vcg`` (how), ``vcg_total``, ``vcg_deficit``,
    ``vcg_capped``, ``vcg_essential`` and ``vcg_seconds``.

    A given ``clearing`` must be optimal for ``auction`` (ValueError
    otherwise, since VCG prices an optimal allocation). If the clearing is
    not OPTIMAL (infeasible, refused, timed out), or a re-solve is, it is
    returned without payments and ``stats["vcg"]`` says why.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if clearing is not None and clearing.status is Status.OPTIMAL and (
        len(clearing.choice) != len(auction.bids)
    ):
        raise ValueError(f"clearing has {len(clearing.choice)} choices for "
                         f"{len(auction.bids)} bids: not a clearing of this auction")
    start = time.perf_counter()
    norm = normalize(auction)
    if method in ("auto", "dp") and _prefix_suffix_applies(auction, norm):
        return _prefix_suffix(auction, norm, clearing, start)
    if clearing is None:
        clearing = clear(auction, method)
    if clearing.status is not Status.OPTIMAL:
        return _without(clearing, f"not computed: the clearing is {clearing.status.value}")
    t0 = time.perf_counter()
    others = clearing.revenue
    values: list[int | None] = []
    for t in clearing.winners:
        rest = Auction(auction.resources, auction.bids[:t] + auction.bids[t + 1:],
                       auction.min_winners, auction.max_winners)
        sub = _resolve(rest, method)
        if sub.status is Status.INFEASIBLE:
            values.append(None)
        elif sub.status is Status.OPTIMAL:
            if sub.revenue > others and not _constrained(auction):
                raise ValueError(f"clearing revenue {clearing.revenue} is not optimal: "
                                 f"without bid {t} the others alone raise {sub.revenue}")
            values.append(sub.revenue)
        else:
            return _without(clearing, f"not computed: re-solving without bid {t} "
                                      f"{auction.bids[t].name!r} ended {sub.status.value}")
    return _with_payments(auction, clearing, dict(zip(clearing.winners, values, strict=True)),
                          f"re-solve with {method}", time.perf_counter() - t0)


def _constrained(auction: Auction) -> bool:
    return auction.min_winners > 0 or auction.max_winners is not None or any(
        b.must_win for b in auction.bids)


def _prefix_suffix_applies(auction: Auction, norm: Normalized) -> bool:
    if norm.infeasible is not None or norm.counting or any(b.must_win for b in auction.bids):
        return False
    dense, _ = estimates(auction, norm)
    # dense.bytes counts three tables beyond the forward ones: the backward
    # table, its spare and a split's scratch fit in them.
    return (dense.unusable is None and dense.bytes <= DEFAULT_MAX_BYTES
            and 2 * dense.operations <= DEFAULT_MAX_OPERATIONS)


def _resolve(auction: Auction, method: str) -> Clearing:
    if method == "brute":
        return solve_brute(auction)
    if method == "dp":
        return solve_dp(auction)
    return clear(auction, method)


def _price(auction: Auction, clearing: Clearing, t: int) -> int:
    j = clearing.choice[t]
    return 0 if j is None else auction.bids[t].bundles[j].price


def _without(clearing: Clearing, why: str) -> Clearing:
    return replace(clearing, payments=None, stats={**clearing.stats, "vcg": why})


def _with_payments(
    auction: Auction, clearing: Clearing, values: dict[int, int | None], how: str,
    seconds: float,
) -> Clearing:
    payments = [0] * len(auction.bids)
    capped = 0
    essential = []
    for t, value in values.items():
        price = _price(auction, clearing, t)
        if value is None:
            essential.append(auction.bids[t].name)
            payments[t] = price
            continue
        clarke = value - (clearing.revenue - price)
        capped += clarke > price
        payments[t] = min(clarke, price)
    total = sum(payments)
    stats = {
        **clearing.stats,
        "vcg": how,
        "vcg_total": total,
        "vcg_deficit": max(0, -total),
        "vcg_capped": capped,
        "vcg_essential": ", ".join(essential),
        "vcg_seconds": seconds,
    }
    return replace(clearing, payments=tuple(payments), stats=stats,
                   seconds=clearing.seconds + seconds)


def _prefix_suffix(
    auction: Auction, norm: Normalized, clearing: Clearing | None, start: float
) -> Clearing:
    every = all_moves(norm)
    tables = dense_tables(norm, every)
    end = final_cells(norm)[0]
    best = int(tables[-1][end])
    if clearing is None:
        dense, _ = estimates(auction, norm)
        stats: dict[str, int | float | str] = {"form": "dense", **dense.as_stats(),
                                               "tables": "full"}
        clearing = clearing_from_picks(auction, norm, read_back(norm, every, tables, end), stats,
                                       time.perf_counter() - start)
    elif clearing.status is not Status.OPTIMAL:
        return _without(clearing, f"not computed: the clearing is {clearing.status.value}")
    elif clearing.revenue != best:
        raise ValueError(f"clearing revenue {clearing.revenue} is not the optimum {best}")
    t0 = time.perf_counter()
    winners = set(clearing.winners)
    values: dict[int, int | None] = {}
    suffix = initial_table(norm)  # G_{T+1}: no bids, revenue 0 at every capacity
    spare = np.empty_like(suffix)
    for t in range(len(auction.bids) - 1, -1, -1):
        if t in winners:
            values[t] = _split(norm, tables[t], suffix, norm.options[t][0].shift)
        if t:
            suffix, spare = dense_step(suffix, every[t], norm, out=spare), suffix
    return _with_payments(auction, clearing, values, "prefix-suffix dense DP",
                          time.perf_counter() - t0)


def _split(norm: Normalized, prefix: Table, suffix: Table, zero_shift: tuple[int, ...]) -> int:
    """``max_c prefix[c] + suffix[D - c]`` over the box 0..D; O(grid).

    ``zero_shift`` is the shift of the removed bid's zero bundle (minus its
    per-resource minimum), so ``D = C' - zero_shift`` is the grid top of the
    auction without it (>= 0 because, with no must-win bids, every minimum
    is <= 0 and the capacity >= 0).
    """
    top = tuple(c - s for c, s in zip(norm.capacity, zero_shift, strict=True))
    box: Index = (0, *(slice(0, d + 1) for d in top))
    flipped: Index = (0, *(slice(d, None, -1) for d in top))
    # Clip the sentinels before adding: two of them would overflow int64.
    a = np.maximum(prefix[box], NEG)
    b = np.maximum(suffix[flipped], NEG)
    value = int((a + b).max())
    assert value >= REACHABLE, "the allocation without the bid is always feasible"
    return value
