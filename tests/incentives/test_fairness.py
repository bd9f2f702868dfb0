"""The sampled book's unfairness bound, and the vectorised rule measured against it."""

import pytest

from auctioneer.incentives.fairness import measure, rank_bound, top_loses, win_probability


@pytest.mark.parametrize(("live", "samples"), [(10, 4), (100, 32), (7, 7), (5, 50)])
def test_win_probabilities_sum_to_one_and_fall_with_rank(live: int, samples: int) -> None:
    p = [win_probability(live, samples, r) for r in range(1, live + 1)]
    assert sum(p) == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(p, p[1:], strict=False))


def test_the_exact_expected_rank_is_under_the_bound() -> None:
    for live, samples in [(10, 4), (1000, 32), (1000, 256), (50, 1)]:
        exact = sum((r - 1) * win_probability(live, samples, r) for r in range(1, live + 1))
        assert exact <= rank_bound(live, samples)
    assert top_loses(1000, 1000) == 0.0 and top_loses(2, 1) == 0.5


def test_the_sampled_rule_matches_the_formula() -> None:
    cell = measure(20, 4, 20_000)
    assert cell.consistent and cell.max_deviation < 0.02
    assert cell.top_loses_measured == pytest.approx(cell.top_loses, abs=0.02)
    assert cell.mean_rank_measured == pytest.approx(cell.mean_rank_minus_one, rel=0.05)


@pytest.mark.parametrize("bad", [0, 2**63, 10**30])
def test_bad_sizes_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="live"):
        win_probability(bad, 4, 1)
