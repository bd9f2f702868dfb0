"""What a clearing returns: a status, the revenue, one bundle per bid.

Shaped like ``scipy.optimize.milp``'s result: a plain object with a status
enum, the objective and the solution, plus solver statistics.

Example:
    >>> r = Clearing(Status.OPTIMAL, "brute", revenue=5, choice=(None, 1), used=(3,))
    >>> r.winners, r.is_optimal
    ((1,), True)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Clearing", "Status", "relative_gap"]


class Status(enum.Enum):
    """How a clearing ended."""

    OPTIMAL = "optimal"
    """A proven revenue-maximising feasible allocation; ``choice`` holds it."""
    INFEASIBLE = "infeasible"
    """No allocation satisfies the must-win bids and winner-count bounds within capacity."""
    TOO_LARGE = "too-large"
    """Refused before solving: the method's time or memory estimate exceeds its limit."""
    TIME_LIMIT = "time-limit"
    """Stopped at the time limit; ``choice`` is the best allocation found, not proven optimal."""


@dataclass(frozen=True, slots=True)
class Clearing:
    """The outcome of clearing an auction.

    ``choice[t]`` is the index of the bundle awarded to bid ``t``, or None
    for the zero bundle. ``used`` is the net units taken of each resource
    (sales counted negative). ``payments[t]`` (when computed) is what bid
    ``t`` pays: its bundle's price for pay-as-bid, its VCG payment after
    :func:`auctioneer.clearing.vcg_payments`. Money in micro-units.
    """

    status: Status
    method: str
    revenue: int = 0
    choice: tuple[int | None, ...] = ()
    used: tuple[int, ...] = ()
    payments: tuple[int, ...] | None = None
    stats: Mapping[str, int | float | str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def winners(self) -> tuple[int, ...]:
        """Indices of the bids awarded a bundle."""
        return tuple(t for t, j in enumerate(self.choice) if j is not None)

    @property
    def is_optimal(self) -> bool:
        """True when ``status`` is OPTIMAL."""
        return self.status is Status.OPTIMAL


def relative_gap(incumbent: float, bound: float) -> float:
    """``(bound - incumbent) / max(|bound|, |incumbent|, 1)``, HiGHS's relative MIP gap; >= 0.

    Example:
        >>> relative_gap(90, 100), relative_gap(5, 5)
        (0.1, 0.0)
    """
    return max(0.0, bound - incumbent) / max(abs(bound), abs(incumbent), 1.0)
