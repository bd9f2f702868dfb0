"""The fast GPU bundle solver: reference vs brute force and clearing, native vs reference."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.clearing import (
    Auction,
    Bid,
    Bundle,
    Resource,
    Status,
    clear,
    solve_brute,
    vcg_payments,
)
from auctioneer.gpu import GpuBid, GpuPlane
from auctioneer.gpu.solver import GpuSolution, solve, solve_bids, solve_reference

Bids = list[tuple[tuple[int, int, int], ...]]


def _auction(bids: Bids, window: int, memory: int, reserve: int) -> Auction:
    return Auction((Resource("gpu_ms", window, reserve), Resource("memory", memory)),
                   tuple(Bid(f"b{t}", tuple(Bundle((ms, mem), p) for ms, mem, p in b))
                         for t, b in enumerate(bids)))


def _priced(auction: Auction, bids: Bids, reserve: int, result: object) -> GpuSolution:
    """A clearing result as a GpuSolution: VCG raised to the reserve floor, as the plane pays."""
    priced = vcg_payments(auction, result)  # type: ignore[arg-type]
    assert priced.status is Status.OPTIMAL and priced.payments is not None
    pays = tuple(0 if j is None else max(pay, bids[t][j][0] * reserve)
                 for t, (j, pay) in enumerate(zip(priced.choice, priced.payments, strict=True)))
    return GpuSolution(priced.revenue, priced.choice, pays, 0)


def _same(a: GpuSolution | None, b: GpuSolution) -> None:
    assert a is not None
    assert (a.value, a.choice, a.payments) == (b.value, b.choice, b.payments)


# Small prices and quantities make ties, zero prices and bundles too big to fit common.
bundle = st.tuples(st.integers(1, 12), st.integers(0, 8), st.integers(0, 40))
small = st.lists(st.lists(bundle, min_size=1, max_size=3).map(tuple), max_size=6)


@given(small, st.integers(1, 10), st.integers(0, 8), st.integers(0, 6))
def test_reference_equals_brute_force_with_its_tie_rule(bids: Bids, window: int, memory: int,
                                                         reserve: int) -> None:
    auction = _auction(bids, window, memory, reserve)
    _same(solve_reference(bids, window, memory, reserve),
          _priced(auction, bids, reserve, solve_brute(auction)))


@given(small, st.integers(1, 10), st.integers(0, 8), st.integers(0, 6))
def test_reference_equals_clearing_on_revenue_and_unique_optima(bids: Bids, window: int,
                                                                 memory: int, reserve: int) -> None:
    auction = _auction(bids, window, memory, reserve)
    got = solve_reference(bids, window, memory, reserve)
    want = _priced(auction, bids, reserve, clear(auction))
    assert got is not None and got.value == want.value
    if got.choice == want.choice:  # the same optimum: the same payments
        assert got.payments == want.payments


wide = st.lists(st.lists(st.tuples(st.integers(1, 10), st.integers(0, 20),
                                   st.integers(0, 1_000_000)),
                         min_size=1, max_size=4).map(tuple), max_size=16)


@pytest.mark.native
@given(wide, st.integers(1, 20), st.integers(0, 80), st.integers(0, 5_000))
def test_native_walks_the_reference_tree(bids: Bids, window: int, memory: int,
                                         reserve: int) -> None:
    pytest.importorskip("auctioneer.gpu._gpu")
    want = solve_reference(bids, window, memory, reserve)
    got = solve(bids, window, memory, reserve, max_nodes=None)
    assert got is not None and want is not None
    _same(got, want)
    assert got.nodes == want.nodes


@pytest.mark.native
@given(small, st.integers(1, 10), st.integers(0, 8), st.integers(0, 6))
def test_native_equals_brute_force(bids: Bids, window: int, memory: int, reserve: int) -> None:
    pytest.importorskip("auctioneer.gpu._gpu")
    auction = _auction(bids, window, memory, reserve)
    _same(solve(bids, window, memory, reserve),
          _priced(auction, bids, reserve, solve_brute(auction)))


def test_by_hand() -> None:
    bids: Bids = [((5, 2, 900),), ((10, 1, 1000),), ((5, 0, 300), (4, 4, 350))]
    # {0, 2} is worth 1200; without 0 the best is 1000, without 2 it is 1000 too.
    s = solve_reference(bids, 10, 4, 0)
    assert s is not None and (s.value, s.choice, s.payments) == (1200, (0, None, 0), (700, 0, 100))
    # Reserve 100 a ms: bid 2's bundles fall below their floors (500, 400); bid 1 wins, its
    # Clarke price is bid 0's 900, its floor 1000.
    s = solve_reference(bids, 10, 4, 100)
    assert s is not None and (s.value, s.choice) == (1000, (None, 0, None))
    assert s.payments == (0, 1000, 0)


def test_ties_take_the_lexicographically_smallest_choice() -> None:
    bids: Bids = [((2, 0, 5), (1, 0, 5)), ((2, 0, 5),), ((1, 0, 0),)]
    s = solve_reference(bids, 2, 0, 0)  # three optima worth 5: "no bundle" for bid 0 first
    assert s is not None and s.choice == (None, 0, None) and s.payments == (0, 5, 0)


@pytest.mark.parametrize("impl", ["reference", pytest.param("native", marks=pytest.mark.native)])
def test_node_budget_gives_none_and_the_plane_falls_back(impl: str) -> None:
    if impl == "native":
        pytest.importorskip("auctioneer.gpu._gpu")
    bids: Bids = [((1 + t % 3, t % 5, 100 + t),) for t in range(10)]
    run = solve_reference if impl == "reference" else solve
    assert run(bids, 6, 6, 0, 3) is None
    full = run(bids, 6, 6, 0, None)
    assert full is not None and full.nodes > 3
    assert run(bids, 6, 6, 0, full.nodes) == full


@pytest.mark.native
def test_native_limits_and_errors() -> None:
    native = pytest.importorskip("auctioneer.gpu._gpu")
    too_many: Bids = [tuple((1, 0, 1) for _ in range(native.MAX_BUNDLES + 1))]
    assert native.solve(too_many, 4, 4, 0, -1) is None
    assert native.solve([((1, 0, 1),)], 1 << 25, 4, 0, -1) is None
    with pytest.raises(ValueError, match="gpu_ms 0"):
        native.solve([((0, 0, 1),)], 4, 4, 0, -1)
    with pytest.raises(ValueError, match="price -1"):
        native.solve([((1, 0, -1),)], 4, 4, 0, -1)
    with pytest.raises(TypeError, match="memory"):
        native.solve([((1, 0.5, 1),)], 4, 4, 0, -1)


PLANE = GpuPlane(dispatch_hz=50, slice_ms=1, memory=40, max_agents=64)


@given(wide.map(lambda bs: [GpuBid(t, b) for t, b in enumerate(bs)]), st.integers(0, 50))
def test_plane_bundle_path_matches_clearing_path(bids: list[GpuBid], reserve: int) -> None:
    bids = [GpuBid(b.agent, tuple((ms, min(mem, PLANE.memory), p) for ms, mem, p in b.bundles))
            for b in bids]
    fast = PLANE.dispatch(bids, 0.0, reserve, path="bundles")
    slow = PLANE.dispatch(bids, 0.0, reserve, path="clearing")
    assert fast.path == "bundles" and slow.path == "clearing"
    # A dispatch reports (gpu_ms, memory), not which bundle: where a bid lists
    # one shape twice, either path may take the dearer one, so count that one.
    value = {b.agent: b.bundles for b in bids}

    def revenue(d: object) -> int:
        return sum(max(p for q_ms, q_mem, p in value[a] if (q_ms, q_mem) == (ms, mem))
                   for a, ms, mem in zip(d.winners, d.gpu_ms, d.memory, strict=True))  # type: ignore[attr-defined]

    assert revenue(fast) == revenue(slow)
    if (fast.winners, fast.gpu_ms, fast.memory) == (slow.winners, slow.gpu_ms, slow.memory):
        assert fast.payments == slow.payments


@pytest.mark.native
@given(wide.map(lambda bs: [GpuBid(t, b) for t, b in enumerate(bs)]), st.integers(0, 50))
def test_native_bid_read_equals_the_checked_path(bids: list[GpuBid], reserve: int) -> None:
    pytest.importorskip("auctioneer.gpu._gpu")
    bids = [GpuBid(b.agent, tuple((ms, min(mem, PLANE.memory), p) for ms, mem, p in b.bundles))
            for b in bids]
    PLANE.check(bids)
    want = solve([b.bundles for b in bids], PLANE.window_ms, PLANE.memory, reserve)
    assert solve_bids(bids, PLANE.window_ms, PLANE.memory, reserve, PLANE.max_agents) == want


@pytest.mark.native
@pytest.mark.parametrize(("bad", "message"), [
    (GpuBid(1, ((1, 0, 2**63),)), "bid 1 bundle 0: price"),
    (GpuBid(1, ((1, 0, 10**30),)), "bid 1 bundle 0: price"),
    (GpuBid(1, ((1, 0, -1),)), "bid 1 bundle 0: price -1"),
    (GpuBid(2**63, ((1, 0, 5),)), "bid 1: agent"),
    (GpuBid(10**30, ((1, 0, 5),)), "bid 1: agent"),
    (GpuBid(64, ((1, 0, 5),)), "bid 1: agent 64 is out of range"),
    (GpuBid(0, ((1, 0, 5),)), "bid 1: agent 0 bids twice"),
    (GpuBid(1, ()), "bid 1: bundles"),
    (GpuBid(1, ((0, 0, 5),)), "bid 1 bundle 0: gpu_ms 0"),
    (GpuBid(1, ((21, 0, 5),)), "bid 1 bundle 0: gpu_ms 21"),
    (GpuBid(1, ((1, 41, 5),)), "bid 1 bundle 0: memory 41"),
    (GpuBid(1, ((True, 0, 5),)), "gpu_ms must be an int"),
    (GpuBid(True, ((1, 0, 5),)), "agent must be an int"),
    (GpuBid(1, ((1, 0, np.int64(5)),)), "price must be an int"),  # type: ignore[arg-type]
])
def test_native_bid_read_leaves_bad_bids_to_the_check(bad: GpuBid, message: str) -> None:
    pytest.importorskip("auctioneer.gpu._gpu")
    bids = [GpuBid(0, ((2, 1, 9), (1, 0, 3))), bad]
    assert solve_bids(bids, PLANE.window_ms, PLANE.memory, 0, PLANE.max_agents) is None
    with pytest.raises((ValueError, TypeError), match=message):
        PLANE.dispatch(bids, 0.0)


@pytest.mark.native
def test_native_bid_read_limits() -> None:
    pytest.importorskip("auctioneer.gpu._gpu")
    # Bids in lists, or past the native limits, take the checked path (then clearing).
    listed = [GpuBid(0, [(1, 0, 5)])]  # type: ignore[arg-type]
    assert solve_bids(listed, 20, 40, 0, 64) is None
    assert PLANE.dispatch(listed, 0.0).winners == (0,)
    wide_bid = [GpuBid(0, tuple((1, 0, 5 + j) for j in range(17)))]
    assert solve_bids(wide_bid, 20, 40, 0, 64) is None
    assert PLANE.dispatch(wide_bid, 0.0, path="bundles").path == "clearing"
    assert solve_bids([], 20, 40, 0, 64) == solve([], 20, 40, 0)
    with pytest.raises(ValueError, match="out of range"):
        solve_bids([], 0, 40, 0, 64)
