"""The kernel scheduler's policy as a CPU plane: fair queueing with money as the weight.

``kernel/scx_auction.bpf.c`` (the sched_ext scheduler) does not auction each
quantum: it runs start-time fair queueing in which an agent's weight is
``free_weight + min(bid, max_bid)`` while it pays (a bid at or above the
reserve, budget left in the current window) and ``free_weight`` otherwise,
and a paying agent pays its bid per quantum it runs. This module is that
policy at the simulator's granularity, one tick being one quantum:

* each waiting agent holds a tag (virtual time); the ``cores`` free cores go
  to the smallest tags, each agent at most one core (an agent is one task);
* a winner holds its core for a slice of ``units`` quanta, capped at
  ``weight // free_weight`` and ``max_units``, priced once when it starts;
  an agent with no bid has nothing to re-price and holds it ``max_units``;
* each quantum run moves its tag by ``quantum x free_weight // weight``;
* a tag is kept at least ``bank_ns`` behind the latest started tag when a
  slice ends, ``lag_ns`` after the agent was idle and at its first slice end
  in each budget window (the scheduler's clamps; :meth:`_State.rebank`);
* the budget counts what the agent paid in the current window
  (``now // window_ns``) and resets at the next; ``window_ns = 0`` means no
  budget windows (each instant is its own, so budgets never bind, and there
  is no window cut), as ``budget_period_ns = 0`` does in the scheduler.

:class:`FairShare` keeps the waiting agents in a heap (``O(cores log n)`` per
tick); :class:`FairShareReference` makes the same decisions by scanning
every agent, the reference the differential test holds it to. :func:`fluid`
is the policy's promise in closed form for agents that never idle: weighted
fair shares (each agent at most one core), window by window.

Example:
    >>> policy = FairSharePolicy()
    >>> fs = FairShare(2, policy, quantum_ns=1_000_000)
    >>> fs.join(0); fs.join(1)
    >>> won = [0, 0]
    >>> for t in range(1100):
    ...     out = fs.tick(t * 1_000_000, 1, 0, bids=[90_000, 0], budgets=[0, 0], units=[1, 1])
    ...     for w in out.winners:
    ...         won[w] += 1
    >>> won  # the free agent runs max_units quanta a turn: within a slice of fluid
    [988, 112]
    >>> [round(s, 3) for s in fluid([90_000, 0], [0, 0], [1, 1], 1, policy)[0]]
    [0.909, 0.091]
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from auctioneer.checks import require_int
from auctioneer.tick import Outcome

__all__ = ["FairShare", "FairSharePolicy", "FairShareReference", "fluid"]


@dataclass(frozen=True, slots=True)
class FairSharePolicy:
    """The scheduler's constants (its rodata defaults: kernel/scx_auction.bpf.c)."""

    free_weight: int = 10_000
    max_bid: int = 310_000
    max_units: int = 16
    bank_ns: int = 16_000_000
    lag_ns: int = 1_000_000
    window_ns: int = 1_000_000_000

    def __post_init__(self) -> None:
        require_int(self.free_weight, "free_weight", 1, 2**32 - 1)
        require_int(self.max_bid, "max_bid", 0, 2**32 - 1)
        require_int(self.max_units, "max_units", 1, 1024)
        require_int(self.bank_ns, "bank_ns", 0, 2**62)
        require_int(self.lag_ns, "lag_ns", 0, 2**62)
        require_int(self.window_ns, "window_ns", 0, 2**62)

    def window_of(self, now: int) -> int:
        """The budget window ``now`` falls in; with no windows (0), ``now`` itself."""
        return now // (self.window_ns or 1)

    def paying(self, bid: int, reserve: int, budget: int, spent: int) -> bool:
        """Whether a bid pays (and weighs) now: above zero, at the reserve, budget left."""
        return bid > 0 and reserve <= bid and (not budget or spent < budget)

    def weight(self, bid: int, paying: bool) -> int:
        return self.free_weight + (min(bid, self.max_bid) if paying else 0)

    def slice_units(self, units: int, weight: int, bid: int) -> int:
        """A bidder's slice moves its tag by at most a quantum's worth; no bid: ``max_units``."""
        if not bid:
            return self.max_units
        return max(1, min(units, weight // self.free_weight, self.max_units))


class _State:
    """Per agent: the policy's bookkeeping, shared by the fast path and the reference."""

    def __init__(self, agents: int, policy: FairSharePolicy, quantum_ns: int) -> None:
        self.policy = policy
        self.quantum_ns = require_int(quantum_ns, "quantum_ns", 1, 2**40)
        self.tag = [0] * agents
        self.active = [False] * agents
        self.waiting = [False] * agents
        self.slice_left = [0] * agents
        self.price = [0] * agents
        self.weight = [policy.free_weight] * agents
        self.spent = [0] * agents
        self.window = [0] * agents
        self.banked = [-1] * agents
        self.vnow = 0
        self.running: list[int] = []

    def clamp(self, agent: int, behind: int) -> None:
        self.tag[agent] = max(self.tag[agent], self.vnow - behind)

    def rebank(self, agent: int, now: int) -> None:
        """A slice of ``agent`` ended and it is still runnable: it keeps ``bank_ns`` of credit,
        but only ``lag_ns`` at its first slice end in a budget window.

        The bank is for the lag that a longer tag step started on another core leaves (a
        slice's worth). An agent whose weighted share exceeds one core falls behind by itself
        and sits a whole bank behind; that lead is worth ``bank_ns x weight / free_weight`` of
        core time once its contenders' weights rise, as budgeted bidders' do when a window
        starts and they pay again, and it carried a window's phase into the next (the fluid
        model restarts each window). Cutting every tag to the sleeper's ``lag_ns`` once a
        window only raises tags, never past ``vnow``: the wait bound is unchanged. With no
        budget windows (``window_ns = 0``) no weight rises at a window start: no cut. O(1).
        """
        self.clamp(agent, self.policy.bank_ns)
        window = self.policy.window_of(now)
        if self.policy.window_ns and window != self.banked[agent]:
            self.banked[agent] = window
            self.clamp(agent, self.policy.lag_ns)

    def start(self, agent: int, now: int, reserve: int, bid: int, budget: int, units: int) -> None:
        """``agent`` takes a core: price its slice."""
        p = self.policy
        self.vnow = max(self.vnow, self.tag[agent])
        if p.window_of(now) != self.window[agent]:
            self.window[agent], self.spent[agent] = p.window_of(now), 0
        pays = p.paying(bid, reserve, budget, self.spent[agent])
        self.weight[agent] = p.weight(bid, pays)
        self.price[agent] = bid if pays else 0
        self.slice_left[agent] = p.slice_units(units, self.weight[agent], bid)
        self.running.append(agent)

    def run_quantum(self) -> Outcome:
        """Every running agent runs this tick's quantum: charge its tag and its account."""
        fw, q = self.policy.free_weight, self.quantum_ns
        for a in self.running:
            self.tag[a] += q * fw // self.weight[a]
            self.spent[a] += self.price[a]
            self.slice_left[a] -= 1
        n = len(self.running)
        return Outcome(tuple(self.running), tuple(self.price[a] for a in self.running), (1,) * n)


class FairShare:
    """The policy with the waiting agents in a heap of ``(tag, agent)``.

    ``join`` when an agent gets work, ``leave`` when it has none (or goes);
    ``tick`` once per quantum returns who runs it and what each pays.
    """

    def __init__(self, agents: int, policy: FairSharePolicy, quantum_ns: int) -> None:
        self._s = _State(require_int(agents, "agents", 0, 2**31), policy, quantum_ns)
        self._heap: list[tuple[int, int]] = []

    @property
    def tags(self) -> list[int]:
        return list(self._s.tag)

    def _queue(self, agent: int) -> None:
        s = self._s
        s.waiting[agent] = True
        heapq.heappush(self._heap, (s.tag[agent], agent))

    def join(self, agent: int) -> None:
        """``agent`` became runnable after being idle: it keeps at most ``lag_ns`` of credit."""
        s = self._s
        if s.active[agent]:
            return
        s.active[agent] = True
        if agent in s.running:
            return  # it left and came back within one tick: still on its core
        s.clamp(agent, s.policy.lag_ns)
        self._queue(agent)

    def leave(self, agent: int) -> None:
        s = self._s
        s.active[agent] = False
        s.waiting[agent] = False

    def tick(self, now: int, cores: int, reserve: int, bids: Sequence[int],
             budgets: Sequence[int], units: Sequence[int]) -> Outcome:
        """Run one quantum on ``cores`` cores; slices that end requeue their agents first."""
        s = self._s
        keep = []
        for a in s.running:
            if not s.active[a]:
                continue
            if s.slice_left[a] > 0:
                keep.append(a)
            else:
                s.rebank(a, now)
                self._queue(a)
        s.running = keep
        heap = self._heap
        while len(s.running) < cores and heap:
            tag, a = heapq.heappop(heap)
            if not s.waiting[a] or tag != s.tag[a]:
                continue  # stale: the agent left, or was queued again since
            s.waiting[a] = False
            s.start(a, now, reserve, bids[a], budgets[a], units[a])
        return s.run_quantum()


class FairShareReference:
    """The same policy by a full scan of the agents each tick: the differential test's reference."""

    def __init__(self, agents: int, policy: FairSharePolicy, quantum_ns: int) -> None:
        self._s = _State(require_int(agents, "agents", 0, 2**31), policy, quantum_ns)

    @property
    def tags(self) -> list[int]:
        return list(self._s.tag)

    def join(self, agent: int) -> None:
        s = self._s
        if s.active[agent]:
            return
        s.active[agent] = True
        if agent not in s.running:
            s.clamp(agent, s.policy.lag_ns)
            s.waiting[agent] = True

    def leave(self, agent: int) -> None:
        self._s.active[agent] = self._s.waiting[agent] = False

    def tick(self, now: int, cores: int, reserve: int, bids: Sequence[int],
             budgets: Sequence[int], units: Sequence[int]) -> Outcome:
        s = self._s
        ended = [a for a in s.running if s.active[a] and s.slice_left[a] <= 0]
        s.running = [a for a in s.running if s.active[a] and s.slice_left[a] > 0]
        for a in ended:
            s.rebank(a, now)
            s.waiting[a] = True
        while len(s.running) < cores:
            waiting = [a for a in range(len(s.tag)) if s.waiting[a]]
            if not waiting:
                break
            a = min(waiting, key=lambda i: (s.tag[i], i))
            s.waiting[a] = False
            s.start(a, now, reserve, bids[a], budgets[a], units[a])
        return s.run_quantum()


def _rates(weights: list[int], counts: list[int], cores: int) -> list[float]:
    """Per-agent core rate by class: weighted fair share, each agent capped at one core."""
    rate = [0.0] * len(weights)
    left, capacity = {i for i in range(len(weights)) if counts[i]}, float(cores)
    while left:
        lam = capacity / sum(weights[i] * counts[i] for i in left)
        capped = [i for i in left if weights[i] * lam >= 1.0]
        if not capped:
            for i in left:
                rate[i] = weights[i] * lam
            break
        for i in capped:
            rate[i] = 1.0
            capacity -= counts[i]
            left.discard(i)
    return rate


def fluid(bids: Sequence[int], budgets: Sequence[int], counts: Sequence[int], cores: int,
          policy: FairSharePolicy, reserve: int = 0, quantum_ns: int = 1_000_000
          ) -> tuple[list[float], list[float]]:
    """Classes of ``counts`` always-busy agents, each with a bid and a budget per agent and
    window: each class's share of all cores, and what it pays per second (micro-units).

    Water-filling over the cores, advanced from one budget exhaustion to the next within a
    window (every window repeats it). With no budget windows (``window_ns = 0``) budgets never
    bind, and the shares hold over any span: one second's is returned.
    """
    require_int(cores, "cores", 1, 4096)
    n = len(bids)
    spent, core_ns = [0.0] * n, [0.0] * n
    window = policy.window_ns
    if not window:
        budgets, window = [0] * n, 1_000_000_000
    t = 0.0
    while t < window:
        # A budget within a micro-unit of its end is spent (float steps land on it).
        paying = [policy.paying(bids[i], reserve, budgets[i], 0) and
                  (not budgets[i] or spent[i] < budgets[i] - 1e-6) for i in range(n)]
        rates = _rates([policy.weight(bids[i], paying[i]) for i in range(n)], list(counts),
                       cores)
        spend = [bids[i] * rates[i] / quantum_ns if paying[i] else 0.0 for i in range(n)]
        dt = window - t
        for i in range(n):
            if budgets[i] and spend[i] > 0:
                dt = min(dt, (budgets[i] - spent[i]) / spend[i])
        for i in range(n):
            core_ns[i] += counts[i] * rates[i] * dt
            spent[i] += spend[i] * dt
        t += dt
    return ([c / (cores * window) for c in core_ns],
            [spent[i] * counts[i] * 1e9 / window for i in range(n)])
