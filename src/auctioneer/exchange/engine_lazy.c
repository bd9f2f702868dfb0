/*
 * engine_lazy.c - a command's events as the native engine returns them: an
 * immutable sequence (Events) that holds what the book call did in C and builds
 * the reference's event objects the first time it is read -- indexed, iterated,
 * compared, printed, pickled. Its length needs no objects: a command gives
 * Accepted and one event per book event (after one PricePublished per market
 * at a new second, which are built at once). Everything the command changes in
 * the state is done before it returns; only the objects wait. Part of the
 * _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <string.h>

typedef struct {
    PyObject_VAR_HEAD  /* ob_size: book events held */
    CoreObject *core;  /* names accounts, markets and orders by number */
    PyObject *list;    /* the events built so far: NULL, or the PricePublished, or all */
    PyObject *kind, *refobj;
    PyObject *name;    /* order number `taker`'s id, when there are book events */
    int64_t clock;
    uint64_t taker;
    uint32_t market;
    uint32_t room;     /* book events it has room for */
    int whole;         /* `list` holds every event */
    mc_event book[1];
} EventsObject;

/* Every command returns an Events, which the caller mostly drops at once: one of up to
 * KEPT_ROOM book events is made with room for that many, and when released is kept (up to
 * KEPT_MAX of them) for the next command instead of freed, so a command allocates nothing
 * (an allocation and its free cost about 115 instructions, 6% of an order). */
#define KEPT_ROOM 8u
#define KEPT_MAX 64
static EventsObject *kept[KEPT_MAX];
static int n_kept;

/* An Events of n book events, its fields unset: NULL on error. */
static EventsObject *
new_events(Py_ssize_t n)
{
    if (n > (Py_ssize_t)KEPT_ROOM) {
        EventsObject *out = PyObject_NewVar(EventsObject, &EventsType, n);
        if (out != NULL) {
            out->room = (uint32_t)n;
        }
        return out;
    }
    if (n_kept > 0) {
        return (EventsObject *)PyObject_InitVar((PyVarObject *)kept[--n_kept], &EventsType, n);
    }
    EventsObject *out = PyObject_NewVar(EventsObject, &EventsType, KEPT_ROOM);
    if (out != NULL) {
        out->room = KEPT_ROOM;
        Py_SET_SIZE(out, n);
    }
    return out;
}

/* Every event as a list (built on first use): borrowed; NULL on error. */
static PyObject *
built(EventsObject *self)
{
    if (self->whole) {
        return self->list;
    }
    PyObject *list = self->list != NULL ? self->list : PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    Py_ssize_t before = PyList_GET_SIZE(list);
    if (push(list, eb_accepted(self->kind, self->refobj, self->clock)) < 0
        || (Py_SIZE(self) > 0
            && eb_translate(self->core, self->market, self->taker, self->name, self->book,
                            (uint32_t)Py_SIZE(self), self->clock, list) < 0)) {
        /* as it was, so a later read tries again */
        if (self->list == NULL) {
            Py_DECREF(list);
        } else {
            Py_SET_SIZE(list, before);
        }
        return NULL;
    }
    self->list = list;
    self->whole = 1;
    return list;
}

PyObject *
eb_events(CoreObject *self, PyObject *kind, PyObject *refobj, int64_t ts, uint32_t m,
          uint64_t taker, PyObject *name)
{
    PyObject *published = NULL;
    if (ts > self->e.clock && ts / EC_SECOND > self->e.second) {
        published = PyList_New(0);
        if (published == NULL || eb_advance(self, ts, published) < 0) {
            Py_XDECREF(published);
            return NULL;
        }
    } else if (ts > self->e.clock) {
        self->e.clock = ts;
    }
    const mc_book *b = m == EB_NO_MARKET ? NULL : &self->e.markets[m].book;
    Py_ssize_t n = b == NULL ? 0 : (Py_ssize_t)b->n_events;
    if (b != NULL && eb_buffer_trades(self, m, taker) < 0) {
        Py_XDECREF(published);
        return NULL;
    }
    EventsObject *out = new_events(n);
    if (out == NULL) {
        Py_XDECREF(published);
        return NULL;
    }
    out->core = (CoreObject *)ref((PyObject *)self);
    out->list = published;
    out->kind = ref(kind);
    out->refobj = ref(refobj);
    out->name = name == NULL ? NULL : ref(name);
    out->clock = self->e.clock;
    out->taker = taker;
    out->market = m;
    out->whole = 0;
    if (n > 0) {
        memcpy(out->book, b->events, (size_t)n * sizeof(mc_event));
    }
    /* the prices' events are read at once: so is the rest */
    if (published != NULL && built(out) == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    return (PyObject *)out;
}

static void
Events_dealloc(EventsObject *self)
{
    Py_XDECREF(self->core);
    Py_XDECREF(self->list);
    Py_XDECREF(self->kind);
    Py_XDECREF(self->refobj);
    Py_XDECREF(self->name);
    if (self->room == KEPT_ROOM && n_kept < KEPT_MAX) {
        kept[n_kept++] = self;
    } else {
        PyObject_Free(self);
    }
}

static Py_ssize_t
Events_length(EventsObject *self)
{
    return self->whole ? PyList_GET_SIZE(self->list)
                       : (self->list == NULL ? 0 : PyList_GET_SIZE(self->list)) + 1
                             + Py_SIZE(self);
}

static PyObject *
Events_subscript(EventsObject *self, PyObject *key)
{
    PyObject *list = built(self);
    return list == NULL ? NULL : PyObject_GetItem(list, key);
}

static PyObject *
Events_item(EventsObject *self, Py_ssize_t i)
{
    PyObject *list = built(self);
    return list == NULL ? NULL : PySequence_GetItem(list, i);
}

static int
Events_contains(EventsObject *self, PyObject *value)
{
    PyObject *list = built(self);
    return list == NULL ? -1 : PySequence_Contains(list, value);
}

static PyObject *
Events_concat(EventsObject *self, PyObject *other)
{
    PyObject *list = built(self);
    return list == NULL ? NULL : PySequence_Concat(list, other);
}

static PyObject *
Events_iter(EventsObject *self)
{
    PyObject *list = built(self);
    return list == NULL ? NULL : PyObject_GetIter(list);
}

static PyObject *
Events_repr(EventsObject *self)
{
    PyObject *list = built(self);
    return list == NULL ? NULL : PyObject_Repr(list);
}

/* Equal to a list (or Events) of equal events, as the reference's list is. */
static PyObject *
Events_richcompare(PyObject *a, PyObject *b, int op)
{
    PyObject *x = Py_IS_TYPE(a, &EventsType) ? built((EventsObject *)a) : a;
    PyObject *y = Py_IS_TYPE(b, &EventsType) ? built((EventsObject *)b) : b;
    if (x == NULL || y == NULL) {
        return NULL;
    }
    if (!PyList_Check(x) || !PyList_Check(y)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    return PyObject_RichCompare(x, y, op);
}

/* A method of the built list, called with the same arguments. */
static PyObject *
delegate(EventsObject *self, const char *method, PyObject *args)
{
    PyObject *list = built(self);
    if (list == NULL) {
        return NULL;
    }
    PyObject *bound = PyObject_GetAttrString(list, method);
    if (bound == NULL) {
        return NULL;
    }
    PyObject *out = PyObject_Call(bound, args, NULL);
    Py_DECREF(bound);
    return out;
}

static PyObject *
Events_index(EventsObject *self, PyObject *args)
{
    return delegate(self, "index", args);
}

static PyObject *
Events_count(EventsObject *self, PyObject *args)
{
    return delegate(self, "count", args);
}

static PyObject *
Events_reversed(EventsObject *self, PyObject *args)
{
    return delegate(self, "__reversed__", args);
}

/* Pickled (and copied) as the list of its events. */
static PyObject *
Events_reduce(EventsObject *self, PyObject *args)
{
    (void)args;
    PyObject *list = built(self);
    return list == NULL ? NULL : Py_BuildValue("(O(O))", (PyObject *)&PyList_Type, list);
}

static PyMethodDef Events_methods[] = {
    {"index", (PyCFunction)Events_index, METH_VARARGS, "As list.index."},
    {"count", (PyCFunction)Events_count, METH_VARARGS, "As list.count."},
    {"__reversed__", (PyCFunction)Events_reversed, METH_VARARGS, "As list.__reversed__."},
    {"__reduce__", (PyCFunction)Events_reduce, METH_NOARGS, "Pickled as a list."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Events_as_sequence = {
    .sq_length = (lenfunc)Events_length,
    .sq_concat = (binaryfunc)Events_concat,
    .sq_item = (ssizeargfunc)Events_item,
    .sq_contains = (objobjproc)Events_contains,
};

static PyMappingMethods Events_as_mapping = {
    .mp_length = (lenfunc)Events_length,
    .mp_subscript = (binaryfunc)Events_subscript,
};

PyTypeObject EventsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "auctioneer.exchange._engine.Events",
    .tp_basicsize = offsetof(EventsObject, book),
    .tp_itemsize = sizeof(mc_event),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_SEQUENCE,
    .tp_doc = "A command's events, an immutable sequence equal to the reference's list; "
              "the event objects are built when first read.",
    .tp_dealloc = (destructor)Events_dealloc,
    .tp_repr = (reprfunc)Events_repr,
    .tp_as_sequence = &Events_as_sequence,
    .tp_as_mapping = &Events_as_mapping,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_richcompare = Events_richcompare,
    .tp_iter = (getiterfunc)Events_iter,
    .tp_methods = Events_methods,
};

const mc_event *
eb_events_book(PyObject *obj, CoreObject **core, uint32_t *n, uint32_t *market,
               uint64_t *taker, int64_t *clock)
{
    if (!Py_IS_TYPE(obj, &EventsType)) {
        return NULL;
    }
    EventsObject *self = (EventsObject *)obj;
    *core = self->core;
    *n = (uint32_t)Py_SIZE(self);
    *market = self->market;
    *taker = self->taker;
    *clock = self->clock;
    return self->book;
}
