"""The knapsack form: an auction's bids as options with non-negative weights.

Every exact solver searches the same choice space (:func:`bid_options`);
the DP and its cost estimate run on the normalised form (:func:`normalize`).

Normalisation (sellers and must-win bids): for each bid ``t`` and resource
``r`` let ``m[t][r]`` be the smallest quantity among the bid's *options*
(0 for the zero bundle when the bid may lose; negative when it can sell;
positive when it must win and every bundle takes some). Every option's
*shift* ``q - m[t]`` is then >= 0, and a choice fits capacity ``C`` exactly
when its shifts fit ``C' = C - sum_t m[t]``. So the DP is a plain knapsack
over the grid ``[0, C'_r]`` per resource: ``C'_r`` is the capacity plus
everything the sellers could add, minus what must-win bids surely take. A
partial sum above ``C'`` can never come back (shifts only add), which is
exactly "exceeds capacity even if every later bid sold all it could"; no
other state is needed. ``C'_r < 0`` means infeasible outright.

Winner-count bounds add one state axis, the number of winners so far: up to
``max_winners`` when given, else capped at ``min_winners`` (more is as good
as enough). The axis is added only when the bounds can bind.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> a = Auction((Resource("cpu", 4),), (Bid("s", (Bundle((-2,), -3),)),
    ...                                     Bid("b", (Bundle((3,), 5),), must_win=True)))
    >>> norm = normalize(a)
    >>> norm.capacity, [[o.shift for o in options] for options in norm.options]
    ((3,), [[(2,), (0,)], [(0,)]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from auctioneer.clearing.model import Auction

__all__ = ["Normalized", "Option", "bid_options", "normalize"]


def bid_options(auction: Auction, bid: int) -> tuple[int | None, ...]:
    """The choices open to bid ``bid``: None (the zero bundle) unless it must win, then
    the indices of its admissible bundles, ascending.

    This is the choice space every solver searches; an empty tuple means the
    bid must win but has no admissible bundle, so the auction is infeasible.

    Example:
        >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
        >>> a = Auction((Resource("r", 5, reserve=2),),
        ...             (Bid("x", (Bundle((1,), 1), Bundle((1,), 2)), must_win=True),))
        >>> bid_options(a, 0)     # bundle 0 is below the reserve; x may not lose
        (1,)
    """
    admissible = tuple(
        j for j in range(len(auction.bids[bid].bundles)) if auction.is_admissible(bid, j)
    )
    return admissible if auction.bids[bid].must_win else (None, *admissible)



class Option(NamedTuple):
    """One choice open to a bid, in the normalised (shifted) coordinates.

    A NamedTuple rather than a frozen dataclass: one is built per bundle on
    every solve, and a frozen dataclass's ``__init__`` costs several times more.
    """

    bundle: int | None
    """Index of the bundle in the bid, None for the zero bundle."""
    shift: tuple[int, ...]
    """Quantities minus the bid's per-resource minimum over its options: all >= 0."""
    price: int
    wins: bool
    """Whether choosing it makes the bid a winner (any bundle, even an explicit zero one)."""


@dataclass(frozen=True, slots=True)
class Normalized:
    """An auction rewritten as a knapsack with non-negative weights (see the module doc)."""

    options: tuple[tuple[Option, ...], ...]
    capacity: tuple[int, ...]
    """``C'``: the grid runs over 0..C'_r per resource."""
    min_winners: int
    max_winners: int | None
    """None when no upper bound can bind (it is at least the number of bids)."""
    winner_states: int
    """Length of the winner-count axis: 1 when the bounds cannot bind, else the cap + 1."""
    infeasible: str | None
    """Why the auction is infeasible without solving, or None."""
    padding: tuple[int, ...]
    """Sentinel cells the dense tables add after each resource axis (see :mod:`.dp`)."""

    @property
    def counting(self) -> bool:
        """Whether the DP tracks the number of winners."""
        return self.winner_states > 1 or self.max_winners == 0

    @property
    def grid(self) -> tuple[int, ...]:
        """Axis lengths of the capacity grid, one per resource."""
        return tuple(c + 1 for c in self.capacity)

    @property
    def cells(self) -> int:
        """States per stage: grid points times winner counts."""
        return self.winner_states * math.prod(self.grid)

    @property
    def padded(self) -> tuple[int, ...]:
        """Shape of a dense table: winner counts, then each resource axis with its padding."""
        return (self.winner_states, *(g + p for g, p in zip(self.grid, self.padding, strict=True)))

    @property
    def padded_cells(self) -> int:
        """Cells of a dense table, padding included."""
        return math.prod(self.padded)


def normalize(auction: Auction) -> Normalized:
    """Shift every bid's options to non-negative quantities; O(total bundles x resources)."""
    dims = auction.dimensions
    all_options: list[tuple[Option, ...]] = []
    low_total = [0] * dims
    infeasible: str | None = None
    zero = (0,) * dims
    for t, bid in enumerate(auction.bids):
        choices = bid_options(auction, t)
        if not choices:
            infeasible = infeasible or f"bid {t} {bid.name!r} must win but has no admissible bundle"
            all_options.append(())
            continue
        quantities = [zero if j is None else bid.bundles[j].quantities for j in choices]
        low = [min(column) for column in zip(*quantities, strict=True)] if dims else []
        for r in range(dims):
            low_total[r] += low[r]
        all_options.append(tuple([
            Option(j, tuple([a - b for a, b in zip(q, low, strict=True)]),
                   0 if j is None else bid.bundles[j].price, j is not None)
            for j, q in zip(choices, quantities, strict=True)
        ]))
    capacity = tuple(c - low for c, low in zip(auction.capacities, low_total, strict=True))
    if infeasible is None:
        short = [r.name for r, c in zip(auction.resources, capacity, strict=True) if c < 0]
        if short:
            infeasible = f"must-win bids take more than the capacity of {', '.join(short)}"
    bids = len(auction.bids)
    high = auction.max_winners if auction.max_winners is not None and auction.max_winners < bids \
        else None
    if infeasible is None and auction.min_winners > bids:
        infeasible = f"min_winners {auction.min_winners} exceeds the {bids} bids"
    winner_states = 1 + (high if high is not None else auction.min_winners)
    if infeasible is not None:
        capacity = tuple(max(c, 0) for c in capacity)
        winner_states = 1
    # Each padded axis needs as many sentinel cells as the largest shift
    # along it that fits the grid (larger ones are never used); the outermost
    # axis needs none (see dp.py).
    padding = [
        min(c, max((o.shift[r] for options in all_options for o in options), default=0))
        for r, c in enumerate(capacity)
    ]
    if padding and winner_states == 1:
        padding[0] = 0
    return Normalized(tuple(all_options), capacity, auction.min_winners, high, winner_states,
                      infeasible, tuple(padding))
