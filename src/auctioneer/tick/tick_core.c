/*
 * tick_core.c - the five tick structures of tick_core.h, freestanding C99.
 *
 * Memory layout. Everything lives in the caller's zeroed, 16-byte aligned
 * block; arrays are found by byte offsets stored in the header, never by
 * pointers, so a block stays valid when copied or mapped at another address.
 * Zero means "empty" or "none" everywhere (agent links and winners are
 * 1-based), so tick_book_init writes only the header.
 *
 *   struct tick_book        header: kind, capacity, len, arrival counter,
 *                           random state, parameters, array offsets, the
 *                           kind's scalars
 *   struct tick_slot[C]     every agent's bid, seq 0 = none (all kinds)
 *
 * then, each array 16-byte aligned (C = capacity, T = tiers, G = groups,
 * P = G rounded up to a power of two, D = depth):
 *
 *   TIERS    u64 bits[65]        [0]: bit w set iff bits[1+w] != 0;
 *                                [1+w]: bit b set iff tier 64w+b is non-empty
 *            {head,tail}[T]      each tier's FIFO ends, 1-based agents
 *            {prev,next}[C]      FIFO links, 1-based agents
 *            u16 tier[C]         the tier an agent is listed in
 *   LAZY     u32 dense[C]        live agents, unordered
 *            u32 where[C]        position in dense | LZ_CACHED
 *            {seq,price,agent}[D] the cache, in rank order
 *            u32 scratch[C]      bounded heap for select(n > D)
 *   TOURNEY  u32 local[G]        each group's winner, 1-based
 *            u32 tree[2P]        winner tree: root 1, leaf of group g at P+g
 *            u64 emitted[G]      select's marks, all zero between selects
 *            {agent,code}[C]     select's frontier heap
 *   SAMPLED  u32 dense[C], u32 where[C]   as LAZY, without the cache bit
 *            u32 mark[C]         the epoch of the last select that drew it
 *            u32 scratch[C]      bounded heap for the sample's top n
 *   HEAP     {price,agent}[C]    the heap; the price rides along so sifting
 *                                reads one array and touches slots on ties only
 *            u32 pos[C]          heap position + 1
 *            u32 aux[C]          select's heap of heap positions
 *
 * Rank: price desc, seq asc (tiers: tier desc, seq asc). Arrival stamps are
 * unique, so every ranking is a total order and every structure's answer is
 * unique: that is what lets the reference's sorts and these heaps agree.
 */
#include "tick_core.h"

#define TICK_GOLDEN 0x9E3779B97F4A7C15ull
#define TICK_XS_MUL 0x2545F4914F6CDD1Dull
#define LZ_CACHED 0x80000000u
#define LZ_POS 0x7FFFFFFFu
#define FR_GROUP 0x80000000u
#define GROUP_SHIFT 40

struct tick_book {
    uint32_t kind;
    uint32_t capacity;
    uint32_t len;
    uint32_t bytes;
    uint64_t seq;
    uint64_t rng;
    uint32_t off[4];
    /* TICK_LAZY. The cache goes stale when an update's price exceeds
     * `enter`; -1 while the cache is not full, so every update does. */
    int64_t enter;
    uint32_t fresh;     /* 0 = stale, so a zeroed block starts stale */
    uint32_t since;
    uint32_t clen;
    uint32_t epoch;     /* TICK_SAMPLED */
    uint32_t groups;    /* TICK_TOURNEY: G */
    uint32_t leaves;    /* TICK_TOURNEY: P */
    uint64_t gmul;      /* TICK_TOURNEY: agent / group as a multiply */
    struct tick_params p;
};

struct tier_ends { uint32_t head, tail; };
struct tier_link { uint32_t prev, next; };
struct lz_entry { uint64_t seq; uint32_t price, agent; };
struct fr_entry { uint32_t agent, code; };
struct hp_entry { uint32_t price, agent; };

#define HDR ((sizeof(struct tick_book) + 15u) & ~(size_t)15u)
#define ARR(b, i, type) ((type *)(void *)((unsigned char *)(b) + (b)->off[i]))
#define CARR(b, i, type) \
    ((const type *)(const void *)((const unsigned char *)(b) + (b)->off[i]))

static inline struct tick_slot *slots_of(struct tick_book *b)
{
    return (struct tick_slot *)(void *)((unsigned char *)b + HDR);
}

static inline const struct tick_slot *cslots_of(const struct tick_book *b)
{
    return (const struct tick_slot *)(const void *)((const unsigned char *)b + HDR);
}

/* x != 0. The builtin is one instruction on x86-64; the fallback keeps the
 * file compilable by anything C99. */
static inline uint32_t top_bit(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return 63u - (uint32_t)__builtin_clzll(x);
#else
    uint32_t n = 63;
    while (!(x >> n))
        n--;
    return n;
#endif
}

/* Does agent a rank ahead of agent b? */
static inline int better(const struct tick_slot *s, uint32_t a, uint32_t b)
{
    uint32_t pa = s[a].price, pb = s[b].price;
    return pa > pb || (pa == pb && s[a].seq < s[b].seq);
}

static inline void put(struct tick_book *b, struct tick_slot *slot,
                       uint32_t price, uint32_t units)
{
    slot->seq = ++b->seq;
    slot->price = price;
    slot->units = units;
}

static inline void drop(struct tick_slot *slot)
{
    slot->seq = 0;
    slot->price = 0;
    slot->units = 0;
}

/* Volatile stores, so no compiler turns this into a memset call. */
static void wipe32(uint32_t *p, uint32_t n)
{
    volatile uint32_t *v = p;
    uint32_t i;
    for (i = 0; i < n; i++)
        v[i] = 0;
}

/* ---------------------------------------------------------------- tiers -- */

static int map_ok(const struct tick_tier_map *m)
{
    if (m->tiers < 1 || m->tiers > TICK_MAX_TIERS)
        return 0;
    if (m->kind == TICK_MAP_LINEAR)
        return m->width >= 1;
    if (m->kind == TICK_MAP_LOG)
        return m->sub_bits <= 16;
    return 0;
}

static inline uint32_t map_tier(const struct tick_tier_map *m, uint32_t price)
{
    uint32_t tier;
    if (m->kind == TICK_MAP_LINEAR) {
        tier = price < m->base ? 0 : (price - m->base) / m->width;
    } else if (price < (2u << m->sub_bits)) {
        tier = price;
    } else {
        uint32_t s = top_bit(price) - m->sub_bits;
        tier = (s << m->sub_bits) + (price >> s);
    }
    return tier < m->tiers ? tier : m->tiers - 1;
}

/* 64-bit so base + t * width cannot wrap; a floor no uint32 price reaches
 * (only tiers no bid can occupy) saturates at TICK_PRICE_MAX. */
static inline uint32_t map_floor(const struct tick_tier_map *m, uint32_t t)
{
    uint64_t f;
    if (m->kind == TICK_MAP_LINEAR) {
        if (!t)
            return 0;
        f = (uint64_t)m->base + (uint64_t)t * m->width;
    } else {
        uint32_t sb = m->sub_bits, s;
        if (t < (2u << sb))
            return t;
        s = (t >> sb) - 1;
        if (s >= 32)
            return TICK_PRICE_MAX;
        f = (uint64_t)(t - (s << sb)) << s;
    }
    return f > TICK_PRICE_MAX ? TICK_PRICE_MAX : (uint32_t)f;
}

/* Public versions are total: an invalid map (which no book accepts) maps
 * everything to 0 instead of dividing by zero or shifting out of range. */
uint32_t tick_tier_of(const struct tick_tier_map *map, uint32_t price)
{
    return map && map_ok(map) ? map_tier(map, price) : 0;
}

uint32_t tick_tier_floor(const struct tick_tier_map *map, uint32_t tier)
{
    return map && map_ok(map) ? map_floor(map, tier) : 0;
}

static inline void tiers_unlink(uint64_t *bits, struct tier_ends *e,
                                struct tier_link *l, uint32_t a, uint32_t t)
{
    uint32_t pv = l[a].prev, nx = l[a].next;
    if (pv)
        l[pv - 1].next = nx;
    else
        e[t].head = nx;
    if (nx)
        l[nx - 1].prev = pv;
    else
        e[t].tail = pv;
    if (!e[t].head) {
        uint32_t w = t >> 6;
        bits[1 + w] &= ~(1ull << (t & 63));
        if (!bits[1 + w])
            bits[0] &= ~(1ull << w);
    }
}

static inline void tiers_append(uint64_t *bits, struct tier_ends *e,
                                struct tier_link *l, uint32_t a, uint32_t t)
{
    uint32_t tl = e[t].tail;
    l[a].prev = tl;
    l[a].next = 0;
    if (tl) {
        l[tl - 1].next = a + 1;
    } else {
        uint32_t w = t >> 6;
        e[t].head = a + 1;
        bits[1 + w] |= 1ull << (t & 63);
        bits[0] |= 1ull << w;
    }
    e[t].tail = a + 1;
}

static void tiers_update(struct tick_book *b, uint32_t a, uint32_t price,
                         uint32_t units)
{
    struct tick_slot *s = slots_of(b);
    uint64_t *bits = ARR(b, 0, uint64_t);
    struct tier_ends *e = ARR(b, 1, struct tier_ends);
    struct tier_link *l = ARR(b, 2, struct tier_link);
    uint16_t *tier = ARR(b, 3, uint16_t);
    uint32_t t = map_tier(&b->p.map, price);

    if (s[a].seq) {
        uint32_t old = tier[a];
        /* Already last in its tier: re-arriving there leaves it last. */
        if (old == t && e[t].tail == a + 1) {
            put(b, &s[a], price, units);
            return;
        }
        tiers_unlink(bits, e, l, a, old);
    } else {
        b->len++;
    }
    put(b, &s[a], price, units);
    tier[a] = (uint16_t)t;
    tiers_append(bits, e, l, a, t);
}

static void tiers_expire(struct tick_book *b, uint32_t a)
{
    struct tier_link *l = ARR(b, 2, struct tier_link);
    uint16_t *tier = ARR(b, 3, uint16_t);
    tiers_unlink(ARR(b, 0, uint64_t), ARR(b, 1, struct tier_ends), l, a, tier[a]);
    l[a].prev = 0;
    l[a].next = 0;
    tier[a] = 0;
    drop(&slots_of(b)[a]);
    b->len--;
}

static uint32_t tiers_select(const struct tick_book *b, uint32_t n,
                             uint32_t *agents, uint32_t *prices)
{
    const uint64_t *bits = CARR(b, 0, uint64_t);
    const struct tier_ends *e = CARR(b, 1, struct tier_ends);
    const struct tier_link *l = CARR(b, 2, struct tier_link);
    uint64_t sum = bits[0], word;
    uint32_t w, k = 0;

    if (!n || !sum)
        return 0;
    w = top_bit(sum);
    word = bits[1 + w];
    for (;;) {
        uint32_t bit = top_bit(word), t = (w << 6) | bit, x;
        uint32_t floor = map_floor(&b->p.map, t);
        for (x = e[t].head; x; x = l[x - 1].next) {
            agents[k] = x - 1;
            prices[k] = floor;
            if (++k == n)
                return k;
        }
        /* Next lower non-empty tier: lower bits of this word, else the
         * highest word below this one. */
        word &= (1ull << bit) - 1;
        if (!word) {
            sum &= (1ull << w) - 1;
            if (!sum)
                return k;
            w = top_bit(sum);
            word = bits[1 + w];
        }
    }
}

static void tiers_clear(struct tick_book *b)
{
    struct tick_slot *s = slots_of(b);
    uint64_t *bits = ARR(b, 0, uint64_t);
    struct tier_ends *e = ARR(b, 1, struct tier_ends);
    struct tier_link *l = ARR(b, 2, struct tier_link);
    uint16_t *tier = ARR(b, 3, uint16_t);

    while (bits[0]) {
        uint32_t w = top_bit(bits[0]);
        while (bits[1 + w]) {
            uint32_t t = (w << 6) | top_bit(bits[1 + w]), x = e[t].head;
            while (x) {
                uint32_t a = x - 1;
                x = l[a].next;
                l[a].prev = 0;
                l[a].next = 0;
                tier[a] = 0;
                drop(&s[a]);
            }
            e[t].head = 0;
            e[t].tail = 0;
            bits[1 + w] &= ~(1ull << (t & 63));
        }
        bits[0] &= ~(1ull << w);
    }
}

static int tiers_check(const struct tick_book *b)
{
    const struct tick_slot *s = cslots_of(b);
    const uint64_t *bits = CARR(b, 0, uint64_t);
    const struct tier_ends *e = CARR(b, 1, struct tier_ends);
    const struct tier_link *l = CARR(b, 2, struct tier_link);
    const uint16_t *tier = CARR(b, 3, uint16_t);
    const struct tick_tier_map *m = &b->p.map;
    uint32_t w, t, a, listed = 0;

    for (w = 0; w < 64; w++)
        if (((bits[0] >> w) & 1) != (bits[1 + w] != 0))
            return 0;
    for (t = 0; t < TICK_MAX_TIERS; t++) {
        int set = (int)((bits[1 + (t >> 6)] >> (t & 63)) & 1);
        uint32_t x, prev = 0;
        uint64_t last_seq = 0;
        if (t >= m->tiers) {
            if (set)
                return 0;
            continue;
        }
        if (set != (e[t].head != 0) || (e[t].head == 0) != (e[t].tail == 0))
            return 0;
        for (x = e[t].head; x; x = l[x - 1].next) {
            a = x - 1;
            if (a >= b->capacity || !s[a].seq || tier[a] != t
                || map_tier(m, s[a].price) != t || l[a].prev != prev
                || s[a].seq <= last_seq || ++listed > b->len)
                return 0;
            last_seq = s[a].seq;
            prev = x;
        }
        if (e[t].tail != prev)
            return 0;
    }
    if (listed != b->len)
        return 0;
    for (a = 0; a < b->capacity; a++)
        if (!s[a].seq && (l[a].prev || l[a].next || tier[a]))
            return 0;
    return 1;
}

/* --------------------------------------------------------- bounded heap -- */

/* The best `cap` agents offered so far, worst at the root, so most offers
 * are rejected by one comparison. Used where n is arbitrary (LAZY beyond its
 * depth, SAMPLED): O(m log n) over m offers, no copy of the input. */
static inline void bh_down(const struct tick_slot *s, uint32_t *h, uint32_t n,
                           uint32_t i, uint32_t a)
{
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && better(s, h[c], h[c + 1]))
            c++;
        if (!better(s, a, h[c]))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = a;
}

static inline void bh_offer(const struct tick_slot *s, uint32_t *h,
                            uint32_t *size, uint32_t cap, uint32_t a)
{
    uint32_t i = *size;
    if (i < cap) {
        *size = i + 1;
        while (i) {
            uint32_t p = (i - 1) >> 1;
            if (!better(s, h[p], a))
                break;
            h[i] = h[p];
            i = p;
        }
        h[i] = a;
    } else if (better(s, a, h[0])) {
        bh_down(s, h, i, 0, a);
    }
}

static uint32_t bh_drain(const struct tick_slot *s, uint32_t *h, uint32_t size,
                         uint32_t *agents, uint32_t *prices)
{
    uint32_t k = size;
    while (k) {
        uint32_t a = h[0];
        k--;
        agents[k] = a;
        prices[k] = s[a].price;
        if (k)
            bh_down(s, h, k, 0, h[k]);
    }
    return size;
}

/* ----------------------------------------------------------------- lazy -- */

static void lazy_update(struct tick_book *b, uint32_t a, uint32_t price,
                        uint32_t units)
{
    struct tick_slot *s = slots_of(b);
    uint32_t *where = ARR(b, 1, uint32_t);

    if (!s[a].seq) {
        uint32_t *dense = ARR(b, 0, uint32_t);
        where[a] = b->len;
        dense[b->len++] = a;
    }
    put(b, &s[a], price, units);
    if (b->fresh && ((where[a] & LZ_CACHED) || (int64_t)price > b->enter))
        b->fresh = 0;
}

static void lazy_expire(struct tick_book *b, uint32_t a)
{
    uint32_t *dense = ARR(b, 0, uint32_t), *where = ARR(b, 1, uint32_t);
    uint32_t w = where[a], last = dense[--b->len];
    if (last != a) {
        dense[w & LZ_POS] = last;
        where[last] = (where[last] & LZ_CACHED) | (w & LZ_POS);
    }
    if (w & LZ_CACHED)
        b->fresh = 0;
    where[a] = 0;
    drop(&slots_of(b)[a]);
}

static inline void lazy_offer(struct lz_entry *c, uint32_t *clen, uint32_t depth,
                              uint32_t a, uint32_t p, uint64_t q)
{
    uint32_t j = *clen < depth ? (*clen)++ : depth - 1;
    while (j && (p > c[j - 1].price || (p == c[j - 1].price && q < c[j - 1].seq))) {
        c[j] = c[j - 1];
        j--;
    }
    c[j].seq = q;
    c[j].price = p;
    c[j].agent = a;
}

/* One pass over the live bids keeping the best `depth` by insertion: after
 * the first few, almost every bid fails the single test against the last
 * cached one. The ranking is a total order, so the pass may visit bids in
 * any order: through the dense array when live bids are sparse, straight
 * along the slots (sequential, prefetched) when at least a quarter of them
 * are live. */
static void lazy_recompute(struct tick_book *b)
{
    const struct tick_slot *s = slots_of(b);
    const uint32_t *dense = ARR(b, 0, uint32_t);
    uint32_t *where = ARR(b, 1, uint32_t);
    struct lz_entry *c = ARR(b, 2, struct lz_entry);
    uint32_t depth = b->p.depth, len = b->len, clen = 0, i;
    uint32_t lim_price = 0;
    uint64_t lim_seq = 0;

    for (i = 0; i < b->clen; i++)
        where[c[i].agent] &= ~LZ_CACHED;
    if (len >= b->capacity >> 2) {
        for (i = 0; i < b->capacity; i++) {
            uint32_t p = s[i].price;
            uint64_t q = s[i].seq;
            if (clen == depth && (p < lim_price || (p == lim_price && q > lim_seq)))
                continue;
            if (!q)
                continue;
            lazy_offer(c, &clen, depth, i, p, q);
            lim_price = c[clen - 1].price;
            lim_seq = c[clen - 1].seq;
        }
    } else {
        for (i = 0; i < len; i++) {
            uint32_t a = dense[i], p = s[a].price;
            uint64_t q = s[a].seq;
            if (clen == depth && (p < lim_price || (p == lim_price && q > lim_seq)))
                continue;
            lazy_offer(c, &clen, depth, a, p, q);
            lim_price = c[clen - 1].price;
            lim_seq = c[clen - 1].seq;
        }
    }
    for (i = 0; i < clen; i++)
        where[c[i].agent] |= LZ_CACHED;
    b->clen = clen;
    b->enter = clen < depth ? -1 : (int64_t)c[clen - 1].price + (int64_t)b->p.threshold;
    b->fresh = 1;
    b->since = 0;
}

static uint32_t lazy_select(struct tick_book *b, uint32_t n, uint32_t *agents,
                            uint32_t *prices)
{
    if (!b->fresh || b->since >= b->p.period)
        lazy_recompute(b);
    b->since++;
    if (n <= b->p.depth) {
        const struct lz_entry *c = ARR(b, 2, struct lz_entry);
        uint32_t k, m = n < b->clen ? n : b->clen;
        for (k = 0; k < m; k++) {
            agents[k] = c[k].agent;
            prices[k] = c[k].price;
        }
        return m;
    } else {
        const struct tick_slot *s = slots_of(b);
        const uint32_t *dense = ARR(b, 0, uint32_t);
        uint32_t *h = ARR(b, 3, uint32_t), size = 0, i;
        for (i = 0; i < b->len; i++)
            bh_offer(s, h, &size, n, dense[i]);
        return bh_drain(s, h, size, agents, prices);
    }
}

static void dense_clear(struct tick_book *b)
{
    struct tick_slot *s = slots_of(b);
    const uint32_t *dense = ARR(b, 0, uint32_t);
    uint32_t *where = ARR(b, 1, uint32_t), i;
    for (i = 0; i < b->len; i++) {
        where[dense[i]] = 0;
        drop(&s[dense[i]]);
    }
}

/* The dense array is a bijection onto the live agents and `where` inverts
 * it; `flag` is the bit `where` may carry besides the position. */
static int dense_check(const struct tick_book *b, uint32_t flag)
{
    const struct tick_slot *s = cslots_of(b);
    const uint32_t *dense = CARR(b, 0, uint32_t), *where = CARR(b, 1, uint32_t);
    uint32_t i;
    for (i = 0; i < b->len; i++) {
        uint32_t a = dense[i];
        if (a >= b->capacity || !s[a].seq || (where[a] & ~flag) != i)
            return 0;
    }
    for (i = 0; i < b->capacity; i++)
        if (!s[i].seq && where[i])
            return 0;
    return 1;
}

static int lazy_check(const struct tick_book *b)
{
    const struct tick_slot *s = cslots_of(b);
    const uint32_t *where = CARR(b, 1, uint32_t);
    const struct lz_entry *c = CARR(b, 2, struct lz_entry);
    uint32_t depth = b->p.depth, marked = 0, held = 0, i, a;

    if (!dense_check(b, LZ_CACHED) || b->clen > depth || b->since > b->p.period)
        return 0;
    for (a = 0; a < b->capacity; a++)
        if (s[a].seq && (where[a] & LZ_CACHED))
            marked++;
    /* Recompute stores distinct agents, so equal counts mean every marked
     * agent is in the cache. */
    for (i = 0; i < b->clen; i++) {
        a = c[i].agent;
        if (a >= b->capacity)
            return 0;
        if (s[a].seq && (where[a] & LZ_CACHED))
            held++;
    }
    if (held != marked)
        return 0;
    if (!b->fresh)
        return 1;
    if (b->clen != (b->len < depth ? b->len : depth) || marked != b->clen)
        return 0;
    for (i = 0; i < b->clen; i++) {
        a = c[i].agent;
        if (c[i].seq != s[a].seq || c[i].price != s[a].price)
            return 0;
        if (i && !better(s, c[i - 1].agent, a))
            return 0;
    }
    if (b->enter != (b->clen < depth ? -1
                     : (int64_t)c[b->clen - 1].price + (int64_t)b->p.threshold))
        return 0;
    /* With no threshold nothing outranks the cache's last entry unseen. */
    if (!b->p.threshold && b->clen == depth)
        for (a = 0; a < b->capacity; a++)
            if (s[a].seq && !(where[a] & LZ_CACHED)
                && better(s, a, c[depth - 1].agent))
                return 0;
    return 1;
}

/* -------------------------------------------------------------- sampled -- */

static void sampled_update(struct tick_book *b, uint32_t a, uint32_t price,
                           uint32_t units)
{
    struct tick_slot *s = slots_of(b);
    if (!s[a].seq) {
        ARR(b, 1, uint32_t)[a] = b->len;
        ARR(b, 0, uint32_t)[b->len++] = a;
    }
    put(b, &s[a], price, units);
}

static void sampled_expire(struct tick_book *b, uint32_t a)
{
    uint32_t *dense = ARR(b, 0, uint32_t), *where = ARR(b, 1, uint32_t);
    uint32_t hole = where[a], last = dense[--b->len];
    if (last != a) {
        dense[hole] = last;
        where[last] = hole;
    }
    where[a] = 0;
    drop(&slots_of(b)[a]);
}

static uint32_t sampled_select(struct tick_book *b, uint32_t n, uint32_t *agents,
                               uint32_t *prices)
{
    const struct tick_slot *s = slots_of(b);
    const uint32_t *dense = ARR(b, 0, uint32_t);
    uint32_t *mark = ARR(b, 2, uint32_t), *h = ARR(b, 3, uint32_t);
    uint32_t live = b->len, size = 0, i;

    if (b->p.samples >= live) {
        if (!n)
            return 0;
        for (i = 0; i < live; i++)
            bh_offer(s, h, &size, n, dense[i]);
    } else {
        /* Marks are stamped with a per-select epoch so they never need
         * clearing, except once every 2^32 selects. */
        uint64_t x = b->rng;
        uint32_t epoch = b->epoch + 1;
        if (!epoch) {
            wipe32(mark, b->capacity);
            epoch = 1;
        }
        b->epoch = epoch;
        for (i = 0; i < b->p.samples; i++) {
            uint32_t a;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            a = dense[(uint32_t)((((x * TICK_XS_MUL) >> 32) * live) >> 32)];
            if (mark[a] != epoch && n) {
                mark[a] = epoch;
                bh_offer(s, h, &size, n, a);
            }
        }
        b->rng = x;
    }
    return bh_drain(s, h, size, agents, prices);
}

static int sampled_check(const struct tick_book *b)
{
    const uint32_t *mark = CARR(b, 2, uint32_t);
    uint32_t a;
    if (!dense_check(b, 0))
        return 0;
    for (a = 0; a < b->capacity; a++)
        if (mark[a] > b->epoch)
            return 0;
    return 1;
}

/* -------------------------------------------------------------- tourney -- */

/* agent / group without a divide: group <= 64 and agent < 2^24 keep the
 * rounding error of the 2^-40 fixed-point reciprocal below 2^-16 < 1/group,
 * so the quotient is exact (gmul is set in tick_book_init). */
static inline uint32_t group_of(const struct tick_book *b, uint32_t a)
{
    return (uint32_t)(((uint64_t)a * b->gmul) >> GROUP_SHIFT);
}

/* 1-based best of two 1-based agents, 0 = none. */
static inline uint32_t best_of(const struct tick_slot *s, uint32_t x, uint32_t y)
{
    if (!x)
        return y;
    if (!y)
        return x;
    return better(s, x - 1, y - 1) ? x : y;
}

/* The group's best live agent outside `skip` (bit j = the group's j-th). */
static uint32_t group_best(const struct tick_book *b, const struct tick_slot *s,
                           uint32_t g, uint64_t skip)
{
    uint32_t start = g * b->p.group, end = start + b->p.group, a, win = 0;
    if (end > b->capacity)
        end = b->capacity;
    for (a = start; a < end; a++)
        if (s[a].seq && !((skip >> (a - start)) & 1)
            && (!win || better(s, a, win - 1)))
            win = a + 1;
    return win;
}

/* a is now its group's winner and no worse than before: it climbs while it
 * beats (or already is) each ancestor's winner; above that nothing changed. */
static inline void tourney_rise(struct tick_book *b, const struct tick_slot *s,
                                uint32_t a, uint32_t g)
{
    uint32_t *tree = ARR(b, 1, uint32_t), i = b->leaves + g;
    tree[i] = a + 1;
    for (i >>= 1; i; i >>= 1) {
        uint32_t t = tree[i];
        if (t != a + 1 && t && !better(s, a, t - 1))
            break;
        tree[i] = a + 1;
    }
}

/* a got worse or left: only the ancestors it used to win need replaying. */
static inline void tourney_fall(struct tick_book *b, const struct tick_slot *s,
                                uint32_t a, uint32_t g, uint32_t win)
{
    uint32_t *tree = ARR(b, 1, uint32_t), i = b->leaves + g;
    tree[i] = win;
    for (i >>= 1; i && tree[i] == a + 1; i >>= 1)
        tree[i] = best_of(s, tree[2 * i], tree[2 * i + 1]);
}

static void tourney_update(struct tick_book *b, uint32_t a, uint32_t price,
                           uint32_t units)
{
    struct tick_slot *s = slots_of(b);
    uint32_t *local = ARR(b, 0, uint32_t);
    uint32_t g = group_of(b, a), win = local[g], old = s[a].price;

    if (!s[a].seq)
        b->len++;
    put(b, &s[a], price, units);
    if (win == a + 1) {
        if (price > old) {
            tourney_rise(b, s, a, g);
        } else {
            local[g] = group_best(b, s, g, 0);
            tourney_fall(b, s, a, g, local[g]);
        }
    } else if (!win || better(s, a, win - 1)) {
        local[g] = a + 1;
        tourney_rise(b, s, a, g);
    }
}

static void tourney_expire(struct tick_book *b, uint32_t a)
{
    struct tick_slot *s = slots_of(b);
    uint32_t *local = ARR(b, 0, uint32_t);
    uint32_t g = group_of(b, a);
    drop(&s[a]);
    b->len--;
    if (local[g] == a + 1) {
        local[g] = group_best(b, s, g, 0);
        tourney_fall(b, s, a, g, local[g]);
    }
}

static inline int fr_better(const struct tick_slot *s, struct fr_entry x,
                            struct fr_entry y)
{
    return better(s, x.agent, y.agent);
}

static inline void fr_push(const struct tick_slot *s, struct fr_entry *h,
                           uint32_t *size, struct fr_entry x)
{
    uint32_t i = (*size)++;
    while (i) {
        uint32_t p = (i - 1) >> 1;
        if (!fr_better(s, x, h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static inline void fr_pop(const struct tick_slot *s, struct fr_entry *h,
                          uint32_t *size)
{
    uint32_t n = --(*size), i = 0;
    struct fr_entry x = h[n];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && fr_better(s, h[c + 1], h[c]))
            c++;
        if (!fr_better(s, h[c], x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* Exact top n by a best-first frontier over disjoint candidates, each the
 * best not-yet-emitted agent of its region: a whole subtree (code = node,
 * winner read from the tree) or the rest of a partly emitted group
 * (code = FR_GROUP | g, found by rescanning the group past an emitted mask).
 * Emitting a subtree's winner splits the subtree into the siblings along
 * its path plus the rest of its group. Every candidate holds a distinct live
 * agent, so the frontier never outgrows capacity entries. */
static uint32_t tourney_select(struct tick_book *b, uint32_t n, uint32_t *agents,
                               uint32_t *prices)
{
    const struct tick_slot *s = slots_of(b);
    const uint32_t *tree = ARR(b, 1, uint32_t);
    uint64_t *emitted = ARR(b, 2, uint64_t);
    struct fr_entry *h = ARR(b, 3, struct fr_entry), c;
    uint32_t size = 1, k = 0, j;

    if (!n || !tree[1])
        return 0;
    if (n <= 2) {
        /* The frontier after one emit, folded without a heap: the runner-up
         * is the best of the group's rest and the siblings on its path. */
        uint32_t a = tree[1] - 1, g = group_of(b, a), i, next;
        agents[0] = a;
        prices[0] = s[a].price;
        if (n == 1)
            return 1;
        next = group_best(b, s, g, 1ull << (a - g * b->p.group));
        for (i = b->leaves + g; i > 1; i >>= 1)
            next = best_of(s, next, tree[i ^ 1]);
        if (!next)
            return 1;
        agents[1] = next - 1;
        prices[1] = s[next - 1].price;
        return 2;
    }
    h[0].agent = tree[1] - 1;
    h[0].code = 1;
    while (size) {
        uint32_t a, g, next;
        c = h[0];
        fr_pop(s, h, &size);
        a = c.agent;
        agents[k] = a;
        prices[k] = s[a].price;
        if (++k == n)
            break;
        g = group_of(b, a);
        emitted[g] |= 1ull << (a - g * b->p.group);
        if (!(c.code & FR_GROUP)) {
            uint32_t i;
            for (i = b->leaves + g; i != c.code; i >>= 1) {
                uint32_t sib = tree[i ^ 1];
                if (sib) {
                    struct fr_entry x;
                    x.agent = sib - 1;
                    x.code = i ^ 1;
                    fr_push(s, h, &size, x);
                }
            }
        }
        next = group_best(b, s, g, emitted[g]);
        if (next) {
            struct fr_entry x;
            x.agent = next - 1;
            x.code = FR_GROUP | g;
            fr_push(s, h, &size, x);
        }
    }
    for (j = 0; j < k; j++)
        emitted[group_of(b, agents[j])] = 0;
    return k;
}

static void tourney_clear(struct tick_book *b)
{
    struct tick_slot *s = slots_of(b);
    uint32_t *local = ARR(b, 0, uint32_t), *tree = ARR(b, 1, uint32_t), g;
    for (g = 0; g < b->groups; g++) {
        uint32_t a, start = g * b->p.group, end = start + b->p.group, i;
        if (!local[g])
            continue;
        if (end > b->capacity)
            end = b->capacity;
        for (a = start; a < end; a++)
            if (s[a].seq)
                drop(&s[a]);
        local[g] = 0;
        for (i = b->leaves + g; i && tree[i]; i >>= 1)
            tree[i] = 0;
    }
}

static int tourney_check(const struct tick_book *b)
{
    const struct tick_slot *s = cslots_of(b);
    const uint32_t *local = CARR(b, 0, uint32_t), *tree = CARR(b, 1, uint32_t);
    const uint64_t *emitted = CARR(b, 2, uint64_t);
    uint32_t g, i, P = b->leaves;

    if (tree[0])
        return 0;
    for (g = 0; g < P; g++) {
        uint32_t want = 0;
        if (g < b->groups) {
            uint32_t start = g * b->p.group, end = start + b->p.group, a;
            if (end > b->capacity)
                end = b->capacity;
            if (emitted[g] || group_of(b, start) != g || group_of(b, end - 1) != g)
                return 0;
            for (a = start; a < end; a++)
                if (s[a].seq)
                    want = best_of(s, want, a + 1);
            if (local[g] != want)
                return 0;
        }
        if (tree[P + g] != want)
            return 0;
    }
    for (i = P - 1; i >= 1; i--)
        if (tree[i] != best_of(s, tree[2 * i], tree[2 * i + 1]))
            return 0;
    return 1;
}

/* ----------------------------------------------------------------- heap -- */

static inline int hp_better(const struct tick_slot *s, struct hp_entry x,
                            struct hp_entry y)
{
    return x.price > y.price
           || (x.price == y.price && s[x.agent].seq < s[y.agent].seq);
}

/* Hole-moving sifts: entries shift into the hole and x is written once. */
static inline void hp_up(const struct tick_slot *s, struct hp_entry *h,
                         uint32_t *pos, uint32_t i, struct hp_entry x)
{
    while (i) {
        uint32_t p = (i - 1) >> 1;
        if (!hp_better(s, x, h[p]))
            break;
        h[i] = h[p];
        pos[h[i].agent] = i + 1;
        i = p;
    }
    h[i] = x;
    pos[x.agent] = i + 1;
}

static inline void hp_down(const struct tick_slot *s, struct hp_entry *h,
                           uint32_t *pos, uint32_t n, uint32_t i,
                           struct hp_entry x)
{
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && hp_better(s, h[c + 1], h[c]))
            c++;
        if (!hp_better(s, h[c], x))
            break;
        h[i] = h[c];
        pos[h[i].agent] = i + 1;
        i = c;
    }
    h[i] = x;
    pos[x.agent] = i + 1;
}

static void heap_update(struct tick_book *b, uint32_t a, uint32_t price,
                        uint32_t units)
{
    struct tick_slot *s = slots_of(b);
    struct hp_entry *h = ARR(b, 0, struct hp_entry), x;
    uint32_t *pos = ARR(b, 1, uint32_t), p = pos[a], old = s[a].price;

    put(b, &s[a], price, units);
    x.price = price;
    x.agent = a;
    if (!p)
        hp_up(s, h, pos, b->len++, x);
    else if (price > old)   /* an equal price re-arrives, so ranks lower */
        hp_up(s, h, pos, p - 1, x);
    else
        hp_down(s, h, pos, b->len, p - 1, x);
}

static void heap_expire(struct tick_book *b, uint32_t a)
{
    struct tick_slot *s = slots_of(b);
    struct hp_entry *h = ARR(b, 0, struct hp_entry);
    uint32_t *pos = ARR(b, 1, uint32_t), i = pos[a] - 1, n = --b->len;

    pos[a] = 0;
    drop(&s[a]);
    if (i != n) {
        struct hp_entry x = h[n];
        if (i && hp_better(s, x, h[(i - 1) >> 1]))
            hp_up(s, h, pos, i, x);
        else
            hp_down(s, h, pos, n, i, x);
    }
}

static inline int hp_pos_better(const struct tick_slot *s,
                                const struct hp_entry *h, uint32_t x, uint32_t y)
{
    return hp_better(s, h[x], h[y]);
}

/* Top n by a second heap over heap positions: the next best entry is always
 * a child of one already emitted. */
static uint32_t heap_select(struct tick_book *b, uint32_t n, uint32_t *agents,
                            uint32_t *prices)
{
    const struct tick_slot *s = slots_of(b);
    const struct hp_entry *h = ARR(b, 0, struct hp_entry);
    uint32_t *aux = ARR(b, 2, uint32_t), len = b->len, size = 1, k;

    if (n > len)
        n = len;
    if (!n)
        return 0;
    agents[0] = h[0].agent;
    prices[0] = h[0].price;
    if (n == 1)
        return 1;
    if (n == 2) {
        uint32_t c = len > 2 && hp_better(s, h[2], h[1]) ? 2 : 1;
        agents[1] = h[c].agent;
        prices[1] = h[c].price;
        return 2;
    }
    aux[0] = 0;
    for (k = 0;;) {
        uint32_t t = aux[0], c1 = 2 * t + 1, x, i;
        agents[k] = h[t].agent;
        prices[k] = h[t].price;
        if (++k == n)
            return n;
        /* Replace the emitted root by its first child (or by the last
         * entry), sift down, then push the second child. */
        if (c1 < len) {
            x = c1;
        } else {
            x = aux[--size];
        }
        i = 0;
        for (;;) {
            uint32_t c = 2 * i + 1;
            if (c >= size)
                break;
            if (c + 1 < size && hp_pos_better(s, h, aux[c + 1], aux[c]))
                c++;
            if (!hp_pos_better(s, h, aux[c], x))
                break;
            aux[i] = aux[c];
            i = c;
        }
        aux[i] = x;
        if (c1 + 1 < len) {
            x = c1 + 1;
            i = size++;
            while (i) {
                uint32_t p = (i - 1) >> 1;
                if (!hp_pos_better(s, h, x, aux[p]))
                    break;
                aux[i] = aux[p];
                i = p;
            }
            aux[i] = x;
        }
    }
}

static void heap_clear(struct tick_book *b)
{
    struct tick_slot *s = slots_of(b);
    const struct hp_entry *h = ARR(b, 0, struct hp_entry);
    uint32_t *pos = ARR(b, 1, uint32_t), i;
    for (i = 0; i < b->len; i++) {
        pos[h[i].agent] = 0;
        drop(&s[h[i].agent]);
    }
}

static int heap_check(const struct tick_book *b)
{
    const struct tick_slot *s = cslots_of(b);
    const struct hp_entry *h = CARR(b, 0, struct hp_entry);
    const uint32_t *pos = CARR(b, 1, uint32_t);
    uint32_t i;
    for (i = 0; i < b->len; i++) {
        uint32_t a = h[i].agent;
        if (a >= b->capacity || !s[a].seq || pos[a] != i + 1
            || h[i].price != s[a].price)
            return 0;
        if (i && hp_better(s, h[i], h[(i - 1) >> 1]))
            return 0;
    }
    for (i = 0; i < b->capacity; i++)
        if (!s[i].seq && pos[i])
            return 0;
    return 1;
}

/* --------------------------------------------------------------- common -- */

static size_t up16(size_t x)
{
    return (x + 15u) & ~(size_t)15u;
}

static uint32_t pow2_at_least(uint32_t x)
{
    uint32_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

/* Validates the parameters and lays out the block: the byte size (0 when
 * invalid) and the kind's array offsets. The limits (capacity <= 2^24,
 * tiers <= 4096, depth <= 64) bound every term, so nothing here can
 * overflow, and the largest book (a TOURNEY of 2^24 groups of one) stays
 * under 1 GiB, which the uint32 offsets rely on. */
static size_t plan(const struct tick_params *p, size_t off[4])
{
    size_t c, at;
    if (!p || p->capacity < 1 || p->capacity > (1u << 24))
        return 0;
    c = p->capacity;
    at = HDR + up16(c * sizeof(struct tick_slot));
    switch (p->kind) {
    case TICK_TIERS:
        if (!map_ok(&p->map))
            return 0;
        off[0] = at;
        at += up16(65 * sizeof(uint64_t));
        off[1] = at;
        at += up16(p->map.tiers * sizeof(struct tier_ends));
        off[2] = at;
        at += up16(c * sizeof(struct tier_link));
        off[3] = at;
        at += up16(c * sizeof(uint16_t));
        break;
    case TICK_LAZY:
        if (p->depth < 1 || p->depth > 64 || p->period < 1)
            return 0;
        off[0] = at;
        at += up16(c * sizeof(uint32_t));
        off[1] = at;
        at += up16(c * sizeof(uint32_t));
        off[2] = at;
        at += up16(p->depth * sizeof(struct lz_entry));
        off[3] = at;
        at += up16(c * sizeof(uint32_t));
        break;
    case TICK_TOURNEY: {
        size_t g;
        if (p->group < 1 || p->group > 64)
            return 0;
        g = (c + p->group - 1) / p->group;
        off[0] = at;
        at += up16(g * sizeof(uint32_t));
        off[1] = at;
        at += up16(2 * (size_t)pow2_at_least((uint32_t)g) * sizeof(uint32_t));
        off[2] = at;
        at += up16(g * sizeof(uint64_t));
        off[3] = at;
        at += up16(c * sizeof(struct fr_entry));
        break;
    }
    case TICK_SAMPLED:
        if (p->samples < 1)
            return 0;
        off[0] = at;
        at += up16(c * sizeof(uint32_t));
        off[1] = at;
        at += up16(c * sizeof(uint32_t));
        off[2] = at;
        at += up16(c * sizeof(uint32_t));
        off[3] = at;
        at += up16(c * sizeof(uint32_t));
        break;
    case TICK_HEAP:
        off[0] = at;
        at += up16(c * sizeof(struct hp_entry));
        off[1] = at;
        at += up16(c * sizeof(uint32_t));
        off[2] = at;
        at += up16(c * sizeof(uint32_t));
        off[3] = at;
        break;
    default:
        return 0;
    }
    return at;
}

size_t tick_book_size(const struct tick_params *params)
{
    size_t off[4] = {0, 0, 0, 0};
    return plan(params, off);
}

int tick_book_init(void *mem, const struct tick_params *params)
{
    size_t off[4] = {0, 0, 0, 0}, bytes = plan(params, off);
    struct tick_book *b = (struct tick_book *)mem;
    uint32_t i;

    if (!bytes || !mem || ((uintptr_t)mem & 15u))
        return TICK_EINVAL;
    b->kind = params->kind;
    b->capacity = params->capacity;
    b->bytes = (uint32_t)bytes;
    for (i = 0; i < 4; i++)
        b->off[i] = (uint32_t)off[i];
    b->p = *params;
    b->rng = params->seed ? params->seed : TICK_GOLDEN;
    if (params->kind == TICK_TOURNEY) {
        uint64_t d = params->group;
        b->groups = (params->capacity + params->group - 1) / params->group;
        b->leaves = pow2_at_least(b->groups);
        b->gmul = (1ull << GROUP_SHIFT) / d + ((d & (d - 1)) ? 1 : 0);
    }
    return TICK_OK;
}

int tick_update(struct tick_book *book, uint32_t agent, uint32_t price,
                uint32_t units)
{
    if (agent >= book->capacity)
        return TICK_ERANGE;
    if (!units)
        return TICK_EINVAL;
    switch (book->kind) {
    case TICK_TIERS:
        tiers_update(book, agent, price, units);
        break;
    case TICK_LAZY:
        lazy_update(book, agent, price, units);
        break;
    case TICK_TOURNEY:
        tourney_update(book, agent, price, units);
        break;
    case TICK_SAMPLED:
        sampled_update(book, agent, price, units);
        break;
    case TICK_HEAP:
        heap_update(book, agent, price, units);
        break;
    default:
        return TICK_EINVAL;
    }
    return TICK_OK;
}

int tick_expire(struct tick_book *book, uint32_t agent)
{
    if (agent >= book->capacity)
        return TICK_ERANGE;
    if (!slots_of(book)[agent].seq)
        return TICK_ENOENT;
    switch (book->kind) {
    case TICK_TIERS:
        tiers_expire(book, agent);
        break;
    case TICK_LAZY:
        lazy_expire(book, agent);
        break;
    case TICK_TOURNEY:
        tourney_expire(book, agent);
        break;
    case TICK_SAMPLED:
        sampled_expire(book, agent);
        break;
    case TICK_HEAP:
        heap_expire(book, agent);
        break;
    default:
        return TICK_EINVAL;
    }
    return TICK_OK;
}

/* O(live) (TOURNEY: O(groups) plus the occupied groups), not O(capacity):
 * only what live bids touched is reset. SAMPLED's marks stay, which their
 * epochs make harmless; the random state and arrival counter stay too. */
void tick_clear(struct tick_book *book)
{
    switch (book->kind) {
    case TICK_TIERS:
        tiers_clear(book);
        break;
    case TICK_LAZY:
        dense_clear(book);
        book->clen = 0;
        book->fresh = 0;
        book->since = 0;
        book->enter = 0;
        break;
    case TICK_TOURNEY:
        tourney_clear(book);
        break;
    case TICK_SAMPLED:
        dense_clear(book);
        break;
    case TICK_HEAP:
        heap_clear(book);
        break;
    default:
        return;
    }
    book->len = 0;
}

uint32_t tick_select(struct tick_book *book, uint32_t n, uint32_t *agents,
                     uint32_t *prices)
{
    if (n > book->capacity)
        n = book->capacity;
    switch (book->kind) {
    case TICK_TIERS:
        return tiers_select(book, n, agents, prices);
    case TICK_LAZY:
        return lazy_select(book, n, agents, prices);
    case TICK_TOURNEY:
        return tourney_select(book, n, agents, prices);
    case TICK_SAMPLED:
        return sampled_select(book, n, agents, prices);
    case TICK_HEAP:
        return heap_select(book, n, agents, prices);
    default:
        return 0;
    }
}

uint32_t tick_select_max(const struct tick_book *book)
{
    return book->capacity;
}

const struct tick_slot *tick_slot_of(const struct tick_book *book,
                                     uint32_t agent)
{
    return agent < book->capacity ? &cslots_of(book)[agent] : NULL;
}

uint32_t tick_len(const struct tick_book *book)
{
    return book->len;
}

uint32_t tick_capacity(const struct tick_book *book)
{
    return book->capacity;
}

uint32_t tick_kind_of(const struct tick_book *book)
{
    return book->kind;
}

int tick_book_check(const struct tick_book *book)
{
    const struct tick_slot *s;
    size_t off[4] = {0, 0, 0, 0};
    uint32_t a, live = 0, i;
    int ok;

    if (!book || plan(&book->p, off) != book->bytes || book->kind != book->p.kind
        || book->capacity != book->p.capacity || book->len > book->capacity)
        return TICK_ECORRUPT;
    for (i = 0; i < 4; i++)
        if (book->off[i] != off[i])
            return TICK_ECORRUPT;
    s = cslots_of(book);
    for (a = 0; a < book->capacity; a++) {
        if (s[a].seq) {
            if (s[a].seq > book->seq || !s[a].units)
                return TICK_ECORRUPT;
            live++;
        } else if (s[a].price || s[a].units) {
            return TICK_ECORRUPT;
        }
    }
    if (live != book->len)
        return TICK_ECORRUPT;
    switch (book->kind) {
    case TICK_TIERS:
        ok = tiers_check(book);
        break;
    case TICK_LAZY:
        ok = lazy_check(book);
        break;
    case TICK_TOURNEY:
        ok = book->groups == (book->capacity + book->p.group - 1) / book->p.group
             && book->leaves == pow2_at_least(book->groups) && tourney_check(book);
        break;
    case TICK_SAMPLED:
        ok = sampled_check(book);
        break;
    case TICK_HEAP:
        ok = heap_check(book);
        break;
    default:
        ok = 0;
    }
    return ok ? TICK_OK : TICK_ECORRUPT;
}
