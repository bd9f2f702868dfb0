"""Facts about the sched_ext scheduler's BPF object, for the design document.

:func:`bpf_facts` builds ``kernel/`` with its Makefile (clang, BPF target)
and reads the object back with ``llvm-objdump``: the instruction count of
each callback, the sections, the kfuncs it calls. This is what
``python -m tools.docs bpf --json`` writes. It never loads the program (that
needs a sched_ext kernel; see ``kernel/README.md``).

Example:
    >>> count_instructions("0000000000000000 <auction_init>:\\n       0:\\tcall 1\\n"
    ...                    "0000000000000010 <LBB6_2>:\\n       1:\\texit\\n")
    {'auction_init': 2}
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tools.docs.render import DocsError

__all__ = ["KERNEL_DIR", "bpf_facts", "count_instructions"]

KERNEL_DIR = Path(__file__).resolve().parents[2] / "kernel"
"""The prototype's sources in a source checkout."""

_FUNC = re.compile(r"^[0-9a-f]+ <(\w+)>:")
_BLOCK = re.compile(r"^(LBB|\.L)")  # basic-block labels inside a function
_INSN = re.compile(r"^\s+\d+:")
_KSYM = re.compile(r"FUNC '(scx_bpf_\w+)' type_id=\d+ linkage=extern")


def count_instructions(disassembly: str) -> dict[str, int]:
    """Instructions per function in ``llvm-objdump -d`` output."""
    counts: dict[str, int] = {}
    current: str | None = None
    for line in disassembly.splitlines():
        header = _FUNC.match(line)
        if header and not _BLOCK.match(header.group(1)):
            current = header.group(1)
            counts[current] = 0
        elif current is not None and _INSN.match(line):
            counts[current] += 1
    return counts


def _tool(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if Path(p).exists()), None)
    if path is None:
        raise DocsError(f"{name} is not installed: the BPF facts need clang, make, llvm "
                        "(llvm-objdump) and bpftool (Debian: clang llvm libbpf-dev bpftool)")
    return path


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise DocsError(f"`{' '.join(argv)}` failed with exit {done.returncode}:\n"
                        f"{done.stderr.strip()[-1500:]}")
    return done.stdout


def bpf_facts(build_dir: Path, kernel_dir: Path = KERNEL_DIR, kernel: str = "6.13"
              ) -> dict[str, Any]:
    """Build the object into ``build_dir`` and describe it as JSON-ready builtins."""
    if not (kernel_dir / "scx_auction.bpf.c").is_file():
        raise DocsError(f"no sched_ext prototype at {kernel_dir}: run from a source checkout")
    make, clang, objdump, bpftool = (_tool(t) for t in ("make", "clang", "llvm-objdump",
                                                        "bpftool"))
    _run([make, "-s", "-C", str(kernel_dir), f"BUILD={build_dir.resolve()}",
          f"KERNEL={kernel}"])
    obj = build_dir / "scx_auction.bpf.o"
    counts = count_instructions(_run([objdump, "-d", str(obj)]))
    sections = re.findall(r"^\s*\d+\s+(\S+)", _run([objdump, "-h", str(obj)]), re.MULTILINE)
    kfuncs = sorted(set(_KSYM.findall(_run([bpftool, "btf", "dump", "file", str(obj)]))))
    version = _run([clang, "--version"]).splitlines()[0]
    return {
        "benchmark": "auctioneer.docs.bpf",
        "schema": 1,
        "kernel_api": kernel,
        "compiler": version,
        "object_bytes": obj.stat().st_size,
        "programs": [
            {"callback": name.removeprefix("auction_"), "instructions": n,
             "section": next((s for s in sections if s.endswith("/" + name)), "")}
            for name, n in counts.items()
        ],
        "total_instructions": sum(counts.values()),
        "kfuncs": kfuncs,
        "struct_ops_section": ".struct_ops.link" in sections,
        "loaded": False,
        "why_not_loaded": "the build machine's kernel lacks CONFIG_SCHED_CLASS_EXT; "
                          "make scx-vm-test loads it on Debian's sched_ext kernel under QEMU",
    }
