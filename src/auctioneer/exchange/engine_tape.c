/*
 * engine_tape.c - the trades of replay and apply, held in C until they are read:
 * each market's price index takes a trade's price, quantity and time (its
 * pending array) and its tape the trade itself, but neither is read until the
 * next price publication or dump, so a command only records the trade in its
 * market's eb_held (eb_buffer_trades). eb_flush_trades hands them over before
 * anything reads them: a price publication, a dump and a snapshot.
 *
 * The price index gets 24 bytes a trade, written in order and handed over as
 * one buffer, so a trade costs a third of a cache line there and is read back
 * once, by the array's copy. A tape keeps its last `maxlen` trades, so only that
 * many are held, in a ring that stays in cache (1,000 trades, 40 KiB, for
 * TRADE_HISTORY), and only those are built as objects. Nothing has to be handed
 * over while commands run: the pending trades would be in the price index's
 * array until the next publication anyway. A ring's trades are the last of the
 * pending ones, so it keeps no price, quantity or time of its own.
 * Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <stdlib.h>
#include <string.h>

/* items (`cap` of `size` bytes, n of them used) doubled until `more` more fit, but to no
 * more than `most`, *cap set: the items' new place, or NULL with an error (unchanged). */
static __attribute__((noinline)) void *
grow(void *items, uint64_t *cap, uint64_t n, uint64_t more, size_t size, uint64_t most)
{
    uint64_t to = eb_doubled(*cap, n, more, 64u, SIZE_MAX / size);
    to = to > most ? most : to;
    void *grown = to == 0 ? NULL : realloc(items, (size_t)to * size);
    if (grown == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *cap = to;
    return grown;
}

int
eb_reserve_trades(CoreObject *self, uint32_t m, uint64_t more)
{
    eb_held *h = &self->held[m];
    if (more <= h->cap_pending - h->n_pending) {
        return 0;
    }
    int64_t *grown = grow(h->pending, &h->cap_pending, h->n_pending, more,
                          3u * sizeof *h->pending, UINT64_MAX);
    h->pending = grown == NULL ? h->pending : grown;
    return grown == NULL ? -1 : 0;
}

/* Where h's next trade goes in its ring: over its oldest once the ring holds `room` (which
 * a tape does not keep either); NULL with an error. */
static inline eb_trade *
ring_slot(eb_held *h)
{
    if (h->n_ring == h->cap_ring && h->cap_ring == h->room) {
        eb_trade *oldest = &h->ring[h->start];
        h->start = h->start + 1u == h->cap_ring ? 0 : h->start + 1u;
        return oldest;
    }
    if (h->n_ring == h->cap_ring) { /* not full yet, so its oldest is at 0: an array */
        eb_trade *grown = grow(h->ring, &h->cap_ring, h->n_ring, 1, sizeof *h->ring, h->room);
        if (grown == NULL) {
            return NULL;
        }
        h->ring = grown;
    }
    return &h->ring[h->n_ring++];
}

int
eb_buffer_trades(CoreObject *self, uint32_t m, uint64_t taker)
{
    const mc_book *b = &self->e.markets[m].book;
    eb_held *h = &self->held[m];
    int64_t ts = self->e.clock;
    for (uint32_t i = 0; i < b->n_events; i++) {
        const mc_event *ev = &b->events[i];
        if (ev->kind != MC_TRADED) {
            continue;
        }
        if (h->n_pending == h->cap_pending && eb_reserve_trades(self, m, 1) < 0) {
            return -1;
        }
        int64_t *p = &h->pending[3u * h->n_pending++];
        p[0] = ev->price;
        p[1] = ev->quantity;
        p[2] = ts;
        if (h->room == 0) {
            continue;
        }
        eb_trade *t = ring_slot(h);
        if (t == NULL) {
            return -1;
        }
        *t = (eb_trade){
            .trade_id = ev->trade_id,
            .buy_order = ev->buy ? taker : ev->order,
            .sell_order = ev->buy ? ev->order : taker,
            .buyer = ev->buy ? ev->taker_account : ev->account,
            .seller = ev->buy ? ev->account : ev->taker_account,
            .buy = ev->buy,
        };
    }
    return 0;
}

/* Trade t, at price p[0], quantity p[1] and time p[2], into market m's tape. */
static int
to_tape(CoreObject *self, uint32_t m, const eb_trade *t, const int64_t *p)
{
    PyObject *buy_order = eb_id_name(self, t->buy_order);
    PyObject *sell_order = buy_order == NULL ? NULL : eb_id_name(self, t->sell_order);
    if (sell_order == NULL) {
        return -1;
    }
    PyObject *traded = eb_traded(self, t->trade_id, m, buy_order, sell_order, t->buyer,
                                 t->seller, PyLong_FromLongLong(p[0]),
                                 PyLong_FromLongLong(p[1]), t->buy,
                                 PyLong_FromLongLong(p[2]));
    PyObject *r = traded == NULL ? NULL
                                 : PyObject_CallMethodOneArg(PyList_GET_ITEM(self->tapes, m),
                                                             A_append, traded);
    Py_XDECREF(traded);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* Market m's held trades into its price index's pending array (the 64-bit ints it holds,
 * appended by the array's frombytes straight from h->pending: no int object per value) and
 * its tape, oldest first. */
static int
hand_over(CoreObject *self, uint32_t m, eb_held *h)
{
    if (h->n_pending != 0) {
        PyObject *view = PyMemoryView_FromMemory((char *)h->pending,
                                                 (Py_ssize_t)(h->n_pending * 3u * sizeof(int64_t)),
                                                 PyBUF_READ);
        PyObject *r = view == NULL ? NULL
                                   : PyObject_CallMethodOneArg(PyList_GET_ITEM(self->pending, m),
                                                               A_frombytes, view);
        Py_XDECREF(view);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
    }
    /* the ring holds the last n_ring trades of the pending ones */
    const int64_t *p = h->pending + 3u * (h->n_pending - h->n_ring);
    for (uint64_t i = 0; i < h->n_ring; i++, p += 3) {
        uint64_t at = h->start + i;
        if (to_tape(self, m, &h->ring[at < h->cap_ring ? at : at - h->cap_ring], p) < 0) {
            return -1;
        }
    }
    return 0;
}

int
eb_flush_trades(CoreObject *self)
{
    int rc = 0;
    for (uint32_t m = 0; m < self->e.n_markets; m++) {
        eb_held *h = &self->held[m];
        rc = rc == 0 ? hand_over(self, m, h) : rc;
        h->n_pending = h->n_ring = h->start = 0;
    }
    return rc;
}

void
eb_held_free(CoreObject *self)
{
    for (uint32_t m = 0; self->held != NULL && m < self->e.n_markets; m++) {
        free(self->held[m].pending);
        free(self->held[m].ring);
    }
    PyMem_Free(self->held);
}
