"""The multipliers plot says why a flat PID feedback line is flat."""

import numpy as np

from auctioneer.sim.report import flat_feedback_note


def test_flat_feedback_is_explained_with_the_peak_and_target() -> None:
    note = flat_feedback_note(np.ones(5), np.array([70.0, 80.25, 79.0]), 85)
    assert note is not None
    assert "peaked at 80.2 °C, below its 85 °C target" in note


def test_acting_feedback_needs_no_note() -> None:
    assert flat_feedback_note(np.array([1.0, 1.5, 1.0]), np.array([90.0]), 85) is None
    assert flat_feedback_note(np.array([]), np.array([]), 85) is None
