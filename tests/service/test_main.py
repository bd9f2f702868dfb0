"""The app's lifespan: the garbage collector is tuned only for a service in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_PROBE = """
import gc, sys
from pathlib import Path
from fastapi.testclient import TestClient
from auctioneer.service.main import create_app
from auctioneer.service.settings import Settings
before = gc.get_threshold()
with TestClient(create_app(Settings(data_dir=Path(sys.argv[1]), own_process=sys.argv[2] == "1"))):
    print(before == gc.get_threshold(), gc.get_threshold(), gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize(("own", "expected"), [
    (True, "False (10000, 10, 10) True"), (False, "True (700, 10, 10) False")])
def test_only_a_service_in_its_own_process_quiets_the_collector(tmp_path: Path, own: bool,
                                                                expected: str) -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path), "1" if own else "0"],
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == expected
