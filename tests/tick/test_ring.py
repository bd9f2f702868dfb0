"""The bid rings and the price page behave as specified, natively and in the reference.

Every test here runs on both implementations through the ``impl`` fixture:
:mod:`auctioneer.tick.ring` (``ring.c`` over shared memory) and
:mod:`auctioneer.tick.ring_reference` (a deque under a lock).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType

import pytest

from auctioneer.tick import limits, reference, ring, ring_reference
from auctioneer.tick.limits import PRICE_MAX

IMPLS = {"reference": ring_reference, "native": ring}
RINGS = ("SpscRing", "MpscRing")


@pytest.fixture(params=[pytest.param("reference"),
                        pytest.param("native", marks=pytest.mark.native)])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """The module providing the rings and the page: native or reference."""
    return IMPLS[request.param]


@pytest.fixture(params=RINGS)
def make(request: pytest.FixtureRequest, impl: ModuleType) -> Iterator[type[ring.SpscRing]]:
    """One ring class of one implementation; every ring it creates is unlinked after."""
    cls: type[ring.SpscRing] = getattr(impl, request.param)
    made: list[ring.SpscRing] = []

    class Tracked(cls):  # type: ignore[valid-type,misc]
        __slots__ = ()

        @classmethod
        def create(cls, capacity: int, name: str | None = None) -> ring.SpscRing:
            made.append(super().create(capacity, name))
            return made[-1]

    yield Tracked
    for r in made:
        with contextlib.suppress(FileNotFoundError, ValueError):  # unlinked by the test
            r.unlink()


def test_fifo_full_and_wraparound(make: type[ring.SpscRing]) -> None:
    r = make.create(4)
    assert (r.capacity, len(r)) == (4, 0)
    assert r.drain() == []
    expected: list[tuple[int, int, int]] = []
    for lap in range(5):  # five laps of a 4-slot ring: every slot reused
        for i in range(4):
            bid = (lap * 10 + i, 1000 * i, i)
            assert r.push(*bid)
            expected.append(bid)
        assert not r.push(99, 1, 1), "a full ring refuses a push"
        assert len(r) == 4
        r.check()
        assert r.drain(1) == expected[-4:-3]
        assert r.drain(0) == []
        assert r.drain(10) == expected[-3:]
        r.check()
    assert len(r) == 0


def test_extremes_round_trip(make: type[ring.SpscRing]) -> None:
    r = make.create(2)
    assert r.push(limits.AGENT_MAX, PRICE_MAX, limits.UNITS_MAX)
    assert r.push(0, 0)  # units default to 1
    assert r.drain() == [(limits.AGENT_MAX, PRICE_MAX, limits.UNITS_MAX), (0, 0, 1)]


@pytest.mark.parametrize("capacity", [0, 1, 3, 6, 2**24 + 1, 2**25])
def test_capacity_must_be_a_power_of_two_in_range(make: type[ring.SpscRing],
                                                   capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity"):
        make.create(capacity)


@pytest.mark.parametrize(
    ("bid", "error", "message"),
    [
        ((-1, 5, 1), ValueError, "agent -1 is out of range"),
        ((2**64, 5, 1), ValueError, "agent 18446744073709551616 is out of range"),
        ((1, -5, 1), ValueError, "price -5 is negative"),
        ((1, 2**32, 1), ValueError, "exceeds the maximum"),
        ((1, 5, 2**32), ValueError, "units 4294967296 is out of range"),
        ((1.0, 5, 1), TypeError, "agent must be an int"),
        ((1, True, 1), TypeError, "price must be an int"),
        ((1, 5, "2"), TypeError, "units must be an int"),
    ],
)
def test_bad_bids_raise_and_change_nothing(
    make: type[ring.SpscRing], bid: tuple[object, ...], error: type[Exception], message: str
) -> None:
    r = make.create(2)
    with pytest.raises(error, match=message):
        r.push(*bid)
    assert len(r) == 0


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3"])
def test_bad_drain_max(make: type[ring.SpscRing], bad: object) -> None:
    r = make.create(2)
    r.push(1, 2)
    with pytest.raises((ValueError, TypeError), match="max"):
        r.drain(bad)
    assert len(r) == 1


def test_attach_by_name_shares_the_ring(make: type[ring.SpscRing]) -> None:
    owner = make.create(8)
    other = type(owner).attach(owner.name)
    assert other.capacity == 8
    assert other.push(5, 6, 7)
    assert owner.drain() == [(5, 6, 7)]
    other.close()
    with pytest.raises(ValueError, match="released"):
        other.push(1, 1)
    assert owner.push(1, 1), "closing one handle leaves the ring to the others"


def test_attach_refuses_another_kind(impl: ModuleType) -> None:
    spsc = impl.SpscRing.create(4)
    try:
        with pytest.raises(ValueError, match="holds no MPSC ring"):
            impl.MpscRing.attach(spsc.name)
        with pytest.raises(ValueError, match="holds no price page"):
            impl.PricePage.attach(spsc.name)
    finally:
        spsc.unlink()
    with pytest.raises(FileNotFoundError):
        impl.SpscRing.attach(spsc.name)


def test_drain_into_applies_updates_and_withdrawals(make: type[ring.SpscRing]) -> None:
    r = make.create(8)
    book = reference.IndexedHeap(4)
    for bid in [(1, 500, 1), (2, 700, 3), (1, 0, 0), (3, 0, 0), (9, 5, 1), (0, 900, 2)]:
        assert r.push(*bid)
    assert r.drain_into(book, 5) == (5, 2)  # agent 3 had no bid, agent 9 is out of range
    assert book.items() == [(2, 700, 3)]
    assert r.drain_into(book) == (1, 0)
    assert book.select(2) == ([0, 2], [900, 700])


def test_price_page_publishes_whole_snapshots(impl: ModuleType) -> None:
    page = impl.PricePage.create()
    try:
        reader = impl.PricePage.attach(page.name)
        assert reader.read() == (0, 0, 0, 0, 0)
        assert page.seq == 0
        page.publish(7, 850_000, 3_000_000, limits.MULTIPLIER_ONE, 8 * limits.MULTIPLIER_ONE)
        assert reader.prices() == limits.Prices(7, 850_000, 3_000_000, 1_000_000, 8_000_000)
        assert reader.read(1) == tuple(reader.prices())
        page.publish(2**64 - 1, PRICE_MAX, 0, PRICE_MAX, 0)
        assert reader.read() == (2**64 - 1, PRICE_MAX, 0, PRICE_MAX, 0)
        assert page.seq == reader.seq == 4
        reader.close()
    finally:
        page.unlink()


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ((-1, 1, 1, 1, 1), ValueError, "tick -1 is out of range"),
        ((1, 2**32, 1, 1, 1), ValueError, "cpu_price 4294967296 exceeds"),
        ((1, 1, -1, 1, 1), ValueError, "gpu_price -1 is negative"),
        ((1, 1, 1, 2**32, 1), ValueError, "cpu_multiplier 4294967296 is out of range"),
        ((1, 1, 1, 1, 0.5), TypeError, "gpu_multiplier must be an int"),
    ],
)
def test_bad_prices_raise_and_change_nothing(
    impl: ModuleType, fields: tuple[object, ...], error: type[Exception], message: str
) -> None:
    page = impl.PricePage.create()
    try:
        page.publish(1, 2, 3, 4, 5)
        with pytest.raises(error, match=message):
            page.publish(*fields)
        assert page.read() == (1, 2, 3, 4, 5)
        for tries in (0, 2**32, "1"):
            with pytest.raises(ValueError, match="tries must be an int in 1..4294967295"):
                page.read(tries)
    finally:
        page.unlink()


def test_create_refuses_a_taken_name(impl: ModuleType) -> None:
    page = impl.PricePage.create()
    try:
        with pytest.raises(FileExistsError):
            impl.PricePage.create(page.name)
    finally:
        page.unlink()


@pytest.mark.native
def test_native_build_matches_the_sanitize_switch() -> None:
    """Under ``make sanitize`` the ring extension is the instrumented one, not a stale build."""
    from auctioneer.tick import _ring

    assert (1 if os.environ.get("AUCTIONEER_SANITIZE") else 0) == _ring.SANITIZED


@pytest.mark.native
def test_native_layout_and_sizes() -> None:
    """Head, tail and records on separate lines: 3 header lines, then 16 or 32 B a record."""
    from auctioneer.tick import _ring

    assert _ring.nbytes(_ring.KIND_SPSC, 1024) == 3 * 64 + 1024 * 16
    assert _ring.nbytes(_ring.KIND_MPSC, 1024) == 3 * 64 + 1024 * 32
    assert _ring.nbytes(_ring.KIND_SPSC, 1000) == 0
    assert _ring.PAGE_NBYTES == 128
    with ring.SpscRing.create(4) as r:
        assert r.nbytes == 3 * 64 + 4 * 16
        r.unlink()


@pytest.mark.native
def test_native_refuses_foreign_and_misaligned_buffers() -> None:
    from auctioneer.tick import _ring

    with pytest.raises(ValueError, match="holds no SPSC ring"):
        _ring.SpscRing(_aligned(4096))
    with pytest.raises(ValueError, match="needs 256 bytes"):
        _ring.SpscRing(_aligned(128), 4)
    with pytest.raises(ValueError, match="64-byte boundary"):
        _ring.SpscRing(_aligned(4096)[1:], 4)
    with pytest.raises(BufferError):
        _ring.SpscRing(b"read-only bytes", 4)
    with pytest.raises(ValueError, match="needs 128 bytes"):
        _ring.PricePage(_aligned(64), True)


def _aligned(size: int) -> memoryview:
    """A writable buffer of ``size`` bytes that starts on a 64-byte boundary."""
    import ctypes

    raw = bytearray(size + 64)
    address = ctypes.addressof(ctypes.c_char.from_buffer(raw))
    start = -address % 64
    return memoryview(raw)[start:start + size]
