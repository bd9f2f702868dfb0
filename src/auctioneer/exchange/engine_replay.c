/*
 * engine_replay.c - journal replay without Python objects for the commands:
 * Core.replay(data, pos, last_seq) reads whole journal records (the format of
 * auctioneer/exchange/journal.py: a little-endian header of payload length,
 * CRC-32 of the sequence number then the payload, and the sequence number;
 * then the command's canonical JSON), and applies each in turn while its
 * sequence number follows, its checksum holds, its JSON is the canonical form
 * of a command the core takes (keys sorted, no spaces, no escapes, ints
 * within 64 bits) and the core applies it. It stops before the first record
 * that is not so -- a torn tail, damage, another command, a refusal -- having
 * changed nothing for it; the journal reader takes that record on its own path.
 * Events are not built (replay discards them) but trades still reach the price
 * index and the tape. Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <string.h>

#define HEADER 16u
#define MAX_RECORD (UINT32_C(1) << 24)
#define MAX_KEYS 12

/* ---------------------------------------------------------------- CRC-32 */

/* Slice-by-8: crc_table[k][b] is the CRC of byte b followed by k zero bytes, so eight
 * bytes fold in with eight independent lookups instead of a chain of eight. */
static uint32_t crc_table[8][256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256u; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? UINT32_C(0xEDB88320) ^ (c >> 1) : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256u; i++) {
        for (int k = 1; k < 8; k++) {
            uint32_t c = crc_table[k - 1][i];
            crc_table[k][i] = crc_table[0][c & 0xffu] ^ (c >> 8);
        }
    }
}

/* zlib.crc32(data, crc): the same polynomial, reflection and conditioning. */
static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    if (crc_table[0][1] == 0) {
        crc_init();
    }
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
                             | (uint32_t)p[3] << 24);
        crc = crc_table[7][lo & 0xffu] ^ crc_table[6][(lo >> 8) & 0xffu]
              ^ crc_table[5][(lo >> 16) & 0xffu] ^ crc_table[4][lo >> 24]
              ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]]
              ^ crc_table[0][p[7]];
    }
    while (n--) {
        crc = crc_table[0][(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    }
    return ~crc;
}

/* crc32(data, crc) -> int: zlib.crc32's value, from the replay's own code (for its test). */
PyObject *
eb_crc32(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer buf;
    unsigned int crc;
    if (!PyArg_ParseTuple(args, "y*I", &buf, &crc)) {
        return NULL;
    }
    uint32_t out = crc32_update(crc, buf.buf, (size_t)buf.len);
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong(out);
}

static uint64_t
le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* ------------------------------------------------------------------ JSON */

enum { J_STR, J_INT, J_TRUE, J_FALSE, J_NULL, J_ONE_STR };

typedef struct {
    const char *key, *s;
    size_t klen, slen;
    int kind;
    int64_t i;
} jfield;

/* A string without escapes or control characters at *p (past its opening quote): its end
 * (the closing quote), or NULL. */
static const char *
string_end(const char *p, const char *end)
{
    for (; p < end; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') {
            return p;
        }
        if (ch == '\\' || ch < 0x20u) {
            return NULL;
        }
    }
    return NULL;
}

/* An int as JSON writes one (no leading zeros, no fraction or exponent) within int64. */
static const char *
parse_int(const char *p, const char *end, int64_t *out)
{
    int negative = p < end && *p == '-';
    p += negative;
    if (p == end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < end && p[1] >= '0'
                                               && p[1] <= '9')) {
        return NULL;
    }
    int64_t v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        int64_t digit = *p - '0';
        if (__builtin_mul_overflow(v, 10, &v)
            || __builtin_add_overflow(v, negative ? -digit : digit, &v)) {
            return NULL;
        }
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
        return NULL;
    }
    *out = v;
    return p;
}

static const char *
literal(const char *p, const char *end, const char *word, int kind, jfield *f)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0) {
        return NULL;
    }
    f->kind = kind;
    return p + n;
}

/* One value into f: its end, or NULL when it is not one this parser takes. */
static const char *
value(const char *p, const char *end, jfield *f)
{
    if (p == end) {
        return NULL;
    }
    if (*p == '"') {
        const char *close = string_end(p + 1, end);
        if (close == NULL) {
            return NULL;
        }
        f->kind = J_STR;
        f->s = p + 1;
        f->slen = (size_t)(close - p - 1);
        return close + 1;
    }
    if (*p == '[') { /* exactly one string */
        if (end - p < 2 || p[1] != '"') {
            return NULL;
        }
        const char *close = string_end(p + 2, end);
        if (close == NULL || close + 1 >= end || close[1] != ']') {
            return NULL;
        }
        f->kind = J_ONE_STR;
        f->s = p + 2;
        f->slen = (size_t)(close - p - 2);
        return close + 2;
    }
    if (*p == 't') {
        return literal(p, end, "true", J_TRUE, f);
    }
    if (*p == 'f') {
        return literal(p, end, "false", J_FALSE, f);
    }
    if (*p == 'n') {
        return literal(p, end, "null", J_NULL, f);
    }
    f->kind = J_INT;
    return parse_int(p, end, &f->i);
}

/* The members of a compact JSON object: how many, or -1 when it is not one this parser
 * takes (whitespace, escapes, nesting, floats, more than MAX_KEYS members...). */
static int
members(const char *p, const char *end, jfield *out)
{
    if (p == end || *p++ != '{') {
        return -1;
    }
    int n = 0;
    while (p < end && n < MAX_KEYS) {
        jfield *f = &out[n++];
        if (*p++ != '"') {
            return -1;
        }
        const char *close = string_end(p, end);
        if (close == NULL || close + 1 >= end || close[1] != ':') {
            return -1;
        }
        f->key = p;
        f->klen = (size_t)(close - p);
        p = value(close + 2, end, f);
        if (p == NULL || p == end) {
            return -1;
        }
        if (*p == '}') {
            return p + 1 == end ? n : -1;
        }
        if (*p++ != ',') {
            return -1;
        }
    }
    return -1;
}

static const jfield *
member(const jfield *fields, int n, PyObject *name)
{
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(name, &len);
    for (int i = 0; text != NULL && i < n; i++) {
        if (fields[i].klen == (size_t)len && memcmp(fields[i].key, text, fields[i].klen) == 0) {
            return &fields[i];
        }
    }
    return NULL;
}

static int
is(const jfield *f, const char *word)
{
    return f->kind == J_STR && f->slen == strlen(word) && memcmp(f->s, word, f->slen) == 0;
}

/* The command field `name` as the decoder would make it: a new reference; Py_None (also a
 * new reference) as "not taken here" is told apart by *taken = 0; NULL on error. */
static PyObject *
field_object(CoreObject *self, PyObject *name, const jfield *f, int *taken)
{
    *taken = 1;
    if (name == A_side || name == A_tif) {
        PyObject *found = name == A_side ? (is(f, "buy") ? BUY : is(f, "sell") ? SELL : NULL)
                          : is(f, "gtc") ? GTC : is(f, "ioc") ? IOC : is(f, "fok") ? FOK : NULL;
        *taken = found != NULL;
        return ref(found != NULL ? found : Py_None);
    }
    switch (f->kind) {
    case J_STR: {
        PyObject *s = PyUnicode_DecodeUTF8(f->s, (Py_ssize_t)f->slen, NULL);
        if (s == NULL) {
            PyErr_Clear();
            *taken = 0;
            return ref(Py_None);
        }
        return s;
    }
    case J_INT:
        return PyLong_FromLongLong(f->i);
    case J_TRUE:
        return ref(Py_True);
    case J_FALSE:
        return ref(Py_False);
    case J_NULL:
        return ref(Py_None);
    default: { /* one market: the core's own tuple for it */
        PyObject *market = PyUnicode_DecodeUTF8(f->s, (Py_ssize_t)f->slen, NULL);
        PyObject *number = market == NULL || name != A_markets
                               ? NULL
                               : PyDict_GetItemWithError(self->market_index, market);
        Py_XDECREF(market);
        if (number == NULL) {
            if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
                return NULL;
            }
            PyErr_Clear();
            *taken = 0;
            return ref(Py_None);
        }
        return ref(PyList_GET_ITEM(self->market_tuples, PyLong_AsSsize_t(number)));
    }
    }
}

/* Apply the command in `payload`: 1 when the core applied it, 0 when it was not taken here
 * (nothing changed), -1 on error. */
static int
apply_json(CoreObject *self, const char *payload, size_t length)
{
    jfield fields[MAX_KEYS];
    int n = members(payload, payload + length, fields);
    const eb_handler *handler = NULL;
    for (int i = 0; i < n && handler == NULL; i++) {
        if (fields[i].klen == 4 && memcmp(fields[i].key, "type", 4) == 0) {
            for (int h = 0; h < EB_HANDLERS; h++) {
                Py_ssize_t len;
                const char *kind = PyUnicode_AsUTF8AndSize(*eb_handlers[h].kind, &len);
                if (kind != NULL && fields[i].kind == J_STR && fields[i].slen == (size_t)len
                    && memcmp(fields[i].s, kind, fields[i].slen) == 0) {
                    handler = &eb_handlers[h];
                }
            }
        }
    }
    if (handler == NULL || n != handler->n + 1) {
        return 0;
    }
    PyObject *values[EB_MAX_FIELDS];
    int made = 0, taken = 1, rc = 0;
    for (; made < handler->n && taken; made++) {
        const jfield *f = member(fields, n, *handler->fields[made]);
        if (f == NULL) {
            taken = 0;
            break;
        }
        values[made] = field_object(self, *handler->fields[made], f, &taken);
        if (values[made] == NULL) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && taken) {
        PyObject *events = handler->run(self, values, handler->flag);
        rc = events == NULL ? -1 : events != FALLBACK;
        Py_XDECREF(events);
    }
    for (int i = 0; i < made && i < handler->n; i++) {
        Py_XDECREF(values[i]);
    }
    return rc;
}

/* The record at data[pos..) when it is whole, its checksum holds and its sequence number
 * is `next` (any when next is 0): its payload length and sequence number, 1; else 0. */
static int
whole_record(const unsigned char *data, Py_ssize_t size, Py_ssize_t pos, uint64_t next,
             uint32_t *length, uint64_t *seq)
{
    if (pos < 0 || size - pos < (Py_ssize_t)HEADER) {
        return 0;
    }
    const unsigned char *head = data + pos;
    uint32_t n = (uint32_t)le(head, 4), crc = (uint32_t)le(head + 4, 4);
    uint64_t s = le(head + 8, 8);
    if (n > MAX_RECORD || (Py_ssize_t)n > size - pos - (Py_ssize_t)HEADER
        || (next != 0 && s != next)
        || crc32_update(crc32_update(0, head + 8, 8), head + HEADER, n) != crc) {
        return 0;
    }
    *length = n;
    *seq = s;
    return 1;
}

/* scan(data, pos, previous, upto) -> (pos, previous): pass over the whole records from
 * offset pos on whose checksums hold, each numbered one after the one before (the first
 * after `previous`, any when previous is -1) and none past `upto`: where it stopped, and
 * the last number passed (`previous` when none). The journal's own checks, in C, for the
 * records a reader skips. */
PyObject *
eb_scan(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer buf;
    Py_ssize_t pos;
    long long previous;
    unsigned long long upto;
    if (!PyArg_ParseTuple(args, "y*nLK", &buf, &pos, &previous, &upto)) {
        return NULL;
    }
    uint32_t length;
    uint64_t seq;
    while (whole_record(buf.buf, buf.len, pos, previous < 0 ? 0 : (uint64_t)previous + 1u,
                        &length, &seq)
           && seq <= upto && seq <= (uint64_t)INT64_MAX) {
        pos += (Py_ssize_t)(HEADER + length);
        previous = (long long)seq;
    }
    PyBuffer_Release(&buf);
    return Py_BuildValue("nL", pos, previous);
}

/* ---------------------------------------------------------------- replay */

/* replay(data, pos, last_seq) -> (pos, last_seq): see the top of this file. */
PyObject *
Core_replay(CoreObject *self, PyObject *args)
{
    Py_buffer buf;
    Py_ssize_t pos;
    unsigned long long last;
    if (!PyArg_ParseTuple(args, "y*nK", &buf, &pos, &last)) {
        return NULL;
    }
    const unsigned char *data = buf.buf;
    int rc = 0;
    uint32_t length;
    uint64_t seq;
    self->quiet = 1;
    while (last < (unsigned long long)INT64_MAX
           && whole_record(data, buf.len, pos, last + 1u, &length, &seq)) {
        rc = apply_json(self, (const char *)data + pos + HEADER, length);
        if (rc <= 0) {
            break;
        }
        pos += (Py_ssize_t)(HEADER + length);
        last = seq;
    }
    self->quiet = 0;
    PyBuffer_Release(&buf);
    return rc < 0 ? NULL : Py_BuildValue("nK", pos, last);
}
