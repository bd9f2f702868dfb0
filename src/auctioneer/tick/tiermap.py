"""How the tier book maps prices (micro-units) to tiers, and back to floors.

A tier book ranks by tier, so two bids in one tier are told apart only by
arrival (FIFO). The mapping is therefore the book's price resolution: the
width of a tier is the largest difference in bids that can lose to arrival
order. Two mappings, both integer-only, the same arithmetic as ``tick_core.c``:

* ``TierMap.linear(width, base)``: equal-width tiers; resolution ``width``
  micro-units everywhere. Right when bids cluster in a known band.
* ``TierMap.log(sub_bits)``: HdrHistogram-style logarithmic tiers; relative
  resolution ``2**-sub_bits`` at every magnitude (0.8 % for 7 bits) and exact
  below ``2**(sub_bits + 1)``. Right when bids span orders of magnitude.

Example:
    >>> m = TierMap.linear(width=10_000, base=500_000)   # 1-cent tiers above $0.50
    >>> m.tier_of(853_000), m.floor(m.tier_of(853_000))
    (35, 850000)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from auctioneer.tick.limits import MAX_TIERS, check_price

__all__ = ["MapKind", "TierMap"]


class MapKind(enum.IntEnum):
    """The two price-to-tier mappings; values match ``enum tick_map_kind``."""

    LINEAR = 0
    """Tiers of equal width above a base price."""
    LOG = 1
    """Tiers of equal relative width (floating-point-free log2)."""


@dataclass(frozen=True, slots=True)
class TierMap:
    """A price-to-tier mapping with ``tiers`` tiers (at most 4096).

    Prices above the top tier's floor are clamped into the top tier.
    Complexity: ``tier_of`` and ``floor`` are O(1).
    """

    kind: MapKind
    tiers: int
    base: int = 0
    width: int = 1
    sub_bits: int = 0

    def __post_init__(self) -> None:
        _require(type(self.tiers) is int and 1 <= self.tiers <= MAX_TIERS,
                 "tiers", self.tiers, f"an int in 1..{MAX_TIERS}")
        if self.kind is MapKind.LINEAR:
            _require(type(self.width) is int and self.width >= 1, "width",
                     self.width, "an int >= 1 micro-unit")
            check_price(self.base, "base")
        else:
            _require(type(self.sub_bits) is int and 0 <= self.sub_bits <= 16,
                     "sub_bits", self.sub_bits, "an int in 0..16")

    @classmethod
    def linear(cls, width: int, base: int = 0, tiers: int = MAX_TIERS) -> TierMap:
        """Equal tiers of ``width`` micro-units; prices below ``base`` share tier 0."""
        return cls(MapKind.LINEAR, tiers, base=base, width=width)

    @classmethod
    def log(cls, sub_bits: int = 7, tiers: int = MAX_TIERS) -> TierMap:
        """Logarithmic tiers with relative resolution ``2**-sub_bits``."""
        return cls(MapKind.LOG, tiers, sub_bits=sub_bits)

    def tier_of(self, price: int) -> int:
        """The tier a price falls in."""
        if self.kind is MapKind.LINEAR:
            tier = 0 if price < self.base else (price - self.base) // self.width
        elif price < 1 << (self.sub_bits + 1):
            tier = price
        else:
            shift = price.bit_length() - 1 - self.sub_bits
            tier = (shift << self.sub_bits) + (price >> shift)
        return min(tier, self.tiers - 1)

    def floor(self, tier: int) -> int:
        """The lowest price that maps to ``tier``: what a tier-priced bid pays."""
        if self.kind is MapKind.LINEAR:
            return 0 if tier == 0 else self.base + tier * self.width
        if tier < 1 << (self.sub_bits + 1):
            return tier
        shift = (tier >> self.sub_bits) - 1
        return (tier - (shift << self.sub_bits)) << shift


def _require(ok: bool, field: str, value: object, what: str) -> None:
    if not ok:
        raise ValueError(f"{field} must be {what}, got {value!r}")
