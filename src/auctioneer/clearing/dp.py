"""Exact clearing by dynamic programming over the capacity grid (Kelly's F(t, m, s)).

``F_t[c]`` is the best revenue from bids ``1..t`` using *at most* ``c``
units of each resource (in the shifted coordinates of
:mod:`auctioneer.clearing.knapsack`, where every option's quantities are
>= 0), so ``F_0 = 0`` everywhere and

    F_t[c] = max over options o of bid t:  F_{t-1}[c - shift(o)] + price(o)

with ``F_{t-1}`` below 0 on any axis counting as unreachable. The answer is
``F_T[C']``. Two forms compute it:

* **dense**: one numpy int64 table per stage over the whole grid. Each
  option is one shifted, vectorised ``maximum`` pass; O(options x grid) per
  bid. Every resource axis but the outermost carries a few trailing
  sentinel cells, so that in the flattened table a shift is a plain offset
  and each pass is one contiguous slice (numpy's fast path; see
  :func:`moves`). The tables are kept (``(T+1) x grid x 8`` bytes) and the
  choice read back by re-checking which option attains each stage's value,
  which costs two passes per option instead of the four of recording an
  argmax; when the tables do not fit ``max_bytes``, a *lean* variant keeps
  one int8/int16 decision per cell instead (2-3x slower). Unreachable cells
  hold a large negative sentinel
  (:data:`~auctioneer.clearing.estimate.DENSE_SAFE_MAGNITUDE`), never a
  float. The kept tables feed the VCG payments
  (:mod:`auctioneer.clearing.vcg`) without recomputation.
* **sparse** (Kelly's exercise 6): a dict from the exact shifted usage
  vector (plus the winner count) to the best revenue and a back-pointer,
  for any number of resource types. A state whose usage exceeds ``C'`` is
  dropped (no later bid can sell enough to bring it back), and a usage so
  low that every later option fits is clamped to that level, which merges
  states no future can tell apart.

With winner-count bounds the state gains a winner-count axis (see
:func:`~auctioneer.clearing.knapsack.normalize`); must-win bids simply have
no zero-bundle option.

Example:
    >>> from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
    >>> auction = Auction((Resource("rooms", 10), Resource("parking", 20)), (
    ...     Bid("a", (Bundle((3, 6), 18), Bundle((4, 8), 26), Bundle((5, 12), 31))),
    ...     Bid("b", (Bundle((6, 6), 30),)),
    ...     Bid("c", (Bundle((2, 10), 14), Bundle((1, 2), 5))),
    ... ))
    >>> result = solve_dp(auction, form="dense")
    >>> result.revenue, result.choice, result.used, result.stats["form"]
    (56, (1, 0, None), (10, 14), 'dense')
    >>> solve_dp(auction, form="sparse").revenue
    56
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from operator import add, gt
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from auctioneer.clearing.allocation import usage
from auctioneer.clearing.estimate import DpEstimate, estimates, format_bytes
from auctioneer.clearing.knapsack import Normalized, Option, normalize
from auctioneer.clearing.limits import check_time_limit
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_OPERATIONS", "solve_dp"]

DEFAULT_MAX_BYTES = 2**31
"""Memory a DP may plan to use before it refuses (2 GiB)."""
DEFAULT_MAX_OPERATIONS = 10**10
"""Cell operations a DP may plan before it refuses (dense: ~6 s at 0.6 ns each)."""

NEG = -(2**62)
"""The value of an unreachable cell (see ``DENSE_SAFE_MAGNITUDE``)."""
_REACHABLE = -(2**61)
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


def _best_end(norm: Normalized, last: Table) -> Index | None:
    best: Index | None = None
    for cell in final_cells(norm):
        if last[cell] >= _REACHABLE and (best is None or last[cell] > last[best]):
            best = cell
    return best


def _source(m: Move, cell: Index) -> Index | None:
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
            src = _source(m, cell)
            if src is not None and tables[t - 1][src] >= _REACHABLE and (
                int(tables[t - 1][src]) + m.price == value
            ):
                picks.append(m.option)
                cell = src
                break
        else:  # pragma: no cover - the tables are built by the same moves
            raise AssertionError(f"no option of bid {t - 1} attains {value}")
    picks.reverse()
    return picks


def _dense_lean(norm: Normalized) -> tuple[Table, list[int]] | None:
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
    end = _best_end(norm, prev)
    if end is None:
        return None
    picks: list[int] = []
    cell: Index | None = end
    for t in range(len(every) - 1, -1, -1):
        assert cell is not None
        m = every[t][int(decisions[t][cell]) - 1]
        picks.append(m.option)
        cell = _source(m, cell)
    picks.reverse()
    return prev, picks


def _sparse(norm: Normalized) -> tuple[list[int] | None, int, int]:
    """The hash-table DP; returns the option picks (None if infeasible), the states kept
    and the (state, option) pairs tried."""
    dims = len(norm.capacity)
    capacity = norm.capacity
    counting = norm.counting
    low_w, high_w = norm.min_winners, norm.max_winners
    cap_w = norm.winner_states - 1
    bids = len(norm.options)
    # floors[t][r]: capacity minus the most bids t.. can still add. A usage
    # below it fits whatever comes next, so all such usages are clamped to
    # it: states no future can tell apart merge.
    floors = [list(capacity)]
    for options in reversed(norm.options):
        floors.append([f - max((o.shift[r] for o in options), default=0)
                       for r, f in enumerate(floors[-1])])
    floors.reverse()

    start = tuple(map(max, [0] * dims, floors[0])) + (0,) * counting
    states: dict[tuple[int, ...], int] = {start: 0}
    back: list[dict[tuple[int, ...], tuple[tuple[int, ...], int]]] = []
    kept, tried = 1, 0
    for t, options in enumerate(norm.options):
        left = bids - t - 1  # bids after this one
        floor = floors[t + 1]
        new: dict[tuple[int, ...], int] = {}
        pointers: dict[tuple[int, ...], tuple[tuple[int, ...], int]] = {}
        tried += len(states) * len(options)
        for state, value in states.items():
            for k, o in enumerate(options):
                # map() stops at the shorter input: the winner count is dropped.
                nxt = list(map(add, state, o.shift))
                if any(map(gt, nxt, capacity)):
                    continue  # over capacity even if every later bid sells all it can
                nxt = list(map(max, nxt, floor))
                if counting:
                    w = state[dims] + o.wins
                    if high_w is None:
                        w = min(w, cap_w)
                    elif w > high_w:
                        continue
                    if w + left < low_w:
                        continue  # too few bids left to reach min_winners
                    nxt.append(w)
                key = tuple(nxt)
                v = value + o.price
                old = new.get(key)
                if old is None or v > old:
                    new[key] = v
                    pointers[key] = (state, k)
        states = new
        back.append(pointers)
        kept += len(new)
    if not states:
        return None, kept, tried
    end = max(states, key=states.__getitem__)  # the first of the best: deterministic
    picks: list[int] = []
    for t in range(bids - 1, -1, -1):
        end, k = back[t][end]
        picks.append(k)
    picks.reverse()
    return picks, kept, tried


def clearing_from_picks(
    auction: Auction, norm: Normalized, picks: Sequence[int], stats: dict[str, int | float | str],
    seconds: float,
) -> Clearing:
    """Build the OPTIMAL clearing for option picks: choice, revenue and net usage."""
    choice = tuple(norm.options[t][k].bundle for t, k in enumerate(picks))
    used, revenue = usage(auction, choice)
    return Clearing(Status.OPTIMAL, "dp", revenue, choice, tuple(used), stats=stats,
                    seconds=seconds)


def check_limits(max_bytes: int, max_operations: int, max_seconds: float | None) -> None:
    """Raise ValueError naming any limit that is negative (or not a number)."""
    if type(max_bytes) is not int or max_bytes < 0:
        raise ValueError(f"max_bytes {max_bytes!r} must be an int >= 0")
    if type(max_operations) is not int or max_operations < 0:
        raise ValueError(f"max_operations {max_operations!r} must be an int >= 0")
    check_time_limit(max_seconds, "max_seconds")


def over_limits(
    e: DpEstimate, max_bytes: int, max_operations: int, max_seconds: float | None,
    lean: bool = True,
) -> str | None:
    """Why estimate ``e`` is over a limit (naming the size), or None when it fits."""
    if e.unusable is not None:
        return e.unusable
    need = min(e.bytes, e.lean_bytes) if lean else e.bytes
    if need > max_bytes:
        return f"{e.form} DP needs {format_bytes(need)} for {e.size()}; " \
               f"limit {format_bytes(max_bytes)}"
    if e.operations > max_operations:
        return f"{e.form} DP needs {e.operations:.3g} cell operations for {e.size()}; " \
               f"limit {max_operations:.3g}"
    seconds = e.seconds if e.bytes <= max_bytes else e.lean_seconds
    if max_seconds is not None and seconds > max_seconds:
        return f"{e.form} DP predicts {seconds:.3g} s for {e.size()}; limit {max_seconds:.3g} s"
    return None


def choose_form(
    auction: Auction, norm: Normalized, form: str, max_bytes: int, max_operations: int,
    max_seconds: float | None, lean: bool = True,
) -> tuple[DpEstimate, str | None]:
    """The estimate of the form to run and, if it cannot run, why (all reasons, joined)."""
    if form not in ("auto", "dense", "sparse"):
        raise ValueError(f"form {form!r} must be 'auto', 'dense' or 'sparse'")
    dense, sparse = estimates(auction, norm)
    if form == "dense":
        candidates = [dense]
    elif form == "sparse":
        candidates = [sparse]
    else:
        candidates = sorted([dense, sparse], key=lambda e: (e.unusable is not None, e.seconds))
    reasons = []
    for e in candidates:
        why = over_limits(e, max_bytes, max_operations, max_seconds, lean)
        if why is None:
            return e, None
        reasons.append(why)
    return candidates[0], "; ".join(reasons)


def solve_dp(
    auction: Auction,
    *,
    form: str = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_operations: int = DEFAULT_MAX_OPERATIONS,
    max_seconds: float | None = None,
) -> Clearing:
    """Clear ``auction`` exactly by DP; O(options x grid) time (see the module doc).

    ``form``: ``"dense"``, ``"sparse"`` or ``"auto"`` (the form predicted
    faster among those within the limits). Before allocating anything, the
    estimate (:func:`~auctioneer.clearing.estimate.estimate_dp`) is checked
    against ``max_bytes``, ``max_operations`` and the predicted
    ``max_seconds``; over any of them the result is ``Status.TOO_LARGE`` and
    ``stats["reason"]`` says what is needed and the limit. ``stats`` also
    holds the form and the estimate numbers. Ties between optimal choices
    are broken by the order of the read-back (documented in
    :func:`read_back`), not necessarily as brute force does.
    """
    check_limits(max_bytes, max_operations, max_seconds)
    start = time.perf_counter()
    norm = normalize(auction)
    chosen, why = choose_form(auction, norm, form, max_bytes, max_operations, max_seconds)
    return solve_chosen(auction, norm, chosen, why, max_bytes, start)


def solve_chosen(
    auction: Auction, norm: Normalized, chosen: DpEstimate, why: str | None, max_bytes: int,
    start: float,
) -> Clearing:
    """Run the form :func:`choose_form` picked (or report why not); ``start`` is the clock
    reading the result's ``seconds`` counts from."""
    stats: dict[str, int | float | str] = {"form": chosen.form, **chosen.as_stats()}
    if norm.infeasible is not None:
        stats["reason"] = norm.infeasible
        return Clearing(Status.INFEASIBLE, "dp", stats=stats,
                        seconds=time.perf_counter() - start)
    if why is not None:
        stats["reason"] = why
        return Clearing(Status.TOO_LARGE, "dp", stats=stats,
                        seconds=time.perf_counter() - start)
    picks: list[int] | None
    if chosen.form == "sparse":
        picks, kept, tried = _sparse(norm)
        stats["states"] = kept
        stats["operations"] = tried
    elif chosen.bytes <= max_bytes:
        every = all_moves(norm)
        tables = dense_tables(norm, every)
        end = _best_end(norm, tables[-1])
        picks = None if end is None else read_back(norm, every, tables, end)
        stats["tables"] = "full"
    else:
        lean = _dense_lean(norm)
        picks = None if lean is None else lean[1]
        stats["tables"] = "lean"
    if picks is None:
        stats["reason"] = "no allocation meets the must-win bids and winner-count bounds"
        return Clearing(Status.INFEASIBLE, "dp", stats=stats,
                        seconds=time.perf_counter() - start)
    return clearing_from_picks(auction, norm, picks, stats, time.perf_counter() - start)
