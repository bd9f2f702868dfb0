/*
 * tick_core.h - the tick market's bid structures, in freestanding C99.
 *
 * Written to be lifted into kernel or eBPF context as it is:
 *   - integer fixed point only, no floating point anywhere;
 *   - no allocation: the caller sizes a structure with tick_book_size(),
 *     hands tick_book_init() a ZEROED, 16-byte aligned block of that size
 *     (calloc, kzalloc, a BPF arena page) and owns it afterwards;
 *   - no libc call at all, on the hot path or elsewhere (only <stdint.h> and
 *     <stddef.h>, which are freestanding headers).
 * tests/tick/test_freestanding.py proves the last two by compiling and
 * linking this file with -ffreestanding -nostdlib -mgeneral-regs-only.
 *
 * Model
 *   Agents are slot indices 0..capacity-1. Each agent has at most one live
 *   bid: a price in money micro-units (uint32) and a number of units wanted.
 *   Every update stamps the bid with the next value of a per-book 64-bit
 *   sequence counter; that stamp is the agent's arrival time.
 *
 * Order (the tie-breaking rule, identical in every structure)
 *   Bids rank by price, highest first; equal prices rank by arrival, the
 *   earlier update first (FIFO). Re-submitting the same price re-arrives.
 *   The tier book ranks by tier instead of price: by tier, highest first,
 *   then FIFO inside the tier regardless of the exact prices in it.
 *
 * Rank prices
 *   tick_select() returns, with each selected agent, its rank price: the
 *   exact bid in the exact structures, the floor of the bid's tier in the
 *   tier book. A rank price never exceeds the bid at the same or any earlier
 *   rank, which is what makes "pay the next rank's price" safe.
 *
 * Structures (enum tick_kind)
 *   TICK_TIERS   stratified price tiers: a two-level 64x64 bitmap over up to
 *                4096 tiers, highest non-empty tier found by count-leading-
 *                zeros, a doubly-linked FIFO per tier. update O(1),
 *                expire O(1), select O(n) for the top n.
 *   TICK_LAZY    lazy heap: an unordered dense array of live bids plus a
 *                cache of the top `depth` bids (the probable winner and the
 *                ranks behind it). The cache is recomputed by one insertion
 *                pass over the live bids (O(N) typical, O(N * depth) worst)
 *                only when (a) a bid would enter the cache by more than
 *                `threshold`, (b) a cached agent changes or leaves, or
 *                (c) `period` selects have passed since the last recompute.
 *                With threshold 0 the cache is exact; with threshold > 0 a
 *                bid that beats a cached one by at most `threshold` waits up
 *                to `period` selects to be seen. Every tick_select() call is
 *                one quantum for (c). A select of more than depth entries
 *                is answered by a fresh scan.
 *   TICK_TOURNEY tournament tree: agents in groups of `group` slots, each
 *                group keeps its local winner, a winner tree over the groups
 *                gives the global winner. update O(group + log(N/group))
 *                worst, O(log(N/group)) when the local winner stands;
 *                select O(n log(N/group) (log n + group)).
 *   TICK_SAMPLED sampled top-k: each select draws `samples` agents uniformly
 *                (with replacement, duplicates dropped) from the live bids
 *                with the xorshift64* generator below, and ranks the sample.
 *                When samples >= live bids it ranks them all (exact).
 *                Probabilistic: the benchmark measures its miss rate.
 *   TICK_HEAP    exact indexed binary max-heap, the baseline. update and
 *                expire O(log N), peek O(1), select O(n log n).
 *
 * Random numbers (TICK_SAMPLED), so the Python reference can replay them:
 *   state starts at `seed` (0 is replaced by 0x9E3779B97F4A7C15);
 *   next():  x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
 *            return x * 0x2545F4914F6CDD1D (mod 2^64)
 *   index in [0, n): ((next() >> 32) * n) >> 32       (Lemire's reduction)
 *   The sample is the sequence of dense-array positions drawn, in order;
 *   positions are those of the live-bid dense array, which appends on first
 *   insert and fills a hole on expire by moving the LAST element into it.
 */
#ifndef AUCTIONEER_TICK_CORE_H
#define AUCTIONEER_TICK_CORE_H

#include <stddef.h>
#include <stdint.h>

#define TICK_PRICE_MAX UINT32_MAX
#define TICK_MAX_TIERS 4096u
#define TICK_NONE UINT32_MAX

enum tick_status {
    TICK_OK = 0,
    TICK_ERANGE = 1,   /* agent id >= capacity */
    TICK_ENOENT = 2,   /* agent has no live bid */
    TICK_EINVAL = 3,   /* bad argument: units == 0, bad parameters */
    TICK_ECORRUPT = 4  /* tick_book_check found a broken invariant */
};

enum tick_kind {
    TICK_TIERS = 0,
    TICK_LAZY = 1,
    TICK_TOURNEY = 2,
    TICK_SAMPLED = 3,
    TICK_HEAP = 4
};

/* How a price maps to a tier.
 * TICK_MAP_LINEAR: tier(p) = 0 if p < base, else min((p - base) / width,
 *     tiers - 1); floor(0) = 0, floor(t) = base + t * width. Absolute
 *     resolution `width` micro-units.
 * TICK_MAP_LOG: floating-point-free logarithmic tiers with `sub_bits` bits of
 *     mantissa (relative resolution 2^-sub_bits, as HdrHistogram buckets):
 *     p < 2^(sub_bits+1): tier = p; else with m = index of p's top bit and
 *     s = m - sub_bits: tier = s * 2^sub_bits + (p >> s); clamped to
 *     tiers - 1. floor(t) inverts it: t < 2^(sub_bits+1): t; else
 *     s = (t >> sub_bits) - 1, floor = (t - s * 2^sub_bits) << s.
 *     `base` and `width` are unused.
 * Prices clamped into the top tier share it; its floor still bounds them. */
enum tick_map_kind { TICK_MAP_LINEAR = 0, TICK_MAP_LOG = 1 };

struct tick_tier_map {
    uint32_t kind;      /* enum tick_map_kind */
    uint32_t tiers;     /* 1..TICK_MAX_TIERS */
    uint32_t base;      /* LINEAR: price of tier 1's floor minus width */
    uint32_t width;     /* LINEAR: >= 1 */
    uint32_t sub_bits;  /* LOG: 0..16 */
};

struct tick_params {
    uint32_t kind;      /* enum tick_kind */
    uint32_t capacity;  /* 1..2^24 agent slots */
    struct tick_tier_map map;   /* TICK_TIERS */
    uint32_t depth;     /* TICK_LAZY: cached ranks, 1..64 */
    uint32_t threshold; /* TICK_LAZY: micro-units */
    uint32_t period;    /* TICK_LAZY: selects between forced recomputes, >= 1 */
    uint32_t group;     /* TICK_TOURNEY: slots per group, 1..64 */
    uint32_t samples;   /* TICK_SAMPLED: draws per select, >= 1 */
    uint64_t seed;      /* TICK_SAMPLED */
};

/* One agent's bid as stored: 16 bytes, the seed's AgentBid with the agent id
 * made implicit by the slot's position and an arrival stamp in its place. */
struct tick_slot {
    uint64_t seq;       /* arrival stamp; 0 = no live bid */
    uint32_t price;     /* micro-units */
    uint32_t units;     /* units wanted, >= 1 */
};

struct tick_book;       /* opaque; lives in the caller's block */

/* Bytes needed for a book with these parameters, 0 if they are invalid. */
size_t tick_book_size(const struct tick_params *params);
/* Lay out a book in `mem` (zeroed, 16-byte aligned, tick_book_size bytes). */
int tick_book_init(void *mem, const struct tick_params *params);

/* Insert or replace an agent's bid. TICK_ERANGE, TICK_EINVAL (units == 0);
 * on error nothing changes. */
int tick_update(struct tick_book *book, uint32_t agent, uint32_t price,
                uint32_t units);
/* Remove an agent's bid. TICK_ERANGE, TICK_ENOENT; on error nothing changes. */
int tick_expire(struct tick_book *book, uint32_t agent);
/* Remove every bid; parameters and the random state are kept. */
void tick_clear(struct tick_book *book);

/* Write the top min(n, live) agents in rank order with their rank prices;
 * return how many were written. `agents` and `prices` hold n entries; n may
 * be 0. n is capped at tick_select_max(book). */
uint32_t tick_select(struct tick_book *book, uint32_t n, uint32_t *agents,
                     uint32_t *prices);
/* The largest n tick_select accepts (its scratch space): capacity. */
uint32_t tick_select_max(const struct tick_book *book);

/* Read access. tick_slot_of returns NULL for agent >= capacity; the slot's
 * seq is 0 when the agent has no live bid. */
const struct tick_slot *tick_slot_of(const struct tick_book *book,
                                     uint32_t agent);
uint32_t tick_len(const struct tick_book *book);
uint32_t tick_capacity(const struct tick_book *book);
uint32_t tick_kind_of(const struct tick_book *book);

/* Tier arithmetic (TICK_TIERS's mapping), exposed for tests and bindings. */
uint32_t tick_tier_of(const struct tick_tier_map *map, uint32_t price);
uint32_t tick_tier_floor(const struct tick_tier_map *map, uint32_t tier);

/* Check every invariant of the structure: TICK_OK or TICK_ECORRUPT. O(N). */
int tick_book_check(const struct tick_book *book);

#endif
