/*
 * match_core.c - see match_core.h. The rules are the Python engine's
 * (auctioneer/exchange/matching.py) for a single-market limit order, and the
 * differential test in tests/exchange/test_native.py holds them equal.
 *
 * A resting all-or-none order trades whole or not at all: the engine plans a fill over
 * every candidate in priority order and passes over one it cannot fill whole. The plan's
 * need only falls, so an order passed over once stays passed over for the rest of that
 * fill, and one walk over the levels, best first, each FIFO in order, does what the plan
 * does. So a level's head is not always takeable, and the walk goes on behind it.
 */
#include "match_core.h"

#include <string.h>

static size_t
align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

static uint32_t
table_size(uint32_t max_orders)
{
    uint32_t size = 16;
    while (size < 2u * max_orders) {
        size <<= 1;
    }
    return size;
}

size_t
mc_bytes(uint32_t max_orders, uint32_t max_levels)
{
    if (max_orders == 0 || max_orders > MC_MAX_ORDERS || max_levels == 0
        || max_levels > MC_MAX_ORDERS) {
        return 0;
    }
    return align8((size_t)max_orders * sizeof(mc_order))
           + align8((size_t)table_size(max_orders) * sizeof(uint32_t))
           + 2u * align8((size_t)max_levels * sizeof(mc_level))
           + align8(((size_t)max_orders + 2u) * sizeof(mc_event));
}

void
mc_init(mc_book *b, void *memory, uint32_t max_orders, uint32_t max_levels, int self_trade,
        int at_ask)
{
    unsigned char *p = memory;
    uint32_t tsize = table_size(max_orders);
    b->orders = (mc_order *)(void *)p;
    p += align8((size_t)max_orders * sizeof(mc_order));
    b->table = (uint32_t *)(void *)p;
    p += align8((size_t)tsize * sizeof(uint32_t));
    b->bids.levels = (mc_level *)(void *)p;
    p += align8((size_t)max_levels * sizeof(mc_level));
    b->asks.levels = (mc_level *)(void *)p;
    p += align8((size_t)max_levels * sizeof(mc_level));
    b->events = (mc_event *)(void *)p;
    b->table_mask = tsize - 1u;
    memset(b->table, 0xff, (size_t)tsize * sizeof(uint32_t));
    for (uint32_t i = 0; i < max_orders; i++) {
        b->orders[i].next = i + 1u < max_orders ? i + 1u : MC_NONE;
    }
    b->free = 0;
    b->max_orders = max_orders;
    b->max_levels = max_levels;
    b->open = 0;
    b->bids.count = 0;
    b->asks.count = 0;
    b->n_events = 0;
    b->trade_seq = 0;
    b->fillable = 0;
    b->self_trade = (uint8_t)self_trade;
    b->at_ask = (uint8_t)(at_ask != 0);
    b->stamp_seq = 0;
    b->stamp_ts = 0;
    b->dense_ids = 0;
}

/* ------------------------------------------------------------ id -> slot */

static uint64_t
scatter(uint64_t id)
{
    return (id * UINT64_C(0x9E3779B97F4A7C15)) >> 32;
}

/* Dense ids go 8 to a block of 8 buckets (half a cache line), the blocks scattered: ids placed
 * close in time share a line, while a run of buckets stays as short as with scattered ids
 * (ids in order into consecutive buckets would make one run of every resting order, which
 * each erase walks to its end). */
static uint32_t
home(const mc_book *b, uint64_t id)
{
    uint64_t h = b->dense_ids ? scatter(id >> 3) << 3 | (id & 7u) : scatter(id);
    return (uint32_t)h & b->table_mask;
}

static uint32_t
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

static void
table_insert(mc_book *b, uint64_t id, uint32_t slot)
{
    uint32_t i = home(b, id);
    while (b->table[i] != MC_NONE) {
        i = (i + 1u) & b->table_mask;
    }
    b->table[i] = slot;
}

/* Backward-shift deletion: no tombstones, so probes stay short forever. */
static void
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
static int64_t
key(int buy, int64_t price)
{
    return buy ? price : -price;
}

/* The first index whose key is >= key(buy, price). */
static uint32_t
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

static void
drop_level(mc_side *side, uint32_t at)
{
    memmove(&side->levels[at], &side->levels[at + 1u],
            (size_t)(side->count - at - 1u) * sizeof(mc_level));
    side->count--;
}

/* Unlink slot `s` from the level at `at` (its open quantity already taken off the
 * level), free it and its id; drop the level when it empties. */
static void
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

static void
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
static void
emit_open(mc_book *b, uint8_t kind, uint8_t reason, const mc_order *o, int64_t price,
          int64_t quantity)
{
    emit(b, kind, reason, o->buy, o->id, o->account, price, quantity);
    b->events[b->n_events - 1u].link = o->link;
}

/* -------------------------------------------------------------- matching */

static int
crosses(int buy, int64_t limit, int64_t best)
{
    return buy ? best <= limit : best >= limit;
}

/* One candidate `o` of book b in a read-only plan for an incoming order of `account` that
 * still needs `need`, with *budget (-1: none) to spend: what it fills (0: passed over, an
 * all-or-none order it cannot fill whole, or its own order cancelled), *budget lowered by
 * its cost; -1 when the plan ends there (self-trade prevention, or the money ran out). */
static int64_t
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

/* What an incoming order could fill now: the engine's plan, read-only. `budget` is what a
 * market buy may spend (each fill at the resting price), -1 for no bound. */
static int64_t
fillable(const mc_book *b, const mc_side *opp, int buy, int64_t limit, int64_t need,
         uint32_t account, int64_t budget)
{
    int64_t got = 0;
    for (uint32_t at = opp->count; at-- > 0;) {
        const mc_level *lv = &opp->levels[at];
        if (!crosses(buy, limit, lv->price)) {
            break;
        }
        for (uint32_t s = lv->head; s != MC_NONE; s = b->orders[s].next) {
            int64_t q = plan_step(b, &b->orders[s], account, need - got, &budget);
            if (q < 0) {
                return got;
            }
            got += q;
            if (got == need) {
                return got;
            }
        }
    }
    return got;
}

static void
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

/* A market buy's money ran out partway through a resting order. The engine plans over
 * every candidate in priority order, each once: those after it cost at least as much, so
 * none fills, but self-trade prevention still meets the buyer's own orders until the first
 * other one (which ends the plan, unaffordable). From slot `s` of level `at` on: cancel
 * (CANCEL_OLDEST, CANCEL_BOTH) or stop at them. Returns whether it stopped. */
static int
after_budget(mc_book *b, mc_side *opp, uint32_t at, uint32_t s, uint32_t account)
{
    for (;;) {
        while (s == MC_NONE) {
            if (at == 0) {
                return 0;
            }
            s = opp->levels[--at].head;
        }
        mc_order *o = &b->orders[s];
        if (o->account != account) {
            return 0;
        }
        if (b->self_trade == MC_CANCEL_NEWEST) {
            return 1;
        }
        uint32_t next = o->next;
        uint32_t level_count = opp->count;
        emit_open(b, MC_CANCELLED, MC_R_SELF_TRADE, o, o->price, o->remaining);
        opp->levels[at].quantity -= o->remaining;
        unlink_order(b, opp, at, s);
        if (b->self_trade == MC_CANCEL_BOTH) {
            return 1;
        }
        if (opp->count != level_count) { /* its level emptied: go on at the next one */
            next = MC_NONE;
        }
        s = next;
    }
}

/* Match an incoming order against `opp` while prices cross: trades and self-trade cancels
 * into the events, *need lowered by what filled, passing over a resting all-or-none order it
 * cannot fill whole. A market order (budget >= 0 for a buy, limit 0 for a sell) trades at
 * the resting price and a buy spends at most `budget`. Returns whether self-trade
 * prevention stopped it. */
static int
take(mc_book *b, mc_side *opp, uint64_t id, uint32_t account, int buy, int64_t limit,
     int64_t *need, int64_t budget)
{
    int market = budget >= 0 || (!buy && limit == 0);
    for (uint32_t at = opp->count; *need && at-- > 0;) {
        if (!crosses(buy, limit, opp->levels[at].price)) {
            break;
        }
        /* An emptied level leaves the array and the better levels behind it (holding only
         * orders passed over) move down into `at`: the walk then goes on at at - 1. */
        uint32_t levels = opp->count;
        for (uint32_t s = opp->levels[at].head; s != MC_NONE && *need && opp->count == levels;) {
            mc_level *lv = &opp->levels[at];
            mc_order *o = &b->orders[s];
            uint32_t next = o->next;
            if (o->account == account) {
                if (b->self_trade == MC_CANCEL_NEWEST) {
                    return 1;
                }
                emit_open(b, MC_CANCELLED, MC_R_SELF_TRADE, o, o->price, o->remaining);
                lv->quantity -= o->remaining;
                unlink_order(b, opp, at, s);
                if (b->self_trade == MC_CANCEL_BOTH) {
                    return 1;
                }
                s = next;
                continue;
            }
            int64_t q = *need < o->remaining ? *need : o->remaining;
            int64_t px = (buy || market || !b->at_ask) ? o->price : limit;
            int spent = 0; /* the budget stops this fill short of the resting order */
            if (budget >= 0) {
                int64_t affordable = budget / px;
                if (affordable == 0) {
                    return 0;
                }
                spent = affordable < q;
                q = spent ? affordable : q;
            }
            if (o->aon && o->remaining > q) {
                s = next; /* it trades whole or not at all */
                continue;
            }
            if (budget >= 0) {
                budget -= q * px;
            }
            mc_event *e = &b->events[b->n_events++];
            e->kind = MC_TRADED;
            e->reason = 0;
            e->buy = (uint8_t)(buy != 0);
            e->link = o->link;
            e->order = o->id;
            e->taker = id;
            e->account = o->account;
            e->taker_account = account;
            e->price = px;
            e->quantity = q;
            e->resting_price = o->price;
            e->trade_id = ++b->trade_seq;
            *need -= q;
            o->remaining -= q;
            lv->quantity -= q;
            if (o->remaining == 0) {
                unlink_order(b, opp, at, s);
            }
            if (spent) {
                return after_budget(b, opp, at, next, account);
            }
            s = next;
        }
    }
    return 0;
}

int64_t
mc_fillable(const mc_book *b, uint32_t account, int buy, int64_t price, int64_t quantity)
{
    return fillable(b, buy ? &b->asks : &b->bids, buy, price, quantity, account, -1);
}

int
mc_fits(const mc_book *b, int buy, int64_t price)
{
    const mc_side *own = buy ? &b->bids : &b->asks;
    if (b->free != MC_NONE && own->count < b->max_levels) { /* fits without a search */
        return 1;
    }
    uint32_t at = lower_bound(own, buy, price);
    int level_exists = at < own->count && own->levels[at].price == price;
    return b->free != MC_NONE && (level_exists || own->count < b->max_levels);
}

int
mc_rest(mc_book *b, uint64_t id, uint32_t account, int buy, int64_t price, int64_t quantity,
        int aon, uint32_t link)
{
    if (find_bucket(b, id) != MC_NONE) {
        return MC_E_DUPLICATE;
    }
    if (!mc_fits(b, buy, price)) {
        return MC_E_FULL;
    }
    uint32_t mark = b->n_events;
    rest(b, id, account, buy, price, quantity, aon, link);
    b->n_events = mark;
    return MC_OK;
}

int
mc_place(mc_book *b, uint64_t id, uint32_t account, int buy, int64_t price, int64_t quantity,
         int tif)
{
    b->n_events = 0;
    if (!b->dense_ids && find_bucket(b, id) != MC_NONE) {
        return MC_E_DUPLICATE;
    }
    mc_side *opp = buy ? &b->asks : &b->bids;
    if ((tif == MC_GTC || tif == MC_AON_GTC) && !mc_fits(b, buy, price)) {
        return MC_E_FULL;
    }
    int whole = tif != MC_GTC && tif != MC_IOC; /* fills whole or not at all */
    int reason = tif == MC_FOK ? MC_R_FOK : tif == MC_AON ? MC_R_AON : MC_R_IOC;
    if (whole && fillable(b, opp, buy, price, quantity, account, -1) < quantity) {
        if (tif == MC_AON_GTC) {
            rest(b, id, account, buy, price, quantity, 1, MC_NONE); /* it waits, whole */
        } else {
            emit(b, MC_CANCELLED, (uint8_t)reason, buy, id, account, price, quantity);
        }
        return MC_OK;
    }
    int64_t need = quantity;
    int stop = take(b, opp, id, account, buy, price, &need, -1);
    if (need) {
        if (stop) {
            emit(b, MC_CANCELLED, MC_R_SELF_TRADE, buy, id, account, price, need);
        } else if (tif == MC_GTC) {
            rest(b, id, account, buy, price, need, 0, MC_NONE);
        } else {
            emit(b, MC_CANCELLED, (uint8_t)reason, buy, id, account, price, need);
        }
    }
    return MC_OK;
}

int
mc_place_market(mc_book *b, uint64_t id, uint32_t account, int buy, int64_t quantity,
                int64_t budget, int tif)
{
    b->n_events = 0;
    b->fillable = 0;
    if (!b->dense_ids && find_bucket(b, id) != MC_NONE) {
        return MC_E_DUPLICATE;
    }
    mc_side *opp = buy ? &b->asks : &b->bids;
    int64_t limit = buy ? INT64_MAX : 0;
    int64_t bound = buy ? budget : -1;
    if (tif == MC_FOK) {
        b->fillable = fillable(b, opp, buy, limit, quantity, account, bound);
        if (b->fillable < quantity) {
            return MC_E_UNFILLABLE;
        }
    }
    int64_t need = quantity;
    int stop = take(b, opp, id, account, buy, limit, &need, bound);
    if (need) {
        emit(b, MC_CANCELLED, stop ? MC_R_SELF_TRADE : MC_R_IOC, buy, id, account, 0, need);
    }
    return MC_OK;
}

/* The pool slot of open order `id`, MC_NONE if there is none. */
static uint32_t
open_slot(const mc_book *b, uint64_t id)
{
    uint32_t bucket = find_bucket(b, id);
    return bucket == MC_NONE ? MC_NONE : b->table[bucket];
}

const mc_order *
mc_find(const mc_book *b, uint64_t id)
{
    uint32_t s = open_slot(b, id);
    return s == MC_NONE ? NULL : &b->orders[s];
}

int
mc_modify(mc_book *b, uint64_t id, int64_t price, int64_t quantity)
{
    b->n_events = 0;
    uint32_t s = open_slot(b, id);
    if (s == MC_NONE) {
        return MC_E_UNKNOWN;
    }
    mc_order *o = &b->orders[s];
    int buy = o->buy, aon = o->aon;
    uint32_t account = o->account;
    mc_side *own = buy ? &b->bids : &b->asks;
    uint32_t at = lower_bound(own, buy, o->price);
    if (price == o->price && quantity <= o->remaining) {
        own->levels[at].quantity -= o->remaining - quantity;
        o->remaining = quantity;
        emit_open(b, MC_MODIFIED, 1, o, price, quantity);
        return MC_OK;
    }
    uint32_t there = lower_bound(own, buy, price);
    int exists = there < own->count && own->levels[there].price == price;
    int frees = own->levels[at].count == 1; /* leaving empties its level */
    if (!exists && !frees && own->count == b->max_levels) {
        return MC_E_FULL;
    }
    emit(b, MC_MODIFIED, 0, buy, id, account, price, quantity);
    own->levels[at].quantity -= o->remaining;
    unlink_order(b, own, at, s);
    mc_side *opp = buy ? &b->asks : &b->bids;
    if (aon && fillable(b, opp, buy, price, quantity, account, -1) < quantity) {
        rest(b, id, account, buy, price, quantity, 1, MC_NONE); /* it waits, whole */
        return MC_OK;
    }
    int64_t need = quantity;
    int stop = take(b, opp, id, account, buy, price, &need, -1);
    if (need) { /* not all-or-none: that one filled whole */
        if (stop) {
            emit(b, MC_CANCELLED, MC_R_SELF_TRADE, buy, id, account, price, need);
        } else {
            rest(b, id, account, buy, price, need, 0, MC_NONE);
        }
    }
    return MC_OK;
}

/* Take `quantity` off the open order in slot s; it leaves the book when nothing is left. */
static void
reduce_slot(mc_book *b, uint32_t s, int64_t quantity)
{
    mc_order *o = &b->orders[s];
    mc_side *side = o->buy ? &b->bids : &b->asks;
    uint32_t at = lower_bound(side, o->buy, o->price);
    side->levels[at].quantity -= quantity;
    o->remaining -= quantity;
    if (o->remaining == 0) {
        unlink_order(b, side, at, s);
    }
}

int
mc_cancel(mc_book *b, uint64_t id)
{
    b->n_events = 0;
    uint32_t s = open_slot(b, id);
    if (s == MC_NONE) {
        return MC_E_UNKNOWN;
    }
    const mc_order *o = &b->orders[s];
    emit_open(b, MC_CANCELLED, MC_R_CANCELLED, o, o->price, o->remaining);
    reduce_slot(b, s, o->remaining);
    return MC_OK;
}

int
mc_reduce(mc_book *b, uint64_t id, int64_t quantity)
{
    uint32_t s = open_slot(b, id);
    if (s == MC_NONE) {
        return MC_E_UNKNOWN;
    }
    reduce_slot(b, s, quantity);
    return MC_OK;
}

/* ------------------------------------------------------ cross-market bids */

/* Where a cross-market walk stands in one book's asks: level `at`, order `s` there (MC_NONE
 * when the book has nothing more the bid's `limit` reaches). */
typedef struct {
    uint32_t at, s;
} cursor;

/* The head of the next (worse) level below `at`, if the limit reaches it. */
static void
next_level(const mc_book *b, cursor *c, int64_t limit)
{
    c->s = MC_NONE;
    if (c->at > 0 && b->asks.levels[c->at - 1u].price <= limit) {
        c->at--;
        c->s = b->asks.levels[c->at].head;
    }
}

/* The book whose candidate comes first (cheapest, then earliest, then first listed), or k
 * when none is left. */
static uint32_t
first_candidate(mc_book *const *books, const cursor *at, uint32_t k)
{
    uint32_t best = k;
    const mc_order *o = NULL;
    for (uint32_t i = 0; i < k; i++) {
        if (at[i].s == MC_NONE) {
            continue;
        }
        const mc_order *c = &books[i]->orders[at[i].s];
        if (o == NULL || c->price < o->price || (c->price == o->price && c->seq < o->seq)) {
            best = i;
            o = c;
        }
    }
    return best;
}

/* What a cross-market bid could fill now (the engine's plan, read-only); budget -1: none. */
static int64_t
cross_fillable(mc_book *const *books, uint32_t k, uint32_t account, int64_t limit,
               int64_t need, int64_t budget)
{
    cursor at[MC_CROSS_MAX];
    for (uint32_t i = 0; i < k; i++) {
        at[i].at = books[i]->asks.count;
        next_level(books[i], &at[i], limit);
    }
    int64_t got = 0;
    for (uint32_t i; got < need && (i = first_candidate(books, at, k)) < k;) {
        const mc_book *b = books[i];
        const mc_order *o = &b->orders[at[i].s];
        if (o->next != MC_NONE) {
            at[i].s = o->next;
        } else {
            next_level(b, &at[i], limit);
        }
        int64_t q = plan_step(b, o, account, need - got, &budget);
        if (q < 0) {
            return got;
        }
        got += q;
    }
    return got;
}

int
mc_cross_place(mc_book *const *books, const uint32_t *links, uint32_t k, uint64_t id,
               uint32_t account, int64_t price, int64_t quantity, int tif, int64_t budget,
               uint32_t *trail, uint32_t *n)
{
    *n = 0;
    mc_book *first = books[0];
    first->fillable = 0;
    for (uint32_t i = 0; i < k; i++) {
        books[i]->n_events = 0;
        if ((tif == MC_GTC || tif == MC_AON_GTC) && !mc_fits(books[i], 1, price)) {
            return MC_E_FULL;
        }
    }
    if (k > MC_CROSS_MAX) {
        return MC_E_FULL;
    }
    int whole = tif != MC_GTC && tif != MC_IOC;
    int64_t can = whole ? cross_fillable(books, k, account, price, quantity, budget) : 0;
    if (whole && can < quantity) {
        if (budget >= 0) {
            first->fillable = can;
            return MC_E_UNFILLABLE;
        }
        trail[(*n)++] = 0;
        if (tif == MC_AON_GTC) {
            goto rest_whole;
        }
        emit(first, MC_CANCELLED, tif == MC_FOK ? MC_R_FOK : MC_R_AON, 1, id, account, price,
             quantity);
        first->events[first->n_events - 1u].link = links[1 % k];
        return MC_OK;
    }
    cursor at[MC_CROSS_MAX];
    for (uint32_t i = 0; i < k; i++) {
        at[i].at = books[i]->asks.count;
        next_level(books[i], &at[i], price);
    }
    int64_t need = quantity;
    int stop = 0;
    for (uint32_t i; need && (i = first_candidate(books, at, k)) < k;) {
        mc_book *b = books[i];
        uint32_t s = at[i].s, levels = b->asks.count;
        mc_order *o = &b->orders[s];
        uint32_t next = o->next;
        int64_t q = need < o->remaining ? need : o->remaining;
        int own = o->account == account, fill = !own;
        if (own && b->self_trade == MC_CANCEL_NEWEST) {
            stop = 1;
            break;
        }
        if (fill && budget >= 0) {
            int64_t affordable = budget / o->price;
            if (affordable == 0) {
                break;
            }
            q = q < affordable ? q : affordable;
        }
        fill = fill && !(o->aon && o->remaining > q); /* whole or not at all */
        if (own) {
            trail[(*n)++] = i;
            emit_open(b, MC_CANCELLED, MC_R_SELF_TRADE, o, o->price, o->remaining);
            b->asks.levels[at[i].at].quantity -= o->remaining;
            unlink_order(b, &b->asks, at[i].at, s);
        } else if (fill) {
            budget -= budget >= 0 ? q * o->price : 0;
            trail[(*n)++] = i;
            mc_event *e = &b->events[b->n_events++];
            *e = (mc_event){.kind = MC_TRADED, .buy = 1, .link = o->link, .order = o->id,
                            .taker = id, .account = o->account, .taker_account = account,
                            .price = o->price, .quantity = q, .resting_price = o->price};
            need -= q;
            o->remaining -= q;
            b->asks.levels[at[i].at].quantity -= q;
            if (o->remaining == 0) {
                unlink_order(b, &b->asks, at[i].at, s);
            }
        }
        if (own && b->self_trade == MC_CANCEL_BOTH) {
            stop = 1;
            break;
        }
        if (b->asks.count != levels) { /* its level emptied: the walk goes on below it */
            next_level(b, &at[i], price);
        } else if (next != MC_NONE) {
            at[i].s = next;
        } else {
            next_level(b, &at[i], price);
        }
    }
    if (need == 0) {
        return MC_OK;
    }
    trail[(*n)++] = 0;
    if (stop || tif != MC_GTC) {
        emit(first, MC_CANCELLED, stop ? MC_R_SELF_TRADE : MC_R_IOC, 1, id, account,
             budget >= 0 ? 0 : price, need);
        first->events[first->n_events - 1u].link = links[1 % k];
        return MC_OK;
    }
    quantity = need;
rest_whole:
    for (uint32_t i = 0; i < k; i++) {
        uint32_t mark = books[i]->n_events;
        rest(books[i], id, account, 1, price, quantity, tif == MC_AON_GTC,
             links[(i + 1u) % k]);
        books[i]->n_events = i == 0 ? mark + 1u : mark; /* one event: the first book's */
    }
    return MC_OK;
}

uint32_t
mc_depth(const mc_book *b, int buy, mc_level *out, uint32_t limit)
{
    const mc_side *side = buy ? &b->bids : &b->asks;
    uint32_t n = 0;
    for (uint32_t at = side->count; at-- > 0 && n < limit;) {
        out[n++] = side->levels[at];
    }
    return n;
}
