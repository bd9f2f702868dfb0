"""Scenario files: the shipped examples load; bad ones name the field and value."""

import copy
from pathlib import Path
from typing import Any

import pytest

from auctioneer.sim.distributions import Geometric, LogNormal, Pareto
from auctioneer.sim.scenario import EXAMPLE, ScenarioError, load_scenario
from auctioneer.sim.workload import Bursty, Poisson
from auctioneer.tick import STRUCTURES, Mechanism

from .conftest import EXAMPLES, tiny


def test_the_shipped_examples_load() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"steady", "gpu-hot", "diurnal-burst"} <= names
    for path in EXAMPLES:
        assert load_scenario(path).name == path.stem


def test_the_tiny_example_reads_as_written() -> None:
    s = load_scenario(EXAMPLE)
    feeder, background = s.agents.classes
    assert feeder.value == LogNormal(2000, 0.5) and feeder.arrivals == Poisson(40.0)
    assert feeder.quanta == Geometric(4.0) and feeder.gpu_us_per_quantum == 2000
    assert background.value == Pareto(100, 2.0)
    assert background.arrivals == Bursty(60.0, 0.02, 0.02)
    assert s.cpu.mechanism is Mechanism.SECOND_PRICE and s.cpu.reserve == 100
    assert s.duration_ns == 50_000_000 and s.agents.lifetime_s is None


def test_every_structure_and_mechanism_is_accepted() -> None:
    for structure in STRUCTURES:
        for mechanism in Mechanism:
            s = load_scenario(tiny(cpu={"structure": structure, "mechanism": mechanism.value}))
            assert (s.cpu.structure, s.cpu.mechanism) == (structure, mechanism)


def _error(data: Any) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    return str(info.value)


def _class(i: int, **fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    data["agents"]["classes"][i].update(fields)
    return data


@pytest.mark.parametrize(("data", "message"), [
    (tiny(cpu={"tick_hz": 50}), "cpu.tick_hz: 50 must be >= 1000"),
    (tiny(cpu={"tick_hz": 1000.0}), "cpu.tick_hz: 1000.0 is not an integer"),
    (tiny(cpu={"reserve": 0.5}), 'cpu.reserve: 0.5 is a float: write currency units as a'),
    (tiny(cpu={"reserve": "5000"}), "cpu.reserve: '5000' is out of range"),
    (tiny(cpu={"structure": "Splay"}), "cpu.structure: 'Splay' must be"),
    (tiny(cpu={"cores": 8, "turbo": True}), "cpu.turbo: is not a field of this format"),
    (tiny(duration_s=0), "duration_s: 0 must be > 0"),
    (tiny(gpu={"dispatch_hz": 1000}), "gpu.dispatch_hz: 1000 must be <= 100"),
    (tiny(thermal={"sensor_hz": 100, "delay_ms": 20}),
     "thermal.delay_ms: 20 is longer than one sensor period (10 ms)"),
    (_class(1, value={"dist": "pareto", "scale": "0.0001", "alpha": "x"}),
     "agents.classes[1] 'background' value.alpha: 'x' is not a number"),
    (_class(1, arrivals={"process": "weird", "rate_hz": 1}),
     "agents.classes[1] 'background' arrivals.process: 'weird' is not one of"),
    (_class(1, arrivals={"process": "bursty", "rate_hz": 1, "on_s": 1}),
     "agents.classes[1] 'background' arrivals.off_s: is required but missing"),
    (_class(0, value={"dist": "uniform", "low": "0.5", "high": "0.1"}),
     "agents.classes[0] 'feeder' value.high: '0.1' is below low '0.5'"),
    (_class(0, share=0.5), "agents.classes: shares add up to 1.25, not 1"),
    (_class(0, gpu=None), "agents.classes[0] 'feeder' gpu: is required when gpu_feeding"),
    (_class(1, name="feeder"), "class names repeat"),
    ("- 1\n- 2\n", "(top level): '[1, 2]' is a list, not a mapping of the scenario's fields"),
    # Issue 12 #10: an empty file said "'None' is not a mapping", a NaN "nan must be <= 10.0".
    ("\n", "(top level): the scenario is empty: write a mapping of its fields"),
    (_class(0, value={"dist": "lognormal", "median": "0.001", "sigma": float("nan")}),
     "agents.classes[0] 'feeder' value.sigma: nan is not a finite number"),
    (tiny(duration_s=float("inf")), "duration_s: inf is not a finite number"),
])
def test_bad_scenarios_name_the_field_and_value(data: Any, message: str) -> None:
    assert message in _error(data)


def test_yaml_problems_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration_s: 1\nname: y\n", encoding="utf-8")
    assert _error(bad) == f"{bad}: line 3 column 1: key 'name' appears twice in one mapping"
    bad.write_text("name: [x\n", encoding="utf-8")
    assert _error(bad).startswith(f"{bad}: line 2 column 1: malformed YAML")
    bad.write_bytes(b"name: \xff\n")
    assert _error(bad) == f"{bad}: byte 6: is not UTF-8 text"
    assert "cannot read the file" in _error(tmp_path / "missing.yaml")
    assert _error("name: x\n").startswith("duration_s: is required but missing")
