/*
 * _core.c - the CPython binding of tick_core.h: module auctioneer.tick._core.
 *
 * Five thin types (TierBook, LazyHeap, TournamentTree, SampledTopK,
 * IndexedHeap) over one base type, _Book, that holds every method. The types
 * differ only in a spec table entry: their tick_kind, their constructor's
 * parameters and their extra read-only attributes. The public API, results
 * and errors are exactly those of auctioneer.tick.reference:
 *
 *   - argument checks take a fast path in C for exact ints in range; on any
 *     other value they call the same function of auctioneer.tick.limits that
 *     the reference calls, which raises the identical exception;
 *   - argument-count and keyword errors reproduce CPython's own messages for
 *     the reference's Python signatures (qualnames included: the methods are
 *     defined on _Book there too);
 *   - a failing call changes nothing.
 *
 * Each book owns one zeroed, 16-byte aligned block from PyMem_Calloc (the
 * core lives in it) and a scratch array of 2 * capacity uint32 for
 * tick_select's outputs, both allocated at construction, so a call does no C
 * allocation beyond the Python objects it returns.
 *
 * Nothing here times anything: the benchmark's timing harness is its own
 * extension (_timing.c), which reaches a book's core through the capsule
 * _C_API (core_api.h).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdint.h>
#include <string.h>

#include "binding.h"
#include "core_api.h"
#include "tick_core.h"

/* ------------------------------------------------------------------------ */
/* Module state (single-phase init, static types).                         */

static PyObject *check_agent_fn;  /* auctioneer.tick.limits.check_agent */
static PyObject *check_price_fn;  /* ... check_price */
static PyObject *check_units_fn;  /* ... check_units */
static PyObject *check_count_fn;  /* ... check_count */
static PyObject *tiermap_cls;     /* auctioneer.tick.tiermap.TierMap */
static PyObject *mapkind_linear;  /* auctioneer.tick.tiermap.MapKind.LINEAR */

#define MAX_CAPACITY (1u << 24)

/* ------------------------------------------------------------------------ */
/* Arguments: CPython's messages for a Python signature (self, p1, p2=...). */

typedef struct {
    const char *qualname;       /* "_Book.update" */
    const char *const *names;   /* parameter names, self excluded */
    Py_ssize_t total;           /* parameters, self excluded (<= 4) */
    Py_ssize_t required;        /* the leading ones without a default */
} argspec;

#define MAX_PARAMS 5

static int
too_many_positional(const argspec *spec, Py_ssize_t nargs)
{
    Py_ssize_t given = nargs + 1;  /* self counts, as in the reference */
    if (spec->total > spec->required) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes from %zd to %zd positional arguments but %zd were given",
                     spec->qualname, spec->required + 1, spec->total + 1, given);
    } else {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd positional argument%s but %zd %s given",
                     spec->qualname, spec->total + 1, spec->total + 1 != 1 ? "s" : "", given,
                     given == 1 ? "was" : "were");
    }
    return -1;
}

static int
missing_arguments(const argspec *spec, PyObject **out)
{
    const char *miss[MAX_PARAMS];
    int count = 0;
    for (Py_ssize_t i = 0; i < spec->required; i++) {
        if (out[i] == NULL) {
            miss[count++] = spec->names[i];
        }
    }
    PyObject *names;
    if (count == 1) {
        names = PyUnicode_FromFormat("'%s'", miss[0]);
    } else if (count == 2) {
        names = PyUnicode_FromFormat("'%s' and '%s'", miss[0], miss[1]);
    } else {
        names = PyUnicode_FromString("");
        for (int i = 0; names != NULL && i < count; i++) {
            PyObject *part = PyUnicode_FromFormat(
                i == count - 1 ? "and '%s'" : "'%s', ", miss[i]);
            if (part == NULL) {
                Py_CLEAR(names);
                break;
            }
            PyObject *joined = PyUnicode_Concat(names, part);
            Py_DECREF(part);
            Py_SETREF(names, joined);
        }
    }
    if (names == NULL) {
        return -1;
    }
    PyErr_Format(PyExc_TypeError, "%s() missing %d required positional argument%s: %U",
                 spec->qualname, count, count == 1 ? "" : "s", names);
    Py_DECREF(names);
    return -1;
}

/* Bind a vectorcall to the spec's parameters: out[i] is borrowed, NULL where
 * a defaulted parameter was not given. Errors in CPython's order: keywords
 * (unexpected, then repeated), then too many positionals, then missing. */
static int
parse_args(const argspec *spec, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           PyObject **out)
{
    Py_ssize_t npos = nargs < spec->total ? nargs : spec->total;
    for (Py_ssize_t i = 0; i < spec->total; i++) {
        out[i] = i < npos ? args[i] : NULL;
    }
    if (kwnames != NULL) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t j = 0; j < nkw; j++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, j);
            Py_ssize_t i = 0;
            if (PyUnicode_Check(key)) {
                for (; i < spec->total; i++) {
                    if (PyUnicode_CompareWithASCIIString(key, spec->names[i]) == 0) {
                        break;
                    }
                }
            } else {
                i = spec->total;
            }
            if (i == spec->total) {
                PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%S'",
                             spec->qualname, key);
                return -1;
            }
            if (out[i] != NULL) {
                PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%S'",
                             spec->qualname, key);
                return -1;
            }
            out[i] = args[nargs + j];
        }
    }
    if (nargs > spec->total) {
        return too_many_positional(spec, nargs);
    }
    for (Py_ssize_t i = 0; i < spec->required; i++) {
        if (out[i] == NULL) {
            return missing_arguments(spec, out);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Integer fast paths; on failure the reference's own check raises.        */

static int
get_agent(PyObject *obj, uint32_t capacity, uint32_t *out)
{
    if (fast_u32(obj, out) && *out < capacity) {
        return 0;
    }
    PyObject *cap = PyLong_FromUnsignedLong(capacity);
    if (cap == NULL) {
        return -1;
    }
    PyObject *args[2] = {obj, cap};
    int rc = raise_from_check(check_agent_fn, args, 2);
    Py_DECREF(cap);
    return rc;
}

static int
get_price(PyObject *obj, const char *field, uint32_t *out)
{
    if (fast_u32(obj, out)) {
        return 0;
    }
    if (field == NULL) {
        PyObject *args[1] = {obj};
        return raise_from_check(check_price_fn, args, 1);
    }
    PyObject *name = PyUnicode_FromString(field);
    if (name == NULL) {
        return -1;
    }
    PyObject *args[2] = {obj, name};
    int rc = raise_from_check(check_price_fn, args, 2);
    Py_DECREF(name);
    return rc;
}

static int
get_units(PyObject *obj, uint32_t *out)
{
    if (fast_u32(obj, out) && *out >= 1) {
        return 0;
    }
    PyObject *args[1] = {obj};
    return raise_from_check(check_units_fn, args, 1);
}

static int
get_count(PyObject *obj, const char *field, uint64_t low, uint64_t high, uint64_t *out)
{
    if (fast_u64(obj, out) && *out >= low && *out <= high) {
        return 0;
    }
    PyObject *name = PyUnicode_FromString(field);
    PyObject *lo = PyLong_FromUnsignedLongLong(low);
    PyObject *hi = PyLong_FromUnsignedLongLong(high);
    int rc = -1;
    if (name != NULL && lo != NULL && hi != NULL) {
        PyObject *args[4] = {obj, name, lo, hi};
        rc = raise_from_check(check_count_fn, args, 4);
    }
    Py_XDECREF(name);
    Py_XDECREF(lo);
    Py_XDECREF(hi);
    return rc;
}

/* The hot variant for select/top/price: a uint32 count in low..high. */
static inline int
get_count32(PyObject *obj, const char *field, uint32_t low, uint32_t high, uint32_t *out)
{
    if (fast_u32(obj, out) && *out >= low && *out <= high) {
        return 0;
    }
    uint64_t wide;
    if (get_count(obj, field, low, high, &wide) < 0) {
        return -1;
    }
    *out = (uint32_t)wide;  /* unreachable: get_count rejected it above */
    return 0;
}

static PyObject *
core_error(int status)
{
    PyErr_Format(PyExc_SystemError, "auctioneer.tick._core: the tick core returned status %d",
                 status);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The book object and its spec table.                                     */

typedef struct {
    PyObject_HEAD
    struct tick_book *book;   /* inside `block`, 16-byte aligned */
    void *block;              /* PyMem_Calloc'd; freed in dealloc */
    uint32_t *sel_agents;     /* capacity entries of select scratch */
    uint32_t *sel_prices;     /* capacity entries, same allocation */
    size_t nbytes;            /* tick_book_size */
    uint32_t capacity;
    struct tick_params params;
    PyObject *tiermap;        /* TierBook: the TierMap; NULL otherwise */
    PyObject *weakreflist;
} BookObject;

typedef struct {
    enum tick_kind kind;
    argspec init;
} book_spec;

static const char *const names_tiers[] = {"capacity", "tiermap"};
static const char *const names_lazy[] = {"capacity", "depth", "threshold", "period"};
static const char *const names_tourney[] = {"capacity", "group"};
static const char *const names_sampled[] = {"capacity", "samples", "seed"};
static const char *const names_heap[] = {"capacity"};

static const book_spec SPECS[5] = {
    [TICK_TIERS] = {TICK_TIERS, {"TierBook.__init__", names_tiers, 2, 1}},
    [TICK_LAZY] = {TICK_LAZY, {"LazyHeap.__init__", names_lazy, 4, 1}},
    [TICK_TOURNEY] = {TICK_TOURNEY, {"TournamentTree.__init__", names_tourney, 2, 1}},
    [TICK_SAMPLED] = {TICK_SAMPLED, {"SampledTopK.__init__", names_sampled, 3, 1}},
    /* IndexedHeap has no __init__ of its own in the reference. */
    [TICK_HEAP] = {TICK_HEAP, {"_Book.__init__", names_heap, 1, 1}},
};

static PyTypeObject Book_Type;
static PyTypeObject *KIND_TYPES[5];

/* Read a TierMap into the core's struct, as the reference's arithmetic reads
 * it: LINEAR only when kind is MapKind.LINEAR, LOG otherwise. */
static int
read_uint_attr(PyObject *obj, const char *name, uint64_t low, uint64_t high, uint64_t *out)
{
    PyObject *value = PyObject_GetAttrString(obj, name);
    if (value == NULL) {
        return -1;
    }
    int ok = PyLong_Check(value);
    if (ok) {
        unsigned long long v = PyLong_AsUnsignedLongLong(value);
        if (v == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            ok = 0;
        } else {
            ok = v >= low && v <= high;
            *out = (uint64_t)v;
        }
    }
    if (!ok) {
        PyErr_Format(PyExc_ValueError, "tiermap %s %R is out of the core's range", name, value);
    }
    Py_DECREF(value);
    return ok ? 0 : -1;
}

static int
tiermap_to_c(PyObject *tiermap, struct tick_tier_map *map)
{
    PyObject *kind = PyObject_GetAttrString(tiermap, "kind");
    if (kind == NULL) {
        return -1;
    }
    int linear = kind == mapkind_linear;
    Py_DECREF(kind);
    uint64_t tiers, base = 0, width = 1, sub_bits = 0;
    if (read_uint_attr(tiermap, "tiers", 1, TICK_MAX_TIERS, &tiers) < 0) {
        return -1;
    }
    if (linear) {
        if (read_uint_attr(tiermap, "base", 0, UINT32_MAX, &base) < 0 ||
            read_uint_attr(tiermap, "width", 1, UINT64_MAX, &width) < 0) {
            return -1;
        }
        if (width > UINT32_MAX) {
            /* Wider than any price difference: every price is in tier 0,
             * floor 0, which is exactly a one-tier map. */
            width = 1;
            tiers = 1;
        }
    } else if (read_uint_attr(tiermap, "sub_bits", 0, 16, &sub_bits) < 0) {
        return -1;
    }
    map->kind = linear ? TICK_MAP_LINEAR : TICK_MAP_LOG;
    map->tiers = (uint32_t)tiers;
    map->base = (uint32_t)base;
    map->width = (uint32_t)width;
    map->sub_bits = (uint32_t)sub_bits;
    return 0;
}

static PyObject *
book_create(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    const book_spec *spec = NULL;
    for (int k = 0; k < 5; k++) {
        if (type == KIND_TYPES[k]) {
            spec = &SPECS[k];
        }
    }
    if (spec == NULL) {
        PyErr_Format(PyExc_TypeError, "cannot create '%s' instances", type->tp_name);
        return NULL;
    }
    PyObject *a[MAX_PARAMS];
    if (parse_args(&spec->init, args, nargs, kwnames, a) < 0) {
        return NULL;
    }

    /* The reference's checks, in its order; defaults as in its signatures. */
    struct tick_params p;
    memset(&p, 0, sizeof p);
    p.kind = (uint32_t)spec->kind;
    uint64_t v;
    if (get_count(a[0], "capacity", 1, MAX_CAPACITY, &v) < 0) {
        return NULL;
    }
    p.capacity = (uint32_t)v;
    PyObject *tiermap = NULL;  /* new reference */
    switch (spec->kind) {
    case TICK_TIERS:
        if (a[1] != NULL && a[1] != Py_None) {
            int is = PyObject_IsInstance(a[1], tiermap_cls);
            if (is < 0) {
                return NULL;
            }
            if (!is) {
                PyErr_Format(PyExc_TypeError, "tiermap must be a TierMap, got %R", a[1]);
                return NULL;
            }
            tiermap = Py_NewRef(a[1]);
        } else {
            tiermap = PyObject_CallMethod(tiermap_cls, "log", NULL);
            if (tiermap == NULL) {
                return NULL;
            }
        }
        if (tiermap_to_c(tiermap, &p.map) < 0) {
            Py_DECREF(tiermap);
            return NULL;
        }
        break;
    case TICK_LAZY:
        p.depth = 2;
        p.threshold = 0;
        p.period = 1024;
        if (a[1] != NULL) {
            if (get_count(a[1], "depth", 1, 64, &v) < 0) {
                return NULL;
            }
            p.depth = (uint32_t)v;
        }
        if (a[2] != NULL && get_price(a[2], "threshold", &p.threshold) < 0) {
            return NULL;
        }
        if (a[3] != NULL) {
            if (get_count(a[3], "period", 1, UINT32_MAX, &v) < 0) {
                return NULL;
            }
            p.period = (uint32_t)v;
        }
        break;
    case TICK_TOURNEY:
        p.group = 16;
        if (a[1] != NULL) {
            if (get_count(a[1], "group", 1, 64, &v) < 0) {
                return NULL;
            }
            p.group = (uint32_t)v;
        }
        break;
    case TICK_SAMPLED:
        p.samples = 32;
        p.seed = 1;
        if (a[1] != NULL) {
            if (get_count(a[1], "samples", 1, MAX_CAPACITY, &v) < 0) {
                return NULL;
            }
            p.samples = (uint32_t)v;
        }
        if (a[2] != NULL && get_count(a[2], "seed", 0, UINT64_MAX, &p.seed) < 0) {
            return NULL;
        }
        break;
    case TICK_HEAP:
        break;
    }

    size_t size = tick_book_size(&p);
    if (size == 0) {
        Py_XDECREF(tiermap);
        PyErr_SetString(PyExc_ValueError, "the tick core rejected these parameters");
        return NULL;
    }
    BookObject *self = (BookObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_XDECREF(tiermap);
        return NULL;
    }
    /* From here dealloc releases whatever is set. */
    self->tiermap = tiermap;
    self->params = p;
    self->capacity = p.capacity;
    self->nbytes = size;
    void *block = PyMem_Calloc(1, size);
    if (block != NULL && ((uintptr_t)block & 15u) != 0) {
        /* Not the case with glibc or pymalloc; align by hand if it ever is. */
        PyMem_Free(block);
        block = PyMem_Calloc(1, size + 15);
    }
    self->block = block;
    self->sel_agents = PyMem_Malloc(2 * (size_t)p.capacity * sizeof(uint32_t));
    if (block == NULL || self->sel_agents == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->sel_prices = self->sel_agents + p.capacity;
    void *mem = (void *)(((uintptr_t)block + 15u) & ~(uintptr_t)15u);
    int status = tick_book_init(mem, &p);
    if (status != TICK_OK) {
        Py_DECREF(self);
        PyErr_Format(PyExc_ValueError, "the tick core rejected these parameters (status %d)",
                     status);
        return NULL;
    }
    self->book = (struct tick_book *)mem;
    return (PyObject *)self;
}

static PyObject *
book_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Py_ssize_t npos = PyTuple_GET_SIZE(args);
    Py_ssize_t nkw = kwds == NULL ? 0 : PyDict_GET_SIZE(kwds);
    if (nkw == 0) {
        return book_create(type, &PyTuple_GET_ITEM(args, 0), npos, NULL);
    }
    /* Keywords: the vectorcall layout (positionals, then keyword values). */
    PyObject **stack = PyMem_Malloc((size_t)(npos + nkw) * sizeof(PyObject *));
    if (stack == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *kwnames = PyTuple_New(nkw);
    if (kwnames == NULL) {
        PyMem_Free(stack);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < npos; i++) {
        stack[i] = PyTuple_GET_ITEM(args, i);
    }
    Py_ssize_t pos = 0, j = 0;
    PyObject *key, *value;
    while (j < nkw && PyDict_Next(kwds, &pos, &key, &value)) {
        PyTuple_SET_ITEM(kwnames, j, Py_NewRef(key));
        stack[npos + j] = value;
        j++;
    }
    PyObject *res = book_create(type, stack, npos, kwnames);
    Py_DECREF(kwnames);
    PyMem_Free(stack);
    return res;
}

static int
book_traverse(BookObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->tiermap);
    return 0;
}

static int
book_clear_refs(BookObject *self)
{
    Py_CLEAR(self->tiermap);
    return 0;
}

static void
book_dealloc(BookObject *self)
{
    PyObject_GC_UnTrack((PyObject *)self);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    Py_CLEAR(self->tiermap);
    PyMem_Free(self->block);
    PyMem_Free(self->sel_agents);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ------------------------------------------------------------------------ */
/* Methods (all on _Book).                                                  */

#define BOOK(o) (((BookObject *)(o))->book)

static const char *const names_agent[] = {"agent"};
static const char *const names_update[] = {"agent", "price", "units"};
static const char *const names_n[] = {"n"};
static const char *const names_k[] = {"k"};

static const argspec SPEC_BID = {"_Book.bid", names_agent, 1, 1};
static const argspec SPEC_ITEMS = {"_Book.items", NULL, 0, 0};
static const argspec SPEC_UPDATE = {"_Book.update", names_update, 3, 2};
static const argspec SPEC_EXPIRE = {"_Book.expire", names_agent, 1, 1};
static const argspec SPEC_CLEAR = {"_Book.clear", NULL, 0, 0};
static const argspec SPEC_SELECT = {"_Book.select", names_n, 1, 1};
static const argspec SPEC_PEEK = {"_Book.peek", NULL, 0, 0};
static const argspec SPEC_TOP = {"_Book.top", names_k, 1, 1};
static const argspec SPEC_PRICE = {"_Book.price", names_k, 1, 0};
/* LazyHeap and SampledTopK override _check in the reference. */
static const argspec SPEC_CHECK[5] = {
    [TICK_TIERS] = {"_Book._check", NULL, 0, 0},
    [TICK_LAZY] = {"LazyHeap._check", NULL, 0, 0},
    [TICK_TOURNEY] = {"_Book._check", NULL, 0, 0},
    [TICK_SAMPLED] = {"SampledTopK._check", NULL, 0, 0},
    [TICK_HEAP] = {"_Book._check", NULL, 0, 0},
};

/* One required argument, positional or keyword: the common shape. */
static inline PyObject *
one_arg(const argspec *spec, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs == 1 && kwnames == NULL) {
        return args[0];
    }
    PyObject *a[1];
    if (parse_args(spec, args, nargs, kwnames, a) < 0) {
        return NULL;
    }
    return a[0];
}

static inline int
no_args(const argspec *spec, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs == 0 && kwnames == NULL) {
        return 0;
    }
    return parse_args(spec, args, nargs, kwnames, NULL);
}

static Py_ssize_t
book_len(PyObject *self)
{
    return (Py_ssize_t)tick_len(BOOK(self));
}

/* `agent in book` with the reference's semantics, a dict lookup over the live
 * agent ids: true for any hashable x equal to a live id (1.0, True, numpy
 * ints), false for everything else; an unhashable x raises as it does there. */
static int
book_contains(PyObject *self, PyObject *key)
{
    const struct tick_book *book = BOOK(self);
    uint32_t capacity = ((BookObject *)self)->capacity;
    if (PyLong_CheckExact(key)) {
        uint32_t agent;
        if (!fast_u32(key, &agent) || agent >= capacity) {
            return 0;
        }
        return tick_slot_of(book, agent)->seq != 0;
    }
    /* An int k in 0..2^24 hashes to k, so only hash(key) can be equal to key. */
    Py_hash_t h = PyObject_Hash(key);
    if (h == -1) {
        return -1;
    }
    if (h < 0 || (uint64_t)h >= capacity || tick_slot_of(book, (uint32_t)h)->seq == 0) {
        return 0;
    }
    PyObject *id = PyLong_FromSsize_t(h);
    if (id == NULL) {
        return -1;
    }
    PyObject *eq = PyObject_RichCompare(id, key, Py_EQ);
    Py_DECREF(id);
    if (eq == NULL) {
        return -1;
    }
    int res = PyObject_IsTrue(eq);
    Py_DECREF(eq);
    return res;
}

static PyObject *
book_bid(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *arg = one_arg(&SPEC_BID, args, nargs, kwnames);
    uint32_t agent;
    if (arg == NULL || get_agent(arg, ((BookObject *)self)->capacity, &agent) < 0) {
        return NULL;
    }
    const struct tick_slot *slot = tick_slot_of(BOOK(self), agent);
    if (slot->seq == 0) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(kk)", (unsigned long)slot->price, (unsigned long)slot->units);
}

static PyObject *
book_items(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (no_args(&SPEC_ITEMS, args, nargs, kwnames) < 0) {
        return NULL;
    }
    const struct tick_book *book = BOOK(self);
    uint32_t live = tick_len(book), capacity = ((BookObject *)self)->capacity;
    PyObject *list = PyList_New((Py_ssize_t)live);
    if (list == NULL) {
        return NULL;
    }
    uint32_t found = 0;
    for (uint32_t agent = 0; agent < capacity && found < live; agent++) {
        const struct tick_slot *slot = tick_slot_of(book, agent);
        if (slot->seq == 0) {
            continue;
        }
        PyObject *item = Py_BuildValue("(kkk)", (unsigned long)agent, (unsigned long)slot->price,
                                       (unsigned long)slot->units);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)found, item);
        found++;
    }
    if (found != live) {
        Py_DECREF(list);
        PyErr_SetString(PyExc_SystemError, "auctioneer.tick._core: live count disagrees with slots");
        return NULL;
    }
    return list;
}

static PyObject *
book_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    BookObject *b = (BookObject *)self;
    PyObject *a_agent, *a_price, *a_units;
    if (kwnames == NULL && (nargs == 2 || nargs == 3)) {
        a_agent = args[0];
        a_price = args[1];
        a_units = nargs == 3 ? args[2] : NULL;
    } else {
        PyObject *a[3];
        if (parse_args(&SPEC_UPDATE, args, nargs, kwnames, a) < 0) {
            return NULL;
        }
        a_agent = a[0];
        a_price = a[1];
        a_units = a[2];
    }
    uint32_t agent, price, units = 1;
    if (get_agent(a_agent, b->capacity, &agent) < 0 || get_price(a_price, NULL, &price) < 0 ||
        (a_units != NULL && get_units(a_units, &units) < 0)) {
        return NULL;
    }
    int status = tick_update(b->book, agent, price, units);
    if (status != TICK_OK) {
        return core_error(status);
    }
    Py_RETURN_NONE;
}

static PyObject *
book_expire(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *arg = one_arg(&SPEC_EXPIRE, args, nargs, kwnames);
    uint32_t agent;
    if (arg == NULL || get_agent(arg, ((BookObject *)self)->capacity, &agent) < 0) {
        return NULL;
    }
    int status = tick_expire(BOOK(self), agent);
    if (status == TICK_ENOENT) {
        PyErr_Format(PyExc_ValueError, "agent %lu has no live bid", (unsigned long)agent);
        return NULL;
    }
    if (status != TICK_OK) {
        return core_error(status);
    }
    Py_RETURN_NONE;
}

static PyObject *
book_clear(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (no_args(&SPEC_CLEAR, args, nargs, kwnames) < 0) {
        return NULL;
    }
    tick_clear(BOOK(self));
    Py_RETURN_NONE;
}

static PyObject *
u32_list(const uint32_t *values, uint32_t count)
{
    PyObject *list = PyList_New((Py_ssize_t)count);
    if (list == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++) {
        PyObject *item = PyLong_FromUnsignedLong(values[i]);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *
book_select(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    BookObject *b = (BookObject *)self;
    PyObject *arg = one_arg(&SPEC_SELECT, args, nargs, kwnames);
    uint32_t n;
    if (arg == NULL || get_count32(arg, "n", 0, b->capacity, &n) < 0) {
        return NULL;
    }
    uint32_t got = tick_select(b->book, n, b->sel_agents, b->sel_prices);
    PyObject *agents = u32_list(b->sel_agents, got);
    if (agents == NULL) {
        return NULL;
    }
    PyObject *prices = u32_list(b->sel_prices, got);
    if (prices == NULL) {
        Py_DECREF(agents);
        return NULL;
    }
    PyObject *res = PyTuple_New(2);
    if (res == NULL) {
        Py_DECREF(agents);
        Py_DECREF(prices);
        return NULL;
    }
    PyTuple_SET_ITEM(res, 0, agents);
    PyTuple_SET_ITEM(res, 1, prices);
    return res;
}

static PyObject *
book_peek(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    BookObject *b = (BookObject *)self;
    if (no_args(&SPEC_PEEK, args, nargs, kwnames) < 0) {
        return NULL;
    }
    if (tick_select(b->book, 1, b->sel_agents, b->sel_prices) == 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLong(b->sel_agents[0]);
}

static PyObject *
book_top(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    BookObject *b = (BookObject *)self;
    PyObject *arg = one_arg(&SPEC_TOP, args, nargs, kwnames);
    uint32_t n;
    /* The reference's top(k) hands k to select(n): the field is "n". */
    if (arg == NULL || get_count32(arg, "n", 0, b->capacity, &n) < 0) {
        return NULL;
    }
    uint32_t got = tick_select(b->book, n, b->sel_agents, b->sel_prices);
    return u32_list(b->sel_agents, got);
}

static PyObject *
book_price(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    BookObject *b = (BookObject *)self;
    PyObject *arg = NULL;
    if (nargs == 1 && kwnames == NULL) {
        arg = args[0];
    } else if (nargs != 0 || kwnames != NULL) {
        PyObject *a[1];
        if (parse_args(&SPEC_PRICE, args, nargs, kwnames, a) < 0) {
            return NULL;
        }
        arg = a[0];
    }
    uint32_t k = 1;
    if (arg != NULL) {
        if (get_count32(arg, "k", 0, b->capacity - 1, &k) < 0) {
            return NULL;
        }
    } else if (b->capacity == 1) {
        /* The default k=1 is out of range 0..0: the reference says so. */
        PyObject *one = PyLong_FromLong(1);
        if (one == NULL) {
            return NULL;
        }
        int rc = get_count32(one, "k", 0, 0, &k);
        Py_DECREF(one);
        if (rc < 0) {
            return NULL;
        }
    }
    uint32_t got = tick_select(b->book, k + 1, b->sel_agents, b->sel_prices);
    return PyLong_FromUnsignedLong(got > k ? b->sel_prices[k] : 0);
}

static PyObject *
book_check(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (no_args(&SPEC_CHECK[((BookObject *)self)->params.kind], args, nargs, kwnames) < 0) {
        return NULL;
    }
    int status = tick_book_check(BOOK(self));
    if (status != TICK_OK) {
        PyErr_Format(PyExc_AssertionError,
                     "tick_book_check found a broken invariant (status %d)", status);
        return NULL;
    }
    Py_RETURN_NONE;
}

#define FASTKW (METH_FASTCALL | METH_KEYWORDS)

static PyMethodDef book_methods[] = {
    {"bid", (PyCFunction)(void (*)(void))book_bid, FASTKW,
     "bid($self, agent)\n--\n\nThe agent's live (price, units), or None."},
    {"items", (PyCFunction)(void (*)(void))book_items, FASTKW,
     "items($self)\n--\n\nEvery live bid as (agent, price, units), by agent id."},
    {"update", (PyCFunction)(void (*)(void))book_update, FASTKW,
     "update($self, agent, price, units=1)\n--\n\nInsert or replace agent's bid; it arrives now."},
    {"expire", (PyCFunction)(void (*)(void))book_expire, FASTKW,
     "expire($self, agent)\n--\n\nRemove agent's bid; ValueError if it has none."},
    {"clear", (PyCFunction)(void (*)(void))book_clear, FASTKW,
     "clear($self)\n--\n\nRemove every bid (parameters and random state stay)."},
    {"select", (PyCFunction)(void (*)(void))book_select, FASTKW,
     "select($self, n)\n--\n\n"
     "The top n agents in rank order and their rank prices, one draw: (agents, prices)."},
    {"peek", (PyCFunction)(void (*)(void))book_peek, FASTKW,
     "peek($self)\n--\n\nThe winner, or None when the book is empty."},
    {"top", (PyCFunction)(void (*)(void))book_top, FASTKW,
     "top($self, k)\n--\n\nThe k highest-ranked agents."},
    {"price", (PyCFunction)(void (*)(void))book_price, FASTKW,
     "price($self, k=1)\n--\n\n"
     "Rank price of the (k+1)-th bid: what k Vickrey winners pay (0 if none)."},
    {"_check", (PyCFunction)(void (*)(void))book_check, FASTKW,
     "_check($self)\n--\n\nAssert the core's invariants (tick_book_check)."},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------------ */
/* Attributes.                                                              */

static PyObject *
get_capacity(BookObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(self->capacity);
}

static PyObject *
get_nbytes(BookObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->nbytes);
}

static PyObject *
get_tiermap(BookObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->tiermap != NULL ? self->tiermap : Py_None);
}

/* closure: offset of a uint32_t field in struct tick_params, or -1 for seed */
static PyObject *
get_param(BookObject *self, void *closure)
{
    intptr_t offset = (intptr_t)closure;
    if (offset < 0) {
        return PyLong_FromUnsignedLongLong(self->params.seed);
    }
    uint32_t value;
    memcpy(&value, (const char *)&self->params + offset, sizeof value);
    return PyLong_FromUnsignedLong(value);
}

#define PARAM(name) ((void *)(intptr_t)offsetof(struct tick_params, name))

static PyGetSetDef book_getset[] = {
    {"capacity", (getter)get_capacity, NULL, "Agent slots: ids run 0..capacity-1.", NULL},
    {"nbytes", (getter)get_nbytes, NULL, "Bytes of the core's block (tick_book_size).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef tiers_getset[] = {
    {"tiermap", (getter)get_tiermap, NULL, "The price-to-tier mapping (a TierMap).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef lazy_getset[] = {
    {"depth", (getter)get_param, NULL, "Cached ranks.", PARAM(depth)},
    {"threshold", (getter)get_param, NULL, "Entry margin (micro-units) forcing a recompute.",
     PARAM(threshold)},
    {"period", (getter)get_param, NULL, "Selects between forced recomputes.", PARAM(period)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef tourney_getset[] = {
    {"group", (getter)get_param, NULL, "Slots per group.", PARAM(group)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef sampled_getset[] = {
    {"samples", (getter)get_param, NULL, "Draws per select.", PARAM(samples)},
    {"seed", (getter)get_param, NULL, "Seed of the xorshift64* generator.", (void *)(intptr_t)-1},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods book_as_sequence = {
    .sq_length = book_len,
    .sq_contains = book_contains,
};

/* ------------------------------------------------------------------------ */
/* Types.                                                                   */

static PyTypeObject Book_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "auctioneer.tick._core._Book",
    .tp_basicsize = sizeof(BookObject),
    .tp_dealloc = (destructor)book_dealloc,
    .tp_as_sequence = &book_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "What the five tick structures share (not instantiable).",
    .tp_traverse = (traverseproc)book_traverse,
    .tp_clear = (inquiry)book_clear_refs,
    .tp_weaklistoffset = offsetof(BookObject, weakreflist),
    .tp_methods = book_methods,
    .tp_getset = book_getset,
    .tp_free = PyObject_GC_Del,
};

#define KIND_TYPE(var, name, getset, doc)                                  \
    static PyTypeObject var = {                                            \
        PyVarObject_HEAD_INIT(NULL, 0)                                     \
        .tp_name = "auctioneer.tick._core." name,                          \
        .tp_basicsize = sizeof(BookObject),                                \
        .tp_dealloc = (destructor)book_dealloc,                            \
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,               \
        .tp_doc = doc,                                                     \
        .tp_traverse = (traverseproc)book_traverse,                        \
        .tp_clear = (inquiry)book_clear_refs,                              \
        .tp_getset = getset,                                               \
        .tp_base = &Book_Type,                                             \
        .tp_new = book_new,                                                \
        .tp_free = PyObject_GC_Del,                                        \
    }

KIND_TYPE(TierBook_Type, "TierBook", tiers_getset,
          "TierBook(capacity, tiermap=None)\n--\n\n"
          "Stratified price tiers, FIFO inside a tier. update, expire O(1).");
KIND_TYPE(LazyHeap_Type, "LazyHeap", lazy_getset,
          "LazyHeap(capacity, depth=2, threshold=0, period=1024)\n--\n\n"
          "Caches the top depth bids; recomputes only when needed.");
KIND_TYPE(TournamentTree_Type, "TournamentTree", tourney_getset,
          "TournamentTree(capacity, group=16)\n--\n\n"
          "Exact tournament tree of group winners.");
KIND_TYPE(SampledTopK_Type, "SampledTopK", sampled_getset,
          "SampledTopK(capacity, samples=32, seed=1)\n--\n\n"
          "Ranks a fresh uniform sample of samples live bids at each select.");
KIND_TYPE(IndexedHeap_Type, "IndexedHeap", NULL,
          "IndexedHeap(capacity)\n--\n\n"
          "Exact indexed binary max-heap (the baseline).");

/* ------------------------------------------------------------------------ */
/* The C API other extensions use (the benchmark's timing harness).         */

static int
book_view(PyObject *obj, struct tick_book_view *view)
{
    if (!PyObject_TypeCheck(obj, &Book_Type)) {
        return -1;
    }
    BookObject *b = (BookObject *)obj;
    view->book = b->book;
    view->capacity = b->capacity;
    view->sel_agents = b->sel_agents;
    view->sel_prices = b->sel_prices;
    return 0;
}

static const struct tick_core_api CORE_API = {book_view};

/* ------------------------------------------------------------------------ */
/* Module.                                                                  */

static PyMethodDef module_methods[] = {
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "auctioneer.tick._core",
    .m_doc = "The tick market's native bid structures (tick_core.c).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    if (check_agent_fn == NULL) {
        check_agent_fn = import_attr("auctioneer.tick.limits", "check_agent");
        check_price_fn = import_attr("auctioneer.tick.limits", "check_price");
        check_units_fn = import_attr("auctioneer.tick.limits", "check_units");
        check_count_fn = import_attr("auctioneer.tick.limits", "check_count");
        tiermap_cls = import_attr("auctioneer.tick.tiermap", "TierMap");
        PyObject *mapkind = import_attr("auctioneer.tick.tiermap", "MapKind");
        if (mapkind != NULL) {
            mapkind_linear = PyObject_GetAttrString(mapkind, "LINEAR");
            Py_DECREF(mapkind);
        }
        if (check_agent_fn == NULL || check_price_fn == NULL || check_units_fn == NULL ||
            check_count_fn == NULL || tiermap_cls == NULL || mapkind_linear == NULL) {
            Py_CLEAR(check_agent_fn);
            Py_CLEAR(check_price_fn);
            Py_CLEAR(check_units_fn);
            Py_CLEAR(check_count_fn);
            Py_CLEAR(tiermap_cls);
            Py_CLEAR(mapkind_linear);
            return NULL;
        }
    }

    KIND_TYPES[TICK_TIERS] = &TierBook_Type;
    KIND_TYPES[TICK_LAZY] = &LazyHeap_Type;
    KIND_TYPES[TICK_TOURNEY] = &TournamentTree_Type;
    KIND_TYPES[TICK_SAMPLED] = &SampledTopK_Type;
    KIND_TYPES[TICK_HEAP] = &IndexedHeap_Type;
    if (PyType_Ready(&Book_Type) < 0) {
        return NULL;
    }
    for (int k = 0; k < 5; k++) {
        PyTypeObject *type = KIND_TYPES[k];
        if (PyType_Ready(type) < 0) {
            return NULL;
        }
        PyObject *kind = PyLong_FromLong(k);
        if (kind == NULL) {
            return NULL;
        }
        int rc = PyDict_SetItemString(type->tp_dict, "kind", kind);
        Py_DECREF(kind);
        if (rc < 0) {
            return NULL;
        }
        PyType_Modified(type);
    }

    PyObject *m = PyModule_Create(&core_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "_Book", (PyObject *)&Book_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    for (int k = 0; k < 5; k++) {
        const char *dot = strrchr(KIND_TYPES[k]->tp_name, '.');
        if (PyModule_AddObjectRef(m, dot + 1, (PyObject *)KIND_TYPES[k]) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    PyObject *api = PyCapsule_New((void *)&CORE_API, TICK_CORE_API_NAME, NULL);
    int rc = api == NULL ? -1 : PyModule_AddObjectRef(m, "_C_API", api);
    Py_XDECREF(api);
    if (rc < 0 || add_sanitized(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
