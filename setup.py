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

setup(
    options=_options,
    ext_modules=[
        Extension(
            "auctioneer.tick._core",
            sources=["src/auctioneer/tick/_core.c", "src/auctioneer/tick/tick_core.c"],
            depends=["src/auctioneer/tick/tick_core.h", "src/auctioneer/tick/core_api.h",
                     "src/auctioneer/native/binding.h"],
            include_dirs=_INCLUDE,
            extra_compile_args=_compile,
            extra_link_args=_link,
        ),
        Extension(
            "auctioneer.tick._ring",
            sources=["src/auctioneer/tick/_ring.c", "src/auctioneer/tick/ring.c",
                     "src/auctioneer/tick/tick_core.c"],
            depends=["src/auctioneer/tick/ring.h", "src/auctioneer/tick/tick_core.h",
                     "src/auctioneer/native/binding.h"],
            include_dirs=_INCLUDE,
            extra_compile_args=_compile,
            extra_link_args=[*_link, "-pthread"],
        ),
        Extension(
            "auctioneer.tick._timing",
            sources=["src/auctioneer/tick/_timing.c", "src/auctioneer/tick/timing_ring.c",
                     "src/auctioneer/tick/ring.c", "src/auctioneer/tick/tick_core.c"],
            depends=["src/auctioneer/tick/core_api.h", "src/auctioneer/tick/timing_ring.h",
                     "src/auctioneer/tick/ring.h",
                     "src/auctioneer/tick/tick_core.h", "src/auctioneer/native/binding.h",
                     "src/auctioneer/native/timer.h"],
            include_dirs=_INCLUDE,
            extra_compile_args=_compile,
            extra_link_args=[*_link, "-pthread"],
        ),
        Extension(
            "auctioneer.exchange._match",
            sources=["src/auctioneer/exchange/_match.c", "src/auctioneer/exchange/match_core.c"],
            depends=["src/auctioneer/exchange/match_core.h", "src/auctioneer/native/binding.h"],
            include_dirs=_INCLUDE,
            extra_compile_args=_compile,
            extra_link_args=_link,
        ),
        Extension(
            "auctioneer.gpu._gpu",
            sources=["src/auctioneer/gpu/_gpu.c", "src/auctioneer/gpu/gpu_core.c"],
            depends=["src/auctioneer/gpu/gpu_core.h", "src/auctioneer/native/binding.h"],
            include_dirs=_INCLUDE,
            extra_compile_args=_compile,
            extra_link_args=_link,
        ),
    ]
)
