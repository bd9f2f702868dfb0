"""Seeded planet-wide markets: reproducible, well-formed, busy and idle clusters, all kinds."""

import numpy as np
import pytest

from auctioneer.clock import RESOURCE_TYPES, UserKind, generate_market


def test_same_seed_same_market() -> None:
    kwargs = {"clusters": 5, "resources": 4, "users": 200, "bundles": 3, "seed": 11,
              "traders": 0.1}
    assert generate_market(**kwargs) == generate_market(**kwargs)  # type: ignore[arg-type]
    assert generate_market(**kwargs) != generate_market(**{**kwargs, "seed": 12})  # type: ignore[arg-type]


def test_shape_pools_and_kinds() -> None:
    m = generate_market(clusters=8, resources=10, users=2_000, bundles=4, seed=1,
                        sellers=0.1, traders=0.1)
    assert len(m.pools) == 80
    assert [p.resource for p in m.pools[:10]] == [t.name for t in RESOURCE_TYPES]
    users, width, depth = m.shape
    assert (users, width) == (2_000, 4) and depth == 8  # traders: sell 4 entries, buy 4
    kinds = np.array([k.value for k in m.kinds()])
    for kind, share in ((UserKind.SELLER, 0.1), (UserKind.TRADER, 0.1)):
        assert abs((kinds == kind.value).mean() - share) < 0.03
    # Budgets: buyers and traders pay (>= 0), sellers ask (<= 0).
    assert (m.budgets[kinds == "seller"] <= 0).all()
    assert (m.budgets[kinds != "seller"] >= 0).all()
    # Every bundle slot is real: a buyer's job in four distinct clusters.
    assert (m.bundle_count == 4).all()
    cluster_of = m.pool_index[0][kinds == "buyer"] // 10
    assert all(len(set(row)) == 4 for row in cluster_of.tolist())
    # A trader sells its job in one home cluster and buys it in another.
    t = int(np.flatnonzero(kinds == "trader")[0])
    for b in range(4):
        bundle = m.bundle(t, b)
        bought = {r // 10 for r, q in bundle.items() if q > 0}
        sold = {r // 10 for r, q in bundle.items() if q < 0}
        assert len(bought) == len(sold) == 1 and bought != sold


def test_busy_and_idle_clusters() -> None:
    m = generate_market(clusters=20, resources=2, users=500, seed=2, congested=0.25, idle=0.25)
    util = np.array([p.utilisation for p in m.pools]).reshape(20, 2).mean(axis=1)
    assert (util >= 8_250).sum() == 5  # busy: 85-97%, a couple of points of noise
    assert (util <= 4_500).sum() == 5
    reserves = m.reserves().reshape(20, 2)[:, 0]
    # Reserves follow utilisation: the busiest cluster's cpu costs more than the idlest's.
    assert reserves[np.argmax(util)] > 3 * reserves[np.argmin(util)]


@pytest.mark.parametrize("kwargs, words", [
    ({"clusters": 0}, "clusters"),
    ({"resources": 11}, "resources"),
    ({"bundles": 11}, "bundles"),
    ({"sellers": 0.7, "traders": 0.7}, "sellers"),
    ({"congested": 0.8, "idle": 0.3}, "congested"),
    ({"load": 0}, "load"),
])
def test_bad_arguments(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        generate_market(**kwargs)  # type: ignore[arg-type]
