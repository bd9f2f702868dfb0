"""Types of the price index's C weights and fold (``_price.c``)."""

from array import array
from collections.abc import Callable

MIN_TIE_BITS: int
MAX_TIE_BITS: int

def bars(pending: array[int], /) -> list[tuple[int, int, int, int, int, int]] | None: ...
def exp2_q127(part: int, half_life: int, /) -> int | None: ...
def fraction(part: int, half_life: int, fallback: Callable[[int, int], int], tie_bits: int,
             /) -> int | None: ...
def fold(pending: array[int], ref: int, half_life: int, fallback: Callable[[int, int], int],
         tie_bits: int, /) -> tuple[int, int] | None: ...
