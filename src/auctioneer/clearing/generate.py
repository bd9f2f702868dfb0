"""Seeded random auctions: knapsack-style test instances and a compute market.

Kelly's exercise 3: clearing an XOR-bid auction is a multidimensional
multiple-choice knapsack problem (MMKP), and how hard an instance is for
bound-based methods (branch and bound, integer programming) depends mostly
on how prices correlate with bundle sizes. The three classic classes of the
knapsack literature (Pisinger; Kellerer, Pferschy and Pisinger 2004, 9.5),
with weights uniform in ``[1, R]``:

* **uncorrelated** -- profit uniform in ``[1, R]``: easy, many bundles are
  plainly dominated and bounds cut early;
* **weakly correlated** -- profit = weight + uniform in ``[-R/10, R/10]``,
  at least 1;
* **strongly correlated** -- profit = weight + R/10: hard, every bundle has
  nearly the same price per unit, so LP bounds are weak and ties abound.

**The multidimensional adaptation.** Each bundle asks for ``q_r`` units of
each of the ``d`` resources, ``q_r`` uniform in ``[1, R]`` independently
(``R = max_quantity``, by default a quarter of the capacity, so a bundle
takes 1/4 to 1/100 of a resource and the resources are contested). The
bundle's *size*, the weight the price correlates with, is the sum of its
quantities (:func:`bundle_size`), in ``[d, d*R]``; the range that replaces
``R`` in the price rules is ``S = d*R``. So: uncorrelated ``p ~ U[1, S]``;
weakly ``p = max(1, size + U[-S/10, S/10])``; strongly ``p = size + K`` with
``K = max(1, round(S/10))``. All resources have the same capacity, so the
plain sum weighs them equally relative to capacity. A bid's bundles are
independent draws (its XOR alternatives); prices are ``p`` whole currency
units (``unit`` micro-units each).

**Reserve prices** (``reserves=True``): half a unit per resource unit, so a
bundle priced below half its size is inadmissible (about a quarter of the
uncorrelated bundles; hardly any correlated ones).

**Two-sided** (``sellers`` > 0): that share of the bids *sell*: every
quantity negative (``q_r ~ -U[1, R]``) and a negative price, the ask paid to
the seller: uncorrelated ``U[1, S]``, weakly ``max(0, size + U[-S/10, S/10])``,
strongly ``max(0, size - K)``, mirroring the buyers. Buyers are named
``b<i>``, sellers ``s<i>``.

**mmkp** -- held-out instances in the style of the multidimensional
multiple-choice knapsack literature (Khan, Li, Manning and Akbar 2002):
many resource types (``resources``, 6 by default), few bundles per bid, and
**every bid must win** (one bundle from every group). Quantities are
``U[0, R]`` with ``R = max_quantity`` or ``max(1, 3 * capacity // (2 * bids))``,
so the bids take about 3/4 of each capacity on average and which bundle each bid
gets decides feasibility; prices are ``size + U[0, S/10]`` units. Some
seeds are infeasible (no choice fits), which solvers report as INFEASIBLE.
This is the family on which the sparse DP's estimate is least reliable and
``auto`` races the MILP first (:mod:`auctioneer.clearing.solve`).

**compute** -- a cloud market for one hour of a cluster: resources ``cpu``
(vCPU cores, ``capacity`` of them), ``mem`` (GiB, 4 per vCPU) and, with 3
resources, ``gpu`` (one per 16 vCPU, at least 1). Each bidder has an instance
shape -- general (4 vCPU : 16 GiB), compute (4 : 8), memory (4 : 32) or, 15%
of them, GPU (8 vCPU : 64 GiB : 1 GPU) -- and offers XOR alternatives of
different sizes (distinct instance counts; a quarter of a CPU bidder's
alternatives switch to another CPU shape). A bundle's price is its list
value per hour (vCPU $0.04, GiB $0.005, GPU $2.50) times the bidder's own
valuation (log-normal, sigma 0.3), a per-bundle noise (sigma 0.1) and a
volume discount (``count ** -0.1``), rounded to $0.0001. Reserves are 60% of
list; sellers offer nodes (16 vCPU : 64 GiB, or 32 : 256 : 4 GPUs) asking
about 70% of list.

Every generator is a pure function of its arguments: the same arguments
and ``seed`` give the same auction, on any machine (numpy's ``PCG64``).

Example:
    >>> a = generate("strongly", bids=3, bundles=2, resources=2, capacity=20, seed=1)
    >>> a.capacities, len(a.bids), {len(b.bundles) for b in a.bids}
    ((20, 20), 3, {2})
    >>> {b.price // 1_000_000 - bundle_size(b) for bid in a.bids for b in bid.bundles}
    {1}
    >>> generate("strongly", bids=3, bundles=2, resources=2, capacity=20, seed=1) == a
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from auctioneer.checks import require_int
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.money import MICROS

__all__ = [
    "COMPUTE_LIST_PRICES",
    "KINDS",
    "bundle_size",
    "compute",
    "generate",
    "kind_name",
    "mmkp",
    "strongly_correlated",
    "uncorrelated",
    "weakly_correlated",
]

KINDS = ("uncorrelated", "weakly", "strongly", "mmkp", "compute")
"""Instance kinds, as ``generate`` and the CLI name them."""
_ALIASES = {
    "weakly_correlated": "weakly",
    "weakly-correlated": "weakly",
    "strongly_correlated": "strongly",
    "strongly-correlated": "strongly",
}

COMPUTE_LIST_PRICES = {"cpu": 40_000, "mem": 5_000, "gpu": 2_500_000}
"""List price per unit-hour, micro-units: vCPU $0.04, GiB $0.005, GPU $2.50."""
_SHAPES = {  # (vCPU, GiB, GPU) per instance
    "general": (4, 16, 0),
    "compute": (4, 8, 0),
    "memory": (4, 32, 0),
    "gpu": (8, 64, 1),
}
_CPU_SHAPES = ("general", "compute", "memory")
_CPU_SHAPE_WEIGHTS = (0.5, 0.25, 0.25)
_GPU_SHARE = 0.15
_SELLER_NODES = ((16, 64, 0), (32, 256, 4))
_PRICE_STEP = 100  # compute prices are rounded to $0.0001
_SEED_MAX = 2**64 - 1


def bundle_size(bundle: Bundle) -> int:
    """The knapsack *weight* of a bundle: the sum of its quantities' magnitudes.

    Example:
        >>> bundle_size(Bundle((3, -4), 0))
        7
    """
    return sum(abs(q) for q in bundle.quantities)


def kind_name(kind: str) -> str:
    """The canonical kind for ``kind`` (``"strongly_correlated"`` -> ``"strongly"``)."""
    name = _ALIASES.get(kind, kind)
    if name not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: choose from {', '.join(KINDS)}")
    return name


def _check_common(bids: int, bundles: int, capacity: int, seed: int, sellers: float) -> None:
    require_int(bids, "bids", 0)
    require_int(bundles, "bundles", 1)
    require_int(capacity, "capacity", 1)
    require_int(seed, "seed", 0, _SEED_MAX)
    if isinstance(sellers, bool) or not isinstance(sellers, int | float) or not (
        0.0 <= sellers <= 1.0
    ):
        raise ValueError(f"sellers {sellers!r} must be a share between 0 and 1")


def _seller_mask(rng: np.random.Generator, bids: int, sellers: float) -> np.ndarray[Any, Any]:
    count = round(sellers * bids)
    mask = np.zeros(bids, dtype=bool)
    if count:
        mask[rng.choice(bids, size=count, replace=False)] = True
    return mask


def _names(bids: int, mask: np.ndarray[Any, Any]) -> list[str]:
    width = len(str(max(bids - 1, 0)))
    return [f"{'s' if sell else 'b'}{t:0{width}d}" for t, sell in enumerate(mask.tolist())]


def _signed_auction(
    quantities: np.ndarray[Any, Any],
    offer: np.ndarray[Any, Any],
    ask: np.ndarray[Any, Any],
    selling: np.ndarray[Any, Any],
    *,
    capacity: int,
    reserves: bool,
    unit: int,
    must_win: bool = False,
) -> Auction:
    """Bids from ``(bids, bundles, d)`` quantities and whole-unit prices, on ``d`` resources.

    A buyer offers ``offer``; a seller (``selling``) negates its quantities and
    is paid ``ask``. Reserves are half a unit per resource unit.
    """
    bids, bundles, d = quantities.shape
    names = _names(bids, selling)
    reserve = unit // 2 if reserves else 0
    out = []
    for t in range(bids):
        sign = -1 if selling[t] else 1
        prices = (-ask[t] if selling[t] else offer[t]).tolist()
        out.append(Bid(names[t], tuple(
            Bundle(tuple(sign * q for q in quantities[t, j].tolist()), int(prices[j]) * unit)
            for j in range(bundles)), must_win=must_win))
    return Auction(tuple(Resource(f"r{i}", capacity, reserve) for i in range(d)), tuple(out))


def _knapsack(
    rule: str,
    *,
    bids: int,
    bundles: int,
    resources: int,
    capacity: int,
    seed: int,
    max_quantity: int | None,
    reserves: bool,
    sellers: float,
    unit: int,
) -> Auction:
    _check_common(bids, bundles, capacity, seed, sellers)
    d = require_int(resources, "resources", 1)
    r = max(1, capacity // 4) if max_quantity is None else require_int(
        max_quantity, "max_quantity", 1
    )
    require_int(unit, "unit", 1)
    rng = np.random.default_rng(seed)
    span = d * r  # S: the range of a bundle's size
    k = max(1, round(span / 10))
    tenth = span // 10
    quantities = rng.integers(1, r + 1, size=(bids, bundles, d), dtype=np.int64)
    sizes = quantities.sum(axis=2)
    if rule == "uncorrelated":
        profit = rng.integers(1, span + 1, size=(bids, bundles), dtype=np.int64)
        ask = profit
    elif rule == "weakly":
        noise = rng.integers(-tenth, tenth + 1, size=(bids, bundles), dtype=np.int64)
        profit = np.maximum(1, sizes + noise)
        ask = np.maximum(0, sizes + noise)
    else:
        profit = sizes + k
        ask = np.maximum(0, sizes - k)
    selling = _seller_mask(rng, bids, sellers)
    return _signed_auction(quantities, profit, ask, selling, capacity=capacity,
                           reserves=reserves, unit=unit)


def uncorrelated(
    *,
    bids: int,
    bundles: int = 3,
    resources: int = 2,
    capacity: int = 100,
    seed: int = 0,
    max_quantity: int | None = None,
    reserves: bool = False,
    sellers: float = 0.0,
    unit: int = MICROS,
) -> Auction:
    """Quantities ``U[1, R]``, prices ``U[1, d*R]`` units: easy instances."""
    return _knapsack("uncorrelated", bids=bids, bundles=bundles, resources=resources,
                     capacity=capacity, seed=seed, max_quantity=max_quantity,
                     reserves=reserves, sellers=sellers, unit=unit)


def weakly_correlated(
    *,
    bids: int,
    bundles: int = 3,
    resources: int = 2,
    capacity: int = 100,
    seed: int = 0,
    max_quantity: int | None = None,
    reserves: bool = False,
    sellers: float = 0.0,
    unit: int = MICROS,
) -> Auction:
    """Prices ``size + U[-d*R/10, d*R/10]`` units, at least 1."""
    return _knapsack("weakly", bids=bids, bundles=bundles, resources=resources,
                     capacity=capacity, seed=seed, max_quantity=max_quantity,
                     reserves=reserves, sellers=sellers, unit=unit)


def strongly_correlated(
    *,
    bids: int,
    bundles: int = 3,
    resources: int = 2,
    capacity: int = 100,
    seed: int = 0,
    max_quantity: int | None = None,
    reserves: bool = False,
    sellers: float = 0.0,
    unit: int = MICROS,
) -> Auction:
    """Prices ``size + K`` units, ``K = max(1, round(d*R/10))``: hard instances."""
    return _knapsack("strongly", bids=bids, bundles=bundles, resources=resources,
                     capacity=capacity, seed=seed, max_quantity=max_quantity,
                     reserves=reserves, sellers=sellers, unit=unit)


def mmkp(
    *,
    bids: int,
    bundles: int = 3,
    resources: int = 6,
    capacity: int = 100,
    seed: int = 0,
    max_quantity: int | None = None,
    reserves: bool = False,
    sellers: float = 0.0,
    unit: int = MICROS,
) -> Auction:
    """Every bid must win; quantities ``U[0, R]``, prices ``size + U[0, S/10]`` units.

    A ``sellers`` share of the bids must *sell* instead: quantities negated,
    asking ``max(0, size - U[0, S/10])`` units (named ``s<i>``).
    """
    _check_common(bids, bundles, capacity, seed, sellers)
    d = require_int(resources, "resources", 1)
    r = max(1, 3 * capacity // (2 * max(bids, 1))) if max_quantity is None else require_int(
        max_quantity, "max_quantity", 1)
    require_int(unit, "unit", 1)
    rng = np.random.default_rng(seed)
    quantities = rng.integers(0, r + 1, size=(bids, bundles, d), dtype=np.int64)
    quantities[..., 0] = np.maximum(quantities[..., 0], 1)  # no zero bundle: it must win
    sizes = quantities.sum(axis=2)
    noise = rng.integers(0, max(1, d * r // 10) + 1, size=(bids, bundles))
    selling = _seller_mask(rng, bids, sellers)
    return _signed_auction(quantities, sizes + noise, np.maximum(0, sizes - noise), selling,
                           capacity=capacity, reserves=reserves, unit=unit, must_win=True)


def _round_price(value: float) -> int:
    return int(round(value / _PRICE_STEP)) * _PRICE_STEP


def compute(
    *,
    bids: int,
    bundles: int = 3,
    resources: int = 3,
    capacity: int = 100,
    seed: int = 0,
    reserves: bool = False,
    sellers: float = 0.0,
) -> Auction:
    """One hour of a cluster of ``capacity`` vCPUs: ``cpu``, ``mem`` (GiB), ``gpu`` if 3 resources.

    Example:
        >>> a = compute(bids=2, bundles=2, capacity=64, seed=3)
        >>> [(r.name, r.capacity) for r in a.resources]
        [('cpu', 64), ('mem', 256), ('gpu', 4)]
    """
    _check_common(bids, bundles, capacity, seed, sellers)
    d = require_int(resources, "resources", 2, 3)
    names = ("cpu", "mem", "gpu")[:d]
    caps = (capacity, 4 * capacity, max(1, capacity // 16))[:d]
    list_price = np.array([COMPUTE_LIST_PRICES[n] for n in names], dtype=np.float64)
    reserve = [int(0.6 * p) if reserves else 0 for p in list_price.tolist()]
    rng = np.random.default_rng(seed)
    selling = _seller_mask(rng, bids, sellers)
    labels = _names(bids, selling)
    out_bids = []
    for t in range(bids):
        if selling[t]:
            out_bids.append(_compute_seller(rng, labels[t], bundles, d, list_price))
            continue
        if d == 3 and rng.random() < _GPU_SHARE:
            shape = "gpu"
        else:
            shape = _CPU_SHAPES[int(rng.choice(3, p=_CPU_SHAPE_WEIGHTS))]
        valuation = float(rng.lognormal(0.0, 0.3))
        base = np.array(_SHAPES[shape][:d], dtype=np.int64)
        fits = min(c // int(b) for c, b in zip(caps, base.tolist(), strict=True) if b) or 1
        top = max(bundles, fits // 3)
        counts = np.sort(rng.choice(np.arange(1, top + 1), size=bundles, replace=False))
        alternatives = []
        for count in counts.tolist():
            this = base
            if shape != "gpu" and rng.random() < 0.25:
                other = [s for s in _CPU_SHAPES if s != shape]
                this = np.array(_SHAPES[other[int(rng.integers(2))]][:d], dtype=np.int64)
            quantities = this * count
            value = float(quantities @ list_price) * valuation
            value *= float(rng.lognormal(0.0, 0.1)) * count ** -0.1
            alternatives.append(Bundle(tuple(int(q) for q in quantities.tolist()),
                                       _round_price(value)))
        out_bids.append(Bid(labels[t], tuple(alternatives)))
    out_resources = tuple(
        Resource(n, c, p) for n, c, p in zip(names, caps, reserve, strict=True)
    )
    return Auction(out_resources, tuple(out_bids))


def _compute_seller(
    rng: np.random.Generator, name: str, bundles: int, d: int, list_price: np.ndarray[Any, Any]
) -> Bid:
    node = np.array(_SELLER_NODES[1 if d == 3 and rng.random() < _GPU_SHARE else 0][:d],
                    dtype=np.int64)
    alternatives = []
    for count in range(1, bundles + 1):
        quantities = node * count
        ask = float(quantities @ list_price) * float(rng.lognormal(np.log(0.7), 0.15))
        alternatives.append(Bundle(tuple(-int(q) for q in quantities.tolist()),
                                   -_round_price(ask)))
    return Bid(name, tuple(alternatives))


_GENERATORS: dict[str, Callable[..., Auction]] = {
    "uncorrelated": uncorrelated,
    "weakly": weakly_correlated,
    "strongly": strongly_correlated,
    "mmkp": mmkp,
}


def generate(
    kind: str,
    *,
    bids: int,
    bundles: int = 3,
    resources: int | None = None,
    capacity: int = 100,
    seed: int = 0,
    max_quantity: int | None = None,
    reserves: bool = False,
    sellers: float = 0.0,
) -> Auction:
    """An auction of ``kind`` (:data:`KINDS`, or ``*_correlated``) from ``seed``.

    ``resources`` defaults to 2 for the knapsack kinds and 3 for ``compute``
    (which takes 2 or 3). ``max_quantity`` (R) applies to the knapsack kinds
    only. ValueError/TypeError name a bad parameter.
    """
    name = kind_name(kind)
    if name == "compute":
        if max_quantity is not None:
            raise ValueError("max_quantity applies to the knapsack kinds, not compute")
        return compute(bids=bids, bundles=bundles, resources=3 if resources is None else resources,
                       capacity=capacity, seed=seed, reserves=reserves, sellers=sellers)
    return _GENERATORS[name](bids=bids, bundles=bundles,
                             resources=(6 if name == "mmkp" else 2) if resources is None
                             else resources,
                             capacity=capacity, seed=seed, max_quantity=max_quantity,
                             reserves=reserves, sellers=sellers)
