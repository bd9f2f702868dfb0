"""Load, drive and unload ``kernel/scx_auction.bpf.o`` on the running kernel.

The scheduler's link is pinned under ``/sys/fs/bpf/auctioneer/link`` (removing
the pin unregisters it) and its maps under ``/sys/fs/bpf/auctioneer/<map>``,
so separate ``auctioneer kernel`` invocations share one loaded scheduler.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auctioneer.checks import require_int
from auctioneer.kernel.bids import BidSpec
from auctioneer.kernel.bpfsys import prog_info
from auctioneer.kernel.bpftool import Bpftool
from auctioneer.kernel.layout import (
    STATS_SIZE,
    Account,
    ExitInfo,
    Stats,
    pack_bid,
    page_reserve,
    unpack_account,
    unpack_exit,
    unpack_stats,
)

__all__ = ["PIN_ROOT", "SCHED_EXT", "SchedExtError", "Scheduler", "Verified", "sched_ext_state"]

PIN_ROOT = Path("/sys/fs/bpf/auctioneer")
SCHED_EXT = Path("/sys/kernel/sched_ext")
MAPS = ("auc_bids", "auc_bids_gen", "auc_price_page", "auc_stats", "auc_accounts", "auc_exit")
_ZERO = bytes(4)


class SchedExtError(RuntimeError):
    """The kernel cannot run a sched_ext scheduler now (the message says why)."""


def sched_ext_state() -> str:
    """``enabled``/``disabled``/... from sysfs; raises if the kernel has no sched_ext."""
    state = SCHED_EXT / "state"
    if not state.exists():
        release = Path("/proc/sys/kernel/osrelease")
        kernel = release.read_text().strip() if release.exists() else "?"
        raise SchedExtError(f"this kernel ({kernel}) has no sched_ext: {state} is missing; it "
                            "needs CONFIG_SCHED_CLASS_EXT=y (Linux >= 6.12), see kernel/README.md")
    return state.read_text().strip()


@dataclass(frozen=True, slots=True)
class Verified:
    """One loaded program and the instructions the verifier processed for it."""

    name: str
    verified_insns: int
    xlated_bytes: int


class Scheduler:
    """The scheduler as loaded (or about to be) through ``bpftool``, with pinned maps."""

    def __init__(self, bpftool: Bpftool | None = None, root: Path = PIN_ROOT) -> None:
        self.bpftool = bpftool or Bpftool()
        self.root = root

    @property
    def link_dir(self) -> Path:
        return self.root / "link"

    def pin(self, name: str) -> Path:
        return self.root / name

    def loaded(self) -> bool:
        return self.link_dir.exists()

    def load(self, obj: Path, bids: Sequence[BidSpec] = ()) -> list[Verified]:
        """Register the scheduler, pin its maps, write ``bids``; unload again if any step fails."""
        state = sched_ext_state()
        if state != "disabled" or self.loaded():
            ops = (SCHED_EXT / "root" / "ops")
            running = ops.read_text().strip() if ops.exists() else "?"
            raise SchedExtError(f"a sched_ext scheduler is already {state} ({running}); "
                                "unload it first (auctioneer kernel unload)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.link_dir.mkdir(exist_ok=True)
        try:
            self.bpftool.register(obj, self.link_dir)
            progs = self._our_progs()
            names = {m["id"]: m.get("name", "") for m in self.bpftool.maps()}
            ids = {names[i]: i for p in progs for i in p.get("map_ids", []) if i in names}
            for name in MAPS:
                if name not in ids:
                    raise SchedExtError(f"map {name} not found after loading {obj}")
                self.bpftool.pin_map(ids[name], self.pin(name))
            self.set_bids(bids)
            if sched_ext_state() != "enabled":
                raise SchedExtError(f"scheduler registered but sched_ext is {sched_ext_state()}")
        except BaseException:
            self.unload()
            raise
        return [Verified(p["name"], prog_info(int(p["id"])).verified_insns,
                         int(p.get("bytes_xlated", 0))) for p in progs]

    def _our_progs(self) -> list[dict[str, Any]]:
        progs = [p for p in self.bpftool.progs()
                 if p.get("type") == "struct_ops" and str(p.get("name", "")).startswith("auction_")]
        newest: dict[str, dict[str, Any]] = {}
        for p in progs:  # after a reload, older programs may linger until freed
            name = str(p["name"])
            if name not in newest or int(p["id"]) > int(newest[name]["id"]):
                newest[name] = p
        return sorted(newest.values(), key=lambda p: str(p["name"]))

    def unload(self) -> None:
        """Unregister (drop the link pin) and remove the map pins; fine when not loaded."""
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def set_bids(self, bids: Sequence[BidSpec]) -> None:
        for seq, spec in enumerate(bids, start=1):
            self.bpftool.update(self.pin("auc_bids"), spec.key.to_bytes(8, "little"),
                                pack_bid(spec.bid, seq))
        self._new_generation()

    def clear_bids(self, bids: Sequence[BidSpec]) -> None:
        for spec in bids:
            self.bpftool.delete(self.pin("auc_bids"), spec.key.to_bytes(8, "little"))
        self._new_generation()

    def _new_generation(self) -> None:
        """Tell the scheduler the bids changed, after the change: a task priced with no bid
        keeps that pricing until the generation moves (kernel/scx_auction.bpf.c, bids_gen)."""
        gen = require_int(time.time_ns(), "bids generation", 1, 2**63 - 1)
        self.bpftool.update(self.pin("auc_bids_gen"), _ZERO, gen.to_bytes(8, "little"))

    def reset_stats(self) -> None:
        """Zero every CPU's counters (bpftool writes one value to all CPUs)."""
        self.bpftool.update(self.pin("auc_stats"), _ZERO, bytes(STATS_SIZE))

    def accounts(self) -> dict[int, Account]:
        return {int.from_bytes(k, "little"): unpack_account(v)
                for k, v in self.bpftool.dump(self.pin("auc_accounts"))}

    def stats(self) -> Stats:
        return unpack_stats(self.bpftool.lookup_percpu(self.pin("auc_stats"), _ZERO))

    def reserve(self) -> int:
        """The reserve the scheduler applies now: cpu_price x cpu_multiplier of the price page."""
        blob = self.bpftool.lookup(self.pin("auc_price_page"), _ZERO)
        return 0 if blob is None else page_reserve(blob)

    def exit_info(self) -> ExitInfo | None:
        blob = self.bpftool.lookup(self.pin("auc_exit"), _ZERO)
        return None if blob is None else unpack_exit(blob)
