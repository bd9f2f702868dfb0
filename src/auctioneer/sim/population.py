"""The agents of a run, drawn ahead from the scenario and the seed.

``count`` agent *slots* (the tick book's agent ids). Without churn each slot
holds one agent for the whole run; with churn a slot alternates between an
agent present for Exp(``lifetime_s``) and empty for Exp(``gap_s``), and
every arrival is a new agent with fresh valuations. Each agent (an
*incarnation*: one stay of one agent in one slot) gets its class's value
per CPU quantum and per GPU millisecond, and its job arrivals and sizes for
the time it is present. Slots are given to classes in order, in numbers
proportional to their shares (largest remainder).

Everything random is drawn here, from one numpy generator seeded by the run
seed, so the event loop itself draws nothing.

Example:
    >>> from auctioneer.sim.scenario import EXAMPLE, load_scenario
    >>> pop = draw_population(load_scenario(EXAMPLE), seed=1)
    >>> len(pop.slot_class), pop.slot_class[:6], len(pop.inc_value)
    (20, [0, 0, 0, 0, 0, 1], 20)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auctioneer.sim.distributions import draw
from auctioneer.sim.scenario import Scenario
from auctioneer.sim.workload import NS, arrivals

__all__ = ["Population", "class_counts", "draw_population"]


@dataclass(frozen=True, slots=True)
class Population:
    """Per slot: class and event times; per incarnation: values and where it lives."""

    slot_class: list[int]
    joins: list[list[int]]
    """Per slot, the times (ns) agents arrive."""
    leaves: list[list[int]]
    """Per slot, the times (ns) agents leave (before the run's end)."""
    jobs: list[list[int]]
    """Per slot, job arrival times (ns), over all its agents, sorted."""
    sizes: list[list[int]]
    """Per slot, each job's CPU quanta, aligned with ``jobs``."""
    incarnations: list[list[int]]
    """Per slot, its agents' incarnation ids in order of arrival."""
    inc_slot: list[int]
    inc_value: list[int]
    inc_gpu_value: list[int]


def class_counts(shares: list[float], count: int) -> list[int]:
    """Slots per class: ``count`` split by ``shares`` with the largest-remainder rule.

    Example:
        >>> class_counts([0.25, 0.75], 10), class_counts([1 / 3] * 3, 10)
        ([3, 7], [4, 3, 3])
    """
    exact = [s * count for s in shares]
    counts = [int(x) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: count - sum(counts)]:
        counts[i] += 1
    return counts


def _stays(rng: np.random.Generator, end: int, lifetime_s: float | None,
           gap_s: float) -> list[tuple[int, int]]:
    """``[join, leave)`` intervals of one slot's agents within ``[0, end)``."""
    if lifetime_s is None:
        return [(0, end)]
    present = rng.random() * (lifetime_s + gap_s) < lifetime_s
    stays: list[tuple[int, int]] = []
    time = 0
    while time < end:
        length = int(rng.exponential(lifetime_s if present else gap_s) * NS) + 1
        if present:
            stays.append((time, min(time + length, end)))
        time += length
        present = not present
    return stays


def draw_population(scenario: Scenario, seed: int) -> Population:
    """Every agent, valuation and job of a run. O(agents + jobs)."""
    rng = np.random.default_rng(seed)
    end = scenario.duration_ns
    agents = scenario.agents
    counts = class_counts([c.share for c in agents.classes], agents.count)
    slot_class = [c for c, n in enumerate(counts) for _ in range(n)]
    joins: list[list[int]] = []
    leaves: list[list[int]] = []
    jobs: list[list[int]] = []
    sizes: list[list[int]] = []
    incarnations: list[list[int]] = []
    inc_slot: list[int] = []
    inc_value: list[int] = []
    inc_gpu: list[int] = []
    for slot, c in enumerate(slot_class):
        kind = agents.classes[c]
        stays = _stays(rng, end, agents.lifetime_s, agents.gap_s)
        # Under fair share a value of 0 is an agent with no bid, which still runs.
        values = draw(kind.value, rng, len(stays),
                      low=0 if scenario.cpu.policy == "fair-share" else 1)
        gpu_values = draw(kind.gpu_value, rng, len(stays), low=0)
        times = [arrivals(kind.arrivals, rng, start, stop) for start, stop in stays]
        all_times = np.concatenate(times) if times else np.empty(0, dtype=np.int64)
        joins.append([start for start, _ in stays])
        leaves.append([stop for _, stop in stays if stop < end])
        jobs.append(all_times.tolist())
        sizes.append(draw(kind.quanta, rng, all_times.size).tolist())
        ids = list(range(len(inc_slot), len(inc_slot) + len(stays)))
        incarnations.append(ids)
        inc_slot.extend([slot] * len(stays))
        inc_value.extend(values.tolist())
        inc_gpu.extend(gpu_values.tolist())
    return Population(slot_class, joins, leaves, jobs, sizes, incarnations, inc_slot, inc_value,
                      inc_gpu)
