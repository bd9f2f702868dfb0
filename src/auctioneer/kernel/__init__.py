"""The market in the kernel: drive ``kernel/scx_auction.bpf.c`` (sched_ext) from user space.

* :mod:`~auctioneer.kernel.layout` -- the BPF maps' value layouts and the scheduler's constants.
* :mod:`~auctioneer.kernel.bids` -- bids and budgets for processes or cgroups from YAML, checked.
* :mod:`~auctioneer.kernel.bpftool` -- bpftool as the loader and map client (why: its doc).
* :mod:`~auctioneer.kernel.scheduler` -- load, unload, bids, accounts, counters, exit reason.
* :mod:`~auctioneer.kernel.pricepage` -- the price page under its seqlock, thermal multiplier.
* :mod:`~auctioneer.kernel.predict` -- a mix of bid classes as ``auctioneer simulate``'s
  scenario, and what the simulator predicts for it.
* :mod:`~auctioneer.kernel.experiment` -- bid classes and starvation on the loaded scheduler.
* :mod:`~auctioneer.kernel.benchreport` -- the VM benchmark against scx_simple, summarised.

Example:
    >>> from auctioneer.kernel import TaskClass, predict
    >>> mix = [TaskClass("a", 30_000, 1), TaskClass("b", 0, 1)]
    >>> [round(r.share, 2) for r in predict(mix, cpus=1, seconds=2.0)]
    [0.8, 0.2]
"""

from auctioneer.kernel.bids import CGROUP_ROOT, BidFileError, BidSpec, load_bids, parse_bids
from auctioneer.kernel.bpftool import Bpftool, BpftoolError, find_bpftool
from auctioneer.kernel.experiment import Mix, MixRow, run_mix, run_starve
from auctioneer.kernel.layout import (
    FREE_WEIGHT,
    MAX_BID,
    MAX_UNITS,
    QUANTUM_NS,
    Account,
    Bid,
    ExitInfo,
    Stats,
    wait_bound_ns,
)
from auctioneer.kernel.predict import (
    ClassResult,
    Prediction,
    TaskClass,
    load_mix,
    load_prediction,
    mix_scenario,
    predict,
)
from auctioneer.kernel.pricepage import publish, thermal_multiplier_ppm
from auctioneer.kernel.scheduler import (
    PIN_ROOT,
    SchedExtError,
    Scheduler,
    Verified,
    sched_ext_state,
)

__all__ = [
    "CGROUP_ROOT",
    "FREE_WEIGHT",
    "MAX_BID",
    "MAX_UNITS",
    "PIN_ROOT",
    "Prediction",
    "QUANTUM_NS",
    "Account",
    "Bid",
    "BidFileError",
    "BidSpec",
    "Bpftool",
    "BpftoolError",
    "ClassResult",
    "ExitInfo",
    "Mix",
    "MixRow",
    "SchedExtError",
    "Scheduler",
    "Stats",
    "TaskClass",
    "Verified",
    "find_bpftool",
    "load_bids",
    "load_mix",
    "load_prediction",
    "mix_scenario",
    "parse_bids",
    "predict",
    "publish",
    "run_mix",
    "run_starve",
    "sched_ext_state",
    "thermal_multiplier_ppm",
    "wait_bound_ns",
]
