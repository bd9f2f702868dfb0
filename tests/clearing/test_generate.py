"""The instance generators: reproducible by seed, the requested shape, the promised correlation."""

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.clearing.generate import (
    COMPUTE_LIST_PRICES,
    KINDS,
    bundle_size,
    compute,
    generate,
    kind_name,
    strongly_correlated,
    uncorrelated,
    weakly_correlated,
)
from auctioneer.clearing.model import Auction, Bid, Bundle
from auctioneer.money import MICROS

SHAPES = {(4, 16, 0), (4, 8, 0), (4, 32, 0), (8, 64, 1)}


def _buyers(auction: Auction) -> list[Bid]:
    return [b for b in auction.bids if b.name.startswith("b")]


def _sellers(auction: Auction) -> list[Bid]:
    return [b for b in auction.bids if b.name.startswith("s")]


def _bundles(bids: Sequence[Bid]) -> list[Bundle]:
    return [bundle for bid in bids for bundle in bid.bundles]


# --------------------------------------------------------------------------
# Reproducibility and shape


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_auction_other_seed_other_auction(kind: str) -> None:
    one = generate(kind, bids=30, bundles=3, capacity=50, seed=11, sellers=0.2, reserves=True)
    assert generate(kind, bids=30, bundles=3, capacity=50, seed=11, sellers=0.2,
                    reserves=True) == one
    assert generate(kind, bids=30, bundles=3, capacity=50, seed=12, sellers=0.2,
                    reserves=True) != one


def test_pinned_instances_do_not_drift() -> None:
    # Benchmarks and saved files depend on these exact draws (numpy PCG64).
    assert generate("uncorrelated", bids=2, bundles=2, capacity=8, seed=0).bids == (
        Bid("b0", (Bundle((2, 2), 1_000_000), Bundle((2, 1), 4_000_000))),
        Bid("b1", (Bundle((1, 1), 3_000_000), Bundle((1, 1), 4_000_000))),
    )
    assert generate("compute", bids=2, bundles=2, capacity=32, seed=0).bids == (
        Bid("b0", (Bundle((4, 16, 0), 301_500), Bundle((8, 32, 0), 596_600))),
        Bid("b1", (Bundle((4, 32, 0), 259_700), Bundle((8, 64, 0), 460_300))),
    )


@given(
    kind=st.sampled_from(KINDS),
    bids=st.integers(0, 25),
    bundles=st.integers(1, 5),
    resources=st.integers(2, 3),
    capacity=st.integers(1, 200),
    seed=st.integers(0, 2**64 - 1),
    sellers=st.sampled_from([0.0, 0.25, 1.0]),
    reserves=st.booleans(),
)
def test_every_instance_has_the_requested_shape(
    kind: str, bids: int, bundles: int, resources: int, capacity: int, seed: int,
    sellers: float, reserves: bool,
) -> None:
    auction = generate(kind, bids=bids, bundles=bundles, resources=resources, capacity=capacity,
                       seed=seed, sellers=sellers, reserves=reserves)
    assert isinstance(auction, Auction)  # the model validated every field on construction
    assert len(auction.bids) == bids
    assert all(len(bid.bundles) == bundles for bid in auction.bids)
    assert auction.dimensions == resources
    assert len(_sellers(auction)) == round(sellers * bids)
    assert auction.min_winners == 0 and auction.max_winners is None
    for bid in auction.bids:
        seller = bid.name.startswith("s")
        for bundle in bid.bundles:
            assert all(type(q) is int for q in bundle.quantities)
            assert type(bundle.price) is int
            if seller:
                assert all(q <= 0 for q in bundle.quantities) and bundle.price <= 0
            else:
                assert all(q >= 0 for q in bundle.quantities) and bundle.price > 0
                assert not bundle.is_zero
    if kind != "compute":
        assert auction.capacities == (capacity,) * resources
        assert {r.reserve for r in auction.resources} == {MICROS // 2 if reserves else 0}
    else:
        assert auction.capacities[:2] == (capacity, 4 * capacity)
        assert all((r.reserve > 0) == reserves for r in auction.resources)


def test_names_are_unique_and_sort_in_bid_order() -> None:
    auction = generate("uncorrelated", bids=120, seed=3, sellers=0.1)
    names = [b.name for b in auction.bids]
    assert len(set(names)) == 120
    assert sorted(names, key=lambda n: n[1:]) == names
    assert {len(n) for n in names} == {4}


# --------------------------------------------------------------------------
# The knapsack classes


def test_uncorrelated_ranges_and_no_correlation() -> None:
    capacity, d = 100, 2
    r = capacity // 4
    auction = uncorrelated(bids=400, bundles=3, resources=d, capacity=capacity, seed=1)
    bundles = _bundles(auction.bids)
    assert {q for b in bundles for q in b.quantities} == set(range(1, r + 1))
    prices = [b.price // MICROS for b in bundles]
    assert all(b.price % MICROS == 0 for b in bundles)
    assert min(prices) >= 1 and max(prices) <= d * r
    corr = np.corrcoef([bundle_size(b) for b in bundles], prices)[0, 1]
    assert abs(corr) < 0.15


def test_weakly_correlated_prices_stay_near_the_size() -> None:
    auction = weakly_correlated(bids=300, bundles=3, resources=3, capacity=80, seed=2)
    span = 3 * 20
    bundles = _bundles(auction.bids)
    for b in bundles:
        price = b.price // MICROS
        assert price >= 1
        assert abs(price - bundle_size(b)) <= span // 10 or price == 1
    corr = np.corrcoef([bundle_size(b) for b in bundles], [b.price for b in bundles])[0, 1]
    assert corr > 0.9


@pytest.mark.parametrize(("resources", "capacity", "k"), [(2, 100, 5), (3, 100, 8),
                                                          (2, 8, 1), (1, 1, 1)])
def test_strongly_correlated_price_minus_size_is_constant(
    resources: int, capacity: int, k: int
) -> None:
    auction = strongly_correlated(bids=50, bundles=3, resources=resources, capacity=capacity,
                                  seed=4, sellers=0.2)
    buyers = {b.price // MICROS - bundle_size(b) for b in _bundles(_buyers(auction))}
    assert buyers == {k}
    for b in _bundles(_sellers(auction)):
        assert -b.price // MICROS == max(0, bundle_size(b) - k)


def test_max_quantity_and_unit() -> None:
    auction = generate("strongly", bids=50, bundles=2, capacity=100, seed=0, max_quantity=3)
    assert max(q for b in _bundles(auction.bids) for q in b.quantities) == 3
    cents = uncorrelated(bids=5, seed=0, unit=10_000)
    assert all(b.price % 10_000 == 0 and b.price < MICROS for b in _bundles(cents.bids))


def test_reserves_make_some_uncorrelated_bundles_inadmissible() -> None:
    auction = uncorrelated(bids=200, bundles=3, capacity=100, seed=6, reserves=True)
    admissible = [auction.is_admissible(t, j) for t, bid in enumerate(auction.bids)
                  for j in range(len(bid.bundles))]
    assert 0.05 < admissible.count(False) / len(admissible) < 0.5
    strong = strongly_correlated(bids=200, bundles=3, capacity=100, seed=6, reserves=True)
    assert all(strong.is_admissible(t, j) for t, bid in enumerate(strong.bids)
               for j in range(len(bid.bundles)))


# --------------------------------------------------------------------------
# The compute market


def test_compute_resources_and_shapes() -> None:
    auction = compute(bids=200, bundles=3, capacity=128, seed=9)
    assert [(r.name, r.capacity) for r in auction.resources] == [
        ("cpu", 128), ("mem", 512), ("gpu", 8)
    ]
    gpu_bidders = 0
    for bid in auction.bids:
        counts = []
        for b in bid.bundles:
            matches = [(s, b.quantities[0] // s[0]) for s in SHAPES
                       if tuple(q * (b.quantities[0] // s[0]) for q in s) == b.quantities]
            assert matches, f"{b.quantities} is no multiple of an instance shape"
            counts.append(b.quantities[0])
        assert counts == sorted(counts) and len(set(counts)) == len(counts)
        gpu_bidders += any(b.quantities[2] for b in bid.bundles)
    assert 10 <= gpu_bidders <= 60  # about 15%


def test_compute_prices_follow_list_prices() -> None:
    auction = compute(bids=300, bundles=3, capacity=256, seed=10)
    ratios = []
    for b in _bundles(auction.bids):
        list_value = sum(q * COMPUTE_LIST_PRICES[r.name]
                         for q, r in zip(b.quantities, auction.resources, strict=True))
        ratios.append(b.price / list_value)
        assert b.price % 100 == 0
    assert 0.6 < float(np.median(ratios)) < 1.2


def test_compute_without_gpus_and_two_sided() -> None:
    auction = generate("compute", bids=40, resources=2, capacity=64, seed=1, sellers=0.25)
    assert [r.name for r in auction.resources] == ["cpu", "mem"]
    sellers = _sellers(auction)
    assert len(sellers) == 10
    for bid in sellers:
        assert [b.quantities for b in bid.bundles] == [(-16, -64), (-32, -128), (-48, -192)]


# --------------------------------------------------------------------------
# Parameters


@pytest.mark.parametrize(("alias", "name"), [
    ("uncorrelated", "uncorrelated"), ("weakly_correlated", "weakly"),
    ("strongly-correlated", "strongly"), ("compute", "compute"),
])
def test_kind_names(alias: str, name: str) -> None:
    assert kind_name(alias) == name
    assert generate(alias, bids=3, seed=0) == generate(name, bids=3, seed=0)


@pytest.mark.parametrize(
    ("kind", "kwargs", "words"),
    [
        ("bogus", {}, "unknown kind 'bogus'"),
        ("uncorrelated", {"bids": -1}, "bids -1"),
        ("uncorrelated", {"bundles": 0}, "bundles 0"),
        ("strongly", {"capacity": 0}, "capacity 0"),
        ("weakly", {"seed": -1}, "seed -1"),
        ("weakly", {"seed": 2**64}, "seed"),
        ("uncorrelated", {"resources": 0}, "resources 0"),
        ("uncorrelated", {"max_quantity": 0}, "max_quantity 0"),
        ("uncorrelated", {"sellers": 1.5}, "sellers 1.5"),
        ("compute", {"resources": 4}, "resources 4"),
        ("compute", {"max_quantity": 3}, "max_quantity"),
    ],
)
def test_bad_parameters_are_named(kind: str, kwargs: dict[str, int | float], words: str) -> None:
    args: dict[str, int | float] = {"bids": 5, **kwargs}
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        generate(kind, **args)  # type: ignore[arg-type]


def test_non_int_parameters_are_type_errors() -> None:
    with pytest.raises(TypeError, match="bids must be an int"):
        generate("uncorrelated", bids=5.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="capacity must be an int"):
        generate("compute", bids=5, capacity=True)
