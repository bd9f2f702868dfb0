"""The incentive plot draws the result's own numbers, and writes a PNG."""

from pathlib import Path

import pytest

from auctioneer.incentives.experiment import IncentiveResult, run_experiment
from auctioneer.incentives.market import MECHANISMS, IncentiveConfig
from auctioneer.incentives.plot import (
    fee_mitigation,
    representative_value,
    revenue_bars,
    sybil_series,
    utility_series,
    write_plot,
)

from ..plots import is_png


@pytest.fixture(scope="module")
def result() -> IncentiveResult:
    return run_experiment(IncentiveConfig.build(quick=True, rounds=40),
                          tick_bench={"results": []})


def test_utility_curves_are_the_json_curves_at_the_middle_value(result: IncentiveResult) -> None:
    data = result.to_dict()
    value = representative_value(result)
    assert value == 825_000  # of 825,000 and 1,225,000, the nearer to the $1.00 middle
    curves = utility_series(result)
    assert [c.mechanism for c in curves] == [m.name for m in MECHANISMS]
    cells = {c["mechanism"]: c for c in data["truthfulness"] if c["value"] == value}
    for curve in curves:
        cell = cells[curve.mechanism]
        assert list(curve.factors) == data["config"]["factors"]
        assert list(curve.utility) == pytest.approx(cell["utility_by_factor"], abs=1e-3)
        assert curve.best_factor == cell["best_factor_permille"]
        assert curve.best == pytest.approx(cell["best_utility"]["mean"], abs=1e-3)
        assert curve.truthful == pytest.approx(cell["truthful_utility"]["mean"], abs=1e-3)
        assert curve.utility[curve.factors.index(1000)] == pytest.approx(curve.truthful)
        assert max(curve.utility) == pytest.approx(curve.best)
    assert {c.value for c in utility_series(result, 1_225_000)} == {1_225_000}


@pytest.mark.parametrize("mitigation", ["none", "identity-fee"])
def test_sybil_series_are_the_json_gains(result: IncentiveResult, mitigation: str) -> None:
    assert fee_mitigation(result) == "identity-fee"
    want: dict[str, list[tuple[int, float]]] = {}
    for cell in result.to_dict()["sybil"]:
        if cell["mitigation"] == mitigation:
            want.setdefault(cell["mechanism"], []).append(
                (cell["identities"], cell["gain"]["mean"]))
    series = sybil_series(result, mitigation)
    assert [s.mechanism for s in series] == list(want)
    for s in series:
        got = [(k, g.mean) for k, g in zip(s.identities, s.gain, strict=True)]
        assert got == [(k, pytest.approx(g, abs=1e-3)) for k, g in sorted(want[s.mechanism])]


def test_revenue_bars_are_the_json_ratios(result: IncentiveResult) -> None:
    ratios = {(c["mechanism"], c["mitigation"], c["colluders"], c["strategy"]):
              c["revenue_over_undefended_truthful"] for c in result.to_dict()["collusion"]}
    groups = revenue_bars(result)
    assert [(b.colluders, b.strategy) for b in groups] == [(3, "rotation"), (3, "all-low")]
    for bars in groups:
        assert bars.mitigations == ("none", "reserve", "identity-fee", "reputation")
        for i, name in enumerate(bars.mechanisms):
            for j, defence in enumerate(bars.mitigations):
                assert bars.ratio[i][j] == pytest.approx(
                    ratios[(name, defence, bars.colluders, bars.strategy)], abs=1e-5)
                assert bars.truthful[i][j] == pytest.approx(
                    ratios[(name, defence, bars.colluders, "truthful")], abs=1e-5)
        assert all(row[0] == pytest.approx(1.0) for row in bars.truthful)


def test_write_plot_writes_a_png(result: IncentiveResult, tmp_path: Path) -> None:
    path = tmp_path / "figs" / "incentives.png"
    write_plot(result, path)
    assert is_png(path) and path.stat().st_size > 10_000
