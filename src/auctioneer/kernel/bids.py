"""Bids and budgets for processes or cgroups, from a YAML file, checked before anything loads.

::

    bids:
      - pid: 1234                     # a process: every thread of its thread group
        price: 250000                 # micro-units per quantum of CPU, 0..310000
        units: 4                      # slice in quanta, 1..16 (default 1)
        budget: 500000                # micro-units per 1 s window, 0 = no limit (default)
      - cgroup: agents/gold           # a cgroup v2 directory, relative to /sys/fs/cgroup
        price: 600000

A bad entry raises :class:`BidFileError` naming the entry, the field and the
value (the CLI exits 2 and loads nothing): an unknown process or cgroup, a
negative price, a price past the u32 fixed-point range or the scheduler's cap.

Example:
    >>> parse_bids({"bids": [{"pid": 1, "price": 5, "units": 2}]}, "f.yaml")[0].bid
    Bid(price=5, units=2, budget=0)
    >>> parse_bids({"bids": [{"pid": 1, "price": -5}]}, "f.yaml")
    Traceback (most recent call last):
      ...
    auctioneer.kernel.bids.BidFileError: f.yaml: bids[0].price: -5 is negative
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auctioneer.kernel.layout import MAX_BID, MAX_UNITS, U32_MAX, U64_MAX, Bid, agent_key

__all__ = ["CGROUP_ROOT", "BidFileError", "BidSpec", "load_bids", "parse_bids"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
_FIELDS = {"pid", "cgroup", "price", "units", "budget"}


class BidFileError(ValueError):
    """A bid file that cannot be used; the message names the file, entry, field and value."""


@dataclass(frozen=True, slots=True)
class BidSpec:
    """One resolved bid: the bid map's key, the bid, and what it was written for."""

    key: int
    bid: Bid
    target: str


def _int(entry: dict[str, object], field: str, where: str, low: int, high: int,
         default: int | None = None, high_why: str = "") -> int:
    value = entry.get(field, default)
    if value is None:
        raise BidFileError(f"{where}.{field}: missing")
    if type(value) is not int:
        raise BidFileError(f"{where}.{field}: {value!r} is not an integer")
    if value < low:
        raise BidFileError(f"{where}.{field}: {value} is negative" if low == 0 and value < 0
                           else f"{where}.{field}: {value} is below {low}")
    if value > high:
        raise BidFileError(f"{where}.{field}: {value} is above {high}{high_why}")
    return value


def _target(entry: dict[str, object], where: str, cgroup_root: Path) -> tuple[int, str]:
    if ("pid" in entry) == ("cgroup" in entry):
        raise BidFileError(f"{where}: give exactly one of pid and cgroup")
    if "pid" in entry:
        pid = _int(entry, "pid", where, 1, 2**31 - 1)
        status = Path(f"/proc/{pid}/status")
        if not status.exists():
            raise BidFileError(f"{where}.pid: no process {pid}")
        tgid = next((int(line.split()[1]) for line in status.read_text().splitlines()
                     if line.startswith("Tgid:")), pid)
        return agent_key(tgid=tgid), f"pid {pid}"
    name = entry["cgroup"]
    if not isinstance(name, str) or not name:
        raise BidFileError(f"{where}.cgroup: {name!r} is not a cgroup path")
    path = Path(name) if Path(name).is_absolute() else cgroup_root / name
    if not (path / "cgroup.procs").is_file():
        raise BidFileError(f"{where}.cgroup: unknown cgroup {name!r} (no {path}/cgroup.procs)")
    return agent_key(cgroup_id=path.stat().st_ino), f"cgroup {name}"


def parse_bids(data: object, source: str, cgroup_root: Path = CGROUP_ROOT) -> list[BidSpec]:
    """Check and resolve a parsed bid file; raise :class:`BidFileError` on the first bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("bids"), list):
        raise BidFileError(f"{source}: expected a mapping with a 'bids' list")
    specs, seen = [], set()
    for i, entry in enumerate(data["bids"]):
        where = f"{source}: bids[{i}]"
        if not isinstance(entry, dict):
            raise BidFileError(f"{where}: expected a mapping, got {entry!r}")
        unknown = sorted(set(map(str, entry)) - _FIELDS)
        if unknown:
            raise BidFileError(f"{where}: unknown field {unknown[0]!r}")
        key, target = _target(entry, where, cgroup_root)
        price = _int(entry, "price", where, 0, U32_MAX,
                     high_why=" (past the u32 micro-unit fixed-point range)")
        if price > MAX_BID:
            raise BidFileError(f"{where}.price: {price} is above the scheduler's cap {MAX_BID} "
                               "(a larger bid would pay more for no more weight)")
        units = _int(entry, "units", where, 1, MAX_UNITS, default=1)
        budget = _int(entry, "budget", where, 0, U64_MAX, default=0)
        if key in seen:
            raise BidFileError(f"{where}: a second bid for {target}")
        seen.add(key)
        specs.append(BidSpec(key, Bid(price=price, units=units, budget=budget), target))
    return specs


def load_bids(path: Path, cgroup_root: Path = CGROUP_ROOT) -> list[BidSpec]:
    """Read and check a bid file (see the module doc)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise BidFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise BidFileError(f"{path}: not YAML: {exc}") from None
    return parse_bids(data, str(path), cgroup_root)
