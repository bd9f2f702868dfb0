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

#define READ_ROUND 1024u

static PyObject *
page_read(PageObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint32_t tries = PRICE_PAGE_DEFAULT_TRIES;
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
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ring_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "auctioneer.tick._ring",
    .m_doc = "Lock-free bid rings and the seqlock price page (ring.c).",
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
        PyModule_AddIntConstant(m, "KIND_SPSC", KIND_SPSC) < 0 ||
        PyModule_AddIntConstant(m, "KIND_MPSC", KIND_MPSC) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
