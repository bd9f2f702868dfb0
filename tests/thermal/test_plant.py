"""The RC plant: energy balance, steady state, modes, parameter errors."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.thermal import Node, PlantConfig, Power, Temperatures, ThermalPlant

steps = st.lists(
    st.tuples(st.floats(0.0, 5.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    min_size=1, max_size=20,
)


@given(steps)
def test_energy_balances(schedule: list[tuple[float, float, float]]) -> None:
    plant = ThermalPlant()
    for dt, cpu, gpu in schedule:
        plant.step(dt, cpu, gpu)
    e = plant.energy
    assert abs(e.imbalance_j) <= 1e-9 * max(1.0, e.heat_in_j)
    assert e.heat_in_j >= 0 and e.to_ambient_j >= -1e-9


def test_heat_in_is_power_times_time() -> None:
    plant = ThermalPlant()
    plant.step(10.0, 1.0, 0.5)
    assert plant.energy.heat_in_j == pytest.approx(10.0 * (150.0 + 190.0))
    assert plant.time_s == 10.0


@pytest.mark.parametrize(("cpu", "gpu"), [(0.0, 0.0), (1.0, 1.0), (0.3, 0.9), (1.0, 0.0)])
def test_converges_to_steady_state(cpu: float, gpu: float) -> None:
    plant = ThermalPlant()
    slow = plant.config.time_constants()[2]
    plant.step(12 * slow, cpu, gpu)
    want = plant.steady_state(cpu, gpu)
    got = plant.temperatures
    for name in ("cpu", "gpu", "chassis"):
        assert getattr(got, name) == pytest.approx(getattr(want, name), abs=1e-3)
    # At steady state, heat in equals heat out: the ledger's rates match.
    before = plant.energy
    plant.step(10.0, cpu, gpu)
    after = plant.energy
    d_in, d_out = after.heat_in_j - before.heat_in_j, after.to_ambient_j - before.to_ambient_j
    assert d_out == pytest.approx(d_in, rel=1e-4)


def test_steady_state_by_hand() -> None:
    # Chassis: 25 + (150 + 350) / 15; dies: chassis + P / G_die.
    hot = ThermalPlant().steady_state(1.0, 1.0)
    assert hot.chassis == pytest.approx(25 + 500 / 15)
    assert hot.cpu == pytest.approx(hot.chassis + 150 / 3)
    assert hot.gpu == pytest.approx(hot.chassis + 350 / 10)


def test_gpu_heat_reaches_cpu_through_chassis() -> None:
    plant = ThermalPlant()
    assert plant.steady_state(0.5, 1.0).cpu > plant.steady_state(0.5, 0.0).cpu


def test_time_constants_ordered_and_positive() -> None:
    fast, mid, slow = PlantConfig().time_constants()
    assert 0 < fast <= mid <= slow
    # The slow mode is the chassis: about C / sum(G) of the chassis node and longer.
    assert slow > 2000.0 / (15.0 + 3.0 + 10.0)


def test_starts_at_given_temperatures() -> None:
    start = Temperatures(60.0, 70.0, 40.0)
    plant = ThermalPlant(initial=start)
    assert plant.temperatures == start
    plant.step(0.0, 0.5, 0.5)
    assert plant.temperatures == start and plant.energy.stored_j == 0.0


@pytest.mark.parametrize(("build", "field", "value"), [
    (lambda: Node("cpu", -1.0), "cpu.heat_capacity", "-1.0"),
    (lambda: Node("gpu", 10.0, math.nan), "gpu.conductance", "nan"),
    (lambda: Power(50.0, 10.0), "max_w", "10.0"),
    (lambda: PlantConfig(cpu_to_chassis=0.0), "cpu_to_chassis", "0.0"),
    (lambda: PlantConfig(ambient_c=99.0), "ambient_c", "99.0"),
    (lambda: ThermalPlant().step(1.0, 1.5, 0.0), "cpu_util", "1.5"),
    (lambda: ThermalPlant().step(-1.0, 0.5, 0.0), "dt_s", "-1.0"),
    (lambda: ThermalPlant().steady_state(0.5, -0.1), "gpu_util", "-0.1"),
])
def test_bad_parameters_name_field_and_value(build: object, field: str, value: str) -> None:
    with pytest.raises(ValueError) as info:
        build()  # type: ignore[operator]
    assert field in str(info.value) and value in str(info.value)


def test_wrong_types() -> None:
    with pytest.raises(TypeError, match="cpu must be a Node"):
        PlantConfig(cpu="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cpu_util must be a number"):
        ThermalPlant().step(1.0, "x", 0.0)  # type: ignore[arg-type]
