/*
 * engine_answer.c - the service's answers to orders placed, read from the book events a
 * native Events holds, without building an event object (auctioneer.service.routers.orders):
 *
 *  - order_summary: one place's result as a dict (status, fills, trades, reason);
 *  - batch_answer: a whole batch's answer body, the JSON bytes orjson writes for
 *    {"results": [each order's result]}, in one call instead of a dict per order.
 *
 * Each is a fast path of order_result (and orjson), which stays as the reference: they
 * answer None for anything else (the reference engine's lists, a refusal, text that JSON
 * would escape), and the caller then takes the reference. tests/service/test_batchpath.py
 * holds them equal. Part of the _engine binding (see _engine.c).
 */
#include "engine_buffer.h"
#include "engine_fields.h"

/* An order's quantity and its command's id, as batch_answer reads them. */
static PyObject *quantity_name[1], *id_name[1];
static eb_fields order_quantity = {NULL, 1, quantity_name, {0}, {0}};
static eb_fields command_id = {NULL, 1, id_name, {0}, {0}};

static PyObject *S_status, *S_filled, *S_remaining, *S_trades, *S_field, *S_reason, *S_id,
    *S_aggressor, *S_open, *S_cancelled;

int
eb_setup_answers(void)
{
    const eb_name names[] = {
        {&S_status, "status"}, {&S_filled, "filled"}, {&S_remaining, "remaining"},
        {&S_trades, "trades"}, {&S_field, "field"}, {&S_reason, "reason"}, {&S_id, "id"},
        {&S_aggressor, "aggressor"}, {&S_open, "open"}, {&S_cancelled, "cancelled"},
    };
    quantity_name[0] = A_quantity;
    id_name[0] = A_order_id;
    return eb_intern_all(names, sizeof names / sizeof names[0]);
}

/* What a place's events did to its order, as order_result reads them. */
typedef struct {
    const mc_event *book;
    uint32_t n;
    uint64_t taker;
    PyObject *market; /* borrowed; NULL without book events */
    int64_t clock;    /* every trade's ts_ns */
    long long filled, remaining;
    PyObject *status, *reason; /* borrowed: S_open / S_filled / S_cancelled; None or REASONS[] */
} summary;

/* Whether book event `ev` is one of the order's trades (every trade of a place is). */
static inline int
own_trade(const summary *s, const mc_event *ev)
{
    return ev->kind == MC_TRADED && ev->taker == s->taker;
}

/* `events` summed up for an order of `quantity`: 1; 0 when it is not a native Events. */
static int
summarize(PyObject *events, long long quantity, summary *s)
{
    uint32_t m;
    CoreObject *core;
    s->book = eb_events_book(events, &core, &s->n, &m, &s->taker, &s->clock);
    if (s->book == NULL || quantity < 0) {
        return 0;
    }
    s->market = s->n > 0 ? PyList_GET_ITEM(core->market_ids, m) : NULL;
    long long now = 0;
    const mc_event *last = NULL; /* the order's last resting or cancelling */
    for (uint32_t i = 0; i < s->n; i++) {
        const mc_event *ev = &s->book[i];
        if (own_trade(s, ev)) {
            now += ev->quantity;
        } else if ((ev->kind == MC_RESTED || ev->kind == MC_CANCELLED) && ev->order == s->taker) {
            last = ev;
        }
    }
    s->filled = now;
    s->reason = Py_None;
    if (last != NULL && last->kind == MC_RESTED) {
        s->status = S_open;
        s->remaining = last->quantity;
    } else if (last != NULL) {
        s->status = S_cancelled;
        s->remaining = 0;
        s->reason = REASONS[last->reason];
    } else {
        s->status = now >= quantity ? S_filled : S_open;
        s->remaining = quantity - now;
    }
    return 1;
}

/* A dict of n keys and values (the values stolen; NULL after a failed allocation, and
 * the call then fails); NULL on error. */
static PyObject *
dict_of(Py_ssize_t n, PyObject *const keys[], PyObject *values[])
{
    PyObject *out = PyDict_New();
    for (Py_ssize_t i = 0; i < n; i++) {
        if (out != NULL && (values[i] == NULL || PyDict_SetItem(out, keys[i], values[i]) < 0)) {
            Py_CLEAR(out);
        }
        Py_XDECREF(values[i]);
    }
    return out;
}

/* A trade as the answer lists it (routers.orders._trade). */
static PyObject *
trade(PyObject *market, const mc_event *ev, PyObject *ts)
{
    PyObject *keys[6] = {S_id, A_market, A_price, A_quantity, S_aggressor, A_ts};
    PyObject *values[6] = {
        PyUnicode_FromFormat("%llu", (unsigned long long)ev->trade_id), ref(market),
        PyLong_FromLongLong(ev->price), PyLong_FromLongLong(ev->quantity),
        ref(ev->buy ? W_buy : W_sell), ref(ts)};
    return dict_of(6, keys, values);
}

/* order_summary(oid, quantity, events) -> dict | None
 *
 * routers.orders.order_result(oid, quantity, events) for a place's events as the native
 * engine returns them (an Events): None for anything else, which the caller hands to
 * order_result. */
PyObject *
eb_order_summary(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *oid, *events;
    long long quantity;
    if (!PyArg_ParseTuple(args, "ULO", &oid, &quantity, &events)) {
        return NULL;
    }
    summary s;
    if (!summarize(events, quantity, &s)) {
        Py_RETURN_NONE;
    }
    PyObject *trades = PyList_New(0);
    PyObject *ts = PyLong_FromLongLong(s.clock);
    PyObject *out = NULL;
    if (trades == NULL || ts == NULL) {
        goto done;
    }
    for (uint32_t i = 0; i < s.n; i++) {
        if (own_trade(&s, &s.book[i]) && push(trades, trade(s.market, &s.book[i], ts)) < 0) {
            goto done;
        }
    }
    PyObject *keys[7] = {A_order_id, S_status, S_filled, S_remaining, S_trades, S_field,
                         S_reason};
    PyObject *values[7] = {ref(oid), ref(s.status), PyLong_FromLongLong(s.filled),
                           PyLong_FromLongLong(s.remaining), ref(trades), ref(Py_None),
                           ref(s.reason)};
    out = dict_of(7, keys, values);
done:
    Py_XDECREF(trades);
    Py_XDECREF(ts);
    return out;
}

/* One order's result as orjson writes order_result's dict (after a comma, with `comma`): 1; 0 when a text of it is
 * not written plainly (the caller then drops the whole body); -1 on error. */
static int
result_json(buffer *b, int comma, PyObject *oid, const summary *s)
{
    if (room(b, 160 + (size_t)PyUnicode_GET_LENGTH(oid)) < 0) {
        return -1;
    }
    int ok = (!comma || put_s(b, ",")) && put_s(b, "{\"order_id\":") && put_plain(b, oid) && put_s(b, ",\"status\":")
             && put_plain(b, s->status) && put_s(b, ",\"filled\":") && put_ll(b, s->filled)
             && put_s(b, ",\"remaining\":") && put_ll(b, s->remaining)
             && put_s(b, ",\"trades\":[");
    int first = 1;
    for (uint32_t i = 0; ok && i < s->n; i++) {
        const mc_event *ev = &s->book[i];
        if (!own_trade(s, ev)) {
            continue;
        }
        if (room(b, 200 + (size_t)PyUnicode_GET_LENGTH(s->market)) < 0) {
            return -1;
        }
        ok = (first || put_s(b, ",")) && put_s(b, "{\"id\":\"") && put_u64(b, ev->trade_id)
             && put_s(b, "\",\"market\":") && put_plain(b, s->market)
             && put_s(b, ",\"price\":") && put_ll(b, ev->price)
             && put_s(b, ",\"quantity\":") && put_ll(b, ev->quantity)
             && put_s(b, ev->buy ? ",\"aggressor\":\"buy\",\"ts_ns\":"
                                 : ",\"aggressor\":\"sell\",\"ts_ns\":")
             && put_ll(b, s->clock) && put_s(b, "}");
        first = 0;
    }
    if (ok && room(b, 64) < 0) {
        return -1;
    }
    return ok && put_s(b, "],\"field\":null,\"reason\":")
           && (s->reason == Py_None ? put_s(b, "null") : put_plain(b, s->reason))
           && put_s(b, "}");
}

/* Order i's id and quantity as batch_answer reads them (new references): 1; 0 when they
 * are not an exact str and an int within 64 bits; -1 on error. */
static int
order_of(PyObject *order, PyObject *outcome, PyObject **oid, long long *quantity)
{
    *oid = NULL;
    if (!PyTuple_CheckExact(outcome) || PyTuple_GET_SIZE(outcome) != 2) {
        return 0;
    }
    PyObject *q;
    if (eb_fields_read(&order_quantity, order, &q) < 0) {
        return -1;
    }
    int overflow = 0;
    *quantity = PyLong_CheckExact(q) ? PyLong_AsLongLongAndOverflow(q, &overflow) : -1;
    Py_DECREF(q);
    if (PyErr_Occurred()) {
        return -1;
    }
    if (eb_fields_read(&command_id, PyTuple_GET_ITEM(outcome, 0), oid) < 0) {
        return -1;
    }
    return !overflow && PyUnicode_CheckExact(*oid);
}

/* batch_answer(orders, outcomes) -> bytes | None
 *
 * orjson.dumps({"results": [order_result(command.order_id, order.quantity, events) for
 * each order and its (command, events)]}) when every outcome is a place's native Events
 * and every text is written plainly; else None, and the caller takes that reference. */
PyObject *
eb_batch_answer(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *orders, *outcomes;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &orders, &PyList_Type, &outcomes)) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(orders);
    if (PyList_GET_SIZE(outcomes) != n) {
        PyErr_SetString(PyExc_ValueError, "batch_answer: as many outcomes as orders");
        return NULL;
    }
    buffer b = {NULL, 0, 0}; /* room up front for a result of one trade each */
    int ok = room(&b, 16 + (size_t)Py_MIN(n, 1024) * 256u) < 0 ? -1
                                                               : put_s(&b, "{\"results\":[");
    for (Py_ssize_t i = 0; ok > 0 && i < n; i++) {
        PyObject *oid, *outcome = PyList_GET_ITEM(outcomes, i);
        long long quantity;
        summary s;
        ok = order_of(PyList_GET_ITEM(orders, i), outcome, &oid, &quantity);
        if (ok > 0) {
            ok = summarize(PyTuple_GET_ITEM(outcome, 1), quantity, &s)
                     ? result_json(&b, i > 0, oid, &s) : 0;
        }
        Py_XDECREF(oid);
    }
    PyObject *out = NULL;
    if (ok > 0 && room(&b, 2) == 0) {
        put_s(&b, "]}");
        out = PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.n);
    } else if (ok == 0) {
        out = ref(Py_None);
    }
    PyMem_Free(b.p);
    return out;
}
