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

from auctioneer.clearing.allocation import usage
from auctioneer.clearing.estimate import (
    NUMPY_IMPORT_SECONDS,
    DpEstimate,
    estimates,
    format_bytes,
    import_seconds,
)
from auctioneer.clearing.knapsack import Normalized, normalize
from auctioneer.clearing.limits import check_time_limit
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_OPERATIONS", "solve_dp"]

DEFAULT_MAX_BYTES = 2**31
"""Memory a DP may plan to use before it refuses (2 GiB)."""
DEFAULT_MAX_OPERATIONS = 10**10
"""Cell operations a DP may plan before it refuses (dense: ~6 s at 0.6 ns each)."""

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
    """The estimate of the form to run and, if it cannot run, why (all reasons, joined).

    ``auto`` takes the form predicted faster, counting numpy's import against the dense
    form when this process has not imported it yet (see
    :func:`~auctioneer.clearing.estimate.import_seconds`).
    """
    if form not in ("auto", "dense", "sparse"):
        raise ValueError(f"form {form!r} must be 'auto', 'dense' or 'sparse'")
    dense, sparse = estimates(auction, norm)
    if form == "dense":
        candidates = [dense]
    elif form == "sparse":
        candidates = [sparse]
    else:
        candidates = sorted([dense, sparse], key=lambda e: (e.unusable is not None, e.seconds + (
            import_seconds("numpy", NUMPY_IMPORT_SECONDS) if e.form == "dense" else 0.0)))
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
        # numpy is imported only for the dense form (see auctioneer.clearing.dense).
        from auctioneer.clearing.dense import all_moves, best_end, dense_tables, read_back

        every = all_moves(norm)
        tables = dense_tables(norm, every)
        end = best_end(norm, tables[-1])
        picks = None if end is None else read_back(norm, every, tables, end)
        stats["tables"] = "full"
    else:
        from auctioneer.clearing.dense import dense_lean

        lean = dense_lean(norm)
        picks = None if lean is None else lean[1]
        stats["tables"] = "lean"
    if picks is None:
        stats["reason"] = "no allocation meets the must-win bids and winner-count bounds"
        return Clearing(Status.INFEASIBLE, "dp", stats=stats,
                        seconds=time.perf_counter() - start)
    return clearing_from_picks(auction, norm, picks, stats, time.perf_counter() - start)
