/*
 * engine_query.c - the native engine's Core object read back: an account's balance and
 * reservation, a market's depth, the bytes it holds and its open orders. Part of the
 * _engine binding (see _engine.c).
 */
#include "engine_binding.h"

/* account(number) -> (balance, reserved). */
PyObject *
Core_account(CoreObject *self, PyObject *arg)
{
    unsigned long a = PyLong_AsUnsignedLong(arg);
    if (a == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    if (a >= self->e.n_accounts) {
        PyErr_Format(PyExc_ValueError, "account %lu is out of range", a);
        return NULL;
    }
    const ec_account *acct = &self->e.accounts[a];
    return Py_BuildValue("LL", acct->balance, acct->reserved);
}

/* depth(market, buy, limit) -> [(price, quantity, orders)], best first. */
PyObject *
Core_depth(CoreObject *self, PyObject *args)
{
    unsigned int m, limit;
    int buy;
    if (!PyArg_ParseTuple(args, "IpI", &m, &buy, &limit)
        || check_numbers(self, UINT_MAX, m) < 0) {
        return NULL;
    }
    const mc_book *b = &self->e.markets[m].book;
    const mc_side *side = buy ? &b->bids : &b->asks;
    PyObject *out = PyList_New(0);
    for (uint32_t at = side->count, n = 0; out != NULL && at-- > 0 && n < limit; n++) {
        const mc_level *lv = &side->levels[at];
        if (push(out, Py_BuildValue("LLI", lv->price, lv->quantity, lv->count)) < 0) {
            Py_CLEAR(out);
        }
    }
    return out;
}

PyObject *
Core_get_nbytes(CoreObject *self, void *closure)
{
    (void)closure;
    const ec_engine *e = &self->e;
    size_t total = sizeof *self + (size_t)e->n_accounts * sizeof(ec_account)
                   + (size_t)e->n_markets * sizeof(ec_market)
                   + (size_t)e->n_accounts * e->n_markets * sizeof(ec_slot)
                   + (size_t)self->cap_names * (sizeof(PyObject *) + sizeof(uint32_t))
                   + eb_names_nbytes(&self->ids) + eb_names_nbytes(&self->account_names)
                   + eb_names_nbytes(&self->market_names)
                   + (size_t)e->n_markets * sizeof(eb_held);
    for (uint32_t m = 0; m < e->n_markets; m++) {
        total += e->markets[m].nbytes + self->held[m].cap_pending * 3u * sizeof(int64_t)
                 + (size_t)self->held[m].cap_ring * sizeof(eb_trade);
    }
    return PyLong_FromSize_t(total);
}

PyObject *
Core_get_open(CoreObject *self, void *closure)
{
    (void)closure;
    uint64_t open = 0;
    for (uint32_t m = 0; m < self->e.n_markets; m++) {
        open += self->e.markets[m].book.open;
    }
    return PyLong_FromUnsignedLongLong(open);
}
