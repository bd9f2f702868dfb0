"""The sched_ext scheduler in ``kernel/`` builds for the BPF target and says what it should.

This machine's kernel has no sched_ext; loading it, the verifier's
processed-instruction counts and the workloads are ``make scx-vm-test``
(``kernel/vm/``, a real kernel under QEMU). Here, without a kernel:

* ``make -C kernel`` compiles ``scx_auction.bpf.c`` with clang for the BPF
  target, for kernels >= 6.13 and for 6.12 (the DSQ kfuncs' older names);
* the object has one program section per sched_ext callback, the sleepable
  init, the ``.struct_ops.link`` scheduler map, the maps and BTF
  (``llvm-objdump -h``), and its BTF declares ``struct sched_ext_ops``, the
  ``auction_ops`` variable, the kfuncs it calls, and full structs (not
  forward declarations) for what kfuncs take by pointer;
* the value layouts and rodata defaults in the BTF equal the ones
  :mod:`auctioneer.kernel.layout` packs.

Each test is skipped, naming the missing tool, when clang, the libbpf headers,
llvm-objdump, bpftool or make are absent.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from struct import Struct

import pytest

from auctioneer.kernel import layout

from ..tick.native_build import run

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "kernel"

CLANG = shutil.which("clang")
MAKE = shutil.which("make")
OBJDUMP = shutil.which("llvm-objdump")
BPFTOOL = shutil.which("bpftool") or next(
    (p for p in ("/usr/sbin/bpftool", "/sbin/bpftool") if Path(p).exists()), None
)
LIBBPF_HEADER = Path("/usr/include/bpf/bpf_helpers.h")

CALLBACKS = ("select_cpu", "enqueue", "dispatch", "running", "stopping", "init_task", "enable",
             "cgroup_move", "exit")
MAPS = ("auc_bids", "auc_bids_gen", "auc_price_page", "auc_last_page", "auc_stats",
        "auc_accounts", "auc_exit", "auc_task_ctxs")
KFUNCS = {
    "6.13": ("scx_bpf_dsq_insert", "scx_bpf_dsq_insert_vtime", "scx_bpf_dsq_move_to_local"),
    "6.12": ("scx_bpf_dispatch", "scx_bpf_dispatch_vtime", "scx_bpf_consume"),
}
COMMON_KFUNCS = ("scx_bpf_create_dsq", "scx_bpf_select_cpu_dfl", "scx_bpf_pick_idle_cpu",
                 "scx_bpf_kick_cpu")
# Optional: the queue's head and a task's slice (both 6.19).
WEAK_KFUNCS = ("scx_bpf_dsq_peek", "scx_bpf_task_set_slice")

needs_build = pytest.mark.skipif(
    CLANG is None or MAKE is None or not LIBBPF_HEADER.exists(),
    reason="needs clang, make and libbpf's headers (/usr/include/bpf; Debian: clang llvm "
    "libbpf-dev) to build the BPF object",
)


def _build(tmp_path: Path, kernel: str) -> Path:
    assert MAKE is not None
    built = run([MAKE, "-s", "-C", str(KERNEL), f"BUILD={tmp_path}", f"KERNEL={kernel}"])
    assert built.returncode == 0, f"BPF build failed:\n{built.stdout}\n{built.stderr}"
    obj = tmp_path / "scx_auction.bpf.o"
    assert obj.is_file()
    return obj


@pytest.fixture(scope="module", params=sorted(KFUNCS))
def bpf_object(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[str, Path]:
    if CLANG is None or MAKE is None or not LIBBPF_HEADER.exists():
        pytest.skip("needs clang, make and libbpf's headers (/usr/include/bpf; Debian: clang "
                    "llvm libbpf-dev) to build the BPF object")
    kernel = str(request.param)
    return kernel, _build(tmp_path_factory.mktemp(f"bpf-{kernel}"), kernel)


@needs_build
def test_object_is_bpf(bpf_object: tuple[str, Path]) -> None:
    """clang wrote a 64-bit BPF ELF object."""
    _, obj = bpf_object
    head = obj.read_bytes()[:20]
    assert head[:4] == b"\x7fELF" and head[4] == 2  # ELFCLASS64
    assert int.from_bytes(head[18:20], "little") == 247  # EM_BPF


@pytest.mark.skipif(OBJDUMP is None, reason="llvm-objdump is not installed (Debian: llvm)")
def test_sections(bpf_object: tuple[str, Path]) -> None:
    """One program section per callback, the sleepable init, the scheduler map, maps, BTF."""
    assert OBJDUMP is not None
    _, obj = bpf_object
    listed = run([OBJDUMP, "-h", str(obj)])
    assert listed.returncode == 0, listed.stderr
    sections = set(re.findall(r"^\s*\d+\s+(\S+)", listed.stdout, re.MULTILINE))
    wanted = {f"struct_ops/auction_{name}" for name in CALLBACKS}
    wanted |= {"struct_ops.s/auction_init", ".struct_ops.link", ".maps", "license", ".BTF",
               ".BTF.ext", ".rodata"}
    assert wanted <= sections, f"missing sections: {sorted(wanted - sections)}"


@pytest.mark.skipif(BPFTOOL is None, reason="bpftool is not installed (Debian: bpftool)")
def test_btf_declares_the_scheduler(bpf_object: tuple[str, Path]) -> None:
    """BTF: the struct_ops type and variable, the maps, the kfuncs as .ksyms, the layouts."""
    assert BPFTOOL is not None
    kernel, obj = bpf_object
    dumped = run([BPFTOOL, "btf", "dump", "file", str(obj)])
    assert dumped.returncode == 0, dumped.stderr
    btf = dumped.stdout
    assert re.search(r"STRUCT 'sched_ext_ops' size=\d+", btf)
    link = re.search(r"DATASEC '\.struct_ops\.link'.*?\n((?:\t.*\n)+)", btf)
    assert link and "VAR 'auction_ops'" in link.group(1)
    for name in MAPS:
        assert f"VAR '{name}'" in btf, name
    ksyms = re.search(r"DATASEC '\.ksyms'.*?\n((?:\t.*\n)+)", btf)
    assert ksyms is not None
    for name in (*COMMON_KFUNCS, *KFUNCS[kernel]):
        assert f"FUNC '{name}'" in ksyms.group(1), name
    sizes = {"scx_auction_bid": 24, "scx_price_page": 128, "scx_auction_account": 40,
             "scx_auction_stats": layout.STATS_SIZE, "scx_auction_exit": 400}
    for struct, size in sizes.items():
        assert f"STRUCT '{struct}' size={size} " in btf, struct
    # libbpf matches kfunc arguments by kind: a forward declaration fails the load.
    assert "STRUCT 'cpumask'" in btf and "FWD 'cpumask'" not in btf


@pytest.mark.skipif(BPFTOOL is None, reason="bpftool is not installed (Debian: bpftool)")
def test_stats_members_are_layouts_fields_in_order(bpf_object: tuple[str, Path]) -> None:
    """The stats struct's members are layout's counters by name and offset, then the histogram:
    the struct's size alone passes a layout with two counters swapped, which
    ``unpack_stats`` would then misread (``max_wait_ns`` feeds the starvation check)."""
    assert BPFTOOL is not None
    _, obj = bpf_object
    btf = run([BPFTOOL, "btf", "dump", "file", str(obj)]).stdout
    body = re.search(r"STRUCT 'scx_auction_stats' size=\d+ vlen=\d+\n((?:\t.*\n)+)", btf)
    assert body is not None
    members = re.findall(r"'(\w+)' type_id=\d+ bits_offset=(\d+)", body.group(1))
    want = [(name, str(64 * i)) for i, name in enumerate(layout._STATS_FIELDS)]
    assert members[:len(want)] == want
    assert members[len(want):] == [("delay_hist", str(64 * len(want)))]


def test_unpack_stats_sums_cpus_and_takes_the_longest_wait() -> None:
    """Two CPUs' blobs: every counter and histogram bucket summed, ``max_wait_ns`` the larger."""
    fields = layout._STATS_FIELDS
    blob = Struct(f"<{len(fields) + layout.DELAY_BUCKETS}Q")
    # distinct per field and CPU, so a shifted field or a dropped CPU shows
    cpu0 = [1000 + i for i in range(len(fields))] + [10 + b for b in range(layout.DELAY_BUCKETS)]
    cpu1 = [2000 * (i + 1) for i in range(len(fields))] + list(range(layout.DELAY_BUCKETS))
    wait = fields.index("max_wait_ns")
    cpu0[wait], cpu1[wait] = 7_000_000, 5_000_000
    stats = layout.unpack_stats([blob.pack(*cpu0), blob.pack(*cpu1)])
    assert list(stats.counters) == list(fields)
    for i, name in enumerate(fields):
        want = 7_000_000 if name == "max_wait_ns" else cpu0[i] + cpu1[i]
        assert stats.counters[name] == want, name
    assert stats.delay_hist == tuple(10 + 2 * b for b in range(layout.DELAY_BUCKETS))
    assert layout.unpack_stats([]).counters == dict.fromkeys(fields, 0)


@pytest.mark.skipif(OBJDUMP is None, reason="llvm-objdump is not installed (Debian: llvm)")
def test_newer_kfuncs_are_weak(bpf_object: tuple[str, Path]) -> None:
    """The kfuncs newer than 6.13 are weak symbols, so the object still loads on a kernel
    without them (each call site checks bpf_ksym_exists), and the others are strong."""
    assert OBJDUMP is not None
    kernel, obj = bpf_object
    listed = run([OBJDUMP, "-t", str(obj)])
    assert listed.returncode == 0, listed.stderr
    binding = {name: flags.strip() for flags, name in
               re.findall(r"^[0-9a-f]+ (.{7}) \*UND\*\s+[0-9a-f]+ (\w+)$", listed.stdout, re.M)}
    for name in WEAK_KFUNCS:
        assert binding.get(name) == "w", name
    for name in (*COMMON_KFUNCS, *KFUNCS[kernel]):
        assert binding.get(name) == "", name


def test_rodata_defaults_match_userspace() -> None:
    """The scheduler's rodata defaults are the constants the userspace model uses."""
    source = (KERNEL / "scx_auction.bpf.c").read_text()
    defaults = dict(re.findall(r"const volatile \w+ (\w+) = (\d+);", source))
    assert int(defaults["quantum_ns"]) == layout.QUANTUM_NS
    assert int(defaults["max_units"]) == layout.MAX_UNITS
    assert int(defaults["free_weight"]) == layout.FREE_WEIGHT
    assert int(defaults["max_bid"]) == layout.MAX_BID
    assert int(defaults["lag_ns"]) == layout.LAG_NS
    assert int(defaults["bank_ns"]) == layout.BANK_NS
    assert int(defaults["budget_period_ns"]) == layout.BUDGET_PERIOD_NS
    # a task with no bid runs max_units quanta a slice, as the simulator's policy does
    free_units = re.search(r"#define SCX_AUCTION_FREE_UNITS (\d+)", source)
    assert free_units and int(free_units.group(1)) == layout.MAX_UNITS


def test_knob_defaults_agree() -> None:
    """The Makefile passes every A/B knob, so its defaults are what ships: they must be the
    source's own fallbacks, which a build without the Makefile (and the README) describes."""
    source = (KERNEL / "scx_auction.bpf.c").read_text()
    makefile = (KERNEL / "Makefile").read_text()
    knobs = dict(re.findall(r"^(KICK|MIN_UNITS|FREE_UNITS|KTHREADS|HANDOFF|PAIR) \?= (\d+)$",
                            makefile, re.M))
    assert set(knobs) == {"KICK", "MIN_UNITS", "FREE_UNITS", "KTHREADS", "HANDOFF", "PAIR"}
    for knob, value in knobs.items():
        fallback = re.search(rf"#define SCX_AUCTION_{knob} (\d+)", source)
        assert fallback, knob
        assert fallback.group(1) == value, knob
        assert f"-DSCX_AUCTION_{knob}=$({knob})" in makefile, knob
