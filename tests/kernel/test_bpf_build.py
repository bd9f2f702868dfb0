"""The sched_ext prototype in ``kernel/`` builds for the BPF target and says what it should.

This machine cannot load it (its kernel has no sched_ext), so the tests check
everything short of loading:

* ``make -C kernel`` compiles ``scx_auction.bpf.c`` with clang for the BPF
  target, for kernels >= 6.13 and for 6.12 (the DSQ kfuncs' older names);
* the object has one program section per sched_ext callback, the sleepable
  init, the ``.struct_ops.link`` scheduler map, the maps and BTF
  (``llvm-objdump -h``), and its BTF declares ``struct sched_ext_ops``, the
  ``auction_ops`` variable and the kfuncs it calls (``bpftool btf dump``);
* every program is far under the verifier's 4096-instruction classic limit;
* on the host, the shared headers have the userspace layouts (static
  assertions against ``ring.h`` and ``tick_core.h``) and the scheduler's
  price-to-tier arithmetic equals :class:`auctioneer.tick.TierMap` on every
  tier boundary of several maps.

Each test is skipped, naming the missing tool, when clang, the libbpf headers,
llvm-objdump, bpftool, make or gcc are absent.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tools.docs import count_instructions

from auctioneer.tick import TierMap

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "kernel"
TICK = ROOT / "src" / "auctioneer" / "tick"
HOST_DRIVER = Path(__file__).with_name("tiermap_host.c")

CLANG = shutil.which("clang")
MAKE = shutil.which("make")
OBJDUMP = shutil.which("llvm-objdump")
BPFTOOL = shutil.which("bpftool") or next(
    (p for p in ("/usr/sbin/bpftool", "/sbin/bpftool") if Path(p).exists()), None
)
GCC = shutil.which("gcc")
LIBBPF_HEADER = Path("/usr/include/bpf/bpf_helpers.h")

CALLBACKS = ("select_cpu", "enqueue", "dispatch", "running", "stopping", "init_task")
MAPS = ("bids", "price_page", "tier_bits", "last_page", "stats", "accounts", "task_ctxs")
KFUNCS = {
    "6.13": ("scx_bpf_dsq_insert", "scx_bpf_dsq_move_to_local"),
    "6.12": ("scx_bpf_dispatch", "scx_bpf_consume"),
}
COMMON_KFUNCS = ("scx_bpf_create_dsq", "scx_bpf_dsq_nr_queued", "scx_bpf_select_cpu_dfl")
MAX_INSNS = 4096

needs_build = pytest.mark.skipif(
    CLANG is None or MAKE is None or not LIBBPF_HEADER.exists(),
    reason="needs clang, make and libbpf's headers (/usr/include/bpf; Debian: clang llvm "
    "libbpf-dev) to build the BPF object",
)


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          **kwargs)  # type: ignore[call-overload]


def _build(tmp_path: Path, kernel: str) -> Path:
    assert MAKE is not None
    built = _run([MAKE, "-s", "-C", str(KERNEL), f"BUILD={tmp_path}", f"KERNEL={kernel}"])
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
    listed = _run([OBJDUMP, "-h", str(obj)])
    assert listed.returncode == 0, listed.stderr
    sections = set(re.findall(r"^\s*\d+\s+(\S+)", listed.stdout, re.MULTILINE))
    wanted = {f"struct_ops/auction_{name}" for name in CALLBACKS}
    wanted |= {"struct_ops.s/auction_init", ".struct_ops.link", ".maps", "license", ".BTF",
               ".BTF.ext", ".rodata"}
    assert wanted <= sections, f"missing sections: {sorted(wanted - sections)}"


@pytest.mark.skipif(OBJDUMP is None, reason="llvm-objdump is not installed (Debian: llvm)")
def test_programs_are_small(bpf_object: tuple[str, Path]) -> None:
    """Every callback is a few hundred instructions: far from any verifier limit."""
    assert OBJDUMP is not None
    _, obj = bpf_object
    dumped = _run([OBJDUMP, "-d", str(obj)])
    assert dumped.returncode == 0, dumped.stderr
    counts = count_instructions(dumped.stdout)
    assert set(counts) == {f"auction_{n}" for n in (*CALLBACKS, "init")}
    assert max(counts.values()) < MAX_INSNS, counts


@pytest.mark.skipif(BPFTOOL is None, reason="bpftool is not installed (Debian: bpftool)")
def test_btf_declares_the_scheduler(bpf_object: tuple[str, Path]) -> None:
    """BTF: the struct_ops type and variable, the maps, the kfuncs as .ksyms, the layouts."""
    assert BPFTOOL is not None
    kernel, obj = bpf_object
    dumped = _run([BPFTOOL, "btf", "dump", "file", str(obj)])
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
    sizes = {"scx_auction_bid": 16, "scx_auction_bits": 520, "scx_price_page": 128}
    for struct, size in sizes.items():
        assert f"STRUCT '{struct}' size={size} " in btf, struct


def _host_driver(tmp_path: Path) -> Path:
    assert GCC is not None
    exe = tmp_path / "tiermap_host"
    built = _run([GCC, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", str(KERNEL),
                  "-I", str(TICK), str(HOST_DRIVER), "-o", str(exe)])
    assert built.returncode == 0, f"host build failed (a layout assertion?):\n{built.stderr}"
    return exe


def _boundary_prices(tmap: TierMap) -> list[int]:
    """Each tier's floor, the price below it and above it; the ends of u32."""
    prices = {0, 1, 2**32 - 1}
    for tier in range(tmap.tiers):
        floor = tmap.floor(tier)
        prices.update(p for p in (floor - 1, floor, floor + 1) if 0 <= p < 2**32)
    return sorted(prices)


@pytest.mark.skipif(GCC is None or not Path("/usr/include/linux/types.h").exists(),
                    reason="needs gcc and the kernel UAPI headers (Debian: linux-libc-dev)")
def test_tier_arithmetic_matches_userspace(tmp_path: Path) -> None:
    """The BPF side's tier and floor equal TierMap's on every boundary of four maps."""
    exe = _host_driver(tmp_path)
    maps = [TierMap.log(7, tiers=3328), TierMap.log(3, tiers=200),
            TierMap.linear(10_000, base=500_000), TierMap.linear(7, tiers=50)]
    lines, expected = [], []
    for tmap in maps:
        for price in _boundary_prices(tmap):
            lines.append(f"{int(tmap.kind)} {tmap.tiers} {tmap.base} {tmap.width} "
                         f"{tmap.sub_bits} {price}")
            tier = tmap.tier_of(price)
            expected.append(f"{tier} {tmap.floor(tier)}")
    ran = _run([str(exe)], input="\n".join(lines) + "\n")
    assert ran.returncode == 0, ran.stderr
    got = ran.stdout.splitlines()
    assert len(got) == len(expected)
    mismatches = [(q, g, e) for q, g, e in zip(lines, got, expected, strict=True) if g != e]
    assert not mismatches, mismatches[:5]
