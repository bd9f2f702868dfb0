"""kernel/vm/cli_server.py: the VM suite's commands through one interpreter.

It must answer as a fresh ``auctioneer`` process would: the same output on the
same streams, the same exit status, one request after another.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "kernel" / "vm" / "cli_server.py"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Path]:
    for name in ("cli.in", "cli.out"):
        os.mkfifo(tmp_path / name)
    proc = subprocess.Popen([sys.executable, str(SERVER), str(tmp_path)])
    try:
        yield tmp_path
        (tmp_path / "cli.in").write_bytes(b"")  # the empty request ends it
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()


def ask(d: Path, *args: str) -> tuple[int, str, str]:
    (d / "cli.in").write_text("".join(a + "\n" for a in args))
    code = int((d / "cli.out").read_text())
    return code, (d / "stdout").read_text(), (d / "stderr").read_text()


def test_answers_each_request_as_a_fresh_process(server: Path, tmp_path: Path) -> None:
    mix = Path(__file__).resolve().parents[2] / "kernel" / "vm" / "mix.yaml"
    code, out, err = ask(server, "kernel", "predict", str(mix), "--reserve", "0")
    assert code == 0 and "gold" in out and err == ""
    code, out, err = ask(server, "kernel", "bogus")
    assert code == 2 and out == "" and "No such command 'bogus'" in err
    # a value with a space is one argument, as the shell passed it
    code, out, err = ask(server, "kernel", "predict", str(tmp_path / "no such.yaml"))
    assert code == 2 and "no such.yaml" in err
    code, out, _ = ask(server, "kernel", "predict", str(mix), "--reserve", "160000")
    assert code == 0 and "gold" in out
