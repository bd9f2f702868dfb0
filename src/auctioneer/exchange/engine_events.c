/*
 * engine_events.c - the native engine's events as the reference's event objects:
 * the clock and price publication, Accepted, the translation of what a book call
 * did (trades recorded in the price index and the tape), and the numbering of
 * order ids. Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

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

/* Publish every market's price at the whole second the clock reached. */
static int
publish(CoreObject *self, PyObject *events)
{
    ec_engine *e = &self->e;
    e->second = e->clock / EC_SECOND;
    PyObject *at = PyLong_FromLongLong(e->second * EC_SECOND);
    if (at == NULL) {
        return -1;
    }
    for (uint32_t m = 0; m < e->n_markets; m++) {
        PyObject *price = PyObject_CallMethodOneArg(PyList_GET_ITEM(self->indexes, m),
                                                    A_publish, at);
        PyObject *items[3] = {ref(PyList_GET_ITEM(self->market_ids, m)), price, ref(at)};
        if (push(events, event(E_published, 3, items)) < 0) {
            Py_DECREF(at);
            return -1;
        }
    }
    Py_DECREF(at);
    return 0;
}

/* The events of an accepted command so far: the clock moved to `ts` (prices published at
 * a new second), then Accepted(kind, ref, clock). NULL on error. */
PyObject *
eb_accept(CoreObject *self, PyObject *kind, PyObject *refobj, int64_t ts)
{
    ec_engine *e = &self->e;
    PyObject *events = PyList_New(0);
    if (events == NULL) {
        return NULL;
    }
    if (ts > e->clock) {
        e->clock = ts;
        if (ts / EC_SECOND > e->second && publish(self, events) < 0) {
            Py_DECREF(events);
            return NULL;
        }
    }
    if (self->quiet) {
        return events;
    }
    PyObject *items[3] = {ref(kind), ref(refobj), PyLong_FromLongLong(e->clock)};
    if (push(events, event(E_accepted, 3, items)) < 0) {
        Py_DECREF(events);
        return NULL;
    }
    return events;
}

/* ------------------------------------------------------------ order ids */

int
eb_reserve_name(CoreObject *self)
{
    if (self->n_names < self->cap_names) {
        return 0;
    }
    uint64_t cap = self->cap_names ? 2u * self->cap_names : 1024u;
    if (cap > (uint64_t)PY_SSIZE_T_MAX / sizeof(PyObject *)) {
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
    self->cap_names = cap;
    return 0;
}

/* Give the order `name` resting in market `m` the next number. */
int
eb_register_order(CoreObject *self, PyObject *name, uint32_t m)
{
    uint64_t n = self->n_names;
    PyObject *number = PyLong_FromUnsignedLongLong(n);
    if (number == NULL || PyDict_SetItem(self->order_index, name, number) < 0) {
        Py_XDECREF(number);
        return -1;
    }
    Py_DECREF(number);
    self->names[n] = ref(name);
    self->order_market[n] = m;
    self->n_names = n + 1u;
    return 0;
}

static int
close_order(CoreObject *self, uint64_t n)
{
    if (n >= self->n_names || self->names[n] == NULL) {
        return 0;
    }
    int rc = PyDict_DelItem(self->order_index, self->names[n]);
    Py_CLEAR(self->names[n]);
    return rc;
}

/* -------------------------------------------------------------- events */

/* Append the Python events of what the last book call in market `m` did for order number
 * `taker` (named `name`) to `events`; record its trades; number an incoming order that
 * rested and forget the numbers of orders that closed. */
int
eb_translate(CoreObject *self, uint32_t m, uint64_t taker, PyObject *name, PyObject *events)
{
    ec_engine *e = &self->e;
    mc_book *b = &e->markets[m].book;
    PyObject *market = PyList_GET_ITEM(self->market_ids, m);
    PyObject *markets = PyList_GET_ITEM(self->market_tuples, m);
    PyObject *pending = PyList_GET_ITEM(self->pending, m);
    PyObject *ts = PyLong_FromLongLong(e->clock);
    if (ts == NULL) {
        return -1;
    }
    int rc = -1;
    for (uint32_t i = 0; i < b->n_events; i++) {
        const mc_event *ev = &b->events[i];
        PyObject *who = ev->order == taker ? name : self->names[ev->order];
        if (ev->kind == MC_TRADED) {
            PyObject *buy_order = ev->buy ? name : who, *sell_order = ev->buy ? who : name;
            uint32_t buyer = ev->buy ? ev->taker_account : ev->account;
            uint32_t seller = ev->buy ? ev->account : ev->taker_account;
            PyObject *price = PyLong_FromLongLong(ev->price);
            PyObject *quantity = PyLong_FromLongLong(ev->quantity);
            if (price == NULL || quantity == NULL) {
                Py_XDECREF(price);
                Py_XDECREF(quantity);
                goto done;
            }
            PyObject *items[10] = {
                PyLong_FromUnsignedLongLong(ev->trade_id), ref(market), ref(buy_order),
                ref(sell_order), account_name(self, buyer), account_name(self, seller),
                ref(price), ref(quantity), ref(ev->buy ? BUY : SELL), ref(ts)};
            PyObject *traded = event(E_traded, 10, items);
            int bad = traded == NULL || (!self->quiet && PyList_Append(events, traded) < 0)
                      || PyList_Append(pending, price) < 0
                      || PyList_Append(pending, quantity) < 0 || PyList_Append(pending, ts) < 0;
            Py_DECREF(price);
            Py_DECREF(quantity);
            if (!bad) {
                PyObject *r = PyObject_CallMethodOneArg(PyList_GET_ITEM(self->tapes, m),
                                                        A_append, traded);
                bad = r == NULL;
                Py_XDECREF(r);
            }
            Py_XDECREF(traded);
            if (bad || (mc_find(b, ev->order) == NULL && close_order(self, ev->order) < 0)) {
                goto done;
            }
        } else if (self->quiet) { /* replay: only what the state keeps */
            if ((ev->kind == MC_RESTED && ev->order == self->n_names
                 && eb_register_order(self, who, m) < 0)
                || (ev->kind == MC_CANCELLED && close_order(self, ev->order) < 0)) {
                goto done;
            }
        } else if (ev->kind == MC_RESTED) {
            PyObject *items[7] = {
                ref(who), account_name(self, ev->account), ref(ev->buy ? BUY : SELL),
                ref(markets), PyLong_FromLongLong(ev->price),
                PyLong_FromLongLong(ev->quantity), ref(ts)};
            if (push(events, event(E_rested, 7, items)) < 0
                || (ev->order == self->n_names && eb_register_order(self, who, m) < 0)) {
                goto done;
            }
        } else if (ev->kind == MC_CANCELLED) {
            PyObject *items[6] = {
                ref(who), account_name(self, ev->account), ref(markets),
                PyLong_FromLongLong(ev->quantity), ref(REASONS[ev->reason]), ref(ts)};
            if (push(events, event(E_cancelled, 6, items)) < 0
                || close_order(self, ev->order) < 0) {
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
    /* a modified order that filled whole as it arrived anew left no event saying so */
    rc = mc_find(b, taker) == NULL ? close_order(self, taker) : 0;
done:
    Py_DECREF(ts);
    return rc;
}
