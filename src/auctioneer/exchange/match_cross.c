/*
 * match_cross.c - a cross-market bid's merged walk over several books (mc_cross_place, see
 * match_core.h), as the reference's plan does: cheapest, earliest, then its own order of
 * markets. It shares match_core.c's helpers through match_inline.h.
 */
#include "match_inline.h"

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
