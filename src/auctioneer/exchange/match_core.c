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
#include "match_inline.h"

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

/* -------------------------------------------------------------- matching */

static int
crosses(int buy, int64_t limit, int64_t best)
{
    return buy ? best <= limit : best >= limit;
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
