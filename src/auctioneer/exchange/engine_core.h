/*
 * engine_core.h - the native exchange engine: accounts, capacity, holdings and
 * settlement around one match_core book per market, with the Python engine's
 * rules (auctioneer/exchange/{accounts,capacity,admission,matching,market}.py)
 * for the commands it takes: single-market limit orders (all-or-none ones
 * too), market orders, cancels, modifications, deposits, withdrawals and
 * capacity changes. (A post-only order is one the binding refused if it would
 * trade, so it rests whole: the core needs no flag for it; the binding keeps
 * one per order, for its modifications.)
 *
 * Every ec_ command checks everything first, in the reference engine's order,
 * and either refuses (EC_REFUSED, its reason in e->why: an ec_why, numbered as
 * auctioneer/exchange/refusals.py's Why, whose message the caller formats from
 * the state, which is unchanged), hands the command back (EC_FULL, EC_OTHER:
 * nothing changed, the reference engine takes it) or applies whole (EC_OK);
 * its events are then in the market's book (b->events), settled and
 * renumbered. Each ec_check_ is a command's checks alone, for a caller that
 * has a later check of its own (the timestamp) to make only if they pass.
 *
 * Memory: accounts and markets are added in place (ec_add_account,
 * ec_add_market); per market one block for its book, sized
 * up front, and one capacity/holding record per account. A command allocates
 * nothing, but for the one order that finds its book full: the book then
 * moves to a block twice the size (ec_grow), O(open orders) once per
 * doubling.
 *
 * Integers: prices, quantities and amounts are checked by the caller to lie
 * in their ranges (MC_PRICE_MAX, MC_QUANTITY_MAX, EC_MONEY_MAX); a cost is
 * compared in 128 bits before it is reserved; every balance and reservation
 * is a part of the money deposited (at most EC_MONEY_MAX), and every holding,
 * allocation and offer a part of a market's provided capacity (at most
 * EC_MONEY_MAX), so nothing wraps.
 */
#ifndef AUCTIONEER_ENGINE_CORE_H
#define AUCTIONEER_ENGINE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "match_core.h"

#define EC_MONEY_MAX INT64_MAX
#define EC_SECOND INT64_C(1000000000)

enum ec_role { EC_TRADER = 0, EC_PROVIDER = 1, EC_ADMIN = 2 };
enum ec_status { EC_OK = 0, EC_REFUSED = 1, EC_FULL = 2, EC_OTHER = 3 };

/* Why a command was refused: the values of auctioneer.exchange.refusals.Why (the binding
 * checks the names when it loads). */
enum ec_why {
    EC_WHY_NONE = 0,
    EC_WHY_NOT_TEXT, EC_WHY_USED, EC_WHY_NO_ACCOUNT, EC_WHY_ADMIN_TRADES, EC_WHY_NOT_SELLER,
    EC_WHY_NOT_SIDE, EC_WHY_NOT_MARKETS, EC_WHY_NO_MARKET, EC_WHY_SELL_MARKETS,
    EC_WHY_MARKET_TWICE, EC_WHY_NOT_INT, EC_WHY_RANGE, EC_WHY_OFF_TICK, EC_WHY_NOT_TIF,
    EC_WHY_NOT_BOOL, EC_WHY_POST_ONLY_TIF, EC_WHY_POST_ONLY_TRADES, EC_WHY_COST,
    EC_WHY_NOT_OFFERABLE, EC_WHY_BAD_TS, EC_WHY_NO_SPEND, EC_WHY_SELL_SPEND, EC_WHY_MARKET_TIF,
    EC_WHY_AVAILABLE, EC_WHY_FOK_SHORT, EC_WHY_NOT_OPEN, EC_WHY_FOREIGN, EC_WHY_NO_CHANGE,
    EC_WHY_MORE_COST, EC_WHY_MORE_CAPACITY, EC_WHY_MODIFY_TRADES, EC_WHY_MINTED,
    EC_WHY_NOT_PROVIDER, EC_WHY_PROVIDED, EC_WHY_NOT_FREE, EC_WHY_EXISTS, EC_WHY_NOT_ROLE,
    /* ListMarket's, which the reference's own check (_check_list) raises for both engines */
    EC_WHY_NOT_MARKET, EC_WHY_MARKET_ID, EC_WHY_LISTED, EC_WHY_NOT_EXECUTION,
    EC_WHY_NOT_SELF_TRADE,
    EC_WHY_COUNT /* one past the last */
};

typedef struct {
    int64_t balance, reserved;
    uint8_t role;
} ec_account;

typedef struct {
    int64_t provided, allocated, offered; /* the capacity record, when `exists` */
    int64_t holding;                      /* instances bought here */
    uint8_t exists;
} ec_slot;

typedef struct {
    mc_book book;
    void *memory;
    int64_t tick;
    int64_t provided; /* the sum of its records' provided capacity */
    size_t nbytes;
} ec_market;

/* A book event of a cross-market bid's command, and the market it happened in. */
typedef struct {
    mc_event ev;
    uint32_t market;
} ec_xevent;

typedef struct {
    ec_account *accounts;
    uint32_t n_accounts;
    uint32_t room; /* accounts the tables have room for (n_accounts <= room) */
    ec_market *markets;
    uint32_t n_markets;
    ec_slot *slots; /* [market * room + account] */
    uint64_t seq, trade_seq;
    int64_t clock, second, minted;
    uint8_t why; /* enum ec_why: the last EC_REFUSED's reason */
    /* A cross-market bid's command: its markets (xmarkets[0..k), set by the caller; room
     * for n_markets after ec_cross_room), their books, and its events across them in order
     * (xev[0..n_xev)); trail is mc_cross_place's. */
    uint32_t *xmarkets;
    mc_book **xbooks;
    uint32_t cap_markets;
    uint32_t *trail;
    ec_xevent *xev;
    size_t cap_xev;
    uint32_t n_xev, n_xbooks;
} ec_engine;

/* Zeroed accounts and markets (each market's book still to be sized with
 * ec_market_init); -1 when memory is short (nothing held then). */
int ec_init(ec_engine *e, uint32_t n_accounts, uint32_t n_markets);

/* Size market `m`'s book; -1 when the sizes are out of range or memory is short. */
int ec_market_init(ec_engine *e, uint32_t m, uint32_t max_orders, uint32_t max_levels,
                   int self_trade, int at_ask, int64_t tick);

/* Move market `m`'s book to a block twice the size, its orders in their places; -1 (and
 * nothing changed) when memory is short or the book is at MC_MAX_ORDERS. */
int ec_grow(ec_engine *e, uint32_t m);

/* Move market `m`'s book, as ec_grow does, to a block with room for `orders` more resting
 * orders than it holds (at most MC_MAX_ORDERS in all), if it has less: 0, or -1 (nothing
 * changed) when memory is short. */
int ec_reserve(ec_engine *e, uint32_t m, uint32_t orders);

/* Open account number n_accounts with `role` (no money, no records): 0, or -1 (nothing
 * changed) when memory is short. Room doubles when full, so the O(markets x accounts) move
 * of the records is amortised over the accounts that filled it. */
int ec_add_account(ec_engine *e, int role);

/* Make room for market number n_markets and size its book (ec_market_init's arguments), with
 * no records: 0, or -1 (nothing changed but room) when memory is short or the sizes are out
 * of range. The caller counts it (n_markets++) once the prices of the command that lists it
 * are published, which leave it out; until then it may free it with ec_market_drop. */
int ec_add_market(ec_engine *e, uint32_t max_orders, uint32_t max_levels, int self_trade,
                  int at_ask, int64_t tick);
void ec_market_drop(ec_engine *e);

void ec_free(ec_engine *e);

/* Account `account`'s record in market m (inline: a trade reaches two). */
static inline ec_slot *
ec_slot_of(const ec_engine *e, uint32_t m, uint32_t account)
{
    return &e->slots[(size_t)m * e->room + account];
}

/* Whether an order at `price` on this side would trade in market m now (the best opposite
 * price reaches it). */
int ec_crosses(const ec_engine *e, uint32_t m, int buy, int64_t price);

/* Whether `price` is on market m's tick. */
static inline int
ec_on_tick(const ec_engine *e, uint32_t m, int64_t price)
{
    return price % e->markets[m].tick == 0;
}

/* The time in force ec_place takes an all-or-none limit order with: MC_AON for IOC (whole
 * or cancelled, reason "aon"), MC_FOK for FOK, MC_AON_GTC for GTC (whole now, or it rests
 * whole). */
static inline int
ec_aon_tif(int tif)
{
    return tif == MC_IOC ? MC_AON : tif == MC_GTC ? MC_AON_GTC : tif;
}

/* The checks of ec_place, ec_market_order, ec_cancel, ec_modify, ec_deposit, ec_withdraw,
 * ec_add_capacity and ec_remove_capacity (same arguments): EC_WHY_NONE, or why the command
 * would be refused. */
int ec_check_place(const ec_engine *e, uint32_t m, uint32_t account, int buy, int64_t price,
                   int64_t quantity);
int ec_check_market(const ec_engine *e, uint32_t m, uint32_t account, int buy,
                    int64_t quantity, int64_t budget);
int ec_check_open(const ec_engine *e, uint32_t m, uint64_t id, uint32_t account);
int ec_check_modify(const ec_engine *e, uint32_t m, uint64_t id, uint32_t account,
                    int64_t price, int64_t quantity);
int ec_check_deposit(const ec_engine *e, int64_t amount);
int ec_check_withdraw(const ec_engine *e, uint32_t account, int64_t amount);
int ec_check_add(const ec_engine *e, uint32_t m, uint32_t account, int64_t quantity);
int ec_check_remove(const ec_engine *e, uint32_t m, uint32_t account, int64_t quantity);

/* What `account` has available (balance less reservations), and what its capacity record
 * in market m has free (0 without one). */
int64_t ec_available(const ec_engine *e, uint32_t account);
int64_t ec_free_capacity(const ec_engine *e, uint32_t m, uint32_t account);

/* A limit order, seq and ts its arrival stamp. */
int ec_place(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int buy, int64_t price,
             int64_t quantity, int tif, int64_t ts);

/* Room for a cross-market bid's markets in e->xmarkets: 0, or -1 when memory is short. */
int ec_cross_room(ec_engine *e);

/* A cross-market bid over markets e->xmarkets[0..k) (distinct; ticks checked by the caller):
 * a limit order as ec_place (budget -1), or a market buy (price INT64_MAX, budget its
 * max_spend) as ec_market_order. Its events, settled, in e->xev. EC_OTHER: more markets than
 * the core walks at once (MC_CROSS_MAX), for the reference. */
int ec_place_cross(ec_engine *e, uint32_t k, uint64_t id, uint32_t account, int64_t price,
                   int64_t quantity, int tif, int64_t budget, int64_t ts);

/* Whether open order `id` of market m (its first) rests in other books too; their market
 * numbers, m first, into e->xmarkets (room from ec_cross_room), their count returned. */
uint32_t ec_copies(ec_engine *e, uint32_t m, uint64_t id);

/* A market order; a buy spends at most `budget`. A FOK that cannot fill whole: EC_REFUSED
 * (EC_WHY_FOK_SHORT; the book's `fillable` says how much could). */
int ec_market_order(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int buy,
                    int64_t quantity, int64_t budget, int tif);

/* Cancel open order `id` of `account` in market `m`. */
int ec_cancel(ec_engine *e, uint32_t m, uint64_t id, uint32_t account);

/* Modify open order `id` of `account`: price or quantity 0 keeps the order's own. A
 * cross-market bid that arrives anew: its events in e->xev (e->n_xev > 0), as
 * ec_place_cross's. */
int ec_modify(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int64_t price,
              int64_t quantity, int64_t ts);

/* ec_modify of a cross-market bid (open order o of market m) that loses its place: out of
 * every book, then it arrives anew over the same markets (its events after its Modified in
 * e->xev). */
int ec_modify_cross(ec_engine *e, uint32_t m, const mc_order *o, int64_t price,
                    int64_t quantity, int64_t ts);

int ec_deposit(ec_engine *e, uint32_t account, int64_t amount);
int ec_withdraw(ec_engine *e, uint32_t account, int64_t amount);
int ec_add_capacity(ec_engine *e, uint32_t m, uint32_t account, int64_t quantity);
int ec_remove_capacity(ec_engine *e, uint32_t m, uint32_t account, int64_t quantity);

#endif
