from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.money import MICROS, MONEY_MAX, MoneyError, check_money, format_money, parse_money


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("0.85", 850_000),
        ("$1.25", 1_250_000),
        ("  $ 1.25 ", 1_250_000),
        ("-3", -3_000_000),
        ("+0.000001", 1),
        ("1,000.5", 1_000_500_000),
        (".5", 500_000),
        ("7.", 7_000_000),
        ("1.250000000", 1_250_000),
        (Decimal("2.5"), 2_500_000),
    ],
)
def test_parse(text: object, micros: int) -> None:
    assert parse_money(text) == micros


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0.85, "is a float"),
        (float("nan"), "is a float"),
        (float("inf"), "is a float"),
        ("NaN", "is not an amount"),
        ("inf", "is not an amount"),
        ("", "is not an amount"),
        ("$", "is not an amount"),
        ("1,00.5", "is not an amount"),
        ("1.2.3", "is not an amount"),
        ("1.0000001", "more than six decimal places"),
        (Decimal("NaN"), "not a finite number"),
        (Decimal("-Infinity"), "not a finite number"),
        ("9" * 20, "is outside"),
        (5, "is an int"),
        (None, "not an int"),
    ],
)
def test_parse_refuses(value: object, fragment: str) -> None:
    with pytest.raises(MoneyError, match=fragment) as info:
        parse_money(value, field="bid")
    assert info.value.field == "bid"
    assert str(info.value).startswith("bid ")


@pytest.mark.parametrize("value", [0.5, True, "1", MONEY_MAX + 1, -MONEY_MAX - 1])
def test_check_refuses(value: object) -> None:
    with pytest.raises(MoneyError, match="balance"):
        check_money(value, "balance")


@pytest.mark.parametrize(
    ("micros", "text"),
    [(0, "$0.00"), (850_000, "$0.85"), (1_250_001, "$1.250001"), (-1_500_000, "-$1.50"),
     (1_234_567_000_000, "$1,234,567.00")],
)
def test_format(micros: int, text: str) -> None:
    assert format_money(micros) == text


@given(st.integers(-MONEY_MAX, MONEY_MAX))
def test_format_parse_round_trip(micros: int) -> None:
    assert parse_money(format_money(micros)) == micros


@given(st.integers(-(10**12), 10**12), st.integers(0, MICROS - 1))
def test_parse_matches_decimal(whole: int, frac: int) -> None:
    text = f"{whole}.{frac:06d}"
    assert parse_money(text) == int(Decimal(text) * MICROS)
