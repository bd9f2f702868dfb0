/*
 * engine_commands.c - each command the native engine takes: its fields read and
 * checked in the reference engine's order (a refusal is decided here or by the
 * core and built by engine_refuse.c: a list holding one Rejected, the state
 * unchanged and still clean; a shape the core does not take goes to the
 * reference: FALLBACK), the core called, the events built (an Events). Part of
 * the _engine binding (see _engine.c).
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

/* Each handler takes the command's fields (borrowed, in its table entry's order) and returns
 * its events, its refusal ([Rejected], the reference's: the checks run in the reference's
 * order), FALLBACK (a new reference) when the reference must take it, or NULL on error. */

/* An order's new id: its UTF-8 and hash. */
typedef struct {
    const char *s;
    size_t len;
    uint64_t h;
} new_id;

/* Whether `key` is a str of a subclass: the reference compares it by value, the binding's
 * lookups by exact type, so such a command goes to the reference. */
static int
str_subclass(PyObject *key)
{
    return PyUnicode_Check(key) && !PyUnicode_CheckExact(key);
}

/* An account's number into c->a: 1; 0 when it has none (`key` is not an open account), -1 on
 * error. */
static int
account_in(CoreObject *self, PyObject *key, eb_ctx *c)
{
    uint64_t n;
    int found = account_of(self, key, &n);
    c->a = found > 0 ? (uint32_t)n : UINT32_MAX;
    return found;
}

/* The end of a command whose own checks passed: with a timestamp that is not an int in
 * range, the core's checks (`why`) first, then the timestamp's; the refusal. */
static PyObject *
late_ts(CoreObject *self, const eb_ctx *c, int why)
{
    return eb_core_refused(self, c, why ? why : EC_WHY_BAD_TS);
}

/* The core did not apply the command: its refusal, or FALLBACK for the reference. */
static PyObject *
not_applied(CoreObject *self, const eb_ctx *c, int status)
{
    return status == EC_REFUSED ? eb_core_refused(self, c, self->e.why) : ref(FALLBACK);
}

#define REFUSE(field, why, args) eb_rejected(c->kind, (field), (why), (args))

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
        *out = REFUSE(A_order_id, EC_WHY_NOT_TEXT, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    if (!eb_utf8(order_id, &id->s, &id->len)) {
        return 0;
    }
    id->h = eb_hash(id->s, id->len);
    int used = eb_id_used(self, id->s, id->len, id->h, order_id);
    if (used != 0) {
        *out = used < 0 ? NULL : REFUSE(A_order_id, EC_WHY_USED, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    int found = account_in(self, f[1], c);
    if (found <= 0) {
        if (found == 0 && str_subclass(f[1])) {
            return 0;
        }
        *out = found < 0 ? NULL : REFUSE(A_account, EC_WHY_NO_ACCOUNT, Py_BuildValue("(O)", f[1]));
        return *out ? 2 : -1;
    }
    int why = EC_WHY_NONE;
    if (side == BUY || side == SELL) {
        *buy = side == BUY;
        uint8_t role = self->e.accounts[c->a].role;
        why = *buy ? (role == EC_ADMIN ? EC_WHY_ADMIN_TRADES : EC_WHY_NONE)
                   : (role != EC_PROVIDER ? EC_WHY_NOT_SELLER : EC_WHY_NONE);
    } else {
        *out = REFUSE(A_side, EC_WHY_NOT_SIDE, Py_BuildValue("(O)", side));
        return *out ? 2 : -1;
    }
    if (why) {
        *out = eb_core_refused(self, c, why);
        return *out ? 2 : -1;
    }
    Py_ssize_t k = PyTuple_Check(markets) ? PyTuple_GET_SIZE(markets) : 0;
    if (k == 0) {
        *out = REFUSE(A_markets, EC_WHY_NOT_MARKETS, Py_BuildValue("(O)", markets));
        return *out ? 2 : -1;
    }
    uint64_t first = 0;
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *m = PyTuple_GET_ITEM(markets, i);
        uint64_t n;
        found = market_of(self, m, &n);
        if (found < 0) {
            return -1;
        }
        if (found == 0) {
            if (str_subclass(m)) {
                return 0;
            }
            *out = REFUSE(A_markets, EC_WHY_NO_MARKET, Py_BuildValue("(O)", m));
            return *out ? 2 : -1;
        }
        first = i == 0 ? n : first;
    }
    c->m = (uint32_t)first;
    if (k == 1) {
        return 1;
    }
    if (!*buy) {
        *out = REFUSE(A_markets, EC_WHY_SELL_MARKETS, PyTuple_New(0));
        return *out ? 2 : -1;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        for (Py_ssize_t j = 0; j < i; j++) {
            int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(markets, i),
                                                PyTuple_GET_ITEM(markets, j), Py_EQ);
            if (same) {
                *out = same < 0 ? NULL
                                : REFUSE(A_markets, EC_WHY_MARKET_TWICE,
                                         Py_BuildValue("(N)", PySequence_List(markets)));
                return *out ? 2 : -1;
            }
        }
    }
    return 0; /* a cross-market bid */
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
    if (str_subclass(order_id) || str_subclass(account)) {
        return 0;
    }
    int64_t k = eb_utf8(order_id, &s, &len) ? eb_names_find(&self->ids, s, len, eb_hash(s, len))
                                            : -1;
    if (k < 0 || !eb_id_open(self, (uint64_t)k)) {
        *out = REFUSE(A_order_id, EC_WHY_NOT_OPEN, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    c->n = (uint64_t)k;
    c->m = self->order_market[k];
    int found = account_in(self, account, c);
    if (found < 0) {
        return -1;
    }
    if (found == 0 || ec_check_open(&self->e, c->m, c->n, c->a)) {
        *out = REFUSE(A_account, EC_WHY_FOREIGN, Py_BuildValue("(O)", order_id));
        return *out ? 2 : -1;
    }
    return 1;
}

#define CTX(kind_) {.kind = (kind_), .a = UINT32_MAX, .m = UINT32_MAX}
/* A positive int field, or its refusal. */
#define POSITIVE(field, obj, hi, out)                                                         \
    do {                                                                                      \
        int why_ = eb_positive((obj), (hi), (out));                                           \
        if (why_) {                                                                           \
            return eb_not_positive(c->kind, (field), why_, (obj), (hi));                      \
        }                                                                                     \
    } while (0)

static PyObject *
place(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    eb_ctx ctx = CTX(K_place), *c = &ctx;
    new_id id;
    int buy, tif = tif_of(f[6]);
    int64_t ts;
    PyObject *out = NULL;
    int party = order_party(self, f, c, &id, &buy, &out);
    if (party != 1) {
        return party == 2 ? out : party == 0 ? ref(FALLBACK) : NULL;
    }
    c->order_id = f[0];
    c->price = f[4];
    c->quantity = f[5];
    c->ts = f[9];
    POSITIVE(A_price, f[4], MC_PRICE_MAX, &c->price_value);
    if (!ec_on_tick(&self->e, c->m, c->price_value)) {
        return eb_core_refused(self, c, EC_WHY_OFF_TICK);
    }
    POSITIVE(A_quantity, f[5], MC_QUANTITY_MAX, &c->quantity_value);
    if (tif < 0) {
        return REFUSE(A_tif, EC_WHY_NOT_TIF, Py_BuildValue("(O)", f[6]));
    }
    for (int i = 7; i <= 8; i++) {
        if (f[i] != Py_True && f[i] != Py_False) {
            return REFUSE(i == 7 ? A_aon : A_post_only, EC_WHY_NOT_BOOL,
                          Py_BuildValue("(O)", f[i]));
        }
    }
    if (f[8] == Py_True && tif != MC_GTC) {
        return REFUSE(A_post_only, EC_WHY_POST_ONLY_TIF,
                      Py_BuildValue("(N)", PyObject_GetAttrString(f[6], "value")));
    }
    if (f[7] == Py_True || f[8] == Py_True) {
        return ref(FALLBACK);
    }
    if (eb_reserve_name(self) < 0) {
        return NULL;
    }
    if (!int_in(f[9], 0, EC_MONEY_MAX, &ts)) {
        return late_ts(self, c, ec_check_place(&self->e, c->m, c->a, buy, c->price_value,
                                               c->quantity_value));
    }
    int status = ec_place(&self->e, c->m, self->n_names, c->a, buy, c->price_value,
                          c->quantity_value, tif, arrival(self, ts));
    return status == EC_OK ? accepted_order(self, K_place, f[0], &id, c->m, ts)
                           : not_applied(self, c, status);
}

static PyObject *
market_order(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    eb_ctx ctx = CTX(K_market), *c = &ctx;
    new_id id;
    int buy, tif = tif_of(f[6]);
    int64_t ts;
    PyObject *out = NULL;
    int party = order_party(self, f, c, &id, &buy, &out);
    if (party != 1) {
        return party == 2 ? out : party == 0 ? ref(FALLBACK) : NULL;
    }
    c->order_id = f[0];
    c->quantity = f[4];
    c->amount = f[5];
    c->amount_field = A_max_spend;
    c->ts = f[7];
    POSITIVE(A_quantity, f[4], MC_QUANTITY_MAX, &c->quantity_value);
    if (buy && f[5] == Py_None) {
        return REFUSE(A_max_spend, EC_WHY_NO_SPEND, PyTuple_New(0));
    }
    if (buy) {
        POSITIVE(A_max_spend, f[5], EC_MONEY_MAX, &c->budget);
    } else if (f[5] != Py_None) {
        return REFUSE(A_max_spend, EC_WHY_SELL_SPEND, Py_BuildValue("(O)", f[5]));
    }
    if (tif != MC_IOC && tif != MC_FOK) {
        return REFUSE(A_tif, EC_WHY_MARKET_TIF,
                      Py_BuildValue("(N)", tif == MC_GTC ? PyObject_GetAttrString(f[6], "value")
                                                         : PyObject_Repr(f[6])));
    }
    if (eb_reserve_name(self) < 0) {
        return NULL;
    }
    if (!int_in(f[7], 0, EC_MONEY_MAX, &ts)) {
        return late_ts(self, c, ec_check_market(&self->e, c->m, c->a, buy, c->quantity_value,
                                                c->budget));
    }
    int status = ec_market_order(&self->e, c->m, self->n_names, c->a, buy, c->quantity_value,
                                 c->budget, tif);
    return status == EC_OK ? accepted_order(self, K_market, f[0], &id, c->m, ts)
                           : not_applied(self, c, status);
}

static PyObject *
cancel(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    eb_ctx ctx = CTX(K_cancel), *c = &ctx;
    int64_t ts;
    PyObject *out = NULL;
    c->order_id = f[0];
    c->ts = f[2];
    int found = open_order(self, f[0], f[1], c, &out);
    if (found != 1) {
        return found == 2 ? out : found == 0 ? ref(FALLBACK) : NULL;
    }
    if (!int_in(f[2], 0, EC_MONEY_MAX, &ts)) {
        return late_ts(self, c, EC_WHY_NONE);
    }
    int status = ec_cancel(&self->e, c->m, c->n, c->a);
    return status == EC_OK ? eb_events(self, K_cancel, f[0], ts, c->m, c->n, f[0])
                           : not_applied(self, c, status);
}

static PyObject *
modify(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    eb_ctx ctx = CTX(K_modify), *c = &ctx;
    int64_t ts;
    PyObject *out = NULL;
    c->order_id = f[0];
    c->price = f[2];
    c->quantity = f[3];
    c->ts = f[4];
    int found = open_order(self, f[0], f[1], c, &out);
    if (found != 1) {
        return found == 2 ? out : found == 0 ? ref(FALLBACK) : NULL;
    }
    if (f[2] == Py_None && f[3] == Py_None) {
        return REFUSE(A_price, EC_WHY_NO_CHANGE, PyTuple_New(0));
    }
    if (f[2] != Py_None) {
        POSITIVE(A_price, f[2], MC_PRICE_MAX, &c->price_value);
        if (!ec_on_tick(&self->e, c->m, c->price_value)) {
            return eb_core_refused(self, c, EC_WHY_OFF_TICK);
        }
    }
    if (f[3] != Py_None) {
        POSITIVE(A_quantity, f[3], MC_QUANTITY_MAX, &c->quantity_value);
    }
    if (!int_in(f[4], 0, EC_MONEY_MAX, &ts)) {
        return late_ts(self, c, ec_check_modify(&self->e, c->m, c->n, c->a, c->price_value,
                                                c->quantity_value));
    }
    int status = ec_modify(&self->e, c->m, c->n, c->a, c->price_value, c->quantity_value,
                           arrival(self, ts));
    return status == EC_OK ? eb_events(self, K_modify, f[0], ts, c->m, c->n, f[0])
                           : not_applied(self, c, status);
}

/* The account of a command that names one (c->a): 1; 2 with the refusal in *out; 0 for the
 * reference; -1 on error. */
static int
named_account(CoreObject *self, PyObject *account, eb_ctx *c, PyObject **out)
{
    int found = account_in(self, account, c);
    if (found != 0) {
        return found;
    }
    if (str_subclass(account)) {
        return 0;
    }
    *out = REFUSE(A_account, EC_WHY_NO_ACCOUNT, Py_BuildValue("(O)", account));
    return *out ? 2 : -1;
}

/* Deposit (flag 1), Withdraw (flag 0): an account and an amount. */
static PyObject *
money(CoreObject *self, PyObject *const *f, int deposit)
{
    eb_ctx ctx = CTX(deposit ? K_deposit : K_withdraw), *c = &ctx;
    int64_t amount, ts;
    PyObject *out = NULL;
    c->amount = f[1];
    c->amount_field = A_amount;
    c->ts = f[2];
    int found = named_account(self, f[0], c, &out);
    if (found != 1) {
        return found == 2 ? out : found == 0 ? ref(FALLBACK) : NULL;
    }
    POSITIVE(A_amount, f[1], EC_MONEY_MAX, &amount);
    if (!int_in(f[2], 0, EC_MONEY_MAX, &ts)) {
        return late_ts(self, c, deposit ? ec_check_deposit(&self->e, amount)
                                        : ec_check_withdraw(&self->e, c->a, amount));
    }
    int status = deposit ? ec_deposit(&self->e, c->a, amount)
                         : ec_withdraw(&self->e, c->a, amount);
    return status == EC_OK ? eb_events(self, c->kind, PyList_GET_ITEM(self->account_ids, c->a),
                                       ts, EB_NO_MARKET, 0, NULL)
                           : not_applied(self, c, status);
}

/* AddCapacity (flag 1), RemoveCapacity (flag 0): an account, a market and a quantity. */
static PyObject *
capacity(CoreObject *self, PyObject *const *f, int add)
{
    eb_ctx ctx = CTX(add ? K_add : K_remove), *c = &ctx;
    uint64_t m;
    int64_t quantity, ts;
    PyObject *out = NULL;
    c->quantity = f[2];
    c->ts = f[3];
    int found = named_account(self, f[0], c, &out);
    if (found != 1) {
        return found == 2 ? out : found == 0 ? ref(FALLBACK) : NULL;
    }
    if (self->e.accounts[c->a].role != EC_PROVIDER) {
        return eb_core_refused(self, c, EC_WHY_NOT_PROVIDER);
    }
    found = market_of(self, f[1], &m);
    if (found <= 0) {
        return found < 0 ? NULL
               : str_subclass(f[1])
                   ? ref(FALLBACK)
                   : REFUSE(A_market, EC_WHY_NO_MARKET, Py_BuildValue("(O)", f[1]));
    }
    c->m = (uint32_t)m;
    int why = eb_positive(f[2], MC_QUANTITY_MAX, &quantity);
    if (why == EC_WHY_NOT_INT || (why && !add)) {
        return eb_not_positive(c->kind, A_quantity, why, f[2], MC_QUANTITY_MAX);
    }
    if (why) { /* the bound AddCapacity refuses on is what the record may still take */
        return eb_core_refused(self, c, why);
    }
    if (!int_in(f[3], 0, EC_MONEY_MAX, &ts)) {
        return late_ts(self, c, add ? ec_check_add(&self->e, c->m, c->a, quantity)
                                    : ec_check_remove(&self->e, c->m, c->a, quantity));
    }
    int status = add ? ec_add_capacity(&self->e, c->m, c->a, quantity)
                     : ec_remove_capacity(&self->e, c->m, c->a, quantity);
    return status == EC_OK ? eb_events(self, c->kind, PyList_GET_ITEM(self->account_ids, c->a),
                                       ts, EB_NO_MARKET, 0, NULL)
                           : not_applied(self, c, status);
}

static PyObject *
tick(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    eb_ctx ctx = CTX(K_tick), *c = &ctx;
    int64_t ts;
    c->ts = f[0];
    return int_in(f[0], 0, EC_MONEY_MAX, &ts)
               ? eb_events(self, K_tick, EMPTY, ts, EB_NO_MARKET, 0, NULL)
               : late_ts(self, c, EC_WHY_NONE);
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
        if (events != NULL && events != FALLBACK && !PyList_CheckExact(events)) {
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
