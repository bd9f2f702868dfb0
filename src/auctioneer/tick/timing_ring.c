/*
 * timing_ring.c - the ring half of auctioneer.tick._timing: time_op() and
 * run_pair() over bid rings, a price page and a tier book of their own
 * (blocks allocated here, never a Python object's).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "ring.h"
#include "tick_core.h"
#include "timer.h"
#include "timing_ring.h"

/* A 64-byte aligned, zeroed block that dies with its owner. */
typedef struct {
    void *raw;
    void *mem;
} block;

static int
block_alloc(block *b, size_t size)
{
    b->raw = PyMem_RawCalloc(1, size + RING_LINE);
    b->mem = (void *)(((uintptr_t)b->raw + RING_LINE - 1) & ~(uintptr_t)(RING_LINE - 1));
    return b->raw == NULL ? -1 : 0;
}

static void *
ring_alloc(block *b, int kind, uint32_t capacity)
{
    size_t size = kind == KIND_SPSC ? ring_spsc_size(capacity) : ring_mpsc_size(capacity);
    if (block_alloc(b, size) < 0) {
        return NULL;
    }
    if (kind == KIND_SPSC) {
        ring_spsc_init(b->mem, capacity);
    } else {
        ring_mpsc_init(b->mem, capacity);
    }
    return b->mem;
}

static inline int
push_kind(int kind, void *ring, const struct ring_bid *bid)
{
    return kind == KIND_SPSC ? ring_spsc_push(ring, bid) : ring_mpsc_push(ring, bid);
}

static inline uint32_t
drain_kind(int kind, void *ring, struct ring_bid *out, uint32_t max)
{
    return kind == KIND_SPSC ? ring_spsc_drain(ring, out, max) : ring_mpsc_drain(ring, out, max);
}

#define BOOK_AGENTS 1024u

/* A tier book of BOOK_AGENTS agents, the tick core's default map. */
static struct tick_book *
book_alloc(block *b)
{
    struct tick_params p;
    memset(&p, 0, sizeof p);
    p.kind = TICK_TIERS;
    p.capacity = BOOK_AGENTS;
    p.map.kind = TICK_MAP_LOG;
    p.map.tiers = TICK_MAX_TIERS;
    p.map.width = 1;
    p.map.sub_bits = 7;
    if (block_alloc(b, tick_book_size(&p)) < 0 || tick_book_init(b->mem, &p) != TICK_OK) {
        return NULL;
    }
    return b->mem;
}

/* Each sample times one push, one publish, one read or nothing; the batch
 * ops time `batch` pushes in a row, or one drain_book of `batch` records,
 * and divide by batch (resolving costs below the timer's granularity). */
static int
time_loop(int op, uint32_t capacity, uint32_t batch, uint64_t *out, Py_ssize_t ops)
{
    int kind = op == OP_MPSC_PUSH || op == OP_MPSC_PUSH_BATCH || op == OP_MPSC_DRAIN_BOOK
                   ? KIND_MPSC
                   : KIND_SPSC;
    block rb = {NULL, NULL}, bb = {NULL, NULL}, pb = {NULL, NULL};
    struct ring_bid *scratch = PyMem_RawMalloc((size_t)capacity * sizeof *scratch);
    void *ring = ring_alloc(&rb, kind, capacity);
    struct tick_book *book = book_alloc(&bb);
    int rc = -1;
    if (scratch == NULL || ring == NULL || book == NULL ||
        block_alloc(&pb, price_page_size()) < 0) {
        goto done;
    }
    struct price_page *page = pb.mem;
    price_page_init(page);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    uint32_t pending = 0;
    for (Py_ssize_t i = 0; i < ops; i++) {
        uint64_t t0 = 0, t1 = 0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        struct ring_bid bid = {(x >> 8) % BOOK_AGENTS, 500000u + (uint32_t)(x >> 44), 1};
        switch (op) {
        case OP_SPSC_PUSH:
        case OP_MPSC_PUSH:
            if (pending == batch) {  /* the consumer's turn, untimed */
                drain_kind(kind, ring, scratch, capacity);
                pending = 0;
            }
            t0 = timer_start();
            (void)push_kind(kind, ring, &bid);
            t1 = timer_stop();
            pending++;
            break;
        case OP_SPSC_PUSH_BATCH:
        case OP_MPSC_PUSH_BATCH:
            drain_kind(kind, ring, scratch, capacity);  /* untimed */
            t0 = timer_start();
            for (uint32_t k = 0; k < batch; k++) {
                bid.agent = k;
                (void)push_kind(kind, ring, &bid);
            }
            t1 = timer_stop();
            t1 = t0 + (t1 - t0) / batch;
            break;
        case OP_SPSC_DRAIN_BOOK:
        case OP_MPSC_DRAIN_BOOK: {
            uint32_t bad;
            for (uint32_t k = 0; k < batch; k++) {
                bid.agent = (bid.agent + 7) % BOOK_AGENTS;
                bid.price += 977u * k;
                (void)push_kind(kind, ring, &bid);
            }
            t0 = timer_start();
            if (kind == KIND_SPSC) {
                (void)ring_spsc_drain_book(ring, book, batch, &bad);
            } else {
                (void)ring_mpsc_drain_book(ring, book, batch, &bad);
            }
            t1 = timer_stop();
            t1 = t0 + (t1 - t0) / batch;
            break;
        }
        case OP_PAGE_PUBLISH: {
            struct price_values v = {(uint64_t)i, bid.price, bid.price / 3, 1000000u,
                                     2000000u};
            t0 = timer_start();
            price_page_publish(page, &v);
            t1 = timer_stop();
            break;
        }
        case OP_PAGE_READ: {
            struct price_values v;
            t0 = timer_start();
            (void)price_page_read(page, &v, PRICE_PAGE_DEFAULT_TRIES);
            t1 = timer_stop();
            break;
        }
        default:
            t0 = timer_start();
            t1 = timer_stop();
            break;
        }
        out[i] = t1 - t0;
    }
    rc = 0;
done:
    PyMem_RawFree(scratch);
    PyMem_RawFree(rb.raw);
    PyMem_RawFree(bb.raw);
    PyMem_RawFree(pb.raw);
    return rc;
}

PyObject *
timing_time_op(PyObject *Py_UNUSED(module), PyObject *args)
{
    int op;
    Py_ssize_t ops;
    unsigned int capacity = 1024, batch = 256;
    if (!PyArg_ParseTuple(args, "in|II:time_op", &op, &ops, &capacity, &batch)) {
        return NULL;
    }
    if (op < 0 || op >= OP_COUNT || ops < 1 || ring_spsc_size(capacity) == 0 || batch < 1 ||
        batch > capacity) {
        PyErr_Format(PyExc_ValueError, "time_op: op must be in 0..%d, ops >= 1, capacity a "
                     "power of two in %u..%u and batch in 1..capacity", OP_COUNT - 1,
                     RING_MIN_CAPACITY, RING_MAX_CAPACITY);
        return NULL;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, ops * 8);
    if (result == NULL) {
        return NULL;
    }
    uint64_t *out = (uint64_t *)(void *)PyBytes_AS_STRING(result);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = time_loop(op, capacity, batch, out, ops);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        Py_DECREF(result);
        return PyErr_NoMemory();
    }
    return result;
}

/* run_pair: producers on threads, the consumer on the calling thread. */

#define MAX_PRODUCERS 64
#define DRAIN_BATCH 256u

typedef struct {
    int kind;
    void *ring;               /* this producer's ring (SPSC) or the shared one */
    uint32_t id;
    uint64_t count;
    uint64_t *lat;            /* count entries when timed, else NULL */
    uint64_t full;            /* pushes refused for a full ring */
    int cpu;                  /* -1: leave unpinned */
    _Atomic int *go;
} producer_arg;

static void
pin(int cpu)
{
#ifdef __linux__
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((size_t)cpu, &set);
        (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
#else
    (void)cpu;
#endif
}

static void *
producer_main(void *p)
{
    producer_arg *a = p;
    pin(a->cpu);
    while (!atomic_load_explicit(a->go, memory_order_acquire)) {
        cpu_relax();
    }
    for (uint64_t seq = 0; seq < a->count; seq++) {
        struct ring_bid bid = {((uint64_t)a->id << 32) | seq, (uint32_t)seq, 1};
        uint64_t t0, t1;
        for (;;) {
            t0 = a->lat != NULL ? timer_start() : 0;
            int status = push_kind(a->kind, a->ring, &bid);
            t1 = a->lat != NULL ? timer_stop() : 0;
            if (status == RING_OK) {
                break;
            }
            a->full++;
            cpu_relax();
        }
        if (a->lat != NULL) {
            a->lat[seq] = t1 - t0;
        }
    }
    return NULL;
}

/* The CPUs this thread may run on, up to `max`. */
static int
allowed_cpus(int *cpus, int max)
{
    int n = 0;
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE && n < max; c++) {
            if (CPU_ISSET((size_t)c, &set)) {
                cpus[n++] = c;
            }
        }
    }
#else
    (void)cpus;
    (void)max;
#endif
    return n;
}

typedef struct {
    uint64_t elapsed_ns;
    uint64_t full;
    uint64_t received;
    uint64_t disorder;   /* records out of per-producer order, lost or duplicated */
    int pinned;
} pair_result;

static int
pair_loop(int kind, uint32_t capacity, uint32_t producers, uint64_t per_producer, int timed,
          uint64_t *lat, int pin_threads, uint64_t pace_ns, pair_result *res)
{
    block rings[MAX_PRODUCERS];
    producer_arg args[MAX_PRODUCERS];
    pthread_t threads[MAX_PRODUCERS];
    uint64_t next[MAX_PRODUCERS];
    uint32_t nrings = kind == KIND_SPSC ? producers : 1, started = 0;
    struct ring_bid *batch = PyMem_RawMalloc(DRAIN_BATCH * sizeof *batch);
    int cpus[CPU_SETSIZE > 1024 ? 1024 : CPU_SETSIZE];
    int ncpu = pin_threads ? allowed_cpus(cpus, (int)(sizeof cpus / sizeof cpus[0])) : 0;
    _Atomic int go = 0;
    int rc = -1;
    memset(rings, 0, sizeof rings);
    memset(res, 0, sizeof *res);
    res->pinned = ncpu >= 2;
    for (uint32_t r = 0; r < nrings; r++) {
        if (ring_alloc(&rings[r], kind, capacity) == NULL) {
            goto done;
        }
    }
    if (batch == NULL) {
        goto done;
    }
    if (res->pinned) {
        pin(cpus[0]);  /* the consumer; producers share the other CPUs */
    }
    for (uint32_t p = 0; p < producers; p++) {
        args[p] = (producer_arg){kind, rings[kind == KIND_SPSC ? p : 0].mem, p, per_producer,
                                 timed && p == 0 ? lat : NULL, 0,
                                 res->pinned ? cpus[1 + (int)p % (ncpu - 1)] : -1, &go};
        next[p] = 0;
        if (pthread_create(&threads[p], NULL, producer_main, &args[p]) != 0) {
            break;  /* consume what the started ones push, then fail */
        }
        started++;
    }
    uint64_t total = (uint64_t)started * per_producer, t0 = monotonic_ns();
    atomic_store_explicit(&go, 1, memory_order_release);
    uint64_t next_tick = t0;
    while (res->received < total) {
        /* Round robin over the rings: the tick polling one ring per agent.
         * Paced, each visit empties the ring, then the consumer waits for the
         * next tick; unpaced, it takes a batch per ring and comes straight
         * back (the worst case for the producers' cache lines). */
        uint64_t got = 0;
        for (uint32_t r = 0; r < nrings; r++) {
            uint32_t n;
            do {
                n = drain_kind(kind, rings[r].mem, batch, DRAIN_BATCH);
                for (uint32_t i = 0; i < n; i++) {
                    uint64_t id = batch[i].agent >> 32, seq = batch[i].agent & 0xFFFFFFFFu;
                    if (id >= producers || seq != next[id]) {
                        res->disorder++;
                    } else {
                        next[id]++;
                    }
                }
                got += n;
            } while (pace_ns && n == DRAIN_BATCH);
        }
        res->received += got;
        if (pace_ns) {
            next_tick += pace_ns;
            while (monotonic_ns() < next_tick) {
                cpu_relax();
            }
        } else if (got == 0) {
            cpu_relax();
        }
    }
    res->elapsed_ns = monotonic_ns() - t0;
    rc = started == producers ? 0 : -1;
    for (uint32_t p = 0; p < started; p++) {
        pthread_join(threads[p], NULL);
        res->full += args[p].full;
    }
done:
    for (uint32_t r = 0; r < nrings; r++) {
        PyMem_RawFree(rings[r].raw);
    }
    PyMem_RawFree(batch);
    if (pin_threads) {
        /* Give the calling thread its whole CPU set back. */
#ifdef __linux__
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int c = 0; c < ncpu; c++) {
            CPU_SET((size_t)cpus[c], &set);
        }
        if (ncpu > 0) {
            (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        }
#endif
    }
    return rc;
}

PyObject *
timing_run_pair(PyObject *Py_UNUSED(module), PyObject *args)
{
    int kind, timed = 0, pin_threads = 1;
    unsigned int capacity, producers;
    unsigned long long per_producer, pace_ns = 0;
    if (!PyArg_ParseTuple(args, "iIIK|ppK:run_pair", &kind, &capacity, &producers,
                          &per_producer, &timed, &pin_threads, &pace_ns)) {
        return NULL;
    }
    if ((kind != KIND_SPSC && kind != KIND_MPSC) || ring_spsc_size(capacity) == 0 ||
        producers < 1 || producers > MAX_PRODUCERS || per_producer < 1 ||
        per_producer > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "run_pair: kind 0 (SPSC) or 1 (MPSC), capacity a power "
                     "of two in %u..%u, producers in 1..%d, per_producer in 1..2**32-1",
                     RING_MIN_CAPACITY, RING_MAX_CAPACITY, MAX_PRODUCERS);
        return NULL;
    }
    PyObject *lat_bytes = PyBytes_FromStringAndSize(NULL, timed ? (Py_ssize_t)per_producer * 8
                                                                : 0);
    if (lat_bytes == NULL) {
        return NULL;
    }
    uint64_t *lat = timed ? (uint64_t *)(void *)PyBytes_AS_STRING(lat_bytes) : NULL;
    pair_result res;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pair_loop(kind, capacity, producers, per_producer, timed, lat, pin_threads, pace_ns,
                   &res);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        Py_DECREF(lat_bytes);
        PyErr_SetString(PyExc_OSError, "run_pair: out of memory or cannot start a thread");
        return NULL;
    }
    return Py_BuildValue("{sKsKsKsKsOsN}", "elapsed_ns", (unsigned long long)res.elapsed_ns,
                         "full", (unsigned long long)res.full, "received",
                         (unsigned long long)res.received, "disorder",
                         (unsigned long long)res.disorder, "pinned",
                         res.pinned ? Py_True : Py_False, "latency", lat_bytes);
}
