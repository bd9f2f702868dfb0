/*
 * match_inline.h - private to match_core.c and match_cross.c: the small helpers the
 * single-book walk and the cross-market bid's merged walk share (the id table, levels,
 * events, a plan step, resting an order), static inline so each stays inlined on the
 * order path.
 */
#ifndef AUCTIONEER_MATCH_INLINE_H
#define AUCTIONEER_MATCH_INLINE_H

#include "match_core.h"

#include <string.h>

/* ------------------------------------------------------------ id -> slot */

static inline uint64_t
scatter(uint64_t id)
{
    return (id * UINT64_C(0x9E3779B97F4A7C15)) >> 32;
}

/* Dense ids go 8 to a block of 8 buckets (half a cache line), the blocks scattered: ids placed
 * close in time share a line, while a run of buckets stays as short as with scattered ids
 * (ids in order into consecutive buckets would make one run of every resting order, which
 * each erase walks to its end). */
static inline uint32_t
home(const mc_book *b, uint64_t id)
{
    uint64_t h = b->dense_ids ? scatter(id >> 3) << 3 | (id & 7u) : scatter(id);
    return (uint32_t)h & b->table_mask;
}

static inline uint32_t
find_bucket(const mc_book *b, uint64_t id)
{
    uint32_t i = home(b, id);
    while (b->table[i] != MC_NONE) {
        if (b->orders[b->table[i]].id == id) {
            return i;
        }
        i = (i + 1u) & b->table_mask;
    }
    return MC_NONE;
}

static inline void
table_insert(mc_book *b, uint64_t id, uint32_t slot)
{
    uint32_t i = home(b, id);
    while (b->table[i] != MC_NONE) {
        i = (i + 1u) & b->table_mask;
    }
    b->table[i] = slot;
}

/* Backward-shift deletion: no tombstones, so probes stay short forever. */
static inline void
table_erase(mc_book *b, uint32_t i)
{
    uint32_t mask = b->table_mask;
    uint32_t j = i;
    for (;;) {
        j = (j + 1u) & mask;
        uint32_t slot = b->table[j];
        if (slot == MC_NONE) {
            break;
        }
        uint32_t k = home(b, b->orders[slot].id);
        /* the entry at j may move to i unless its home lies cyclically in (i, j] */
        int stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            b->table[i] = slot;
            i = j;
        }
    }
    b->table[i] = MC_NONE;
}

/* ---------------------------------------------------------------- levels */

/* Levels are kept ascending in key: the price for bids, minus the price for asks,
 * so the best level of either side is the last. */
static inline int64_t
key(int buy, int64_t price)
{
    return buy ? price : -price;
}

/* The first index whose key is >= key(buy, price). */
static inline uint32_t
lower_bound(const mc_side *side, int buy, int64_t price)
{
    uint32_t lo = 0, hi = side->count;
    int64_t want = key(buy, price);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        if (key(buy, side->levels[mid].price) < want) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static inline void
drop_level(mc_side *side, uint32_t at)
{
    memmove(&side->levels[at], &side->levels[at + 1u],
            (size_t)(side->count - at - 1u) * sizeof(mc_level));
    side->count--;
}

/* Unlink slot `s` from the level at `at` (its open quantity already taken off the
 * level), free it and its id; drop the level when it empties. */
static inline void
unlink_order(mc_book *b, mc_side *side, uint32_t at, uint32_t s)
{
    mc_level *lv = &side->levels[at];
    mc_order *o = &b->orders[s];
    if (o->prev != MC_NONE) {
        b->orders[o->prev].next = o->next;
    } else {
        lv->head = o->next;
    }
    if (o->next != MC_NONE) {
        b->orders[o->next].prev = o->prev;
    } else {
        lv->tail = o->prev;
    }
    lv->count--;
    if (lv->count == 0) {
        drop_level(side, at);
    }
    table_erase(b, find_bucket(b, o->id));
    o->next = b->free;
    b->free = s;
    b->open--;
}

/* ---------------------------------------------------------------- events */

static inline void
emit(mc_book *b, uint8_t kind, uint8_t reason, int buy, uint64_t order, uint32_t account,
     int64_t price, int64_t quantity)
{
    mc_event *e = &b->events[b->n_events++];
    e->kind = kind;
    e->reason = reason;
    e->buy = (uint8_t)(buy != 0);
    e->link = MC_NONE;
    e->order = order;
    e->taker = 0;
    e->account = account;
    e->taker_account = 0;
    e->price = price;
    e->quantity = quantity;
    e->resting_price = price;
    e->trade_id = 0;
}

/* An event of open order `o`, which carries its link. */
static inline void
emit_open(mc_book *b, uint8_t kind, uint8_t reason, const mc_order *o, int64_t price,
          int64_t quantity)
{
    emit(b, kind, reason, o->buy, o->id, o->account, price, quantity);
    b->events[b->n_events - 1u].link = o->link;
}

/* One candidate `o` of book b in a read-only plan for an incoming order of `account` that
 * still needs `need`, with *budget (-1: none) to spend: what it fills (0: passed over, an
 * all-or-none order it cannot fill whole, or its own order cancelled), *budget lowered by
 * its cost; -1 when the plan ends there (self-trade prevention, or the money ran out). */
static inline int64_t
plan_step(const mc_book *b, const mc_order *o, uint32_t account, int64_t need,
          int64_t *budget)
{
    if (o->account == account) {
        return b->self_trade != MC_CANCEL_OLDEST ? -1 : 0;
    }
    int64_t q = need < o->remaining ? need : o->remaining;
    if (*budget >= 0) {
        int64_t affordable = *budget / o->price;
        if (affordable == 0) {
            return -1;
        }
        q = q < affordable ? q : affordable;
    }
    if (o->aon && o->remaining > q) {
        return 0; /* it trades whole or not at all */
    }
    if (*budget >= 0) {
        *budget -= q * o->price; /* <= budget: no overflow */
    }
    return q;
}

static inline void
rest(mc_book *b, uint64_t id, uint32_t account, int buy, int64_t price, int64_t quantity,
     int aon, uint32_t link)
{
    mc_side *side = buy ? &b->bids : &b->asks;
    uint32_t at = lower_bound(side, buy, price);
    if (at == side->count || side->levels[at].price != price) {
        memmove(&side->levels[at + 1u], &side->levels[at],
                (size_t)(side->count - at) * sizeof(mc_level));
        side->count++;
        mc_level *fresh = &side->levels[at];
        fresh->price = price;
        fresh->quantity = 0;
        fresh->count = 0;
        fresh->head = fresh->tail = MC_NONE;
    }
    mc_level *lv = &side->levels[at];
    uint32_t s = b->free;
    mc_order *o = &b->orders[s];
    b->free = o->next;
    o->id = id;
    o->price = price;
    o->remaining = quantity;
    o->account = account;
    o->buy = (uint8_t)(buy != 0);
    o->aon = (uint8_t)(aon != 0);
    o->link = link;
    o->seq = b->stamp_seq;
    o->ts = b->stamp_ts;
    o->next = MC_NONE;
    o->prev = lv->tail;
    if (lv->tail != MC_NONE) {
        b->orders[lv->tail].next = s;
    } else {
        lv->head = s;
    }
    lv->tail = s;
    lv->count++;
    lv->quantity += quantity;
    table_insert(b, id, s);
    b->open++;
    emit_open(b, MC_RESTED, 0, o, price, quantity);
}

#endif
