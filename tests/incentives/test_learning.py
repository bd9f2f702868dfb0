"""Learning bidders in the repeated game, and the collusion screen."""

import pytest

from auctioneer.incentives.learning import LEARNING_MECHANISMS, LearningConfig, learn
from auctioneer.incentives.market import mechanism

QUICK = LearningConfig.build(quick=True)


def test_first_price_learners_compete_and_second_price_losers_drift_low() -> None:
    first = learn(mechanism("first-price"), QUICK)
    second = learn(mechanism("second-price"), QUICK)
    # A first-price winner must outbid to win; a second-price loser's bid costs it
    # nothing, so it drifts, and the price (the loser's bid) drifts with it.
    assert first.revenue_ratio.mean > 0.9 > second.revenue_ratio.mean
    assert first.collusive == 0 and second.collusive > 0


@pytest.mark.parametrize("name", ["first-price", "second-price"])
def test_screen_counts_add_up(name: str) -> None:
    cell = learn(mechanism(name), QUICK)
    assert cell.detected + cell.false_alarms == cell.flagged <= cell.games
    assert cell.detected <= cell.collusive <= cell.games == QUICK.seeds
    data = cell.to_dict()
    assert data["games"] == QUICK.seeds and 100 <= data["mean_factor_permille"]["mean"] <= 1000


def test_the_game_replays_for_a_seed() -> None:
    spec = mechanism("tier-fifo")
    assert learn(spec, QUICK) == learn(spec, QUICK)


def test_every_mechanism_is_single_unit() -> None:
    assert all(mechanism(name).rule.k == 1 for name in LEARNING_MECHANISMS)


@pytest.mark.parametrize(("change", "field"), [
    ({"factors": (100, 1100)}, "factors"), ({"window": 10**6}, "window"),
    ({"learners": 1}, "learners"), ({"margin_pm": 2**63}, "margin_pm"),
    ({"seeds": 10**30}, "seeds"),
])
def test_bad_config_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        LearningConfig(**change)  # type: ignore[arg-type]
