"""Dual-plane price coupling as table lookups: GPU hot => CPU price up to 8x, GPU price stable.

The seed's two functions::

    GPU_price = f(GPU_demand, GPU_headroom)
    CPU_price = g(CPU_demand, CPU_headroom, GPU_utilisation)

are tabulated once, on a grid of :data:`BINS` = 16 bins per input, as Q16.16
multipliers of a base price. The hot path quantises its integer inputs
(per-mille demand and utilisation, millikelvin headroom) with a shift-free
floor division and a clamp, reads one entry and does one multiply and shift.

Sizes (as uint32 in the C layout; :attr:`CouplingTable.nbytes`): the CPU
table is 16 x 16 x 16 = 4,096 entries = 16 KiB, which fits a 32 KiB L1 data
cache; the GPU table is 16 x 16 = 256 entries = 1 KiB. Why 16: utilisation
in 1/16 steps (6.25 %), headroom in 2 K steps (eight times the default
sensor noise, so a bin does not flicker on noise; 30 K and more is "cool"),
demand in 1/8ths of supply up to 2x; neighbouring entries then differ by at
most 8^(1/15) = 1.149x, finer than anything the controller could act on,
while 32 bins per axis would be 128 KiB, out of L1, for resolution no sensor
provides.

The tabulated function (:func:`cpu_formula`, :func:`gpu_formula`, the
"formula" the benchmark compares with): a demand factor ``1 + min(max(d - 1,
0), 1) / 2`` (up to 1.5x when demand is twice the supply), times on the CPU
the cross-plane factor ``8 ** (g * s)`` with ``g`` the GPU utilisation and
``s = 1 - headroom / 30 K`` the CPU's thermal scarcity, capped at 8x; on
the GPU the mild thermal factor ``1 + s / 4``, so the GPU price stays in
:data:`GPU_BAND` (1x..2x) whatever the temperatures: GPU work keeps running
while the CPU's price chases off all but GPU-feeding work.

Example:
    >>> t = CouplingTable.build()
    >>> t.cpu_price(1_000_000, cpu_demand=1000, cpu_headroom_mc=1_000, gpu_util=950)
    8000000
    >>> t.cpu_price(1_000_000, cpu_demand=1000, cpu_headroom_mc=40_000, gpu_util=950)
    1000000
    >>> t.gpu_price(1_000_000, gpu_demand=1000, gpu_headroom_mc=0)
    1250000
    >>> t.nbytes
    {'cpu': 16384, 'gpu': 1024}
"""

from __future__ import annotations

from dataclasses import dataclass

from auctioneer.checks import require_int
from auctioneer.thermal.controller import DEFAULT_MAX_MULTIPLIER, FRACTION_BITS, ONE, to_q
from auctioneer.tick.limits import PRICE_MAX, check_price

__all__ = [
    "BINS",
    "DEMAND_BIN_PM",
    "GPU_BAND",
    "HEADROOM_BIN_MC",
    "CouplingTable",
    "cpu_formula",
    "gpu_formula",
]

BINS = 16
"""Bins per input axis."""
DEMAND_BIN_PM = 125
"""Demand bin width: 1/8 of supply (per-mille); bin 15 holds 1.875x supply and more."""
HEADROOM_BIN_MC = 2_000
"""Headroom bin width: 2 K; bin 15 holds 30 K and more, bin 0 holds < 2 K (and over the limit)."""
GPU_BAND = (ONE, 2 * ONE)
"""The GPU multiplier always lies in this band (1x..2x), whatever the temperatures."""
_ENTRY_BYTES = 4


def _demand_factor(d_bin: int) -> float:
    ratio = d_bin * DEMAND_BIN_PM / 1000
    return 1.0 + min(max(ratio - 1.0, 0.0), 1.0) / 2


def _scarcity(h_bin: int) -> float:
    return 1.0 - h_bin / (BINS - 1)


def cpu_formula(d_bin: int, h_bin: int, g_bin: int, max_q: int = DEFAULT_MAX_MULTIPLIER) -> int:
    """The CPU multiplier (Q16.16) computed from the bins, as the table holds it."""
    cross = (max_q / ONE) ** (g_bin / (BINS - 1) * _scarcity(h_bin))
    return min(to_q(_demand_factor(d_bin) * cross), max_q)


def gpu_formula(d_bin: int, h_bin: int) -> int:
    """The GPU multiplier (Q16.16) from the bins: in :data:`GPU_BAND`."""
    return to_q(_demand_factor(d_bin) * (1.0 + _scarcity(h_bin) / 4))


def _bin_pm(value: int, width: int) -> int:
    b = value // width
    return 0 if b < 0 else BINS - 1 if b >= BINS else b


def _util_bin(util_pm: int) -> int:
    b = util_pm * BINS // 1000
    return 0 if b < 0 else BINS - 1 if b >= BINS else b


@dataclass(frozen=True, slots=True)
class CouplingTable:
    """The two tables, flattened: CPU ``[(g * 16 + h) * 16 + d]``, GPU ``[h * 16 + d]``."""

    cpu: tuple[int, ...]
    gpu: tuple[int, ...]
    max_q: int = DEFAULT_MAX_MULTIPLIER

    def __post_init__(self) -> None:
        if len(self.cpu) != BINS**3 or len(self.gpu) != BINS**2:
            raise ValueError(f"cpu/gpu tables have {len(self.cpu)}/{len(self.gpu)} entries; "
                             f"expected {BINS**3}/{BINS**2}")

    @classmethod
    def build(cls, max_multiplier: int = 8) -> CouplingTable:
        """Tabulate :func:`cpu_formula` and :func:`gpu_formula`; the CPU ceiling is given in x."""
        require_int(max_multiplier, "max_multiplier", 1, 64)
        max_q = max_multiplier * ONE
        cpu = tuple(cpu_formula(d, h, g, max_q)
                    for g in range(BINS) for h in range(BINS) for d in range(BINS))
        gpu = tuple(gpu_formula(d, h) for h in range(BINS) for d in range(BINS))
        return cls(cpu, gpu, max_q)

    @property
    def nbytes(self) -> dict[str, int]:
        """Bytes of each table as uint32 entries (the C layout)."""
        return {"cpu": len(self.cpu) * _ENTRY_BYTES, "gpu": len(self.gpu) * _ENTRY_BYTES}

    def cpu_multiplier(self, cpu_demand: int, cpu_headroom_mc: int, gpu_util: int) -> int:
        """CPU multiplier, Q16.16: demand per-mille of supply, headroom mK, GPU util per-mille.

        Inline quantisation (three floor divisions and clamps, one index): the hot path.
        """
        last = BINS - 1
        g = gpu_util * BINS // 1000
        h = cpu_headroom_mc // HEADROOM_BIN_MC
        d = cpu_demand // DEMAND_BIN_PM
        g = 0 if g < 0 else last if g > last else g
        h = 0 if h < 0 else last if h > last else h
        d = 0 if d < 0 else last if d > last else d
        return self.cpu[(g * BINS + h) * BINS + d]

    def gpu_multiplier(self, gpu_demand: int, gpu_headroom_mc: int) -> int:
        """GPU multiplier, Q16.16, always within :data:`GPU_BAND`."""
        return self.gpu[_bin_pm(gpu_headroom_mc, HEADROOM_BIN_MC) * BINS
                        + _bin_pm(gpu_demand, DEMAND_BIN_PM)]

    def cpu_price(self, base: int, cpu_demand: int, cpu_headroom_mc: int, gpu_util: int,
                  feedback_q: int = ONE) -> int:
        """``base`` (micro-units) times the CPU multiplier and the controller's ``feedback_q``.

        The product is capped at ``max_q`` times ``base`` (the seed's 8x) and
        at :data:`~auctioneer.tick.PRICE_MAX`, the largest price a tick book holds.
        """
        if type(base) is not int or not 0 <= base <= PRICE_MAX:
            check_price(base, "base")
        m = self.cpu_multiplier(cpu_demand, cpu_headroom_mc, gpu_util) * feedback_q
        m >>= FRACTION_BITS
        if m > self.max_q:
            m = self.max_q
        price = base * m >> FRACTION_BITS
        return price if price < PRICE_MAX else PRICE_MAX

    def gpu_price(self, base: int, gpu_demand: int, gpu_headroom_mc: int) -> int:
        """``base`` (micro-units) times the GPU multiplier (capped at PRICE_MAX)."""
        check_price(base, "base")
        return min(base * self.gpu_multiplier(gpu_demand, gpu_headroom_mc) >> FRACTION_BITS,
                   PRICE_MAX)
