"""The few bpf(2) commands used directly, through ctypes (x86-64 syscall numbers).

bpftool (:mod:`auctioneer.kernel.bpftool`) does the loading; these cover what
it does not: opening a pinned map to ``mmap`` it, and a program's
``verified_insns`` -- the verifier's processed-instruction count, the number
its log reports as ``processed N insns`` and the 1,000,000 limit applies to
-- which bpftool 7.5 does not print.
"""

from __future__ import annotations

import ctypes
import os
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProgInfo", "obj_get", "prog_info"]

_SYS_BPF = 321
_BPF_PROG_GET_FD_BY_ID = 13
_BPF_OBJ_GET = 7
_BPF_OBJ_GET_INFO_BY_FD = 15
_INFO_SIZE = 232  # struct bpf_prog_info up to attach_btf_id (kernel >= 5.16 fills verified_insns)
_ATTR_SIZE = 128


def _bpf(cmd: int, attr: bytes) -> int:
    buf = ctypes.create_string_buffer(attr.ljust(_ATTR_SIZE, b"\0"), _ATTR_SIZE)
    libc = ctypes.CDLL(None, use_errno=True)
    ret = int(libc.syscall(_SYS_BPF, cmd, buf, _ATTR_SIZE))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf({cmd}): {os.strerror(err)}")
    return ret


def obj_get(path: Path) -> int:
    """A new file descriptor for the BPF object pinned at ``path`` (the caller closes it)."""
    name = ctypes.create_string_buffer(os.fsencode(path))
    return _bpf(_BPF_OBJ_GET, struct.pack("<QII", ctypes.addressof(name), 0, 0))


@dataclass(frozen=True, slots=True)
class ProgInfo:
    """A loaded program: its name, verified instructions, and bpf_stats run time and count."""

    name: str
    verified_insns: int
    run_time_ns: int
    run_cnt: int


def prog_info(prog_id: int) -> ProgInfo:
    """``BPF_OBJ_GET_INFO_BY_FD`` on the program with id ``prog_id``."""
    fd = _bpf(_BPF_PROG_GET_FD_BY_ID, struct.pack("<III", prog_id, 0, 0))
    try:
        info = ctypes.create_string_buffer(_INFO_SIZE)
        _bpf(_BPF_OBJ_GET_INFO_BY_FD, struct.pack("<IIQ", fd, _INFO_SIZE, ctypes.addressof(info)))
        raw = info.raw
    finally:
        os.close(fd)
    name = raw[64:80].split(b"\0")[0].decode(errors="replace")
    run_time_ns, run_cnt = struct.unpack_from("<QQ", raw, 192)
    (verified,) = struct.unpack_from("<I", raw, 216)
    return ProgInfo(name, verified, run_time_ns, run_cnt)
