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
 * Each command is read into C values (strings must be ASCII, ints within their
 * fields' ranges, checked here where they cross into C) and applied by the
 * core with no Python object made: order ids, accounts and markets are looked
 * up in C (engine_names.c), and events are not built (replay discards them);
 * trades wait in C for the price index and the tape (engine_tape.c). Part of
 * the _engine binding (see _engine.c).
 *
 * Reading: a record as the journal writes it (its type's keys in order) is read in one
 * pass against that type's field list (canonical()), with engine_json.h's scanners and a
 * small cache of the names this replay saw (find_name()); any other form falls to the
 * general reader (members()), which takes exactly the same commands. Applying: each
 * command's handler in engine_rapply.c.
 */
#include "engine_binding.h"
#include "engine_changes.h"
#include "engine_json.h"

#include <string.h>

/* ------------------------------------------------------- typed commands */

/* What a command's field must be for replay to take it. */
enum {
    R_ID,       /* a non-empty ASCII string: an order id */
    R_ACCOUNT,  /* an ASCII string naming an account */
    R_MARKET,   /* an ASCII string naming a market */
    R_MARKETS,  /* a list of such strings: one, or 2..MC_CROSS_MAX for a cross-market bid */
    R_SIDE,     /* "buy" or "sell" */
    R_TIF,      /* "gtc", "ioc" or "fok" */
    R_FALSE,    /* false */
    R_BOOL,     /* true or false */
    R_PRICE,    /* an int in 1..MC_PRICE_MAX */
    R_QUANTITY, /* an int in 1..MC_QUANTITY_MAX */
    R_AMOUNT,   /* an int in 1..EC_MONEY_MAX */
    R_TS,       /* an int in 0..EC_MONEY_MAX */
    R_OR_NULL = 16, /* with one of the ints: or null */
};

/* A command replay takes: its fields in the order of their keys, as the journal's
 * canonical JSON writes them (with "type", which sorts after them all, last). */
typedef struct {
    const char *type;
    const char *tail; /* how its canonical JSON ends: ,"type":"<type>"} */
    size_t tail_len;
    int (*run)(CoreObject *self, const rcmd *c, int flag);
    int flag;
    int n;
    struct {
        const char *quoted; /* "<key>": -- the key is quoted + 1, klen bytes */
        size_t klen;
        int kind;
    } fields[EB_MAX_FIELDS];
} rspec;

#define T(type) type, ",\"type\":\"" type "\"}", sizeof(",\"type\":\"" type "\"}") - 1u
#define F(key, kind) {"\"" key "\":", sizeof(key) - 1u, kind}

/* Accounts and markets a replay named lately, keyed by their text, which stays in the
 * journal's buffer for the whole replay: a hit skips hashing the name. Neither table loses
 * a name while a replay runs. */
enum { RECENT = 16 };
typedef struct {
    struct {
        const char *s;
        size_t n;
        int64_t k;
    } slot[2][RECENT]; /* accounts, markets */
    uint8_t latest[2][2]; /* of each, the slots of the last two names found, the last first */
} recent;

/* Slot `at` of `which` just named a name: the latest of the two. */
static inline void
named(recent *r, int which, size_t at)
{
    if (r->latest[which][0] != at) {
        r->latest[which][1] = r->latest[which][0];
        r->latest[which][0] = (uint8_t)at;
    }
}

/* Name s[0..n) in `names` (accounts: which 0, markets: 1): its number, or -1. */
static int64_t
find_name(const eb_names *names, recent *r, int which, const char *s, size_t n)
{
    if (n == 0) {
        return eb_names_find(names, s, n, eb_hash(s, n));
    }
    size_t at = (n * 31u + (unsigned char)s[0] * 7u + (unsigned char)s[n - 1u]) % RECENT;
    __typeof__(r->slot[0][0]) *slot = &r->slot[which][at];
    if (slot->n == n && slot->s != NULL && same(slot->s, s, n)) {
        named(r, which, at);
        return slot->k;
    }
    int64_t k = eb_names_find(names, s, n, eb_hash(s, n));
    if (k >= 0) {
        *slot = (__typeof__(*slot)){s, n, k};
        named(r, which, at);
    }
    return k;
}

/* The string at s (past its opening quote, before end) when it is one of the last two names
 * of `which` found (their bytes, then the closing quote; they were checked as strings when
 * first found): its closing quote, its number in *k; else NULL. */
static inline const char *
latest_name(const recent *r, int which, const char *s, const char *end, int64_t *k)
{
    for (int i = 0; i < 2; i++) {
        const __typeof__(r->slot[0][0]) *slot = &r->slot[which][r->latest[which][i]];
        if (slot->s != NULL && (size_t)(end - s) > slot->n && s[slot->n] == '"'
            && same(s, slot->s, slot->n)) {
            *k = slot->k;
            return s + slot->n;
        }
    }
    return NULL;
}

static int
text_is(const jfield *f, const char *word)
{
    return f->slen == strlen(word) && same(f->s, word, f->slen);
}

/* Whether v is within the range of int field `kind`. */
static inline int
in_range(int kind, int64_t v)
{
    int base = kind & ~R_OR_NULL;
    int64_t hi = base == R_PRICE ? MC_PRICE_MAX : base == R_QUANTITY ? MC_QUANTITY_MAX
                                                                       : EC_MONEY_MAX;
    return v >= (base == R_TS ? 0 : 1) && v <= hi;
}

/* Where c keeps int field `base`. */
static inline int64_t *
int_slot(rcmd *c, int base)
{
    return base == R_PRICE ? &c->price : base == R_QUANTITY ? &c->quantity
                                     : base == R_AMOUNT   ? &c->amount
                                                          : &c->ts;
}

/* A string field (an id, account, market or the one market of a list), s[0..n) of ASCII,
 * into c: 1 when replay takes it, else 0. */
static inline __attribute__((always_inline)) int
take_text(const CoreObject *self, recent *r, int base, const char *s, size_t n, rcmd *c)
{
    if (base == R_ID) {
        c->id = s;
        c->id_len = n;
        c->id_hash = eb_hash(s, n);
        return n > 0;
    }
    int market = base != R_ACCOUNT;
    int64_t k = find_name(market ? &self->market_names : &self->account_names, r, market, s, n);
    *(market ? &c->market : &c->account) = (uint32_t)k;
    return k >= 0;
}

/* Field f of kind `kind` into c: 1 when replay takes it, else 0. */
static int
take_field(const CoreObject *self, recent *r, const jfield *f, int kind, rcmd *c)
{
    int base = kind & ~R_OR_NULL;
    if (base <= R_MARKETS) {
        return f->kind == (base == R_MARKETS ? J_ONE_STR : J_STR)
               && take_text(self, r, base, f->s, f->slen, c);
    }
    switch (base) {
    case R_SIDE:
        c->buy = f->kind == J_STR && text_is(f, "buy");
        return f->kind == J_STR && (c->buy || text_is(f, "sell"));
    case R_TIF:
        c->tif = f->kind != J_STR ? -1
                 : text_is(f, "gtc") ? MC_GTC
                 : text_is(f, "ioc") ? MC_IOC
                 : text_is(f, "fok") ? MC_FOK
                                     : -1;
        return c->tif >= 0;
    case R_FALSE:
        return f->kind == J_FALSE;
    case R_BOOL:
        c->aon = f->kind == J_TRUE;
        return c->aon || f->kind == J_FALSE;
    default:
        if ((kind & R_OR_NULL) && f->kind == J_NULL) {
            *int_slot(c, base) = -1;
            return 1;
        }
        if (f->kind != J_INT || !in_range(kind, f->i)) {
            return 0;
        }
        *int_slot(c, base) = f->i;
        return 1;
    }
}

/* The list of markets at p whose first name closes at `close`, followed by more: a
 * cross-market bid's (from MC_CROSS_MAX on, the gate's). Its first market's number into
 * c->market (k, when `latest` found it), its names' span and count into c (each name a
 * string, looked up when it is applied): past the list, or NULL. */
static __attribute__((noinline)) const char *
cross_markets(const CoreObject *self, recent *r, const char *p, const char *close,
              const char *end, int latest, int64_t k, rcmd *c)
{
    if (!latest && !take_text(self, r, R_MARKETS, p + 2, (size_t)(close - p - 2), c)) {
        return NULL;
    }
    c->market = latest ? (uint32_t)k : c->market;
    uint32_t n = 1;
    const char *q = close + 1;
    while (q != NULL && end - q > 1 && q[0] == ',' && q[1] == '"' && n < MC_CROSS_MAX) {
        q = string_end(q + 2, end);
        q = q == NULL ? NULL : q + 1;
        n++;
    }
    if (q == NULL || q == end || *q != ']') {
        return NULL;
    }
    c->markets = p + 1;
    c->markets_len = (size_t)(q - p - 1);
    c->n_markets = n;
    return q + 1;
}

/* Field `kind` of a canonical record, its value at p, into c: past the value, or NULL when
 * replay does not take it. Each value is read by what its field must be, not by what its
 * first byte says, and only as value() and take_field() would read it too. */
static inline __attribute__((always_inline)) const char *
canonical_value(const CoreObject *self, recent *r, int kind, const char *p, const char *end,
                rcmd *c)
{
    int base = kind & ~R_OR_NULL;
    size_t left = (size_t)(end - p);
    if (base <= R_MARKETS) {
        size_t list = base == R_MARKETS;
        if (left < 3u + 2u * list || p[0] != (list ? '[' : '"') || p[list] != '"') {
            return NULL;
        }
        const char *s = p + 1 + list, *close;
        int64_t k;
        int latest = base != R_ID && (close = latest_name(r, base != R_ACCOUNT, s, end, &k));
        if (!latest) {
            close = string_end(s, end);
        }
        if (close != NULL && list && close + 1 < end && close[1] == ',') {
            return cross_markets(self, r, p, close, end, latest, k, c);
        }
        if (close == NULL || (list && (close + 1 >= end || close[1] != ']'))) {
            return NULL;
        }
        if (latest) { /* what take_text would find for it */
            *(base != R_ACCOUNT ? &c->market : &c->account) = (uint32_t)k;
            return close + 1 + list;
        }
        return take_text(self, r, base, s, (size_t)(close - s), c) ? close + 1 + list : NULL;
    }
    switch (base) {
    case R_SIDE:
        c->buy = left >= 5 && same(p, "\"buy\"", 5);
        return c->buy ? p + 5 : left >= 6 && same(p, "\"sell\"", 6) ? p + 6 : NULL;
    case R_TIF:
        c->tif = left < 5                    ? -1
                 : same(p, "\"gtc\"", 5) ? MC_GTC
                 : same(p, "\"ioc\"", 5) ? MC_IOC
                 : same(p, "\"fok\"", 5) ? MC_FOK
                                           : -1;
        return c->tif >= 0 ? p + 5 : NULL;
    case R_FALSE:
        return left >= 5 && same(p, "false", 5) ? p + 5 : NULL;
    case R_BOOL:
        c->aon = left >= 4 && same(p, "true", 4);
        return c->aon ? p + 4 : left >= 5 && same(p, "false", 5) ? p + 5 : NULL;
    default: {
        int64_t v = -1;
        if ((kind & R_OR_NULL) && left >= 4 && same(p, "null", 4)) {
            p += 4;
        } else if ((p = parse_int(p, end, &v)) == NULL || !in_range(kind, v)) {
            return NULL;
        }
        *int_slot(c, base) = v;
        return p;
    }
    }
}

/* The commands replay takes, with the journal's keys (commands.py, codec.py), each at its
 * kind's index (the change log dispatches on it). */
static const rspec specs[RK_KINDS] = {
    [RK_PLACE] = {T("place_order"), eb_replay_order, 0, 10,
     {F("account", R_ACCOUNT), F("all_or_none", R_BOOL), F("markets", R_MARKETS),
      F("order_id", R_ID), F("post_only", R_FALSE), F("price", R_PRICE),
      F("quantity", R_QUANTITY), F("side", R_SIDE), F("tif", R_TIF), F("ts_ns", R_TS)}},
    [RK_CANCEL] = {T("cancel_order"), eb_replay_open, 0, 3,
     {F("account", R_ACCOUNT), F("order_id", R_ID), F("ts_ns", R_TS)}},
    [RK_MODIFY] = {T("modify_order"), eb_replay_open, 1, 5,
     {F("account", R_ACCOUNT), F("order_id", R_ID), F("price", R_PRICE | R_OR_NULL),
      F("quantity", R_QUANTITY | R_OR_NULL), F("ts_ns", R_TS)}},
    [RK_MARKET] = {T("market_order"), eb_replay_order, 1, 8,
     {F("account", R_ACCOUNT), F("markets", R_MARKETS), F("max_spend", R_AMOUNT | R_OR_NULL),
      F("order_id", R_ID), F("quantity", R_QUANTITY), F("side", R_SIDE), F("tif", R_TIF),
      F("ts_ns", R_TS)}},
    [RK_DEPOSIT] = {T("deposit"), eb_replay_money, 1, 3,
                    {F("account", R_ACCOUNT), F("amount", R_AMOUNT), F("ts_ns", R_TS)}},
    [RK_WITHDRAW] = {T("withdraw"), eb_replay_money, 0, 3,
     {F("account", R_ACCOUNT), F("amount", R_AMOUNT), F("ts_ns", R_TS)}},
    [RK_ADD_CAPACITY] = {T("add_capacity"), eb_replay_capacity, 1, 4,
     {F("account", R_ACCOUNT), F("market", R_MARKET), F("quantity", R_QUANTITY),
      F("ts_ns", R_TS)}},
    [RK_REMOVE_CAPACITY] = {T("remove_capacity"), eb_replay_capacity, 0, 4,
     {F("account", R_ACCOUNT), F("market", R_MARKET), F("quantity", R_QUANTITY),
      F("ts_ns", R_TS)}},
    [RK_TICK] = {T("tick"), eb_replay_tick, 0, 1, {F("ts_ns", R_TS)}},
};

static int
key_is(const jfield *f, const char *key, size_t klen)
{
    return f->klen == klen && memcmp(f->key, key, klen) == 0;
}

/* The command in [p, end) when it is exactly the canonical JSON of spec's command (its
 * keys sorted, "type" last, no spaces) and replay takes it: into *c, 1; else 0. A record
 * the journal wrote is read here, in one pass with no search for keys. */
static inline __attribute__((always_inline)) int
canonical(const CoreObject *self, recent *r, const rspec *spec, const char *p,
          const char *end, rcmd *c)
{
    *c = (rcmd){.amount = -1};
    char before = '{';
#pragma GCC unroll 10
    for (int k = 0; k < spec->n; k++) {
        size_t klen = spec->fields[k].klen + 3u;
        if ((size_t)(end - p) <= klen || *p != before
            || !same(p + 1, spec->fields[k].quoted, klen)) {
            return 0;
        }
        p = canonical_value(self, r, spec->fields[k].kind, p + 1 + klen, end, c);
        if (p == NULL) {
            return 0;
        }
        before = ',';
    }
    return (size_t)(end - p) == spec->tail_len && same(p, spec->tail, spec->tail_len);
}

/* canonical() for specs[h], its field list a constant in each case: the compiler unrolls
 * the loop and compares each key as immediates, a third of the work per record. */
static int
canonical_of(const CoreObject *self, recent *r, size_t h, const char *p, const char *end,
             rcmd *c)
{
    _Static_assert(RK_KINDS == 9, "a case for each spec");
    switch (h) {
#define CASE(k)                                                                              \
    case k:                                                                                  \
        return canonical(self, r, &specs[k], p, end, c);
        CASE(0) CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
    default:
        return canonical(self, r, &specs[h], p, end, c);
    }
}

/* The command in `payload` read into *c: its spec, or NULL when replay does not take it.
 * Reads only what a command cannot change (the accounts' and markets' tables). */
static const rspec *
parse_json(const CoreObject *self, recent *r, const char *payload, size_t length, rcmd *c)
{
    const char *end = payload + length;
    for (size_t h = 0; h < sizeof specs / sizeof specs[0]; h++) {
        size_t tail = specs[h].tail_len;
        if (length > tail && same(end - tail, specs[h].tail, tail)) {
            if (canonical_of(self, r, h, payload, end, c)) {
                return &specs[h];
            }
            break;
        }
    }
    /* any other form of a command replay takes: keys in another order, say */
    jfield fields[MAX_KEYS];
    int n = members(payload, end, fields);
    const rspec *spec = NULL;
    for (int i = n - 1; i >= 0 && spec == NULL; i--) { /* "type" is last when canonical */
        if (key_is(&fields[i], "type", 4) && fields[i].kind == J_STR) {
            for (size_t h = 0; h < sizeof specs / sizeof specs[0]; h++) {
                if (text_is(&fields[i], specs[h].type)) {
                    spec = &specs[h];
                }
            }
        }
    }
    if (spec == NULL || n != spec->n + 1) {
        return NULL;
    }
    *c = (rcmd){.amount = -1};
    for (int k = 0; k < spec->n; k++) {
        const char *key = spec->fields[k].quoted + 1;
        size_t klen = spec->fields[k].klen;
        const jfield *f = key_is(&fields[k], key, klen) ? &fields[k] : NULL;
        for (int i = 0; i < n && f == NULL; i++) { /* keys in another order */
            f = key_is(&fields[i], key, klen) ? &fields[i] : NULL;
        }
        if (f == NULL || !take_field(self, r, f, spec->fields[k].kind, c)) {
            return NULL;
        }
    }
    return spec;
}

/* ---------------------------------------------------------------- replay */

/* A record read ahead of its turn. */
typedef struct {
    const rspec *spec;
    rcmd c;
    uint32_t length;
    uint64_t seq;
} parsed;

/* The record at data[pos..) into *out when it is whole, numbered `next` and a command
 * replay takes: 1, else 0. Its order id's bucket is fetched into the cache meanwhile, as
 * that lookup is a miss for nearly every new id. */
static int
parse_record(const CoreObject *self, recent *r, const unsigned char *data, Py_ssize_t size,
             Py_ssize_t pos, uint64_t next, parsed *out)
{
    if (!eb_whole_record(data, size, pos, next, &out->length, &out->seq)) {
        return 0;
    }
    out->spec = parse_json(self, r, (const char *)data + pos + EB_RECORD_HEADER, out->length,
                           &out->c);
    if (out->spec != NULL && out->c.id != NULL) {
        __builtin_prefetch(eb_names_group(&self->ids, out->c.id_hash));
    }
    return out->spec != NULL;
}

/* replay(data, pos, last_seq[, log]) -> (pos, last_seq): see the top of this file; with a
 * list `log`, each command's changes to the projection appended to it (engine_changes.c). */
PyObject *
Core_replay(CoreObject *self, PyObject *args)
{
    Py_buffer buf;
    Py_ssize_t pos;
    unsigned long long last;
    PyObject *log = NULL;
    if (!PyArg_ParseTuple(args, "y*nK|O!", &buf, &pos, &last, &PyList_Type, &log)) {
        return NULL;
    }
    const unsigned char *data = buf.buf;
    int rc = 0;
    /* room for the ids of the records ahead (a place_order's record is over 128 bytes); the
     * used set's ids are copied into C only when the records ahead outnumber them, so a
     * journal that falls back to the reference often (each fallback loads a new core) pays
     * in proportion to what it replays, not the used ids each time: else a lookup that
     * misses in C asks the set */
    size_t ahead = pos >= 0 && pos < buf.len ? (size_t)(buf.len - pos) : 0;
    if ((!self->used_in_c && (size_t)PySet_GET_SIZE(self->used) <= ahead / 128u
         && eb_ids_take_used(self) < 0)
        || eb_names_reserve(&self->ids, ahead / 128u, ahead / 16u) < 0) {
        PyBuffer_Release(&buf);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    /* each record is read while the one before it is applied */
    parsed cur, ahead_of;
    recent names = {0};
    int have = last < (unsigned long long)INT64_MAX
               && parse_record(self, &names, data, buf.len, pos, last + 1u, &cur);
    while (have) {
        Py_ssize_t end = pos + (Py_ssize_t)(EB_RECORD_HEADER + cur.length);
        int next = cur.seq < (uint64_t)INT64_MAX
                   && parse_record(self, &names, data, buf.len, end, cur.seq + 1u, &ahead_of);
        /* a cross-market bid's changes to the projection are the gate's to log */
        rc = log != NULL && cur.c.n_markets ? 0 : cur.spec->run(self, &cur.c, cur.spec->flag);
        if (rc > 0 && log != NULL) {
            rc = eb_log_changes(self, (enum rkind)(cur.spec - specs), &cur.c, cur.seq, log);
        }
        if (rc <= 0) {
            break;
        }
        pos = end;
        last = cur.seq;
        self->dirty = 1;
        cur = ahead_of;
        have = next;
    }
    PyBuffer_Release(&buf);
    return rc < 0 ? NULL : Py_BuildValue("nK", pos, last);
}
