/*
 * engine_runs.c - the used order ids in usedids.py's compact form, kept in C
 * (engine_runs.h): each stem's runs of consecutive numbers, and the ids with no
 * hex tail or no neighbour, in that module's order (stems compared as Python
 * compares strs: UTF-8 keeps code point order).
 *
 * The runs are kept between snapshots (self->runs): a snapshot splits and sorts
 * only the ids numbered since the last one and merges them in, joining runs, so
 * its cost is O(new ids log new ids + runs). The service's ids are its rising
 * stamps in hex, consecutive within a batch: a snapshot holds about one run per
 * batch, not one id per order. Restoring a snapshot reads the form back
 * (eb_restore_used): each id into the id table, and the form itself as the runs,
 * once it is checked to be the one form compact_ids makes of those ids -- so the
 * next snapshot writes it out again without splitting a restored id.
 */
#include "engine_json.h"
#include "engine_runs.h"

#include <stdlib.h>
#include <string.h>

#define TAIL_DIGITS 15u /* usedids.TAIL_DIGITS */

/* The run of name k with a stem of `stem` bytes. */
static eb_run
run_of(const eb_names *t, uint32_t k, size_t stem, uint64_t first, uint32_t count)
{
    size_t n;
    const char *s = eb_names_get(t, k, &n);
    uint64_t head = 0;
    for (size_t i = 0; i < 8u; i++) {
        head = head << 8u | (i < stem ? (unsigned char)s[i] : 0u);
    }
    return (eb_run){first, stem, head, k, count};
}

/* Id k split as usedids.split_id splits it: a run of one, or the whole id. */
static eb_run
split_id(const eb_names *t, uint32_t k)
{
    size_t n, tail = 0;
    const char *s = eb_names_get(t, k, &n);
    while (tail < n && tail < TAIL_DIGITS && hex_value(s[n - 1u - tail]) >= 0) {
        tail++;
    }
    if (tail == 0) {
        return run_of(t, k, n, 0, 0);
    }
    size_t at = n - tail;
    while (at < n - 1u && s[at] == '0') {
        at++;
    }
    uint64_t v = 0;
    for (size_t i = at; i < n; i++) {
        v = v * 16u + (uint64_t)hex_value(s[i]);
    }
    return run_of(t, k, at, v, 1);
}

/* By stem as Python compares strs (UTF-8 keeps code point order), then a whole id first,
 * then by first number: usedids.compact_ids's order. */
static int
run_cmp(const eb_names *t, const eb_run *x, const eb_run *y)
{
    size_t n = (size_t)x->stem, m = (size_t)y->stem;
    int r = (x->head > y->head) - (x->head < y->head);
    if (r == 0 && n > 8u && m > 8u) {
        size_t ignored;
        const char *a = eb_names_get(t, x->k, &ignored), *b = eb_names_get(t, y->k, &ignored);
        r = memcmp(a + 8, b + 8, (n < m ? n : m) - 8u);
    }
    /* equal heads of stems within 8 bytes (or equal so far): the shorter one is a prefix */
    r = r ? r : (n > m) - (n < m);
    r = r ? r : (x->count != 0) - (y->count != 0); /* a whole id before the stem's numbers */
    return r ? r : (x->first > y->first) - (x->first < y->first);
}

/* Sort runs[0..n) by run_cmp (a merge sort through tmp, n entries). */
static void
sort_runs(const eb_names *t, eb_run *runs, eb_run *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2u) {
        for (size_t lo = 0; lo < n; lo += 2u * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2u * width < n ? lo + 2u * width : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) {
                tmp[o++] = run_cmp(t, &runs[j], &runs[i]) < 0 ? runs[j++] : runs[i++];
            }
            while (i < mid) {
                tmp[o++] = runs[i++];
            }
            while (j < hi) {
                tmp[o++] = runs[j++];
            }
        }
        memcpy(runs, tmp, n * sizeof *runs);
    }
}

eb_run *
eb_sorted_names(const eb_names *t, uint32_t count)
{
    eb_run *runs = malloc(((size_t)count + 1u) * sizeof *runs);
    eb_run *tmp = malloc(((size_t)count + 1u) * sizeof *tmp);
    if (runs == NULL || tmp == NULL) {
        free(runs);
        free(tmp);
        PyErr_NoMemory();
        return NULL;
    }
    for (uint32_t k = 0; k < count; k++) {
        size_t n;
        eb_names_get(t, k, &n);
        runs[k] = run_of(t, k, n, 0, 0);
    }
    sort_runs(t, runs, tmp, count);
    free(tmp);
    return runs;
}

/* Whether numbered run y, sorted after x, has x's stem and starts no later than just past
 * x's end: it continues x (or overlaps it, which no set of ids does). */
static int
touches(const eb_names *t, const eb_run *x, const eb_run *y)
{
    size_t ignored;
    return x->count && y->count && y->first <= x->first + x->count && x->stem == y->stem
           && x->head == y->head
           && (x->stem <= 8u
               || memcmp(eb_names_get(t, x->k, &ignored), eb_names_get(t, y->k, &ignored),
                         (size_t)x->stem) == 0);
}

/* Append r to out[0..*n), joined to the run before it when r continues it. */
static void
push_run(const eb_names *t, eb_run *out, size_t *n, eb_run r)
{
    if (*n && touches(t, &out[*n - 1u], &r)) {
        out[*n - 1u].count += r.count;
    } else {
        out[(*n)++] = r;
    }
}

int
eb_compact_ids(CoreObject *self)
{
    const eb_names *t = &self->ids;
    size_t old = (size_t)self->n_runs, fresh = (size_t)(self->n_names - self->n_compacted);
    if (fresh == 0) {
        return 0;
    }
    eb_run *added = malloc(fresh * sizeof *added), *tmp = malloc(fresh * sizeof *tmp);
    eb_run *all = malloc((old + fresh) * sizeof *all);
    if (added == NULL || tmp == NULL || all == NULL) {
        free(added);
        free(tmp);
        free(all);
        PyErr_NoMemory();
        return -1;
    }
    int in_order = 1;
    for (size_t i = 0; i < fresh; i++) {
        added[i] = split_id(t, (uint32_t)(self->n_compacted + i));
        in_order = in_order && (i == 0 || run_cmp(t, &added[i - 1u], &added[i]) < 0);
    }
    if (!in_order) {
        sort_runs(t, added, tmp, fresh);
    }
    size_t i = 0, j = 0, n = 0;
    while (i < old || j < fresh) {
        int older = j == fresh || (i < old && run_cmp(t, &self->runs[i], &added[j]) < 0);
        push_run(t, all, &n, older ? self->runs[i++] : added[j++]);
    }
    free(added);
    free(tmp);
    free(self->runs);
    self->runs = all;
    self->n_runs = n;
    self->n_compacted = self->n_names;
    return 0;
}


/* ------------------------------------------------------------- reading */

typedef struct {
    eb_run *p;
    size_t n, cap;
} run_list;

static int
list_push(run_list *l, eb_run r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2u * l->cap : 64u;
        eb_run *p = realloc(l->p, cap * sizeof *p);
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        l->p = p;
        l->cap = cap;
    }
    l->p[l->n++] = r;
    return 0;
}

/* Used id s[0..n) (hash h) into the id table, placed nowhere, its number in *k: 1, or -1
 * with an error. It is not looked up first: an id the form names twice shows as entries that
 * are out of order or touch, which eb_restore_used refuses. */
static int
add_id(CoreObject *self, const char *s, size_t n, uint64_t h, uint32_t *k)
{
    *k = (uint32_t)self->n_names; /* under NAMES_MAX, which fits */
    return eb_id_add(self, s, n, h, NULL, UINT32_MAX) < 0 ? -1 : 1;
}

/* hex(v) into the TAIL_DIGITS bytes at out, right-aligned: how many digits. */
static size_t
hex_of(uint64_t v, char *out)
{
    size_t len = 0;
    do {
        out[TAIL_DIGITS - 1u - len++] = "0123456789abcdef"[v & 15u];
        v >>= 4u;
    } while (v);
    return len;
}

/* Room for the ids the lists of the compact form at p name (past '{"ids":['; a guess when
 * it is not that form, which the reading finds): 0, or -1 with an error. */
static int
reserve_ids(CoreObject *self, const char *p, const char *end)
{
    uint64_t names = 0;
    const char *start = p;
    while (p < end && *p != ']') { /* a string, or the ',' after one */
        const char *close = *p == '"' ? string_close(p + 1, end) : p;
        if (close == NULL) {
            return 0;
        }
        names += close != p;
        p = close + 1;
    }
    size_t bytes = (size_t)(p - start);
    static const char middle[] = "],\"runs\":[";
    p = (size_t)(end - p) >= sizeof middle - 1u ? p + sizeof middle - 1u : end;
    while (p < end && *p++ == '[' && names <= NAMES_MAX) { /* [stem,first,count] */
        const char *stem = p, *comma = skip_value(p, end);
        int64_t first, count;
        p = comma == NULL || comma == end || *comma != ',' ? NULL
                                                           : parse_int(comma + 1, end, &first);
        p = p == NULL || p == end || *p != ',' ? NULL : parse_int(p + 1, end, &count);
        if (p == NULL || count < 0 || (uint64_t)count > NAMES_MAX) {
            break;
        }
        names += (uint64_t)count;
        bytes += (size_t)count * ((size_t)(comma - stem) + TAIL_DIGITS); /* over, not under */
        p += p < end && *p == ']' ? 1 : 0;
        p += p < end && *p == ',' ? 1 : 0;
    }
    if (names > NAMES_MAX) {
        return 0; /* more than a table holds: the reading finds out */
    }
    if (eb_reserve_names(self, names) < 0 || eb_names_reserve(&self->ids, names, bytes) < 0) {
        return PyErr_Occurred() ? -1 : (PyErr_NoMemory(), -1);
    }
    return 0;
}

/* The list of whole ids at p (past its '['), each into the table and split into `out`, in
 * order: past its ']', or NULL when it is not what compact_ids writes (with *rc 0 or -1 when
 * an id was refused, left 1 when the JSON was). */
static const char *
read_ids(CoreObject *self, const char *p, const char *end, run_list *out, int *rc)
{
    char room[TEXT_ROOM];
    for (int first = 1; p < end && *p != ']'; first = 0) {
        const char *s;
        size_t n;
        uint32_t k;
        if ((!first && *p++ != ',') || (p = read_text(p, end, room, &s, &n)) == NULL
            || (*rc = add_id(self, s, n, eb_hash(s, n), &k)) <= 0) {
            return NULL;
        }
        eb_run r = split_id(&self->ids, k);
        if (out->n && run_cmp(&self->ids, &out->p[out->n - 1u], &r) >= 0) {
            *rc = 0; /* out of order */
            return NULL;
        }
        if (list_push(out, r) < 0) {
            *rc = -1;
            return NULL;
        }
    }
    return p < end ? p + 1 : NULL;
}

/* The ids of run [stem, first, count] into the table, and the run into `out`: 1; 0 when it
 * is not one compact_ids writes (a run of one; an id it names is named before; its first id
 * splits into another stem; or it is out of order); -1 with an error. */
static int
add_run(CoreObject *self, const char *stem, size_t n, int64_t first, int64_t count,
        run_list *out)
{
    const uint64_t limit = UINT64_C(1) << (4u * TAIL_DIGITS);
    if (first < 0 || count < 2 || count > UINT32_MAX || (uint64_t)first >= limit
        || (uint64_t)count > limit - (uint64_t)first
        || n > SIZE_MAX / (size_t)count - TAIL_DIGITS) {
        return 0;
    }
    char *id = malloc(n + TAIL_DIGITS), *ahead = malloc(n + TAIL_DIGITS);
    if (id == NULL || ahead == NULL || eb_reserve_names(self, (uint64_t)count) < 0
        || eb_names_reserve(&self->ids, (uint64_t)count,
                            (size_t)count * (n + TAIL_DIGITS)) < 0) {
        free(id);
        free(ahead);
        return PyErr_Occurred() ? -1 : (PyErr_NoMemory(), -1);
    }
    memcpy(id, stem, n);
    memcpy(ahead, stem, n);
    /* Each id's bucket is fetched into the cache a few ids before it is added: nearly every
     * one is a miss in a table of a million ids. */
    enum { AHEAD = 8 };
    uint64_t hashes[AHEAD];
    char digits[TAIL_DIGITS];
    int rc = 1;
    uint32_t k0 = 0;
    for (int64_t i = 0; rc == 1 && i < count + AHEAD; i++) {
        if (i >= AHEAD) { /* id j, fetched AHEAD ids ago: added before its slot is reused */
            int64_t j = i - AHEAD;
            size_t len = hex_of((uint64_t)(first + j), digits);
            memcpy(id + n, digits + TAIL_DIGITS - len, len);
            uint32_t k;
            rc = add_id(self, id, n + len, hashes[j % AHEAD], &k);
            k0 = j == 0 ? k : k0;
        }
        if (i < count) {
            size_t len = hex_of((uint64_t)(first + i), digits);
            memcpy(ahead + n, digits + TAIL_DIGITS - len, len);
            uint64_t h = hashes[i % AHEAD] = eb_hash(ahead, n + len);
            __builtin_prefetch(eb_names_group(&self->ids, h), 1);
        }
    }
    free(id);
    free(ahead);
    if (rc != 1) {
        return rc;
    }
    eb_run r = split_id(&self->ids, k0);
    if (r.count != 1 || r.stem != n || r.first != (uint64_t)first
        || (out->n && run_cmp(&self->ids, &out->p[out->n - 1u], &r) >= 0)) {
        return 0;
    }
    r.count = (uint32_t)count;
    return list_push(out, r) < 0 ? -1 : 1;
}

/* The list of runs at p (past its '['), each into the table and `out`: past its ']', or
 * NULL, *rc as read_ids leaves it. */
static const char *
read_runs(CoreObject *self, const char *p, const char *end, run_list *out, int *rc)
{
    char room[TEXT_ROOM];
    for (int first = 1; p < end && *p != ']'; first = 0) {
        const char *stem;
        size_t n;
        int64_t number, count;
        if ((!first && *p++ != ',') || p == end || *p++ != '['
            || (p = read_text(p, end, room, &stem, &n)) == NULL || p == end || *p++ != ','
            || (p = parse_int(p, end, &number)) == NULL || p == end || *p++ != ','
            || (p = parse_int(p, end, &count)) == NULL || p == end || *p++ != ']'
            || (*rc = add_run(self, stem, n, number, count, out)) <= 0) {
            return NULL;
        }
    }
    return p < end ? p + 1 : NULL;
}

int
eb_restore_used(CoreObject *self, const char *p, const char *end)
{
    static const char head[] = "{\"ids\":[", middle[] = ",\"runs\":[";
    if (self->n_names != 0 || self->n_runs != 0) {
        PyErr_SetString(PyExc_ValueError, "used ids restore into a core with none");
        return -1;
    }
    run_list ids = {0}, runs = {0};
    int rc = 1;
    if ((size_t)(end - p) < sizeof head - 1u || memcmp(p, head, sizeof head - 1u) != 0
        || (rc = reserve_ids(self, p + sizeof head - 1u, end) == 0 ? 1 : -1) < 0
        || (p = read_ids(self, p + sizeof head - 1u, end, &ids, &rc)) == NULL
        || (size_t)(end - p) < sizeof middle - 1u || memcmp(p, middle, sizeof middle - 1u) != 0
        || (p = read_runs(self, p + sizeof middle - 1u, end, &runs, &rc)) == NULL
        || end - p != 1 || *p != '}') {
        rc = rc == 1 ? 0 : rc;
    }
    /* The form as compact_ids makes it: both lists sorted (checked as read), and no two
     * numbered entries of a stem, merged in order, that compact_ids would have joined. */
    eb_run *all = rc == 1 ? malloc((ids.n + runs.n + 1u) * sizeof *all) : NULL;
    if (rc == 1 && all == NULL) {
        PyErr_NoMemory();
        rc = -1;
    }
    size_t i = 0, j = 0, n = 0;
    while (rc == 1 && (i < ids.n || j < runs.n)) {
        int whole = j == runs.n || (i < ids.n && run_cmp(&self->ids, &ids.p[i], &runs.p[j]) < 0);
        eb_run r = whole ? ids.p[i++] : runs.p[j++];
        if (n && touches(&self->ids, &all[n - 1u], &r)) {
            rc = 0;
        }
        all[n++] = r;
    }
    free(ids.p);
    free(runs.p);
    if (rc != 1) {
        free(all);
        return rc;
    }
    self->runs = all;
    self->n_runs = n;
    self->n_compacted = self->n_names;
    return 1;
}
