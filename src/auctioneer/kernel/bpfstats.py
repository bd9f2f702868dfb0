"""Each sched_ext callback's own cost during ``perf bench sched pipe`` (``run.sh profile``).

The guest (``kernel/vm/bench.sh``) turns ``kernel.bpf_stats_enabled`` on,
reads every BPF program's ``run_cnt`` and ``run_time_ns`` (``bpftool -j prog
show``) before and after one pipe run under a scheduler, and writes both
reads into ``bpfstats-<scheduler>-<turn>.json`` with the run's loops (one
loop is one round trip: two messages, two wakeups). :func:`turn_costs` takes
one such file apart per callback (the scheduler's ``struct_ops`` programs,
matched by id, so a program of an earlier turn that lingers adds nothing):
calls per round trip and ns per call. :func:`summarise` gives each
scheduler's median over its turns. Under QEMU every ns is emulated guest
time, the stats' own two clock reads per call included for every scheduler
alike: a comparison between schedulers in one boot, not a hardware figure.

Example:
    >>> prog = {"id": 7, "type": "struct_ops", "name": "simple_enqueue"}
    >>> doc = {"scheduler": "scx_simple", "turn": 1, "loops": 100,
    ...        "before": [prog], "after": [dict(prog, run_cnt=150, run_time_ns=30000)]}
    >>> [(c.callback, c.calls_per_round_trip, c.ns_per_call) for c in turn_costs(doc)]
    [('enqueue', 1.5, 200.0)]
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CALLBACKS", "CallbackCost", "callback_of", "load_turns", "ops_name", "summarise",
           "turn_costs"]

CALLBACKS = ("select_cpu", "enqueue", "dequeue", "dispatch", "tick", "runnable", "running",
             "stopping", "quiescent", "yield", "core_sched_before", "set_weight",
             "set_cpumask", "update_idle", "cpu_acquire", "cpu_release", "init_task",
             "exit_task", "enable", "disable", "dump", "cgroup_init", "cgroup_exit",
             "cgroup_prep_move", "cgroup_move", "cgroup_cancel_move", "cgroup_set_weight",
             "cpu_online", "cpu_offline", "init", "exit")
"""sched_ext_ops' callbacks (kernel 7.2), the names a program's name is cut from."""


@dataclass(frozen=True, slots=True)
class CallbackCost:
    """One callback of one scheduler over pipe: one turn, or the median over turns."""

    scheduler: str
    callback: str
    calls_per_round_trip: float
    ns_per_call: float
    """Guest-clock (emulated) ns per call; nan when it was not called."""
    ns_per_round_trip: float
    turns: int = 1


def ops_name(scheduler: str) -> str:
    """The ``sched_ext_ops`` name a scheduler registers: its programs' prefix.

    ``auction``, ``auction:KNOB=V`` and ``auction@REV`` are builds of
    ``auction``; ``scx_simple`` registers ``simple``.
    """
    base = scheduler.split(":", 1)[0].split("@", 1)[0]
    return base.removeprefix("scx_")


def callback_of(prog_name: str, ops: str) -> str | None:
    """The callback a program of scheduler ``ops`` implements, or None if not its own.

    The kernel keeps 15 characters of a program's name (``auction_select_``
    for ``auction_select_cpu``): an exact name wins, else the one callback
    the cut name begins; a cut that several begin keeps the cut name.
    """
    prefix = ops + "_"
    if not prog_name.startswith(prefix):
        return None
    rest = prog_name.removeprefix(prefix)
    if rest in CALLBACKS:
        return rest
    begun = [c for c in CALLBACKS if c.startswith(rest)]
    return begun[0] if len(begun) == 1 else rest


def _runs(progs: Iterable[Mapping[str, Any]], ops: str) -> dict[int, tuple[str, int, int]]:
    """Per program id of scheduler ``ops``: its callback, run count and run time."""
    out = {}
    for p in progs:
        callback = callback_of(str(p.get("name", "")), ops)
        if p.get("type") != "struct_ops" or callback is None:
            continue
        out[int(p["id"])] = (callback, int(p.get("run_cnt", 0)), int(p.get("run_time_ns", 0)))
    return out


def turn_costs(doc: Mapping[str, Any]) -> list[CallbackCost]:
    """One turn's callbacks that ran during pipe, in :data:`CALLBACKS` order.

    bpftool leaves ``run_cnt`` out of a program that never ran: it counts as 0.
    """
    scheduler = str(doc["scheduler"])
    loops = int(doc["loops"])
    if loops <= 0:
        raise ValueError(f"{scheduler} turn {doc.get('turn')}: loops must be positive, got {loops}")
    ops = ops_name(scheduler)
    before = _runs(doc["before"], ops)
    calls: dict[str, int] = {}
    ns: dict[str, int] = {}
    for pid, (callback, cnt, time_ns) in _runs(doc["after"], ops).items():
        _, cnt0, time0 = before.get(pid, (callback, 0, 0))
        calls[callback] = calls.get(callback, 0) + cnt - cnt0
        ns[callback] = ns.get(callback, 0) + time_ns - time0
    order = {c: i for i, c in enumerate(CALLBACKS)}
    return [CallbackCost(scheduler, c, calls[c] / loops, ns[c] / calls[c], ns[c] / loops)
            for c in sorted(calls, key=lambda c: (order.get(c, len(order)), c)) if calls[c]]


def load_turns(paths: Sequence[Path]) -> list[list[CallbackCost]]:
    """Each file's callbacks (:func:`turn_costs`); a file that is not one names itself."""
    out = []
    for path in paths:
        try:
            out.append(turn_costs(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: {exc!r}") from None
    return out


def summarise(turns: Iterable[Sequence[CallbackCost]]) -> list[CallbackCost]:
    """Per scheduler and callback, the median over the turns (a turn without a call counts 0).

    ``all`` sums a turn's callbacks: BPF ns and calls per round trip.
    """
    by_sched: dict[str, list[dict[str, CallbackCost]]] = {}
    for turn in turns:
        if turn:
            by_sched.setdefault(turn[0].scheduler, []).append({c.callback: c for c in turn})
    out = []
    for scheduler, mine in by_sched.items():
        names = list(dict.fromkeys(c for t in mine for c in t))
        for name in [*names, "all"]:
            calls = [sum(c.calls_per_round_trip for c in t.values()) if name == "all"
                     else t[name].calls_per_round_trip if name in t else 0.0 for t in mine]
            per_rt = [sum(c.ns_per_round_trip for c in t.values()) if name == "all"
                      else t[name].ns_per_round_trip if name in t else 0.0 for t in mine]
            per_call = [r / c for r, c in zip(per_rt, calls, strict=True) if c]
            out.append(CallbackCost(scheduler, name, statistics.median(calls),
                                    statistics.median(per_call) if per_call else float("nan"),
                                    statistics.median(per_rt), len(mine)))
    return out
