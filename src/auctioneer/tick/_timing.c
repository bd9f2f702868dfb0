/*
 * _timing.c - the benchmarks' native timing harnesses: module
 * auctioneer.tick._timing, owned by auctioneer.tick.bench and
 * auctioneer.tick.ring_bench.
 *
 * Kept out of the bindings (_core.c, _ring.c) so that they are only
 * bindings. time_ops() times operations on a native tick book (reached
 * through _core's capsule, core_api.h); time_op() and run_pair()
 * (timing_ring.c) time the bid rings and the price page on blocks of their
 * own. All read the clock of
 * timer.h: the time stamp counter on x86-64 (serialised rdtsc / rdtscp pair),
 * clock_gettime(CLOCK_MONOTONIC) elsewhere; timer_hz() converts.
 *
 * Argument errors are CPython's own (PyArg_Parse*), then one ValueError per
 * bad value naming the argument.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "binding.h"
#include "core_api.h"
#include "tick_core.h"
#include "timer.h"
#include "timing_ring.h"

static uint64_t timer_hz_cached;

static uint64_t
calibrate_timer(void)
{
#if TIMER_HAVE_TSC
    /* Ticks over ~20 ms of CLOCK_MONOTONIC; each end reads the TSC right
     * after the clock so the two intervals match to within a clock read. */
    uint64_t ns0 = monotonic_ns();
    uint64_t c0 = timer_start();
    uint64_t ns1, c1;
    do {
        ns1 = monotonic_ns();
        c1 = timer_stop();
    } while (ns1 - ns0 < 20000000u);
    unsigned __int128 hz = (unsigned __int128)(c1 - c0) * 1000000000u / (ns1 - ns0);
    return (uint64_t)hz;
#else
    return 1000000000u;
#endif
}

static PyObject *
mod_timer_hz(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    if (timer_hz_cached == 0) {
        timer_hz_cached = calibrate_timer();
    }
    return PyLong_FromUnsignedLongLong(timer_hz_cached);
}

/* A contiguous buffer of uint32: native or little-endian 'I' (or 'L' where
 * that is 4 bytes), itemsize 4. */
static int
get_u32_buffer(PyObject *obj, const char *name, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "time_ops: %s must be a contiguous uint32 buffer, got %R",
                     name, obj);
        return -1;
    }
    const char *fmt = view->format != NULL ? view->format : "B";
    if (*fmt == '@' || *fmt == '=' || *fmt == '<') {
        fmt++;
    }
    if (view->itemsize != 4 || (strcmp(fmt, "I") != 0 && strcmp(fmt, "L") != 0)) {
        PyErr_Format(PyExc_ValueError,
                     "time_ops: %s must hold uint32 (format 'I', itemsize 4), got format '%s' "
                     "itemsize %zd",
                     name, view->format != NULL ? view->format : "B", view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static const struct tick_core_api *core_api;

static PyObject *
mod_time_ops(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"book", "op", "agents", "prices", "n", NULL};
    PyObject *book_obj, *op_obj, *agents_obj, *prices_obj, *n_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO|O:time_ops", kwlist, &book_obj, &op_obj,
                                     &agents_obj, &prices_obj, &n_obj)) {
        return NULL;
    }
    struct tick_book_view b;
    if (core_api->book_view(book_obj, &b) < 0) {
        PyErr_Format(PyExc_ValueError, "time_ops: book must be a native tick book, got %R",
                     book_obj);
        return NULL;
    }
    long op = PyLong_AsLong(op_obj);
    if (op == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        op = -1;
    }
    if (!PyLong_Check(op_obj) || op < 0 || op > 4) {
        PyErr_Format(PyExc_ValueError,
                     "time_ops: op must be 0 (update), 1 (expire), 2 (tick), 3 (empty) or 4 "
                     "(select), got %R",
                     op_obj);
        return NULL;
    }
    long n = 2;
    if (n_obj != NULL) {
        n = PyLong_Check(n_obj) ? PyLong_AsLong(n_obj) : -1;
        if (n == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        }
        if (n < 0 || (unsigned long)n > b.capacity) {
            PyErr_Format(PyExc_ValueError, "time_ops: n must be an int in 0..%lu, got %R",
                         (unsigned long)b.capacity, n_obj);
            return NULL;
        }
    }
    Py_buffer va, vp;
    if (get_u32_buffer(agents_obj, "agents", &va) < 0) {
        return NULL;
    }
    if (get_u32_buffer(prices_obj, "prices", &vp) < 0) {
        PyBuffer_Release(&va);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t len = va.len / 4;
    const uint32_t *agents = va.buf, *prices = vp.buf;
    if (vp.len / 4 != len) {
        PyErr_Format(PyExc_ValueError, "time_ops: agents and prices differ in length (%zd, %zd)",
                     len, vp.len / 4);
        goto done;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        if (agents[i] >= b.capacity) {
            PyErr_Format(PyExc_ValueError, "time_ops: agents[%zd] = %lu is out of range 0..%lu",
                         i, (unsigned long)agents[i], (unsigned long)b.capacity - 1);
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, len * 8);
    if (result == NULL) {
        goto done;
    }
    char *out = PyBytes_AS_STRING(result);
    struct tick_book *book = b.book;
    uint32_t *sa = b.sel_agents, *sp = b.sel_prices, cnt = (uint32_t)n;
    int status = TICK_OK;
    Py_ssize_t i = 0;
    for (; i < len; i++) {
        uint64_t t0, t1;
        switch (op) {
        case 0:
            t0 = timer_start();
            status = tick_update(book, agents[i], prices[i], 1);
            t1 = timer_stop();
            break;
        case 1:
            t0 = timer_start();
            status = tick_expire(book, agents[i]);
            t1 = timer_stop();
            if (status == TICK_OK) {
                status = tick_update(book, agents[i], prices[i], 1);
            }
            break;
        case 2:
            t0 = timer_start();
            status = tick_update(book, agents[i], prices[i], 1);
            (void)tick_select(book, cnt, sa, sp);
            t1 = timer_stop();
            break;
        case 4:
            /* select alone: the tick's update runs untimed first */
            status = tick_update(book, agents[i], prices[i], 1);
            t0 = timer_start();
            (void)tick_select(book, cnt, sa, sp);
            t1 = timer_stop();
            break;
        default:
            t0 = timer_start();
            t1 = timer_stop();
            break;
        }
        if (status != TICK_OK) {
            break;
        }
        uint64_t dt = t1 - t0;
        memcpy(out + i * 8, &dt, sizeof dt);
    }
    if (status == TICK_ENOENT) {
        PyErr_Format(PyExc_ValueError, "time_ops: agents[%zd] = %lu has no live bid to expire", i,
                     (unsigned long)agents[i]);
        Py_CLEAR(result);
    } else if (status != TICK_OK) {
        PyErr_Format(PyExc_ValueError, "time_ops: the tick core returned status %d at index %zd",
                     status, i);
        Py_CLEAR(result);
    }
done:
    PyBuffer_Release(&va);
    PyBuffer_Release(&vp);
    return result;
}

/* ------------------------------------------------------------------------ */
/* Module.                                                                  */

static PyMethodDef module_methods[] = {
    {"time_ops", (PyCFunction)(void (*)(void))mod_time_ops, METH_VARARGS | METH_KEYWORDS,
     "time_ops(book, op, agents, prices, n=2) -> bytes\n--\n\n"
     "Time op (0 update, 1 expire, 2 tick, 3 empty, 4 select after an untimed update) on a native tick book for each\n"
     "of agents and prices (uint32 buffers), in timer ticks (see timer_hz), returned\n"
     "as native uint64 bytes. A tick is update + select(n); expire re-inserts the\n"
     "bid, untimed, to keep the book full."},
    {"timer_hz", (PyCFunction)mod_timer_hz, METH_NOARGS,
     "timer_hz() -> int\n--\n\n"
     "Ticks per second of the harnesses' timer (the TSC, calibrated once against\n"
     "CLOCK_MONOTONIC; 1e9 where the clock is CLOCK_MONOTONIC itself)."},
    {"time_op", timing_time_op, METH_VARARGS,
     "time_op(op, ops, capacity=1024, batch=256, /) -> bytes\n--\n\n"
     "Time `ops` single operations in timer ticks (native uint64 bytes). op:\n"
     "OP_SPSC_PUSH / OP_MPSC_PUSH: one push (the consumer drains, untimed, every\n"
     "batch pushes); OP_*_PUSH_BATCH: `batch` pushes in a row, divided by batch;\n"
     "OP_*_DRAIN_BOOK: drain_book of `batch` records into a 1024-agent tier book,\n"
     "divided by batch; OP_PAGE_PUBLISH, OP_PAGE_READ; OP_EMPTY: nothing."},
    {"run_pair", timing_run_pair, METH_VARARGS,
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

static struct PyModuleDef timing_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "auctioneer.tick._timing",
    .m_doc = "The benchmarks' native timing harnesses for the tick books and the bid rings.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__timing(void)
{
    if (core_api == NULL) {
        core_api = PyCapsule_Import(TICK_CORE_API_NAME, 0);
        if (core_api == NULL) {
            return NULL;
        }
    }
    PyObject *m = PyModule_Create(&timing_module);
    if (m == NULL) {
        return NULL;
    }
    if (add_sanitized(m) < 0 ||
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
