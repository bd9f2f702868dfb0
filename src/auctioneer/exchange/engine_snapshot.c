/*
 * engine_snapshot.c - the parts of a snapshot that grow with the state, written
 * as canonical JSON straight from the C tables: accounts, capacity, holdings,
 * open orders, used order ids and the counters, byte for byte what
 * snapshot.snapshot_of and canonical_json make of the same state (the reference;
 * tests/exchange/test_native_snapshot.py compares them). No Python object is
 * built for an order or an id, and the Python copy of the state stays as stale as
 * it was (Core.dump is not called).
 *
 * Used ids are written in usedids.py's compact form from the runs engine_runs.c keeps.
 */
#include "engine_buffer.h"
#include "engine_runs.h"

#include <stdlib.h>
#include <string.h>

/* Every writer here makes its own room (engine_buffer.h's put does not): 0, or -1 with
 * MemoryError, as every function below that returns an int. */
static int
add(buffer *b, const char *s, size_t n)
{
    if (room(b, n) < 0) {
        return -1;
    }
    put(b, s, n);
    return 0;
}

static int
add_int(buffer *b, long long v)
{
    return room(b, 24u) < 0 ? -1 : (put_ll(b, v), 0);
}

static int
add_uint(buffer *b, uint64_t v)
{
    return room(b, 24u) < 0 ? -1 : (put_u64(b, v), 0);
}

/* UTF-8 text as json.dumps(ensure_ascii=False) writes a str: '"', '\' and the control
 * characters escaped, everything else as it is. */
static int
add_str(buffer *b, const char *s, size_t n)
{
    if (n > (SIZE_MAX - 2u) / 6u || room(b, 6u * n + 2u) < 0) { /* \u00XX at worst */
        return -1;
    }
    char *out = b->p + b->n;
    *out++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20u && c != '"' && c != '\\') {
            *out++ = (char)c;
            continue;
        }
        *out++ = '\\';
        switch (c) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\n': *out++ = 'n'; break;
        case '\r': *out++ = 'r'; break;
        case '\t': *out++ = 't'; break;
        case '\b': *out++ = 'b'; break;
        case '\f': *out++ = 'f'; break;
        default:
            out += snprintf(out, 6u, "u%04x", c);
        }
    }
    *out++ = '"';
    b->n = (size_t)(out - b->p);
    return 0;
}

static int
add_name(buffer *b, const eb_names *t, uint64_t k)
{
    size_t n;
    const char *s = eb_names_get(t, k, &n);
    return add_str(b, s, n);
}

/* ----------------------------------------------------------- the parts */

typedef struct {
    uint64_t seq;
    uint32_t m, slot;
} open_order;

/* all[0..n) by seq, with tmp as room for n more: a least-significant-digit
 * radix sort, 11 bits a pass over the bits the largest seq uses (two passes for 4M
 * commands): qsort's comparator calls took a fifth of writing 160,000 open orders.
 * Returns where the sorted orders are (all or tmp). */
static open_order *
sorted_by_seq(open_order *all, open_order *tmp, size_t n)
{
    enum { BITS = 11, BUCKETS = 1 << BITS };
    uint64_t top = 0;
    for (size_t i = 0; i < n; i++) {
        top |= all[i].seq;
    }
    for (unsigned shift = 0; shift < 64u && (top >> shift) != 0; shift += BITS) {
        size_t at[BUCKETS] = {0};
        for (size_t i = 0; i < n; i++) {
            at[(all[i].seq >> shift) & (BUCKETS - 1u)]++;
        }
        for (size_t d = 0, sum = 0; d < BUCKETS; d++) {
            size_t count = at[d];
            at[d] = sum;
            sum += count;
        }
        for (size_t i = 0; i < n; i++) {
            tmp[at[(all[i].seq >> shift) & (BUCKETS - 1u)]++] = all[i];
        }
        open_order *swap = all;
        all = tmp;
        tmp = swap;
    }
    return all;
}

/* The markets of open order `o` of market m: its own, or a cross-market bid's all, in its
 * order (it is listed from its first market: the ring of its copies starts there). */
static int
add_markets(CoreObject *self, buffer *b, uint32_t m, const mc_order *o)
{
    int rc = add_name(b, &self->market_names, m);
    for (uint32_t at = o->link; rc == 0 && at != MC_NONE && at != m; at = o->link) {
        o = mc_find(&self->e.markets[at].book, o->id);
        rc = add(b, ",", 1) || add_name(b, &self->market_names, at);
    }
    return rc;
}

/* "orders": every open order by arrival, as snapshot_of lists them (a cross-market bid once,
 * from the copy in its first market). */
static int
write_orders(CoreObject *self, buffer *b)
{
    const ec_engine *e = &self->e;
    size_t count = 0;
    for (uint32_t m = 0; m < e->n_markets; m++) {
        count += e->markets[m].book.open;
    }
    open_order *all = malloc((2u * count + 1u) * sizeof *all); /* and sorted_by_seq's room */
    if (all == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    size_t n = 0;
    for (uint32_t m = 0; m < e->n_markets; m++) {
        const mc_book *book = &e->markets[m].book;
        const mc_side *sides[2] = {&book->bids, &book->asks};
        for (int s = 0; s < 2; s++) {
            for (uint32_t at = 0; at < sides[s]->count; at++) {
                for (uint32_t o = sides[s]->levels[at].head; o != MC_NONE && n < count;
                     o = book->orders[o].next) {
                    const mc_order *order = &book->orders[o];
                    if (order->link == MC_NONE || self->order_market[order->id] == m) {
                        all[n++] = (open_order){order->seq, m, o};
                    }
                }
            }
        }
    }
    const open_order *by_seq = sorted_by_seq(all, all + count, n);
    int rc = add(b, "[", 1);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const mc_order *o = &e->markets[by_seq[i].m].book.orders[by_seq[i].slot];
        rc = add(b, i ? ",[" : "[", i ? 2u : 1u) || add_name(b, &self->ids, o->id)
             || add(b, ",", 1) || add_name(b, &self->account_names, o->account)
             || add(b, o->buy ? ",true,[" : ",false,[", o->buy ? 7u : 8u)
             || add_markets(self, b, by_seq[i].m, o) || add(b, "],", 2)
             || add_int(b, o->price) || add(b, ",", 1) || add_int(b, o->remaining)
             || add(b, o->aon ? ",true," : ",false,", o->aon ? 6u : 7u)
             || add(b, self->order_post[o->id] ? "true," : "false,",
                    self->order_post[o->id] ? 5u : 6u)
             || add_uint(b, o->seq) || add(b, ",", 1) || add_int(b, o->ts) || add(b, "]", 1)
                 ? -1 : 0;
    }
    free(all);
    return rc || add(b, "]", 1) ? -1 : 0;
}

/* "accounts", "capacity" and "holdings", each in its own buffer: accounts by id, the
 * others by (account id, market id). */
static int
write_ledger(CoreObject *self, PyObject *roles, buffer *accounts, buffer *caps, buffer *holdings)
{
    const ec_engine *e = &self->e;
    eb_run *by_id = eb_sorted_names(&self->account_names, e->n_accounts);
    eb_run *markets = eb_sorted_names(&self->market_names, e->n_markets);
    int rc = by_id == NULL || markets == NULL ? -1 : 0;
    rc = rc || add(accounts, "[", 1) || add(caps, "[", 1) || add(holdings, "[", 1) ? -1 : 0;
    for (uint32_t i = 0; rc == 0 && i < e->n_accounts; i++) {
        uint32_t a = by_id[i].k;
        const ec_account *acct = &e->accounts[a];
        Py_ssize_t len;
        const char *role = acct->role < PyTuple_GET_SIZE(roles)
                               ? PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(roles, acct->role), &len)
                               : NULL;
        if (role == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_ValueError, "no role word for role %d", acct->role);
            }
            rc = -1;
            break;
        }
        rc = add(accounts, i ? ",[" : "[", i ? 2u : 1u) || add_name(accounts, &self->account_names, a)
             || add(accounts, ",", 1) || add_str(accounts, role, (size_t)len)
             || add(accounts, ",", 1) || add_int(accounts, acct->balance)
             || add(accounts, ",", 1) || add_int(accounts, acct->reserved) || add(accounts, "]", 1)
                 ? -1 : 0;
        for (uint32_t j = 0; rc == 0 && j < e->n_markets; j++) {
            uint32_t m = markets[j].k;
            const ec_slot *s = ec_slot_of(e, m, a);
            if (s->exists) {
                rc = add(caps, caps->n > 1 ? ",[" : "[", caps->n > 1 ? 2u : 1u)
                     || add_name(caps, &self->account_names, a) || add(caps, ",", 1)
                     || add_name(caps, &self->market_names, m) || add(caps, ",", 1)
                     || add_int(caps, s->provided) || add(caps, ",", 1)
                     || add_int(caps, s->allocated) || add(caps, ",", 1)
                     || add_int(caps, s->offered) || add(caps, "]", 1)
                         ? -1 : 0;
            }
            if (rc == 0 && s->holding) {
                rc = add(holdings, holdings->n > 1 ? ",[" : "[", holdings->n > 1 ? 2u : 1u)
                     || add_name(holdings, &self->account_names, a) || add(holdings, ",", 1)
                     || add_name(holdings, &self->market_names, m) || add(holdings, ",", 1)
                     || add_int(holdings, s->holding) || add(holdings, "]", 1)
                         ? -1 : 0;
            }
        }
    }
    free(by_id);
    free(markets);
    if (rc == 0 && (add(accounts, "]", 1) || add(caps, "]", 1) || add(holdings, "]", 1))) {
        rc = -1;
    }
    return rc;
}

/* "used_ids": every used order id, in usedids.compact_ids's form. */
static int
write_used(CoreObject *self, buffer *b)
{
    if (eb_compact_ids(self) < 0 || add(b, "{\"ids\":[", 8) < 0) {
        return -1;
    }
    const eb_names *t = &self->ids;
    int rc = 0, first = 1;
    for (uint64_t i = 0; rc == 0 && i < self->n_runs; i++) {
        const eb_run *r = &self->runs[i];
        if (r->count <= 1u) { /* a run of one is its id k: listed whole */
            rc = (!first && add(b, ",", 1)) || add_name(b, t, r->k) ? -1 : 0;
            first = 0;
        }
    }
    rc = rc || add(b, "],\"runs\":[", 10) ? -1 : 0;
    first = 1;
    for (uint64_t i = 0; rc == 0 && i < self->n_runs; i++) {
        const eb_run *r = &self->runs[i];
        if (r->count > 1u) {
            size_t ignored;
            rc = add(b, first ? "[" : ",[", first ? 1u : 2u)
                 || add_str(b, eb_names_get(t, r->k, &ignored), (size_t)r->stem)
                 || add(b, ",", 1) || add_uint(b, r->first) || add(b, ",", 1)
                 || add_uint(b, r->count) || add(b, "]", 1)
                     ? -1 : 0;
            first = 0;
        }
    }
    return rc || add(b, "]}", 2) ? -1 : 0;
}

static PyObject *
taken(buffer *b)
{
    PyObject *out = PyBytes_FromStringAndSize(b->p, (Py_ssize_t)b->n);
    PyMem_Free(b->p);
    b->p = NULL;
    return out;
}

/* One value of an event's field as encode_event writes it: a str, an int within 64 bits, or
 * a member of `words` (pairs of an enum member and its value's text); 0, or 1 when it is none
 * of those (the caller then leaves the part to the reference), or -1 with MemoryError. */
static int
add_value(buffer *b, PyObject *value, PyObject *words)
{
    if (PyUnicode_CheckExact(value)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(value, &n);
        if (s == NULL) {
            PyErr_Clear(); /* no UTF-8 form: the reference fails on it as it will */
            return 1;
        }
        return add_str(b, s, (size_t)n);
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        return overflow ? 1 : add_int(b, v);
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(words); i++) {
        PyObject *pair = PyTuple_GET_ITEM(words, i);
        if (PyTuple_GET_ITEM(pair, 0) == value) {
            Py_ssize_t n;
            const char *s = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(pair, 1), &n);
            return s == NULL ? -1 : add_str(b, s, (size_t)n);
        }
    }
    return 1;
}

/* The events of `tape` (an iterable of one event class's tuples) into b as a JSON list of
 * what encode_event makes of each: the keys (key, index into the tuple; -1: the literal
 * `kind`) in their sorted order. 0; 1 when a value is not one add_value writes; -1. */
static int
add_events(buffer *b, PyObject *tape, PyObject *keys, PyObject *kind, PyObject *words)
{
    PyObject *it = PyObject_GetIter(tape), *event;
    int rc = it == NULL ? -1 : add(b, "[", 1);
    Py_ssize_t n_keys = PyTuple_GET_SIZE(keys);
    for (int first = 1; rc == 0 && (event = PyIter_Next(it)) != NULL; first = 0) {
        rc = add(b, first ? "{" : ",{", first ? 1u : 2u);
        for (Py_ssize_t k = 0; rc == 0 && k < n_keys; k++) {
            PyObject *key = PyTuple_GET_ITEM(PyTuple_GET_ITEM(keys, k), 0);
            Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(PyTuple_GET_ITEM(keys, k), 1));
            Py_ssize_t len;
            const char *name = PyUnicode_AsUTF8AndSize(key, &len);
            if (name == NULL
                || (at >= 0 && (!PyTuple_Check(event) || at >= PyTuple_GET_SIZE(event)))) {
                rc = name == NULL ? -1 : 1;
                break;
            }
            rc = (k && add(b, ",", 1)) || add_str(b, name, (size_t)len) || add(b, ":", 1) ? -1
                                                                                         : 0;
            rc = rc ? rc : add_value(b, at < 0 ? kind : PyTuple_GET_ITEM(event, at), words);
        }
        rc = rc ? rc : add(b, "}", 1);
        Py_DECREF(event);
    }
    Py_XDECREF(it);
    if (PyErr_Occurred()) {
        rc = -1;
    }
    return rc ? rc : add(b, "]", 1);
}

/* Whether each of `pairs` (tapes_json's `what`) is a 2-tuple with a str at `text_at` and,
 * for `int_at` >= 0, an index (an int, -1 or more) there: 0, or -1 with the error naming it. */
static int
check_pairs(PyObject *pairs, const char *what, int text_at, int int_at)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(pairs); i++) {
        PyObject *pair = PyTuple_GET_ITEM(pairs, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2
            || !PyUnicode_Check(PyTuple_GET_ITEM(pair, text_at))
            || (int_at >= 0 && !PyLong_Check(PyTuple_GET_ITEM(pair, int_at)))) {
            PyErr_Format(PyExc_TypeError, "tapes_json: %s[%zd] is not a pair of %s: %R", what,
                         i, int_at >= 0 ? "(str, int)" : "(object, str)", pair);
            return -1;
        }
        if (int_at >= 0) {
            Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, int_at));
            if (at < -1) {
                if (!PyErr_Occurred()) {
                    PyErr_Format(PyExc_ValueError,
                                 "tapes_json: %s[%zd]'s index is below -1: %R", what, i, pair);
                }
                return -1;
            }
        }
    }
    return 0;
}

/* tapes_json(tapes, keys, kind, words) -> bytes | None: the snapshot's "trades", {market:
 * [each trade as encode_event writes it]} in canonical JSON, from `tapes` (the (market,
 * tape) pairs sorted by market); `keys`, `kind` and `words` as add_events takes them. None
 * when a value is not one this writer takes (the reference then writes the part). */
PyObject *
eb_tapes_json(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *tapes, *keys, *kind, *words;
    if (!PyArg_ParseTuple(args, "O!O!UO!", &PyList_Type, &tapes, &PyTuple_Type, &keys, &kind,
                          &PyTuple_Type, &words)) {
        return NULL;
    }
    if (check_pairs(keys, "keys", 0, 1) < 0 || check_pairs(words, "words", 1, -1) < 0) {
        return NULL;
    }
    buffer b = {0};
    int rc = add(&b, "{", 1);
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(tapes); i++) {
        /* Held: iterating a tape can run Python code that changes `tapes`. */
        PyObject *item = Py_NewRef(PyList_GET_ITEM(tapes, i)), *market, *tape;
        if (!PyTuple_Check(item)) {
            PyErr_Format(PyExc_TypeError, "tapes_json: tapes[%zd] is not a (market, tape) "
                         "pair: %R", i, item);
            rc = -1;
        } else if (!PyArg_ParseTuple(item, "UO", &market, &tape)) {
            rc = -1;
        } else {
            rc = i ? add(&b, ",", 1) : 0;
            rc = rc ? rc : add_value(&b, market, words);
            rc = rc ? rc : add(&b, ":", 1);
            rc = rc ? rc : add_events(&b, tape, keys, kind, words);
        }
        Py_DECREF(item);
    }
    rc = rc ? rc : add(&b, "}", 1);
    if (rc != 0) {
        PyMem_Free(b.p);
        if (rc < 0) {
            return PyErr_Occurred() ? NULL : PyErr_NoMemory();
        }
        Py_RETURN_NONE;
    }
    return taken(&b);
}


/* snapshot_parts(roles) -> {key: canonical JSON bytes} for the keys "accounts", "capacity",
 * "clock", "holdings", "minted", "orders", "second", "seq", "trade_seq" and "used_ids", or
 * None when C does not hold every used id (one with no UTF-8 form, which only the reference
 * keeps). `roles`: the role words, by the core's role number. Trades buffered in C are
 * handed to the price indexes and tapes first, as a dump does, so the caller can write
 * those parts from them. */
PyObject *
Core_snapshot_parts(CoreObject *self, PyObject *roles)
{
    if (!PyTuple_Check(roles)) {
        PyErr_SetString(PyExc_TypeError, "roles must be a tuple of str");
        return NULL;
    }
    if (eb_flush_trades(self) < 0 || eb_ids_take_used(self) < 0) {
        return NULL;
    }
    if (self->odd_used) {
        Py_RETURN_NONE;
    }
    buffer parts[5] = {{0}};
    int rc = write_ledger(self, roles, &parts[0], &parts[1], &parts[2]);
    if (rc == 0) {
        rc = write_orders(self, &parts[3]) || write_used(self, &parts[4]) ? -1 : 0;
    }
    if (rc < 0) {
        for (int i = 0; i < 5; i++) {
            PyMem_Free(parts[i].p);
        }
        return NULL;
    }
    const ec_engine *e = &self->e;
    return Py_BuildValue("{sNsNsLsNsLsNsLsKsKsN}", "accounts", taken(&parts[0]),
                         "capacity", taken(&parts[1]), "clock", (long long)e->clock,
                         "holdings", taken(&parts[2]), "minted", (long long)e->minted,
                         "orders", taken(&parts[3]), "second", (long long)e->second,
                         "seq", (unsigned long long)e->seq, "trade_seq",
                         (unsigned long long)e->trade_seq, "used_ids", taken(&parts[4]));
}
