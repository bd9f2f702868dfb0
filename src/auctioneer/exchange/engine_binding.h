/*
 * engine_binding.h - what the files of the native engine's CPython binding
 * (_engine.c, engine_commands.c, engine_events.c, engine_load.c) share: the
 * Core object, the classes and names looked up once, and small helpers.
 * Private to that binding.
 */
#ifndef AUCTIONEER_ENGINE_BINDING_H
#define AUCTIONEER_ENGINE_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "engine_core.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif


/* A group of a name table's buckets, one cache line: a lookup reads its tags, and the add
 * of a new name after it writes its tag and number in the same line (engine_names.c). */
#define EB_GROUP 12
typedef struct {
    uint8_t tags[EB_GROUP];  /* 7 bits of each name's hash, the top bit set */
    uint32_t keys[EB_GROUP]; /* each name's number */
    uint8_t used;            /* the buckets filled, from 0 */
} __attribute__((aligned(64))) eb_group;

/* A table of UTF-8 names, numbered as added (engine_names.c). */
typedef struct {
    char *bytes;     /* name k is bytes[start[k] .. start[k + 1]) */
    size_t cap;
    uint64_t *start; /* room entries */
    uint64_t count, room;
    eb_group *groups;
    uint64_t n_groups; /* at half load at most, so a group always has room */
} eb_names;

/* A trade for a market's tape, kept in C until the next hand-over (engine_tape.c); its
 * price, quantity and time are in its market's pending trades. */
typedef struct {
    uint64_t trade_id, buy_order, sell_order; /* order numbers */
    uint32_t buyer, seller;
    uint8_t buy; /* the incoming order bought */
} eb_trade;

/* A market's trades since the last hand-over (engine_tape.c): each one's price, quantity
 * and time for its price index, and the rest of the last `room` of them for its tape, in a
 * ring (the oldest at `start` once it is full): a tape keeps no more. */
typedef struct {
    int64_t *pending; /* 3 per trade */
    uint64_t n_pending, cap_pending;
    eb_trade *ring;
    uint64_t room;    /* the tape's maxlen (UINT64_MAX: none) */
    uint64_t n_ring, cap_ring, start;
} eb_held;

typedef struct {
    PyObject_HEAD
    ec_engine e;
    PyObject *account_ids;   /* list[str], by number */
    PyObject *account_index; /* dict: account id -> number */
    PyObject *market_ids;    /* list[str], by number */
    PyObject *market_index;  /* dict: market id -> number */
    PyObject *market_tuples; /* list[tuple[str]]: an event's markets */
    PyObject *cross;         /* dict: order number -> markets, of each cross-market bid */
    PyObject *indexes;       /* list[PriceIndex] */
    PyObject *pending;       /* list[array('q')]: each PriceIndex's pending trades */
    PyObject *tapes;         /* list[deque[Traded]] */
    PyObject *used;          /* set[str]: the engine's used order ids, filled at a dump */
    eb_names ids;            /* every order id since the load (and of `used`), by number */
    eb_names account_names, market_names; /* by account and market number */
    PyObject **names;        /* order number -> id, built on first use (NULL until then) */
    uint32_t *order_market;  /* order number -> market (UINT32_MAX: never placed here) */
    uint8_t *order_post;     /* order number -> 1 for a post-only order, else 0 */
    uint64_t n_names, cap_names;
    uint64_t flushed;        /* the order numbers below it are in `used` */
    int used_in_c;           /* ids holds every id of `used` too */
    int odd_used;            /* `used` has an id with no UTF-8 form, which ids cannot hold */
    struct eb_run *runs;     /* the ids numbered below n_compacted, compacted (n_runs of */
    uint64_t n_runs, n_compacted; /* them), kept by engine_snapshot.c for the next snapshot */
    eb_held *held;           /* per market: its trades not yet in its price index and tape */
    int dirty;               /* a command changed the state since the caller last cleared it */
#define EB_HINTS 64 /* engine_commands.c takes the top 6 bits of a hash */
    uint32_t account_hints[EB_HINTS], market_hints[EB_HINTS]; /* see engine_commands.c */
} CoreObject;

/* What a refusal's message may quote: the command's fields (borrowed; NULL where it has
 * none), their values where checked, and whose command it is (UINT32_MAX: not known). */
typedef struct {
    PyObject *kind, *order_id, *price, *quantity, *amount, *ts;
    PyObject *amount_field; /* EC_WHY_AVAILABLE's field: max_spend or amount */
    PyObject *markets;      /* a cross-market bid's markets (NULL for one market) */
    int64_t price_value, quantity_value; /* 0: the open order's own (a modification) */
    int64_t budget;                      /* a market buy's max_spend; 0 for a sell */
    uint32_t a, m;
    uint64_t n; /* the open order's number */
} eb_ctx;

/* What the module looks up once (_engine.c): command and event classes, enum members, names. */
extern PyTypeObject *T_place, *T_market, *T_cancel, *T_modify, *T_deposit, *T_withdraw,
    *T_add, *T_remove, *T_tick;
extern PyTypeObject *E_accepted, *E_traded, *E_rested, *E_cancelled, *E_modified,
    *E_published;
extern PyObject *BUY, *SELL, *GTC, *IOC, *FOK;
/* The words a projection row or an answer holds for a side and a time in force. */
extern PyObject *W_buy, *W_sell, *W_tif[MC_FOK + 1];
extern PyObject *REASONS[MC_R_AON + 1];
extern PyObject *K_place, *K_market, *K_cancel, *K_modify, *K_deposit, *K_withdraw, *K_add,
    *K_remove, *K_tick, *EMPTY;
extern PyObject *A_order_id, *A_account, *A_side, *A_markets, *A_price, *A_quantity, *A_tif,
    *A_aon, *A_post_only, *A_ts, *A_max_spend, *A_amount, *A_market, *A_publish, *A_append,
    *A_frombytes;
extern PyObject *FALLBACK; /* Py_None: what apply returns for the reference to take */

static inline PyObject *
ref(PyObject *obj)
{
    Py_INCREF(obj);
    return obj;
}

/* Append `item` to the list `out` (stealing it): 0, or -1 on error. */
static inline int
push(PyObject *out, PyObject *item)
{
    if (item == NULL) {
        return -1;
    }
    int rc = PyList_Append(out, item);
    Py_DECREF(item);
    return rc;
}

/* An account number and a market number (either UINT_MAX for none), range-checked: 0, or
 * -1 with ValueError. */
static inline int
check_numbers(const CoreObject *self, unsigned int a, unsigned int m)
{
    if ((a != UINT_MAX && a >= self->e.n_accounts) || (m != UINT_MAX && m >= self->e.n_markets)) {
        PyErr_Format(PyExc_ValueError, "account %u or market %u is out of range", a, m);
        return -1;
    }
    return 0;
}

/* Write every page of p[0..bytes) back to itself, so each is faulted in now: a page's first
 * touch costs about a microsecond, which a table presized by Core.reserve would otherwise
 * spread over the orders that fill it (the bench's p99 rose from 1.0 to 2.5 us). Growth
 * does not do this: on replay it would fault pages that are never used. */
static inline void
eb_prefault(void *p, size_t bytes)
{
    volatile unsigned char *b = p;
    for (size_t off = 0; off < bytes; off += 4096u) {
        b[off] = b[off];
    }
}

/* What a table of `cap` entries (`first` when 0), `n` of them used, doubles to for `more`
 * more, or 0 when that would pass `max`. */
static inline uint64_t
eb_doubled(uint64_t cap, uint64_t n, uint64_t more, uint64_t first, uint64_t max)
{
    for (cap = cap ? cap : first; more > cap - n; cap *= 2u) {
        if (cap > max / 2u) {
            return 0;
        }
    }
    return cap;
}

/* engine_events.c */
int eb_advance(CoreObject *self, int64_t ts, PyObject *events);
PyObject *eb_accepted(PyObject *kind, PyObject *refobj, int64_t clock);
PyObject *eb_traded(CoreObject *self, uint64_t trade_id, uint32_t m, PyObject *buy_order,
                    PyObject *sell_order, uint32_t buyer, uint32_t seller, PyObject *price,
                    PyObject *quantity, int buy, PyObject *ts);
/* Room for `more` more order numbers (names, order_market, order_post): 0, or -1 with an
 * error. */
int eb_reserve_names(CoreObject *self, uint64_t more);
/* Room for the next order number: 0, or -1 with an error. */
static inline int
eb_reserve_name(CoreObject *self)
{
    return self->n_names < self->cap_names ? 0 : eb_reserve_names(self, 1);
}
int eb_translate(CoreObject *self, uint32_t m, uint64_t taker, PyObject *name, const mc_event *evs,
                 uint32_t n, int64_t clock, PyObject *events);
/* The events of a command of kind `kind` on order number `n` (named `name`) at `ts` whose
 * book events are the engine's xev (a cross-market bid's), as a list: NULL on error. */
PyObject *eb_cross_events(CoreObject *self, PyObject *kind, PyObject *name, int64_t ts,
                          uint64_t n);

/* engine_lazy.c: a command's events, built as objects when first read */
extern PyTypeObject EventsType;
#define EB_NO_MARKET UINT32_MAX
/* The events of a command of kind `kind` on `refobj` at `ts` (the clock moved there first):
 * Accepted, then those of what the last book call in market m did for order number `taker`
 * (named `name`), when m is not EB_NO_MARKET. Its trades are buffered for the price index
 * and tape (engine_tape.c). NULL on error. */
PyObject *eb_events(CoreObject *self, PyObject *kind, PyObject *refobj, int64_t ts, uint32_t m,
                    uint64_t taker, PyObject *name);
/* What an Events holds of its book call (NULL when `obj` is not an Events): its core,
 * the n book events returned (market m, order number `taker`), and the clock then. */
const mc_event *eb_events_book(PyObject *obj, CoreObject **core, uint32_t *n, uint32_t *market,
                               uint64_t *taker, int64_t *clock);

/* engine_batch.c: the service's batches (place_orders, place_records) */
int eb_setup_batch(void);
PyObject *eb_place_orders(PyObject *module, PyObject *args);
PyObject *eb_place_records(PyObject *module, PyObject *args);
PyObject *eb_valid_orders(PyObject *module, PyObject *orders);
/* engine_answer.c: the service's answers to places (order_summary, batch_answer) */
int eb_setup_answers(void);
PyObject *eb_order_summary(PyObject *module, PyObject *args);
PyObject *eb_batch_answer(PyObject *module, PyObject *args);

/* engine_load.c: order number n rested as loaded in each of its k books (e->xmarkets[0..k),
 * a cross-market bid's copies linked and its markets kept in self->cross; a full book
 * grows): 1; 0 when it cannot rest (its number is in a book, or it sells over several
 * markets); -1 with an error. */
int eb_load_rest(CoreObject *self, uint64_t n, uint32_t k, uint32_t a, int buy, int64_t price,
                 int64_t remaining, uint64_t seq, int64_t ts, int post_only, int aon);

/* engine_names.c: tables of names; order ids (see the top of that file) */
#define NAMES_MAX (UINT64_C(0xffffffff) - 1u) /* names a table holds at most */
void eb_hash_init(void); /* keys from the interpreter's hash secret, at import */
uint64_t eb_hash(const char *s, size_t n);
PyObject *eb_id_hash(PyObject *module, PyObject *arg);
int eb_names_init(eb_names *t, uint64_t expected);
void eb_names_free(eb_names *t);
size_t eb_names_nbytes(const eb_names *t);
const char *eb_names_get(const eb_names *t, uint64_t k, size_t *n);
/* The group where a name of hash h is looked for first: the low 32 bits of h scaled to
 * n_groups, which need not be a power of two, so a table stays near half load (10.7 bytes
 * of groups an id) rather than anywhere from a quarter to a half. */
static inline uint64_t
eb_names_home(uint64_t h, uint64_t n_groups)
{
    return ((h & UINT32_MAX) * n_groups) >> 32;
}

/* That group (to prefetch). */
static inline const eb_group *
eb_names_group(const eb_names *t, uint64_t h)
{
    return &t->groups[eb_names_home(h, t->n_groups)];
}

/* A bucket's tag: the top 7 bits of its name's hash with the high bit set. */
#define EB_TAG(h) ((uint8_t)(((h) >> 57) | 0x80u))

/* The buckets of g whose tag is `tag`, a bit each (an empty one's tag, 0, is no tag): on
 * x86-64, one compare of the line's first 16 bytes rather than a loop over the tags. */
static inline unsigned
eb_same_tags(const eb_group *g, uint8_t tag)
{
#ifdef __SSE2__
    __m128i tags = _mm_load_si128((const __m128i *)(const void *)g->tags);
    unsigned bits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(tags, _mm_set1_epi8((char)tag)));
    return bits & ((1u << EB_GROUP) - 1u);
#else
    unsigned bits = 0;
    for (unsigned i = 0; i < g->used; i++) {
        bits |= (unsigned)(g->tags[i] == tag) << i;
    }
    return bits;
#endif
}

int64_t eb_names_probe(const eb_names *t, const char *s, size_t n, uint64_t h);

/* Name s[0..n)'s number (h its hash), or -1: inline while its first group, where the search
 * for a new name ends, has no tag of it -- a new id's lookup, one an order. */
static inline int64_t
eb_names_find(const eb_names *t, const char *s, size_t n, uint64_t h)
{
    const eb_group *g = eb_names_group(t, h);
    if (g->used < EB_GROUP && eb_same_tags(g, EB_TAG(h)) == 0) {
        return -1;
    }
    return eb_names_probe(t, s, n, h);
}
int64_t eb_names_add(eb_names *t, const char *s, size_t n, uint64_t h); /* k; -1: no memory */
/* Room for `names` more names of `more` bytes in all: 0, or -1 (nothing changed). */
int eb_names_reserve(eb_names *t, uint64_t names, size_t more);
/* The UTF-8 of an exact str: 1; 0 (no error) for anything else or a str without one. An
 * ASCII str -- every order's id, as a rule -- is its own UTF-8, read here without a call. */
int eb_utf8_encoded(PyObject *str, const char **s, size_t *n);
static inline int
eb_utf8(PyObject *str, const char **s, size_t *n)
{
    if (PyUnicode_CheckExact(str) && PyUnicode_IS_COMPACT_ASCII(str)) {
        *s = (const char *)PyUnicode_DATA(str);
        *n = (size_t)PyUnicode_GET_LENGTH(str);
        return 1;
    }
    return eb_utf8_encoded(str, s, n);
}
/* Whether order id s (hash h; its str, or NULL) is used: 1, 0, or -1 on error. */
int eb_id_used(CoreObject *self, const char *s, size_t n, uint64_t h, PyObject *str);
/* Give id s (unused; its str, or NULL) the next number, placed in market m: 0, or -1. */
int eb_id_add(CoreObject *self, const char *s, size_t n, uint64_t h, PyObject *str,
              uint32_t m);
int eb_id_open(const CoreObject *self, uint64_t k);
PyObject *eb_id_name(CoreObject *self, uint64_t k); /* borrowed; NULL on error */
int eb_ids_take_used(CoreObject *self);             /* every id of `used` into ids */
int eb_flush_used(CoreObject *self);                /* every id since into `used` */
/* Core.reserve(orders): room for that many more orders' ids and numbers, and their trades. */
PyObject *Core_reserve(CoreObject *self, PyObject *arg);

/* engine_tape.c: trades held in C */
/* Room in market m's pending trades for `more` more: 0, or -1 with an error. */
int eb_reserve_trades(CoreObject *self, uint32_t m, uint64_t more);
int eb_buffer_trades(CoreObject *self, uint32_t m, uint64_t taker);
int eb_flush_trades(CoreObject *self);
void eb_held_free(CoreObject *self);

/* engine_commands.c: a handler per command class the core takes, and the fields it reads;
 * the conversions every command crosses, inline here. */

/* An exact int's value into *out: 1; 0 (no error set) when it does not fit 64 bits. Every
 * order crosses three of these, so an int of up to two digits -- 60 bits, any price,
 * quantity or time in range -- is read here from its digits (CPython 3.11's layout: the
 * digit count signed in ob_size; 3.12 has the same as PyUnstable_Long_CompactValue for one
 * digit) rather than by a call, which cost 45 instructions. */
static inline int
eb_exact_value(PyObject *obj, int64_t *out)
{
#if PY_VERSION_HEX < 0x030C0000
    const digit *d = ((const PyLongObject *)obj)->ob_digit;
    Py_ssize_t size = Py_SIZE(obj), digits = size < 0 ? -size : size;
    if (digits <= 2) {
        uint64_t mag = digits == 0 ? 0u : d[0];
        mag |= digits == 2 ? (uint64_t)d[1] << PyLong_SHIFT : 0u;
        *out = size < 0 ? -(int64_t)mag : (int64_t)mag;
        return 1;
    }
#else
    if (PyUnstable_Long_IsCompact((PyLongObject *)obj)) {
        *out = (int64_t)PyUnstable_Long_CompactValue((PyLongObject *)obj);
        return 1;
    }
#endif
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *out = (int64_t)v;
    return 1;
}

/* An exact int in lo..hi into *out: 1. Anything else: 0, no error set. */
static inline int
eb_int_in(PyObject *obj, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    if (!PyLong_CheckExact(obj) || !eb_exact_value(obj, &v) || v < lo || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

/* The 4 bytes at p, or the 8 when `wide`. */
static inline uint64_t
eb_word(const char *p, int wide)
{
    uint64_t w8;
    uint32_t w4;
    if (wide) {
        memcpy(&w8, p, 8u);
        return w8;
    }
    memcpy(&w4, p, 4u);
    return w4;
}

/* Whether the n bytes at a and b are equal. Names of accounts and markets are short, and
 * every order compares two (a market's id comes over HTTP, or from a Market, as a new str):
 * 4 to 16 bytes are compared as two overlapping words each way, inline, not by a call. */
static inline int
eb_same_bytes(const void *a, const void *b, size_t n)
{
    const char *x = a, *y = b;
    if (n < 4u || n > 16u) {
        return memcmp(x, y, n) == 0;
    }
    int wide = n >= 8u;
    size_t last = n - (wide ? 8u : 4u);
    return ((eb_word(x, wide) ^ eb_word(y, wide))
            | (eb_word(x + last, wide) ^ eb_word(y + last, wide))) == 0;
}

/* The number of `key` (an exact str) in `index`: 1; 0 when it has none; -1 on error. `ids`
 * lists the ids by number. A hint per hash remembers the number last found for it, so a key
 * equal to that id -- the same object, or a copy, as every order over HTTP brings -- is found
 * with one comparison instead of a dict lookup. */
static inline int
eb_number_of(PyObject *index, PyObject *ids, uint32_t *hints, PyObject *key, uint64_t *out)
{
    if (!PyUnicode_CheckExact(key)) {
        return 0;
    }
    Py_hash_t hash = ((PyASCIIObject *)key)->hash; /* every str caches its own */
    hash = hash != -1 ? hash : PyObject_Hash(key);
    if (hash == -1) {
        return -1;
    }
    uint32_t *hint = &hints[(uint64_t)hash * UINT64_C(0x9E3779B97F4A7C15) >> 58];
    if ((Py_ssize_t)*hint < PyList_GET_SIZE(ids)) {
        PyObject *id = PyList_GET_ITEM(ids, *hint);
        Py_ssize_t len = PyUnicode_GET_LENGTH(key);
        if (id == key
            || (PyUnicode_GET_LENGTH(id) == len && PyUnicode_KIND(id) == PyUnicode_KIND(key)
                && eb_same_bytes(PyUnicode_DATA(id), PyUnicode_DATA(key),
                                 (size_t)len * PyUnicode_KIND(key)))) {
            *out = *hint;
            return 1;
        }
    }
    PyObject *n = PyDict_GetItemWithError(index, key);
    if (n == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    *out = (uint64_t)PyLong_AsUnsignedLongLong(n);
    *hint = (uint32_t)*out;
    return 1;
}

static inline int
eb_account_of(CoreObject *self, PyObject *key, uint64_t *out)
{
    return eb_number_of(self->account_index, self->account_ids, self->account_hints, key, out);
}

static inline int
eb_market_of(CoreObject *self, PyObject *key, uint64_t *out)
{
    return eb_number_of(self->market_index, self->market_ids, self->market_hints, key, out);
}

/* An account's number into c->a: 1; 0 when it has none (`key` is not an open account), -1
 * on error. */
static inline int
eb_account_in(CoreObject *self, PyObject *key, eb_ctx *c)
{
    uint64_t n;
    int found = eb_account_of(self, key, &n);
    c->a = found > 0 ? (uint32_t)n : UINT32_MAX;
    return found;
}
#define EB_REFUSE(field, why, args) eb_rejected(c->kind, (field), (why), (args))
#define EB_CTX(kind_) {.kind = (kind_), .a = UINT32_MAX, .m = UINT32_MAX}
/* engine_orders.c: the handlers of PlaceOrder (flag 0) and MarketOrder (flag 1), and of
 * CancelOrder (flag 0) and ModifyOrder (flag 1) */
PyObject *eb_order(CoreObject *self, PyObject *const *f, int market);
PyObject *eb_open(CoreObject *self, PyObject *const *f, int modify);
#define EB_HANDLERS 9
#define EB_MAX_FIELDS 10
typedef struct {
    PyTypeObject **type;
    PyObject **kind; /* its "type" in the journal's JSON */
    PyObject *(*run)(CoreObject *self, PyObject *const *fields, int flag);
    int flag;
    int n;
    PyObject **fields[EB_MAX_FIELDS]; /* attribute names, which are also its JSON keys */
    Py_ssize_t offsets[EB_MAX_FIELDS]; /* where the class's slot holds each field */
} eb_handler;
extern eb_handler eb_handlers[EB_HANDLERS];
int eb_setup_handlers(void);
PyObject *Core_apply(CoreObject *self, PyObject *cmd);
PyObject *Core_apply_many(CoreObject *self, PyObject *args);

/* engine_replay.c */
PyObject *Core_replay(CoreObject *self, PyObject *args);
PyObject *eb_scan(PyObject *module, PyObject *args);

/* engine_refuse.c: refusals as the reference's Rejected events */
extern PyTypeObject *E_rejected;
int eb_setup_refusals(void);
/* [Rejected(kind, field, REASONS[why].format(*args))]; `args` a tuple, stolen (NULL: an
 * error is set, returns NULL). */
PyObject *eb_rejected(PyObject *kind, PyObject *field, int why, PyObject *args);
/* An exact int in 1..hi into *out: EC_WHY_NONE; else EC_WHY_NOT_INT or EC_WHY_RANGE, the
 * reference's positive(), whose refusal eb_not_positive builds. */
PyObject *eb_not_positive(PyObject *kind, PyObject *field, int why, PyObject *value,
                          int64_t hi);
static inline int
eb_positive(PyObject *value, int64_t hi, int64_t *out)
{
    if (!PyLong_CheckExact(value)) {
        return EC_WHY_NOT_INT;
    }
    int64_t v;
    if (!eb_exact_value(value, &v) || v < 1 || v > hi) {
        return EC_WHY_RANGE;
    }
    *out = v;
    return EC_WHY_NONE;
}

/* A positive int field into *value: 1; else 0 with its refusal (or NULL) in *out. */
static inline int
eb_positive_field(const eb_ctx *c, PyObject *field, PyObject *obj, int64_t hi, int64_t *value,
                  PyObject **out)
{
    int why = eb_positive(obj, hi, value);
    if (why) {
        *out = eb_not_positive(c->kind, field, why, obj, hi);
    }
    return !why;
}
/* The refusal the core decided (self->e.why, or a check's result) for the command `c`. */
PyObject *eb_core_refused(CoreObject *self, const eb_ctx *c, int why);
/* The end of a command whose own checks passed, with a timestamp that is not an int in
 * range: the core's refusal `why` if any, else the timestamp's. */
PyObject *eb_late_ts(CoreObject *self, const eb_ctx *c, int why);
/* The core did not apply the command (`status`): its refusal, or FALLBACK. */
PyObject *eb_not_applied(CoreObject *self, const eb_ctx *c, int status);
/* Whether `key` is a str of a subclass: the reference compares it by value, the binding's
 * lookups by exact type, so such a command goes to the reference. */
int eb_str_subclass(PyObject *key);

/* engine_crc.c */
#define EB_RECORD_HEADER 16u /* <IIQ: payload length, crc, sequence number */
uint32_t eb_crc32_update(uint32_t crc, const unsigned char *p, size_t n);
PyObject *eb_crc32(PyObject *module, PyObject *args);
int eb_whole_record(const unsigned char *data, Py_ssize_t size, Py_ssize_t pos, uint64_t next,
                    uint32_t *length, uint64_t *seq);
void eb_frame_record(unsigned char *record, uint32_t length, uint64_t seq);

/* engine_snapshot.c */
PyObject *Core_snapshot_parts(CoreObject *self, PyObject *roles);
PyObject *eb_tapes_json(PyObject *module, PyObject *args);

/* engine_restore.c */
PyObject *Core_restore(CoreObject *self, PyObject *args);
PyObject *eb_spans(PyObject *module, PyObject *args);

/* engine_check.c */
PyObject *Core_check(CoreObject *self, PyObject *args);

/* engine_load.c */
PyObject *Core_new(PyTypeObject *type, PyObject *args, PyObject *kwds);
int Core_traverse(CoreObject *self, visitproc visit, void *arg);
int Core_clear(CoreObject *self);
void Core_dealloc(CoreObject *self);
PyObject *Core_load_account(CoreObject *self, PyObject *args);
PyObject *Core_open_account(CoreObject *self, PyObject *args);
PyObject *Core_list_market(CoreObject *self, PyObject *args);
PyObject *Core_load_capacity(CoreObject *self, PyObject *args);
PyObject *Core_load_holding(CoreObject *self, PyObject *args);
PyObject *Core_load_order(CoreObject *self, PyObject *args);
PyObject *Core_load_counters(CoreObject *self, PyObject *args);
PyObject *Core_dump(CoreObject *self, PyObject *args);

/* engine_query.c */
PyObject *Core_account(CoreObject *self, PyObject *arg);
PyObject *Core_depth(CoreObject *self, PyObject *args);
PyObject *Core_get_nbytes(CoreObject *self, void *closure);
PyObject *Core_get_open(CoreObject *self, void *closure);

#endif
