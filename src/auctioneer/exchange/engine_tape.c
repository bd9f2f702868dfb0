/*
 * engine_tape.c - the trades of replay and apply, kept in C until they are read:
 * each market's price index takes a trade's price, quantity and time (its
 * pending list) and its tape the trade itself, but neither is read until the
 * next price publication or dump, so a command only records the trade here
 * (eb_buffer_trades). eb_flush_trades hands them over, oldest first, before
 * anything reads those lists: a price publication and a dump (and apply when
 * EB_TRADES_HELD are waiting). A tape keeps its last `maxlen` trades, so only
 * those are built as objects.
 * Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <stdlib.h>

int
eb_reserve_trades(CoreObject *self, size_t more)
{
    if (more <= self->cap_trades - self->n_trades) {
        return 0;
    }
    size_t cap = (size_t)eb_doubled(self->cap_trades, self->n_trades, more, 4096u,
                                    SIZE_MAX / sizeof(eb_trade));
    eb_trade *grown = cap == 0 ? NULL : realloc(self->trades, cap * sizeof *grown);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->trades = grown;
    self->cap_trades = cap;
    return 0;
}

int
eb_buffer_trades(CoreObject *self, uint32_t m, uint64_t taker)
{
    const mc_book *b = &self->e.markets[m].book;
    for (uint32_t i = 0; i < b->n_events; i++) {
        const mc_event *ev = &b->events[i];
        if (ev->kind != MC_TRADED) {
            continue;
        }
        if (self->n_trades == self->cap_trades && eb_reserve_trades(self, 1) < 0) {
            return -1;
        }
        self->trades[self->n_trades++] = (eb_trade){
            .trade_id = ev->trade_id,
            .buy_order = ev->buy ? taker : ev->order,
            .sell_order = ev->buy ? ev->order : taker,
            .price = ev->price,
            .quantity = ev->quantity,
            .ts = self->e.clock,
            .market = m,
            .buyer = ev->buy ? ev->taker_account : ev->account,
            .seller = ev->buy ? ev->account : ev->taker_account,
            .buy = ev->buy,
        };
    }
    return 0;
}

/* The int v: the one made last for a field when it holds v (a command's trades share
 * their time and often their price and quantity), else a new one. */
static PyObject *
int_of(PyObject **last, int64_t v)
{
    if (*last == NULL || PyLong_AsLongLong(*last) != v) {
        Py_XDECREF(*last);
        *last = PyLong_FromLongLong(v);
        if (*last == NULL) {
            return NULL;
        }
    }
    return ref(*last);
}

/* Trade t into its market's tape. */
static int
to_tape(CoreObject *self, const eb_trade *t)
{
    PyObject *buy_order = eb_id_name(self, t->buy_order);
    PyObject *sell_order = buy_order == NULL ? NULL : eb_id_name(self, t->sell_order);
    if (sell_order == NULL) {
        return -1;
    }
    PyObject *traded = eb_traded(self, t->trade_id, t->market, buy_order, sell_order, t->buyer,
                                 t->seller, PyLong_FromLongLong(t->price),
                                 PyLong_FromLongLong(t->quantity), t->buy,
                                 PyLong_FromLongLong(t->ts));
    PyObject *r = traded == NULL ? NULL
                                 : PyObject_CallMethodOneArg(
                                       PyList_GET_ITEM(self->tapes, t->market), A_append, traded);
    Py_XDECREF(traded);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* Each market's pending trades go in as one list filled in place, a value repeated from the
 * trade before as the same int: it becomes the price index's list when that is empty (as
 * after every publication), with nothing copied, else a slice on its end. That list holds
 * ints alone, so it can never be part of a cycle: it stays out of the collector, which would
 * otherwise walk it whole at each collection the tape's new events set off. */
int
eb_flush_trades(CoreObject *self)
{
    size_t n = self->n_trades;
    if (n == 0) {
        return 0;
    }
    /* left[m]: market m's trades still to come; a tape takes the last tape_room[m];
     * chunk[m]: market m's new pending trades */
    uint32_t markets = self->e.n_markets ? self->e.n_markets : 1u;
    uint64_t *left = calloc(markets, sizeof *left);
    Py_ssize_t *filled = calloc(markets, sizeof *filled);
    PyObject **chunk = calloc(markets, sizeof *chunk);
    int rc = left == NULL || filled == NULL || chunk == NULL ? -1 : 0;
    if (rc < 0) {
        PyErr_NoMemory();
    } else if (markets == 1) {
        left[0] = n;
    }
    for (size_t i = 0; rc == 0 && markets > 1 && i < n; i++) {
        left[self->trades[i].market]++;
    }
    for (uint32_t m = 0; rc == 0 && m < self->e.n_markets; m++) {
        if (left[m] > 0 && (chunk[m] = PyList_New(3 * (Py_ssize_t)left[m])) == NULL) {
            rc = -1;
        } else if (left[m] > 0) {
            PyObject_GC_UnTrack(chunk[m]);
        }
    }
    PyObject *last[3] = {NULL, NULL, NULL}; /* price, quantity, time */
    for (size_t i = 0; i < n && rc == 0; i++) {
        const eb_trade *t = &self->trades[i];
        int64_t values[3] = {t->price, t->quantity, t->ts};
        for (int k = 0; k < 3 && rc == 0; k++) {
            PyObject *v = int_of(&last[k], values[k]);
            if (v == NULL) {
                rc = -1;
            } else {
                PyList_SET_ITEM(chunk[t->market], filled[t->market]++, v);
            }
        }
        if (rc == 0 && left[t->market]-- <= self->tape_room[t->market] && to_tape(self, t) < 0) {
            rc = -1;
        }
    }
    for (int k = 0; k < 3; k++) {
        Py_XDECREF(last[k]);
    }
    for (uint32_t m = 0; chunk != NULL && m < self->e.n_markets; m++) {
        if (chunk[m] == NULL) {
            continue;
        }
        PyObject *pending = PyList_GET_ITEM(self->pending, m);
        if (rc == 0 && PyList_GET_SIZE(pending) == 0) {
            rc = PyObject_SetAttr(PyList_GET_ITEM(self->indexes, m), A_pending, chunk[m]);
            if (rc == 0) {
                rc = PyList_SetItem(self->pending, m, ref(chunk[m]));
            }
        } else if (rc == 0) {
            rc = PyList_SetSlice(pending, PyList_GET_SIZE(pending), PyList_GET_SIZE(pending),
                                 chunk[m]);
        }
        Py_DECREF(chunk[m]);
    }
    free(left);
    free(filled);
    free(chunk);
    self->n_trades = 0;
    return rc;
}
