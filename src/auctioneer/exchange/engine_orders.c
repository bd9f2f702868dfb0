/*
 * engine_orders.c - the native engine's order commands (PlaceOrder, MarketOrder,
 * CancelOrder, ModifyOrder): their fields read and checked in the reference
 * engine's order (admission.py, engine.py), a refusal built by engine_refuse.c,
 * a shape the core does not take handed back (FALLBACK), the core called, the
 * events built. Part of the _engine binding (see _engine.c, engine_commands.c).
 */
#include "engine_binding.h"

/* An order's new id: its UTF-8 and hash. */
typedef struct {
    const char *s;
    size_t len;
    uint64_t h;
} new_id;

static int
tif_of(PyObject *tif)
{
    return tif == GTC ? MC_GTC : tif == IOC ? MC_IOC : tif == FOK ? MC_FOK : -1;
}

/* The checks every order shares (admission's _admit_party): a new id, an open account that
 * may trade on this side, one or more listed markets (c->m the first). 1 when they pass, 0
 * when the reference must take the order (a cross-market bid, an id with no UTF-8, a str
 * subclass), 2 with the refusal in *out, -1 on error. */
static int
order_party(CoreObject *self, PyObject *const *f, eb_ctx *c, new_id *id, int *buy,
            PyObject **out)
{
    PyObject *order_id = f[0], *side = f[2], *markets = f[3];
    if (!PyUnicode_Check(order_id) || PyUnicode_GET_LENGTH(order_id) == 0) {
        *out = EB_REFUSE(A_order_id, EC_WHY_NOT_TEXT, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    if (!eb_utf8(order_id, &id->s, &id->len)) {
        return 0;
    }
    id->h = eb_hash(id->s, id->len);
    int used = eb_id_used(self, id->s, id->len, id->h, order_id);
    if (used != 0) {
        *out = used < 0 ? NULL : EB_REFUSE(A_order_id, EC_WHY_USED, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    int found = eb_account_in(self, f[1], c);
    if (found <= 0) {
        if (found == 0 && eb_str_subclass(f[1])) {
            return 0;
        }
        *out = found < 0 ? NULL : EB_REFUSE(A_account, EC_WHY_NO_ACCOUNT, Py_BuildValue("(O)", f[1]));
        return *out ? 2 : -1;
    }
    int why = EC_WHY_NONE;
    if (side == BUY || side == SELL) {
        *buy = side == BUY;
        uint8_t role = self->e.accounts[c->a].role;
        why = *buy ? (role == EC_ADMIN ? EC_WHY_ADMIN_TRADES : EC_WHY_NONE)
                   : (role != EC_PROVIDER ? EC_WHY_NOT_SELLER : EC_WHY_NONE);
    } else {
        *out = EB_REFUSE(A_side, EC_WHY_NOT_SIDE, Py_BuildValue("(O)", side));
        return *out ? 2 : -1;
    }
    if (why) {
        *out = eb_core_refused(self, c, why);
        return *out ? 2 : -1;
    }
    Py_ssize_t k = PyTuple_Check(markets) ? PyTuple_GET_SIZE(markets) : 0;
    if (k == 0) {
        *out = EB_REFUSE(A_markets, EC_WHY_NOT_MARKETS, Py_BuildValue("(O)", markets));
        return *out ? 2 : -1;
    }
    uint64_t first = 0;
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *m = PyTuple_GET_ITEM(markets, i);
        uint64_t n;
        found = eb_market_of(self, m, &n);
        if (found < 0) {
            return -1;
        }
        if (found == 0) {
            if (eb_str_subclass(m)) {
                return 0;
            }
            *out = EB_REFUSE(A_markets, EC_WHY_NO_MARKET, Py_BuildValue("(O)", m));
            return *out ? 2 : -1;
        }
        first = i == 0 ? n : first;
    }
    c->m = (uint32_t)first;
    if (k == 1) {
        return 1;
    }
    if (!*buy) {
        *out = EB_REFUSE(A_markets, EC_WHY_SELL_MARKETS, PyTuple_New(0));
        return *out ? 2 : -1;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        for (Py_ssize_t j = 0; j < i; j++) {
            int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(markets, i),
                                                PyTuple_GET_ITEM(markets, j), Py_EQ);
            if (same) {
                *out = same < 0 ? NULL
                                : EB_REFUSE(A_markets, EC_WHY_MARKET_TWICE,
                                         Py_BuildValue("(N)", PySequence_List(markets)));
                return *out ? 2 : -1;
            }
        }
    }
    c->markets = markets; /* a cross-market bid */
    return 1;
}

/* How many markets the order lists, and the number of the i-th. */
static Py_ssize_t
listed(const eb_ctx *c)
{
    return c->markets == NULL ? 1 : PyTuple_GET_SIZE(c->markets);
}

static uint32_t
market_at(CoreObject *self, const eb_ctx *c, Py_ssize_t i)
{
    uint64_t n = c->m;
    if (c->markets != NULL) { /* listed: order_party found every one */
        eb_market_of(self, PyTuple_GET_ITEM(c->markets, i), &n);
    }
    return (uint32_t)n;
}

static int64_t
arrival(const CoreObject *self, int64_t ts)
{
    return ts > self->e.clock ? ts : self->e.clock;
}

/* The events of an order the core took as number self->n_names in market m. */
static PyObject *
accepted_order(CoreObject *self, PyObject *kind, PyObject *order_id, const new_id *id,
               uint32_t m, int64_t ts)
{
    uint64_t n = self->n_names;
    if (eb_id_add(self, id->s, id->len, id->h, order_id, m) < 0) {
        return NULL;
    }
    return eb_events(self, kind, order_id, ts, m, n, order_id);
}

/* The open order `order_id` of the command's account (c->n, c->m, c->a): 1; 2 with the
 * refusal in *out (not open, or another account's); 0 when the reference must take it; -1 on
 * error. */
static int
open_order(CoreObject *self, PyObject *order_id, PyObject *account, eb_ctx *c, PyObject **out)
{
    const char *s;
    size_t len;
    if (eb_str_subclass(order_id) || eb_str_subclass(account)) {
        return 0;
    }
    int64_t k = eb_utf8(order_id, &s, &len) ? eb_names_find(&self->ids, s, len, eb_hash(s, len))
                                            : -1;
    if (k < 0 || !eb_id_open(self, (uint64_t)k)) {
        *out = EB_REFUSE(A_order_id, EC_WHY_NOT_OPEN, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    c->n = (uint64_t)k;
    c->m = self->order_market[k];
    int found = eb_account_in(self, account, c);
    if (found < 0) {
        return -1;
    }
    if (found == 0 || ec_check_open(&self->e, c->m, c->n, c->a)) {
        *out = EB_REFUSE(A_account, EC_WHY_FOREIGN, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    return 1;
}

/* A limit order's own fields (price, quantity, tif, all_or_none, post_only: one that would
 * trade is refused), checked: 1 when they pass, else 0 with its refusal or NULL (an error)
 * in *out. */
static int
limit_fields(CoreObject *self, eb_ctx *c, PyObject *const *f, int buy, int tif,
             PyObject **out)
{
    c->price = f[4];
    c->quantity = f[5];
    if (!eb_positive_field(c, A_price, f[4], MC_PRICE_MAX, &c->price_value, out)) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < listed(c); i++) {
        uint32_t m = market_at(self, c, i);
        if (!ec_on_tick(&self->e, m, c->price_value)) {
            c->m = m; /* the market the message names */
            *out = eb_core_refused(self, c, EC_WHY_OFF_TICK);
            return 0;
        }
    }
    if (!eb_positive_field(c, A_quantity, f[5], MC_QUANTITY_MAX, &c->quantity_value, out)) {
        return 0;
    }
    if (tif < 0) {
        *out = EB_REFUSE(A_tif, EC_WHY_NOT_TIF, Py_BuildValue("(O)", f[6]));
        return 0;
    }
    for (int i = 7; i <= 8; i++) {
        if (f[i] != Py_True && f[i] != Py_False) {
            *out = EB_REFUSE(i == 7 ? A_aon : A_post_only, EC_WHY_NOT_BOOL,
                          Py_BuildValue("(O)", f[i]));
            return 0;
        }
    }
    if (f[8] == Py_True && tif != MC_GTC) {
        *out = EB_REFUSE(A_post_only, EC_WHY_POST_ONLY_TIF,
                      Py_BuildValue("(N)", PyObject_GetAttrString(f[6], "value")));
        return 0;
    }
    for (Py_ssize_t i = 0; f[8] == Py_True && i < listed(c); i++) {
        if (ec_crosses(&self->e, market_at(self, c, i), buy, c->price_value)) {
            *out = EB_REFUSE(A_post_only, EC_WHY_POST_ONLY_TRADES, Py_BuildValue("(O)", f[4]));
            return 0;
        }
    }
    return 1;
}

/* A market order's own fields (quantity, max_spend, tif), as limit_fields. */
static int
market_fields(eb_ctx *c, PyObject *const *f, int buy, int tif, PyObject **out)
{
    c->quantity = f[4];
    c->amount = f[5];
    c->amount_field = A_max_spend;
    if (!eb_positive_field(c, A_quantity, f[4], MC_QUANTITY_MAX, &c->quantity_value, out)) {
        return 0;
    }
    if (buy && f[5] == Py_None) {
        *out = EB_REFUSE(A_max_spend, EC_WHY_NO_SPEND, PyTuple_New(0));
        return 0;
    }
    if (buy ? !eb_positive_field(c, A_max_spend, f[5], EC_MONEY_MAX, &c->budget, out)
            : f[5] != Py_None) {
        *out = buy ? *out : EB_REFUSE(A_max_spend, EC_WHY_SELL_SPEND, Py_BuildValue("(O)", f[5]));
        return 0;
    }
    if (tif != MC_IOC && tif != MC_FOK) {
        *out = EB_REFUSE(A_tif, EC_WHY_MARKET_TIF,
                      Py_BuildValue("(N)", tif == MC_GTC ? PyObject_GetAttrString(f[6], "value")
                                                         : PyObject_Repr(f[6])));
        return 0;
    }
    return 1;
}

/* A cross-market bid (c->markets) whose checks passed, as order number self->n_names: its
 * events, its refusal, or FALLBACK (more markets than the core walks at once). */
static PyObject *
cross_order(CoreObject *self, eb_ctx *c, PyObject *const *f, const new_id *id, int market,
            int tif, int64_t ts)
{
    ec_engine *e = &self->e;
    if (ec_cross_room(e) < 0) {
        return PyErr_NoMemory();
    }
    Py_ssize_t k = listed(c);
    for (Py_ssize_t i = 0; i < k; i++) {
        e->xmarkets[i] = market_at(self, c, i);
    }
    uint64_t n = self->n_names;
    PyObject *number = PyLong_FromUnsignedLongLong(n);
    if (number == NULL || PyDict_SetItem(self->cross, number, c->markets) < 0) {
        Py_XDECREF(number);
        return NULL;
    }
    int status = ec_place_cross(e, (uint32_t)k, n, c->a, market ? INT64_MAX : c->price_value,
                                c->quantity_value, tif, market ? c->budget : -1,
                                arrival(self, ts));
    if (status != EC_OK) {
        PyDict_DelItem(self->cross, number); /* it was just set: no error */
        Py_DECREF(number);
        return eb_not_applied(self, c, status);
    }
    Py_DECREF(number);
    self->order_post[n] = !market && f[8] == Py_True;
    if (eb_id_add(self, id->s, id->len, id->h, f[0], c->m) < 0) {
        return NULL;
    }
    return eb_cross_events(self, c->kind, f[0], ts, n);
}

/* PlaceOrder (flag 0), MarketOrder (flag 1). */
PyObject *
eb_order(CoreObject *self, PyObject *const *f, int market)
{
    eb_ctx ctx = EB_CTX(market ? K_market : K_place), *c = &ctx;
    new_id id;
    int buy, tif = tif_of(f[6]);
    int64_t ts;
    PyObject *out = NULL;
    int party = order_party(self, f, c, &id, &buy, &out);
    if (party != 1) {
        return party == 2 ? out : party == 0 ? ref(FALLBACK) : NULL;
    }
    c->order_id = f[0];
    c->ts = f[market ? 7 : 9];
    if (!(market ? market_fields(c, f, buy, tif, &out)
                 : limit_fields(self, c, f, buy, tif, &out))) {
        return out;
    }
    if (eb_reserve_name(self) < 0) {
        return NULL;
    }
    /* An all-or-none order fills whole now or (IOC, FOK) is cancelled whole or (GTC) rests
     * whole. */
    if (!market && f[7] == Py_True) {
        tif = ec_aon_tif(tif);
    }
    if (!eb_int_in(c->ts, 0, EC_MONEY_MAX, &ts)) {
        int why = market ? ec_check_market(&self->e, c->m, c->a, buy, c->quantity_value,
                                           c->budget)
                         : ec_check_place(&self->e, c->m, c->a, buy, c->price_value,
                                          c->quantity_value);
        return eb_late_ts(self, c, why);
    }
    if (c->markets != NULL) {
        return cross_order(self, c, f, &id, market, tif, ts);
    }
    int status = market ? ec_market_order(&self->e, c->m, self->n_names, c->a, buy,
                                          c->quantity_value, c->budget, tif)
                        : ec_place(&self->e, c->m, self->n_names, c->a, buy, c->price_value,
                                   c->quantity_value, tif, arrival(self, ts));
    if (status != EC_OK) {
        return eb_not_applied(self, c, status);
    }
    self->order_post[self->n_names] = !market && f[8] == Py_True; /* it rests whole */
    return accepted_order(self, c->kind, f[0], &id, c->m, ts);
}

/* A modification's own fields (price, quantity), as limit_fields; the markets of the order
 * (k of them) in e->xmarkets. */
static int
modify_fields(CoreObject *self, eb_ctx *c, PyObject *const *f, uint32_t k, PyObject **out)
{
    c->price = f[2];
    c->quantity = f[3];
    if (f[2] == Py_None && f[3] == Py_None) {
        *out = EB_REFUSE(A_price, EC_WHY_NO_CHANGE, PyTuple_New(0));
        return 0;
    }
    if (f[2] != Py_None) {
        if (!eb_positive_field(c, A_price, f[2], MC_PRICE_MAX, &c->price_value, out)) {
            return 0;
        }
        for (uint32_t i = 0; i < k; i++) {
            if (!ec_on_tick(&self->e, self->e.xmarkets[i], c->price_value)) {
                c->m = self->e.xmarkets[i]; /* the market the message names */
                *out = eb_core_refused(self, c, EC_WHY_OFF_TICK);
                return 0;
            }
        }
    }
    return f[3] == Py_None
           || eb_positive_field(c, A_quantity, f[3], MC_QUANTITY_MAX, &c->quantity_value, out);
}

PyObject *
eb_open(CoreObject *self, PyObject *const *f, int modify)
{
    eb_ctx ctx = EB_CTX(modify ? K_modify : K_cancel), *c = &ctx;
    int64_t ts;
    PyObject *out = NULL;
    c->order_id = f[0];
    c->ts = f[modify ? 4 : 2];
    int found = open_order(self, f[0], f[1], c, &out);
    if (found != 1) {
        return found == 2 ? out : found == 0 ? ref(FALLBACK) : NULL;
    }
    uint32_t first = c->m, k = 0; /* the order's markets, for a modification */
    if (modify && ec_cross_room(&self->e) < 0) {
        return PyErr_NoMemory();
    }
    k = modify ? ec_copies(&self->e, first, c->n) : 0;
    if (modify && !modify_fields(self, c, f, k, &out)) {
        return out;
    }
    c->m = first;
    if (modify && self->order_post[c->n]) { /* a post-only order may not trade */
        int why = ec_check_modify(&self->e, c->m, c->n, c->a, c->price_value,
                                  c->quantity_value);
        const mc_order *o = mc_find(&self->e.markets[c->m].book, c->n);
        int64_t price = c->price_value ? c->price_value : o->price;
        int kept = price == o->price && (c->quantity_value ? c->quantity_value : o->remaining)
                                            <= o->remaining;
        int crosses = 0;
        for (uint32_t i = 0; !kept && i < k; i++) {
            crosses = crosses || ec_crosses(&self->e, self->e.xmarkets[i], o->buy, price);
        }
        if (why || crosses) {
            return why ? eb_core_refused(self, c, why)
                       : EB_REFUSE(A_price, EC_WHY_MODIFY_TRADES,
                                   Py_BuildValue("(L)", (long long)price));
        }
    }
    if (!eb_int_in(c->ts, 0, EC_MONEY_MAX, &ts)) {
        return eb_late_ts(self, c,
                          modify ? ec_check_modify(&self->e, c->m, c->n, c->a, c->price_value,
                                                   c->quantity_value)
                                 : EC_WHY_NONE);
    }
    int status = modify ? ec_modify(&self->e, c->m, c->n, c->a, c->price_value,
                                    c->quantity_value, arrival(self, ts))
                        : ec_cancel(&self->e, c->m, c->n, c->a);
    if (status != EC_OK) {
        return eb_not_applied(self, c, status);
    }
    return modify && self->e.n_xev ? eb_cross_events(self, c->kind, f[0], ts, c->n)
                                   : eb_events(self, c->kind, f[0], ts, c->m, c->n, f[0]);
}
