"""An allocation (one choice per bid): its feasibility, and the Clearing built from it.

:func:`violation` is the one exact feasibility check of a choice: every
solver re-checks its answer with it, and :func:`check_feasible` (which every
test calls) adds the consistency of a whole :class:`Clearing` on top.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> a = Auction((Resource("cpu", 4),), (Bid("x", (Bundle((3,), 5),)),
    ...                                     Bid("y", (Bundle((2,), 3),))))
    >>> violation(a, (0, 0))
    "'cpu': 5 units used, capacity 4"
    >>> r = allocation(a, (0, None), "hand", Status.OPTIMAL, {}, 0.0)
    >>> r.revenue, r.used
    (5, (3,))
    >>> check_feasible(a, r)
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status

__all__ = ["admissible", "allocation", "check_feasible", "no_allocation", "usage", "violation"]


def admissible(auction: Auction) -> tuple[tuple[int, ...], ...]:
    """Per bid, the indices of its bundles that meet the reserve prices (the only ones awarded)."""
    return tuple(
        tuple(j for j in range(len(bid.bundles)) if auction.is_admissible(t, j))
        for t, bid in enumerate(auction.bids)
    )


def usage(auction: Auction, choice: Sequence[int | None]) -> tuple[list[int], int]:
    """The net units ``choice`` takes of each resource, and the sum of its prices."""
    used = [0] * auction.dimensions
    revenue = 0
    for bid, j in zip(auction.bids, choice, strict=True):
        if j is not None:
            bundle = bid.bundles[j]
            revenue += bundle.price
            for r, q in enumerate(bundle.quantities):
                used[r] += q
    return used, revenue


def violation(auction: Auction, choice: Sequence[int | None]) -> str | None:
    """Why ``choice`` is not a feasible allocation of ``auction``, or None if it is.

    One choice per bid, each None or an admissible bundle of that bid;
    must-win bids win; capacity and the winner-count bounds hold. Exact
    integer arithmetic; O(bids x resources).
    """
    bids = auction.bids
    if len(choice) != len(bids):
        return f"choice has {len(choice)} entries for {len(bids)} bids"
    for t, (bid, j) in enumerate(zip(bids, choice, strict=True)):
        if j is None:
            if bid.must_win:
                return f"must-win bid {t} {bid.name!r} is not awarded"
            continue
        if type(j) is not int or not 0 <= j < len(bid.bundles):
            return f"bid {t} {bid.name!r} is given bundle {j!r}, not one of its " \
                   f"{len(bid.bundles)}"
        if not auction.is_admissible(t, j):
            return f"bid {t} {bid.name!r} bundle {j} is below its reserve floor"
    used, _ = usage(auction, choice)
    for resource, u in zip(auction.resources, used, strict=True):
        if u > resource.capacity:
            return f"{resource.name!r}: {u} units used, capacity {resource.capacity}"
    winners = sum(j is not None for j in choice)
    if winners < auction.min_winners:
        return f"{winners} winners, fewer than min_winners {auction.min_winners}"
    if auction.max_winners is not None and winners > auction.max_winners:
        return f"{winners} winners, more than max_winners {auction.max_winners}"
    return None


def check_feasible(auction: Auction, clearing: Clearing) -> None:
    """Raise AssertionError with the reason if ``clearing`` is not a valid outcome of ``auction``.

    A result with an allocation must pass :func:`violation`, report the net
    usage as ``used`` and the sum of the chosen prices as ``revenue``, and
    its payments (if any) have one entry per bid with losers paying 0. A
    refused or infeasible result must award nothing. O(bids x resources).
    """
    status = clearing.status
    if status in (Status.INFEASIBLE, Status.TOO_LARGE) or (
        status is Status.TIME_LIMIT and not clearing.choice and auction.bids
    ):
        assert not clearing.choice, f"{status.value} result awards bundles: {clearing.choice}"
        assert clearing.payments is None or not any(clearing.payments), \
            f"{status.value} result charges payments {clearing.payments}"
        return
    why = violation(auction, clearing.choice)
    assert why is None, why
    used, revenue = usage(auction, clearing.choice)
    assert tuple(used) == tuple(clearing.used), \
        f"used {clearing.used} but the chosen bundles take {tuple(used)}"
    assert revenue == clearing.revenue, \
        f"revenue {clearing.revenue} but the chosen prices sum to {revenue}"
    if clearing.payments is not None:
        assert len(clearing.payments) == len(auction.bids), \
            f"{len(clearing.payments)} payments for {len(auction.bids)} bids"
        for t, (j, pay) in enumerate(zip(clearing.choice, clearing.payments, strict=True)):
            assert j is not None or pay == 0, f"losing bid {t} pays {pay}"


def allocation(
    auction: Auction,
    choice: Sequence[int | None],
    method: str,
    status: Status,
    stats: dict[str, int | float | str],
    started: float,
) -> Clearing:
    """A Clearing for ``choice``, its revenue and use recomputed exactly from the bundles."""
    used, revenue = usage(auction, choice)
    return Clearing(status, method, revenue, tuple(choice), tuple(used), None, stats,
                    time.perf_counter() - started)


def no_allocation(
    auction: Auction, method: str, status: Status, stats: dict[str, int | float | str],
    started: float,
) -> Clearing:
    """An INFEASIBLE result, or a TIME_LIMIT one with no incumbent (the zero one if feasible)."""
    if status is Status.TIME_LIMIT:
        zero = (None,) * len(auction.bids)
        if violation(auction, zero) is None:
            stats["incumbent"] = "zero"
            return allocation(auction, zero, method, status, stats, started)
        stats["incumbent"] = "none"
    return Clearing(status, method, stats=stats, seconds=time.perf_counter() - started)
