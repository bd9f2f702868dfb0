"""Building the tick C sources outside Python, for the freestanding tests.

Shared by ``test_freestanding.py`` (``tick_core.c``) and
``test_ring_freestanding.py`` (``ring.c``): gcc and nm, a subprocess runner,
and the freestanding link check both make.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

TICK_DIR = Path(__file__).resolve().parents[2] / "src" / "auctioneer" / "tick"
GCC = shutil.which("gcc")
NM = shutil.which("nm")

needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc is not installed: cannot build the C")


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with its output captured as text; never raises on failure."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          **kwargs)  # type: ignore[call-overload]


def check_freestanding(sources: Sequence[Path], std: str, opt: str, lib: Path,
                       api: Sequence[str]) -> None:
    """Link ``sources`` into ``lib`` with no libc, no libgcc and no floating point.

    Any floating point fails to compile (``-mgeneral-regs-only``) and any call the
    compiler slips in (memset, a libgcc helper, an ``__atomic_*`` it could not
    inline) is an undefined symbol that fails the link; every name in ``api``
    must be exported.
    """
    assert GCC is not None
    flags = [f"-std={std}", "-pedantic", "-Wall", "-Wextra", "-Wconversion", "-Werror",
             "-ffreestanding", "-fno-builtin", "-nostdlib", "-mgeneral-regs-only",
             "-fPIC", "-shared", "-Wl,-z,defs"]
    built = run([GCC, *flags, opt, "-I", str(TICK_DIR), *map(str, sources), "-o", str(lib)])
    assert built.returncode == 0, f"freestanding build failed:\n{built.stderr}"
    if NM is None:
        return  # -Wl,-z,defs already refused any undefined symbol
    undefined = run([NM, "-u", str(lib)])
    assert undefined.returncode == 0, undefined.stderr
    assert undefined.stdout.split() == [], f"undefined symbols:\n{undefined.stdout}"
    exported = run([NM, "-D", "--defined-only", str(lib)])
    names = {line.split()[-1] for line in exported.stdout.splitlines() if line.strip()}
    assert set(api) <= names, f"missing exports: {sorted(set(api) - names)}"
