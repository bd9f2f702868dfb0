/*
 * engine_core.c - see engine_core.h. The differential tests in
 * tests/exchange/test_native_engine.py hold it equal to the Python engine.
 */
#include "engine_inline.h"

#include <stdlib.h>
#include <string.h>

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
    e->n_accounts = e->room = n_accounts;
    e->n_markets = n_markets;
    return 0;
}

int
ec_add_account(ec_engine *e, int role)
{
    if (e->n_accounts == e->room) {
        if (e->room > UINT32_MAX / 4u) {
            return -1;
        }
        uint32_t room = e->room < 8u ? 16u : 2u * e->room;
        ec_account *accounts = realloc(e->accounts, room * sizeof *accounts);
        if (accounts == NULL) {
            return -1;
        }
        e->accounts = accounts;
        ec_slot *slots = calloc((size_t)room * (e->n_markets ? e->n_markets : 1u),
                                sizeof *slots);
        if (slots == NULL) {
            return -1;
        }
        for (uint32_t m = 0; m < e->n_markets; m++) {
            memcpy(&slots[(size_t)m * room], &e->slots[(size_t)m * e->room],
                   e->n_accounts * sizeof *slots);
        }
        free(e->slots);
        e->slots = slots;
        e->room = room;
    }
    ec_account *a = &e->accounts[e->n_accounts++];
    memset(a, 0, sizeof *a);
    a->role = (uint8_t)role;
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
    mk->book.dense_ids = 1; /* the binding's order numbers: each new order takes the next */
    return 0;
}

int
ec_add_market(ec_engine *e, uint32_t max_orders, uint32_t max_levels, int self_trade,
              int at_ask, int64_t tick)
{
    uint32_t m = e->n_markets;
    if (m >= UINT32_MAX / 2u) {
        return -1;
    }
    ec_market *markets = realloc(e->markets, (m + 1u) * sizeof *markets);
    if (markets == NULL) {
        return -1;
    }
    e->markets = markets;
    memset(&markets[m], 0, sizeof *markets);
    size_t room = e->room ? e->room : 1u;
    ec_slot *slots = realloc(e->slots, (m + 1u) * room * sizeof *slots);
    if (slots == NULL) {
        return -1;
    }
    e->slots = slots;
    memset(&slots[(size_t)m * room], 0, room * sizeof *slots);
    return ec_market_init(e, m, max_orders, max_levels, self_trade, at_ask, tick);
}

void
ec_market_drop(ec_engine *e)
{
    free(e->markets[e->n_markets].memory);
    e->markets[e->n_markets].memory = NULL;
}

/* Move market m's book to a block of `orders` order slots (more than it has) and `levels`
 * levels a side, its orders in their places: 0, or -1 (nothing changed). */
static int
regrow(ec_engine *e, uint32_t m, uint32_t orders, uint32_t levels)
{
    ec_market *mk = &e->markets[m];
    const mc_book *old = &mk->book;
    size_t nbytes = mc_bytes(orders, levels);
    void *memory = nbytes && orders > old->max_orders ? malloc(nbytes) : NULL;
    if (memory == NULL) {
        return -1;
    }
    mc_book fresh;
    mc_init(&fresh, memory, orders, levels, old->self_trade, old->at_ask);
    fresh.trade_seq = old->trade_seq;
    fresh.dense_ids = old->dense_ids;
    const mc_side *sides[2] = {&old->bids, &old->asks};
    for (int k = 0; k < 2; k++) {
        for (uint32_t at = 0; at < sides[k]->count; at++) {
            for (uint32_t s = sides[k]->levels[at].head; s != MC_NONE; s = old->orders[s].next) {
                const mc_order *o = &old->orders[s];
                fresh.stamp_seq = o->seq;
                fresh.stamp_ts = o->ts;
                mc_rest(&fresh, o->id, o->account, o->buy, o->price, o->remaining, o->aon, o->link);
            }
        }
    }
    free(mk->memory);
    mk->memory = memory;
    mk->nbytes = nbytes;
    mk->book = fresh;
    return 0;
}

static uint32_t
doubled(uint32_t n)
{
    return n <= MC_MAX_ORDERS / 2u ? 2u * n : MC_MAX_ORDERS;
}

int
ec_grow(ec_engine *e, uint32_t m)
{
    const mc_book *b = &e->markets[m].book;
    return regrow(e, m, doubled(b->max_orders), doubled(b->max_levels));
}

int
ec_reserve(ec_engine *e, uint32_t m, uint32_t orders)
{
    const mc_book *b = &e->markets[m].book;
    uint64_t want = (uint64_t)b->open + orders;
    want = want < MC_MAX_ORDERS ? want : MC_MAX_ORDERS;
    if (want <= b->max_orders) {
        return 0;
    }
    uint32_t room = b->max_orders;
    while (room < want) {
        room = doubled(room);
    }
    return regrow(e, m, room, b->max_levels);
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
    free(e->xmarkets);
    free(e->xbooks);
    free(e->trail);
    free(e->xev);
    memset(e, 0, sizeof *e);
}

static int64_t
available(const ec_account *a)
{
    return a->balance - a->reserved;
}

int64_t
ec_available(const ec_engine *e, uint32_t account)
{
    return available(&e->accounts[account]);
}

int64_t
ec_free_capacity(const ec_engine *e, uint32_t m, uint32_t account)
{
    const ec_slot *s = ec_slot_of(e, m, account);
    return s->exists ? free_capacity(s) : 0;
}

int
ec_crosses(const ec_engine *e, uint32_t m, int buy, int64_t price)
{
    const mc_book *b = &e->markets[m].book;
    const mc_side *side = buy ? &b->asks : &b->bids;
    if (side->count == 0) {
        return 0;
    }
    int64_t best = side->levels[side->count - 1].price; /* levels sorted, best last */
    return buy ? best <= price : best >= price;
}

int
ec_check_place(const ec_engine *e, uint32_t m, uint32_t account, int buy, int64_t price,
               int64_t quantity)
{
    return check_place(e, m, account, buy, price, quantity);
}

int
ec_check_market(const ec_engine *e, uint32_t m, uint32_t account, int buy, int64_t quantity,
                int64_t budget)
{
    int why = may_trade(e, account, buy);
    if (why || !buy) {
        return why ? why : offerable(e, m, account, quantity);
    }
    return budget > ec_available(e, account) ? EC_WHY_AVAILABLE : EC_WHY_NONE;
}

int
ec_check_open(const ec_engine *e, uint32_t m, uint64_t id, uint32_t account)
{
    const mc_order *o = mc_find(&e->markets[m].book, id);
    return o == NULL ? EC_WHY_NOT_OPEN : o->account != account ? EC_WHY_FOREIGN : EC_WHY_NONE;
}

int
ec_check_modify(const ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int64_t price,
                int64_t quantity)
{
    int why = ec_check_open(e, m, id, account);
    if (why) {
        return why;
    }
    const mc_order *o = mc_find(&e->markets[m].book, id);
    if (price == 0) {
        price = o->price;
    } else if (!ec_on_tick(e, m, price)) {
        return EC_WHY_OFF_TICK;
    }
    if (quantity == 0) {
        quantity = o->remaining;
    }
    if (o->buy) {
        return (wide)price * quantity - (wide)o->price * o->remaining
                       > available(&e->accounts[account])
                   ? EC_WHY_MORE_COST
                   : EC_WHY_NONE;
    }
    return quantity - o->remaining > free_capacity(ec_slot_of(e, m, account))
               ? EC_WHY_MORE_CAPACITY
               : EC_WHY_NONE;
}

int
ec_check_deposit(const ec_engine *e, int64_t amount)
{
    return amount > EC_MONEY_MAX - e->minted ? EC_WHY_MINTED : EC_WHY_NONE;
}

int
ec_check_withdraw(const ec_engine *e, uint32_t account, int64_t amount)
{
    return amount > ec_available(e, account) ? EC_WHY_AVAILABLE : EC_WHY_NONE;
}

int
ec_check_add(const ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    const ec_slot *s = ec_slot_of(e, m, account);
    if (e->accounts[account].role != EC_PROVIDER) {
        return EC_WHY_NOT_PROVIDER;
    }
    if (quantity > MC_QUANTITY_MAX - (s->exists ? s->provided : 0)) {
        return EC_WHY_RANGE;
    }
    return quantity > EC_MONEY_MAX - e->markets[m].provided ? EC_WHY_PROVIDED : EC_WHY_NONE;
}

int
ec_check_remove(const ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    if (e->accounts[account].role != EC_PROVIDER) {
        return EC_WHY_NOT_PROVIDER;
    }
    return quantity > ec_free_capacity(e, m, account) || !ec_slot_of(e, m, account)->exists
               ? EC_WHY_NOT_FREE
               : EC_WHY_NONE;
}


/* The copies in other books of a cross-market bid that event `ev` of a book call in market m
 * filled, cancelled or cut (its event carries a link) follow it there. */
static inline void
follow(ec_engine *e, uint32_t m, const mc_event *ev)
{
    if (ev->link == MC_NONE || ev->kind == MC_RESTED) {
        return;
    }
    for (uint32_t at = ev->link; at != m;) {
        mc_book *copy = &e->markets[at].book;
        const mc_order *o = mc_find(copy, ev->order);
        at = o->link;
        mc_reduce(copy, ev->order,
                  ev->kind == MC_MODIFIED ? o->remaining - ev->quantity : ev->quantity);
    }
}

/* follow for each event of the last book call in market m. */
static void
follow_copies(ec_engine *e, uint32_t m)
{
    const mc_book *b = &e->markets[m].book;
    for (uint32_t i = 0; i < b->n_events; i++) {
        follow(e, m, &b->events[i]);
    }
}

/* settle_one for each event of the last book call in market m, and its copies follow (in
 * the same pass: every order crosses it). */
static void
settle(ec_engine *e, uint32_t m, uint64_t taker, uint32_t account, int64_t limit,
       int market_buy)
{
    mc_book *b = &e->markets[m].book;
    for (uint32_t i = 0; i < b->n_events; i++) {
        settle_one(e, m, &b->events[i], taker, account, limit, market_buy);
        follow(e, m, &b->events[i]);
    }
}

int
ec_place(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int buy, int64_t price,
         int64_t quantity, int tif, int64_t ts)
{
    int why = check_place(e, m, account, buy, price, quantity);
    if (why) {
        return refuse(e, why);
    }
    ec_market *mk = &e->markets[m];
    mk->book.stamp_seq = e->seq + 1u;
    mk->book.stamp_ts = ts;
    int status = mc_place(&mk->book, id, account, buy, price, quantity, tif);
    if (status == MC_E_FULL && ec_grow(e, m) == 0) {
        mk->book.stamp_seq = e->seq + 1u;
        mk->book.stamp_ts = ts;
        status = mc_place(&mk->book, id, account, buy, price, quantity, tif);
    }
    if (status != MC_OK) {
        return status == MC_E_FULL ? EC_FULL : EC_OTHER;
    }
    e->seq++;
    if (buy) {
        e->accounts[account].reserved += price * quantity; /* fits: at most what is available */
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
    int why = ec_check_market(e, m, account, buy, quantity, budget);
    if (why) {
        return refuse(e, why);
    }
    int status = mc_place_market(&e->markets[m].book, id, account, buy, quantity, budget, tif);
    if (status != MC_OK) {
        return status == MC_E_UNFILLABLE ? refuse(e, EC_WHY_FOK_SHORT) : EC_OTHER;
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
    int why = ec_check_open(e, m, id, account);
    if (why) {
        return refuse(e, why);
    }
    mc_cancel(&e->markets[m].book, id);
    settle(e, m, id, account, 0, 0);
    return EC_OK;
}

int
ec_modify(ec_engine *e, uint32_t m, uint64_t id, uint32_t account, int64_t price,
          int64_t quantity, int64_t ts)
{
    int why = ec_check_modify(e, m, id, account, price, quantity);
    if (why) {
        return refuse(e, why);
    }
    ec_market *mk = &e->markets[m];
    const mc_order *o = mc_find(&mk->book, id);
    price = price ? price : o->price;
    quantity = quantity ? quantity : o->remaining;
    ec_account *a = &e->accounts[account];
    int buy = o->buy;
    int64_t old_price = o->price, old_remaining = o->remaining;
    ec_slot *s = ec_slot_of(e, m, account);
    int kept = price == old_price && quantity <= old_remaining;
    e->n_xev = 0;
    if (o->link != MC_NONE && !kept) {
        return ec_modify_cross(e, m, o, price, quantity, ts);
    }
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
        follow_copies(e, m);
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
    int why = ec_check_deposit(e, amount);
    if (why) {
        return refuse(e, why);
    }
    e->accounts[account].balance += amount;
    e->minted += amount;
    return EC_OK;
}

int
ec_withdraw(ec_engine *e, uint32_t account, int64_t amount)
{
    int why = ec_check_withdraw(e, account, amount);
    if (why) {
        return refuse(e, why);
    }
    e->accounts[account].balance -= amount;
    e->minted -= amount;
    return EC_OK;
}

int
ec_add_capacity(ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    int why = ec_check_add(e, m, account, quantity);
    if (why) {
        return refuse(e, why);
    }
    ec_slot *s = ec_slot_of(e, m, account);
    s->exists = 1;
    s->provided += quantity;
    e->markets[m].provided += quantity;
    return EC_OK;
}

int
ec_remove_capacity(ec_engine *e, uint32_t m, uint32_t account, int64_t quantity)
{
    int why = ec_check_remove(e, m, account, quantity);
    if (why) {
        return refuse(e, why);
    }
    ec_slot_of(e, m, account)->provided -= quantity;
    e->markets[m].provided -= quantity;
    return EC_OK;
}
