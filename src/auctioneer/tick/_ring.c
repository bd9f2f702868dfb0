/*
 * _ring.c - the CPython binding of ring.h: module auctioneer.tick._ring.
 *
 * Three types over a caller's writable buffer (a multiprocessing
 * SharedMemory's .buf, 64-byte aligned as every mapping is):
 *   SpscRing(buffer, capacity=None), MpscRing(buffer, capacity=None):
 *       with a capacity, lay a fresh ring out in the buffer; without one,
 *       attach to the ring already there (ring_*_attach checks it);
 *   PricePage(buffer, create=False).
 * Each holds its buffer export until release() or deallocation; a released
 * object raises ValueError. Arguments take a fast path in C for exact ints in
 * range; anything else goes to auctioneer.tick.limits's checks, which
 * raise the reference's exact exceptions. push and publish take positional
 * arguments only, as the reference's signatures do.
 *
 * The module also holds the ring benchmark's native harness: time_op() times
 * one operation at a time with the time stamp counter (the serialised
 * rdtsc / rdtscp pair of timer.h; calibrate with _core.timer_hz()), and
 * run_pair() runs producer threads against a consumer on other cores.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "binding.h"
#include "ring.h"
#include "tick_core.h"
#include "timer.h"

static PyObject *check_bid_fn;    /* limits.check_bid */
static PyObject *check_max_fn;    /* limits.check_max */
static PyObject *check_prices_fn; /* limits.check_prices */

enum { KIND_SPSC = 0, KIND_MPSC = 1 };

/* ------------------------------------------------------------------------ */
/* Arguments (the fast paths are binding.h's).                             */

static int
positional(const char *name, Py_ssize_t nargs, Py_ssize_t low, Py_ssize_t high)
{
    if (nargs >= low && nargs <= high) {
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s() takes from %zd to %zd positional arguments but %zd "
                 "were given", name, low, high, nargs);
    return -1;
}

/* push(agent, price, units=1): the three fields of a bid. */
static inline int
get_bid(PyObject *const *args, Py_ssize_t nargs, struct ring_bid *bid)
{
    PyObject *one = NULL;
    if (fast_u64(args[0], &bid->agent) && fast_u32(args[1], &bid->price)) {
        if (nargs == 2) {
            bid->units = 1;
            return 0;
        }
        if (fast_u32(args[2], &bid->units)) {
            return 0;
        }
    }
    one = PyLong_FromLong(1);
    if (one == NULL) {
        return -1;
    }
    PyObject *call[3] = {args[0], args[1], nargs == 3 ? args[2] : one};
    int rc = raise_from_check(check_bid_fn, call, 3);
    Py_DECREF(one);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Buffers.                                                                 */

static int
get_buffer(PyObject *obj, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        return -1;
    }
    if (((uintptr_t)view->buf & (RING_LINE - 1)) != 0) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError,
                        "the buffer must start on a 64-byte boundary (a SharedMemory's .buf "
                        "does)");
        return -1;
    }
    return 0;
}

static int
released(const void *mem)
{
    if (mem == NULL) {
        PyErr_SetString(PyExc_ValueError, "this object has released its buffer");
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* SpscRing and MpscRing: one object layout, the kind picks the functions. */

typedef struct {
    PyObject_HEAD
    Py_buffer view;
    void *ring;               /* view.buf while held, NULL once released */
    struct ring_bid *scratch; /* capacity records for drain */
    uint32_t capacity;
    int kind;
} RingObject;

static PyTypeObject SpscRing_Type;
static PyTypeObject MpscRing_Type;

static PyObject *
ring_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"buffer", "capacity", NULL};
    PyObject *buffer, *capacity_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O", kwlist, &buffer, &capacity_obj)) {
        return NULL;
    }
    int kind = PyType_IsSubtype(type, &MpscRing_Type) ? KIND_MPSC : KIND_SPSC;
    uint32_t capacity = 0;
    if (capacity_obj != Py_None) {
        if (!fast_u32(capacity_obj, &capacity) ||
            (kind == KIND_SPSC ? ring_spsc_size(capacity) : ring_mpsc_size(capacity)) == 0) {
            PyErr_Format(PyExc_ValueError,
                         "capacity must be a power of two in %u..%u, got %R",
                         RING_MIN_CAPACITY, RING_MAX_CAPACITY, capacity_obj);
            return NULL;
        }
    }
    RingObject *self = (RingObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->kind = kind;
    if (get_buffer(buffer, &self->view) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    void *mem = self->view.buf;
    size_t nbytes = (size_t)self->view.len;
    int status;
    if (capacity_obj != Py_None) {
        size_t need = kind == KIND_SPSC ? ring_spsc_size(capacity) : ring_mpsc_size(capacity);
        if (nbytes < need) {
            PyErr_Format(PyExc_ValueError, "a ring of capacity %u needs %zu bytes, the buffer "
                         "has %zu", capacity, need, nbytes);
            goto fail;
        }
        status = kind == KIND_SPSC ? ring_spsc_init(mem, capacity) : ring_mpsc_init(mem, capacity);
    } else {
        status = kind == KIND_SPSC ? ring_spsc_attach(mem, nbytes) : ring_mpsc_attach(mem, nbytes);
    }
    if (status != RING_OK) {
        PyErr_Format(PyExc_ValueError, "the buffer holds no %s ring of this version",
                     kind == KIND_SPSC ? "SPSC" : "MPSC");
        goto fail;
    }
    self->capacity = kind == KIND_SPSC ? ring_spsc_capacity(mem) : ring_mpsc_capacity(mem);
    self->scratch = PyMem_Malloc((size_t)self->capacity * sizeof(struct ring_bid));
    if (self->scratch == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    self->ring = mem;
    return (PyObject *)self;
fail:
    Py_DECREF(self);  /* dealloc releases the view */
    return NULL;
}

static void
ring_release_view(RingObject *self)
{
    if (self->view.obj != NULL) {
        PyBuffer_Release(&self->view);
    }
    self->ring = NULL;
}

static void
ring_dealloc(RingObject *self)
{
    ring_release_view(self);
    PyMem_Free(self->scratch);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
ring_push(RingObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct ring_bid bid;
    if (positional("push", nargs, 2, 3) < 0 || get_bid(args, nargs, &bid) < 0 ||
        released(self->ring)) {
        return NULL;
    }
    int status = self->kind == KIND_SPSC ? ring_spsc_push(self->ring, &bid)
                                         : ring_mpsc_push(self->ring, &bid);
    return Py_NewRef(status == RING_OK ? Py_True : Py_False);
}

static PyObject *
ring_drain(RingObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint32_t max = self->capacity;
    if (positional("drain", nargs, 0, 1) < 0) {
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        if (!fast_u32(args[0], &max)) {
            (void)raise_from_check(check_max_fn, args, 1);
            return NULL;
        }
        if (max > self->capacity) {
            max = self->capacity;
        }
    }
    if (released(self->ring)) {
        return NULL;
    }
    uint32_t n = self->kind == KIND_SPSC ? ring_spsc_drain(self->ring, self->scratch, max)
                                         : ring_mpsc_drain(self->ring, self->scratch, max);
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        return NULL;  /* the records are gone: only a MemoryError gets here */
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct ring_bid *b = &self->scratch[i];
        PyObject *item = Py_BuildValue("(KkI)", (unsigned long long)b->agent,
                                       (unsigned long)b->price, (unsigned int)b->units);
        if (item == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, item);
    }
    return out;
}

static Py_ssize_t
ring_len(RingObject *self)
{
    if (released(self->ring)) {
        return -1;
    }
    return (Py_ssize_t)(self->kind == KIND_SPSC ? ring_spsc_len(self->ring)
                                                : ring_mpsc_len(self->ring));
}

static PyObject *
ring_check(RingObject *self, PyObject *Py_UNUSED(ignored))
{
    if (released(self->ring)) {
        return NULL;
    }
    int status = self->kind == KIND_SPSC ? ring_spsc_check(self->ring)
                                         : ring_mpsc_check(self->ring);
    if (status != RING_OK) {
        PyErr_SetString(PyExc_AssertionError, "ring invariant broken: a counter or a cell "
                        "sequence number is out of place");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
ring_release(RingObject *self, PyObject *Py_UNUSED(ignored))
{
    ring_release_view(self);
    Py_RETURN_NONE;
}

static PyObject *
ring_get_capacity(RingObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(self->capacity);
}

static PyObject *
ring_get_nbytes(RingObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->kind == KIND_SPSC ? ring_spsc_size(self->capacity)
                                                     : ring_mpsc_size(self->capacity));
}

static PyMethodDef ring_methods[] = {
    {"push", (PyCFunction)(void (*)(void))ring_push, METH_FASTCALL,
     "push(agent, price, units=1, /) -> bool\n--\n\n"
     "Submit one bid; False (and nothing written) when the ring is full.\n"
     "units 0 withdraws the agent's bid."},
    {"drain", (PyCFunction)(void (*)(void))ring_drain, METH_FASTCALL,
     "drain(max=None, /) -> list\n--\n\n"
     "Take up to max (default: all) bids, oldest first, as (agent, price, units)."},
    {"check", (PyCFunction)ring_check, METH_NOARGS,
     "check() -> None\n--\n\nAssertionError when an invariant is broken (call it quiescent)."},
    {"release", (PyCFunction)ring_release, METH_NOARGS,
     "release() -> None\n--\n\nLet go of the buffer; the object is unusable afterwards."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef ring_getset[] = {
    {"capacity", (getter)ring_get_capacity, NULL, "Records the ring holds.", NULL},
    {"nbytes", (getter)ring_get_nbytes, NULL, "Bytes of the buffer the ring uses.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods ring_as_sequence = {.sq_length = (lenfunc)ring_len};

#define RING_TYPE(var, name, doc)                                      \
    static PyTypeObject var = {                                        \
        PyVarObject_HEAD_INIT(NULL, 0)                                 \
        .tp_name = "auctioneer.tick._ring." name,                      \
        .tp_basicsize = sizeof(RingObject),                            \
        .tp_dealloc = (destructor)ring_dealloc,                        \
        .tp_as_sequence = &ring_as_sequence,                           \
        .tp_flags = Py_TPFLAGS_DEFAULT,                                \
        .tp_doc = doc,                                                 \
        .tp_methods = ring_methods,                                    \
        .tp_getset = ring_getset,                                      \
        .tp_new = ring_new,                                            \
    }

RING_TYPE(SpscRing_Type, "SpscRing",
          "SpscRing(buffer, capacity=None)\n--\n\n"
          "Single-producer single-consumer bid ring in `buffer` (ring.h). With a\n"
          "capacity, lay a new ring out; without, attach to the one there.");
RING_TYPE(MpscRing_Type, "MpscRing",
          "MpscRing(buffer, capacity=None)\n--\n\n"
          "Multi-producer single-consumer bid ring in `buffer` (ring.h, Vyukov).");

/* ------------------------------------------------------------------------ */
/* PricePage.                                                               */

typedef struct {
    PyObject_HEAD
    Py_buffer view;
    struct price_page *page;  /* NULL once released */
} PageObject;

static PyObject *
page_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"buffer", "create", NULL};
    PyObject *buffer;
    int create = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", kwlist, &buffer, &create)) {
        return NULL;
    }
    PageObject *self = (PageObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    if (get_buffer(buffer, &self->view) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    size_t nbytes = (size_t)self->view.len;
    int status;
    if (create) {
        status = nbytes >= price_page_size() ? price_page_init(self->view.buf) : RING_EINVAL;
    } else {
        status = price_page_attach(self->view.buf, nbytes);
    }
    if (status != RING_OK) {
        PyErr_Format(PyExc_ValueError, create ? "a price page needs %zu bytes"
                     : "the buffer holds no price page of this version (%zu bytes)",
                     price_page_size());
        Py_DECREF(self);
        return NULL;
    }
    self->page = self->view.buf;
    return (PyObject *)self;
}

static void
page_dealloc(PageObject *self)
{
    if (self->view.obj != NULL) {
        PyBuffer_Release(&self->view);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
page_publish(PageObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct price_values v;
    if (positional("publish", nargs, 5, 5) < 0) {
        return NULL;
    }
    if (!(fast_u64(args[0], &v.tick) && fast_u32(args[1], &v.cpu_price) &&
          fast_u32(args[2], &v.gpu_price) && fast_u32(args[3], &v.cpu_multiplier) &&
          fast_u32(args[4], &v.gpu_multiplier))) {
        (void)raise_from_check(check_prices_fn, args, 5);
        return NULL;
    }
    if (released(self->page)) {
        return NULL;
    }
    price_page_publish(self->page, &v);
    Py_RETURN_NONE;
}

#define DEFAULT_TRIES 1000000u
#define READ_ROUND 1024u

static PyObject *
page_read(PageObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint32_t tries = DEFAULT_TRIES;
    if (positional("read", nargs, 0, 1) < 0) {
        return NULL;
    }
    if (nargs == 1 && (!fast_u32(args[0], &tries) || tries == 0)) {
        PyErr_Format(PyExc_ValueError, "tries must be an int in 1..%lu, got %R",
                     (unsigned long)UINT32_MAX, args[0]);
        return NULL;
    }
    if (released(self->page)) {
        return NULL;
    }
    /* Yield the CPU between rounds: a writer preempted mid-write needs one to
     * finish, and on a busy machine the spinning readers may be holding them. */
    struct price_values v;
    int status = RING_EAGAIN;
    for (uint32_t left = tries; left > 0 && status != RING_OK;) {
        uint32_t round = left < READ_ROUND ? left : READ_ROUND;
        status = price_page_read(self->page, &v, round);
        left -= round;
        if (status != RING_OK && left > 0) {
            sched_yield();
        }
    }
    if (status != RING_OK) {
        PyErr_Format(PyExc_TimeoutError, "price page: a write overlapped all %lu tries "
                     "(is the writer stuck mid-write?)", (unsigned long)tries);
        return NULL;
    }
    return Py_BuildValue("(KIIII)", (unsigned long long)v.tick, (unsigned int)v.cpu_price,
                         (unsigned int)v.gpu_price, (unsigned int)v.cpu_multiplier,
                         (unsigned int)v.gpu_multiplier);
}

static PyObject *
page_release(PageObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->view.obj != NULL) {
        PyBuffer_Release(&self->view);
    }
    self->page = NULL;
    Py_RETURN_NONE;
}

static PyObject *
page_get_seq(PageObject *self, void *Py_UNUSED(closure))
{
    if (released(self->page)) {
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(price_page_seq(self->page));
}

static PyMethodDef page_methods[] = {
    {"publish", (PyCFunction)(void (*)(void))page_publish, METH_FASTCALL,
     "publish(tick, cpu_price, gpu_price, cpu_multiplier, gpu_multiplier, /) -> None\n--\n\n"
     "The single writer: replace every field at once (seqlock write)."},
    {"read", (PyCFunction)(void (*)(void))page_read, METH_FASTCALL,
     "read(tries=1000000, /) -> tuple\n--\n\n"
     "A consistent (tick, cpu_price, gpu_price, cpu_multiplier, gpu_multiplier);\n"
     "TimeoutError if every one of `tries` attempts overlapped a write. Yields the\n"
     "CPU after every 1024 failed attempts."},
    {"release", (PyCFunction)page_release, METH_NOARGS,
     "release() -> None\n--\n\nLet go of the buffer; the object is unusable afterwards."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef page_getset[] = {
    {"seq", (getter)page_get_seq, NULL, "2 x writes completed, +1 while one is on.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject PricePage_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "auctioneer.tick._ring.PricePage",
    .tp_basicsize = sizeof(PageObject),
    .tp_dealloc = (destructor)page_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "PricePage(buffer, create=False)\n--\n\n"
              "Seqlock price page in `buffer` (ring.h): one writer, any readers.",
    .tp_methods = page_methods,
    .tp_getset = page_getset,
    .tp_new = page_new,
};

/* ------------------------------------------------------------------------ */
/* Timing harness.                                                          */

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

enum {
    OP_SPSC_PUSH = 0,
    OP_MPSC_PUSH = 1,
    OP_SPSC_PUSH_BATCH = 2,
    OP_MPSC_PUSH_BATCH = 3,
    OP_SPSC_DRAIN_BOOK = 4,
    OP_MPSC_DRAIN_BOOK = 5,
    OP_PAGE_PUBLISH = 6,
    OP_PAGE_READ = 7,
    OP_EMPTY = 8,
    OP_COUNT = 9
};

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
            (void)price_page_read(page, &v, DEFAULT_TRIES);
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

static PyObject *
mod_time_op(PyObject *Py_UNUSED(module), PyObject *args)
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

static PyObject *
mod_run_pair(PyObject *Py_UNUSED(module), PyObject *args)
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

/* ------------------------------------------------------------------------ */
/* Module.                                                                  */

static PyObject *
mod_nbytes(PyObject *Py_UNUSED(module), PyObject *args)
{
    int kind;
    unsigned int capacity;
    if (!PyArg_ParseTuple(args, "iI:nbytes", &kind, &capacity)) {
        return NULL;
    }
    return PyLong_FromSize_t(kind == KIND_SPSC   ? ring_spsc_size(capacity)
                             : kind == KIND_MPSC ? ring_mpsc_size(capacity)
                                                 : 0);
}

static PyMethodDef module_methods[] = {
    {"nbytes", mod_nbytes, METH_VARARGS,
     "nbytes(kind, capacity, /) -> int\n--\n\n"
     "Bytes a ring of this kind (KIND_SPSC, KIND_MPSC) and capacity needs; 0 if\n"
     "the capacity is not a power of two in range."},
    {"time_op", mod_time_op, METH_VARARGS,
     "time_op(op, ops, capacity=1024, batch=256, /) -> bytes\n--\n\n"
     "Time `ops` single operations in timer ticks (native uint64 bytes). op:\n"
     "OP_SPSC_PUSH / OP_MPSC_PUSH: one push (the consumer drains, untimed, every\n"
     "batch pushes); OP_*_PUSH_BATCH: `batch` pushes in a row, divided by batch;\n"
     "OP_*_DRAIN_BOOK: drain_book of `batch` records into a 1024-agent tier book,\n"
     "divided by batch; OP_PAGE_PUBLISH, OP_PAGE_READ; OP_EMPTY: nothing."},
    {"run_pair", mod_run_pair, METH_VARARGS,
     "run_pair(kind, capacity, producers, per_producer, timed=False, pin=True, pace_ns=0, /)\n"
     "-> dict\n"
     "--\n\n"
     "Producer threads push per_producer tagged bids each (one SPSC ring per\n"
     "producer, or one shared MPSC ring) while this thread drains them; returns\n"
     "elapsed_ns, full (refused pushes), received, disorder (bids lost, duplicated\n"
     "or out of per-producer order), pinned, and latency: producer 0's per-push\n"
     "ticks (uint64 bytes) when timed. Pins the consumer to the first allowed CPU\n"
     "and the producers to the others when there are two or more. pace_ns > 0:\n"
     "the consumer empties every ring once per pace_ns, as a tick would."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ring_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "auctioneer.tick._ring",
    .m_doc = "Lock-free bid rings and the seqlock price page (ring.c), and their timing "
             "harness.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__ring(void)
{
    if (check_bid_fn == NULL) {
        check_bid_fn = import_attr("auctioneer.tick.limits", "check_bid");
        check_max_fn = import_attr("auctioneer.tick.limits", "check_max");
        check_prices_fn = import_attr("auctioneer.tick.limits", "check_prices");
        if (check_bid_fn == NULL || check_max_fn == NULL || check_prices_fn == NULL) {
            Py_CLEAR(check_bid_fn);
            Py_CLEAR(check_max_fn);
            Py_CLEAR(check_prices_fn);
            return NULL;
        }
    }
    if (PyType_Ready(&SpscRing_Type) < 0 || PyType_Ready(&MpscRing_Type) < 0 ||
        PyType_Ready(&PricePage_Type) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&ring_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "SpscRing", (PyObject *)&SpscRing_Type) < 0 ||
        PyModule_AddObjectRef(m, "MpscRing", (PyObject *)&MpscRing_Type) < 0 ||
        PyModule_AddObjectRef(m, "PricePage", (PyObject *)&PricePage_Type) < 0 ||
        add_sanitized(m) < 0 ||
        PyModule_AddIntConstant(m, "PAGE_NBYTES", (long)price_page_size()) < 0 ||
        PyModule_AddIntConstant(m, "OP_SPSC_PUSH", OP_SPSC_PUSH) < 0 ||
        PyModule_AddIntConstant(m, "OP_MPSC_PUSH", OP_MPSC_PUSH) < 0 ||
        PyModule_AddIntConstant(m, "OP_SPSC_PUSH_BATCH", OP_SPSC_PUSH_BATCH) < 0 ||
        PyModule_AddIntConstant(m, "OP_MPSC_PUSH_BATCH", OP_MPSC_PUSH_BATCH) < 0 ||
        PyModule_AddIntConstant(m, "OP_SPSC_DRAIN_BOOK", OP_SPSC_DRAIN_BOOK) < 0 ||
        PyModule_AddIntConstant(m, "OP_MPSC_DRAIN_BOOK", OP_MPSC_DRAIN_BOOK) < 0 ||
        PyModule_AddIntConstant(m, "OP_PAGE_PUBLISH", OP_PAGE_PUBLISH) < 0 ||
        PyModule_AddIntConstant(m, "OP_PAGE_READ", OP_PAGE_READ) < 0 ||
        PyModule_AddIntConstant(m, "OP_EMPTY", OP_EMPTY) < 0 ||
        PyModule_AddIntConstant(m, "KIND_SPSC", KIND_SPSC) < 0 ||
        PyModule_AddIntConstant(m, "KIND_MPSC", KIND_MPSC) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
