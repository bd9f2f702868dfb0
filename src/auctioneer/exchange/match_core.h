/*
 * match_core.h - the exchange's native matching core: one market's book with
 * price-time priority, GTC/IOC/FOK, self-trade prevention and both execution
 * rules, as the Python engine matches a single-market limit order, and market
 * orders, and all-or-none orders: an incoming one fills whole now or not at all
 * (MC_AON, MC_FOK) or, GTC (MC_AON_GTC), rests whole; a resting one trades whole
 * or not at all, so an incoming order passes over one it cannot fill whole (as
 * the engine's plan skips it) and takes the orders behind it.
 *
 * A cross-market bid rests in several books at once, one copy in each, the
 * copies linked in a ring through the caller's market numbers (`link`); the
 * caller keeps their open quantities equal (mc_reduce). An incoming one meets
 * the asks of all its books merged, as the engine's plan does: cheapest first,
 * then earliest arrival, then its own order of markets (mc_cross_place).
 *
 * C11 and freestanding but for <stdint.h>, <stddef.h> and <string.h>: no
 * allocation at all. The caller hands mc_init one block of mc_bytes() bytes,
 * sized up front for `max_orders` resting orders and `max_levels` price
 * levels per side; a command that could need more than is left is refused
 * whole (MC_E_FULL) before anything changes.
 *
 * Layout: an order pool (free list), an open-addressing id -> slot table
 * (linear probing, backward-shift deletion, twice the pool), and per side an
 * array of levels sorted so the best price is last (new levels near the
 * touch are O(1); a deep one moves the levels behind it). A level is a FIFO
 * of its orders, doubly linked through the pool.
 *
 * Integers: prices and quantities are checked by the caller to lie in
 * 1..MC_PRICE_MAX and 1..MC_QUANTITY_MAX; level sums are bounded by the sum
 * of their orders' quantities (at most max_orders * MC_QUANTITY_MAX < 2^63
 * for any pool below 9.2e9 orders, which mc_bytes refuses).
 */
#ifndef AUCTIONEER_MATCH_CORE_H
#define AUCTIONEER_MATCH_CORE_H

#include <stddef.h>
#include <stdint.h>

#define MC_PRICE_MAX INT64_C(1000000000000)
#define MC_QUANTITY_MAX INT64_C(1000000000)
#define MC_MAX_ORDERS UINT32_C(100000000)

/* MC_AON: an immediate all-or-none order (IOC and all-or-none), which fills whole now or is
 * cancelled whole, as MC_FOK, but with reason MC_R_AON. MC_AON_GTC: a GTC all-or-none order,
 * which fills whole now or rests whole, all-or-none. */
enum mc_tif { MC_GTC = 0, MC_IOC = 1, MC_FOK = 2, MC_AON = 3, MC_AON_GTC = 4 };
enum mc_self_trade { MC_CANCEL_NEWEST = 0, MC_CANCEL_OLDEST = 1, MC_CANCEL_BOTH = 2 };
enum mc_kind { MC_TRADED = 1, MC_RESTED = 2, MC_CANCELLED = 3, MC_MODIFIED = 4 };
enum mc_reason {
    MC_R_CANCELLED = 0, MC_R_IOC = 1, MC_R_FOK = 2, MC_R_SELF_TRADE = 3, MC_R_AON = 4
};
enum mc_status {
    MC_OK = 0, MC_E_FULL = 1, MC_E_DUPLICATE = 2, MC_E_UNKNOWN = 3, MC_E_UNFILLABLE = 4
};

#define MC_NONE UINT32_MAX
#define MC_CROSS_MAX 64u /* books a cross-market walk keeps cursors for on the stack */

typedef struct {
    uint8_t kind;     /* enum mc_kind */
    uint8_t reason;   /* enum mc_reason, for MC_CANCELLED; MC_MODIFIED: 1 if it kept priority */
    uint8_t buy;      /* traded: the incoming order buys; else: the order's side */
    uint32_t link;    /* `order`'s link (MC_NONE: it rests in this book alone) */
    uint64_t order;   /* traded: the resting order; else: the order cancelled or rested */
    uint64_t taker;   /* traded: the incoming order */
    uint32_t account; /* of `order` */
    uint32_t taker_account;
    int64_t price;    /* traded: the trade's price; rested: the order's price */
    int64_t quantity; /* traded: filled; rested, cancelled: the open quantity */
    int64_t resting_price; /* traded: the resting order's own price */
    uint64_t trade_id;
} mc_event;

typedef struct {
    uint64_t id;
    int64_t price;
    int64_t remaining;
    uint32_t account;
    uint32_t next, prev; /* in its level's FIFO; next is the free list when unused */
    uint8_t buy;
    uint8_t aon;      /* all-or-none: it trades whole or not at all */
    uint32_t link;    /* the caller's: where its next copy rests (MC_NONE: in this book alone) */
    uint64_t seq;     /* the caller's arrival stamp (b->stamp_seq when it rested) */
    int64_t ts;       /* the caller's time of arrival (b->stamp_ts) */
} mc_order;

typedef struct {
    int64_t price;
    int64_t quantity;
    uint32_t count;
    uint32_t head, tail;
} mc_level;

typedef struct {
    mc_level *levels; /* sorted, best last */
    uint32_t count;
} mc_side;

typedef struct {
    mc_order *orders;
    uint32_t *table; /* slot per hash bucket, MC_NONE when empty */
    uint32_t table_mask;
    uint32_t free;   /* head of the free list */
    uint32_t max_orders, max_levels, open;
    mc_side bids, asks;
    mc_event *events;
    uint32_t n_events;
    uint64_t trade_seq;
    int64_t fillable;   /* after MC_E_UNFILLABLE: what the FOK could have filled */
    uint8_t self_trade; /* enum mc_self_trade */
    uint8_t at_ask;     /* 1: a trade is at the ask; 0: at the resting order's price */
    uint64_t stamp_seq; /* set by the caller: what an order resting now records */
    int64_t stamp_ts;
    /* Set by the caller before the first order (mc_init clears it): ids are its own
     * numbers, counted up, and mc_place / mc_place_market never see an id that is open.
     * They then skip the duplicate check, and the id table hashes an id to itself, so the
     * ids of orders placed close in time share cache lines instead of one miss each. */
    uint8_t dense_ids;
} mc_book;

/* Bytes mc_init needs for these sizes; 0 when they are out of range. */
size_t mc_bytes(uint32_t max_orders, uint32_t max_levels);

/* Lay the book out in `memory` (mc_bytes(...) bytes, 8-byte aligned). */
void mc_init(mc_book *b, void *memory, uint32_t max_orders, uint32_t max_levels,
             int self_trade, int at_ask);

/* Match an incoming limit order; its events in b->events[0..n_events).
 * MC_E_DUPLICATE: `id` is open (not checked with dense_ids); MC_E_FULL: it might not fit.
 * Nothing changed then. */
int mc_place(mc_book *b, uint64_t id, uint32_t account, int buy, int64_t price,
             int64_t quantity, int tif);

/* Match a market order: a buy spends at most `budget` (> 0, at most INT64_MAX), a sell
 * (budget ignored) takes any price; each fill is at the resting price. IOC cancels the
 * rest; a FOK that cannot fill whole returns MC_E_UNFILLABLE (b->fillable says how much
 * could) and changes nothing. Never rests, so never MC_E_FULL. */
int mc_place_market(mc_book *b, uint64_t id, uint32_t account, int buy, int64_t quantity,
                    int64_t budget, int tif);

/* Give open order `id` a new price and open quantity. It keeps its place when the price is
 * the same and the quantity does not grow (one MC_MODIFIED event); otherwise it leaves the
 * book and arrives anew, GTC (all-or-none still, if it was), and may trade (MC_MODIFIED,
 * then what matching did).
 * MC_E_UNKNOWN if it is not open; MC_E_FULL if it might not fit (nothing changed). */
int mc_modify(mc_book *b, uint64_t id, int64_t price, int64_t quantity);

/* How much of an incoming limit order (the engine's plan, read-only) could fill now, self-trade
 * prevention included. */
int64_t mc_fillable(const mc_book *b, uint32_t account, int buy, int64_t price,
                    int64_t quantity);

/* Whether a new order of this side and price could rest now (a free slot, and its level
 * exists or one more fits). */
int mc_fits(const mc_book *b, int buy, int64_t price);

/* Queue order `id` (all-or-none if `aon`; `link` its link) at the back of its level without
 * matching (a state being loaded); stamped with b->stamp_seq and b->stamp_ts. MC_E_FULL /
 * MC_E_DUPLICATE change nothing. */
int mc_rest(mc_book *b, uint64_t id, uint32_t account, int buy, int64_t price,
            int64_t quantity, int aon, uint32_t link);

/* Take `quantity` (at most its open quantity) off open order `id`, with no event: it leaves
 * the book when nothing is left. MC_E_UNKNOWN if it is not open. */
int mc_reduce(mc_book *b, uint64_t id, int64_t quantity);

/* A cross-market bid (a buy) over books[0..k) (distinct, each stamped by the caller), as
 * mc_place (tif, all-or-none as MC_AON / MC_AON_GTC) or, budget >= 0 and price INT64_MAX,
 * as mc_place_market's buy (IOC, FOK). Each event goes to the book it happened in, and
 * trail[0..*n) says which book (its index) each came from, in order: the bid's own events
 * (rested: flagged in books[0] only, its copies linked books[i] -> links[i + 1], the last
 * to links[0]; cancelled) are books[0]'s. `trail` has room for every book's events.
 * MC_E_FULL (it might not fit in some book), MC_E_UNFILLABLE (a FOK market buy, fillable
 * in books[0]): nothing changed. */
int mc_cross_place(mc_book *const *books, const uint32_t *links, uint32_t k, uint64_t id,
                   uint32_t account, int64_t price, int64_t quantity, int tif, int64_t budget,
                   uint32_t *trail, uint32_t *n);

/* The open order `id`, NULL if there is none. */
const mc_order *mc_find(const mc_book *b, uint64_t id);

/* Cancel open order `id` (one MC_CANCELLED event); MC_E_UNKNOWN if it is not open. */
int mc_cancel(mc_book *b, uint64_t id);

/* The best `limit` levels of one side into out[0..): the number written. */
uint32_t mc_depth(const mc_book *b, int buy, mc_level *out, uint32_t limit);

#endif
