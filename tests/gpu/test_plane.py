"""The GPU plane: Vickrey and bundle paths agree, and both equal brute force."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.gpu import GpuBid, GpuPlane

PLANE = GpuPlane(dispatch_hz=100, slice_ms=2, memory=6, max_agents=64)  # 10 ms: 5 slices


def _brute(plane: GpuPlane, bids: list[GpuBid], reserve: int) -> tuple[int, dict[int, int]]:
    """Best revenue and VCG payments (with the reserve floor) by enumeration."""
    def best(active: list[GpuBid]) -> tuple[int, list[tuple[int | None, ...]]]:
        top, arg = 0, [tuple(None for _ in active)]
        options = [[None, *range(len(b.bundles))] for b in active]
        for choice in itertools.product(*options):
            ms = mem = value = 0
            ok = True
            for b, j in zip(active, choice, strict=True):
                if j is None:
                    continue
                q_ms, q_mem, price = b.bundles[j]
                ok &= price >= q_ms * reserve
                ms, mem, value = ms + q_ms, mem + q_mem, value + price
            if ok and ms <= plane.window_ms and mem <= plane.memory:
                if value > top:
                    top, arg = value, [choice]
                elif value == top:
                    arg.append(choice)
        return top, arg

    value, choices = best(bids)
    if len(choices) > 1:
        return value, {}            # VCG payments are only unique for a unique optimum
    pays: dict[int, int] = {}
    for i, j in enumerate(choices[0]):
        if j is None:
            continue
        others = value - bids[i].bundles[j][2]
        without = best(bids[:i] + bids[i + 1:])[0]
        pays[bids[i].agent] = max(without - others, bids[i].bundles[j][0] * reserve)
    return value, pays


bundle_bids = st.lists(
    st.lists(st.tuples(st.integers(1, 10), st.integers(0, 6), st.integers(0, 1_000)),
             min_size=1, max_size=2),
    min_size=0, max_size=5,
).map(lambda bs: [GpuBid(i, tuple(b)) for i, b in enumerate(bs)])


@given(bundle_bids, st.integers(0, 60))
def test_bundle_path_equals_brute_force(bids: list[GpuBid], reserve: int) -> None:
    got = PLANE.dispatch(bids, 0.0, reserve, path="bundles")
    value, pays = _brute(PLANE, bids, reserve)
    by_agent = {b.agent: b for b in bids}
    revenue = 0
    for agent, ms, mem in zip(got.winners, got.gpu_ms, got.memory, strict=True):
        revenue += max(p for q_ms, q_mem, p in by_agent[agent].bundles
                       if (q_ms, q_mem) == (ms, mem))
    assert revenue == value
    assert sum(got.gpu_ms) <= PLANE.window_ms and sum(got.memory) <= PLANE.memory
    if pays:
        assert dict(zip(got.winners, got.payments, strict=True)) == pays


@given(st.lists(st.integers(1, 10_000), unique=True, max_size=12), st.integers(0, 6_000))
def test_vickrey_path_equals_bundle_path_on_unit_bids(prices: list[int], reserve: int) -> None:
    bids = [GpuBid.unit(i, p, PLANE.slice_ms) for i, p in enumerate(prices)]
    fast = PLANE.dispatch(bids, 1.0, reserve)
    exact = PLANE.dispatch(bids, 1.0, reserve, path="bundles")
    assert fast.path == "vickrey" and exact.path == "bundles"
    assert sorted(fast.winners) == sorted(exact.winners)
    assert set(fast.payments) <= set(exact.payments) and fast.revenue == exact.revenue
    assert all(ms == PLANE.slice_ms for ms in fast.gpu_ms) and len(fast.winners) <= 5


def test_vickrey_by_hand() -> None:
    bids = [GpuBid.unit(a, p, 2) for a, p in [(4, 50), (9, 80), (1, 70), (3, 10), (2, 60),
                                               (7, 90), (8, 20)]]
    out = PLANE.dispatch(bids, 0.5, reserve_per_ms=0)
    assert out.winners == (7, 9, 1, 2, 4) and out.payments == (20,) * 5
    assert PLANE.dispatch(bids, 0.5, reserve_per_ms=30).payments == (60,) * 4


@pytest.mark.parametrize(("call", "text"), [
    (lambda: GpuPlane(dispatch_hz=5), "dispatch_hz 5 is out of range 10..100"),
    (lambda: GpuPlane(slice_ms=0), "slice_ms 0"),
    (lambda: PLANE.dispatch([GpuBid(70, ((2, 0, 5),))], 0.0), "bid 0: agent 70"),
    (lambda: PLANE.dispatch([GpuBid(1, ((2, 9, 5),))], 0.0), "bid 0 bundle 0: memory 9"),
    (lambda: PLANE.dispatch([GpuBid(1, ((0, 1, 5),))], 0.0), "bid 0 bundle 0: gpu_ms 0"),
    (lambda: PLANE.dispatch([GpuBid(1, ((2, 0, -5),))], 0.0), "bid 0 bundle 0: price -5"),
    (lambda: PLANE.dispatch([GpuBid(1, ((2, 0, 5),)), GpuBid(1, ((2, 0, 5),))], 0.0),
     "bid 1: agent 1 bids twice"),
    (lambda: PLANE.dispatch([GpuBid(1, ())], 0.0), "bid 0: bundles"),
    (lambda: PLANE.dispatch([], 0.0, path="fast"), "path 'fast'"),
    (lambda: PLANE.dispatch([GpuBid(1, ((4, 0, 5),))], 0.0, path="vickrey"), "unit bids"),
])
def test_bad_parameters_name_field_and_value(call: object, text: str) -> None:
    with pytest.raises(ValueError, match=text):
        call()  # type: ignore[operator]
