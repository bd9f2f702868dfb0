"""bpftool as the loader: ``struct_ops register``, map pins, lookups, updates, dumps.

Why bpftool and not libbpf through ctypes: Debian 12's libbpf1 is 1.1, which
predates ``.struct_ops.link`` and sleepable ``struct_ops.s/`` programs, and a
C loader would be one more binary to build per kernel. bpftool >= 7.3 (Debian:
bookworm-backports' 7.5, statically linked with libbpf 1.5) registers the
scheduler, pins its link, and reads and writes maps as JSON, one process per
call. The one hot path, the price page, is written through ``mmap`` of the
pinned map (:mod:`auctioneer.kernel.pricepage`), not through bpftool.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["Bpftool", "BpftoolError", "find_bpftool"]

MIN_VERSION = (7, 3)


class BpftoolError(RuntimeError):
    """bpftool is missing, too old, or a command failed (the message has its stderr)."""


def find_bpftool() -> Path:
    """``$AUCTIONEER_BPFTOOL``, else ``bpftool`` on PATH or in /usr/sbin."""
    env = os.environ.get("AUCTIONEER_BPFTOOL")
    found = env or shutil.which("bpftool") or next(
        (p for p in ("/usr/sbin/bpftool", "/sbin/bpftool") if Path(p).exists()), None)
    if not found:
        raise BpftoolError("bpftool not found: install it (Debian: bpftool, >= 7.3 from "
                           "bookworm-backports) or set AUCTIONEER_BPFTOOL")
    return Path(found)


def _hex(blob: bytes) -> list[str]:
    return [f"{b:02x}" for b in blob]


def _bytes(words: list[str]) -> bytes:
    return bytes(int(w, 16) for w in words)


class Bpftool:
    """One bpftool binary; every method runs it once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or find_bpftool()
        out = self._run(["version"], parse=False)
        m = re.search(r"v(\d+)\.(\d+)", out)
        if not m or (int(m[1]), int(m[2])) < MIN_VERSION:
            raise BpftoolError(f"{self.path} is {out.splitlines()[0] if out else '?'}; "
                               f"struct_ops register needs >= {MIN_VERSION[0]}.{MIN_VERSION[1]}")

    def _run(self, args: list[str], *, parse: bool = True) -> Any:
        cmd = [str(self.path), *(["-j"] if parse else []), *args]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        except OSError as exc:
            raise BpftoolError(f"cannot run {self.path}: {exc}") from None
        if done.returncode:
            what = " ".join(args[:3])
            raise BpftoolError(f"bpftool {what} failed:\n{done.stderr or done.stdout}")
        return json.loads(done.stdout) if parse and done.stdout.strip() else done.stdout

    def register(self, obj: Path, link_dir: Path) -> str:
        """Load and attach the struct_ops object; its link is pinned under ``link_dir``."""
        return str(self._run(["struct_ops", "register", str(obj), str(link_dir)], parse=False))

    def maps(self) -> list[dict[str, Any]]:
        return list(self._run(["map", "show"]))

    def progs(self) -> list[dict[str, Any]]:
        return list(self._run(["prog", "show"]))

    def pin_map(self, map_id: int, path: Path) -> None:
        self._run(["map", "pin", "id", str(map_id), str(path)], parse=False)

    def lookup(self, pinned: Path, key: bytes) -> bytes | None:
        try:
            got = self._run(["map", "lookup", "pinned", str(pinned), "key", "hex", *_hex(key)])
        except BpftoolError as exc:
            if "No such file" in str(exc) or "not found" in str(exc):
                return None
            raise
        return _bytes(got["value"])

    def lookup_percpu(self, pinned: Path, key: bytes) -> list[bytes]:
        got = self._run(["map", "lookup", "pinned", str(pinned), "key", "hex", *_hex(key)])
        return [_bytes(v["value"]) for v in got["values"]]

    def update(self, pinned: Path, key: bytes, value: bytes) -> None:
        self._run(["map", "update", "pinned", str(pinned), "key", "hex", *_hex(key),
                   "value", "hex", *_hex(value)], parse=False)

    def delete(self, pinned: Path, key: bytes) -> None:
        self._run(["map", "delete", "pinned", str(pinned), "key", "hex", *_hex(key)], parse=False)

    def dump(self, pinned: Path) -> list[tuple[bytes, bytes]]:
        return [(_bytes(e["key"]), _bytes(e["value"]))
                for e in self._run(["map", "dump", "pinned", str(pinned)])]
