"""XOR bids over many resources, each bundle touching few: the columns of the 0-1 program.

The :class:`~auctioneer.clearing.model.Auction` keeps one integer per
resource in every bundle, which is the right shape for the DP's grid but
costs ``bundles x resources`` to build: 40 000 bundles over 1 000 pools is
40 million integers, most of them zero. A :class:`SparseAuction` keeps only
the non-zero entries, in compressed rows (``start[c]:start[c + 1]`` index
column ``c``'s entries in ``resource`` and ``quantity``), so the integer
program of a planet-sized market is built from numpy arrays in time linear
in its entries (:func:`auctioneer.clearing.milp.solve_sparse`).
:meth:`SparseAuction.to_auction` gives the dense model back for the other
methods and for checking.

Example:
    >>> sp = SparseAuction.build(capacity=[4, 2], owner=[0, 0, 1], price=[5, 6, 3],
    ...                          entries=[[(0, 3)], [(0, 1), (1, 2)], [(0, 2)]])
    >>> sp.columns, sp.bids, sp.usage([1, 2])
    (3, 2, [3, 2])
    >>> sp.to_auction().bids[0].bundles
    (Bundle(quantities=(3, 0), price=5), Bundle(quantities=(1, 2), price=6))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.checks import require_int
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.money import MONEY_MAX

__all__ = ["SparseAuction"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class SparseAuction:
    """Columns (one per bundle) grouped by bid, their prices and non-zero quantities.

    ``owner`` is non-decreasing: bid ``t``'s bundles are the columns with
    ``owner == t``. Every bid may lose (no must-win bids, no winner-count
    bounds): the form the proxy round of the clock auction needs.
    """

    capacity: IntArray
    owner: IntArray
    price: IntArray
    start: IntArray
    resource: IntArray
    quantity: IntArray
    bids: int

    @classmethod
    def build(cls, capacity: Sequence[int], owner: Sequence[int], price: Sequence[int],
              entries: Iterable[Sequence[tuple[int, int]]], bids: int | None = None
              ) -> SparseAuction:
        """From plain lists; ValueError naming the column and field of the first problem."""
        flat_r: list[int] = []
        flat_q: list[int] = []
        start = [0]
        for c, column in enumerate(entries):
            for r, q in column:
                require_int(r, f"column {c}: resource", 0, len(capacity) - 1)
                require_int(q, f"column {c}: quantity", -MONEY_MAX, MONEY_MAX)
                flat_r.append(r)
                flat_q.append(q)
            start.append(len(flat_r))
        return cls.from_arrays(capacity, owner, price, start, flat_r, flat_q, bids)

    @classmethod
    def from_arrays(cls, capacity: npt.ArrayLike, owner: npt.ArrayLike, price: npt.ArrayLike,
                    start: npt.ArrayLike, resource: npt.ArrayLike, quantity: npt.ArrayLike,
                    bids: int | None = None) -> SparseAuction:
        """From arrays (copied, made read-only), validated; ValueError naming the problem."""
        arrays = [np.array(a, dtype=np.int64, copy=True).reshape(-1)
                  for a in (capacity, owner, price, start, resource, quantity)]
        cap, own, pri, sta, res, qty = arrays
        n = len(own)
        count = int(own[-1]) + 1 if n else 0
        bids = count if bids is None else require_int(bids, "bids", count, 2**31)
        if len(pri) != n or len(sta) != n + 1 or sta[0] != 0 or sta[-1] != len(res) \
                or len(qty) != len(res) or (n and np.any(np.diff(sta) < 0)):
            raise ValueError("sparse auction: price, start, resource and quantity must describe "
                             f"{n} columns in compressed rows")
        if n and (own[0] < 0 or np.any(np.diff(own) < 0)):
            raise ValueError("sparse auction: owner must be non-decreasing bid indices >= 0")
        if np.any(cap < 0):
            raise ValueError(f"sparse auction: capacity {int(cap.min())} must be >= 0")
        if len(res) and (res.min() < 0 or res.max() >= len(cap)):
            raise ValueError(f"sparse auction: resource indices must be 0..{len(cap) - 1}")
        for a in arrays:
            a.flags.writeable = False
        return cls(cap, own, pri, sta, res, qty, bids)

    @property
    def columns(self) -> int:
        """Number of bundles in all."""
        return len(self.owner)

    def entries(self, column: int) -> list[tuple[int, int]]:
        """Column ``column``'s non-zero ``(resource, quantity)`` pairs."""
        lo, hi = int(self.start[column]), int(self.start[column + 1])
        return list(zip(self.resource[lo:hi].tolist(), self.quantity[lo:hi].tolist(),
                        strict=True))

    def usage(self, columns: Iterable[int]) -> list[int]:
        """Net units the given columns take of each resource, in exact integers."""
        used = [0] * len(self.capacity)
        for c in columns:
            for r, q in self.entries(int(c)):
                used[r] += q
        return used

    def violation(self, columns: Sequence[int]) -> str | None:
        """Why ``columns`` (chosen bundles) is no feasible allocation, or None if it is."""
        owners = [int(self.owner[c]) for c in columns]
        if len(set(owners)) != len(owners):
            return "a bid is awarded two bundles"
        for r, (u, cap) in enumerate(zip(self.usage(columns), self.capacity.tolist(),
                                         strict=True)):
            if u > cap:
                return f"resource {r}: {u} units used, capacity {cap}"
        return None

    def select(self, keep: npt.NDArray[np.bool_], price: npt.ArrayLike | None = None
               ) -> SparseAuction:
        """The columns where ``keep`` is True (bids keep their numbers), optionally repriced."""
        lengths = np.diff(self.start)[keep]
        start = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=start[1:])
        entry = np.repeat(keep, np.diff(self.start))
        prices = self.price if price is None else np.asarray(price, dtype=np.int64)
        return SparseAuction.from_arrays(self.capacity, self.owner[keep], prices[keep], start,
                                         self.resource[entry], self.quantity[entry], self.bids)

    def to_auction(self, bid_names: Sequence[str] | None = None,
                   resource_names: Sequence[str] | None = None) -> Auction:
        """The dense :class:`Auction` (O(columns x resources)); bids without columns included."""
        dims = len(self.capacity)
        names = [f"r{r}" for r in range(dims)] if resource_names is None else resource_names
        resources = tuple(Resource(n, int(c)) for n, c in zip(names, self.capacity.tolist(),
                                                               strict=True))
        bundles: list[list[Bundle]] = [[] for _ in range(self.bids)]
        for c in range(self.columns):
            quantities = [0] * dims
            for r, q in self.entries(c):
                quantities[r] += q
            bundles[int(self.owner[c])].append(Bundle(tuple(quantities), int(self.price[c])))
        labels = [f"b{t}" for t in range(self.bids)] if bid_names is None else bid_names
        return Auction(resources, tuple(Bid(n, tuple(b)) for n, b in zip(labels, bundles,
                                                                         strict=True)))
