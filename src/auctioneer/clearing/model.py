"""Multi-unit combinatorial auctions with XOR bids: resources, bundles, bids.

The model of Kelly's "auction-knapsack connection": resources come in integer
units with a capacity each; a bid is an XOR list of bundles (an integer
quantity per resource and a price), of which at most one is awarded, the
zero bundle (nothing, for nothing) being implicit. Clearing picks one bundle
per bid, within capacity, to maximise the sum of the chosen prices.

Two-sided exchanges use the same model: a negative quantity sells units (it
adds to what the others may use) and a negative price is paid *to* the
bidder. Capacity is then the operator's own supply (possibly zero), the
objective is the auctioneer's surplus (buyers' payments minus sellers'
receipts), and a non-negative optimum is budget balance.

Reserve prices are the operator's per-unit floors: a bundle that only buys,
priced below ``sum(q * reserve)`` over its resources, is inadmissible and no
solver ever awards it. A bundle that sells anything is never refused by the
floors: it pays for what it buys with what it sells to the other bidders, at
prices they set, and a seller's negative price must stay admissible.

Money is integer micro-units (:mod:`auctioneer.money`), quantities integers.

Example:
    >>> rooms, parking = Resource("rooms", 10), Resource("parking", 20)
    >>> tenant = Bid("acme", (Bundle((3, 6), 18_000_000_000), Bundle((4, 8), 26_000_000_000)))
    >>> auction = Auction((rooms, parking), (tenant,))
    >>> auction.is_admissible(0, 1), auction.floor(tenant.bundles[0])
    (True, 0)
"""

from __future__ import annotations

from dataclasses import dataclass

from auctioneer.money import check_money

__all__ = ["Auction", "Bid", "Bundle", "Resource"]


def _fail(where: str, field: str, value: object, why: str) -> ValueError:
    return ValueError(f"{where}: {field} {value!r} {why}")


def _check_int(value: object, where: str, field: str, low: int | None = None) -> int:
    if type(value) is not int:
        raise _fail(where, field, value, "must be an int")
    if low is not None and value < low:
        raise _fail(where, field, value, f"must be >= {low}")
    return value


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource type: ``capacity`` identical units, sold at no less than ``reserve`` each."""

    name: str
    capacity: int
    reserve: int = 0

    def __post_init__(self) -> None:
        where = f"resource {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise _fail("resource", "name", self.name, "must be a non-empty string")
        _check_int(self.capacity, where, "capacity", 0)
        check_money(self.reserve, f"{where}: reserve")
        if self.reserve < 0:
            raise _fail(where, "reserve", self.reserve, "must be >= 0")


@dataclass(frozen=True, slots=True)
class Bundle:
    """Units per resource (negative: sold) for ``price`` micro-units (negative: received)."""

    quantities: tuple[int, ...]
    price: int

    @property
    def is_zero(self) -> bool:
        """True when the bundle neither takes nor gives anything."""
        return not any(self.quantities)


@dataclass(frozen=True, slots=True)
class Bid:
    """An XOR bid: at most one of ``bundles`` is awarded (exactly one if ``must_win``)."""

    name: str
    bundles: tuple[Bundle, ...]
    must_win: bool = False


@dataclass(frozen=True, slots=True)
class Auction:
    """Resources, bids and side constraints on the number of winners.

    A *winner* is a bid awarded one of its bundles. ``min_winners`` and
    ``max_winners`` bound their number (``None``: no upper bound).
    Construction validates everything and names the bid, bundle and field
    of the first problem found.
    """

    resources: tuple[Resource, ...]
    bids: tuple[Bid, ...]
    min_winners: int = 0
    max_winners: int | None = None

    def __post_init__(self) -> None:
        names = [r.name for r in self.resources]
        if len(set(names)) != len(names):
            raise _fail("auction", "resources", names, "repeat a name")
        bid_names = [b.name for b in self.bids]
        if len(set(bid_names)) != len(bid_names):
            raise _fail("auction", "bids", sorted(bid_names), "repeat a name")
        for t, bid in enumerate(self.bids):
            self._check_bid(t, bid)
        _check_int(self.min_winners, "auction", "min_winners", 0)
        if self.max_winners is not None:
            _check_int(self.max_winners, "auction", "max_winners", self.min_winners)

    def _check_bid(self, t: int, bid: Bid) -> None:
        where = f"bid {t} {bid.name!r}"
        if not isinstance(bid.name, str) or not bid.name:
            raise _fail(f"bid {t}", "name", bid.name, "must be a non-empty string")
        if type(bid.must_win) is not bool:
            raise _fail(where, "must_win", bid.must_win, "must be true or false")
        if bid.must_win and not any(not b.is_zero for b in bid.bundles):
            raise _fail(where, "must_win", True, "needs at least one non-zero bundle")
        for j, bundle in enumerate(bid.bundles):
            at = f"{where} bundle {j}"
            if len(bundle.quantities) != len(self.resources):
                raise _fail(at, "quantities", bundle.quantities,
                            f"must give one int per resource ({len(self.resources)})")
            for resource, q in zip(self.resources, bundle.quantities, strict=True):
                _check_int(q, at, f"quantity of {resource.name!r}")
            check_money(bundle.price, f"{at}: price")

    @property
    def dimensions(self) -> int:
        """Number of resource types."""
        return len(self.resources)

    @property
    def is_two_sided(self) -> bool:
        """True when some bundle sells (a negative quantity) or is paid (a negative price)."""
        return any(b.price < 0 or any(q < 0 for q in b.quantities)
                   for bid in self.bids for b in bid.bundles)

    @property
    def capacities(self) -> tuple[int, ...]:
        """Units of each resource on offer."""
        return tuple(r.capacity for r in self.resources)

    def floor(self, bundle: Bundle) -> int:
        """The reserve value of what ``bundle`` buys: its lowest admissible price."""
        return sum(max(q, 0) * r.reserve for q, r in zip(bundle.quantities, self.resources,
                                                        strict=True))

    def is_admissible(self, bid: int, bundle: int) -> bool:
        """Whether bundle ``bundle`` of bid ``bid`` meets the reserve prices (sellers always do)."""
        b = self.bids[bid].bundles[bundle]
        return any(q < 0 for q in b.quantities) or b.price >= self.floor(b)
