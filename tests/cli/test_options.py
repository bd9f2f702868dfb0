"""Option parsing: every error quotes what was typed and says what is wrong with it."""

from __future__ import annotations

import pytest
import typer

from auctioneer.cli.options import float_in


@pytest.mark.parametrize("text", ["1e400", "-1e400", "inf", "nan"])
def test_a_float_beyond_range_is_called_not_finite(text: str) -> None:
    # Issue 12 #10: `--time-limit 1e400` said "must be above 0".
    with pytest.raises(typer.BadParameter, match=f"'{text}' is not a finite number"):
        float_in(text, "--time-limit", 0.0, low_open=True)


def test_a_finite_float_out_of_range_names_the_range() -> None:
    with pytest.raises(typer.BadParameter, match="'0' is out of range: it must be above 0"):
        float_in("0", "--time-limit", 0.0, low_open=True)
    assert float_in("1e300", "--time-limit", 0.0, low_open=True) == 1e300
