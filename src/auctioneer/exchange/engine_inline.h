/*
 * engine_inline.h - private to engine_core.c and engine_cross.c: the checks and the
 * settlement of one book event that a single-market command and a cross-market bid's share,
 * static inline so they stay inlined on every order's path.
 */
#ifndef AUCTIONEER_ENGINE_INLINE_H
#define AUCTIONEER_ENGINE_INLINE_H

#include "engine_core.h"

typedef __int128 wide;

static inline int64_t
free_capacity(const ec_slot *s)
{
    return s->provided - s->allocated - s->offered;
}

/* Whether `account` may trade on this side: an admin never, a seller only as a provider. */
static inline int
may_trade(const ec_engine *e, uint32_t account, int buy)
{
    uint8_t role = e->accounts[account].role;
    return buy ? (role == EC_ADMIN ? EC_WHY_ADMIN_TRADES : EC_WHY_NONE)
               : (role != EC_PROVIDER ? EC_WHY_NOT_SELLER : EC_WHY_NONE);
}

/* Whether `account` may offer `quantity` more in market `m` (capacity neither allocated nor
 * offered): EC_WHY_NONE, or why not. */
static inline int
offerable(const ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    const ec_slot *s = ec_slot_of(e, m, account);
    return s->exists && quantity <= free_capacity(s) ? EC_WHY_NONE : EC_WHY_NOT_OFFERABLE;
}

/* EC_REFUSED, recording `why` as its reason. */
static inline int
refuse(ec_engine *e, int why)
{
    e->why = (uint8_t)why;
    return EC_REFUSED;
}

/* ec_check_place, inline in ec_place (every limit order's path). */
static inline int
check_place(const ec_engine *e, uint32_t m, uint32_t account, int buy, int64_t price,
            int64_t quantity)
{
    int why = may_trade(e, account, buy);
    if (why || !ec_on_tick(e, m, price)) {
        return why ? why : EC_WHY_OFF_TICK;
    }
    if (buy) {
        return (wide)price * quantity > ec_available(e, account) ? EC_WHY_COST : EC_WHY_NONE;
    }
    return offerable(e, m, account, quantity);
}

/* Settle event `ev` of a book call in market `m` for the incoming order `taker` of
 * `account`: a trade moves money and capacity once (and is numbered across markets), a
 * cancel releases what its order held. `market_buy`: the taker is a market buy, whose money
 * was never reserved. Modifications and rests move nothing. */
static inline void
settle_one(ec_engine *e, uint32_t m, mc_event *ev, uint64_t taker, uint32_t account,
           int64_t limit, int market_buy)
{
    if (ev->kind == MC_TRADED) {
        int64_t q = ev->quantity;
        int64_t amount = ev->price * q; /* at most the buyer's reservation */
        uint32_t buyer, seller;
        int64_t release;
        if (ev->buy) {
            buyer = account;
            seller = ev->account;
            release = market_buy ? 0 : limit * q;
        } else {
            buyer = ev->account;
            seller = account;
            release = ev->resting_price * q;
        }
        e->accounts[buyer].balance -= amount;
        e->accounts[buyer].reserved -= release;
        e->accounts[seller].balance += amount;
        ec_slot *sold = ec_slot_of(e, m, seller);
        sold->offered -= q;
        sold->allocated += q;
        ec_slot_of(e, m, buyer)->holding += q;
        ev->trade_id = ++e->trade_seq;
    } else if (ev->kind == MC_CANCELLED && !(ev->order == taker && market_buy)) {
        if (ev->buy) { /* (a market buy's money was never reserved) */
            e->accounts[ev->account].reserved -= ev->price * ev->quantity;
        } else {
            ec_slot_of(e, m, ev->account)->offered -= ev->quantity;
        }
    }
}

#endif
