"""The GPU plane's batch auction: GPU milliseconds, 10-100 times a second.

Each dispatch sells one window of ``1000 / dispatch_hz`` GPU milliseconds,
cut into slices of ``slice_ms``, plus ``memory`` units of GPU memory. Bids
are XOR lists of ``(gpu_ms, memory, price)`` bundles. Three exact paths:

* **unit bids** (every bid one slice, no memory): k-unit Vickrey on a tick
  book (:func:`auctioneer.tick.second_price`), k = slices per window; every
  winner pays ``max(reserve, (k+1)-th bid)``. O(N log N) natively.
* **bundles** (anything else): a bundle is *admissible* when its price is
  at least its floor ``gpu_ms * reserve_per_ms``; the dispatch maximises
  the gross value (sum of prices, not prices net of floors) over
  admissible bundles, and each winner pays ``max(VCG payment, floor)``,
  the VCG payment computed over admissible bundles too. On unit bids this
  is the Vickrey path's rule: the admissible bids are those at or above
  the reserve, the top k win, VCG is the (k+1)-th admissible bid (0 if
  none), so each pays ``max(reserve, (k+1)-th bid)`` (tested). Solved by
  :func:`auctioneer.thermal.gpu_solver.solve` (branch and bound, native),
  which fits the 100 us budget where the general clearing does not; past
  its node budget or native limits the dispatch falls back to the general
  path, reported as ``"clearing"``.
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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auctioneer.checks import require_int
from auctioneer.clearing import Auction, Bid, Bundle, Resource, Status, clear, vcg_payments
from auctioneer.thermal.gpu_solver import solve
from auctioneer.tick import IndexedHeap, second_price
from auctioneer.tick.limits import PRICE_MAX, check_price

__all__ = ["MAX_DISPATCH_HZ", "MIN_DISPATCH_HZ", "PATHS", "GpuBid", "GpuDispatch", "GpuPlane"]

MIN_DISPATCH_HZ = 10
"""Slowest dispatch rate (the seed: 10-100 Hz)."""
MAX_DISPATCH_HZ = 100
"""Fastest dispatch rate."""
PATHS = ("auto", "vickrey", "bundles", "clearing")
"""``auto`` takes the Vickrey path exactly when every bid is a unit bid."""


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

    __slots__ = ("_book", "dispatch_hz", "max_agents", "memory", "slice_ms", "window_ms")

    def __init__(self, dispatch_hz: int = 50, slice_ms: int = 1, memory: int = 80,
                 max_agents: int = 4096) -> None:
        self.dispatch_hz = require_int(dispatch_hz, "dispatch_hz", MIN_DISPATCH_HZ, MAX_DISPATCH_HZ)
        self.window_ms = 1000 // self.dispatch_hz
        self.slice_ms = require_int(slice_ms, "slice_ms", 1, self.window_ms)
        self.memory = require_int(memory, "memory", 0)
        self.max_agents = require_int(max_agents, "max_agents", 1, 1 << 24)
        self._book = IndexedHeap(self.max_agents)

    @property
    def slices(self) -> int:
        """Slices per window: the k of the Vickrey path."""
        return self.window_ms // self.slice_ms

    def check(self, bids: Sequence[GpuBid]) -> None:
        """Raise ValueError naming the first bad bid, bundle and field. O(bundles).

        One fused range test per bundle on the hot path; only a bid that
        fails it is re-checked field by field for the message.
        """
        seen: set[int] = set()
        window, memory, cap = self.window_ms, self.memory, self.max_agents
        for i, bid in enumerate(bids):
            agent = bid.agent
            if type(agent) is not int or not 0 <= agent < cap or agent in seen or not bid.bundles:
                self._explain(i, bid, seen)
            for ms, mem, price in bid.bundles:
                if not (type(ms) is int and type(mem) is int and type(price) is int
                        and 1 <= ms <= window and 0 <= mem <= memory
                        and 0 <= price <= PRICE_MAX):
                    self._explain(i, bid, seen)
            seen.add(agent)

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
        self.check(bids)
        unit = (self.slice_ms, 0)
        units = all(len(b.bundles) == 1 and b.bundles[0][:2] == unit for b in bids)
        if path == "vickrey" and not units:
            raise ValueError(f"path 'vickrey' needs unit bids ({self.slice_ms} ms, no memory)")
        if path == "vickrey" or (path == "auto" and units):
            return self._vickrey(bids, now_s, reserve_per_ms)
        if path != "clearing":
            fast = self._bundles(bids, now_s, reserve_per_ms)
            if fast is not None:
                return fast
        return self._clearing(bids, now_s, reserve_per_ms)

    def _vickrey(self, bids: Sequence[GpuBid], now_s: float, reserve_per_ms: int) -> GpuDispatch:
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
        if out is None:
            return None
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
