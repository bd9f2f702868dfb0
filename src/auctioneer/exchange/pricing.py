"""Price discovery: a true-half-life EWMA of trade prices, and OHLC bars, in exact integers.

The market price at time ``T`` is the quantity-weighted mean of all trade
prices, trade ``i`` weighted ``q_i * 2^(-(T - t_i)/h)`` for half-life ``h``:
a trade ``h`` old counts half as much as one now. Weighting by quantity
makes the price independent of how a fill was split across resting orders.
Before the first trade the price is the market's base price.

Exactness: weights are fixed-point integers with :data:`WEIGHT_BITS`
fractional bits. ``2^(-dt/h)`` is computed from ``exp`` in :mod:`decimal` at
40 digits (correctly rounded, so identical on every machine) and rounded to
the nearest fixed-point integer; sums are exact ints; the published price is
the ratio rounded half up to a micro-unit. Nothing uses a float, so replays
and replicas publish bit-identical prices.

The engine folds the trades of the past second into the running sums and the
bars once per published second (:meth:`PriceIndex.publish`), not per trade,
which keeps decimal arithmetic and bar updates off the matching path;
the weights and sums of a fold, and each second's bar of the pending trades, are
computed in C (:mod:`auctioneer.exchange._price`:
128-bit fixed point, which asks the decimal reference only where its value is too
near a rounding tie to decide it, so every weight is the reference's; a loop in
Python over the decimal weights is the reference, and ``_price``'s own
hypothesis tests hold the two equal);
:meth:`PriceIndex.price` and :meth:`PriceIndex.ohlc` include unpublished
trades without changing the state.

The sums are kept as of the newest folded trade, not as of the publication
time: the ratio is the same at every time after the last trade (all weights
decay alike), so a publication without new trades leaves the sums alone and
the price cannot drift however long the market is idle. Folding decays the
old sums once, by the time since their reference, at full precision (the
product with the fixed-point fraction of a half-life, then one rounded
shift by ``WEIGHT_BITS`` plus the whole half-lives), and every fold brings
a trade of weight ``1 << WEIGHT_BITS`` per instance (the newest), so the
rounding errors, which decay with the sums, stay within about 2^-62 of the
weight: the ratio is off by about 2^-62 of the price before it is rounded
to a micro-unit. **Forgetting**: a trade
leaves the sums only when a newer trade is folded once it has decayed
below half a fixed-point unit -- about ``WEIGHT_BITS + 1 + log2(quantity)``
half-lives older than the newer trade, where it no longer moves the price.
The base price holds only until the first trade; after it the price is
always the EWMA of the trades seen.

Example:
    >>> index = PriceIndex(base_price=1_000, half_life_ns=10 * SECOND)
    >>> index.price(0)
    1000
    >>> index.record(1_000, 1, 0); index.record(2_000, 1, 10 * SECOND)
    >>> index.publish(10 * SECOND)   # the older trade weighs half: (1000/2 + 2000) / 1.5
    1667
    >>> decay(10 * SECOND, 10 * SECOND) == 1 << (WEIGHT_BITS - 1)
    True
"""

from __future__ import annotations

import decimal
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from auctioneer.exchange import _price

__all__ = ["BAR_HISTORY", "SECOND", "WEIGHT_BITS", "Bar", "PriceIndex", "decay"]

SECOND = 1_000_000_000
"""Nanoseconds per second."""
WEIGHT_BITS = 62
"""Fractional bits of a fixed-point weight: weight 1 is ``1 << WEIGHT_BITS``."""
BAR_HISTORY = 3600
"""One-second bars kept per market (the most recent seconds that had trades)."""

_ONE = 1 << WEIGHT_BITS
_CONTEXT = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN)
_LN2 = decimal.Decimal("0.6931471805599453094172321214581765680755")
_CACHE: dict[tuple[int, int], int] = {}
# The C weights defer to the decimal ones within 2^32 units of 2^-127 of a rounding tie;
# their own error is below 2^14 units (_price.c), and a weight defers with odds of 2^-32.
_TIE_BITS = 32


def decay(age_ns: int, half_life_ns: int) -> int:
    """``2^(-age/half_life)`` as a fixed-point int with :data:`WEIGHT_BITS` bits, exactly rounded.

    Example:
        >>> decay(0, 5), decay(3 * SECOND, SECOND) == _ONE >> 3
        (4611686018427387904, True)
    """
    return _decay(age_ns, half_life_ns, _fraction)


def _decay(age_ns: int, half_life_ns: int, fraction: Callable[[int, int], int]) -> int:
    whole, part = divmod(age_ns, half_life_ns)
    return fraction(part, half_life_ns) >> whole if whole <= WEIGHT_BITS else 0


def _fraction(part_ns: int, half_life_ns: int) -> int:
    """``2^(-part/half_life)`` for ``0 <= part < half_life``, fixed-point, rounded half even:
    :func:`_fraction_decimal`'s value, computed in C where it can be."""
    fast = _price.fraction(part_ns, half_life_ns, _fraction_decimal, _TIE_BITS)
    return _fraction_decimal(part_ns, half_life_ns) if fast is None else fast


def _fraction_decimal(part_ns: int, half_life_ns: int) -> int:
    """:func:`_fraction` at 40 decimal digits: the reference."""
    key = (part_ns, half_life_ns)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    ctx = _CONTEXT
    exponent = ctx.divide(ctx.multiply(decimal.Decimal(-part_ns), _LN2),
                          decimal.Decimal(half_life_ns))
    scaled = ctx.multiply(ctx.exp(exponent), decimal.Decimal(_ONE))
    value = int(scaled.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    if len(_CACHE) > 65_536:  # ages repeat in steady streams; bound the memo all the same
        _CACHE.clear()
    _CACHE[key] = value
    return value


def _fold_python(pending: array[int], ref: int, half_life_ns: int) -> tuple[int, int]:
    """``(sum of price * w, sum of w)`` over the pending trades, ``w = quantity *
    decay(ref - ts)``: the reference for :func:`auctioneer.exchange._price.fold`."""
    weighted = weight = 0
    flat = iter(pending)
    for price, quantity, ts in zip(flat, flat, flat, strict=True):
        w = quantity * _decay(ref - ts, half_life_ns, _fraction_decimal)
        weighted += price * w
        weight += w
    return weighted, weight


_fold = _price.fold
"""The fold the index uses (tests swap in the reference to run each test on both)."""
_bars = _price.bars
"""The pending trades' one-second runs (tests swap in the reference, a trade at a time)."""


class Bar:
    """Open, high, low, close and volume of the trades in one second."""

    __slots__ = ("close", "high", "low", "open", "second", "volume")

    def __init__(self, second: int, price: int, quantity: int) -> None:
        self.second = second
        self.open = self.high = self.low = self.close = price
        self.volume = quantity

    def as_list(self) -> list[int]:
        """``[second, open, high, low, close, volume]``."""
        return [self.second, self.open, self.high, self.low, self.close, self.volume]


def _copy(bar: Bar) -> Bar:
    copy = Bar(bar.second, bar.open, bar.volume)
    copy.high, copy.low, copy.close = bar.high, bar.low, bar.close
    return copy


class PriceIndex:
    """One market's trade EWMA (running fixed-point sums) and its one-second OHLC bars."""

    __slots__ = ("bars", "base_price", "half_life_ns", "pending", "ref_ns", "weight",
                 "weighted")

    def __init__(self, base_price: int, half_life_ns: int) -> None:
        self.base_price = base_price
        self.half_life_ns = half_life_ns
        self.weighted = 0  # sum of price * quantity * weight, as of ref_ns
        self.weight = 0  # sum of quantity * weight, as of ref_ns
        self.ref_ns = 0  # the newest folded trade's time
        # Trades not yet folded, flat: price, quantity, ts_ns, price, ... as 64-bit ints (each
        # fits: limits.py and the clock's check bound them), so a trade is no int objects: the
        # native engine writes its trades in as bytes, and the collector never sees them.
        self.pending = array("q")
        self.bars: deque[Bar] = deque(maxlen=BAR_HISTORY)

    def record(self, price: int, quantity: int, ts_ns: int) -> None:
        """Note a trade (bars and sums take it in at the next :meth:`publish`). O(1)."""
        self.pending += array("q", (price, quantity, ts_ns))  # whole, or OverflowError

    def _pending(self) -> Iterator[tuple[int, int, int]]:
        """The unfolded trades as ``(price, quantity, ts_ns)``."""
        flat = iter(self.pending)
        return zip(flat, flat, flat, strict=True)

    def _bars_in(self, bars: deque[Bar]) -> None:
        """The pending trades into ``bars``: each second's run from C (:func:`_bars`), or
        trade by trade (the reference) for what C leaves to it."""
        runs = _bars(self.pending)
        if runs is None:
            runs = [(ts // SECOND, price, price, price, price, quantity)
                    for price, quantity, ts in self._pending()]
        for second, first, high, low, close, volume in runs:
            if bars and bars[-1].second == second:
                bar = bars[-1]
                bar.high = max(bar.high, high)
                bar.low = min(bar.low, low)
                bar.close = close
                bar.volume += volume
            else:
                bar = Bar(second, first, volume)
                bar.high, bar.low, bar.close = high, low, close
                bars.append(bar)

    def _folded(self) -> tuple[int, int, int]:
        """The sums with the pending trades folded in, and the time they are as of."""
        pending = self.pending
        if not pending:
            return self.weighted, self.weight, self.ref_ns
        h = self.half_life_ns
        ref = max(self.ref_ns, max(pending[2::3]))
        whole, part = divmod(ref - self.ref_ns, h)
        # One rounded shift at full precision: decaying by the fixed-point weight
        # ``decay()`` (already shifted by the whole half-lives) would lose its low bits.
        shift = WEIGHT_BITS + whole
        if shift > WEIGHT_BITS + self.weighted.bit_length():  # rounds to 0 (weighted >= weight)
            weighted = weight = 0  # without building a shift-sized int after a long idle spell
        else:
            fraction = _fraction(part, h)
            half = 1 << (shift - 1)
            weighted = (self.weighted * fraction + half) >> shift
            weight = (self.weight * fraction + half) >> shift
        sums = _fold(pending, ref, h, _fraction_decimal, _TIE_BITS)
        if sums is None:  # a value C leaves to the reference (a negative price, say)
            sums = _fold_python(pending, ref, h)
        return weighted + sums[0], weight + sums[1], ref

    def _ratio(self, weighted: int, weight: int) -> int:
        if not weight:
            return self.base_price
        return (2 * weighted + weight) // (2 * weight)

    def price(self, at_ns: int) -> int:
        """The EWMA price at ``at_ns`` (not before the last trade), without changing state.

        The price is the same at every such time (see the module docstring).
        """
        weighted, weight, _ = self._folded()
        return self._ratio(weighted, weight)

    def publish(self, at_ns: int) -> int:
        """Fold the pending trades into the sums and bars; return the price at ``at_ns``."""
        if self.pending:
            self.weighted, self.weight, self.ref_ns = self._folded()
            self._bars_in(self.bars)
            del self.pending[:]
        return self._ratio(self.weighted, self.weight)

    def ohlc(self, interval_s: int, limit: int) -> list[list[int]]:
        """``[start_second, open, high, low, close, volume]`` per ``interval_s``, oldest first,
        the last ``limit`` intervals that had trades."""
        bars = self.bars
        if self.pending:  # not yet published: show them, leave the state alone
            bars = deque(bars, maxlen=BAR_HISTORY)
            if bars:  # trades come in time order: only the last bar can change
                bars[-1] = _copy(bars[-1])
            self._bars_in(bars)
        out: list[list[int]] = []
        for bar in bars:
            start = bar.second - bar.second % interval_s
            if out and out[-1][0] == start:
                row = out[-1]
                row[2] = max(row[2], bar.high)
                row[3] = min(row[3], bar.low)
                row[4] = bar.close
                row[5] += bar.volume
            else:
                out.append([start, bar.open, bar.high, bar.low, bar.close, bar.volume])
        return out[-limit:] if limit else []

    def state(self) -> dict[str, Any]:
        """The index as JSON-safe data (for snapshots and the state hash)."""
        return {**self._settled(), "pending": [list(t) for t in self._pending()]}

    def state_parts(self) -> dict[str, Any]:
        """:meth:`state` with its pending trades as their canonical JSON already (bytes,
        written by :func:`auctioneer.exchange._price.pending_json`): at a busy second's end
        they are most of the index, a Python list and three ints a trade. O(pending)."""
        return {**self._settled(), "pending": _price.pending_json(self.pending)}

    def _settled(self) -> dict[str, Any]:
        """:meth:`state` but for the pending trades."""
        return {"weighted": self.weighted, "weight": self.weight, "ref_ns": self.ref_ns,
                "bars": [bar.as_list() for bar in self.bars]}

    def load(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""
        self.weighted = state["weighted"]
        self.weight = state["weight"]
        self.ref_ns = state["ref_ns"]
        self.pending = array("q", [n for trade in state["pending"] for n in trade])
        self.bars.clear()
        for second, o, h, low, c, v in state["bars"]:
            bar = Bar(second, o, v)
            bar.high, bar.low, bar.close = h, low, c
            self.bars.append(bar)
