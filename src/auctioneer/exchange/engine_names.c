/*
 * engine_names.c - names held in C: a table of UTF-8 strings numbered in the
 * order they were added (accounts, markets, and every order id the engine has
 * seen since it was loaded), and the order-id bookkeeping over it.
 *
 * Order ids: each order the core accepts, and each open order loaded, gets the
 * next number; the table maps its id back to that number, so "is this id used"
 * and "which order is this" are one lookup in C, and an order is open while its
 * market's book holds its number. The Python side of the same facts -- the
 * engine's used-id set and each id as a str -- is built only when it is read:
 * an id's str on first use (names[n]), the used set at a dump (eb_flush_used).
 * While the table does not yet hold every id of the used set it was made with
 * (`used_in_c` false), a lookup that misses asks that set too.
 *
 * Hashing is keyed by the interpreter's own secret (PYTHONHASHSEED), so ids sent
 * to the service cannot be chosen to collide (see eb_hash). The table grows by doubling, which is
 * amortised over the ids that filled it; Core.reserve, the caller's sizing hint,
 * makes the room up front instead (with the other tables an order fills).
 */
#include "engine_binding.h"

#include <stdlib.h>
#include <string.h>

/* An id's hash: the multilinear family over 64-bit words (Lemire and Kaser, "Strongly
 * universal string hashing is fast"): the high 64 bits of k[0] + k[1]*n + sum k[2+i]*w[i]
 * mod 2^128, for random 128-bit keys k and the id's bytes as words w (the first byte lowest,
 * the last word zero-padded; n, the length, tells such ids apart). For any two different
 * ids, the chance over the keys that they share their hash, their bucket or their tag is that
 * of a random function, whatever the ids are, as with SipHash. What SipHash adds, being a
 * pseudo-random function, is resistance to an attacker who sees hashes, and the engine shows
 * none (id_hash is for the tests). It costs half of Python's SipHash on an order's id
 * (callgrind, the bench's ids: 51 instructions against 107). The keys come from the
 * interpreter's keyed SipHash at import, so they change with PYTHONHASHSEED as Python's own
 * str hashes do; an id over HASH_WORDS words takes SipHash itself. */
#define HASH_WORDS 16
typedef unsigned __int128 eb_u128;
static eb_u128 hash_keys[HASH_WORDS + 2];

void
eb_hash_init(void)
{
    for (unsigned i = 0; i < HASH_WORDS + 2; i++) {
        unsigned char seed[2][12] = {"eb_hash_key", "eb_hash_key"};
        seed[0][11] = (unsigned char)i;
        seed[1][11] = (unsigned char)(i + 128u);
        hash_keys[i] = (eb_u128)(uint64_t)_Py_HashBytes(seed[0], 12) << 64
                       | (uint64_t)_Py_HashBytes(seed[1], 12);
    }
}

/* The 1..7 bytes at p as one word, the first lowest: two loads that overlap (the bytes they
 * share land on the same bits, so or-ing them is exact) rather than a byte loop. */
static inline uint64_t
tail_word(const unsigned char *p, size_t r)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (r >= 4u) {
        uint32_t a, b;
        memcpy(&a, p, 4u);
        memcpy(&b, p + r - 4u, 4u);
        return a | (uint64_t)b << (8u * (r - 4u));
    }
    return p[0] | (uint64_t)p[r / 2u] << (8u * (r / 2u)) | (uint64_t)p[r - 1u] << (8u * (r - 1u));
#else
    uint64_t w = 0;
    while (r-- > 0) {
        w = w << 8 | p[r];
    }
    return w;
#endif
}

uint64_t
eb_hash(const char *s, size_t n)
{
    if (n > 8u * HASH_WORDS) {
        return (uint64_t)_Py_HashBytes(s, (Py_ssize_t)n);
    }
    eb_u128 sum = hash_keys[0] + hash_keys[1] * n;
    const eb_u128 *k = hash_keys + 2;
    size_t at = 0;
    for (; n - at >= 8u; at += 8u) {
        uint64_t w;
        memcpy(&w, s + at, 8u);
        sum += *k++ * w;
    }
    if (at < n) {
        sum += *k * tail_word((const unsigned char *)s + at, n - at);
    }
    /* A keyed linear map sends ids that count up (o1, o2, ...) to a lattice, which linear
     * probing clusters; a fixed bijection after it (MurmurHash3's finaliser) breaks the
     * lattice and keeps the pairwise odds above, as any bijection of the hash does. */
    uint64_t h = (uint64_t)(sum >> 64);
    h = (h ^ (h >> 33)) * UINT64_C(0xff51afd7ed558ccd);
    h = (h ^ (h >> 33)) * UINT64_C(0xc4ceb9fe1a85ec53);
    return h ^ (h >> 33);
}

/* id_hash(id) -> int: eb_hash of the id's UTF-8 (for the tests of its spread). */
PyObject *
eb_id_hash(PyObject *module, PyObject *arg)
{
    (void)module;
    const char *s;
    size_t n;
    if (!eb_utf8(arg, &s, &n)) {
        PyErr_Format(PyExc_TypeError, "id_hash takes a str with a UTF-8 form, not %R", arg);
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(eb_hash(s, n));
}

/* `groups` groups, empty and line-aligned, or NULL. */
static eb_group *
new_groups(uint64_t groups)
{
    eb_group *g = groups > SIZE_MAX / sizeof *g ? NULL
                                                : aligned_alloc(64, (size_t)groups * sizeof *g);
    return g == NULL ? NULL : memset(g, 0, (size_t)groups * sizeof *g);
}

/* The groups for `count` names at half load, a table of `groups` now: as many, or at least
 * twice as many (a growth amortised over the names that filled it). */
static uint64_t
groups_for(uint64_t count, uint64_t groups)
{
    uint64_t need = (2u * count + EB_GROUP - 1u) / EB_GROUP;
    if (need <= groups) {
        return groups;
    }
    return need > 2u * groups ? need : 2u * groups;
}

int
eb_names_init(eb_names *t, uint64_t expected)
{
    memset(t, 0, sizeof *t);
    uint64_t groups = groups_for(expected + 1u, 1);
    t->groups = new_groups(groups);
    t->start = malloc((expected + 1u) * sizeof *t->start);
    t->bytes = malloc(16u * expected + 16u);
    if (t->groups == NULL || t->start == NULL || t->bytes == NULL) {
        eb_names_free(t);
        return -1;
    }
    t->n_groups = groups;
    t->room = expected + 1u;
    t->cap = 16u * expected + 16u;
    t->start[0] = 0;
    return 0;
}

void
eb_names_free(eb_names *t)
{
    free(t->groups);
    free(t->start);
    free(t->bytes);
    memset(t, 0, sizeof *t);
}

size_t
eb_names_nbytes(const eb_names *t)
{
    return (size_t)t->n_groups * sizeof *t->groups + (size_t)t->room * sizeof *t->start
           + t->cap;
}

const char *
eb_names_get(const eb_names *t, uint64_t k, size_t *n)
{
    *n = (size_t)(t->start[k + 1u] - t->start[k]);
    return t->bytes + t->start[k];
}

/* A group's buckets fill in order and a full group's names go on in the next, so a lookup
 * reads the tags of one cache line until one matches (1 in 128 for another name, which
 * costs one look at the names) and stops at a group with room. A new id -- every order's --
 * costs that line and no miss on the names, and its add writes the same line. */
int64_t
eb_names_probe(const eb_names *t, const char *s, size_t n, uint64_t h)
{
    uint8_t tag = EB_TAG(h);
    uint64_t groups = t->n_groups;
    for (uint64_t at = eb_names_home(h, groups);; at = at + 1u == groups ? 0 : at + 1u) {
        const eb_group *g = &t->groups[at];
        for (unsigned bits = eb_same_tags(g, tag); bits != 0; bits &= bits - 1u) {
            uint64_t k = g->keys[__builtin_ctz(bits)];
            if (t->start[k + 1u] - t->start[k] == n
                && memcmp(t->bytes + t->start[k], s, n) == 0) {
                return (int64_t)k;
            }
        }
        if (g->used < EB_GROUP) {
            return -1;
        }
    }
}

static void
place(eb_group *groups, uint64_t n_groups, uint64_t k, uint64_t h)
{
    uint64_t at = eb_names_home(h, n_groups);
    while (groups[at].used == EB_GROUP) {
        at = at + 1u == n_groups ? 0 : at + 1u;
    }
    eb_group *g = &groups[at];
    g->tags[g->used] = EB_TAG(h);
    g->keys[g->used++] = (uint32_t)k;
}

/* Groups for at least `count` names at half load: 0, or -1 (nothing changed) without
 * memory. The names are hashed again rather than their hashes kept: 8 bytes an id fewer
 * to write, for a hash an id at each doubling. */
static int
rehash(eb_names *t, uint64_t count)
{
    uint64_t groups = groups_for(count, t->n_groups);
    if (groups == t->n_groups) {
        return 0;
    }
    eb_group *grown = new_groups(groups);
    if (grown == NULL) {
        return -1;
    }
    for (uint64_t k = 0; k < t->count; k++) {
        size_t n;
        const char *s = eb_names_get(t, k, &n);
        place(grown, groups, k, eb_hash(s, n));
    }
    free(t->groups);
    t->groups = grown;
    t->n_groups = groups;
    return 0;
}

int
eb_names_reserve(eb_names *t, uint64_t names, size_t more)
{
    if (names > NAMES_MAX - t->count) {
        return -1;
    }
    if (t->count + names + 1u > t->room) {
        uint64_t room = t->room;
        while (t->count + names + 1u > room) {
            room *= 2u;
        }
        uint64_t *start = realloc(t->start, room * sizeof *start);
        if (start == NULL) {
            return -1;
        }
        t->start = start;
        t->room = room;
    }
    if (rehash(t, t->count + names) < 0) {
        return -1;
    }
    size_t size = (size_t)t->start[t->count];
    if (more > t->cap - size) {
        size_t cap = t->cap;
        while (more > cap - size) {
            if (cap > SIZE_MAX / 2u) {
                return -1;
            }
            cap *= 2u;
        }
        char *bytes = realloc(t->bytes, cap);
        if (bytes == NULL) {
            return -1;
        }
        t->bytes = bytes;
        t->cap = cap;
    }
    return 0;
}

int64_t
eb_names_add(eb_names *t, const char *s, size_t n, uint64_t h)
{
    /* the room a presized table has (Core.reserve) is seen here without a call: a name, its
     * start and a bucket at half load (as eb_names_reserve and rehash count them), its bytes */
    int room = t->count < NAMES_MAX && t->count + 2u <= t->room
               && 2u * (t->count + 1u) <= t->n_groups * EB_GROUP
               && n <= t->cap - t->start[t->count];
    if (!room && eb_names_reserve(t, 1, n) < 0) {
        return -1;
    }
    uint64_t k = t->count++;
    memcpy(t->bytes + t->start[k], s, n);
    t->start[k + 1u] = t->start[k] + n;
    place(t->groups, t->n_groups, k, h);
    return (int64_t)k;
}

/* ------------------------------------------------------------ order ids */

int
eb_utf8_encoded(PyObject *str, const char **s, size_t *n)
{
    if (!PyUnicode_CheckExact(str)) {
        return 0;
    }
    Py_ssize_t len;
    *s = PyUnicode_AsUTF8AndSize(str, &len);
    if (*s == NULL) { /* a lone surrogate: no UTF-8, so the reference takes it */
        PyErr_Clear();
        return 0;
    }
    *n = (size_t)len;
    return 1;
}

int
eb_id_used(CoreObject *self, const char *s, size_t n, uint64_t h, PyObject *str)
{
    if (eb_names_find(&self->ids, s, n, h) >= 0) {
        return 1;
    }
    if (self->used_in_c) {
        return 0;
    }
    PyObject *made = str == NULL ? PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, NULL) : NULL;
    if (str == NULL && made == NULL) {
        return -1;
    }
    int rc = PySet_Contains(self->used, str != NULL ? str : made);
    Py_XDECREF(made);
    return rc;
}

int
eb_id_add(CoreObject *self, const char *s, size_t n, uint64_t h, PyObject *str, uint32_t m)
{
    if (eb_reserve_name(self) < 0) {
        return -1;
    }
    uint64_t k = self->n_names;
    if (eb_names_add(&self->ids, s, n, h) != (int64_t)k) {
        PyErr_NoMemory();
        return -1;
    }
    self->names[k] = str == NULL ? NULL : ref(str);
    self->order_market[k] = m;
    self->n_names = k + 1u;
    return 0;
}

int
eb_id_open(const CoreObject *self, uint64_t k)
{
    uint32_t m = self->order_market[k];
    return m < self->e.n_markets && mc_find(&self->e.markets[m].book, k) != NULL;
}

PyObject *
eb_id_name(CoreObject *self, uint64_t k)
{
    if (self->names[k] == NULL) {
        size_t n;
        const char *s = eb_names_get(&self->ids, k, &n);
        self->names[k] = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, NULL);
    }
    return self->names[k];
}

int
eb_ids_take_used(CoreObject *self)
{
    if (self->used_in_c) {
        return 0;
    }
    PyObject *it = PyObject_GetIter(self->used), *key;
    if (it == NULL) {
        return -1;
    }
    int rc = 0;
    while (rc == 0 && (key = PyIter_Next(it)) != NULL) {
        const char *s;
        size_t n;
        if (eb_utf8(key, &s, &n)) { /* one with no UTF-8 form is never looked up in C */
            uint64_t h = eb_hash(s, n);
            if (eb_names_find(&self->ids, s, n, h) < 0) {
                rc = eb_id_add(self, s, n, h, key, UINT32_MAX);
            }
        } else {
            self->odd_used = 1;
        }
        Py_DECREF(key);
    }
    Py_DECREF(it);
    if (rc < 0 || PyErr_Occurred()) {
        return -1;
    }
    self->used_in_c = 1;
    return 0;
}

int
eb_flush_used(CoreObject *self)
{
    for (; self->flushed < self->n_names; self->flushed++) {
        PyObject *name = eb_id_name(self, self->flushed);
        if (name == NULL || PySet_Add(self->used, name) < 0) {
            return -1;
        }
    }
    return 0;
}

PyObject *
Core_reserve(CoreObject *self, PyObject *arg)
{
    uint64_t orders = PyLong_AsUnsignedLongLong(arg);
    if (orders == (uint64_t)-1 && PyErr_Occurred()) {
        return NULL;
    }
    if (orders > NAMES_MAX) {
        PyErr_Format(PyExc_OverflowError, "orders %llu is over %llu", (unsigned long long)orders,
                     (unsigned long long)NAMES_MAX);
        return NULL;
    }
    /* an id's bytes: 16 a name, as eb_names_init guesses */
    if (eb_names_reserve(&self->ids, orders, (size_t)orders * 16u) < 0) {
        return PyErr_NoMemory();
    }
    if (eb_reserve_names(self, orders) < 0) {
        return NULL;
    }
    eb_prefault(self->ids.bytes, self->ids.cap);
    eb_prefault(self->ids.start, (size_t)self->ids.room * sizeof *self->ids.start);
    eb_prefault(self->ids.groups, (size_t)self->ids.n_groups * sizeof *self->ids.groups);
    eb_prefault(self->names, (size_t)self->cap_names * sizeof *self->names);
    eb_prefault(self->order_market, (size_t)self->cap_names * sizeof *self->order_market);
    eb_prefault(self->order_post, (size_t)self->cap_names);
    /* the markets' books: a share each, as if none of them matched */
    uint32_t n = self->e.n_markets, share = n ? (uint32_t)((orders + n - 1u) / n) : 0;
    for (uint32_t m = 0; m < n; m++) {
        if (ec_reserve(&self->e, m, share) < 0) {
            return PyErr_NoMemory();
        }
        /* and their trades, one an order (each trade fills one of its two orders, so
         * there are at most two an order; past the share the buffer doubles) */
        if (eb_reserve_trades(self, m, share) < 0) {
            return NULL;
        }
        eb_prefault(self->held[m].pending, self->held[m].cap_pending * 3u * sizeof(int64_t));
    }
    Py_RETURN_NONE;
}
