"""The BPF maps' value layouts (``kernel/scx_auction.h``) and the scheduler's constants.

Every integer is range-checked where it crosses into a map: a value that
does not fit its C field raises, naming the field, instead of wrapping.

Example:
    >>> blob = pack_bid(Bid(price=250_000, units=4, budget=0), seq=1)
    >>> len(blob), unpack_bid(blob)
    (24, Bid(price=250000, units=4, budget=0))
    >>> pack_bid(Bid(price=2**32, units=1, budget=0), seq=1)
    Traceback (most recent call last):
      ...
    ValueError: price 4294967296 is out of range 0..4294967295
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from auctioneer.checks import require_int

__all__ = [
    "AGENT_CGROUP",
    "BANK_NS",
    "BUDGET_PERIOD_NS",
    "FREE_WEIGHT",
    "LAG_NS",
    "MAX_BID",
    "MAX_UNITS",
    "PAGE_SEQ_OFFSET",
    "PPM_ONE",
    "QUANTUM_NS",
    "STATS_SIZE",
    "U32_MAX",
    "U64_MAX",
    "Account",
    "Bid",
    "ExitInfo",
    "Stats",
    "agent_key",
    "pack_bid",
    "pack_page",
    "page_reserve",
    "unpack_account",
    "unpack_bid",
    "unpack_exit",
    "unpack_stats",
    "wait_bound_ns",
]

U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
# The scheduler's rodata defaults (kernel/scx_auction.bpf.c); tests/kernel checks they agree.
QUANTUM_NS = 1_000_000
MAX_UNITS = 16
FREE_WEIGHT = 10_000
MAX_BID = 310_000
LAG_NS = 1_000_000
BANK_NS = 16_000_000
BUDGET_PERIOD_NS = 1_000_000_000
PPM_ONE = 1_000_000
AGENT_CGROUP = 1 << 63
DELAY_BUCKETS = 32

_BID = struct.Struct("<QIIQ")
_ACCOUNT = struct.Struct("<5Q")
_STATS_FIELDS = ("enqueued", "direct", "kthreads", "bidders", "free", "out_of_budget", "kicks",
                 "dispatched", "kept", "page_retries", "page_fallbacks", "dispatches", "cached",
                 "handoffs", "handoff_kicks", "pairs", "window_cuts", "window_cut_ns",
                 "dispatch_calls", "dispatch_ns", "enqueue_calls", "enqueue_ns", "max_wait_ns")
_STATS = struct.Struct(f"<{len(_STATS_FIELDS)}Q{DELAY_BUCKETS}Q")
_EXIT = struct.Struct("<qq128s256s")
STATS_SIZE = _STATS.size
_PAGE = struct.Struct("<QI I48x QQIIII32x")


@dataclass(frozen=True, slots=True)
class Bid:
    """An agent's standing bid: micro-units per quantum, slice in quanta, budget per window."""

    price: int
    units: int
    budget: int

    def __post_init__(self) -> None:
        require_int(self.price, "price", 0, U32_MAX)
        require_int(self.units, "units", 1, MAX_UNITS)
        require_int(self.budget, "budget", 0, U64_MAX)


@dataclass(frozen=True, slots=True)
class Account:
    """What an agent paid (micro-units) and ran (ns), paying and free."""

    charged: int
    paid_ns: int
    free_ns: int
    period: int
    period_charged: int


@dataclass(frozen=True, slots=True)
class Stats:
    """The per-CPU counters summed over CPUs (``max_wait_ns``: the maximum)."""

    counters: dict[str, int]
    delay_hist: tuple[int, ...]

    # *_calls count the timed calls only (one in SCX_AUCTION_TIME_EVERY): the mean per call.
    def cost_per_dispatch_ns(self) -> float | None:
        calls = self.counters["dispatch_calls"]
        return self.counters["dispatch_ns"] / calls if calls else None

    def cost_per_enqueue_ns(self) -> float | None:
        calls = self.counters["enqueue_calls"]
        return self.counters["enqueue_ns"] / calls if calls else None


@dataclass(frozen=True, slots=True)
class ExitInfo:
    """Why the scheduler stopped (``ops.exit``); kind 0 while it runs."""

    kind: int
    exit_code: int
    reason: str
    msg: str


def agent_key(*, tgid: int | None = None, cgroup_id: int | None = None) -> int:
    """The bid map's key: a thread-group id, or the cgroup bit with a cgroup v2 id."""
    if (tgid is None) == (cgroup_id is None):
        raise ValueError("give exactly one of tgid and cgroup_id")
    if tgid is not None:
        return require_int(tgid, "tgid", 1, 2**31 - 1)
    assert cgroup_id is not None
    return AGENT_CGROUP | require_int(cgroup_id, "cgroup_id", 1, AGENT_CGROUP - 1)


def pack_bid(bid: Bid, seq: int) -> bytes:
    """``struct scx_auction_bid``; ``seq`` > 0 (0 means no bid)."""
    return _BID.pack(require_int(seq, "seq", 1, U64_MAX), require_int(bid.price, "price", 0,
                     U32_MAX), require_int(bid.units, "units", 1, MAX_UNITS),
                     require_int(bid.budget, "budget", 0, U64_MAX))


def unpack_bid(blob: bytes) -> Bid:
    _, price, units, budget = _BID.unpack(blob)
    return Bid(price=price, units=units, budget=budget)


def unpack_account(blob: bytes) -> Account:
    return Account(*_ACCOUNT.unpack(blob))


def unpack_stats(per_cpu: list[bytes]) -> Stats:
    """Sum the per-CPU ``struct scx_auction_stats`` values (max for the longest wait)."""
    counters = dict.fromkeys(_STATS_FIELDS, 0)
    hist = [0] * DELAY_BUCKETS
    for blob in per_cpu:
        values = _STATS.unpack(blob)
        for name, value in zip(_STATS_FIELDS, values, strict=False):
            counters[name] = (max(counters[name], value) if name == "max_wait_ns"
                              else counters[name] + value)
        for b, value in enumerate(values[len(_STATS_FIELDS):]):
            hist[b] += value
    return Stats(counters, tuple(hist))


def unpack_exit(blob: bytes) -> ExitInfo:
    kind, code, reason, msg = _EXIT.unpack(blob)
    return ExitInfo(kind, code, reason.split(b"\0")[0].decode(errors="replace"),
                    msg.split(b"\0")[0].decode(errors="replace"))


PAGE_MAGIC = 0x45474150474E4952  # ring.h RING_MAGIC_PAGE
PAGE_SEQ_OFFSET = 64


def pack_page(seq: int, tick: int, cpu_price: int, cpu_multiplier_ppm: int) -> bytes:
    """``struct scx_price_page`` (ring.h's price page) with the CPU fields set."""
    return _PAGE.pack(PAGE_MAGIC, 1, 1, require_int(seq, "seq", 0, U64_MAX),
                      require_int(tick, "tick", 0, U64_MAX),
                      require_int(cpu_price, "cpu_price", 0, U32_MAX), 0,
                      require_int(cpu_multiplier_ppm, "cpu_multiplier", 0, U32_MAX), PPM_ONE)


def page_reserve(blob: bytes) -> int:
    """The reserve a price page sets: cpu_price x cpu_multiplier / 10**6 (the BPF side's)."""
    _, _, _, _, _, price, _, mult, _ = _PAGE.unpack(blob)
    return int(price * mult // PPM_ONE)


def wait_bound_ns(competitors: int) -> int:
    """The longest a runnable task waits with ``competitors`` other runnable tasks, on one CPU.

    Each competitor runs at most R * (longest vtime step + bank) + the longest
    slice before the waiter's tag is the smallest (kernel/README.md), R being
    the weight ratio (FREE_WEIGHT + MAX_BID) / FREE_WEIGHT and the longest
    vtime step MAX_UNITS quanta.
    """
    require_int(competitors, "competitors", 0, 2**31)
    ratio = (FREE_WEIGHT + MAX_BID) // FREE_WEIGHT
    slice_max = MAX_UNITS * QUANTUM_NS
    return competitors * (ratio * (slice_max + BANK_NS) + slice_max) + slice_max
