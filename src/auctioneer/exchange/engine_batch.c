/*
 * engine_batch.c - the service's order batches at C speed, at both ends of the
 * sequencer (auctioneer.service.routers.orders):
 *
 *  - place_orders: an HTTP batch's decoded orders to PlaceOrder commands, each
 *    admitted as Exchange.admit(held=False) would (account role, listed market,
 *    price and quantity ranges, the tick, post-only's time in force), the bids'
 *    cost summed. It stops at the first order it does not take whole, which the
 *    caller builds and admits in Python: that path words every refusal, so this
 *    one never needs to.
 *  - place_records: the journal records of a run of PlaceOrders, byte for byte what
 *    journal.encode_record writes, for those whose values it can write plainly.
 *  - valid_orders: whether every decoded order of a batch holds the rules its
 *    FastOrder.valid checks (one of market/markets, each an id, distinct; a price
 *    exactly for a limit order; no all-or-none or post-only for a market order).
 * Each is a fast path of Python code that stays as its reference (order_command +
 * admit, encode_record, FastOrder.valid); tests/service/test_batchpath.py,
 * tests/exchange/test_place_records.py and tests/service/test_fastbody.py hold them
 * equal. Part of the _engine binding
 * (see _engine.c).
 */
#include "engine_buffer.h"
#include "engine_fields.h"

/* What a decoded order (service.fastbody.FastOrder) holds: names, values. */
static PyObject *S_type, *S_limit, *S_markets_;

/* The fields of a decoded order that place_orders and valid_orders read. */
static PyObject *taken_names[9], *valid_names[6];
static eb_fields taken = {NULL, 9, taken_names, {0}, {0}};
static eb_fields checked = {NULL, 6, valid_names, {0}, {0}};

/* Where PlaceOrder's slots lie, in the order of its fields. */
#define N_SLOTS 10
static Py_ssize_t place_offset[N_SLOTS];

static inline PyObject **
place_slot(PyObject *cmd, int i)
{
    return (PyObject **)((char *)cmd + place_offset[i]);
}

int
eb_setup_batch(void)
{
    const eb_name names[] = {{&S_type, "type"}, {&S_limit, "limit"}, {&S_markets_, "markets_"}};
    if (eb_intern_all(names, sizeof names / sizeof names[0]) < 0) {
        return -1;
    }
    PyObject *take[9] = {S_type, S_markets_, A_market, A_side, A_price, A_quantity, A_tif,
                         A_aon, A_post_only};
    PyObject *check[6] = {S_markets_, A_market, S_type, A_price, A_aon, A_post_only};
    memcpy(taken_names, take, sizeof take);
    memcpy(valid_names, check, sizeof check);
    /* A frozen dataclass refuses setattr: its generated __init__ sets each slot through
     * object.__setattr__. Here each is written at its member's offset in a fresh object
     * (every slot still empty), which is what the slot's descriptor would do. */
    PyObject *fields[N_SLOTS] = {A_order_id, A_account, A_side, A_markets, A_price,
                                 A_quantity, A_tif, A_aon, A_post_only, A_ts};
    for (int i = 0; i < N_SLOTS; i++) {
        PyObject *descr = PyDict_GetItemWithError(T_place->tp_dict, fields[i]);
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)
            || ((PyMemberDescrObject *)descr)->d_member->type != T_OBJECT_EX) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_TypeError, "PlaceOrder.%U is not a slot", fields[i]);
            }
            return -1;
        }
        place_offset[i] = ((PyMemberDescrObject *)descr)->d_member->offset;
    }
    return 0;
}

/* A positive int up to `max` (exact int): its value, else 0. */
static int64_t
bounded(PyObject *obj, int64_t max)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || v <= 0 || v > max) {
        PyErr_Clear();
        return 0;
    }
    return (int64_t)v;
}

/* A new PlaceOrder with these fields (stolen: each may be NULL after a failed
 * allocation, and the call then fails); NULL on error. */
static PyObject *
place(PyObject *values[N_SLOTS])
{
    PyObject *cmd = NULL;
    for (int i = 0; i < N_SLOTS; i++) {
        if (values[i] == NULL) {
            goto done;
        }
    }
    cmd = T_place->tp_alloc(T_place, 0);
    if (cmd != NULL) {
        for (int i = 0; i < N_SLOTS; i++) {
            *place_slot(cmd, i) = values[i]; /* stolen */
        }
        return cmd;
    }
done:
    for (int i = 0; i < N_SLOTS; i++) {
        Py_XDECREF(values[i]);
    }
    return cmd;
}

/* Whether `order` is a single-market limit order place_orders takes whole: 1 (and its
 * fields in `out`, borrowed, its price and quantity), 0, or -1 on error. */
static int
takes(PyObject *order, int role, PyObject *ticks, PyObject **side, PyObject **market,
      PyObject **tif, PyObject **aon, PyObject **post_only, int64_t *price, int64_t *quantity)
{
    PyObject *got[9] = {NULL};
    int rc = -1;
    if (eb_fields_read(&taken, order, got) < 0) { /* not an order as decoded: the caller's
                                                     path judges it */
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            rc = 0;
        }
        goto done;
    }
    rc = 0;
    PyObject *type = got[0], *many = got[1], *m = got[2], *s = got[3], *t = got[6];
    if (!PyUnicode_CheckExact(type) || PyUnicode_Compare(type, S_limit) != 0
        || many != Py_None || !PyUnicode_CheckExact(m) || !PyUnicode_CheckExact(s)
        || (t != Py_None && !PyUnicode_CheckExact(t))) {
        goto done;
    }
    PyObject *tick_obj = PyDict_GetItemWithError(ticks, m);
    if (tick_obj == NULL) {
        rc = PyErr_Occurred() ? -1 : 0;
        goto done;
    }
    int64_t tick = bounded(tick_obj, INT64_MAX);
    if (PyUnicode_Compare(s, W_buy) == 0) {
        *side = BUY;
        if (role != EC_TRADER && role != EC_PROVIDER) {
            goto done;
        }
    } else if (PyUnicode_Compare(s, W_sell) == 0) {
        *side = SELL;
        if (role != EC_PROVIDER) {
            goto done;
        }
    } else {
        goto done;
    }
    if (t == Py_None || PyUnicode_Compare(t, W_tif[MC_GTC]) == 0) {
        *tif = GTC;
    } else if (PyUnicode_Compare(t, W_tif[MC_IOC]) == 0) {
        *tif = IOC;
    } else if (PyUnicode_Compare(t, W_tif[MC_FOK]) == 0) {
        *tif = FOK;
    } else {
        goto done;
    }
    *price = bounded(got[4], MC_PRICE_MAX);
    *quantity = bounded(got[5], MC_QUANTITY_MAX);
    *aon = got[7];
    *post_only = got[8];
    if (tick <= 0 || *price == 0 || *quantity == 0 || *price % tick != 0
        || (*aon != Py_True && *aon != Py_False)
        || (*post_only != Py_True && *post_only != Py_False)
        || (*post_only == Py_True && *tif != GTC)) {
        goto done;
    }
    *market = m;
    rc = 1;
done:
    for (int i = 0; i < 9; i++) {
        Py_XDECREF(got[i]);
    }
    return rc;
}

/* sequencer.order_id(ts): "o" and ts in lower-case hex (ts >= 0); NULL on error. */
static PyObject *
order_id(long long ts)
{
    char hex[16];
    int n = 0;
    unsigned long long v = (unsigned long long)ts;
    do {
        hex[n++] = "0123456789abcdef"[v & 15u];
        v >>= 4;
    } while (v != 0);
    PyObject *id = PyUnicode_New(n + 1, 127);
    if (id != NULL) {
        Py_UCS1 *out = PyUnicode_1BYTE_DATA(id);
        out[0] = 'o';
        for (int k = 0; k < n; k++) {
            out[1 + k] = (Py_UCS1)hex[n - 1 - k];
        }
    }
    return id;
}

/* place_orders(orders, start, out, account, role, ticks, first_ts) -> (stop, cost)
 *
 * For orders[start:] while each is one place_orders takes (see takes()): append its
 * PlaceOrder to `out` (id "o<ts in hex>", stamped first_ts + its index), and add a bid's
 * price x quantity to `cost`. Stops at the first other order (or at the end): `stop` is
 * its index. `role` is the account's (0 trader, 1 provider, 2 admin; -1: none, so no
 * order is taken); `ticks` maps each listed market to its tick. */
PyObject *
eb_place_orders(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *orders, *out, *account, *ticks;
    Py_ssize_t start;
    int role;
    long long first_ts;
    if (!PyArg_ParseTuple(args, "O!nO!UiO!L", &PyList_Type, &orders, &start, &PyList_Type,
                          &out, &account, &role, &PyDict_Type, &ticks, &first_ts)) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(orders);
    if (start < 0 || first_ts < 0 || n > INT32_MAX || first_ts > INT64_MAX - n) {
        PyErr_SetString(PyExc_ValueError, "place_orders: start or first_ts out of range");
        return NULL;
    }
    unsigned __int128 cost = 0;
    Py_ssize_t i = start;
    for (; i < n; i++) {
        PyObject *side = NULL, *market = NULL, *tif = NULL, *aon = NULL, *post = NULL;
        int64_t price = 0, quantity = 0;
        int ok = takes(PyList_GET_ITEM(orders, i), role, ticks, &side, &market, &tif, &aon,
                       &post, &price, &quantity);
        if (ok < 0) {
            return NULL;
        }
        if (!ok) {
            break;
        }
        long long ts = first_ts + (long long)i;
        PyObject *values[N_SLOTS] = {
            order_id(ts), ref(account), ref(side),
            PyTuple_Pack(1, market),
            PyLong_FromLongLong(price), PyLong_FromLongLong(quantity), ref(tif), ref(aon),
            ref(post), PyLong_FromLongLong(ts)};
        if (push(out, place(values)) < 0) {
            return NULL;
        }
        if (side == BUY) {
            cost += (unsigned __int128)price * (unsigned __int128)quantity;
        }
    }
    /* The sum can pass 64 bits (MC_PRICE_MAX x MC_QUANTITY_MAX already does). */
    PyObject *total = _PyLong_FromByteArray((const unsigned char *)&cost, sizeof cost, 1, 0);
    if (total == NULL) {
        return NULL;
    }
    return Py_BuildValue("(nN)", i, total);
}

/* ------------------------------------------------------------ validity */

static inline int
id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Whether `text` matches fastbody's market id pattern,
 * [a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*\Z (one slash; each part starts with a letter or
 * digit): 1, 0, or -1 with the TypeError the pattern raises for what is not a str. */
static int
market_id(PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "a market id is a str, not %R", text);
        return -1;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        return 0;
    }
    const unsigned char *c = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), slash = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (c[i] == '/' && slash < 0) {
            slash = i;
        } else if (!id_char(c[i])) {
            return 0;
        }
    }
    return slash > 0 && slash + 1 < n && c[0] != '.' && c[0] != '_' && c[0] != '-'
           && c[slash + 1] != '.' && c[slash + 1] != '_' && c[slash + 1] != '-';
}

/* FastOrder.valid's check of `many` (its markets_): distinct market ids. 1, 0, or -1. */
static int
markets_valid(PyObject *many)
{
    if (PyList_CheckExact(many) || PyTuple_CheckExact(many)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(many);
        PyObject **item = PySequence_Fast_ITEMS(many);
        int plain = 1;
        for (Py_ssize_t i = 0; plain && i < n; i++) {
            plain = PyUnicode_CheckExact(item[i]);
        }
        if (plain) { /* nothing below runs Python code: `many` stays as it is */
            for (Py_ssize_t i = 0; i < n; i++) {
                if (!market_id(item[i])) {
                    return 0;
                }
                for (Py_ssize_t k = 0; k < i; k++) { /* at most 16 (the decoder's bound) */
                    if (PyUnicode_Compare(item[i], item[k]) == 0) {
                        return 0;
                    }
                }
            }
            return 1;
        }
    }
    /* Anything else as the reference reads it: len(set(many)) == len(many), then each. */
    PyObject *seen = PySet_New(many);
    if (seen == NULL) {
        return -1;
    }
    Py_ssize_t distinct = PySet_GET_SIZE(seen), n = PyObject_Size(many);
    Py_DECREF(seen);
    if (n < 0 || distinct != n) {
        return n < 0 ? -1 : 0;
    }
    PyObject *it = PyObject_GetIter(many), *m;
    int rc = it == NULL ? -1 : 1;
    while (rc == 1 && (m = PyIter_Next(it)) != NULL) {
        rc = market_id(m);
        Py_DECREF(m);
    }
    Py_XDECREF(it);
    return PyErr_Occurred() ? -1 : rc;
}

/* FastOrder.valid for one order: 1, 0, or -1 on error. */
static int
valid_order(PyObject *order)
{
    PyObject *got[6] = {NULL};
    int rc = -1;
    if (eb_fields_read(&checked, order, got) < 0) {
        goto done;
    }
    PyObject *many = got[0], *one = got[1], *type = got[2], *price = got[3];
    rc = 0;
    rc = many != Py_None ? one == Py_None ? markets_valid(many) : 0
         : one == Py_None ? 0 : market_id(one);
    if (rc <= 0) {
        goto done;
    }
    int limit = PyObject_RichCompareBool(type, S_limit, Py_EQ); /* as `type == "limit"` */
    if (limit != 0) {
        rc = limit < 0 ? -1 : price != Py_None;
        goto done;
    }
    int aon = PyObject_IsTrue(got[4]), post = aon < 0 ? -1 : PyObject_IsTrue(got[5]);
    rc = aon < 0 || post < 0 ? -1 : price == Py_None && !aon && !post;
done:
    for (int i = 0; i < 6; i++) {
        Py_XDECREF(got[i]);
    }
    return rc;
}

/* valid_orders(orders) -> bool: FastOrder.valid of each (a list), all true. */
PyObject *
eb_valid_orders(PyObject *module, PyObject *orders)
{
    (void)module;
    if (!PyList_CheckExact(orders)) {
        PyErr_SetString(PyExc_TypeError, "valid_orders takes a list of decoded orders");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(orders); i++) {
        int ok = valid_order(PyList_GET_ITEM(orders, i));
        if (ok <= 0) {
            return ok < 0 ? NULL : ref(Py_False);
        }
    }
    return ref(Py_True);
}

/* ------------------------------------------------------------ journal records */

/* PlaceOrder `cmd`'s canonical JSON (codec.encode_command_json): 1; 0 when one of its
 * values is not written plainly here (b->n is then where it was); -1 on error. */
static int
place_json(buffer *b, PyObject *cmd)
{
    PyObject *v[N_SLOTS]; /* borrowed: cmd holds them */
    for (int i = 0; i < N_SLOTS; i++) {
        if ((v[i] = *place_slot(cmd, i)) == NULL) {
            return 0; /* an empty slot: encode_record says what is missing */
        }
    }
    PyObject *oid = v[0], *account = v[1], *side = v[2], *markets = v[3], *price = v[4],
             *quantity = v[5], *tif = v[6], *aon = v[7], *post = v[8], *ts = v[9];
    size_t start = b->n, need = 256;
    int ok = PyTuple_CheckExact(markets);
    for (Py_ssize_t k = 0; ok && k < PyTuple_GET_SIZE(markets); k++) {
        PyObject *m = PyTuple_GET_ITEM(markets, k);
        ok = PyUnicode_CheckExact(m);
        need += ok ? (size_t)PyUnicode_GET_LENGTH(m) + 3 : 0;
    }
    ok = ok && PyUnicode_CheckExact(oid) && PyUnicode_CheckExact(account)
         && (side == BUY || side == SELL) && (tif == GTC || tif == IOC || tif == FOK)
         && (aon == Py_True || aon == Py_False) && (post == Py_True || post == Py_False);
    if (ok) {
        need += (size_t)PyUnicode_GET_LENGTH(oid) + (size_t)PyUnicode_GET_LENGTH(account);
        if (room(b, need) < 0) {
            ok = -1;
            goto done;
        }
        /* The fields sorted by name, then "type" (codec: it sorts after every one). */
        ok = put_s(b, "{\"account\":") && put_plain(b, account)
             && put_s(b, aon == Py_True ? ",\"all_or_none\":true,\"markets\":["
                                        : ",\"all_or_none\":false,\"markets\":[");
        for (Py_ssize_t k = 0; ok && k < PyTuple_GET_SIZE(markets); k++) {
            ok = (k == 0 || put_s(b, ",")) && put_plain(b, PyTuple_GET_ITEM(markets, k));
        }
        ok = ok && put_s(b, "],\"order_id\":") && put_plain(b, oid)
             && put_s(b, post == Py_True ? ",\"post_only\":true,\"price\":"
                                         : ",\"post_only\":false,\"price\":")
             && put_int(b, price) && put_s(b, ",\"quantity\":") && put_int(b, quantity)
             && put_s(b, side == BUY ? ",\"side\":\"buy\",\"tif\":\""
                                     : ",\"side\":\"sell\",\"tif\":\"")
             && put_s(b, tif == GTC ? "gtc" : tif == IOC ? "ioc" : "fok")
             && put_s(b, "\",\"ts_ns\":") && put_int(b, ts)
             && put_s(b, ",\"type\":\"place_order\"}");
    }
done:
    if (ok == 0) {
        b->n = start;
    }
    return ok;
}

/* place_records(commands, start, seq) -> (records, stop)
 *
 * The journal records (journal.encode_record) of commands[start:], numbered from `seq`,
 * while each is an exact PlaceOrder place_json writes; `stop` is the index of the first
 * other command (or the end). */
PyObject *
eb_place_records(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *commands;
    Py_ssize_t start;
    unsigned long long seq;
    if (!PyArg_ParseTuple(args, "O!nK", &PyList_Type, &commands, &start, &seq)) {
        return NULL;
    }
    if (start < 0 || start > PyList_GET_SIZE(commands)) {
        PyErr_SetString(PyExc_ValueError, "place_records: start is out of range");
        return NULL;
    }
    buffer b = {NULL, 0, 0};
    /* Room for a batch's records at once (an order's is about 250 bytes): growing as it
     * went copied the buffer over and again. */
    if (room(&b, (size_t)Py_MIN(PyList_GET_SIZE(commands) - start, 1024) * 256u) < 0) {
        return NULL;
    }
    Py_ssize_t i = start;
    for (; i < PyList_GET_SIZE(commands); i++, seq++) {
        PyObject *cmd = PyList_GET_ITEM(commands, i);
        if (!Py_IS_TYPE(cmd, T_place) || room(&b, EB_RECORD_HEADER) < 0) {
            if (PyErr_Occurred()) {
                PyMem_Free(b.p);
                return NULL;
            }
            break;
        }
        size_t header = b.n;
        b.n += EB_RECORD_HEADER;
        int ok = place_json(&b, cmd);
        if (ok <= 0) {
            b.n = header;
            if (ok < 0) {
                PyMem_Free(b.p);
                return NULL;
            }
            break;
        }
        eb_frame_record((unsigned char *)b.p + header,
                        (uint32_t)(b.n - header - EB_RECORD_HEADER), seq);
    }
    PyObject *records = PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.n);
    PyMem_Free(b.p);
    return records == NULL ? NULL : Py_BuildValue("(Nn)", records, i);
}
