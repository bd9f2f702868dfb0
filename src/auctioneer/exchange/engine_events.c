/*
 * engine_events.c - the native engine's events as the reference's event objects:
 * the clock and price publication, Accepted, the translation of what a book call
 * did, and the room for order numbers. Part of the _engine binding (see
 * _engine.c); engine_lazy.c builds a command's events with these when they are
 * first read.
 */
#include "engine_binding.h"

#include <string.h>

static PyObject *
event(PyTypeObject *type, Py_ssize_t n, PyObject **items)
{
    PyObject *obj = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == NULL) {
            goto fail;
        }
    }
    obj = type->tp_alloc(type, n);
    if (obj == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(obj, i, items[i]);
    }
    return obj;
fail:
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(items[i]);
    }
    return NULL;
}

static PyObject *
account_name(CoreObject *self, uint32_t a)
{
    return ref(PyList_GET_ITEM(self->account_ids, a));
}

/* ------------------------------------------------------------ the clock */

/* Publish every market's price at the whole second the clock reached (the events into
 * `events`, or nowhere when it is NULL). */
static int
publish(CoreObject *self, PyObject *events)
{
    ec_engine *e = &self->e;
    e->second = e->clock / EC_SECOND;
    PyObject *at = PyLong_FromLongLong(e->second * EC_SECOND);
    if (at == NULL || eb_flush_trades(self) < 0) {
        Py_XDECREF(at);
        return -1;
    }
    for (uint32_t m = 0; m < e->n_markets; m++) {
        PyObject *price = PyObject_CallMethodOneArg(PyList_GET_ITEM(self->indexes, m),
                                                    A_publish, at);
        if (events == NULL && price != NULL) { /* replay: the index published, no event */
            Py_DECREF(price);
            continue;
        }
        PyObject *items[3] = {ref(PyList_GET_ITEM(self->market_ids, m)), price, ref(at)};
        if (push(events, event(E_published, 3, items)) < 0) {
            Py_DECREF(at);
            return -1;
        }
    }
    Py_DECREF(at);
    return 0;
}

/* Move the clock to `ts` (never back), publishing prices at a new second: 0, or -1. */
int
eb_advance(CoreObject *self, int64_t ts, PyObject *events)
{
    ec_engine *e = &self->e;
    if (ts > e->clock) {
        e->clock = ts;
        if (ts / EC_SECOND > e->second) {
            return publish(self, events);
        }
    }
    return 0;
}

/* Accepted(kind, ref, clock): a new reference, or NULL on error. */
PyObject *
eb_accepted(PyObject *kind, PyObject *refobj, int64_t clock)
{
    PyObject *items[3] = {ref(kind), ref(refobj), PyLong_FromLongLong(clock)};
    return event(E_accepted, 3, items);
}

PyObject *
eb_traded(CoreObject *self, uint64_t trade_id, uint32_t m, PyObject *buy_order,
          PyObject *sell_order, uint32_t buyer, uint32_t seller, PyObject *price,
          PyObject *quantity, int buy, PyObject *ts)
{
    PyObject *items[10] = {
        PyLong_FromUnsignedLongLong(trade_id), ref(PyList_GET_ITEM(self->market_ids, m)),
        ref(buy_order), ref(sell_order), account_name(self, buyer), account_name(self, seller),
        price, quantity, ref(buy ? BUY : SELL), ts};
    return event(E_traded, 10, items);
}

/* ------------------------------------------------------------ order ids */

int
eb_reserve_names(CoreObject *self, uint64_t more)
{
    if (more <= self->cap_names - self->n_names) {
        return 0;
    }
    uint64_t cap = eb_doubled(self->cap_names, self->n_names, more, 1024u,
                              (uint64_t)PY_SSIZE_T_MAX / sizeof(PyObject *));
    if (cap == 0) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject **names = PyMem_Realloc(self->names, (size_t)cap * sizeof(PyObject *));
    if (names == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->names = names;
    uint32_t *markets = PyMem_Realloc(self->order_market, (size_t)cap * sizeof(uint32_t));
    if (markets == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->order_market = markets;
    uint8_t *post = PyMem_Realloc(self->order_post, (size_t)cap);
    if (post == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(post + self->cap_names, 0, (size_t)(cap - self->cap_names)); /* numbers are new */
    self->order_post = post;
    self->cap_names = cap;
    return 0;
}

/* -------------------------------------------------------------- events */

/* Append to `events` the Python events of the book events `evs[0..n)` of market `m` for
 * order number `taker` (named `name`), made at time `clock`. */
int
eb_translate(CoreObject *self, uint32_t m, uint64_t taker, PyObject *name, const mc_event *evs,
             uint32_t n, int64_t clock, PyObject *events)
{
    PyObject *ts = PyLong_FromLongLong(clock);
    if (ts == NULL) {
        return -1;
    }
    int rc = -1;
    for (uint32_t i = 0; i < n; i++) {
        const mc_event *ev = &evs[i];
        PyObject *who = ev->order == taker ? name : eb_id_name(self, ev->order);
        PyObject *markets = PyList_GET_ITEM(self->market_tuples, m);
        if (ev->link != MC_NONE && ev->kind != MC_TRADED) { /* a cross-market bid's own */
            PyObject *number = PyLong_FromUnsignedLongLong(ev->order);
            markets = number == NULL ? NULL : PyDict_GetItemWithError(self->cross, number);
            Py_XDECREF(number);
            if (markets == NULL && !PyErr_Occurred()) {
                PyErr_SetString(PyExc_SystemError, "a cross-market bid without its markets");
            }
            who = markets == NULL ? NULL : who;
        }
        if (who == NULL) {
            goto done;
        }
        if (ev->kind == MC_TRADED) {
            PyObject *traded = eb_traded(
                self, ev->trade_id, m, ev->buy ? name : who, ev->buy ? who : name,
                ev->buy ? ev->taker_account : ev->account,
                ev->buy ? ev->account : ev->taker_account, PyLong_FromLongLong(ev->price),
                PyLong_FromLongLong(ev->quantity), ev->buy, ref(ts));
            if (push(events, traded) < 0) {
                goto done;
            }
        } else if (ev->kind == MC_RESTED) {
            PyObject *items[7] = {
                ref(who), account_name(self, ev->account), ref(ev->buy ? BUY : SELL),
                ref(markets), PyLong_FromLongLong(ev->price),
                PyLong_FromLongLong(ev->quantity), ref(ts)};
            if (push(events, event(E_rested, 7, items)) < 0) {
                goto done;
            }
        } else if (ev->kind == MC_CANCELLED) {
            PyObject *items[6] = {
                ref(who), account_name(self, ev->account), ref(markets),
                PyLong_FromLongLong(ev->quantity), ref(REASONS[ev->reason]), ref(ts)};
            if (push(events, event(E_cancelled, 6, items)) < 0) {
                goto done;
            }
        } else {
            PyObject *items[7] = {
                ref(who), account_name(self, ev->account), ref(markets),
                PyLong_FromLongLong(ev->price), PyLong_FromLongLong(ev->quantity),
                ref(ev->reason ? Py_True : Py_False), ref(ts)};
            if (push(events, event(E_modified, 7, items)) < 0) {
                goto done;
            }
        }
    }
    rc = 0;
done:
    Py_DECREF(ts);
    return rc;
}

PyObject *
eb_cross_events(CoreObject *self, PyObject *kind, PyObject *name, int64_t ts, uint64_t n)
{
    PyObject *head = eb_events(self, kind, name, ts, EB_NO_MARKET, n, name);
    PyObject *out = head == NULL ? NULL : PySequence_List(head);
    Py_XDECREF(head);
    if (out == NULL) {
        return NULL;
    }
    const ec_engine *e = &self->e;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < e->n_xbooks; i++) { /* each book's trades */
        rc = eb_buffer_trades(self, e->xmarkets[i], n);
    }
    for (uint32_t i = 0; rc == 0 && i < e->n_xev; i++) {
        rc = eb_translate(self, e->xev[i].market, n, name, &e->xev[i].ev, 1, e->clock, out);
    }
    if (rc < 0) {
        Py_CLEAR(out);
    }
    self->dirty = 1; /* (a list is no change to Core_apply: a refusal) */
    return out;
}
