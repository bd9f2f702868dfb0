"""An allocation from the LP relaxation: keep what it awards whole, solve the rest exactly.

At thousands of bids HiGHS can spend a minute at the root of the full 0-1
program without finding an allocation better than the one it was handed
(issue 17: 10 000 users x 1 000 pools). The LP relaxation, solved once,
awards most bundles whole and splits a few, at most about one per binding
resource (a basic solution). :func:`round_lp` fixes the whole ones, which
leaves a residual capacity, and clears the split ones over it with the
exact integer program (Berthold's RENS neighbourhood, restricted to the
LP's support): a program of hundreds of columns, solved in well under a
second, where the full one has tens of thousands.

A whole column is kept only where the whole ones fit on their own: a pool
whose fixed columns over-use it (the LP had a seller's fractional supply
there) frees every fixed column that touches it, until they fit. The result
is always a feasible allocation, checked in integers; it is a heuristic, so
it is never claimed optimal, and its welfare is at most the optimum.

Example (one unit; the LP splits it between a and b, so nothing is fixed
and the exact program awards it to a):
    >>> import numpy as np
    >>> from auctioneer.clearing.sparse import SparseAuction
    >>> sp = SparseAuction.build([1], [0, 1], [5, 4], [[(0, 1)], [(0, 1)]])
    >>> round_lp(sp, np.array([0.5, 0.5]))
    [0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from auctioneer.clearing.milp import solve_sparse
from auctioneer.clearing.sparse import SparseAuction

__all__ = ["WHOLE", "round_lp"]

WHOLE = 1 - 1e-6
"""An LP value at least this is an awarded bundle; one at most ``1 - WHOLE`` is not."""


def round_lp(sparse: SparseAuction, fractions: npt.ArrayLike, *,
             time_limit: float | None = None) -> list[int]:
    """A feasible allocation (chosen columns, ascending) rounded from LP ``fractions``.

    Fixes the columns the LP awards whole, then clears the split ones over
    the capacity they leave with :func:`~auctioneer.clearing.milp.solve_sparse`
    within ``time_limit`` (its best allocation if it stops; the fixed columns
    alone if it has none).
    """
    x = np.asarray(fractions, dtype=np.float64)
    if x.shape != (sparse.columns,):
        raise ValueError(f"{x.size} fractions for {sparse.columns} columns")
    whole = x >= WHOLE
    split = (x > 1 - WHOLE) & ~whole
    entry_column = np.repeat(np.arange(sparse.columns), np.diff(sparse.start))
    while True:
        used = np.asarray(sparse.usage(np.flatnonzero(whole).tolist()), dtype=np.int64)
        short = np.flatnonzero(used > sparse.capacity)
        if len(short) == 0:
            break
        touching = np.unique(entry_column[np.isin(sparse.resource, short)])
        freed = touching[whole[touching]]
        whole[freed] = False
        split[freed] = True
    fixed = np.flatnonzero(whole)
    # A bid awarded a whole bundle keeps it; its split bundles (none, in a basic LP) go.
    split &= ~np.isin(sparse.owner, sparse.owner[fixed])
    rest = np.flatnonzero(split)
    if len(rest) == 0:
        return fixed.tolist()
    sub = sparse.select(split)
    sub = SparseAuction.from_arrays(sparse.capacity - used, sub.owner, sub.price, sub.start,
                                    sub.resource, sub.quantity, sub.bids)
    cleared = solve_sparse(sub, time_limit=time_limit)
    first = np.searchsorted(sub.owner, np.arange(sub.bids + 1))
    extra = [int(rest[int(first[t]) + j]) for t, j in enumerate(cleared.choice)
             if j is not None]
    chosen = sorted(fixed.tolist() + extra)
    why = sparse.violation(chosen)
    if why is not None:  # cannot happen: the residual program respects what is left
        raise ArithmeticError(f"the rounded allocation is infeasible ({why})")
    return chosen
