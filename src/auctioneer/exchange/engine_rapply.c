/*
 * engine_rapply.c - what journal replay (engine_replay.c) does with each command it read:
 * the core applies it as the gate would (engine_orders.c, engine_commands.c), with no Python
 * object made -- the clock moved, trades buffered for the tapes and price indexes, a new
 * order's id numbered -- or it does not take it (a refusal, an id in use, an order the gate
 * must see), having changed nothing. Part of the _engine binding (see _engine.c).
 */
#include "engine_changes.h"
#include "engine_json.h"

static int64_t
arrival(const CoreObject *self, int64_t ts)
{
    return ts > self->e.clock ? ts : self->e.clock;
}

/* After the core took a command at `ts` in market m (or none, UINT32_MAX) for order number
 * `order`: the clock moved and its trades kept: 1, or -1 on error. */
static int
applied(CoreObject *self, int64_t ts, uint32_t m, uint64_t order)
{
    if (eb_advance(self, ts, NULL) < 0
        || (m != UINT32_MAX && eb_buffer_trades(self, m, order) < 0)) {
        return -1;
    }
    return 1;
}

/* A cross-market bid's markets (c->markets, read as strings) into e->xmarkets, as the
 * gate lists them for ec_place_cross, and into self->cross as a tuple of their ids: 1; 0
 * when one is not listed, or listed twice; -1 with an error. */
static int
cross_into(CoreObject *self, const rcmd *c, uint64_t n)
{
    ec_engine *e = &self->e;
    if (ec_cross_room(e) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    const char *p = c->markets, *end = c->markets + c->markets_len;
    for (uint32_t i = 0; i < c->n_markets; i++, p += 2) { /* past the name's '",' */
        const char *s = p + 1, *close = string_end(s, end);
        int64_t m = eb_names_find(&self->market_names, s, (size_t)(close - s),
                                  eb_hash(s, (size_t)(close - s)));
        for (uint32_t j = 0; m >= 0 && j < i; j++) {
            m = e->xmarkets[j] == (uint32_t)m ? -1 : m;
        }
        if (m < 0) {
            return 0;
        }
        e->xmarkets[i] = (uint32_t)m;
        p = close;
    }
    PyObject *markets = PyTuple_New(c->n_markets);
    for (uint32_t i = 0; markets != NULL && i < c->n_markets; i++) {
        PyTuple_SET_ITEM(markets, i, ref(PyList_GET_ITEM(self->market_ids, e->xmarkets[i])));
    }
    PyObject *number = PyLong_FromUnsignedLongLong(n);
    int rc = markets == NULL || number == NULL ? -1
                                               : PyDict_SetItem(self->cross, number, markets);
    Py_XDECREF(markets);
    Py_XDECREF(number);
    return rc < 0 ? -1 : 1;
}

/* A cross-market bid, order number n, as the gate places one (cross_order in
 * engine_orders.c): 1, 0 (nothing changed) or -1, as each handler below. */
static int
r_cross(CoreObject *self, const rcmd *c, int market, uint64_t n)
{
    if (!c->buy || (market && (c->amount < 0 || c->tif == MC_GTC))) {
        return 0;
    }
    int rc = cross_into(self, c, n);
    if (rc <= 0) {
        return rc;
    }
    int status = ec_place_cross(&self->e, c->n_markets, n, c->account,
                                market ? INT64_MAX : c->price, c->quantity,
                                c->aon && !market ? ec_aon_tif(c->tif) : c->tif,
                                market ? c->amount : -1, arrival(self, c->ts));
    PyObject *number = status == EC_OK ? NULL : PyLong_FromUnsignedLongLong(n);
    if (status != EC_OK) { /* its markets were just set */
        rc = number == NULL || PyDict_DelItem(self->cross, number) < 0 ? -1 : 0;
        Py_XDECREF(number);
        return rc;
    }
    if (eb_id_add(self, c->id, c->id_len, c->id_hash, NULL, self->e.xmarkets[0]) < 0
        || eb_advance(self, c->ts, NULL) < 0) {
        return -1;
    }
    for (uint32_t i = 0; i < self->e.n_xbooks; i++) { /* each book's trades */
        if (eb_buffer_trades(self, self->e.xmarkets[i], n) < 0) {
            return -1;
        }
    }
    return 1;
}

/* PlaceOrder (flag 0), MarketOrder (flag 1). */
int
eb_replay_order(CoreObject *self, const rcmd *c, int market)
{
    uint64_t h = c->id_hash, n = self->n_names;
    int used = eb_id_used(self, c->id, c->id_len, h, NULL);
    if (used != 0 || eb_reserve_name(self) < 0) {
        return used < 0 ? -1 : 0;
    }
    if (c->n_markets) {
        return r_cross(self, c, market, n);
    }
    if (market) {
        if ((c->buy ? c->amount < 0 : c->amount >= 0) || c->tif == MC_GTC
            || ec_market_order(&self->e, c->market, n, c->account, c->buy, c->quantity,
                               c->buy ? c->amount : 0, c->tif)) {
            return 0;
        }
    } else {
        if (ec_place(&self->e, c->market, n, c->account, c->buy, c->price, c->quantity,
                     c->aon ? ec_aon_tif(c->tif) : c->tif, arrival(self, c->ts))) {
            return 0;
        }
    }
    if (eb_id_add(self, c->id, c->id_len, h, NULL, c->market) < 0) {
        return -1;
    }
    return applied(self, c->ts, c->market, n);
}

/* CancelOrder (flag 0), ModifyOrder (flag 1). */
int
eb_replay_open(CoreObject *self, const rcmd *c, int modify)
{
    int64_t k = eb_names_find(&self->ids, c->id, c->id_len, c->id_hash);
    if (k < 0 || !eb_id_open(self, (uint64_t)k)) {
        return 0;
    }
    if (modify && self->order_post[k]) {
        return 0; /* a post-only order's modification: the gate checks it may not trade */
    }
    uint32_t m = self->order_market[k];
    if (modify && mc_find(&self->e.markets[m].book, (uint64_t)k)->link != MC_NONE) {
        return 0; /* a cross-market bid's: the gate checks its ticks and builds its events */
    }
    if (modify ? (c->price < 0 && c->quantity < 0)
                     || ec_modify(&self->e, m, (uint64_t)k, c->account,
                                  c->price < 0 ? 0 : c->price,
                                  c->quantity < 0 ? 0 : c->quantity, arrival(self, c->ts))
               : ec_cancel(&self->e, m, (uint64_t)k, c->account)) {
        return 0;
    }
    return applied(self, c->ts, modify ? m : UINT32_MAX, (uint64_t)k);
}

/* Deposit (flag 1), Withdraw (flag 0). */
int
eb_replay_money(CoreObject *self, const rcmd *c, int deposit)
{
    if (deposit ? ec_deposit(&self->e, c->account, c->amount)
                : ec_withdraw(&self->e, c->account, c->amount)) {
        return 0;
    }
    return applied(self, c->ts, UINT32_MAX, 0);
}

/* AddCapacity (flag 1), RemoveCapacity (flag 0). */
int
eb_replay_capacity(CoreObject *self, const rcmd *c, int add)
{
    if (add ? ec_add_capacity(&self->e, c->market, c->account, c->quantity)
            : ec_remove_capacity(&self->e, c->market, c->account, c->quantity)) {
        return 0;
    }
    return applied(self, c->ts, UINT32_MAX, 0);
}

int
eb_replay_tick(CoreObject *self, const rcmd *c, int flag)
{
    (void)flag;
    return applied(self, c->ts, UINT32_MAX, 0);
}

