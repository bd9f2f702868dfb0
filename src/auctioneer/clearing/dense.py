"""The dense form of the clearing DP: numpy int64 tables over the whole capacity grid.

Split from :mod:`auctioneer.clearing.dp` (which documents the recurrence and
both forms) so that the DP's entry point and its sparse form need no numpy:
``auctioneer clear`` on a small file runs the sparse form without importing
it (numpy is about 75 ms of a 250 ms start-up budget). The kept tables feed
the VCG payments (:mod:`auctioneer.clearing.vcg`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from auctioneer.clearing.knapsack import Normalized, Option

__all__ = [
    "NEG",
    "REACHABLE",
    "Index",
    "Move",
    "Table",
    "all_moves",
    "best_end",
    "dense_lean",
    "dense_step",
    "dense_tables",
    "final_cells",
    "initial_table",
    "moves",
    "read_back",
    "source_cell",
    "strides",
]

NEG = -(2**62)
"""The value of an unreachable cell (see ``DENSE_SAFE_MAGNITUDE``)."""
REACHABLE = -(2**61)
"""Cells below this are unreachable: reachable ones hold at least -2**60."""

Table = npt.NDArray[np.int64]
Index = tuple[Any, ...]


class Move(NamedTuple):
    """One vectorised update of a dense table: some cells get ``max(own, source + price)``.

    A NamedTuple rather than a frozen dataclass: hundreds are built per
    clearing, and a frozen dataclass's ``__init__`` costs several times more.
    """

    option: int
    """Index into the bid's normalised options."""
    price: int
    shift: tuple[int, ...]
    dw: int
    """Winner-count change: 1 for a winning option, 0 otherwise and at the cap."""
    cap_only: bool
    """True for the move that keeps a count already at the cap there."""
    lo: int
    hi: int
    """Flat range ``lo:hi`` of target cells in the padded table."""
    offset: int
    """Flat distance from a target cell back to its source cell."""

    def slices(self, norm: Normalized) -> tuple[Index, Index]:
        """The same update as (source, target) slices of an unpadded table (the lean form)."""
        w = norm.winner_states
        src = tuple(slice(0, c + 1 - s) for c, s in zip(norm.capacity, self.shift, strict=True))
        dst = tuple(slice(s, None) for s in self.shift)
        if self.cap_only:
            return (slice(w - 1, w), *src), (slice(w - 1, w), *dst)
        if self.dw:
            return (slice(0, w - 1), *src), (slice(1, w), *dst)
        return (slice(None), *src), (slice(None), *dst)


def strides(norm: Normalized) -> tuple[int, ...]:
    """Flat strides (in cells) of the axes of a padded dense table."""
    out = [1]
    for n in reversed(norm.padded[1:]):
        out.append(out[-1] * n)
    return tuple(reversed(out))


def moves(
    norm: Normalized, options: Sequence[Option], step: tuple[int, ...] | None = None
) -> list[Move]:
    """The dense moves of one bid's options, the option order kept; O(options).

    In the padded flat layout a move is one contiguous slice: target cells
    ``lo:hi``, sources ``offset`` cells earlier. A source that should lie
    below 0 on some axis wraps into that axis's padding (every padded axis
    has at least as many sentinel cells as any shift along it, and a borrow
    always lands there first) or before the start of the table (excluded by
    ``lo``), so it reads unreachable, as it should.
    """
    w = norm.winner_states
    capacity = norm.capacity
    counting, capped = norm.counting, norm.max_winners is None
    step = strides(norm) if step is None else step
    size = w * step[0]
    out: list[Move] = []
    for i, o in enumerate(options):
        shift = o.shift
        if any([s > c for c, s in zip(capacity, shift, strict=True)]):  # noqa: C419 - faster
            continue  # the bundle alone overflows the grid: never feasible
        offset = sum([s * k for s, k in zip(shift, step[1:], strict=True)])
        if not (counting and o.wins):
            out.append(Move(i, o.price, shift, 0, False, offset, size, offset))
            continue
        if w > 1:
            out.append(Move(i, o.price, shift, 1, False, step[0] + offset, size,
                            step[0] + offset))
        if capped:
            # Without an upper bound the count is capped at min_winners: a
            # winner at the cap stays at the cap.
            top = (w - 1) * step[0]
            out.append(Move(i, o.price, shift, 0, True, top + offset, top + step[0], offset))
    return out


def _reset_padding(table: Table, norm: Normalized) -> None:
    for axis, (g, p) in enumerate(zip(norm.grid, norm.padding, strict=True), start=1):
        if p:
            table[(slice(None),) * axis + (slice(g, None),)] = NEG


def dense_step(
    prev: Table, bid_moves: Sequence[Move], norm: Normalized, out: Table | None = None
) -> Table:
    """One stage of the dense DP: ``max`` over moves of shifted ``prev`` + price; O(moves x grid).

    Works on the flat padded table, where every move is one contiguous add
    and one contiguous maximum (numpy's fast path; strided views are ~3x
    slower). Cells no move reaches get the sentinel. Used forwards (prefix
    tables) and backwards (suffix tables) alike: the recurrence is symmetric.
    Writes into ``out`` (a contiguous table of the same shape, not ``prev``)
    when given.
    """
    new = np.empty_like(prev) if out is None else out
    old, flat = prev.reshape(-1), new.reshape(-1)
    first = next((m for m in bid_moves if m.lo == 0), None)
    if first is None:
        flat.fill(NEG)
    elif first.price:
        # A move that covers every cell initialises the table: one pass
        # instead of a fill and a maximum (the max does not care about order).
        np.add(old, first.price, out=flat)
    else:
        np.copyto(flat, old)
    for m in bid_moves:
        if m is not first:
            target = flat[m.lo:m.hi]
            np.maximum(target, old[m.lo - m.offset:m.hi - m.offset] + m.price, out=target)
    # Moves write garbage into the padding; it must read as unreachable.
    _reset_padding(new, norm)
    return new


def initial_table(norm: Normalized, padded: bool = True) -> Table:
    """``F_0``: revenue 0 at every capacity (at-most form), with no winners yet."""
    table = np.full(norm.padded if padded else (norm.winner_states, *norm.grid), NEG,
                    dtype=np.int64)
    real: Index = (0, *(slice(0, g) for g in norm.grid))
    table[real] = 0
    return table


def all_moves(norm: Normalized) -> list[list[Move]]:
    """The dense moves of every bid, in bid order; O(total options)."""
    step = strides(norm)
    return [moves(norm, options, step) for options in norm.options]


def dense_tables(norm: Normalized, bid_moves: Sequence[Sequence[Move]]) -> Table:
    """All prefix tables ``F_0..F_T`` of the dense DP, stacked; O(options x grid) time and
    (T+1) x grid memory.

    One allocation for all of them: large enough for the kernel's huge
    pages, it halves the time spent faulting in fresh memory table by table.
    """
    tables = np.empty((len(bid_moves) + 1, *norm.padded), dtype=np.int64)
    tables[0] = initial_table(norm)
    for t, step in enumerate(bid_moves):
        dense_step(tables[t], step, norm, out=tables[t + 1])
    return tables


def final_cells(norm: Normalized) -> list[Index]:
    """The cells of ``F_T`` that are feasible ends: full grid, a valid winner count."""
    top = tuple(norm.capacity)
    if not norm.counting:
        return [(0, *top)]
    low = norm.winner_states - 1 if norm.max_winners is None else norm.min_winners
    return [(w, *top) for w in range(low, norm.winner_states)]


def best_end(norm: Normalized, last: Table) -> Index | None:
    best: Index | None = None
    for cell in final_cells(norm):
        if last[cell] >= REACHABLE and (best is None or last[cell] > last[best]):
            best = cell
    return best


def source_cell(m: Move, cell: Index) -> Index | None:
    w = cell[0] - m.dw
    src = tuple(c - s for c, s in zip(cell[1:], m.shift, strict=True))
    if w < 0 or any(c < 0 for c in src):
        return None
    return (w, *src)


def read_back(
    norm: Normalized, bid_moves: Sequence[Sequence[Move]], tables: Table, end: Index
) -> list[int]:
    """Option indices of an allocation attaining ``tables[-1][end]``; O(T x options).

    Walks back from the end, at each stage taking the first move whose
    source cell plus price equals the current value.
    """
    picks: list[int] = []
    cell = end
    for t in range(len(norm.options), 0, -1):
        value = int(tables[t][cell])
        for m in bid_moves[t - 1]:
            if m.cap_only and cell[0] != norm.winner_states - 1:
                continue
            if not m.cap_only and m.dw and cell[0] == 0:
                continue
            src = source_cell(m, cell)
            if src is not None and tables[t - 1][src] >= REACHABLE and (
                int(tables[t - 1][src]) + m.price == value
            ):
                picks.append(m.option)
                cell = src
                break
        else:  # pragma: no cover - the tables are built by the same moves
            raise AssertionError(f"no option of bid {t - 1} attains {value}")
    picks.reverse()
    return picks


def dense_lean(norm: Normalized) -> tuple[Table, list[int]] | None:
    """The lean dense DP: int8/int16 decisions instead of tables; returns F_T and the picks."""
    every = all_moves(norm)
    count = max((len(m) for m in every), default=0)
    dtype = np.int8 if count < 127 else np.int16
    shape = (norm.winner_states, *norm.grid)
    decisions = np.zeros((len(every), *shape), dtype=dtype)
    prev = initial_table(norm, padded=False)
    candidate = np.empty_like(prev)
    better = np.empty(shape, dtype=bool)
    for t, bid_moves in enumerate(every):
        new = np.full_like(prev, NEG)
        for k, m in enumerate(bid_moves):
            src, dst = m.slices(norm)
            target, cand, mask = new[dst], candidate[dst], better[dst]
            np.add(prev[src], m.price, out=cand)
            np.greater(cand, target, out=mask)
            np.copyto(target, cand, where=mask)
            np.copyto(decisions[t][dst], k + 1, where=mask)
        prev = new
    end = best_end(norm, prev)
    if end is None:
        return None
    picks: list[int] = []
    cell: Index | None = end
    for t in range(len(every) - 1, -1, -1):
        assert cell is not None
        m = every[t][int(decisions[t][cell]) - 1]
        picks.append(m.option)
        cell = source_cell(m, cell)
    picks.reverse()
    return prev, picks
