/*
 * engine_check.c - Core.check(full): the invariants of auctioneer/exchange/invariants.py
 * over the C state, so a recovered or long-running native engine is checked where its
 * state lives instead of being copied out to Python first. Returns None when they hold,
 * else what does not (the caller raises InvariantError with it).
 *
 * The ledger part (always): balances sum to the money minted; 0 <= reserved <= balance;
 * each capacity record has allocated, offered >= 0 and allocated + offered <= provided;
 * a market's cached provided total is the sum of its records; its holdings sum to its
 * allocated capacity. With `full`, each book too: levels strictly ordered by price, none
 * empty, each FIFO linked both ways with its count, quantity, side and price, in arrival
 * order; every queued order open (remaining > 0), found by the book's id table, named
 * (its id in the id table, under its own number and market); the queued orders are all
 * the book holds; a cross-market bid's copy (outside its first market) the same
 * as its first, and counted once; no book crossed at rest (all-or-none orders
 * aside, as in the reference: a level of only those may cross); each reservation equals its
 * account's bids' price x remaining and each offer its asks' remaining in that market.
 * Sums are taken in 128 bits, so a check never wraps. Part of the _engine binding.
 */
#include "engine_binding.h"

#include <stdio.h>

typedef __int128 wide;

#define FAIL(...)                                                                          \
    do {                                                                                   \
        snprintf(what, size, __VA_ARGS__);                                                 \
        return 1;                                                                          \
    } while (0)

static int
check_ledger(const ec_engine *e, char *what, size_t size)
{
    wide money = 0;
    for (uint32_t a = 0; a < e->n_accounts; a++) {
        const ec_account *acct = &e->accounts[a];
        money += acct->balance;
        if (acct->reserved < 0 || acct->reserved > acct->balance) {
            FAIL("account %u: reserved beyond balance", a);
        }
    }
    if (money != e->minted) {
        FAIL("money is not conserved");
    }
    for (uint32_t m = 0; m < e->n_markets; m++) {
        wide provided = 0, allocated = 0, held = 0;
        for (uint32_t a = 0; a < e->n_accounts; a++) {
            const ec_slot *s = ec_slot_of(e, m, a);
            held += s->holding;
            if (!s->exists) {
                continue;
            }
            if (s->allocated < 0 || s->offered < 0
                || (wide)s->allocated + s->offered > s->provided) {
                FAIL("account %u market %u: allocated + offered > provided", a, m);
            }
            provided += s->provided;
            allocated += s->allocated;
        }
        if (provided != e->markets[m].provided) {
            FAIL("market %u: capacity index", m);
        }
        if (held != allocated) {
            FAIL("market %u: bought instances differ from allocated capacity", m);
        }
    }
    return 0;
}

/* One side of market m's book; adds each bid's price x remaining to reserved[account]
 * and each ask's remaining to offered[account]; marks each queued order's number in the
 * bitmap `open` (check_names looks them up); counts the orders queued; *best: the best
 * price with an order that is not all-or-none (0: none). */
static int
check_side(const CoreObject *self, uint32_t m, int buy, wide *reserved, wide *offered,
           uint64_t *open, uint64_t *queued, int64_t *best, char *what, size_t size)
{
    *best = 0;
    const mc_book *b = &self->e.markets[m].book;
    const mc_side *side = buy ? &b->bids : &b->asks;
    for (uint32_t i = 0; i < side->count; i++) {
        const mc_level *lv = &side->levels[i];
        if (i > 0 && (buy ? side->levels[i - 1].price >= lv->price
                          : side->levels[i - 1].price <= lv->price)) {
            FAIL("market %u: price order at %lld", m, (long long)lv->price);
        }
        if (lv->count == 0 || lv->head == MC_NONE) {
            FAIL("market %u: empty level %lld", m, (long long)lv->price);
        }
        uint32_t count = 0, prev = MC_NONE;
        wide quantity = 0;
        uint64_t last_seq = 0;
        for (uint32_t s = lv->head; s != MC_NONE; prev = s, s = b->orders[s].next) {
            const mc_order *o = &b->orders[s];
            if (s >= b->max_orders || ++count > lv->count || o->prev != prev) {
                FAIL("market %u: count at %lld", m, (long long)lv->price);
            }
            if (count > 1 && o->seq < last_seq) {
                FAIL("market %u: time order at %lld", m, (long long)lv->price);
            }
            last_seq = o->seq;
            if (!o->buy != !buy || o->price != lv->price) {
                FAIL("order %llu: misplaced", (unsigned long long)o->id);
            }
            if (mc_find(b, o->id) != o) {
                FAIL("order %llu: not indexed", (unsigned long long)o->id);
            }
            if (o->remaining <= 0 || o->id >= self->n_names
                || (self->order_market[o->id] != m && o->link == MC_NONE)
                || o->account >= self->e.n_accounts) {
                FAIL("order %llu: bad open order", (unsigned long long)o->id);
            }
            open[o->id / 64u] |= UINT64_C(1) << (o->id % 64u);
            quantity += o->remaining;
            *best = o->aon ? *best : lv->price; /* levels come worst first */
            if (self->order_market[o->id] != m) { /* a cross-market bid's copy */
                uint32_t first = self->order_market[o->id];
                const mc_order *f = first < self->e.n_markets
                                        ? mc_find(&self->e.markets[first].book, o->id)
                                        : NULL;
                if (f == NULL || f->remaining != o->remaining || f->price != o->price
                    || f->seq != o->seq || f->aon != o->aon || !buy) {
                    FAIL("order %llu: copies differ", (unsigned long long)o->id);
                }
                continue;
            }
            if (buy) {
                reserved[o->account] += (wide)o->price * o->remaining;
            } else {
                offered[o->account] += o->remaining;
            }
        }
        if (count != lv->count || prev != lv->tail) {
            FAIL("market %u: count at %lld", m, (long long)lv->price);
        }
        if (quantity != lv->quantity) {
            FAIL("market %u: quantity at %lld", m, (long long)lv->price);
        }
        *queued += count;
    }
    return 0;
}

/* Every order number marked in `open` names an id that the id table finds under that
 * number. Done in number order after the books' walk, not order by order during it: the
 * names then lie in the order they were added, so reading and hashing them streams, and
 * each lookup's buckets are prefetched AHEAD numbers early. Looked up as it met them, an
 * order cost four or five cache misses (its name's offsets and bytes, tag, key): 35 of
 * the 41 ms of check(full) over 160,000 open orders. */
static int
check_names(const CoreObject *self, const uint64_t *open, char *what, size_t size)
{
    enum { AHEAD = 8 };
    const eb_names *t = &self->ids;
    uint64_t ks[AHEAD], hs[AHEAD], fetched = 0, checked = 0;
    uint64_t words = (self->n_names + 63u) / 64u;
    for (uint64_t w = 0, bits = 0; w < words || bits != 0 || checked < fetched;) {
        if (bits == 0 && w < words) {
            bits = open[w++];
            continue;
        }
        if (bits != 0 && fetched - checked < AHEAD) {
            uint64_t k = (w - 1u) * 64u + (uint64_t)__builtin_ctzll(bits);
            size_t n;
            const char *name = eb_names_get(t, k, &n);
            uint64_t h = eb_hash(name, n);
            __builtin_prefetch(eb_names_group(t, h));
            ks[fetched % AHEAD] = k;
            hs[fetched % AHEAD] = h;
            fetched++;
            bits &= bits - 1u;
            continue;
        }
        uint64_t k = ks[checked % AHEAD]; /* the one fetched AHEAD ago, or the last ones */
        if (eb_names_find(t, t->bytes + t->start[k], t->start[k + 1u] - t->start[k],
                          hs[checked % AHEAD]) != (int64_t)k) {
            FAIL("order %llu: bad open order", (unsigned long long)k);
        }
        checked++;
    }
    return 0;
}

/* 0 when the books hold, 1 with `what` set when not, -1 on a Python error. */
static int
check_books(const CoreObject *self, char *what, size_t size)
{
    const ec_engine *e = &self->e;
    wide *reserved = PyMem_Calloc(e->n_accounts + 1u, sizeof(wide));
    wide *offered = PyMem_Calloc(e->n_accounts + 1u, sizeof(wide));
    uint64_t *open = PyMem_Calloc(self->n_names / 64u + 1u, sizeof(uint64_t));
    uint64_t queued = 0;
    int rc = reserved == NULL || offered == NULL || open == NULL ? -1 : 0;
    if (rc < 0) {
        PyErr_NoMemory();
    }
    for (uint32_t m = 0; rc == 0 && m < e->n_markets; m++) {
        const mc_book *b = &e->markets[m].book;
        uint64_t before = queued;
        int64_t bid, ask;
        for (uint32_t a = 0; a < e->n_accounts; a++) {
            offered[a] = 0;
        }
        rc = check_side(self, m, 1, reserved, offered, open, &queued, &bid, what, size);
        rc = rc ? rc : check_side(self, m, 0, reserved, offered, open, &queued, &ask, what, size);
        if (rc == 0 && queued - before != b->open) {
            snprintf(what, size, "market %u: open orders and book entries differ", m);
            rc = 1;
        }
        if (rc == 0 && bid && ask && bid >= ask) {
            snprintf(what, size, "market %u: crossed at rest", m);
            rc = 1;
        }
        for (uint32_t a = 0; rc == 0 && a < e->n_accounts; a++) {
            const ec_slot *s = ec_slot_of(e, m, a);
            if (offered[a] != (s->exists ? s->offered : 0)) {
                snprintf(what, size, "account %u market %u: offered", a, m);
                rc = 1;
            }
        }
    }
    for (uint32_t a = 0; rc == 0 && a < e->n_accounts; a++) {
        if (reserved[a] != e->accounts[a].reserved) {
            snprintf(what, size, "account %u: reservation", a);
            rc = 1;
        }
    }
    rc = rc ? rc : check_names(self, open, what, size);
    PyMem_Free(reserved);
    PyMem_Free(offered);
    PyMem_Free(open);
    return rc;
}

/* check(full) -> None when the invariants hold, else what does not (a str). */
PyObject *
Core_check(CoreObject *self, PyObject *args)
{
    int full = 1;
    if (!PyArg_ParseTuple(args, "|p", &full)) {
        return NULL;
    }
    char what[160];
    int rc = check_ledger(&self->e, what, sizeof what);
    if (rc == 0 && full) {
        rc = check_books(self, what, sizeof what);
    }
    if (rc < 0) {
        return NULL;
    }
    return rc ? PyUnicode_FromString(what) : ref(Py_None);
}
