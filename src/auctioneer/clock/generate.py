"""Seeded planet-wide markets: clusters x resource types, busy and idle pools, mobile users.

:func:`generate_market` builds a :class:`~auctioneer.clock.model.Market`
straight into arrays (100 000 users in well under a second):

* **Pools.** ``clusters`` clusters (``c000``, ``c001``, ...) times the
  first ``resources`` of :data:`RESOURCE_TYPES` (cpu, ram, disk, gpu, ssd,
  net, tpu, hdd, ipv4, fpga), each with its list price per unit. A share
  ``congested`` of the clusters is busy (85-97% utilised), a share ``idle``
  is nearly empty (10-40%), the rest in between (50-80%); each pool varies
  by a few points around its cluster. Cluster sizes are log-normal.
* **Users.** Each has a job *shape*: cpu cores (1-64, log-uniform), GiB of
  ram (2-8 per core) and, with the type's probability, up to two other
  types. Its acceptable bundles are that shape in ``bundles`` distinct
  clusters (substitutes: it does not care where the job runs), drawn
  without replacement with busy clusters four times and middling ones twice
  as likely as idle ones (demand concentrates where it already is). Its
  budget is the shape's list price times a log-normal factor (median 1.5,
  sigma 0.5), rounded down to a whole micro-unit.
* **Sellers** (share ``sellers``) offer their shape (negative quantities)
  in any one of their clusters and ask 30-100% of its list price.
  **Traders** (share ``traders``) migrate a job: sell the shape in a home
  cluster and buy it in one of their others, paying at most 0-30% of list.
* **Supply.** Free capacity per resource type is the buyers' total demand
  (one bundle each) divided by ``load``, spread over the clusters by size
  and spare room: ``load`` above 1 means more demand than supply even
  before prices rise.

Every number is drawn from numpy's ``PCG64`` seeded by ``seed``: the same
arguments give the same market on any machine. Floats only shape the draws;
quantities and money are rounded to integers before they enter the market.

Complexity: O(users x clusters) time in chunks, O(users x bundles) memory.

Example:
    >>> m = generate_market(clusters=4, resources=2, users=6, bundles=2, seed=1)
    >>> m.shape, m.pool_names[:3]
    ((6, 2, 2), ('c000/cpu', 'c000/ram', 'c001/cpu'))
    >>> m == generate_market(clusters=4, resources=2, users=6, bundles=2, seed=1)
    True
    >>> m == generate_market(clusters=4, resources=2, users=6, bundles=2, seed=2)
    False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.clock.model import DEFAULT_CURVE, Market, Pool, ReserveCurve

__all__ = ["RESOURCE_TYPES", "ResourceType", "generate_market"]


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type: list price per unit, and how users ask for it."""

    name: str
    base_price: int
    """Micro-units per unit (per hour)."""
    low: int
    """Smallest quantity a job asks for (cpu: cores; ram: GiB per core)."""
    high: int
    """Largest quantity (inclusive)."""
    chance: float
    """Share of jobs that use it (cpu and ram: every job)."""


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("cpu", 40_000, 1, 64, 1.0),
    ResourceType("ram", 5_000, 2, 8, 1.0),
    ResourceType("disk", 100, 10, 2_000, 0.4),
    ResourceType("gpu", 2_000_000, 1, 8, 0.1),
    ResourceType("ssd", 300, 10, 500, 0.2),
    ResourceType("net", 10_000, 1, 40, 0.15),
    ResourceType("tpu", 3_000_000, 1, 8, 0.03),
    ResourceType("hdd", 50, 100, 10_000, 0.1),
    ResourceType("ipv4", 5_000, 1, 16, 0.1),
    ResourceType("fpga", 1_500_000, 1, 4, 0.02),
)
"""The resource types, in the order ``resources=n`` takes them. Prices are per unit-hour:
cpu $0.04/core, ram $0.005/GiB, disk $0.0001/GB, gpu $2.00, ..."""

_EXTRA_SLOTS = 2
"""At most this many types beyond cpu and ram per job."""
_CHUNK = 16_384


def _check(value: object, name: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{name} {value!r} must be an int in {low}..{high}")
    return value


def _share(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} {value!r} must be a number in 0..1")
    return float(value)


def generate_market(
    *,
    clusters: int = 10,
    resources: int = 4,
    users: int = 100,
    bundles: int = 3,
    seed: int = 0,
    load: float = 1.2,
    congested: float = 0.3,
    idle: float = 0.3,
    sellers: float = 0.05,
    traders: float = 0.0,
    curve: ReserveCurve = DEFAULT_CURVE,
) -> Market:
    """A random planet-wide market (see the module docstring); ValueError on bad arguments."""
    _check(clusters, "clusters", 1, 100_000)
    _check(resources, "resources", 1, len(RESOURCE_TYPES))
    _check(users, "users", 0, 10_000_000)
    _check(bundles, "bundles", 1, clusters)
    _check(seed, "seed", 0, 2**64 - 1)
    if isinstance(load, bool) or not isinstance(load, int | float) or not 0.01 <= load <= 100:
        raise ValueError(f"load {load!r} must be a number in 0.01..100")
    congested, idle = _share(congested, "congested"), _share(idle, "idle")
    sellers, traders = _share(sellers, "sellers"), _share(traders, "traders")
    if congested + idle > 1:
        raise ValueError(f"congested {congested} + idle {idle} must not exceed 1")
    if sellers + traders > 1:
        raise ValueError(f"sellers {sellers} + traders {traders} must not exceed 1")
    rng = np.random.default_rng(seed)
    types = RESOURCE_TYPES[:resources]
    t_count = len(types)

    # Clusters: busy, middling or idle; sizes log-normal.
    n_hot = round(congested * clusters)
    n_idle = min(round(idle * clusters), clusters - n_hot)
    tier = np.full(clusters, 1)
    order = rng.permutation(clusters)
    tier[order[:n_hot]] = 2
    tier[order[n_hot:n_hot + n_idle]] = 0
    low = np.array([0.10, 0.50, 0.85])[tier]
    high = np.array([0.40, 0.80, 0.97])[tier]
    cluster_util = rng.uniform(low, high)
    util = np.clip(cluster_util[:, None] + rng.normal(0, 0.02, (clusters, t_count)), 0.0, 0.99)
    size = rng.lognormal(0.0, 0.5, clusters)
    popularity = np.array([1.0, 2.0, 4.0])[tier]

    # Users: kind, shape, clusters.
    kind = rng.choice(3, size=users, p=[1 - sellers - traders, sellers, traders])
    shape, slot_type = _jobs(rng, types, users)              # (users, slots): units, type
    choices = _pick_clusters(rng, popularity, users, bundles)  # (users, bundles)
    home = _pick_clusters(rng, popularity, users, 1)[:, 0]

    list_price = np.array([t.base_price for t in types], dtype=np.int64)
    shape_cost = (shape * list_price[slot_type]).sum(axis=1)  # micro-units, exact ints
    factor = np.where(kind == 0, rng.lognormal(np.log(1.5), 0.5, users),
                      np.where(kind == 1, rng.uniform(0.3, 1.0, users), rng.uniform(0, 0.3, users)))
    # Floats shape the draw only: the budget is an integer number of micro-units.
    scaled = np.floor(shape_cost.astype(np.float64) * factor).astype(np.int64)
    budgets = np.where(kind == 1, -scaled, scaled)

    slots = shape.shape[1]
    depth = slots * (2 if traders > 0 else 1)
    idx = np.zeros((depth, users, bundles), dtype=np.int32)
    qty = np.zeros((depth, users, bundles), dtype=np.int64)
    sign = np.where(kind == 1, -1, 1).astype(np.int64)
    for k in range(slots):
        idx[k] = choices * t_count + slot_type[:, k:k + 1]
        qty[k] = (shape[:, k] * sign)[:, None]
    if traders > 0:
        trader = kind == 2
        for k in range(slots):
            idx[slots + k] = (home * t_count + slot_type[:, k])[:, None]
            qty[slots + k] = np.where(trader, -shape[:, k], 0)[:, None]
        # A trader whose alternative is its home cluster would move nothing net.
        same = trader[:, None] & (choices == home[:, None])
        qty[:slots] = np.where(same[None], 0, qty[:slots])
        qty[slots:] = np.where(same[None], 0, qty[slots:])
        empty = np.abs(qty).sum(axis=0) == 0
        if empty.any():  # let it move to the next cluster over instead
            moved = (home[:, None] + 1) % clusters
            for k in range(slots):
                idx[k] = np.where(empty, moved * t_count + slot_type[:, k:k + 1], idx[k])
                qty[k] = np.where(empty, shape[:, k:k + 1], qty[k])
                qty[slots + k] = np.where(empty, -shape[:, k:k + 1], qty[slots + k])

    # Supply: per type, the buyers' demand (one bundle each) over load.
    demand = np.zeros(t_count, dtype=np.float64)
    buyers = kind == 0
    for k in range(slots):
        np.add.at(demand, slot_type[buyers, k], shape[buyers, k].astype(np.float64))
    spare = (size[:, None] * (1.0 - util)).sum(axis=0)       # (types,)
    scale = np.where(spare > 0, demand / load / np.maximum(spare, 1e-12), 0.0)
    capacity = np.maximum(np.rint(size[:, None] * scale[None, :]), 1).astype(np.int64)
    used = np.minimum(np.rint(capacity * util).astype(np.int64), capacity)

    pools = tuple(
        Pool(f"c{c:03d}", types[t].name, int(capacity[c, t]), types[t].base_price,
             used=int(used[c, t]))
        for c in range(clusters) for t in range(t_count)
    )
    prefix = np.array(["b", "s", "t"])[kind]
    names = tuple(f"{p}{u}" for u, p in enumerate(prefix.tolist()))
    return Market.from_arrays(pools, budgets, idx, qty, np.full(users, bundles, np.int32),
                              names, curve)


def _jobs(rng: np.random.Generator, types: tuple[ResourceType, ...],
          users: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each job's units and type per slot: cpu, ram, then up to two optional types.

    An unused optional slot has 0 units (its type index, 0, is then inert).
    """
    slots = min(len(types), 2 + _EXTRA_SLOTS)
    units = np.zeros((users, slots), dtype=np.int64)
    kinds = np.zeros((users, slots), dtype=np.int64)
    units[:, 0] = _log_uniform(rng, types[0], users)
    if len(types) > 1:
        kinds[:, 1] = 1
        units[:, 1] = units[:, 0] * rng.integers(types[1].low, types[1].high, users,
                                                 endpoint=True)
    optional = types[2:]
    if optional:
        chance = np.array([t.chance for t in optional])
        used = rng.random((users, len(optional))) < chance[None, :]
        # Random priority among the used types; unused ones sort last.
        keys = np.where(used, rng.random((users, len(optional))), 2.0)
        order = np.argsort(keys, axis=1)[:, :slots - 2]
        for j in range(slots - 2):
            t = order[:, j]
            take = used[np.arange(users), t]
            draws = np.zeros(users, dtype=np.int64)
            for i, rtype in enumerate(optional):
                pick = take & (t == i)
                draws[pick] = _log_uniform(rng, rtype, int(pick.sum()))
            kinds[:, 2 + j] = np.where(take, t + 2, 0)
            units[:, 2 + j] = draws
    return units, kinds


def _log_uniform(rng: np.random.Generator, rtype: ResourceType,
                 count: int) -> npt.NDArray[np.int64]:
    """``count`` quantities log-uniform in ``rtype.low..rtype.high``."""
    draw = np.floor(np.exp(rng.uniform(np.log(rtype.low), np.log(rtype.high + 1), count)))
    return np.clip(draw, rtype.low, rtype.high).astype(np.int64)


def _pick_clusters(rng: np.random.Generator, weight: npt.NDArray[np.float64], users: int,
                   count: int) -> npt.NDArray[np.int64]:
    """``count`` distinct clusters per user, drawn in proportion to ``weight`` (Gumbel top-k)."""
    out = np.empty((users, count), dtype=np.int64)
    log_w = np.log(weight)
    for start in range(0, users, _CHUNK):
        stop = min(start + _CHUNK, users)
        keys = log_w[None, :] + rng.gumbel(size=(stop - start, weight.size))
        top = np.argpartition(-keys, count - 1, axis=1)[:, :count]
        # argpartition leaves the top count unordered: order them by key for reproducibility.
        ranked = np.take_along_axis(keys, top, axis=1)
        out[start:stop] = np.take_along_axis(top, np.argsort(-ranked, axis=1), axis=1)
    return out
