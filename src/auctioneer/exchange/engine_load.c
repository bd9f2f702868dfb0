/*
 * engine_load.c - the native engine's Core object: made from a state's markets
 * and accounts, loaded with the rest of it (balances, capacity, holdings, open
 * orders by arrival, counters), and dumped back for the reference's objects.
 * Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <stdlib.h>

/* ------------------------------------------------------- load and dump */

/* Give the str `id` the next number in `names`: 0, or -1 with an error. An id with no
 * UTF-8 form (a lone surrogate) holds its number under a byte no UTF-8 has, so no lookup
 * finds it and the reference takes its commands. */
static int
name_into(eb_names *names, PyObject *id)
{
    const char *s = "\xff";
    size_t n = 1;
    int utf8 = eb_utf8(id, &s, &n);
    uint64_t h = eb_hash(s, n);
    if (utf8 && eb_names_find(names, s, n, h) >= 0) {
        PyErr_Format(PyExc_ValueError, "%R twice", id);
        return -1;
    }
    return eb_names_add(names, s, n, h) < 0 ? (PyErr_NoMemory(), -1) : 0;
}

/* Whether a price index's pending trades are an array of 64-bit ints, which eb_flush_trades
 * writes its trades into (1), or not (0). */
static int
int64_array(PyObject *pending)
{
    PyObject *code = PyObject_GetAttrString(pending, "typecode");
    if (code == NULL) {
        PyErr_Clear();
        return 0;
    }
    int yes = PyUnicode_Check(code) && PyUnicode_CompareWithASCIIString(code, "q") == 0;
    Py_DECREF(code);
    return yes;
}

/* Number market `id` m (its book made) in the binding's tables: its name, its price index's
 * pending array, its tape and its room (held has room for it): 0, or -1 with an error. */
static int
market_into(CoreObject *self, uint32_t m, PyObject *id, PyObject *index, PyObject *tape)
{
    PyObject *number = PyLong_FromUnsignedLong(m);
    PyObject *single = PyTuple_Pack(1, id);
    PyObject *pending = PyObject_GetAttrString(index, "pending");
    PyObject *maxlen = PyObject_GetAttrString(tape, "maxlen");
    self->held[m].room = maxlen == NULL || maxlen == Py_None
                             ? UINT64_MAX
                             : PyLong_AsUnsignedLongLong(maxlen);
    Py_XDECREF(maxlen);
    int bad = number == NULL || single == NULL || pending == NULL || PyErr_Occurred()
              || !int64_array(pending) || name_into(&self->market_names, id) < 0
              || PyDict_SetItem(self->market_index, id, number) < 0
              || PyList_Append(self->market_ids, id) < 0
              || PyList_Append(self->market_tuples, single) < 0
              || PyList_Append(self->indexes, index) < 0
              || PyList_Append(self->pending, pending) < 0
              || PyList_Append(self->tapes, tape) < 0;
    Py_XDECREF(number);
    Py_XDECREF(single);
    Py_XDECREF(pending);
    if (bad && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_TypeError, "a price index's pending is not an array('q')");
    }
    return bad ? -1 : 0;
}

PyObject *
Core_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"markets", "accounts", "used", NULL};
    PyObject *markets, *accounts, *used;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!", kwlist, &PyList_Type, &markets,
                                     &PyList_Type, &accounts, &PySet_Type, &used)) {
        return NULL;
    }
    Py_ssize_t n_markets = PyList_GET_SIZE(markets), n_accounts = PyList_GET_SIZE(accounts);
    if (n_markets > UINT32_MAX / 2 || n_accounts > UINT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "too many markets or accounts");
        return NULL;
    }
    CoreObject *self = (CoreObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    if (ec_init(&self->e, (uint32_t)n_accounts, (uint32_t)n_markets) < 0) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->used = ref(used);
    self->used_in_c = PySet_GET_SIZE(used) == 0;
    self->held = PyMem_Calloc(n_markets ? (size_t)n_markets : 1u, sizeof(eb_held));
    if (self->held == NULL
        || eb_names_init(&self->ids, (uint64_t)PySet_GET_SIZE(used) + 1024u) < 0
        || eb_names_init(&self->account_names, (uint64_t)n_accounts) < 0
        || eb_names_init(&self->market_names, (uint64_t)n_markets) < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    self->account_ids = PyList_New(0);
    self->account_index = PyDict_New();
    self->market_ids = PyList_New(0);
    self->market_index = PyDict_New();
    self->market_tuples = PyList_New(0);
    self->indexes = PyList_New(0);
    self->pending = PyList_New(0);
    self->tapes = PyList_New(0);
    self->cross = PyDict_New();
    if (self->cross == NULL || self->account_ids == NULL || self->account_index == NULL || self->market_ids == NULL
        || self->market_index == NULL || self->market_tuples == NULL || self->indexes == NULL
        || self->pending == NULL || self->tapes == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n_accounts; i++) {
        PyObject *id;
        unsigned int role;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(accounts, i), "UI", &id, &role)) {
            goto fail;
        }
        if (role > EC_ADMIN) {
            PyErr_Format(PyExc_ValueError, "role %u is not 0, 1 or 2", role);
            goto fail;
        }
        PyObject *number = PyLong_FromSsize_t(i);
        int bad = number == NULL || PyDict_SetItem(self->account_index, id, number) < 0
                  || PyList_Append(self->account_ids, id) < 0
                  || name_into(&self->account_names, id) < 0;
        Py_XDECREF(number);
        if (bad) {
            goto fail;
        }
        self->e.accounts[i].role = (uint8_t)role;
    }
    for (Py_ssize_t i = 0; i < n_markets; i++) {
        PyObject *id, *index, *tape;
        long long tick;
        int at_ask, rule;
        unsigned int max_orders, max_levels;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(markets, i), "ULpiIIOO", &id, &tick, &at_ask,
                              &rule, &max_orders, &max_levels, &index, &tape)) {
            goto fail;
        }
        if (rule < MC_CANCEL_NEWEST || rule > MC_CANCEL_BOTH
            || ec_market_init(&self->e, (uint32_t)i, max_orders, max_levels, rule, at_ask,
                              tick) < 0) {
            PyErr_Format(PyExc_ValueError, "market %R: bad sizes, tick or rule", id);
            goto fail;
        }
        if (market_into(self, (uint32_t)i, id, index, tape) < 0) {
            goto fail;
        }
    }
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

int
Core_traverse(CoreObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->account_ids);
    Py_VISIT(self->account_index);
    Py_VISIT(self->market_ids);
    Py_VISIT(self->market_index);
    Py_VISIT(self->market_tuples);
    Py_VISIT(self->indexes);
    Py_VISIT(self->pending);
    Py_VISIT(self->tapes);
    Py_VISIT(self->cross);
    Py_VISIT(self->used);
    return 0;
}

int
Core_clear(CoreObject *self)
{
    Py_CLEAR(self->account_ids);
    Py_CLEAR(self->account_index);
    Py_CLEAR(self->market_ids);
    Py_CLEAR(self->market_index);
    Py_CLEAR(self->market_tuples);
    Py_CLEAR(self->indexes);
    Py_CLEAR(self->pending);
    Py_CLEAR(self->tapes);
    Py_CLEAR(self->cross);
    Py_CLEAR(self->used);
    return 0;
}

void
Core_dealloc(CoreObject *self)
{
    PyObject_GC_UnTrack(self);
    Core_clear(self);
    for (uint64_t i = 0; i < self->n_names; i++) {
        Py_XDECREF(self->names[i]);
    }
    PyMem_Free(self->names);
    PyMem_Free(self->order_market);
    PyMem_Free(self->order_post);
    eb_held_free(self);
    free(self->runs);
    eb_names_free(&self->ids);
    eb_names_free(&self->account_names);
    eb_names_free(&self->market_names);
    ec_free(&self->e);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyObject *
Core_load_account(CoreObject *self, PyObject *args)
{
    unsigned int a;
    long long balance, reserved;
    if (!PyArg_ParseTuple(args, "ILL", &a, &balance, &reserved)
        || check_numbers(self, a, UINT_MAX) < 0) {
        return NULL;
    }
    self->e.accounts[a].balance = balance;
    self->e.accounts[a].reserved = reserved;
    Py_RETURN_NONE;
}

/* open_account(kind, account, role, ts): the events of opening `account` (an exact str no
 * account has; the caller made the reference's checks) at `ts`, which it gets the next
 * number; nothing changed on error. */
PyObject *
Core_open_account(CoreObject *self, PyObject *args)
{
    PyObject *kind, *id;
    unsigned int role;
    long long ts;
    if (!PyArg_ParseTuple(args, "OUIL", &kind, &id, &role, &ts)) {
        return NULL;
    }
    if (role > EC_ADMIN || ts < 0 || !PyUnicode_CheckExact(id)) {
        PyErr_Format(PyExc_ValueError, "open_account(%R, %u, %lld): bad role, ts or id", id,
                     role, ts);
        return NULL;
    }
    uint32_t a = self->e.n_accounts;
    PyObject *number = PyLong_FromUnsignedLong(a);
    if (number == NULL) {
        return NULL;
    }
    int found = PyDict_Contains(self->account_index, id);
    if (found != 0 || a >= UINT32_MAX / 2 || PyList_Append(self->account_ids, id) < 0) {
        Py_DECREF(number);
        if (found > 0 || (found == 0 && !PyErr_Occurred())) {
            PyErr_Format(PyExc_ValueError, "account %R is open already, or one too many", id);
        }
        return NULL;
    }
    /* every step that can fail before the core's account, and each undone if one does */
    if (PyDict_SetItem(self->account_index, id, number) < 0
        || eb_names_reserve(&self->account_names, 1, (size_t)PyUnicode_GET_LENGTH(id) * 4u)
               < 0
        || ec_add_account(&self->e, (int)role) < 0) {
        Py_DECREF(number);
        PyObject *type, *value, *trace;
        PyErr_Fetch(&type, &value, &trace);
        if (PyDict_DelItem(self->account_index, id) < 0) {
            PyErr_Clear(); /* not added */
        }
        if (PyList_SetSlice(self->account_ids, a, a + 1, NULL) < 0) {
            PyErr_Clear();
        }
        if (type != NULL) {
            PyErr_Restore(type, value, trace);
        } else {
            PyErr_NoMemory();
        }
        return NULL;
    }
    Py_DECREF(number);
    if (name_into(&self->account_names, id) < 0) { /* reserved: cannot fail */
        return NULL;
    }
    self->dirty = 1;
    return eb_events(self, kind, id, (int64_t)ts, EB_NO_MARKET, 0, NULL);
}

/* list_market(kind, id, tick, at_ask, rule, max_orders, max_levels, index, tape, ts): the
 * events of listing market `id` (an exact str no market has; the caller made the
 * reference's checks) at `ts`, which it gets the next number, its prices published from
 * the next second on. A failure (memory short) leaves the core unusable: drop it. */
PyObject *
Core_list_market(CoreObject *self, PyObject *args)
{
    PyObject *kind, *id, *index, *tape;
    long long tick, ts;
    int at_ask, rule;
    unsigned int max_orders, max_levels;
    if (!PyArg_ParseTuple(args, "OULpiIIOOL", &kind, &id, &tick, &at_ask, &rule, &max_orders,
                          &max_levels, &index, &tape, &ts)) {
        return NULL;
    }
    int found = PyDict_Contains(self->market_index, id);
    if (found != 0 || ts < 0 || rule < MC_CANCEL_NEWEST || rule > MC_CANCEL_BOTH
        || !PyUnicode_CheckExact(id)) {
        if (found >= 0) {
            PyErr_Format(PyExc_ValueError, "list_market(%R): listed, or a bad ts or rule", id);
        }
        return NULL;
    }
    uint32_t m = self->e.n_markets;
    eb_held *held = PyMem_Realloc(self->held, ((size_t)m + 1u) * sizeof *held);
    if (held == NULL) {
        return PyErr_NoMemory();
    }
    self->held = held;
    held[m] = (eb_held){0};
    if (ec_add_market(&self->e, max_orders, max_levels, rule, at_ask, tick) < 0) {
        return PyErr_NoMemory(); /* the caller checked the sizes and the tick */
    }
    PyObject *events = market_into(self, m, id, index, tape) < 0
                           ? NULL
                           : eb_events(self, kind, id, (int64_t)ts, EB_NO_MARKET, 0, NULL);
    if (events == NULL) {
        ec_market_drop(&self->e);
        return NULL;
    }
    self->e.n_markets = m + 1u;
    self->dirty = 1;
    return events;
}

PyObject *
Core_load_capacity(CoreObject *self, PyObject *args)
{
    unsigned int a, m;
    long long provided, allocated, offered;
    if (!PyArg_ParseTuple(args, "IILLL", &a, &m, &provided, &allocated, &offered)
        || check_numbers(self, a, m) < 0) {
        return NULL;
    }
    __int128 total = (__int128)self->e.markets[m].provided + provided;
    if (total > INT64_MAX || total < INT64_MIN) { /* the market's total must not wrap */
        PyErr_Format(PyExc_OverflowError, "market %u: capacity provided past 64 bits", m);
        return NULL;
    }
    ec_slot *s = ec_slot_of(&self->e, m, a);
    s->exists = 1;
    s->provided = provided;
    s->allocated = allocated;
    s->offered = offered;
    self->e.markets[m].provided += provided;
    Py_RETURN_NONE;
}

PyObject *
Core_load_holding(CoreObject *self, PyObject *args)
{
    unsigned int a, m;
    long long quantity;
    if (!PyArg_ParseTuple(args, "IIL", &a, &m, &quantity) || check_numbers(self, a, m) < 0) {
        return NULL;
    }
    ec_slot_of(&self->e, m, a)->holding = quantity;
    Py_RETURN_NONE;
}

/* The market numbers `markets` names (an int, or a tuple of distinct ints: a cross-market
 * bid's) into e->xmarkets: their count, or 0 with an error. */
static uint32_t
markets_of(CoreObject *self, PyObject *markets)
{
    int one = !PyTuple_Check(markets);
    Py_ssize_t k = one ? 1 : PyTuple_GET_SIZE(markets);
    if (k < 1 || k > (Py_ssize_t)MC_CROSS_MAX || ec_cross_room(&self->e) < 0) {
        PyErr_SetString(PyExc_ValueError, "an order's markets: 1 to MC_CROSS_MAX of them");
        return 0;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        unsigned long m = PyLong_AsUnsignedLong(one ? markets : PyTuple_GET_ITEM(markets, i));
        if (PyErr_Occurred() || check_numbers(self, UINT_MAX, m > UINT_MAX ? UINT_MAX - 1u
                                                                            : (unsigned)m) < 0) {
            return 0;
        }
        for (Py_ssize_t j = 0; j < i; j++) {
            if (self->e.xmarkets[j] == m) {
                PyErr_Format(PyExc_ValueError, "market %lu twice", m);
                return 0;
            }
        }
        self->e.xmarkets[i] = (uint32_t)m;
    }
    return (uint32_t)k;
}

int
eb_load_rest(CoreObject *self, uint64_t n, uint32_t k, uint32_t a, int buy, int64_t price,
             int64_t remaining, uint64_t seq, int64_t ts, int post_only, int aon)
{
    if (k > 1 && !buy) {
        return 0;
    }
    for (uint32_t i = 0; i < k; i++) {
        uint32_t m = self->e.xmarkets[i];
        if (mc_find(&self->e.markets[m].book, n) != NULL) {
            return 0;
        }
        while (!mc_fits(&self->e.markets[m].book, buy, price)) {
            if (ec_grow(&self->e, m) < 0) {
                PyErr_NoMemory();
                return -1;
            }
        }
    }
    PyObject *tuple = k == 1 ? NULL : PyTuple_New(k);
    for (uint32_t i = 0; tuple != NULL && i < k; i++) {
        PyTuple_SET_ITEM(tuple, i, ref(PyList_GET_ITEM(self->market_ids, self->e.xmarkets[i])));
    }
    PyObject *number = k == 1 ? NULL : PyLong_FromUnsignedLongLong(n);
    int bad = k > 1 && (number == NULL || tuple == NULL
                        || PyDict_SetItem(self->cross, number, tuple) < 0);
    Py_XDECREF(number);
    Py_XDECREF(tuple);
    if (bad) {
        return -1;
    }
    for (uint32_t i = 0; i < k; i++) {
        mc_book *b = &self->e.markets[self->e.xmarkets[i]].book;
        b->stamp_seq = seq;
        b->stamp_ts = ts;
        mc_rest(b, n, a, buy, price, remaining, aon,
                k == 1 ? MC_NONE : self->e.xmarkets[(i + 1u) % k]);
    }
    self->order_post[n] = (uint8_t)post_only;
    return 1;
}

/* load_order(id, account, market, buy, price, remaining, seq, ts, post_only, aon): False
 * when its id is loaded already or it cannot rest (eb_load_rest). `market` is a number, or
 * a tuple of them for a cross-market bid (which buys), which rests in each. Orders are
 * loaded by arrival. */
PyObject *
Core_load_order(CoreObject *self, PyObject *args)
{
    PyObject *name, *markets;
    unsigned int a;
    int buy, post_only, aon;
    long long price, remaining, ts;
    unsigned long long seq;
    const char *s;
    size_t len;
    if (!PyArg_ParseTuple(args, "UIOpLLKLpp", &name, &a, &markets, &buy, &price, &remaining,
                          &seq, &ts, &post_only, &aon)
        || check_numbers(self, a, UINT_MAX) < 0 || eb_reserve_name(self) < 0) {
        return NULL;
    }
    uint32_t k = markets_of(self, markets);
    if (k == 0) {
        return NULL;
    }
    int utf8 = eb_utf8(name, &s, &len);
    uint64_t h = utf8 ? eb_hash(s, len) : 0;
    int rested = utf8 && eb_names_find(&self->ids, s, len, h) < 0
                     ? eb_load_rest(self, self->n_names, k, a, buy, price, remaining, seq, ts,
                                    post_only, aon)
                     : 0;
    if (rested < 0) {
        return NULL;
    }
    if (rested == 0) {
        Py_RETURN_FALSE;
    }
    if (eb_id_add(self, s, len, h, name, self->e.xmarkets[0]) < 0) {
        return NULL;
    }
    Py_RETURN_TRUE;
}

PyObject *
Core_load_counters(CoreObject *self, PyObject *args)
{
    unsigned long long seq, trade_seq;
    long long clock, second, minted;
    if (!PyArg_ParseTuple(args, "KKLLL", &seq, &trade_seq, &clock, &second, &minted)) {
        return NULL;
    }
    self->e.seq = seq;
    self->e.trade_seq = trade_seq;
    self->e.clock = clock;
    self->e.second = second;
    self->e.minted = minted;
    Py_RETURN_NONE;
}

/* A cross-market bid's market numbers, its first market m first, as a tuple. */
static PyObject *
cross_numbers(CoreObject *self, uint32_t m, uint64_t id)
{
    uint32_t k = ec_copies(&self->e, m, id); /* xmarkets has room: the bid was placed */
    PyObject *out = PyTuple_New(k);
    for (uint32_t i = 0; out != NULL && i < k; i++) {
        PyObject *number = PyLong_FromUnsignedLong(self->e.xmarkets[i]);
        if (number == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, i, number);
    }
    return out;
}

static int
dump_orders(CoreObject *self, uint32_t m, const mc_side *side, PyObject *out)
{
    const mc_book *b = &self->e.markets[m].book;
    for (uint32_t at = side->count; at-- > 0;) {
        for (uint32_t s = side->levels[at].head; s != MC_NONE; s = b->orders[s].next) {
            const mc_order *o = &b->orders[s];
            if (o->link != MC_NONE && self->order_market[o->id] != m) {
                continue; /* a cross-market bid's copy: its row is its first market's */
            }
            PyObject *name = eb_id_name(self, o->id);
            PyObject *markets = o->link == MC_NONE ? PyLong_FromUnsignedLong(m)
                                                   : cross_numbers(self, m, o->id);
            PyObject *row = name == NULL || markets == NULL
                                ? NULL
                                : Py_BuildValue("OIOOLLKLOO", name, o->account, markets,
                                          o->buy ? Py_True : Py_False, o->price,
                                          o->remaining, o->seq, o->ts,
                                          self->order_post[o->id] ? Py_True : Py_False,
                                          o->aon ? Py_True : Py_False);
            Py_XDECREF(markets);
            if (push(out, row) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* dump(orders=True) -> (accounts [(balance, reserved)], capacity [(account, market,
 * provided, allocated, offered)], holdings [(account, market, quantity)], orders [(id,
 * account, market (a tuple of them for a cross-market bid), buy, price, remaining, seq, ts,
 * post_only, aon)] (empty without `orders`), (seq,
 * trade_seq, clock, second, minted)). */
PyObject *
Core_dump(CoreObject *self, PyObject *args)
{
    int with_orders = 1;
    if (!PyArg_ParseTuple(args, "|p", &with_orders)) {
        return NULL;
    }
    if (eb_flush_trades(self) < 0 || eb_flush_used(self) < 0) {
        return NULL;
    }
    ec_engine *e = &self->e;
    PyObject *accounts = PyList_New(0), *caps = PyList_New(0), *holdings = PyList_New(0);
    PyObject *orders = PyList_New(0);
    if (accounts == NULL || caps == NULL || holdings == NULL || orders == NULL) {
        goto fail;
    }
    for (uint32_t a = 0; a < e->n_accounts; a++) {
        if (push(accounts, Py_BuildValue("LL", e->accounts[a].balance,
                                         e->accounts[a].reserved)) < 0) {
            goto fail;
        }
    }
    for (uint32_t m = 0; m < e->n_markets; m++) {
        for (uint32_t a = 0; a < e->n_accounts; a++) {
            const ec_slot *s = ec_slot_of(e, m, a);
            if (s->exists && push(caps, Py_BuildValue("IILLL", a, m, s->provided, s->allocated,
                                                      s->offered)) < 0) {
                goto fail;
            }
            if (s->holding && push(holdings, Py_BuildValue("IIL", a, m, s->holding)) < 0) {
                goto fail;
            }
        }
        const mc_book *b = &e->markets[m].book;
        if (with_orders && (dump_orders(self, m, &b->bids, orders) < 0
                            || dump_orders(self, m, &b->asks, orders) < 0)) {
            goto fail;
        }
    }
    return Py_BuildValue("NNNN(KKLLL)", accounts, caps, holdings, orders, e->seq, e->trade_seq,
                         e->clock, e->second, e->minted);
fail:
    Py_XDECREF(accounts);
    Py_XDECREF(caps);
    Py_XDECREF(holdings);
    Py_XDECREF(orders);
    return NULL;
}
