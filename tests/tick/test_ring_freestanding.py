"""ring.c is freestanding C11 and its protocols hold on threads under the sanitizers.

The first test links ``ring.c`` (with ``tick_core.c``, which drain_book calls)
as a shared object with no libc, no libgcc and no floating point, as
``test_freestanding.py`` does for the tick core: an atomic the compiler could
not inline would be an undefined ``__atomic_*`` symbol. The second builds a
C driver that races producer threads against a consumer on SPSC and MPSC
rings, a writer against readers on the price page, and drains into a tick
book; it runs under ThreadSanitizer (which knows C11 atomics, so a missing
acquire or release shows as a data race on the records or the page) and
again under AddressSanitizer and UBSan, each where this gcc supports it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .native_build import GCC, TICK_DIR, check_freestanding, needs_gcc, run

pytestmark = pytest.mark.native

SOURCES = [TICK_DIR / "ring.c", TICK_DIR / "tick_core.c"]
API = [
    "ring_spsc_size", "ring_spsc_init", "ring_spsc_attach", "ring_spsc_push", "ring_spsc_drain",
    "ring_spsc_drain_book", "ring_spsc_len", "ring_spsc_capacity", "ring_spsc_check",
    "ring_mpsc_size", "ring_mpsc_init", "ring_mpsc_attach", "ring_mpsc_push", "ring_mpsc_drain",
    "ring_mpsc_drain_book", "ring_mpsc_len", "ring_mpsc_capacity", "ring_mpsc_check",
    "price_page_size", "price_page_init", "price_page_attach", "price_page_publish",
    "price_page_read", "price_page_seq",
]


@needs_gcc
@pytest.mark.parametrize("opt", ["-O2", "-O3"])
def test_ring_builds_freestanding(tmp_path: Path, opt: str) -> None:
    check_freestanding(SOURCES, "c11", opt, tmp_path / "libring.so", API)


DRIVER = r"""
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"

#define FAIL(...) do { fprintf(stderr, "line %d: ", __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)
#define PRODUCERS 3
#define BIDS 10000u
#define PAGES 20000u

static void *block(size_t size)
{
    void *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    if (!mem)
        FAIL("out of memory");
    memset(mem, 0xA5, size);  /* init must not rely on a zeroed block */
    return mem;
}

struct prod { int mpsc; void *ring; uint64_t id; };

static void *produce(void *p)
{
    struct prod *a = p;
    for (uint64_t seq = 0; seq < BIDS; seq++) {
        struct ring_bid bid = {a->id << 32 | seq, (uint32_t)seq, 1 + (uint32_t)(seq % 3)};
        while ((a->mpsc ? ring_mpsc_push(a->ring, &bid) : ring_spsc_push(a->ring, &bid))
               != RING_OK)
            sched_yield();  /* full: let the consumer run on a busy machine */
    }
    return NULL;
}

/* PRODUCERS threads: one SPSC ring each, or one MPSC ring shared. */
static void race_rings(int mpsc, uint32_t capacity)
{
    pthread_t th[PRODUCERS];
    struct prod args[PRODUCERS];
    void *rings[PRODUCERS];
    uint64_t next[PRODUCERS] = {0}, received = 0;
    struct ring_bid out[64];
    int nrings = mpsc ? 1 : PRODUCERS;
    size_t size = mpsc ? ring_mpsc_size(capacity) : ring_spsc_size(capacity);
    for (int r = 0; r < nrings; r++) {
        rings[r] = block(size);
        if ((mpsc ? ring_mpsc_init(rings[r], capacity) : ring_spsc_init(rings[r], capacity))
            != RING_OK)
            FAIL("init");
        if ((mpsc ? ring_mpsc_attach(rings[r], size) : ring_spsc_attach(rings[r], size))
            != RING_OK || (mpsc ? ring_spsc_attach(rings[r], size)
                                : ring_mpsc_attach(rings[r], size)) != RING_EINVAL)
            FAIL("attach");
    }
    for (int p = 0; p < PRODUCERS; p++) {
        args[p] = (struct prod){mpsc, rings[mpsc ? 0 : p], (uint64_t)p};
        if (pthread_create(&th[p], NULL, produce, &args[p]))
            FAIL("thread");
    }
    while (received < PRODUCERS * (uint64_t)BIDS) {
        for (int r = 0; r < nrings; r++) {
            uint32_t n = mpsc ? ring_mpsc_drain(rings[r], out, 64)
                              : ring_spsc_drain(rings[r], out, 64);
            for (uint32_t i = 0; i < n; i++) {
                uint64_t id = out[i].agent >> 32, seq = out[i].agent & 0xFFFFFFFFu;
                if (id >= PRODUCERS || seq != next[id] || out[i].price != (uint32_t)seq
                    || out[i].units != 1 + seq % 3)
                    FAIL("mpsc=%d: bid %llu of producer %llu lost, duplicated or changed",
                         mpsc, (unsigned long long)seq, (unsigned long long)id);
                next[id]++;
            }
            received += n;
            if (!n)
                sched_yield();
        }
    }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(th[p], NULL);
    for (int r = 0; r < nrings; r++) {
        if ((mpsc ? ring_mpsc_check(rings[r]) : ring_spsc_check(rings[r])) != RING_OK
            || (mpsc ? ring_mpsc_len(rings[r]) : ring_spsc_len(rings[r])) != 0)
            FAIL("check after the race");
        free(rings[r]);
    }
}

static struct price_page *page;
static void fields(uint64_t k, struct price_values *v)
{
    v->tick = k;
    v->cpu_price = (uint32_t)(k * 2654435761u);
    v->gpu_price = (uint32_t)(k * 40503u);
    v->cpu_multiplier = (uint32_t)k ^ 0x55555555u;
    v->gpu_multiplier = (uint32_t)(k + 123457u);
}

static void *write_pages(void *unused)
{
    (void)unused;
    for (uint64_t k = 1; k <= PAGES; k++) {
        struct price_values v;
        fields(k, &v);
        price_page_publish(page, &v);
    }
    return NULL;
}

static void *read_pages(void *unused)
{
    uint64_t last = 0;
    unsigned busy = 0;
    (void)unused;
    while (last < PAGES) {
        struct price_values v, want;
        /* A writer preempted mid-write (a loaded machine, ASan's slow paths) outlasts one
         * read's tries; starved means no whole page in a thousand reads with yields between. */
        if (price_page_read(page, &v, 1000000u) != RING_OK) {
            if (++busy == 1000)
                FAIL("read starved");
            sched_yield();
            continue;
        }
        busy = 0;
        fields(v.tick, &want);
        if (v.tick && memcmp(&v, &want, sizeof v))
            FAIL("torn page at tick %llu", (unsigned long long)v.tick);
        if (v.tick < last)
            FAIL("page went backwards");
        last = v.tick;
    }
    return NULL;
}

static void race_page(void)
{
    pthread_t w, r[2];
    page = block(price_page_size());
    if (price_page_init(page) != RING_OK || price_page_attach(page, price_page_size())
        || price_page_attach(page, price_page_size() - 1) != RING_EINVAL)
        FAIL("page init");
    for (int i = 0; i < 2; i++)
        pthread_create(&r[i], NULL, read_pages, NULL);
    pthread_create(&w, NULL, write_pages, NULL);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    if (price_page_seq(page) != 2ull * PAGES)
        FAIL("seq");
    free(page);
}

static void into_book(void)
{
    struct tick_params p;
    struct ring_bid bids[] = {{1, 500, 1}, {2, 700, 3}, {1, 0, 0}, {3, 0, 0},
                              {1ull << 40, 5, 1}, {0, 900, 2}};
    uint32_t rejected, agents[2], prices[2];
    void *ring = block(ring_mpsc_size(8));
    struct tick_book *book;
    memset(&p, 0, sizeof p);
    p.kind = TICK_HEAP;
    p.capacity = 4;
    book = block(tick_book_size(&p));
    memset(book, 0, tick_book_size(&p));
    if (tick_book_init(book, &p) || ring_mpsc_init(ring, 8))
        FAIL("book init");
    for (int i = 0; i < 6; i++)
        ring_mpsc_push(ring, &bids[i]);
    if (ring_mpsc_drain_book(ring, book, 5, &rejected) != 5 || rejected != 2
        || ring_mpsc_drain_book(ring, book, 5, &rejected) != 1 || rejected != 0)
        FAIL("drain_book counts");
    if (tick_select(book, 2, agents, prices) != 2 || agents[0] != 0 || agents[1] != 2
        || prices[1] != 700)
        FAIL("drain_book applied the wrong bids");
    if (ring_spsc_size(3) || ring_spsc_size(1) || ring_mpsc_size(1u << 25)
        || ring_spsc_init((char *)ring + 8, 4) != RING_EINVAL)
        FAIL("bad capacity or alignment accepted");
    free(ring);
    free(book);
}

int main(void)
{
    into_book();
    race_rings(0, 4);
    race_rings(0, 256);
    race_rings(1, 4);
    race_rings(1, 256);
    race_page();
    puts("ok");
    return 0;
}
"""


def _works(gcc: str, flags: list[str], tmp_path: Path) -> bool:
    """Can this gcc build and run a threaded program with ``flags``?"""
    probe = tmp_path / "probe.c"
    probe.write_text("#include <pthread.h>\nstatic void *f(void *a) { return a; }\n"
                     "int main(void) { pthread_t t; pthread_create(&t, 0, f, 0); "
                     "return pthread_join(t, 0); }\n")
    exe = tmp_path / "probe"
    if run([gcc, *flags, "-pthread", str(probe), "-o", str(exe)]).returncode != 0:
        return False
    return run([str(exe)], env=_clean_env()).returncode == 0


def _clean_env() -> dict[str, str]:
    """This environment without LD_PRELOAD: make sanitize preloads ASan into Python, and a
    ThreadSanitizer program cannot start with it."""
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0", "TSAN_OPTIONS": "halt_on_error=1",
           "UBSAN_OPTIONS": "print_stacktrace=1"}
    env.pop("LD_PRELOAD", None)
    return env


SANITIZERS = {
    "thread": ["-fsanitize=thread"],
    "address,undefined": ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
}


@needs_gcc
@pytest.mark.parametrize("sanitizer", list(SANITIZERS))
def test_ring_protocols_race_clean(tmp_path: Path, sanitizer: str) -> None:
    assert GCC is not None
    flags = SANITIZERS[sanitizer]
    if not _works(GCC, flags, tmp_path):
        pytest.skip(f"this gcc cannot build and run a threaded program with -fsanitize={sanitizer}")
    driver = tmp_path / "driver.c"
    driver.write_text(DRIVER)
    exe = tmp_path / "driver"
    # -O0: instrumenting tick_core.c at -O1 takes five times as long to compile; the
    # optimised builds are the freestanding test's.
    built = run([GCC, "-std=c11", "-Wall", "-Wextra", "-Werror", "-O0", "-g", *flags, "-pthread",
                 "-I", str(TICK_DIR), str(driver), *map(str, SOURCES), "-o", str(exe)])
    assert built.returncode == 0, f"driver build failed:\n{built.stderr}"
    ran = run([str(exe)], env=_clean_env())
    assert ran.returncode == 0, f"driver failed ({ran.returncode}):\n{ran.stderr[-4000:]}"
    assert ran.stdout.strip() == "ok"
