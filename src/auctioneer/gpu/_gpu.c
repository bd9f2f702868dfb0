/*
 * _gpu.c - the CPython binding of gpu_core.h: module auctioneer.gpu._gpu.
 *
 *   solve(bids, window_ms, memory, reserve_per_ms, max_nodes)
 *       -> (value, choice, payments, nodes) | None
 *
 * bids is a sequence (one per bid) of sequences of (gpu_ms, memory, price)
 * int tuples; choice holds a bundle index or None per bid; max_nodes < 0
 * means no budget. None when the search passes max_nodes or the instance is
 * beyond the core's limits (GPU_MAX_BIDS bids, GPU_MAX_BUNDLES bundles a
 * bid, capacities up to 2**24, prices and reserve up to 2**32 - 1); the
 * caller then takes another path. A negative value, or gpu_ms 0, is a
 * ValueError; a non-int a TypeError.
 *
 *   solve_bids(bids, window_ms, memory, reserve_per_ms, max_nodes, max_agents)
 *       -> solve()'s result | None
 *
 * The same on GpuBid-like objects (.agent, .bundles), checked as
 * GpuPlane.check does: None unless every agent is an exact int in
 * [0, max_agents) bidding once and every bid a tuple of 1 to GPU_MAX_BUNDLES
 * exact-int (gpu_ms in [1, window_ms], memory <= memory, price <=
 * UINT32_MAX) tuples, so the caller's check can name what is wrong; None
 * also where solve() gives None. Parameters out of range: ValueError.
 *
 *   units(bids, slice_ms, max_agents) -> bytes | None
 *
 * bids is a sequence of GpuBid-like objects (.agent, .bundles). The bytes
 * hold n native int64 agents, then n int64 prices, when every bid is a valid
 * unit bid: an exact int agent in [0, max_agents), no agent twice, and one
 * bundle (slice_ms, 0, price) of exact ints with price <= UINT32_MAX.
 * Otherwise None, and the caller's own check raises or takes another path.
 * max_agents outside [1, 2**24] is a ValueError.
 *
 * The workspace is one buffer kept between calls and grown on demand (the
 * GIL serialises calls), so a dispatch allocates only its result objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>
#include <structmember.h>

#include "binding.h"
#include "gpu_core.h"

#define GPU_MAX_AGENTS (1 << 24)  /* GpuPlane's own limit on max_agents */

static void *workspace;
static size_t workspace_bytes;

/* 1: ok; 0: beyond the core's limits; -1: error set. */
static int
read_uint(PyObject *obj, uint64_t limit, uint64_t *out, const char *field)
{
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, got %R", field, obj);
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (overflow == 0 && v < 0)) {
        PyErr_Format(PyExc_ValueError, "%s %R must be >= 0", field, obj);
        return -1;
    }
    if (overflow > 0 || (uint64_t)v > limit)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* One batch as gpu_solve() takes it. */
struct batch {
    struct gpu_bundle bundles[GPU_MAX_BIDS * GPU_MAX_BUNDLES];
    uint32_t first[GPU_MAX_BIDS + 1];
};

/* gpu_solve() on the batch's n bids, as solve()'s result. */
static PyObject *
clear_batch(const struct batch *in, Py_ssize_t n, uint64_t window, uint64_t memory,
            uint64_t reserve, long long max_nodes)
{
    int32_t choice[GPU_MAX_BIDS];
    uint64_t payments[GPU_MAX_BIDS];
    size_t need = gpu_workspace_size((uint32_t)n, in->first[n]);
    if (need > workspace_bytes) {
        void *grown = PyMem_Realloc(workspace, need);
        if (grown == NULL)
            return PyErr_NoMemory();
        workspace = grown;
        workspace_bytes = need;
    }
    struct gpu_outcome out;
    enum gpu_status status = gpu_solve(workspace, in->bundles, in->first, (uint32_t)n,
                                       (uint32_t)window, (uint32_t)memory, reserve, max_nodes,
                                       choice, payments, &out);
    if (status != GPU_OK)
        Py_RETURN_NONE;
    PyObject *choices = PyTuple_New(n), *pays = PyTuple_New(n);
    if (choices == NULL || pays == NULL) {
        Py_XDECREF(choices);
        Py_XDECREF(pays);
        return NULL;
    }
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *c = choice[t] < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(choice[t]);
        PyObject *p = PyLong_FromUnsignedLongLong(payments[t]);
        if (c == NULL || p == NULL) {
            Py_XDECREF(c);
            Py_XDECREF(p);
            Py_DECREF(choices);
            Py_DECREF(pays);
            return NULL;
        }
        PyTuple_SET_ITEM(choices, t, c);
        PyTuple_SET_ITEM(pays, t, p);
    }
    return Py_BuildValue("(KNNK)", (unsigned long long)out.value, choices, pays,
                         (unsigned long long)out.nodes);
}

static PyObject *
gpu_solve_py(PyObject *Py_UNUSED(module), PyObject *argtuple)
{
    /* The argument count is CPython's own error; each value's, one naming it. */
    PyObject *args[5];
    if (!PyArg_UnpackTuple(argtuple, "solve", 5, 5, &args[0], &args[1], &args[2], &args[3],
                           &args[4])) {
        return NULL;
    }
    uint64_t window, memory, reserve;
    long long max_nodes = PyLong_AsLongLong(args[4]);
    if (max_nodes == -1 && PyErr_Occurred())
        return NULL;
    int ok = read_uint(args[1], GPU_MAX_CAPACITY, &window, "window_ms");
    if (ok == 1)
        ok = read_uint(args[2], GPU_MAX_CAPACITY, &memory, "memory");
    if (ok == 1)
        ok = read_uint(args[3], UINT32_MAX, &reserve, "reserve_per_ms");
    if (ok <= 0)
        return ok < 0 ? NULL : Py_NewRef(Py_None);
    PyObject *seq = PySequence_Fast(args[0], "bids must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *result = NULL;
    struct batch in;
    if (n > (Py_ssize_t)GPU_MAX_BIDS) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    uint32_t total = 0;
    in.first[0] = 0;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *bid = PySequence_Fast(items[t], "a bid must be a sequence of bundles");
        if (bid == NULL)
            goto done;
        Py_ssize_t k = PySequence_Fast_GET_SIZE(bid);
        if (k > (Py_ssize_t)GPU_MAX_BUNDLES) {
            Py_DECREF(bid);
            result = Py_NewRef(Py_None);
            goto done;
        }
        for (Py_ssize_t j = 0; j < k; j++) {
            PyObject *b = PySequence_Fast_GET_ITEM(bid, j);
            if (!PyTuple_Check(b) || PyTuple_GET_SIZE(b) != 3) {
                PyErr_Format(PyExc_TypeError, "bid %zd bundle %zd must be a "
                             "(gpu_ms, memory, price) tuple, got %R", t, j, b);
                Py_DECREF(bid);
                goto done;
            }
            uint64_t ms, mem, price;
            ok = read_uint(PyTuple_GET_ITEM(b, 0), GPU_MAX_CAPACITY, &ms, "gpu_ms");
            if (ok == 1)
                ok = read_uint(PyTuple_GET_ITEM(b, 1), GPU_MAX_CAPACITY, &mem, "memory");
            if (ok == 1)
                ok = read_uint(PyTuple_GET_ITEM(b, 2), UINT32_MAX, &price, "price");
            if (ok == 1 && ms == 0) {
                PyErr_Format(PyExc_ValueError, "bid %zd bundle %zd: gpu_ms 0 must be >= 1", t, j);
                ok = -1;
            }
            if (ok <= 0) {
                Py_DECREF(bid);
                if (ok == 0)
                    result = Py_NewRef(Py_None);
                goto done;
            }
            in.bundles[total++] = (struct gpu_bundle){(uint32_t)ms, (uint32_t)mem,
                                                      (uint32_t)price};
        }
        in.first[t + 1] = total;
        Py_DECREF(bid);
    }
    result = clear_batch(&in, n, window, memory, reserve, max_nodes);
done:
    Py_DECREF(seq);
    return result;
}

/* The exact int v in [0, limit], or -1 (no error left set) when it is not. */
static long long
exact_uint(PyObject *v, long long limit)
{
    if (!PyLong_CheckExact(v))
        return -1;
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return overflow || x < 0 || x > limit ? -1 : x;
}

static PyObject *str_agent, *str_bundles;

/* Where a slotted type keeps .agent and .bundles: reading the slot is what
 * PyObject_GetAttr does for such a type, without the lookup and descriptor
 * call (most of the per-bid cost at 1,024 bids). Keyed by the type's version
 * tag, which changes whenever the type is modified. */
static struct {
    PyTypeObject *type;
    unsigned int version;
    Py_ssize_t agent, bundles;
} slots;

/* The offset of a plain object slot `name` of tp, or -1. */
static Py_ssize_t
slot_offset(PyTypeObject *tp, PyObject *name)
{
    PyObject *d = PyObject_GetAttr((PyObject *)tp, name);
    Py_ssize_t off = -1;
    if (d == NULL)
        PyErr_Clear();
    else if (Py_IS_TYPE(d, &PyMemberDescr_Type)
             && ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX)
        off = ((PyMemberDescrObject *)d)->d_member->offset;
    Py_XDECREF(d);
    return off;
}

/* Whether bids of type tp may be read from their slots. */
static int
slotted(PyTypeObject *tp)
{
    if (tp == slots.type && tp->tp_version_tag == slots.version)
        return 1;
    if (tp->tp_getattro != PyObject_GenericGetAttr
        || !PyType_HasFeature(tp, Py_TPFLAGS_VALID_VERSION_TAG))
        return 0;
    Py_ssize_t agent = slot_offset(tp, str_agent), bundles = slot_offset(tp, str_bundles);
    if (agent < 0 || bundles < 0)
        return 0;
    slots.type = tp;
    slots.version = tp->tp_version_tag;
    slots.agent = agent;
    slots.bundles = bundles;
    return 1;
}

/* A new reference to bid.<name>, from its slot when the type allows. */
static PyObject *
field(PyObject *bid, PyObject *name, Py_ssize_t offset, int from_slot)
{
    if (!from_slot)
        return PyObject_GetAttr(bid, name);
    PyObject *v = *(PyObject **)((char *)bid + offset);
    return v == NULL ? PyObject_GetAttr(bid, name) : Py_NewRef(v);
}

/* Per agent, the call that last saw it: a repeated agent in one call is
 * found in O(1) without clearing the array between calls. */
static uint32_t *seen;
static size_t seen_len;
static uint32_t seen_call;

static int
next_call(long long max_agents)
{
    if ((size_t)max_agents > seen_len) {
        uint32_t *grown = PyMem_Realloc(seen, (size_t)max_agents * sizeof *seen);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memset(grown + seen_len, 0, ((size_t)max_agents - seen_len) * sizeof *seen);
        seen = grown;
        seen_len = (size_t)max_agents;
    }
    if (++seen_call == 0) {  /* wrapped: old marks could collide */
        memset(seen, 0, seen_len * sizeof *seen);
        seen_call = 1;
    }
    return 0;
}

/* PySequence_Fast(bids), its length and items, for a new call of units() or
 * solve_bids(); NULL with an error set. */
static PyObject *
begin(PyObject *bids, long long max_agents, Py_ssize_t *n, PyObject ***items)
{
    if (max_agents < 1 || max_agents > GPU_MAX_AGENTS) {
        PyErr_Format(PyExc_ValueError, "max_agents %lld must be in [1, %d]", max_agents,
                     GPU_MAX_AGENTS);
        return NULL;
    }
    PyObject *seq = next_call(max_agents) < 0 ? NULL
                    : PySequence_Fast(bids, "bids must be a sequence");
    if (seq != NULL) {
        *n = PySequence_Fast_GET_SIZE(seq);
        *items = PySequence_Fast_ITEMS(seq);
    }
    return seq;
}

/* bid's agent when it is an exact int below max_agents not seen before in
 * this call, with a new reference to its bundles in *bundles; otherwise -1,
 * no reference held and no error set (the caller's check reports it). */
static long long
read_bid(PyObject *bid, long long max_agents, PyObject **bundles)
{
    int from_slot = slotted(Py_TYPE(bid));
    PyObject *agent = field(bid, str_agent, slots.agent, from_slot);
    *bundles = agent ? field(bid, str_bundles, slots.bundles, from_slot) : NULL;
    long long a = *bundles ? exact_uint(agent, max_agents - 1) : -1;
    Py_XDECREF(agent);
    if (a < 0 || seen[a] == seen_call) {
        Py_CLEAR(*bundles);
        PyErr_Clear();
        return -1;
    }
    seen[a] = seen_call;
    return a;
}

static PyObject *
gpu_units_py(PyObject *Py_UNUSED(module), PyObject *argtuple)
{
    PyObject *bids;
    long long slice_ms, max_agents;
    if (!PyArg_ParseTuple(argtuple, "OLL:units", &bids, &slice_ms, &max_agents))
        return NULL;
    Py_ssize_t n;
    PyObject **items, *seq = begin(bids, max_agents, &n, &items);
    if (seq == NULL)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, 2 * n * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    int64_t *agents = (int64_t *)PyBytes_AS_STRING(out), *prices = agents + n;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *bundles;
        long long a = read_bid(items[t], max_agents, &bundles);
        int ok = a >= 0 && PyTuple_CheckExact(bundles) && PyTuple_GET_SIZE(bundles) == 1;
        PyObject *b = ok ? PyTuple_GET_ITEM(bundles, 0) : NULL;
        ok = ok && PyTuple_CheckExact(b) && PyTuple_GET_SIZE(b) == 3;
        long long price = ok ? exact_uint(PyTuple_GET_ITEM(b, 2), UINT32_MAX) : -1;
        ok = price >= 0 && exact_uint(PyTuple_GET_ITEM(b, 0), slice_ms) == slice_ms
             && exact_uint(PyTuple_GET_ITEM(b, 1), 0) == 0;
        Py_XDECREF(bundles);
        if (!ok) {
            Py_DECREF(out);
            Py_DECREF(seq);
            Py_RETURN_NONE;
        }
        agents[t] = a;
        prices[t] = price;
    }
    Py_DECREF(seq);
    return out;
}

/* Bid t's bundles into in, when every one is an exact (gpu_ms, memory, price)
 * tuple with gpu_ms in [1, window], memory <= the plane's and price <=
 * UINT32_MAX, and there are 1 to GPU_MAX_BUNDLES of them. 1: read; 0: not. */
static int
read_bundles(PyObject *bundles, struct batch *in, Py_ssize_t t, long long window,
             long long memory)
{
    if (!PyTuple_CheckExact(bundles))
        return 0;
    Py_ssize_t k = PyTuple_GET_SIZE(bundles);
    if (k < 1 || k > (Py_ssize_t)GPU_MAX_BUNDLES)
        return 0;
    uint32_t at = in->first[t];
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *b = PyTuple_GET_ITEM(bundles, j);
        if (!PyTuple_CheckExact(b) || PyTuple_GET_SIZE(b) != 3)
            return 0;
        long long ms = exact_uint(PyTuple_GET_ITEM(b, 0), window);
        long long mem = ms >= 1 ? exact_uint(PyTuple_GET_ITEM(b, 1), memory) : -1;
        long long price = mem >= 0 ? exact_uint(PyTuple_GET_ITEM(b, 2), UINT32_MAX) : -1;
        if (price < 0)
            return 0;
        in->bundles[at++] = (struct gpu_bundle){(uint32_t)ms, (uint32_t)mem, (uint32_t)price};
    }
    in->first[t + 1] = at;
    return 1;
}

static PyObject *
gpu_bids_py(PyObject *Py_UNUSED(module), PyObject *argtuple)
{
    PyObject *bids;
    long long window, memory, reserve, max_nodes, max_agents;
    if (!PyArg_ParseTuple(argtuple, "OLLLLL:solve_bids", &bids, &window, &memory, &reserve,
                          &max_nodes, &max_agents))
        return NULL;
    if (window < 1 || window > GPU_MAX_CAPACITY || memory < 0 || memory > GPU_MAX_CAPACITY
        || reserve < 0 || reserve > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "window_ms %lld, memory %lld or reserve_per_ms %lld "
                     "is out of range", window, memory, reserve);
        return NULL;
    }
    Py_ssize_t n;
    PyObject **items, *seq = begin(bids, max_agents, &n, &items);
    if (seq == NULL)
        return NULL;
    struct batch in;
    int ok = n <= (Py_ssize_t)GPU_MAX_BIDS;
    in.first[0] = 0;
    for (Py_ssize_t t = 0; ok && t < n; t++) {
        PyObject *bundles;
        ok = read_bid(items[t], max_agents, &bundles) >= 0
             && read_bundles(bundles, &in, t, window, memory);
        Py_XDECREF(bundles);
    }
    /* A refused batch is the caller's check to name, or another path's. */
    PyObject *result = ok ? clear_batch(&in, n, (uint64_t)window, (uint64_t)memory,
                                        (uint64_t)reserve, max_nodes)
                          : Py_NewRef(Py_None);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef gpu_methods[] = {
    {"units", gpu_units_py, METH_VARARGS,
     "units(bids, slice_ms, max_agents) -> int64 agents then prices as bytes | None"},
    {"solve", gpu_solve_py, METH_VARARGS,
     "solve(bids, window_ms, memory, reserve_per_ms, max_nodes) -> "
     "(value, choice, payments, nodes) | None"},
    {"solve_bids", gpu_bids_py, METH_VARARGS,
     "solve_bids(bids, window_ms, memory, reserve_per_ms, max_nodes, max_agents) -> "
     "solve()'s result | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef gpu_module = {
    PyModuleDef_HEAD_INIT, "auctioneer.gpu._gpu",
    "Exact GPU bundle clearing with VCG payments (see solver.py).", -1, gpu_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__gpu(void)
{
    PyObject *m = PyModule_Create(&gpu_module);
    if (m == NULL)
        return NULL;
    str_agent = PyUnicode_InternFromString("agent");
    str_bundles = PyUnicode_InternFromString("bundles");
    if (str_agent == NULL || str_bundles == NULL || add_sanitized(m) < 0
        || PyModule_AddIntConstant(m, "MAX_BIDS", GPU_MAX_BIDS) < 0
        || PyModule_AddIntConstant(m, "MAX_BUNDLES", GPU_MAX_BUNDLES) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
