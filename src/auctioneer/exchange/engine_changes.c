/*
 * engine_changes.c - what each replayed command changes in the service's SQL
 * projection, logged in C so the projection's follower builds no command or event
 * objects: Core.replay(data, pos, last_seq, log) appends, per command the core
 * applied, tuples of the vocabulary of auctioneer/service/changes.py (whose
 * changes() derives the same tuples from a command and its events, the reference
 * the tests compare this with):
 *
 *   (ORDER, seq, order_id, account, side, markets, price, quantity, tif, ts_ns)
 *   (TRADE, seq, trade_id, market, buy_order, sell_order, buyer, seller, price,
 *    quantity, ts_ns)
 *   (CANCEL, seq, order_id, ts_ns)
 *   (MODIFY, seq, order_id, remaining, price, ts_ns)
 *   (MONEY, seq, account, amount, kind, ts_ns)
 *   (CAPACITY, seq, account, market, delta)
 *
 * in the order of the reference's events, each with its record's seq second. Ids and names are the core's own str
 * objects; every int is one the core holds, so within 64 bits. Part of the _engine
 * binding (see _engine.c).
 */
#include "engine_changes.h"

#include <string.h>

/* The kinds of change, numbered as auctioneer/service/changes.py numbers them. */
enum { CH_ORDER, CH_TRADE, CH_CANCEL, CH_MODIFY, CH_MONEY, CH_CAPACITY };

static PyObject *
account_id(const CoreObject *self, uint32_t a)
{
    return PyList_GET_ITEM(self->account_ids, a);
}

/* The changes of what the last book call in market m did for order number `taker`: its
 * trades, cancels and modifications (a resting order changes no row by resting). */
static int
book_changes(CoreObject *self, uint32_t m, uint64_t taker, uint64_t seq, PyObject *log)
{
    const mc_book *b = &self->e.markets[m].book;
    PyObject *market = PyList_GET_ITEM(self->market_ids, m);
    long long ts = self->e.clock;
    PyObject *name = eb_id_name(self, taker);
    if (name == NULL) {
        return -1;
    }
    for (uint32_t i = 0; i < b->n_events; i++) {
        const mc_event *ev = &b->events[i];
        if (ev->kind == MC_RESTED) {
            continue;
        }
        PyObject *who = ev->order == taker ? name : eb_id_name(self, ev->order);
        if (who == NULL) {
            return -1;
        }
        PyObject *row;
        if (ev->kind == MC_TRADED) {
            row = Py_BuildValue(
                "(iKKOOOOOLLL)", CH_TRADE, (unsigned long long)seq,
                (unsigned long long)ev->trade_id, market, ev->buy ? name : who,
                ev->buy ? who : name, account_id(self, ev->buy ? ev->taker_account : ev->account),
                account_id(self, ev->buy ? ev->account : ev->taker_account),
                (long long)ev->price, (long long)ev->quantity, ts);
        } else if (ev->kind == MC_CANCELLED) {
            row = Py_BuildValue("(iKOL)", CH_CANCEL, (unsigned long long)seq, who, ts);
        } else {
            row = Py_BuildValue("(iKOLLL)", CH_MODIFY, (unsigned long long)seq, who,
                                (long long)ev->quantity, (long long)ev->price, ts);
        }
        if (push(log, row) < 0) {
            return -1;
        }
    }
    return 1;
}

int
eb_log_changes(CoreObject *self, enum rkind kind, const rcmd *c, uint64_t seq, PyObject *log)
{
    unsigned long long s = (unsigned long long)seq;
    switch (kind) {
    case RK_PLACE:
    case RK_MARKET: {
        uint64_t n = self->n_names - 1u; /* the number the order was given */
        PyObject *name = eb_id_name(self, n);
        if (name == NULL
            || push(log, Py_BuildValue("(iKOOOOLLOL)", CH_ORDER, s, name,
                                       account_id(self, c->account), c->buy ? W_buy : W_sell,
                                       PyList_GET_ITEM(self->market_ids, c->market),
                                       (long long)(kind == RK_MARKET ? 0 : c->price),
                                       (long long)c->quantity, W_tif[c->tif],
                                       (long long)c->ts)) < 0) {
            return -1;
        }
        return book_changes(self, c->market, n, seq, log);
    }
    case RK_CANCEL:
    case RK_MODIFY: {
        int64_t k = eb_names_find(&self->ids, c->id, c->id_len, c->id_hash);
        return book_changes(self, self->order_market[k], (uint64_t)k, seq, log);
    }
    case RK_DEPOSIT:
    case RK_WITHDRAW: {
        /* The ledger's kinds are the commands' own names. */
        int deposit = kind == RK_DEPOSIT;
        return push(log, Py_BuildValue("(iKOLOL)", CH_MONEY, s, account_id(self, c->account),
                                       (long long)(deposit ? c->amount : -c->amount),
                                       deposit ? K_deposit : K_withdraw, (long long)c->ts))
               < 0 ? -1 : 1;
    }
    case RK_ADD_CAPACITY:
    case RK_REMOVE_CAPACITY:
        return push(log, Py_BuildValue("(iKOOL)", CH_CAPACITY, s, account_id(self, c->account),
                                       PyList_GET_ITEM(self->market_ids, c->market),
                                       (long long)(kind == RK_ADD_CAPACITY ? c->quantity
                                                                           : -c->quantity)))
               < 0 ? -1 : 1;
    case RK_TICK:
    case RK_KINDS:
        break;
    }
    return 1; /* a tick changes no row */
}
