"""A command's usage error as the house rules want it: exit 2, nothing on stdout, and one
line on stderr, ``auctioneer: error: ...``, naming the option and the value refused."""

import pytest

from auctioneer.cli import main


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line ``auctioneer ARGV`` printed, after checking that it is one."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = captured.err.strip()
    assert "\n" not in line and line.startswith("auctioneer: error: "), captured.err
    return line


def names_option_and_value(line: str, option: str, value: str) -> bool:
    """Whether an error line names ``option`` and quotes ``value``."""
    return option in line and f"'{value}'" in line
