"""Run one fuzz target for a time budget: ``python tests/fuzz/run.py TARGET [SECONDS]``.

Targets are those of ``targets.py`` plus ``http_api`` (``http_api.py``). Under atheris
(``pip install atheris``; ``make fuzz`` installs it) a file target is coverage-guided: the
auctioneer modules are instrumented and atheris feeds hypothesis' ``fuzz_one_input``; a
finding is written as ``crash-*`` into ``tests/fuzz/findings/`` and the run exits 1. Without
atheris, or for ``http_api``, random buffers (hypothesis examples) are fed until the budget
is spent. The budget defaults to ``$FUZZ_SECONDS`` (60). Prints the number of inputs tried.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
FINDINGS = HERE / "findings"


def _atheris(target: str, seconds: int) -> None:
    import atheris  # type: ignore[import-not-found]

    with atheris.instrument_imports(include=["auctioneer"]):
        from targets import TARGETS  # type: ignore[import-not-found]
    FINDINGS.mkdir(exist_ok=True)
    corpus = FINDINGS / f"corpus-{target}"
    corpus.mkdir(exist_ok=True)
    test = TARGETS[target].hypothesis.fuzz_one_input  # type: ignore[attr-defined]
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-rss_limit_mb=3072",
                   "-print_final_stats=1", f"-artifact_prefix={FINDINGS}/{target}-",
                   str(corpus)], test)
    atheris.Fuzz()


def _random(target: str, seconds: int) -> int:
    if target == "http_api":
        from http_api import run  # type: ignore[import-not-found]

        return int(run(seconds))
    from targets import TARGETS

    test = TARGETS[target].hypothesis.fuzz_one_input  # type: ignore[attr-defined]
    rng = random.Random(int.from_bytes(os.urandom(8), "big"))
    deadline, tried = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        buffer = rng.randbytes(rng.choice([64, 256, 1024, 4096]))
        try:
            test(buffer)
        except Exception:
            FINDINGS.mkdir(exist_ok=True)
            path = FINDINGS / f"{target}-{int(time.time())}.bin"
            path.write_bytes(buffer)
            traceback.print_exc()
            print(f"FINDING in {target} after {tried} inputs: buffer saved to {path}")
            return 1
        tried += 1
    print(f"{target}: {tried} inputs in {seconds} s, no finding")
    return 0


def main(argv: list[str]) -> int:
    target = argv[0]
    seconds = int(argv[1]) if len(argv) > 1 else int(os.environ.get("FUZZ_SECONDS", "60"))
    sys.path.insert(0, str(HERE))
    if target != "http_api" and importlib.util.find_spec("atheris") is not None:
        _atheris(target, seconds)  # exits the process itself
    return _random(target, seconds)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
