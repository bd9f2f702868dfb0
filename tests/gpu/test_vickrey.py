"""The GPU plane's Vickrey paths (arrays, and GpuBid lists read natively) equal its tick book."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.gpu import GpuBid, GpuPlane
from auctioneer.tick.limits import PRICE_MAX

# 10 ms window in 1, 2, 5 or 10 ms slices: k = 10, 5, 2, 1; max_agents 3 < k + 1 too.
PLANES = [GpuPlane(dispatch_hz=100, slice_ms=s, memory=4, max_agents=m)
          for s in (1, 2, 5, 10) for m in (3, 64)]


@st.composite
def unit_batches(draw: st.DrawFn) -> tuple[GpuPlane, list[GpuBid], int]:
    plane = draw(st.sampled_from(PLANES))
    agents = draw(st.permutations(range(plane.max_agents)))
    n = draw(st.integers(0, min(len(agents), 24)))
    # Few distinct prices so ties are common; 0 and PRICE_MAX included.
    price = st.one_of(st.sampled_from([0, 1, 5, 7, PRICE_MAX]), st.integers(0, PRICE_MAX))
    bids = [GpuBid.unit(a, draw(price), plane.slice_ms) for a in agents[:n]]
    reserve = draw(st.one_of(st.sampled_from([0, 1, 5, 7]), st.integers(0, PRICE_MAX)))
    return plane, bids, reserve


@pytest.mark.native
@given(unit_batches())
def test_fast_path_equals_reference(batch: tuple[GpuPlane, list[GpuBid], int]) -> None:
    plane, bids, reserve = batch
    expected = plane._vickrey_book(bids, 1.5, reserve)
    assert plane.dispatch(bids, 1.5, reserve) == expected
    assert plane.dispatch(bids, 1.5, reserve, path="vickrey") == expected
    # A bundle given as a list is refused by the native read: the Python check takes it.
    listed = [GpuBid(b.agent, [b.bundles[0]]) for b in bids]  # type: ignore[arg-type]
    assert plane.dispatch(listed, 1.5, reserve) == expected
    agents = np.array([b.agent for b in bids], dtype=np.int64)
    prices = np.array([b.bundles[0][2] for b in bids], dtype=np.uint32)
    assert plane.dispatch_units(agents, prices, 1.5, reserve) == expected
    assert len(expected.winners) <= plane.slices


@pytest.mark.native
@pytest.mark.parametrize("bid", [
    GpuBid.unit(1, 2**63), GpuBid.unit(1, 10**30), GpuBid.unit(1, -1), GpuBid.unit(2**63, 5),
    GpuBid.unit(10**30, 5), GpuBid.unit(64, 5), GpuBid.unit(True, 5), GpuBid.unit(1, 5, 2),
    GpuBid(1, ((1, 1, 5),)), GpuBid(1, ((1, 0, 5), (1, 0, 6))),
    GpuBid(1, ((1, 0, np.int64(5)),)),  # type: ignore[arg-type]
    GpuBid(1, [(1, 0, 5)]),  # type: ignore[arg-type]
])
def test_native_read_refuses_all_but_valid_unit_bids(bid: GpuBid) -> None:
    native = pytest.importorskip("auctioneer.gpu._gpu")
    assert native.units([GpuBid.unit(0, 7), bid], 1, 64) is None
    packed = native.units([GpuBid.unit(0, 7), GpuBid.unit(63, PRICE_MAX)], 1, 64)
    assert np.frombuffer(packed, dtype=np.int64).tolist() == [0, 63, 7, PRICE_MAX]


class _Plain:
    """A GpuBid look-alike without slots: read by attribute, not from slots."""

    def __init__(self, agent: object, bundles: object) -> None:
        self.agent, self.bundles = agent, bundles


class _Renamed(GpuBid):
    """A subclass whose agent is a property: its slot must not be read directly."""

    __slots__ = ()

    @property  # type: ignore[misc]
    def agent(self) -> int:
        return 5


@pytest.mark.native
def test_native_read_finds_repeats_and_reads_any_bid_like_object() -> None:
    native = pytest.importorskip("auctioneer.gpu._gpu")
    assert native.units([GpuBid.unit(3, 7), GpuBid.unit(3, 8)], 1, 64) is None
    # A repeat is per call: the next call starts afresh.
    assert native.units([GpuBid.unit(3, 7)], 1, 64) is not None
    mixed = [GpuBid.unit(0, 7), _Plain(9, ((1, 0, 8),)), GpuBid.unit(2, 9)]
    assert np.frombuffer(native.units(mixed, 1, 64), np.int64).tolist() == [0, 9, 2, 7, 8, 9]
    assert native.units([_Plain(9, None)], 1, 64) is None
    assert native.units([object()], 1, 64) is None
    renamed = object.__new__(_Renamed)
    object.__setattr__(renamed, "bundles", ((1, 0, 4),))
    assert np.frombuffer(native.units([renamed], 1, 64), np.int64).tolist() == [5, 4]
    for bad in (0, 2**24 + 1, 2**63 - 1):
        with pytest.raises(ValueError, match=f"max_agents {bad} must be in"):
            native.units([], 1, bad)
    with pytest.raises(OverflowError):
        native.units([], 1, 10**30)


def test_ties_go_to_the_earlier_bid() -> None:
    plane = GpuPlane(dispatch_hz=100, slice_ms=5)                    # k = 2
    bids = [GpuBid.unit(a, p, 5) for a, p in [(7, 500), (3, 900), (9, 500), (1, 500)]]
    d = plane.dispatch(bids, 0.0)
    assert (d.winners, d.payments) == ((3, 7), (500, 500))
    assert d == plane.dispatch_units([7, 3, 9, 1], [500, 900, 500, 500], 0.0)


def test_fewer_agents_than_slices() -> None:
    plane = GpuPlane(dispatch_hz=10, slice_ms=1, max_agents=2)       # k = 100
    d = plane.dispatch([GpuBid.unit(1, 30), GpuBid.unit(0, 40)], 0.0, 10)
    assert (d.winners, d.payments) == ((0, 1), (10, 10))


@pytest.mark.parametrize(("bids", "message"), [
    ([GpuBid.unit(1, 5), GpuBid.unit(1, 6)], "bid 1: agent 1 bids twice"),
    ([GpuBid.unit(1, 2**63)], "bid 0 bundle 0: price"),
    ([GpuBid.unit(10**30, 5)], "bid 0: agent"),
    ([GpuBid.unit(1, 5), GpuBid.unit(64, 6)], "bid 1: agent 64 is out of range"),
    ([GpuBid.unit(1, -1)], "bid 0 bundle 0: price -1 is negative"),
    ([GpuBid.unit(1, PRICE_MAX + 1)], "bid 0 bundle 0: price 4294967296 exceeds"),
    ([GpuBid.unit(1, 2**70)], "bid 0 bundle 0: price"),
])
def test_bad_unit_bids_keep_their_messages(bids: list[GpuBid], message: str) -> None:
    plane = GpuPlane(dispatch_hz=100, max_agents=64)
    with pytest.raises(ValueError, match=message):
        plane.dispatch(bids, 0.0)


def test_bools_and_numpy_ints_are_not_unit_bids() -> None:
    plane = GpuPlane(dispatch_hz=100, max_agents=64)
    with pytest.raises(TypeError, match="gpu_ms must be an int"):
        plane.dispatch([GpuBid(1, ((True, 0, 5),))], 0.0)
    with pytest.raises(TypeError, match="price must be an int"):
        plane.dispatch([GpuBid(1, ((1, 0, np.int64(5)),))], 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("agents", "prices", "message"), [
    ([1, 2], [5], "1-D and of one length"),
    ([1.0], [5], "agents dtype float64 is not an integer type"),
    ([1], [5.5], "prices dtype float64 is not an integer type"),
    ([1, 1], [5, 6], "bid 1: agent 1 bids twice"),
    ([1, 64], [5, 6], "bid 1: agent 64 is out of range"),
    ([-1], [5], "bid 0: agent -1 is out of range"),
    ([1], [PRICE_MAX + 1], "bid 0 bundle 0: price 4294967296 exceeds"),
    ([1], np.array([2**64 - 1], dtype=np.uint64), "exceeds the maximum"),
])
def test_bad_arrays_name_the_field(agents: object, prices: object, message: str) -> None:
    plane = GpuPlane(dispatch_hz=100, max_agents=64)
    with pytest.raises(ValueError, match=message):
        plane.dispatch_units(agents, prices, 0.0)  # type: ignore[arg-type]


def test_empty_arrays() -> None:
    plane = GpuPlane(dispatch_hz=100)
    assert plane.dispatch_units([], [], 0.0).winners == ()
    assert plane.dispatch_units([], [], 0.0) == plane.dispatch([], 0.0)
