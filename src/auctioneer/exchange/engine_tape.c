/*
 * engine_tape.c - the trades of replay and apply, kept in C until they are read:
 * each market's price index takes a trade's price, quantity and time (its
 * pending array) and its tape the trade itself, but neither is read until the
 * next price publication or dump, so a command only records the trade here
 * (eb_buffer_trades). eb_flush_trades hands them over, oldest first, before
 * anything reads them: a price publication and a dump (and apply when
 * EB_TRADES_HELD are waiting). A tape keeps its last `maxlen` trades, so only
 * those are built as objects.
 * Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <stdlib.h>
#include <string.h>

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

/* Each market's pending trades go in as the 64-bit ints of its price index's array
 * (price, quantity, time per trade), written here into one bytes object per market and
 * appended by the array's frombytes: no int object per value, nothing for the collector. */
int
eb_flush_trades(CoreObject *self)
{
    size_t n = self->n_trades;
    if (n == 0) {
        return 0;
    }
    /* left[m]: market m's trades still to come; a tape takes the last tape_room[m];
     * chunk[m]: market m's new pending trades, fill[m] where the next one goes */
    uint32_t markets = self->e.n_markets ? self->e.n_markets : 1u;
    uint64_t *left = calloc(markets, sizeof *left);
    char **fill = calloc(markets, sizeof *fill);
    PyObject **chunk = calloc(markets, sizeof *chunk);
    int rc = left == NULL || fill == NULL || chunk == NULL ? -1 : 0;
    if (rc < 0) {
        PyErr_NoMemory();
    } else if (markets == 1) {
        left[0] = n;
    }
    for (size_t i = 0; rc == 0 && markets > 1 && i < n; i++) {
        left[self->trades[i].market]++;
    }
    for (uint32_t m = 0; rc == 0 && m < self->e.n_markets; m++) {
        if (left[m] == 0) {
            continue;
        }
        chunk[m] = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(left[m] * 3u * sizeof(int64_t)));
        if (chunk[m] == NULL) {
            rc = -1;
        } else {
            fill[m] = PyBytes_AS_STRING(chunk[m]);
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const eb_trade *t = &self->trades[i];
        int64_t values[3] = {t->price, t->quantity, t->ts};
        memcpy(fill[t->market], values, sizeof values);
        fill[t->market] += sizeof values;
        if (left[t->market]-- <= self->tape_room[t->market] && to_tape(self, t) < 0) {
            rc = -1;
        }
    }
    for (uint32_t m = 0; chunk != NULL && m < self->e.n_markets; m++) {
        if (chunk[m] == NULL) {
            continue;
        }
        PyObject *r = rc < 0 ? NULL
                             : PyObject_CallMethodOneArg(PyList_GET_ITEM(self->pending, m),
                                                         A_frombytes, chunk[m]);
        rc = r == NULL ? -1 : rc;
        Py_XDECREF(r);
        Py_DECREF(chunk[m]);
    }
    free(left);
    free(fill);
    free(chunk);
    self->n_trades = 0;
    return rc;
}
