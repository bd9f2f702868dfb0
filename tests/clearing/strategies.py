"""Hypothesis strategies for small random combinatorial auctions.

Shared by every clearing test (``from .strategies import auctions``). The
instances are small enough for brute force (at most ``(max_bundles + 1) **
max_bids`` choices) and built to hit the corners: tied prices, zero prices,
explicit zero bundles, bundles that miss a reserve price, zero capacities,
quantities above capacity and, on request, sellers and side constraints.
"""

from __future__ import annotations

from hypothesis import strategies as st

from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.sparse import SparseAuction

__all__ = ["auctions", "bundles", "sparse_auctions"]


def bundles(
    dimensions: int, max_quantity: int, two_sided: bool = False, max_price: int = 12,
    seller: bool = False,
) -> st.SearchStrategy[Bundle]:
    """One bundle over ``dimensions`` resources; often the explicit zero bundle.

    Prices come from a small range so that ties between bundles and between
    allocations are common. ``two_sided`` allows negative quantities (sales)
    and negative prices (asks); ``seller`` makes every quantity <= 0.
    """
    low_q = -max_quantity if two_sided or seller else 0
    high_q = 0 if seller else max_quantity
    low_p = -max_price if two_sided or seller else 0
    quantities = st.one_of(
        st.just((0,) * dimensions),  # the explicit zero bundle
        st.tuples(*[st.integers(low_q, high_q)] * dimensions),
    )
    return st.builds(Bundle, quantities, st.integers(low_p, max_price))


@st.composite
def auctions(
    draw: st.DrawFn,
    max_bids: int = 5,
    max_bundles: int = 3,
    max_resources: int = 2,
    max_capacity: int = 6,
    two_sided: bool = False,
    side_constraints: bool = False,
    min_resources: int = 1,
    max_price: int = 12,
) -> Auction:
    """A random valid :class:`Auction` small enough for brute force.

    Covers ties, zero prices, explicit zero bundles, bids with no bundles,
    reserve prices (some bundles inadmissible), zero capacity and bundles
    larger than capacity. ``two_sided`` adds negative quantities and prices
    (sellers, and bundles that swap one resource for another): about a third
    of the bids are pure sellers, and capacity is often 0 (a pure exchange).
    ``side_constraints`` adds must-win bids (their sets may be infeasible
    together) and winner-count bounds (possibly unreachable: ``min_winners``
    may exceed the number of bids). ``max_price`` bounds the price
    magnitudes (small by default, for ties).

    Example:
        >>> from hypothesis import find
        >>> find(auctions(side_constraints=True), lambda a: any(b.must_win for b in a.bids)).bids
        (Bid(name='b0', bundles=(Bundle(quantities=(1,), price=0),), must_win=True),)
    """
    dims = draw(st.integers(min_resources, max_resources))
    resources = tuple(
        Resource(
            f"r{i}",
            draw(st.integers(0, max_capacity) if not two_sided
                 else st.one_of(st.just(0), st.integers(0, max_capacity))),
            draw(st.one_of(st.just(0), st.integers(0, 3))),
        )
        for i in range(dims)
    )
    n_bids = draw(st.integers(0, max_bids))
    bids = []
    for t in range(n_bids):
        seller = two_sided and draw(st.integers(0, 2)) == 0
        bundle_list = tuple(
            draw(st.lists(bundles(dims, max_capacity, two_sided, max_price, seller),
                          max_size=max_bundles))
        )
        must_win = (
            side_constraints
            and any(not b.is_zero for b in bundle_list)
            and draw(st.booleans())
        )
        bids.append(Bid(f"b{t}", bundle_list, must_win))
    min_winners, max_winners = 0, None
    if side_constraints and draw(st.booleans()):
        min_winners = draw(st.integers(0, n_bids + 1))
        max_winners = draw(st.one_of(st.none(), st.integers(min_winners, n_bids + 1)))
    return Auction(resources, tuple(bids), min_winners, max_winners)


@st.composite
def sparse_auctions(draw: st.DrawFn, unit: int = 1) -> SparseAuction:
    """Up to 5 bids of 1-2 bundles over 1-2 resources, some selling (negative units), prices
    in multiples of ``unit`` from -3 to 12 (the proxy round's net form: a sale can be worth
    less than its reserve value)."""
    dims = draw(st.integers(1, 2))
    bids = draw(st.integers(1, 5))
    owner, price, entries = [], [], []
    for t in range(bids):
        for _ in range(draw(st.integers(1, 2))):
            column = [(r, q) for r in range(dims) if (q := draw(st.integers(-1, 2)))]
            owner.append(t)
            price.append(unit * draw(st.integers(-3, 12)))
            entries.append(column or [(0, 1)])
    capacity = [draw(st.integers(0, 3)) for _ in range(dims)]
    return SparseAuction.build(capacity, owner, price, entries, bids=bids)
