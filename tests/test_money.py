import json
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
        (True, "is a bool"),
        (1.5, "is a float"),
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


def test_one_rule_int_is_micro_units_string_is_currency_units() -> None:
    assert parse_money(18) == 18
    assert parse_money("18") == 18_000_000
    with pytest.raises(MoneyError, match=r"parse_money\('18'\) reads currency units"):
        check_money("18", "price")


def test_the_rule_is_the_same_in_python_and_in_a_json_file() -> None:
    from auctioneer.clearing import Bundle, loads_auction

    def price_of(value: object) -> int:
        text = json.dumps({"resources": [{"name": "cpu", "capacity": 4}],
                           "bids": [{"name": "a", "bundles": [{"quantities": {"cpu": 1},
                                                                "price": value}]}]})
        return loads_auction(text).bids[0].bundles[0].price

    assert price_of(18) == Bundle((1,), 18).price == 18
    assert price_of("18") == Bundle((1,), parse_money("18")).price == 18_000_000
    assert price_of(18_250_000) == price_of("18.25")


@pytest.mark.parametrize("huge", [2**63, 10**30, -(2**63)])
def test_a_json_integer_past_64_bits_is_refused_naming_the_field(huge: int) -> None:
    from auctioneer.clearing import AuctionFileError, loads_auction

    text = json.dumps({"resources": [{"name": "cpu", "capacity": 4}],
                       "bids": [{"name": "a", "bundles": [{"price": huge}]}]})
    with pytest.raises(AuctionFileError, match=r"bundles\[0\]\.price: .*outside"):
        loads_auction(text)
