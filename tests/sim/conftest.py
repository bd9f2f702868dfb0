"""Shared scenarios for the simulator tests: the tiny example, as data and as YAML."""

import copy
from pathlib import Path
from typing import Any

import yaml

from auctioneer.sim.scenario import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "sim").glob("*.yaml"))


def tiny(**changes: Any) -> dict[str, Any]:
    """A deep copy of the tiny example with top-level sections replaced."""
    data = copy.deepcopy(EXAMPLE)
    data.update(changes)
    return data


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
