"""docs/walkthrough.md, run as written (curl half and Python half) against a live server.

Only the server's address and the admin key's path are swapped for the test
server's; a step that stops working fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .service.conftest import fresh_settings, start_live, stop_live

DOC = Path(__file__).parents[1] / "docs" / "walkthrough.md"
ADDRESS = "http://127.0.0.1:8000"
KEY_PATH = "out/exchange/admin.key"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(), re.S | re.M)


def _as_written(code: str, url: str, key_path: Path) -> str:
    assert ADDRESS in code and KEY_PATH in code
    return code.replace(ADDRESS, url).replace(KEY_PATH, str(key_path))


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None,
                    reason="needs curl and jq (Debian packages curl, jq)")
def test_walkthrough_runs_as_written(tmp_path: Path) -> None:
    live = start_live(fresh_settings(tmp_path))
    key_path = live.settings.data_dir / "admin.key"
    try:
        shell = _as_written("\n".join(_blocks("sh")), live.url, key_path)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", shell], capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        answers = done.stdout
        assert '"status": "filled"' in answers and '"status": "cancelled"' in answers
        assert '"field": "price"' in answers
        assert "3200000" in answers and "\n[]\n" in answers  # no open orders left

        [python] = _blocks("python")
        ran = subprocess.run([sys.executable, "-c", _as_written(python, live.url, key_path)],
                             capture_output=True, text=True, timeout=60, check=False)
        assert ran.returncode == 0, ran.stderr
        lines = ran.stdout.splitlines()
        assert lines[0].startswith("filled [('$3.20', ")
        assert lines[-2] == "cancelled: cancelled"
        assert lines[-1].startswith("refused: price: 3005000 is not on the tick")
    finally:
        stop_live(live)
