"""Stake-weighted books: an identity's chance to be drawn or served first is its locked stake.

The Sybil attack on a sampled book buys lottery tickets with identities; on
a FIFO tier it buys queue positions. Stake weighting prices both in
capital: every identity locks a stake, a sampled book draws live bids with
probability proportional to stake, and a tier serves its members in a
stake-weighted random order (Efraimidis and Spirakis' keys ``u ** (1/w)``)
instead of by arrival. An agent with capital C that splits it over k
identities gives each C/k, so its total weight -- and, for a sampled book,
its chance that at least one identity is drawn, ``1 - (1 - C/T) ** s`` --
does not depend on k. What splitting can still buy is shown by the Sybil
experiment's ``stake`` row (:mod:`auctioneer.incentives.sybil`).

Stakes are integers (units of locked capital); the draws use them exactly
(integer cumulative sums), the order uses float keys (ties have probability
zero). Complexity O(B (N + s log N)) for B auctions of N bidders.

Example:
    >>> import numpy as np
    >>> gen = np.random.default_rng(0)
    >>> stakes = np.array([[1, 0, 3, 0]])
    >>> stake_sample(gen, 3, stakes, np.ones((1, 4), dtype=bool)).tolist()
    [[False, False, True, False]]
    >>> sorted(stake_order(gen, np.array([[5, 5, 5]])).tolist()[0])
    [0, 1, 2]
"""

from __future__ import annotations

import numpy as np

from auctioneer.incentives.rules import Bools, Ints

__all__ = ["CAPITAL", "split_stakes", "stake_order", "stake_sample"]

CAPITAL = 840
"""Every bidder's capital in stake units: divisible by 1..8, so any split is exact."""


def split_stakes(rows: int, n: int, k: int, parts: int | None = None) -> Ints:
    """Stakes, shape (rows, n): columns 0..k-1 each lock 1/``parts`` (default 1/k) of one
    agent's capital; every other column locks a whole capital."""
    stakes = np.full((rows, n), CAPITAL, dtype=np.int64)
    stakes[:, :k] = CAPITAL // (k if parts is None else parts)
    return stakes


def stake_sample(gen: np.random.Generator, samples: int, stakes: Ints, present: Bools) -> Bools:
    """Which live bids a stake-weighted sampled book ranks: ``samples`` draws with replacement.

    Each draw picks a live bid with probability stake / total live stake. As
    the uniform book (:func:`~auctioneer.incentives.rules.draw_sample`), when
    the draws would cover every live bid it ranks them all.
    """
    weight = np.where(present, stakes, 0)
    cumulative = np.cumsum(weight, axis=1)
    total = cumulative[:, -1]
    tickets = gen.integers(0, np.maximum(total, 1)[:, None], size=(present.shape[0], samples))
    # The bid whose stake interval [cum - w, cum) holds the ticket.
    picked = np.minimum((cumulative[:, None, :] <= tickets[:, :, None]).sum(axis=2),
                        present.shape[1] - 1)
    mask = np.zeros_like(present)
    np.put_along_axis(mask, picked, True, axis=1)
    live = present.sum(axis=1)
    return np.where((samples >= live)[:, None], present, mask & present)


def stake_order(gen: np.random.Generator, stakes: Ints) -> Ints:
    """A stake-weighted random service order per row: arrival rank 0 = served first.

    Bidder i precedes j with probability stake_i / (stake_i + stake_j); a
    zero stake is served last.
    """
    u = gen.random(stakes.shape)
    with np.errstate(divide="ignore"):
        key = np.where(stakes > 0, np.log(u) / np.maximum(stakes, 1), -np.inf)
    order = np.argsort(-key, axis=1)
    return np.argsort(order, axis=1).astype(np.int64)
