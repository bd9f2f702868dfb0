/*
 * engine_cross.c - a cross-market bid's commands (see engine_core.h): its books made ready,
 * its walk over them (mc_cross_place) settled in order with trades numbered across markets,
 * its copies listed, and a modification that loses its place. It shares engine_core.c's
 * checks and settle_one through engine_inline.h.
 */
#include "engine_inline.h"

#include <stdlib.h>

int
ec_cross_room(ec_engine *e)
{
    if (e->cap_markets >= e->n_markets) {
        return 0;
    }
    uint32_t *markets = realloc(e->xmarkets, e->n_markets * sizeof *markets);
    e->xmarkets = markets != NULL ? markets : e->xmarkets;
    mc_book **books = markets == NULL ? NULL : realloc(e->xbooks, e->n_markets * sizeof *books);
    if (books == NULL) {
        return -1;
    }
    e->xbooks = books;
    e->cap_markets = e->n_markets;
    return 0;
}

/* Room in trail and xev for a cross-market walk over e->xbooks[0..k) after `first` events:
 * every book's events, and `first`. 0, or -1 when memory is short (nothing changed). */
static int
cross_events_room(ec_engine *e, uint32_t k, uint32_t first)
{
    size_t want = first;
    for (uint32_t i = 0; i < k; i++) {
        want += (size_t)e->xbooks[i]->max_orders + 2u;
    }
    if (want <= e->cap_xev) {
        return 0;
    }
    uint32_t *trail = realloc(e->trail, want * sizeof *trail);
    e->trail = trail != NULL ? trail : e->trail;
    ec_xevent *xev = trail == NULL ? NULL : realloc(e->xev, want * sizeof *xev);
    if (xev == NULL) {
        return -1;
    }
    e->xev = xev;
    e->cap_xev = want;
    return 0;
}

/* The books of e->xmarkets[0..k) into e->xbooks, with room for a cross-market walk's events
 * after `first`, and each a free slot and room for a level at `price` (grown if not, so the
 * walk does not find one full): 0, or -1 when memory is short. */
static int
cross_books(ec_engine *e, uint32_t k, int64_t price, uint32_t first)
{
    for (uint32_t i = 0; i < k; i++) {
        mc_book *b = &e->markets[e->xmarkets[i]].book;
        if (!mc_fits(b, 1, price) && ec_grow(e, e->xmarkets[i]) < 0) {
            return -1;
        }
        e->xbooks[i] = &e->markets[e->xmarkets[i]].book;
    }
    return cross_events_room(e, k, first);
}

/* The walk of ec_place_cross (its books ready: cross_books), its events into e->xev after
 * the `first` there: EC_OK or EC_REFUSED (an unfillable FOK market buy). */
static int
cross(ec_engine *e, uint32_t k, uint64_t id, uint32_t account, int64_t price,
      int64_t quantity, int tif, int64_t budget, int64_t ts, uint32_t first)
{
    for (uint32_t i = 0; i < k; i++) {
        e->xbooks[i]->stamp_seq = e->seq + 1u;
        e->xbooks[i]->stamp_ts = ts;
    }
    uint32_t n;
    int status = mc_cross_place(e->xbooks, e->xmarkets, k, id, account, price, quantity, tif,
                                budget, e->trail, &n);
    if (status != MC_OK) { /* MC_E_UNFILLABLE: MC_E_FULL is ruled out by cross_books */
        return refuse(e, EC_WHY_FOK_SHORT);
    }
    e->seq++;
    e->n_xbooks = k;
    int market_buy = budget >= 0;
    if (!market_buy) {
        e->accounts[account].reserved += price * quantity; /* fits: checked as available */
    }
    uint32_t read[MC_CROSS_MAX] = {0};
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = e->trail[i];
        mc_event *ev = &e->xbooks[j]->events[read[j]++];
        settle_one(e, e->xmarkets[j], ev, id, account, price, market_buy);
        e->xev[first + i] = (ec_xevent){*ev, e->xmarkets[j]};
    }
    e->n_xev = first + n;
    return EC_OK;
}

int
ec_place_cross(ec_engine *e, uint32_t k, uint64_t id, uint32_t account, int64_t price,
               int64_t quantity, int tif, int64_t budget, int64_t ts)
{
    uint32_t m = e->xmarkets[0];
    int why = budget < 0 ? check_place(e, m, account, 1, price, quantity)
                         : ec_check_market(e, m, account, 1, quantity, budget);
    if (why) {
        return refuse(e, why);
    }
    if (k > MC_CROSS_MAX) {
        return EC_OTHER;
    }
    if (cross_books(e, k, budget < 0 ? price : 1, 0) < 0) {
        return EC_FULL;
    }
    return cross(e, k, id, account, price, quantity, tif, budget, ts, 0);
}

uint32_t
ec_copies(ec_engine *e, uint32_t m, uint64_t id)
{
    const mc_order *o = mc_find(&e->markets[m].book, id);
    uint32_t k = 0;
    e->xmarkets[k++] = m;
    for (uint32_t at = o->link; at != MC_NONE && at != m; at = o->link) {
        e->xmarkets[k++] = at;
        o = mc_find(&e->markets[at].book, id);
    }
    return k;
}

/* ec_modify of a cross-market bid that loses its place: out of every book, then it arrives
 * anew over the same markets (its events after its Modified in e->xev). */
int
ec_modify_cross(ec_engine *e, uint32_t m, const mc_order *o, int64_t price,
                int64_t quantity, int64_t ts)
{
    uint64_t id = o->id;
    uint32_t account = o->account;
    int aon = o->aon;
    uint32_t k = ec_copies(e, m, id); /* the order's own markets: at most MC_CROSS_MAX */
    if (cross_books(e, k, price, 1) < 0) {
        return EC_FULL;
    }
    o = mc_find(e->xbooks[0], id); /* a book may have moved */
    e->accounts[account].reserved -= o->price * o->remaining;
    e->xev[0] = (ec_xevent){{.kind = MC_MODIFIED, .buy = 1, .link = o->link, .order = id,
                             .account = account, .price = price, .quantity = quantity},
                            m};
    int64_t remaining = o->remaining;
    for (uint32_t i = 0; i < k; i++) {
        mc_reduce(e->xbooks[i], id, remaining);
    }
    return cross(e, k, id, account, price, quantity, aon ? MC_AON_GTC : MC_GTC, -1, ts, 1);
}
