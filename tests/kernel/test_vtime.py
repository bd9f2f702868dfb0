"""The scheduler's slice-end clamp is the simulator's: ``kernel/scx_auction_vtime.h`` on the host.

``window_of``, ``clamp_vtime`` and ``rebank`` call no BPF helper, so the BPF
object includes them from a header that a small host program includes too;
hypothesis drives that program and :meth:`auctioneer.sim.fairshare._State.rebank`
through the same slice ends and compares the tags, and the cut counters against
what the simulator's cut took. Skipped, naming it, without a host C compiler.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.sim.fairshare import FairSharePolicy, _State

from ..tick.native_build import run

KERNEL = Path(__file__).resolve().parents[2] / "kernel"
CC = shutil.which("cc") or shutil.which("clang")

# stdin: "lag bank period", then "vnow tag now" per slice end of one task;
# stdout per slice end: its tag after rebank, window_cuts, window_cut_ns.
HARNESS = r"""
#include <stdint.h>
#include <stdio.h>
#include "scx_auction.h"
typedef uint64_t u64;
typedef int64_t s64;
#ifndef __always_inline /* glibc's sys/cdefs.h has it */
#define __always_inline inline
#endif
static u64 vtime_now, lag_ns, bank_ns, budget_period_ns;
struct task_ctx { u64 vtime; u64 bank_until; };
#include "scx_auction_vtime.h"

int main(void)
{
    struct task_ctx tc = {0};
    struct scx_auction_stats st = {0};
    unsigned long long lag, bank, period, vnow, tag, now;

    if (scanf("%llu %llu %llu", &lag, &bank, &period) != 3)
        return 2;
    lag_ns = lag, bank_ns = bank, budget_period_ns = period;
    while (scanf("%llu %llu %llu", &vnow, &tag, &now) == 3) {
        vtime_now = vnow;
        tc.vtime = tag;
        rebank(&tc, now, &st);
        printf("%llu %llu %llu\n", (unsigned long long)tc.vtime,
               (unsigned long long)st.window_cuts, (unsigned long long)st.window_cut_ns);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CC is None:
        pytest.skip("needs a host C compiler (cc or clang) for the vtime harness")
    tmp = tmp_path_factory.mktemp("vtime")
    (tmp / "harness.c").write_text(HARNESS)
    built = run([CC, "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNEL}", "-o",
                 str(tmp / "harness"), str(tmp / "harness.c")])
    assert built.returncode == 0, built.stderr
    return tmp / "harness"


SLICE_ENDS = st.lists(st.tuples(st.integers(0, 3 * 10**9), st.integers(0, 2**50),
                                st.integers(0, 2**50)), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 2**32),
       st.one_of(st.sampled_from([0, 1, 7, 10**6, 10**9]), st.integers(1, 2**31)), SLICE_ENDS)
def test_rebank_is_the_simulators(harness: Path, lag: int, bank: int, period: int,
                                  ends: list[tuple[int, int, int]]) -> None:
    """One task's slice ends (time moving on, any vtime_now, tags above and below it; period 0:
    no budget windows): the kernel's tag is the simulator's after each, and the counters hold
    the cut's part."""
    s = _State(1, FairSharePolicy(lag_ns=lag, bank_ns=bank, window_ns=period), 1_000_000)
    now, lines, want = 0, [f"{lag} {bank} {period}"], []
    cuts = cut_ns = 0
    for step, vnow, tag in ends:
        now += step
        s.vnow, s.tag[0] = vnow, tag
        s.rebank(0, now)
        banked = max(tag, vnow - bank)
        if s.tag[0] != banked:
            cuts, cut_ns = cuts + 1, cut_ns + s.tag[0] - banked
        lines.append(f"{vnow} {tag} {now}")
        want.append((s.tag[0], cuts, cut_ns))
    out = subprocess.run([str(harness)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout
    got = [tuple(int(v) for v in line.split()) for line in out.splitlines()]
    assert got == want
