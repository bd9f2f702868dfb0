/*
 * engine_restore.c - a snapshot's parts that grow with the state read straight
 * from its bytes into a core: the used order ids (engine_runs.c) and the open
 * orders, with no Python object made for an order or an id (but the markets of
 * a cross-market bid, which the core keeps as a tuple). snapshot.py's reader
 * (restore_into) is the reference: what this reader does not take exactly as
 * snapshot_of and canonical_json write it -- any other JSON form, a name that
 * is not UTF-8, a number out of its field's range -- it declines, and the
 * caller restores through the reference instead. The caller then checks the
 * restored state against the snapshot's hash, which engine_snapshot.c writes
 * from the same tables. Part of the _engine binding (see _engine.c).
 */
#include "engine_json.h"
#include "engine_runs.h"

static int
spaced(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* spans(data, start, end) -> {key: (start, end)} of the members of the JSON object
 * data[start:end] as canonical_json writes one (no spaces, each key a plain ASCII string,
 * once), each value's bytes found but not read; None for any other form. */
PyObject *
eb_spans(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer buf;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "y*nn", &buf, &start, &stop)) {
        return NULL;
    }
    if (start < 0 || stop > buf.len || start > stop) {
        PyBuffer_Release(&buf);
        return PyErr_Format(PyExc_ValueError, "spans(%zd, %zd) of %zd bytes", start, stop,
                            buf.len);
    }
    const char *base = buf.buf, *p = base + start, *end = base + stop;
    PyObject *out = PyDict_New();
    int ok = out != NULL && p < end && *p++ == '{';
    int empty = ok && end - p == 1 && *p == '}';
    while (ok && !empty) {
        const char *close = p < end && *p == '"' ? string_end(p + 1, end) : NULL;
        const char *value = close != NULL && end - close > 2 && close[1] == ':' ? close + 2
                                                                                : NULL;
        const char *after = value == NULL || spaced(*value) ? NULL : skip_value(value, end);
        if (after == NULL || after == value || after == end || (*after != ',' && *after != '}')
            || spaced(after[-1])) {
            ok = 0;
            break;
        }
        PyObject *key = PyUnicode_FromStringAndSize(p + 1, close - p - 1);
        PyObject *span = Py_BuildValue("nn", value - base, after - base);
        int had = key == NULL || span == NULL ? -1 : PyDict_Contains(out, key);
        ok = had == 0 && PyDict_SetItem(out, key, span) == 0; /* a key twice: not canonical */
        Py_XDECREF(key);
        Py_XDECREF(span);
        if (!ok || *after == '}') {
            ok = ok && after + 1 == end;
            break;
        }
        p = after + 1;
    }
    PyBuffer_Release(&buf);
    if (!ok) {
        Py_XDECREF(out);
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return out;
}

/* The ',' or other byte `ch` at *p: 1 and past it, else 0. */
static inline int
take(const char **p, const char *end, char ch)
{
    if (*p == NULL || *p == end || **p != ch) {
        return 0;
    }
    (*p)++;
    return 1;
}

static inline int
take_bool(const char **p, const char *end, int *out)
{
    size_t left = *p == NULL ? 0 : (size_t)(end - *p);
    *out = left >= 4u && memcmp(*p, "true", 4) == 0;
    if (!*out && !(left >= 5u && memcmp(*p, "false", 5) == 0)) {
        return 0;
    }
    *p += *out ? 4 : 5;
    return 1;
}

/* An int in lo..hi at *p: 1 and past it, else 0. */
static inline int
take_int(const char **p, const char *end, int64_t lo, int64_t hi, int64_t *out)
{
    const char *after = *p == NULL ? NULL : parse_int(*p, end, out);
    if (after == NULL || *out < lo || *out > hi) {
        return 0;
    }
    *p = after;
    return 1;
}

/* A name of `names` as a JSON string at *p: its number, and past it; -1 when it is none. */
static int64_t
take_name(const eb_names *names, const char **p, const char *end, char *room)
{
    const char *s;
    size_t n;
    const char *after = *p == NULL ? NULL : read_text(*p, end, room, &s, &n);
    int64_t k = after == NULL ? -1 : eb_names_find(names, s, n, eb_hash(s, n));
    *p = after;
    return k;
}

/* One open order's row at p (past its '['), as snapshot_of lists it, rested in its books
 * under the number its id has among the used ids: past the row's ']', or NULL (*rc 0 when it
 * is not taken, -1 with an error). Rows come by arrival, after the one of seq *last. */
static const char *
restore_order(CoreObject *self, const char *p, const char *end, int64_t *last, int *rc)
{
    char room[TEXT_ROOM];
    ec_engine *e = &self->e;
    *rc = 0;
    int64_t n = take_name(&self->ids, &p, end, room);
    int64_t a = take(&p, end, ',') ? take_name(&self->account_names, &p, end, room) : -1;
    int buy = 0, aon = 0, post_only = 0;
    uint32_t k = 0;
    if (n < 0 || self->order_market[n] != UINT32_MAX || a < 0 || !take(&p, end, ',')
        || !take_bool(&p, end, &buy) || !take(&p, end, ',') || !take(&p, end, '[')) {
        return NULL;
    }
    do {
        int64_t m = k < MC_CROSS_MAX ? take_name(&self->market_names, &p, end, room) : -1;
        for (uint32_t i = 0; m >= 0 && i < k; i++) {
            m = e->xmarkets[i] == (uint32_t)m ? -1 : m; /* a market twice */
        }
        if (m < 0) {
            return NULL;
        }
        e->xmarkets[k++] = (uint32_t)m;
    } while (take(&p, end, ','));
    int64_t price, remaining, seq, ts;
    if (!take(&p, end, ']') || !take(&p, end, ',')
        || !take_int(&p, end, 1, MC_PRICE_MAX, &price) || !take(&p, end, ',')
        || !take_int(&p, end, 1, MC_QUANTITY_MAX, &remaining) || !take(&p, end, ',')
        || !take_bool(&p, end, &aon) || !take(&p, end, ',') || !take_bool(&p, end, &post_only)
        || !take(&p, end, ',') || !take_int(&p, end, 1, INT64_MAX, &seq) || seq <= *last
        || !take(&p, end, ',') || !take_int(&p, end, 0, EC_MONEY_MAX, &ts)
        || !take(&p, end, ']')) {
        return NULL;
    }
    *last = seq;
    *rc = eb_load_rest(self, (uint64_t)n, k, (uint32_t)a, buy, price, remaining,
                       (uint64_t)seq, ts, post_only, aon);
    if (*rc != 1) {
        return NULL;
    }
    self->order_market[n] = e->xmarkets[0];
    return p;
}

/* restore(data, orders, used) -> int | None: the snapshot's open orders and used ids, the
 * JSON at data[orders[0]:orders[1]] and data[used[0]:used[1]], into this core, fresh from
 * Core() with the snapshot's markets and accounts: how many ids are used; None when this
 * reader does not take them (see the top of this file; drop the core). */
PyObject *
Core_restore(CoreObject *self, PyObject *args)
{
    Py_buffer buf;
    Py_ssize_t orders[2], used[2];
    if (!PyArg_ParseTuple(args, "y*(nn)(nn)", &buf, &orders[0], &orders[1], &used[0],
                          &used[1])) {
        return NULL;
    }
    const char *base = buf.buf;
    int rc = 0 <= orders[0] && orders[0] <= orders[1] && orders[1] <= buf.len && 0 <= used[0]
             && used[0] <= used[1] && used[1] <= buf.len;
    if (!rc) {
        PyErr_SetString(PyExc_ValueError, "restore: spans outside the data");
        rc = -1;
    }
    if (rc == 1 && (ec_cross_room(&self->e) < 0)) {
        PyErr_NoMemory();
        rc = -1;
    }
    rc = rc == 1 ? eb_restore_used(self, base + used[0], base + used[1]) : rc;
    const char *p = base + orders[0], *end = base + orders[1];
    if (rc == 1 && !take(&p, end, '[')) {
        rc = 0;
    }
    int64_t last = 0; /* the seq of the row before: rows come by arrival */
    for (int first = 1; rc == 1 && p != end && *p != ']'; first = 0) {
        if ((!first && !take(&p, end, ',')) || !take(&p, end, '[')) {
            rc = 0;
        } else {
            p = restore_order(self, p, end, &last, &rc);
        }
    }
    rc = rc == 1 && (p == NULL || end - p != 1 || *p != ']') ? 0 : rc;
    PyBuffer_Release(&buf);
    if (rc < 0) {
        return NULL;
    }
    self->dirty = 1;
    return rc == 1 ? PyLong_FromUnsignedLongLong(self->n_names) : (Py_INCREF(Py_None), Py_None);
}
