"""The tick core is freestanding C99: it compiles and links with no libc, no
libgcc and no floating point, and its invariants hold under a sanitizer.

The first test builds ``tick_core.c`` as a shared object with
``-ffreestanding -nostdlib -mgeneral-regs-only -Wl,-z,defs``: any floating
point fails to compile, and any call the compiler slips in (memset, memcpy, a
libgcc helper) is an undefined symbol that fails the link. The second compiles
a C driver against the core (with AddressSanitizer and UBSan when available)
and runs every structure through thousands of pseudo-random operations,
calling ``tick_book_check`` after each mutation and comparing each exact
structure's selections with a brute-force ranking.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .native_build import GCC, TICK_DIR, check_freestanding, needs_gcc, run

pytestmark = pytest.mark.native

CORE = TICK_DIR / "tick_core.c"

API = [
    "tick_book_size", "tick_book_init", "tick_update", "tick_expire", "tick_clear",
    "tick_select", "tick_select_max", "tick_slot_of", "tick_len", "tick_capacity",
    "tick_kind_of", "tick_tier_of", "tick_tier_floor", "tick_book_check",
]


@needs_gcc
@pytest.mark.parametrize("opt", ["-O2", "-O3"])
def test_core_builds_freestanding(tmp_path: Path, opt: str) -> None:
    """No libc, no libgcc, no floating point: the freestanding link succeeds."""
    check_freestanding([CORE], "c99", opt, tmp_path / "libtick.so", API)


DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tick_core.h"

#define FAIL(...) do { fprintf(stderr, "line %d: ", __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)
#define CHECK(b) do { if (tick_book_check(b) != TICK_OK) \
    FAIL("tick_book_check failed (config %d, op %d)", cfg, op); } while (0)

static uint64_t rs = 0x243F6A8885A308D3ull;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (uint32_t)(((rs >> 32) * n) >> 32);
}

static struct tick_book *make(const struct tick_params *p)
{
    size_t size = tick_book_size(p);
    void *mem;
    if (!size)
        FAIL("valid parameters rejected (kind %u)", p->kind);
    mem = aligned_alloc(16, (size + 15) & ~(size_t)15);
    if (!mem)
        FAIL("out of memory");
    memset(mem, 0, size);
    if (tick_book_init(mem, p) != TICK_OK)
        FAIL("init failed");
    return (struct tick_book *)mem;
}

static const struct tick_params *cur;
static struct tick_book *book;

static uint32_t key(uint32_t a)
{
    uint32_t price = tick_slot_of(book, a)->price;
    return cur->kind == TICK_TIERS ? tick_tier_of(&cur->map, price) : price;
}

/* Does a rank ahead of b? */
static int ahead(uint32_t a, uint32_t b)
{
    uint32_t ka = key(a), kb = key(b);
    return ka > kb || (ka == kb && tick_slot_of(book, a)->seq < tick_slot_of(book, b)->seq);
}

static uint32_t rank_price(uint32_t a)
{
    uint32_t price = tick_slot_of(book, a)->price;
    return cur->kind == TICK_TIERS ? tick_tier_floor(&cur->map, tick_tier_of(&cur->map, price))
                                   : price;
}

/* Every live agent, best first, by insertion sort: slow and obviously right. */
static uint32_t brute(uint32_t *out)
{
    uint32_t a, m = 0, cap = tick_capacity(book);
    for (a = 0; a < cap; a++) {
        uint32_t j;
        if (!tick_slot_of(book, a)->seq)
            continue;
        for (j = m++; j && ahead(a, out[j - 1]); j--)
            out[j] = out[j - 1];
        out[j] = a;
    }
    return m;
}

static int exact(void)
{
    switch (cur->kind) {
    case TICK_LAZY: return cur->threshold == 0;
    case TICK_SAMPLED: return cur->samples >= cur->capacity;
    default: return 1;
    }
}

static void check_select(int cfg, int op, uint32_t n, uint32_t *ag, uint32_t *pr,
                         uint32_t *all)
{
    uint32_t live = tick_len(book), want = n < live ? n : live, k, i;
    uint32_t got = tick_select(book, n, ag, pr);
    if (got > want)
        FAIL("select(%u) wrote %u of %u live (config %d, op %d)", n, got, live, cfg, op);
    if (cur->kind != TICK_SAMPLED && got != want)
        FAIL("select(%u) wrote %u, want %u (config %d, op %d)", n, got, want, cfg, op);
    if (cur->kind == TICK_SAMPLED && n && live && !got)
        FAIL("sampled select found nothing (config %d, op %d)", cfg, op);
    for (k = 0; k < got; k++) {
        if (ag[k] >= tick_capacity(book) || !tick_slot_of(book, ag[k])->seq)
            FAIL("selected a dead agent (config %d, op %d)", cfg, op);
        if (pr[k] != rank_price(ag[k]) || pr[k] > tick_slot_of(book, ag[k])->price)
            FAIL("wrong rank price (config %d, op %d)", cfg, op);
        if (k && !ahead(ag[k - 1], ag[k]))
            FAIL("selection out of rank order (config %d, op %d)", cfg, op);
    }
    if (!exact())
        return;
    i = brute(all);
    if (i != live)
        FAIL("tick_len %u but %u live slots", live, i);
    for (k = 0; k < got; k++)
        if (ag[k] != all[k])
            FAIL("rank %u: got agent %u, want %u (config %d, op %d)", k, ag[k], all[k], cfg, op);
}

static void check_errors(int cfg)
{
    uint32_t cap = tick_capacity(book), a = rnd(cap), len = tick_len(book);
    struct tick_slot before = *tick_slot_of(book, a);
    const struct tick_slot *after;
    int op = -1;
    if (tick_update(book, cap, 5, 1) != TICK_ERANGE || tick_expire(book, cap) != TICK_ERANGE
        || tick_update(book, a, 5, 0) != TICK_EINVAL || tick_slot_of(book, cap) != NULL)
        FAIL("bad argument accepted (config %d)", cfg);
    after = tick_slot_of(book, a);
    if (after->seq != before.seq || after->price != before.price || tick_len(book) != len)
        FAIL("a refused call changed the book (config %d)", cfg);
    if (!before.seq && tick_expire(book, a) != TICK_ENOENT)
        FAIL("expire of an absent bid accepted (config %d)", cfg);
    CHECK(book);
}

/* Hide a live bid behind the structure's back: the check must notice. */
static void check_detects(int cfg)
{
    uint32_t a, cap = tick_capacity(book);
    struct tick_slot *slot;
    uint64_t seq;
    for (a = 0; a < cap && !tick_slot_of(book, a)->seq; a++)
        ;
    if (a == cap)
        return;
    slot = (struct tick_slot *)(void *)tick_slot_of(book, a);
    seq = slot->seq;
    slot->seq = 0;
    if (tick_book_check(book) != TICK_ECORRUPT)
        FAIL("a vanished bid went unnoticed (config %d)", cfg);
    slot->seq = seq;
    if (tick_book_check(book) != TICK_OK)
        FAIL("restored book reported corrupt (config %d)", cfg);
}

static void exercise(int cfg, const struct tick_params *p, int ops)
{
    uint32_t cap = p->capacity, *ag, *pr, *all;
    int op;
    cur = p;
    book = make(p);
    ag = malloc(sizeof(uint32_t) * cap);
    pr = malloc(sizeof(uint32_t) * cap);
    all = malloc(sizeof(uint32_t) * cap);
    if (!ag || !pr || !all)
        FAIL("out of memory");
    if (tick_kind_of(book) != p->kind || tick_select_max(book) != cap)
        FAIL("header accessors (config %d)", cfg);
    op = 0;
    CHECK(book);
    for (op = 1; op <= ops; op++) {
        uint32_t r = rnd(100), a = rnd(cap);
        /* Phases alternate a tiny price range (ties, FIFO order) with the
         * full range (extremes, overflow in thresholds and floors). */
        uint32_t price = (op / 500) % 2 ? rnd(4) * 1000 : (uint32_t)(rs >> 7);
        if (rnd(50) == 0)
            price = rnd(2) ? 0 : TICK_PRICE_MAX;
        if (r < 55) {
            if (tick_update(book, a, price, 1 + rnd(9)) != TICK_OK)
                FAIL("update failed (config %d, op %d)", cfg, op);
            CHECK(book);
        } else if (r < 80) {
            int want = tick_slot_of(book, a)->seq ? TICK_OK : TICK_ENOENT;
            if (tick_expire(book, a) != want)
                FAIL("expire returned the wrong status (config %d, op %d)", cfg, op);
            CHECK(book);
        } else if (r < 81) {
            tick_clear(book);
            CHECK(book);
            if (tick_len(book) != 0 || tick_select(book, 3, ag, pr) != 0)
                FAIL("clear left bids (config %d, op %d)", cfg, op);
            CHECK(book);
        } else if (r < 83) {
            check_errors(cfg);
        } else if (r < 84) {
            check_detects(cfg);
        } else {
            uint32_t n = rnd(4) == 0 ? rnd(cap + 2) : rnd(4);
            if (n > cap)
                n = cap;
            check_select(cfg, op, n, ag, pr, all);
            CHECK(book);
        }
    }
    free(ag);
    free(pr);
    free(all);
    free(book);
}

static struct tick_params base(uint32_t kind, uint32_t capacity)
{
    struct tick_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.capacity = capacity;
    p.map.kind = TICK_MAP_LOG;
    p.map.tiers = TICK_MAX_TIERS;
    p.map.width = 1;
    p.map.sub_bits = 7;
    p.depth = 2;
    p.period = 64;
    p.group = 16;
    p.samples = 32;
    p.seed = 1;
    return p;
}

static void check_params(void)
{
    struct tick_params p;
    uint32_t kind;
    static unsigned char mem[4096] __attribute__((aligned(16)));
    for (kind = 0; kind <= TICK_HEAP; kind++) {
        p = base(kind, 0);
        if (tick_book_size(&p))
            FAIL("capacity 0 accepted");
        p = base(kind, (1u << 24) + 1);
        if (tick_book_size(&p))
            FAIL("capacity 2^24 + 1 accepted");
        p = base(kind, 1u << 24);
        if (!tick_book_size(&p))
            FAIL("capacity 2^24 refused");
    }
    p = base(5, 10);
    if (tick_book_size(&p) || tick_book_init(mem, &p) != TICK_EINVAL)
        FAIL("unknown kind accepted");
    if (tick_book_size(NULL))
        FAIL("NULL parameters accepted");
#define BAD(kind_, field, value) do { p = base(kind_, 10); p.field = value; \
    if (tick_book_size(&p)) FAIL("%s = %u accepted", #field, (unsigned)(value)); } while (0)
    BAD(TICK_LAZY, depth, 0); BAD(TICK_LAZY, depth, 65); BAD(TICK_LAZY, period, 0);
    BAD(TICK_TOURNEY, group, 0); BAD(TICK_TOURNEY, group, 65);
    BAD(TICK_SAMPLED, samples, 0);
    BAD(TICK_TIERS, map.tiers, 0); BAD(TICK_TIERS, map.tiers, 4097);
    BAD(TICK_TIERS, map.sub_bits, 17); BAD(TICK_TIERS, map.kind, 2);
    p = base(TICK_TIERS, 10); p.map.kind = TICK_MAP_LINEAR; p.map.width = 0;
    if (tick_book_size(&p))
        FAIL("width 0 accepted");
    p = base(TICK_HEAP, 10);
    if (tick_book_size(&p) > sizeof mem || tick_book_init(mem + 8, &p) != TICK_EINVAL)
        FAIL("misaligned block accepted");
}

static void check_tiers(void)
{
    struct tick_tier_map lin = {TICK_MAP_LINEAR, TICK_MAX_TIERS, 500000, 10000, 0};
    struct tick_tier_map lg = {TICK_MAP_LOG, TICK_MAX_TIERS, 0, 1, 7};
    int i;
    if (tick_tier_of(&lin, 853000) != 35 || tick_tier_floor(&lin, 35) != 850000
        || tick_tier_of(&lin, 499999) != 0 || tick_tier_floor(&lin, 0) != 0)
        FAIL("linear tier arithmetic");
    if (tick_tier_of(&lg, 255) != 255 || tick_tier_of(&lg, 256) != 256
        || tick_tier_of(&lg, 258) != 257 || tick_tier_floor(&lg, 257) != 258)
        FAIL("log tier arithmetic");
    for (i = 0; i < 20000; i++) {
        uint32_t price = i < 10000 ? rnd(1u << 20) : (uint32_t)(rs >> 11), t;
        lg.sub_bits = rnd(17);
        lg.tiers = 1 + rnd(TICK_MAX_TIERS);
        lin.width = 1 + rnd(1u << 20);
        lin.base = rnd(2) ? 0 : (uint32_t)(rs >> 40);
        lin.tiers = 1 + rnd(TICK_MAX_TIERS);
        t = tick_tier_of(&lg, price);
        if (t >= lg.tiers || tick_tier_floor(&lg, t) > price
            || (t < lg.tiers - 1 && tick_tier_of(&lg, tick_tier_floor(&lg, t)) != t))
            FAIL("log map: price %u tier %u", price, t);
        t = tick_tier_of(&lin, price);
        if (t >= lin.tiers || tick_tier_floor(&lin, t) > price
            || (t && t < lin.tiers - 1 && tick_tier_of(&lin, tick_tier_floor(&lin, t)) != t))
            FAIL("linear map: price %u tier %u", price, t);
    }
}

/* The header's xorshift64* replayed here: with agents inserted in id order
 * the dense positions are the ids, so one draw names the winner. */
static void check_rng(void)
{
    struct tick_params p = base(TICK_SAMPLED, 10);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    uint32_t a, ag[1], pr[1];
    int i, cfg = 99, op = 0;
    p.samples = 1;
    p.seed = 0;
    cur = &p;
    book = make(&p);
    for (a = 0; a < 10; a++)
        tick_update(book, a, 100 + a, 1);
    for (i = 0; i < 200; i++) {
        uint64_t r;
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        r = x * 0x2545F4914F6CDD1Dull;
        if (tick_select(book, 1, ag, pr) != 1 || ag[0] != (uint32_t)(((r >> 32) * 10) >> 32))
            FAIL("draw %d does not follow the header's generator", i);
        if (i == 100) {
            tick_clear(book);
            CHECK(book);
            for (a = 0; a < 10; a++)
                tick_update(book, a, 100 + a, 1);
        }
    }
    free(book);
}

int main(void)
{
    struct tick_params p[16];
    int n = 0, i;
    check_params();
    check_tiers();
    check_rng();
    p[n++] = base(TICK_HEAP, 300);
    p[n++] = base(TICK_HEAP, 1);
    p[n] = base(TICK_TIERS, 300); n++;
    p[n] = base(TICK_TIERS, 300); p[n].map.sub_bits = 0; p[n].map.tiers = 40; n++;
    p[n] = base(TICK_TIERS, 257); p[n].map.kind = TICK_MAP_LINEAR; p[n].map.width = 700;
        p[n].map.base = 1000; p[n].map.tiers = 5; n++;
    p[n] = base(TICK_TIERS, 300); p[n].map.kind = TICK_MAP_LINEAR;
        p[n].map.width = 1u << 20; p[n].map.base = 3000000000u; n++;
    p[n++] = base(TICK_LAZY, 300);
    p[n] = base(TICK_LAZY, 200); p[n].depth = 64; p[n].period = 1; n++;
    p[n] = base(TICK_LAZY, 300); p[n].depth = 5; p[n].threshold = 2000; p[n].period = 3; n++;
    p[n] = base(TICK_LAZY, 300); p[n].threshold = TICK_PRICE_MAX; p[n].period = 0xFFFFFFFFu; n++;
    p[n] = base(TICK_TOURNEY, 300); p[n].group = 1; n++;
    p[n] = base(TICK_TOURNEY, 301); p[n].group = 7; n++;
    p[n] = base(TICK_TOURNEY, 300); p[n].group = 64; n++;
    p[n] = base(TICK_SAMPLED, 300); p[n].samples = 8; p[n].seed = 0; n++;
    p[n] = base(TICK_SAMPLED, 300); p[n].samples = 300; n++;
    for (i = 0; i < n; i++)
        exercise(i, &p[i], 3000);
    puts("ok");
    return 0;
}
"""


def _sanitizer_flags(gcc: str, tmp_path: Path) -> list[str]:
    """ASan and UBSan flags if this gcc can build and run with them, else none."""
    flags = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    exe = tmp_path / "probe"
    if run([gcc, *flags, str(probe), "-o", str(exe)]).returncode != 0:
        return []
    ran = run([str(exe)], env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
    return flags if ran.returncode == 0 else []


@needs_gcc
def test_core_invariants_under_random_operations(tmp_path: Path) -> None:
    """Every structure keeps its invariants and ranks exactly, op after op."""
    assert GCC is not None
    driver = tmp_path / "driver.c"
    driver.write_text(DRIVER)
    exe = tmp_path / "driver"
    sanitize = _sanitizer_flags(GCC, tmp_path)
    built = run([GCC, "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", *sanitize,
                 "-I", str(TICK_DIR), str(driver), str(CORE), "-o", str(exe)])
    assert built.returncode == 0, f"driver build failed:\n{built.stderr}"
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1"}
    ran = run([str(exe)], env=env)
    assert ran.returncode == 0, f"driver failed ({ran.returncode}):\n{ran.stderr[-4000:]}"
    assert ran.stdout.strip() == "ok"
