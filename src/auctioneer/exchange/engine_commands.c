/*
 * engine_commands.c - each command the native engine takes: its fields read and
 * range-checked (anything not an exact int in its field's range, or not the
 * shape the core takes, goes to the reference: FALLBACK), the core called, the
 * events built. Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <string.h>
#include <structmember.h>

/* ------------------------------------------------------------- conversion */

/* An exact int in lo..hi into *out: 1. Anything else: 0, no error set. */
static int
int_in(PyObject *obj, int64_t lo, int64_t hi, int64_t *out)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    if (v < lo || v > hi) {
        return 0;
    }
    *out = (int64_t)v;
    return 1;
}

/* The number of `key` (an exact str) in `index`: 1; 0 when it has none; -1 on error. `ids`
 * lists the ids by number: a key that is the very object listed (a command made with the
 * state's own id, as a caller holding it does) is found by its hint, with no lookup. */
static int
number_of(PyObject *index, PyObject *ids, uint32_t *hints, PyObject *key, uint64_t *out)
{
    uint32_t *hint = &hints[(uint64_t)(uintptr_t)key * UINT64_C(0x9E3779B97F4A7C15) >> 58];
    if ((Py_ssize_t)*hint < PyList_GET_SIZE(ids) && PyList_GET_ITEM(ids, *hint) == key) {
        *out = *hint;
        return 1;
    }
    if (!PyUnicode_CheckExact(key)) {
        return 0;
    }
    PyObject *n = PyDict_GetItemWithError(index, key);
    if (n == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    *out = (uint64_t)PyLong_AsUnsignedLongLong(n);
    *hint = (uint32_t)*out;
    return 1;
}

static int
account_of(CoreObject *self, PyObject *key, uint64_t *out)
{
    return number_of(self->account_index, self->account_ids, self->account_hints, key, out);
}

static int
market_of(CoreObject *self, PyObject *key, uint64_t *out)
{
    return number_of(self->market_index, self->market_ids, self->market_hints, key, out);
}

static int
tif_of(PyObject *tif)
{
    return tif == GTC ? MC_GTC : tif == IOC ? MC_IOC : tif == FOK ? MC_FOK : -1;
}

/* ------------------------------------------------------------- commands */

/* An order's new id: its UTF-8 and hash. */
typedef struct {
    const char *s;
    size_t len;
    uint64_t h;
} new_id;

/* The fields an order shares: a new id, an account, a side, one market. 1 when native
 * takes them, 0 when not, -1 on error. */
static int
order_party(CoreObject *self, PyObject *order_id, PyObject *account, PyObject *side,
            PyObject *markets, new_id *id, uint32_t *a, int *buy, uint32_t *m)
{
    if (!eb_utf8(order_id, &id->s, &id->len) || id->len == 0) {
        return 0;
    }
    id->h = eb_hash(id->s, id->len);
    int used = eb_id_used(self, id->s, id->len, id->h, order_id);
    if (used != 0) {
        return used < 0 ? -1 : 0;
    }
    uint64_t n;
    int found = account_of(self, account, &n);
    if (found <= 0) {
        return found;
    }
    *a = (uint32_t)n;
    if (side == BUY || side == SELL) {
        *buy = side == BUY;
    } else {
        return 0;
    }
    if (!PyTuple_CheckExact(markets) || PyTuple_GET_SIZE(markets) != 1) {
        return 0;
    }
    found = market_of(self, PyTuple_GET_ITEM(markets, 0), &n);
    *m = (uint32_t)n;
    return found;
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

/* The events of a command the core applied to open order number n (`order_id`) in market
 * m. */
static PyObject *
accepted_open(CoreObject *self, PyObject *kind, PyObject *order_id, uint64_t n, uint32_t m,
              int64_t ts)
{
    return eb_events(self, kind, order_id, ts, m, n, order_id);
}

/* The open order `order_id` of `account`: its number and market, 1; 0 when native does not
 * hold it so; -1 on error. */
static int
open_order(CoreObject *self, PyObject *order_id, PyObject *account, uint64_t *n, uint32_t *m,
           uint32_t *a)
{
    uint64_t number;
    const char *s;
    size_t len;
    int64_t k = eb_utf8(order_id, &s, &len) ? eb_names_find(&self->ids, s, len, eb_hash(s, len))
                                            : -1;
    if (k < 0 || !eb_id_open(self, (uint64_t)k)) {
        return 0;
    }
    *n = (uint64_t)k;
    int found = account_of(self, account, &number);
    *a = (uint32_t)number;
    *m = self->order_market[*n];
    return found;
}

/* Each handler takes the command's fields (borrowed, in its table entry's order) and returns
 * its events, FALLBACK (a new reference) when the reference must take it, or NULL on error. */

static PyObject *
place(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    new_id id;
    uint32_t a, m;
    int buy, tif = tif_of(f[6]);
    int64_t price, quantity, ts;
    int party = order_party(self, f[0], f[1], f[2], f[3], &id, &a, &buy, &m);
    if (party < 0 || eb_reserve_name(self) < 0) {
        return NULL;
    }
    if (!party || !int_in(f[4], 1, MC_PRICE_MAX, &price)
        || !int_in(f[5], 1, MC_QUANTITY_MAX, &quantity) || tif < 0 || f[7] != Py_False
        || f[8] != Py_False || !int_in(f[9], 0, EC_MONEY_MAX, &ts)
        || ec_place(&self->e, m, self->n_names, a, buy, price, quantity, tif,
                    arrival(self, ts))) {
        return ref(FALLBACK);
    }
    return accepted_order(self, K_place, f[0], &id, m, ts);
}

static PyObject *
market_order(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    new_id id;
    uint32_t a, m;
    int buy, tif = tif_of(f[6]);
    int64_t quantity, budget = 0, ts;
    int party = order_party(self, f[0], f[1], f[2], f[3], &id, &a, &buy, &m);
    if (party < 0 || eb_reserve_name(self) < 0) {
        return NULL;
    }
    if (!party || !int_in(f[4], 1, MC_QUANTITY_MAX, &quantity)
        || (buy ? !int_in(f[5], 1, EC_MONEY_MAX, &budget) : f[5] != Py_None)
        || (tif != MC_IOC && tif != MC_FOK) || !int_in(f[7], 0, EC_MONEY_MAX, &ts)
        || ec_market_order(&self->e, m, self->n_names, a, buy, quantity, budget, tif)) {
        return ref(FALLBACK);
    }
    return accepted_order(self, K_market, f[0], &id, m, ts);
}

static PyObject *
cancel(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    uint64_t n;
    uint32_t m, a;
    int64_t ts;
    int found = open_order(self, f[0], f[1], &n, &m, &a);
    if (found < 0) {
        return NULL;
    }
    if (!found || !int_in(f[2], 0, EC_MONEY_MAX, &ts) || ec_cancel(&self->e, m, n, a)) {
        return ref(FALLBACK);
    }
    return accepted_open(self, K_cancel, f[0], n, m, ts);
}

static PyObject *
modify(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    uint64_t n;
    uint32_t m, a;
    int64_t price = 0, quantity = 0, ts;
    int found = open_order(self, f[0], f[1], &n, &m, &a);
    if (found < 0) {
        return NULL;
    }
    if (!found || (f[2] == Py_None && f[3] == Py_None)
        || (f[2] != Py_None && !int_in(f[2], 1, MC_PRICE_MAX, &price))
        || (f[3] != Py_None && !int_in(f[3], 1, MC_QUANTITY_MAX, &quantity))
        || !int_in(f[4], 0, EC_MONEY_MAX, &ts)
        || ec_modify(&self->e, m, n, a, price, quantity, arrival(self, ts))) {
        return ref(FALLBACK);
    }
    return accepted_open(self, K_modify, f[0], n, m, ts);
}

/* Deposit (flag 1), Withdraw (flag 0): an account and an amount. */
static PyObject *
money(CoreObject *self, PyObject *const *f, int deposit)
{
    uint64_t a;
    int64_t amount, ts;
    int found = account_of(self, f[0], &a);
    if (found < 0) {
        return NULL;
    }
    if (!found || !int_in(f[1], 1, EC_MONEY_MAX, &amount) || !int_in(f[2], 0, EC_MONEY_MAX, &ts)
        || (deposit ? ec_deposit(&self->e, (uint32_t)a, amount)
                    : ec_withdraw(&self->e, (uint32_t)a, amount))) {
        return ref(FALLBACK);
    }
    return eb_events(self, deposit ? K_deposit : K_withdraw,
                     PyList_GET_ITEM(self->account_ids, a), ts, EB_NO_MARKET, 0, NULL);
}

/* AddCapacity (flag 1), RemoveCapacity (flag 0): an account, a market and a quantity. */
static PyObject *
capacity(CoreObject *self, PyObject *const *f, int add)
{
    uint64_t a, m;
    int64_t quantity, ts;
    int found = account_of(self, f[0], &a);
    if (found > 0) {
        found = market_of(self, f[1], &m);
    }
    if (found < 0) {
        return NULL;
    }
    if (!found || !int_in(f[2], 1, MC_QUANTITY_MAX, &quantity)
        || !int_in(f[3], 0, EC_MONEY_MAX, &ts)
        || (add ? ec_add_capacity(&self->e, (uint32_t)m, (uint32_t)a, quantity)
                : ec_remove_capacity(&self->e, (uint32_t)m, (uint32_t)a, quantity))) {
        return ref(FALLBACK);
    }
    return eb_events(self, add ? K_add : K_remove, PyList_GET_ITEM(self->account_ids, a), ts,
                     EB_NO_MARKET, 0, NULL);
}

static PyObject *
tick(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    int64_t ts;
    return int_in(f[0], 0, EC_MONEY_MAX, &ts)
               ? eb_events(self, K_tick, EMPTY, ts, EB_NO_MARKET, 0, NULL)
               : ref(FALLBACK);
}

eb_handler eb_handlers[EB_HANDLERS];

/* Where instances of `type` hold `name`: the offset of its slot (commands are slotted
 * dataclasses, so Core.apply reads a field without a lookup by name); -1 on error. */
static Py_ssize_t
slot_offset(PyTypeObject *type, PyObject *name)
{
    PyObject *descr = PyObject_GetAttr((PyObject *)type, name);
    if (descr == NULL) {
        return -1;
    }
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)
        && ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX) {
        offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    } else {
        PyErr_Format(PyExc_TypeError, "%s.%U is not a slot", type->tp_name, name);
    }
    Py_DECREF(descr);
    return offset;
}

/* Fill the handler table (after the module looked its names up): 0, or -1 on error. */
int
eb_setup_handlers(void)
{
    eb_handler table[EB_HANDLERS] = {
        {&T_place, &K_place, place, 0, 10,
         {&A_order_id, &A_account, &A_side, &A_markets, &A_price, &A_quantity, &A_tif,
          &A_aon, &A_post_only, &A_ts}, {0}},
        {&T_cancel, &K_cancel, cancel, 0, 3, {&A_order_id, &A_account, &A_ts}, {0}},
        {&T_modify, &K_modify, modify, 0, 5,
         {&A_order_id, &A_account, &A_price, &A_quantity, &A_ts}, {0}},
        {&T_market, &K_market, market_order, 0, 8,
         {&A_order_id, &A_account, &A_side, &A_markets, &A_quantity, &A_max_spend, &A_tif,
          &A_ts}, {0}},
        {&T_deposit, &K_deposit, money, 1, 3, {&A_account, &A_amount, &A_ts}, {0}},
        {&T_withdraw, &K_withdraw, money, 0, 3, {&A_account, &A_amount, &A_ts}, {0}},
        {&T_add, &K_add, capacity, 1, 4, {&A_account, &A_market, &A_quantity, &A_ts}, {0}},
        {&T_remove, &K_remove, capacity, 0, 4, {&A_account, &A_market, &A_quantity, &A_ts},
         {0}},
        {&T_tick, &K_tick, tick, 0, 1, {&A_ts}, {0}},
    };
    for (int h = 0; h < EB_HANDLERS; h++) {
        for (int i = 0; i < table[h].n; i++) {
            table[h].offsets[i] = slot_offset(*table[h].type, *table[h].fields[i]);
            if (table[h].offsets[i] < 0) {
                return -1;
            }
        }
    }
    memcpy(eb_handlers, table, sizeof table);
    return 0;
}

PyObject *
Core_apply(CoreObject *self, PyObject *cmd)
{
    PyTypeObject *type = Py_TYPE(cmd);
    for (int h = 0; h < EB_HANDLERS; h++) {
        const eb_handler *handler = &eb_handlers[h];
        if (type != *handler->type) {
            continue;
        }
        /* borrowed from the command, which the caller holds (and a frozen one at that) */
        PyObject *f[EB_MAX_FIELDS];
        for (int i = 0; i < handler->n; i++) {
            f[i] = *(PyObject **)((char *)cmd + handler->offsets[i]);
            if (f[i] == NULL) { /* an unset slot: the reference raises its AttributeError */
                return ref(FALLBACK);
            }
        }
        PyObject *events = handler->run(self, f, handler->flag);
        if (events != NULL && events != FALLBACK) {
            self->dirty = 1;
        }
        return events;
    }
    return ref(FALLBACK);
}

/* apply_many(commands, start): the events of commands[start:], each in turn, up to the
 * first the reference must take (which is left unapplied). */
PyObject *
Core_apply_many(CoreObject *self, PyObject *args)
{
    PyObject *commands;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &commands, &start)) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = start < 0 ? 0 : start; out != NULL && i < PyList_GET_SIZE(commands);
         i++) {
        PyObject *events = Core_apply(self, PyList_GET_ITEM(commands, i));
        if (events == NULL) {
            Py_CLEAR(out);
        } else if (events == FALLBACK) {
            Py_DECREF(events);
            break;
        } else if (push(out, events) < 0) {
            Py_CLEAR(out);
        }
    }
    return out;
}
