"""Issue 12: every integer field of every input file format pushed to 2**63 and 10**30.

Each example file's integer fields are found by walking it (one field per shape: list
indices do not count), set to each value in turn, and the file is run through its command:
``auctioneer clear``, ``auctioneer clock`` (50 rounds) or the scenario loader. The answer
is exit 0 or 1 (taken and run) or 2 with one line naming the field -- never a traceback.
(The HTTP API's fields: ``tests/service/test_int_fields.py``.)
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from targets import CLEARING, CLOCK, SCENARIO, _paths, _set  # noqa: E402

from auctioneer.cli import main  # noqa: E402
from auctioneer.sim.scenario import ScenarioError, load_scenario  # noqa: E402

HUGE = [2**63, 10**30]


def _int_fields(doc: Any) -> list[tuple[Any, ...]]:
    """One path per shape to an int leaf (``bids[*].bundles[*].quantities.rooms``)."""
    seen, out = set(), []
    for path in _paths(doc):
        node = doc
        for key in path:
            node = node[key]
        shape = tuple("*" if isinstance(k, int) else k for k in path)
        if type(node) is int and shape not in seen:
            seen.add(shape)
            out.append(path)
    return out


def _cases(doc: Any) -> list[tuple[tuple[Any, ...], int]]:
    return [(path, value) for path in _int_fields(doc) for value in HUGE]


def _ids(cases: list[tuple[tuple[Any, ...], int]]) -> list[str]:
    return [".".join(map(str, p)) + f"={'2**63' if v == 2**63 else '10**30'}" for p, v in cases]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], field: Any) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code in (0, 1, 2), err
    if code == 2:
        assert err.count("\n") == 1 and str(field) in err, err


CLEARING_CASES = _cases(CLEARING)
CLOCK_CASES = _cases(CLOCK)
SCENARIO_CASES = _cases(SCENARIO)


@pytest.mark.parametrize(("path", "value"), CLEARING_CASES, ids=_ids(CLEARING_CASES))
def test_clearing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       path: tuple[Any, ...], value: int) -> None:
    file = tmp_path / "auction.json"
    file.write_text(json.dumps(_set(copy.deepcopy(CLEARING), path, value, False)))
    _run(["clear", str(file)], capsys, path[-1])


@pytest.mark.parametrize(("path", "value"), CLOCK_CASES, ids=_ids(CLOCK_CASES))
def test_clock_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                    path: tuple[Any, ...], value: int) -> None:
    file = tmp_path / "market.json"
    file.write_text(json.dumps(_set(copy.deepcopy(CLOCK), path, value, False)))
    _run(["clock", str(file), "--max-rounds", "50"], capsys, path[-1])


@pytest.mark.parametrize(("path", "value"), SCENARIO_CASES, ids=_ids(SCENARIO_CASES))
def test_scenario_file(path: tuple[Any, ...], value: int) -> None:
    text = yaml.safe_dump(_set(copy.deepcopy(SCENARIO), path, value, False))
    try:
        load_scenario(text + "\n")
    except ScenarioError as exc:
        assert str(path[-1]) in str(exc)


def test_every_format_has_integer_fields_to_push() -> None:
    assert len(CLEARING_CASES) >= 6 and len(CLOCK_CASES) >= 6 and len(SCENARIO_CASES) >= 20
