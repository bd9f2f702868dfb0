/*
 * engine_core.c - see engine_core.h. The differential tests in
 * tests/exchange/test_native_engine.py hold it equal to the Python engine.
 */
#include "engine_core.h"

#include <stdlib.h>
#include <string.h>

typedef __int128 wide;

int
ec_init(ec_engine *e, uint32_t n_accounts, uint32_t n_markets)
{
    memset(e, 0, sizeof *e);
    size_t n_slots = (size_t)n_accounts * n_markets;
    e->accounts = calloc(n_accounts ? n_accounts : 1u, sizeof(ec_account));
    e->markets = calloc(n_markets ? n_markets : 1u, sizeof(ec_market));
    e->slots = calloc(n_slots ? n_slots : 1u, sizeof(ec_slot));
    if (e->accounts == NULL || e->markets == NULL || e->slots == NULL) {
        ec_free(e);
        return -1;
    }
    e->n_accounts = n_accounts;
    e->n_markets = n_markets;
    return 0;
}

int
ec_market_init(ec_engine *e, uint32_t m, uint32_t max_orders, uint32_t max_levels,
               int self_trade, int at_ask, int64_t tick)
{
    ec_market *mk = &e->markets[m];
    size_t nbytes = mc_bytes(max_orders, max_levels);
    if (nbytes == 0 || tick < 1) {
        return -1;
    }
    mk->memory = malloc(nbytes);
    if (mk->memory == NULL) {
        return -1;
    }
    mk->nbytes = nbytes;
    mk->tick = tick;
    mk->provided = 0;
    mc_init(&mk->book, mk->memory, max_orders, max_levels, self_trade, at_ask);
    return 0;
}

int
ec_grow(ec_engine *e, uint32_t m)
{
    ec_market *mk = &e->markets[m];
    const mc_book *old = &mk->book;
    uint32_t orders = old->max_orders <= MC_MAX_ORDERS / 2u ? 2u * old->max_orders
                                                            : MC_MAX_ORDERS;
    uint32_t levels = old->max_levels <= MC_MAX_ORDERS / 2u ? 2u * old->max_levels
                                                            : MC_MAX_ORDERS;
    size_t nbytes = mc_bytes(orders, levels);
    void *memory = nbytes && orders > old->max_orders ? malloc(nbytes) : NULL;
    if (memory == NULL) {
        return -1;
    }
    mc_book fresh;
    mc_init(&fresh, memory, orders, levels, old->self_trade, old->at_ask);
    fresh.trade_seq = old->trade_seq;
    const mc_side *sides[2] = {&old->bids, &old->asks};
    for (int k = 0; k < 2; k++) {
        for (uint32_t at = 0; at < sides[k]->count; at++) {
            for (uint32_t s = sides[k]->levels[at].head; s != MC_NONE; s = old->orders[s].next) {
                const mc_order *o = &old->orders[s];
                fresh.stamp_seq = o->seq;
                fresh.stamp_ts = o->ts;
                mc_rest(&fresh, o->id, o->account, o->buy, o->price, o->remaining);
            }
        }
    }
    free(mk->memory);
    mk->memory = memory;
    mk->nbytes = nbytes;
    mk->book = fresh;
    return 0;
}

void
ec_free(ec_engine *e)
{
    if (e->markets != NULL) {
        for (uint32_t m = 0; m < e->n_markets; m++) {
            free(e->markets[m].memory);
        }
    }
    free(e->accounts);
    free(e->markets);
    free(e->slots);
    memset(e, 0, sizeof *e);
}

ec_slot *
ec_slot_of(const ec_engine *e, uint32_t m, uint32_t account)
{
    return &e->slots[(size_t)m * e->n_accounts + account];
}

static int64_t
available(const ec_account *a)
{
    return a->balance - a->reserved;
}

static int64_t
free_capacity(const ec_slot *s)
{
    return s->provided - s->allocated - s->offered;
}

/* Whether `account` may offer `quantity` more in market `m` (a provider with that much
 * capacity neither allocated nor offered). */
static int
offerable(const ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    const ec_slot *s = ec_slot_of(e, m, account);
    return e->accounts[account].role == EC_PROVIDER && s->exists
           && quantity <= free_capacity(s);
}

/* Settle what the last book call in market `m` did for the incoming order `taker` of
 * `account`: trades move money and capacity once (and are numbered across markets),
 * cancels release what their order held. `market_buy`: the taker is a market buy, whose
 * money was never reserved. Modifications and rests move nothing. */
static void
settle(ec_engine *e, uint32_t m, uint64_t taker, uint32_t account, int64_t limit,
       int market_buy)
{
    mc_book *b = &e->markets[m].book;
    for (uint32_t i = 0; i < b->n_events; i++) {
        mc_event *ev = &b->events[i];
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
        } else if (ev->kind == MC_CANCELLED) {
            if (ev->order == taker && market_buy) {
                continue; /* its money was never reserved */
            }
            if (ev->buy) {
                e->accounts[ev->account].reserved -= ev->price * ev->quantity;
            } else {
                ec_slot_of(e, m, ev->account)->offered -= ev->quantity;
            }
        }
    }
}

int
ec_place(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int buy, int64_t price,
         int64_t quantity, int tif, int64_t ts)
{
    ec_market *mk = &e->markets[m];
    ec_account *a = &e->accounts[account];
    if (price % mk->tick) {
        return EC_REFUSED;
    }
    if (buy) {
        if (a->role == EC_ADMIN || (wide)price * quantity > available(a)) {
            return EC_REFUSED;
        }
    } else if (!offerable(e, m, account, quantity)) {
        return EC_REFUSED;
    }
    mk->book.stamp_seq = e->seq + 1u;
    mk->book.stamp_ts = ts;
    int status = mc_place(&mk->book, id, account, buy, price, quantity, tif);
    if (status == MC_E_FULL && ec_grow(e, m) == 0) {
        mk->book.stamp_seq = e->seq + 1u;
        mk->book.stamp_ts = ts;
        status = mc_place(&mk->book, id, account, buy, price, quantity, tif);
    }
    if (status != MC_OK) {
        return status == MC_E_FULL ? EC_FULL : EC_REFUSED;
    }
    e->seq++;
    if (buy) {
        a->reserved += price * quantity; /* fits: at most what is available */
    } else {
        ec_slot_of(e, m, account)->offered += quantity;
    }
    settle(e, m, id, account, price, 0);
    return EC_OK;
}

int
ec_market_order(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int buy,
                int64_t quantity, int64_t budget, int tif)
{
    ec_account *a = &e->accounts[account];
    if (buy) {
        if (a->role == EC_ADMIN || budget > available(a)) {
            return EC_REFUSED;
        }
    } else if (!offerable(e, m, account, quantity)) {
        return EC_REFUSED;
    }
    int status = mc_place_market(&e->markets[m].book, id, account, buy, quantity, budget, tif);
    if (status != MC_OK) {
        return EC_REFUSED;
    }
    e->seq++;
    if (!buy) {
        ec_slot_of(e, m, account)->offered += quantity;
    }
    settle(e, m, id, account, 0, buy);
    return EC_OK;
}

int
ec_cancel(ec_engine *e, uint32_t m, uint64_t id, uint32_t account)
{
    mc_book *b = &e->markets[m].book;
    const mc_order *o = mc_find(b, id);
    if (o == NULL || o->account != account) {
        return EC_REFUSED;
    }
    mc_cancel(b, id);
    settle(e, m, id, account, 0, 0);
    return EC_OK;
}

int
ec_modify(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int64_t price,
          int64_t quantity, int64_t ts)
{
    ec_market *mk = &e->markets[m];
    const mc_order *o = mc_find(&mk->book, id);
    if (o == NULL || o->account != account) {
        return EC_REFUSED;
    }
    if (price == 0) {
        price = o->price;
    } else if (price % mk->tick) {
        return EC_REFUSED;
    }
    if (quantity == 0) {
        quantity = o->remaining;
    }
    ec_account *a = &e->accounts[account];
    int buy = o->buy;
    int64_t old_price = o->price, old_remaining = o->remaining;
    ec_slot *s = ec_slot_of(e, m, account);
    if (buy) {
        if ((wide)price * quantity - (wide)old_price * old_remaining > available(a)) {
            return EC_REFUSED;
        }
    } else if (quantity - old_remaining > free_capacity(s)) {
        return EC_REFUSED;
    }
    int kept = price == old_price && quantity <= old_remaining;
    mk->book.stamp_seq = e->seq + 1u;
    mk->book.stamp_ts = ts;
    int status = mc_modify(&mk->book, id, price, quantity);
    if (status == MC_E_FULL && ec_grow(e, m) == 0) {
        mk->book.stamp_seq = e->seq + 1u;
        mk->book.stamp_ts = ts;
        status = mc_modify(&mk->book, id, price, quantity);
    }
    if (status != MC_OK) {
        return EC_FULL;
    }
    if (kept) {
        if (buy) {
            a->reserved -= price * (old_remaining - quantity);
        } else {
            s->offered -= old_remaining - quantity;
        }
        return EC_OK;
    }
    e->seq++;
    if (buy) {
        a->reserved -= old_price * old_remaining;
        a->reserved += price * quantity; /* fits: checked against what is available */
    } else {
        s->offered += quantity - old_remaining;
    }
    settle(e, m, id, account, price, 0);
    return EC_OK;
}

int
ec_deposit(ec_engine *e, uint32_t account, int64_t amount)
{
    if (amount > EC_MONEY_MAX - e->minted) {
        return EC_REFUSED;
    }
    e->accounts[account].balance += amount;
    e->minted += amount;
    return EC_OK;
}

int
ec_withdraw(ec_engine *e, uint32_t account, int64_t amount)
{
    ec_account *a = &e->accounts[account];
    if (amount > available(a)) {
        return EC_REFUSED;
    }
    a->balance -= amount;
    e->minted -= amount;
    return EC_OK;
}

int
ec_add_capacity(ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    ec_market *mk = &e->markets[m];
    ec_slot *s = ec_slot_of(e, m, account);
    int64_t held = s->exists ? s->provided : 0;
    if (e->accounts[account].role != EC_PROVIDER || quantity > MC_QUANTITY_MAX - held
        || quantity > EC_MONEY_MAX - mk->provided) {
        return EC_REFUSED;
    }
    s->exists = 1;
    s->provided += quantity;
    mk->provided += quantity;
    return EC_OK;
}

int
ec_remove_capacity(ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    ec_slot *s = ec_slot_of(e, m, account);
    if (e->accounts[account].role != EC_PROVIDER || !s->exists
        || quantity > free_capacity(s)) {
        return EC_REFUSED;
    }
    s->provided -= quantity;
    e->markets[m].provided -= quantity;
    return EC_OK;
}
