"""Builds the C extensions; everything else is in pyproject.toml.

Set AUCTIONEER_SANITIZE=1 to build with AddressSanitizer and
UndefinedBehaviorSanitizer (as msgspec's MSGSPEC_SANITIZE does); `make sanitize`
does so in its own virtual environment and runs the native tests there.
"""

import os

from setuptools import Extension, setup

# binding.h and timer.h, shared by every binding, live in one place.
_INCLUDE = ["src/auctioneer/native"]
_WARNINGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wconversion", "-Werror=implicit-function-declaration"]

if os.environ.get("AUCTIONEER_SANITIZE"):
    _SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    _compile = [*_WARNINGS, "-O1", "-g", "-fno-omit-frame-pointer", "-DAUCTIONEER_SANITIZED",
                *_SANITIZE]
    _link = _SANITIZE
    # setuptools reuses object files by timestamp, whatever the flags: keep the
    # instrumented objects apart from the normal ones, both ways.
    _options = {"build": {"build_base": "build/sanitize"}}
else:
    _compile = [*_WARNINGS, "-O3"]
    _link = []
    _options = {}


def _extension(name: str, sources: list[str], depends: list[str],
               threads: bool = False) -> Extension:
    """One extension under the shared includes and flags; ``threads`` links pthreads."""
    return Extension(
        name,
        sources=sources,
        depends=[*depends, "src/auctioneer/native/binding.h"],
        include_dirs=_INCLUDE,
        extra_compile_args=_compile,
        extra_link_args=[*_link, "-pthread"] if threads else _link,
    )


setup(
    options=_options,
    ext_modules=[
        _extension(
            "auctioneer.tick._core",
            ["src/auctioneer/tick/_core.c", "src/auctioneer/tick/tick_core.c"],
            ["src/auctioneer/tick/tick_core.h", "src/auctioneer/tick/core_api.h"],
        ),
        _extension(
            "auctioneer.tick._ring",
            ["src/auctioneer/tick/_ring.c", "src/auctioneer/tick/ring.c",
             "src/auctioneer/tick/tick_core.c"],
            ["src/auctioneer/tick/ring.h", "src/auctioneer/tick/tick_core.h"],
            threads=True,
        ),
        _extension(
            "auctioneer.tick._timing",
            ["src/auctioneer/tick/_timing.c", "src/auctioneer/tick/timing_ring.c",
             "src/auctioneer/tick/ring.c", "src/auctioneer/tick/tick_core.c"],
            ["src/auctioneer/tick/core_api.h", "src/auctioneer/tick/timing_ring.h",
             "src/auctioneer/tick/ring.h", "src/auctioneer/tick/tick_core.h",
             "src/auctioneer/native/timer.h"],
            threads=True,
        ),
        _extension(
            "auctioneer.exchange._match",
            ["src/auctioneer/exchange/_match.c", "src/auctioneer/exchange/match_core.c",
             "src/auctioneer/exchange/match_cross.c"],
            ["src/auctioneer/exchange/match_core.h", "src/auctioneer/exchange/match_inline.h"],
        ),
        _extension(
            "auctioneer.exchange._engine",
            ["src/auctioneer/exchange/_engine.c", "src/auctioneer/exchange/engine_commands.c",
             "src/auctioneer/exchange/engine_events.c", "src/auctioneer/exchange/engine_lazy.c",
             "src/auctioneer/exchange/engine_load.c", "src/auctioneer/exchange/engine_query.c",
             "src/auctioneer/exchange/engine_replay.c",
             "src/auctioneer/exchange/engine_rapply.c", "src/auctioneer/exchange/engine_changes.c",
             "src/auctioneer/exchange/engine_crc.c",
             "src/auctioneer/exchange/engine_check.c", "src/auctioneer/exchange/engine_names.c",
             "src/auctioneer/exchange/engine_tape.c",
             "src/auctioneer/exchange/engine_batch.c", "src/auctioneer/exchange/engine_answer.c",
             "src/auctioneer/exchange/engine_snapshot.c", "src/auctioneer/exchange/engine_runs.c",
             "src/auctioneer/exchange/engine_restore.c",
             "src/auctioneer/exchange/engine_refuse.c",
             "src/auctioneer/exchange/engine_orders.c",
             "src/auctioneer/exchange/engine_core.c", "src/auctioneer/exchange/engine_cross.c",
             "src/auctioneer/exchange/match_core.c", "src/auctioneer/exchange/match_cross.c"],
            ["src/auctioneer/exchange/engine_binding.h", "src/auctioneer/exchange/engine_core.h",
             "src/auctioneer/exchange/engine_inline.h", "src/auctioneer/exchange/match_inline.h",
             "src/auctioneer/exchange/engine_changes.h", "src/auctioneer/exchange/engine_json.h",
             "src/auctioneer/exchange/engine_buffer.h", "src/auctioneer/exchange/engine_fields.h",
             "src/auctioneer/exchange/match_core.h", "src/auctioneer/exchange/engine_runs.h"],
        ),
        _extension("auctioneer.exchange._price", ["src/auctioneer/exchange/_price.c"], []),
        _extension(
            "auctioneer.gpu._gpu",
            ["src/auctioneer/gpu/_gpu.c", "src/auctioneer/gpu/gpu_core.c"],
            ["src/auctioneer/gpu/gpu_core.h"],
        ),
    ]
)
