"""The scheduler policy's simulator sweeps behind kernel/README.md's "Budget windows" figures.

``python -m tools.fairshare_sweep sweep --cores 2 --budgets with --mixes 160 --seed 1
[--rule cut|bank] [--windows 12]``: random class mixes (1-4 classes of 1-3 always-busy
agents, bids from 0 to 400,000, budgets of 0, 20 M or 100 M a window), each run for
``windows`` budget windows on :class:`~auctioneer.sim.fairshare.FairShare`; prints how many
mixes have a class more than 2 points off the fluid model's share, and the worst mix.
``--budgets with`` keeps only mixes where some class has a budget, ``none`` drops every
budget, ``any`` keeps what was drawn; ``--mixes`` counts the mixes kept.

``python -m tools.fairshare_sweep steal --p 0.2 --stretch 20 [--rule cut|bank]
[--mix kernel/vm/mix.yaml] [--windows 30] [--seed 7]``: a crude model of the emulator's
stolen time in the kernel's mix. With probability ``p`` a slice is stretched by
``stretch`` quanta that count as run time (the task's schedstat), while the scheduler's
``charge`` moves its tag by at most ``max_units`` quanta a slice. Prints each class's share;
``--p 0`` is the model without steal.

``--rule bank`` is the rule before the window cut (7cb9d5e): a slice end keeps ``bank_ns``
in every window, for the A/B. The same seed gives the same mixes under both rules.
O(mixes x windows x 1000 x agents log agents).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

from rich.progress import track

from auctioneer.kernel import load_mix
from auctioneer.sim.fairshare import FairShare, FairSharePolicy, fluid
from auctioneer.tick import Outcome

Q = 1_000_000
POLICY = FairSharePolicy()
BIDS = (0, 1, 5_000, 30_000, 100_000, 310_000, 400_000)
BUDGETS = (0, 0, 20_000_000, 100_000_000)
MIX = Path(__file__).resolve().parents[1] / "kernel" / "vm" / "mix.yaml"

Class = tuple[int, int, int]
"""A class: bid, budget per agent and window, agents."""


def _scheduler(agents: int, rule: str) -> FairShare:
    fs = FairShare(agents, POLICY, Q)
    if rule == "bank":
        s = fs._s  # the ablation replaces one rule of this run's state, nothing shared
        s.rebank = lambda agent, now: s.clamp(agent, s.policy.bank_ns)  # type: ignore[method-assign]
    for a in range(agents):
        fs.join(a)
    return fs


def _shares(fs: FairShare, owner: Sequence[int], classes: int, cores: int, ticks: int,
            bids: Sequence[int], budgets: Sequence[int], units: Sequence[int]) -> list[float]:
    won = [0] * classes
    for t in range(ticks):
        for w in fs.tick(t * Q, cores, 0, bids, budgets, units).winners:
            won[owner[w]] += 1
    return [w / (ticks * cores) for w in won]


def worst_error(classes: Sequence[Class], cores: int, windows: int, rule: str) -> float:
    """The largest gap, as a fraction of all cores, between a class's share and fluid's."""
    owner = [k for k, (_, _, n) in enumerate(classes) for _ in range(n)]
    bids = [classes[k][0] for k in owner]
    budgets = [classes[k][1] for k in owner]
    ticks = windows * POLICY.window_ns // Q
    got = _shares(_scheduler(len(owner), rule), owner, len(classes), cores, ticks, bids,
                  budgets, [1] * len(owner))
    want, _ = fluid([b for b, _, _ in classes], [g for _, g, _ in classes],
                    [n for *_, n in classes], cores, POLICY)
    return max(abs(g - w) for g, w in zip(got, want, strict=True))


def draw_mixes(seed: int, count: int, budgets: str) -> list[list[Class]]:
    """``count`` random mixes kept by the ``budgets`` filter (with, none, any)."""
    rng, out = random.Random(seed), list[list[Class]]()
    while len(out) < count:
        mix = [(rng.choice(BIDS), rng.choice(BUDGETS), rng.randint(1, 3))
               for _ in range(rng.randint(1, 4))]
        if budgets == "none":
            mix = [(b, 0, n) for b, _, n in mix]
        if budgets != "with" or any(g for _, g, _ in mix):
            out.append(mix)
    return out


def sweep(args: argparse.Namespace) -> None:
    mixes = draw_mixes(args.seed, args.mixes, args.budgets)
    errors = [(worst_error(m, args.cores, args.windows, args.rule), m)
              for m in track(mixes, description=f"{args.rule}, {args.cores} cores")]
    worst, mix = max(errors, key=lambda e: e[0])
    print(f"rule {args.rule}, {args.cores} cores, budgets {args.budgets}, seed {args.seed}: "
          f"{len(errors)} mixes, {sum(e > 0.02 for e, _ in errors)} over 2 points, "
          f"worst {100 * worst:.2f} points: (bid, budget, agents) {mix}")


def steal(args: argparse.Namespace) -> None:
    cpus, classes = load_mix(args.mix)
    owner = [k for k, c in enumerate(classes) for _ in range(c.tasks)]
    fs = _scheduler(len(owner), args.rule)
    s, rng = fs._s, random.Random(args.seed)
    charged = [0] * len(owner)  # quanta run since the slice started
    start, run_quantum = s.start, s.run_quantum

    def stretched_start(agent: int, now: int, reserve: int, bid: int, budget: int,
                        units: int) -> None:
        start(agent, now, reserve, bid, budget, units)
        charged[agent] = 0
        if rng.random() < args.p:
            s.slice_left[agent] += args.stretch

    def capped_quantum() -> Outcome:
        out = run_quantum()
        for a in out.winners:
            charged[a] += 1
            if charged[a] > POLICY.max_units:  # charge() stops there: take the step back
                s.tag[a] -= Q * POLICY.free_weight // s.weight[a]
        return out

    s.start, s.run_quantum = stretched_start, capped_quantum  # type: ignore[method-assign]
    got = _shares(fs, owner, len(classes), cpus, args.windows * POLICY.window_ns // Q,
                  [classes[k].price for k in owner],
                  [classes[k].budget // classes[k].tasks for k in owner],
                  [classes[k].units for k in owner])
    print(f"rule {args.rule}, p {args.p}, stretch {args.stretch}, seed {args.seed}: " +
          ", ".join(f"{c.name} {100 * g:.2f} %" for c, g in zip(classes, got, strict=True)))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.fairshare_sweep",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("sweep", "steal"):
        p = sub.add_parser(name)
        p.add_argument("--rule", choices=("cut", "bank"), default="cut")
    sw = sub.choices["sweep"]
    sw.add_argument("--cores", type=int, choices=(1, 2), default=2)
    sw.add_argument("--budgets", choices=("with", "none", "any"), default="with")
    sw.add_argument("--mixes", type=int, default=160)
    sw.add_argument("--seed", type=int, default=1)
    sw.add_argument("--windows", type=int, default=12)
    sw.set_defaults(run=sweep)
    stl = sub.choices["steal"]
    stl.add_argument("--p", type=float, default=0.2)
    stl.add_argument("--stretch", type=int, default=20)
    stl.add_argument("--mix", type=Path, default=MIX)
    stl.add_argument("--windows", type=int, default=30)
    stl.add_argument("--seed", type=int, default=7)
    stl.set_defaults(run=steal)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
