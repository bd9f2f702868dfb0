"""The GPU plane's batch auction: GPU milliseconds, 10-100 times a second.

Each dispatch sells one window of ``1000 / dispatch_hz`` GPU milliseconds,
cut into slices of ``slice_ms``, plus ``memory`` units of GPU memory. Bids
are XOR lists of ``(gpu_ms, memory, price)`` bundles. Three exact paths:

* **unit bids** (every bid one slice, no memory): k-unit Vickrey, k = slices
  per window: bids rank by price, highest first, then by arrival (list
  order); the top k at or above the reserve win and every winner pays
  ``max(reserve, (k+1)-th bid)``. Bids given as two integer arrays
  (:meth:`GpuPlane.dispatch_units`) skip all per-bid Python work:
  vectorised checks, then one numpy ``partition`` of int64 keys that encode
  (price desc, arrival asc) exactly, O(N + k log k). ``GpuBid`` lists take
  the same path after one native pass reads and checks them into those
  arrays (:func:`auctioneer.gpu.solver.unit_columns`); a list that pass
  refuses takes the Python check, which names the bad bid. Both are tested
  equal to the reference, a native tick book
  (:func:`auctioneer.tick.second_price`) filled after the Python check.
* **bundles** (anything else): a bundle is *admissible* when its price is
  at least its floor ``gpu_ms * reserve_per_ms``; the dispatch maximises
  the gross value (sum of prices, not prices net of floors) over
  admissible bundles, and each winner pays ``max(VCG payment, floor)``,
  the VCG payment computed over admissible bundles too. On unit bids this
  is the Vickrey path's rule: the admissible bids are those at or above
  the reserve, the top k win, VCG is the (k+1)-th admissible bid (0 if
  none), so each pays ``max(reserve, (k+1)-th bid)`` (tested). Solved by
  :func:`auctioneer.gpu.solver.solve` (branch and bound, native),
  which fits the 100 us budget where the general clearing does not; past
  its node budget or native limits the dispatch falls back to the general
  path, reported as ``"clearing"``. ``GpuBid`` lists reach it through one
  native pass that reads and checks them
  (:func:`auctioneer.gpu.solver.solve_bids`); a list that pass refuses
  takes the Python check, which names the bad bid (tested equal).
* **clearing**: the same auction through :func:`auctioneer.clearing.clear`
  and :func:`auctioneer.clearing.vcg_payments` (the benchmark's baseline).

Ties between optimal allocations: the bundle path returns the
lexicographically smallest choice vector in bid order, "no bundle" first
(:func:`auctioneer.clearing.solve_brute`'s rule); the clearing path returns
whichever optimum its DP form reads back. Revenue and, for a unique optimum,
winners and payments are the same on both.

**Truthful for single-minded bidders** (each bid one bundle): raising a
winning bundle's price raises the value of every allocation containing it
and of no other, so a winner keeps winning (monotone), and
``max(VCG, floor)`` is exactly the least price at which it still wins (the
critical value), so by Myerson / Lehmann-O'Callaghan-Shoham reporting
one's value is dominant. Not for
several-bundle XOR bids: the floor is not a VCG price, so a bidder can gain
by hiding a bundle whose floor is high and winning a cheaper one.

The reserve per GPU millisecond comes from the coupling's GPU price
(:meth:`~auctioneer.thermal.coupling.CouplingTable.gpu_price`).

Example:
    >>> plane = GpuPlane(dispatch_hz=100, slice_ms=5)       # 10 ms windows, 2 slices of 5 ms
    >>> d = plane.dispatch([GpuBid.unit(a, p, 5) for a, p in [(1, 900), (2, 700), (3, 400)]], 0.0)
    >>> d.path, d.winners, d.payments
    ('vickrey', (1, 2), (400, 400))
    >>> d = plane.dispatch([GpuBid(1, ((5, 2, 900),)), GpuBid(2, ((10, 1, 1000),))], 0.01)
    >>> d.path, d.winners, d.gpu_ms, d.payments
    ('bundles', (2,), (10,), (900,))
    >>> d = plane.dispatch([GpuBid(1, ((5, 0, 900),)), GpuBid(2, ((10, 0, 400),))], 0.02, 50)
    >>> d.winners, d.payments          # bid 2 is under its floor 500; bid 1 pays its floor
    ((1,), (250,))
    >>> d = plane.dispatch_units(np.array([1, 2, 3]), np.array([900, 700, 400]), 0.03)
    >>> d.path, d.winners, d.payments
    ('vickrey', (1, 2), (400, 400))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.checks import require_int
from auctioneer.clearing import Auction, Bid, Bundle, Resource, Status, clear, vcg_payments
from auctioneer.gpu.solver import GpuSolution, solve, solve_bids, unit_columns
from auctioneer.tick import IndexedHeap, second_price
from auctioneer.tick.limits import PRICE_MAX, check_price

__all__ = ["MAX_DISPATCH_HZ", "MIN_DISPATCH_HZ", "PATHS", "GpuBid", "GpuDispatch", "GpuPlane"]

MIN_DISPATCH_HZ = 10
"""Slowest dispatch rate (the seed: 10-100 Hz)."""
MAX_DISPATCH_HZ = 100
"""Fastest dispatch rate."""
PATHS = ("auto", "vickrey", "bundles", "clearing")
"""``auto`` takes the Vickrey path exactly when every bid is a unit bid."""
_ARRIVAL_BITS = 24
"""Low key bits holding a bid's arrival in the Vickrey path's int64 keys."""
_ARRIVAL_MASK = (1 << _ARRIVAL_BITS) - 1


@dataclass(frozen=True, slots=True)
class GpuBid:
    """One agent's XOR bid: at most one ``(gpu_ms, memory, price)`` bundle wins."""

    agent: int
    bundles: tuple[tuple[int, int, int], ...]

    @classmethod
    def unit(cls, agent: int, price: int, slice_ms: int = 1) -> GpuBid:
        """A bid for one slice of ``slice_ms`` and no memory, at ``price`` micro-units."""
        return cls(agent, ((slice_ms, 0, price),))


@dataclass(frozen=True, slots=True)
class GpuDispatch:
    """One dispatch's result: winners (agent ids), what each got and pays (micro-units)."""

    time_s: float
    path: str
    winners: tuple[int, ...]
    gpu_ms: tuple[int, ...]
    memory: tuple[int, ...]
    payments: tuple[int, ...]

    @property
    def revenue(self) -> int:
        """Total paid."""
        return sum(self.payments)


class GpuPlane:
    """The GPU dispatch auction. ``dispatch`` reuses one native book across dispatches."""

    __slots__ = ("_book", "_owner", "dispatch_hz", "max_agents", "memory", "slice_ms", "window_ms")

    def __init__(self, dispatch_hz: int = 50, slice_ms: int = 1, memory: int = 80,
                 max_agents: int = 4096) -> None:
        self.dispatch_hz = require_int(dispatch_hz, "dispatch_hz", MIN_DISPATCH_HZ, MAX_DISPATCH_HZ)
        self.window_ms = 1000 // self.dispatch_hz
        self.slice_ms = require_int(slice_ms, "slice_ms", 1, self.window_ms)
        self.memory = require_int(memory, "memory", 0)
        self.max_agents = require_int(max_agents, "max_agents", 1, 1 << 24)
        # second_price selects k+1 bids, which a book must have room for even
        # when there are fewer agents than slices.
        self._book = IndexedHeap(max(self.max_agents, self.slices + 1))
        # dispatch_units' scratch, bid index by agent: allocated on first use.
        self._owner: npt.NDArray[np.int32] | None = None

    @property
    def slices(self) -> int:
        """Slices per window: the k of the Vickrey path."""
        return self.window_ms // self.slice_ms

    def check(self, bids: Sequence[GpuBid]) -> None:
        """Raise ValueError naming the first bad bid, bundle and field. O(bundles).

        One fused range test per bundle on the hot path; only a bid that
        fails it is re-checked field by field for the message.
        """
        self._check_units(bids)

    def _check_units(self, bids: Sequence[GpuBid]) -> bool:
        """:meth:`check`, and whether every bid is a unit bid, in the same one pass."""
        seen: set[int] = set()
        window, memory, cap, unit_ms = self.window_ms, self.memory, self.max_agents, self.slice_ms
        units = True
        for i, bid in enumerate(bids):
            agent, bundles = bid.agent, bid.bundles
            if type(agent) is not int or not 0 <= agent < cap or agent in seen or not bundles:
                self._explain(i, bid, seen)
            units = units and len(bundles) == 1
            for ms, mem, price in bundles:
                if not (type(ms) is int and type(mem) is int and type(price) is int
                        and 1 <= ms <= window and 0 <= mem <= memory
                        and 0 <= price <= PRICE_MAX):
                    self._explain(i, bid, seen)
                units = units and ms == unit_ms and not mem
            seen.add(agent)
        return units

    def _explain(self, i: int, bid: GpuBid, seen: set[int]) -> None:
        agent = require_int(bid.agent, f"bid {i}: agent", 0, self.max_agents - 1)
        if agent in seen:
            raise ValueError(f"bid {i}: agent {agent} bids twice in one dispatch")
        if not bid.bundles:
            raise ValueError(f"bid {i}: bundles () is empty")
        for j, (ms, mem, price) in enumerate(bid.bundles):
            require_int(ms, f"bid {i} bundle {j}: gpu_ms", 1, self.window_ms)
            require_int(mem, f"bid {i} bundle {j}: memory", 0, self.memory)
            check_price(price, f"bid {i} bundle {j}: price")

    def dispatch(self, bids: Sequence[GpuBid], now_s: float, reserve_per_ms: int = 0,
                 path: str = "auto") -> GpuDispatch:
        """Allocate this window among ``bids``; every winner pays at least its reserve floor."""
        if path not in PATHS:
            raise ValueError(f"path {path!r} is not one of {', '.join(PATHS)}")
        check_price(reserve_per_ms, "reserve_per_ms")
        if path in ("auto", "vickrey"):
            fast = self._vickrey_objects(bids, now_s, reserve_per_ms)
            if fast is not None:
                return fast
        if path in ("auto", "bundles"):
            # Under "auto" this is reached by valid bids only when one is not a
            # unit bid (the unit read takes every batch of valid unit bids).
            solution = solve_bids(bids, self.window_ms, self.memory, reserve_per_ms,
                                  self.max_agents)
            if solution is not None:
                return self._bundle_dispatch(bids, now_s, solution)
        units = self._check_units(bids)
        if path == "vickrey" and not units:
            raise ValueError(f"path 'vickrey' needs unit bids ({self.slice_ms} ms, no memory)")
        if path == "vickrey" or (path == "auto" and units):
            return self._vickrey_book(bids, now_s, reserve_per_ms)
        if path != "clearing":
            fast = self._bundles(bids, now_s, reserve_per_ms)
            if fast is not None:
                return fast
        return self._clearing(bids, now_s, reserve_per_ms)

    def dispatch_units(self, agents: npt.ArrayLike, prices: npt.ArrayLike, now_s: float,
                       reserve_per_ms: int = 0) -> GpuDispatch:
        """Vickrey on unit bids given as arrays: bid i is ``prices[i]`` by ``agents[i]``.

        Equal to ``dispatch([GpuBid.unit(a, p, slice_ms) for a, p in zip(agents, prices)])``
        (arrival is array order); ValueError names the first bad bid. O(N + k log k) in
        numpy, no per-bid Python work.
        """
        check_price(reserve_per_ms, "reserve_per_ms")
        a, p = np.asarray(agents), np.asarray(prices)
        if a.ndim != 1 or a.shape != p.shape:
            raise ValueError(f"agents and prices must be 1-D and of one length, "
                             f"got shapes {a.shape} and {p.shape}")
        if not a.size:
            return GpuDispatch(now_s, "vickrey", (), (), (), ())
        for name, x in (("agents", a), ("prices", p)):
            if x.dtype.kind not in "iu":
                raise ValueError(f"{name} dtype {x.dtype} is not an integer type")
        # Range tests on the given dtype, so a uint64 past int64 cannot wrap.
        if a.min() < 0 or a.max() >= self.max_agents or p.min() < 0 or p.max() > PRICE_MAX:
            self._explain_units(a, p)
        if not self._unique(a):
            self._explain_units(a, p)
        return self._vickrey(a.astype(np.int64, copy=False), p.astype(np.int64, copy=False),
                             now_s, reserve_per_ms)

    def _unique(self, agents: npt.NDArray[np.integer]) -> bool:
        """Whether no agent repeats in ``agents`` (all in ``[0, max_agents)``)."""
        if self._owner is None:
            self._owner = np.empty(self.max_agents, dtype=np.int32)
        # Repeats in O(N), no sort: scatter each bid's index to its agent's
        # slot; a repeated agent keeps only its last index, so an earlier
        # bid of that agent reads back another index.
        arrival = np.arange(len(agents), dtype=np.int32)
        self._owner[agents] = arrival
        return not (self._owner[agents] != arrival).any()

    def _vickrey_objects(self, bids: Sequence[GpuBid], now_s: float,
                         reserve_per_ms: int) -> GpuDispatch | None:
        """:meth:`_vickrey` on ``GpuBid`` unit bids; None for what the Python check must see."""
        packed = unit_columns(bids, self.slice_ms, self.max_agents)
        if packed is None:
            return None
        columns = np.frombuffer(packed, dtype=np.int64)
        n = len(columns) // 2
        return self._vickrey(columns[:n], columns[n:], now_s, reserve_per_ms)

    def _explain_units(self, a: npt.NDArray[np.integer], p: npt.NDArray[np.integer]) -> None:
        seen: set[int] = set()
        for i, (agent, price) in enumerate(zip(a.tolist(), p.tolist(), strict=True)):
            self._explain(i, GpuBid.unit(agent, price, self.slice_ms), seen)
            seen.add(agent)
        raise AssertionError("the vectorised check and _explain disagree")  # pragma: no cover

    def _vickrey(self, agents: npt.NDArray[np.int64], prices: npt.NDArray[np.int64],
                 now_s: float, reserve_per_ms: int) -> GpuDispatch:
        """k-unit Vickrey on valid unit bids (unique agents, prices in range). O(N + k log k)."""
        n, k = len(prices), self.slices
        # Ascending key = (price desc, arrival asc): prices fit 32 bits and
        # arrivals (< max_agents <= 2**24) the low 24, so the int64 order is exact.
        keys = ((PRICE_MAX - prices) << _ARRIVAL_BITS) | np.arange(n, dtype=np.int64)
        m = min(k + 1, n)
        top = np.sort(np.partition(keys, m - 1)[:m] if m < n else keys)
        ranked = (PRICE_MAX - (top >> _ARRIVAL_BITS)).tolist()
        reserve = min(reserve_per_ms * self.slice_ms, PRICE_MAX)
        won = sum(1 for price in ranked[:k] if price >= reserve)
        winners = tuple(agents[top[:won] & _ARRIVAL_MASK].tolist())
        clearing = max(reserve, ranked[k] if m > k else 0)
        return GpuDispatch(now_s, "vickrey", winners, (self.slice_ms,) * won, (0,) * won,
                           (clearing,) * won)

    def _vickrey_book(self, bids: Sequence[GpuBid], now_s: float,
                      reserve_per_ms: int) -> GpuDispatch:
        """k-unit Vickrey on a native tick book: :meth:`_vickrey`'s reference.

        ``dispatch`` takes it only for checked unit bids the native read
        refused, which it would not refuse unless the extension is unbuilt.
        """
        book = self._book
        book.clear()
        update = book.update
        for bid in bids:
            update(bid.agent, bid.bundles[0][2])
        out = second_price(book, self.slices, min(reserve_per_ms * self.slice_ms, PRICE_MAX))
        n = len(out.winners)
        return GpuDispatch(now_s, "vickrey", out.winners, (self.slice_ms,) * n, (0,) * n,
                           out.payments)

    def _bundles(self, bids: Sequence[GpuBid], now_s: float,
                 reserve_per_ms: int) -> GpuDispatch | None:
        out = solve([b.bundles for b in bids], self.window_ms, self.memory, reserve_per_ms)
        return None if out is None else self._bundle_dispatch(bids, now_s, out)

    @staticmethod
    def _bundle_dispatch(bids: Sequence[GpuBid], now_s: float, out: GpuSolution) -> GpuDispatch:
        winners, ms, mem, pays = [], [], [], []
        for bid, j, pay in zip(bids, out.choice, out.payments, strict=True):
            if j is not None:
                q_ms, q_mem, _ = bid.bundles[j]
                winners.append(bid.agent)
                ms.append(q_ms)
                mem.append(q_mem)
                pays.append(pay)
        return GpuDispatch(now_s, "bundles", tuple(winners), tuple(ms), tuple(mem), tuple(pays))

    def _clearing(self, bids: Sequence[GpuBid], now_s: float,
                  reserve_per_ms: int) -> GpuDispatch:
        auction = Auction(
            (Resource("gpu_ms", self.window_ms, reserve_per_ms), Resource("memory", self.memory)),
            tuple(Bid(str(b.agent), tuple(Bundle((ms, mem), p) for ms, mem, p in b.bundles))
                  for b in bids),
        )
        result = vcg_payments(auction, clear(auction))
        if result.status is not Status.OPTIMAL or result.payments is None:
            raise RuntimeError(f"GPU clearing ended {result.status.value}: "
                               f"{result.stats.get('vcg', '')}")
        winners, ms, mem, pays = [], [], [], []
        for t in result.winners:
            j = result.choice[t]
            assert j is not None
            bundle = auction.bids[t].bundles[j]
            winners.append(bids[t].agent)
            ms.append(bundle.quantities[0])
            mem.append(bundle.quantities[1])
            pays.append(max(result.payments[t], auction.floor(bundle)))
        return GpuDispatch(now_s, "clearing", tuple(winners), tuple(ms), tuple(mem), tuple(pays))
