/*
 * core_api.h - what auctioneer.tick._core lends other extensions: a native
 * book's core and select scratch, through the capsule _core._C_API.
 *
 * Only the benchmark's timing harness (_timing.c) uses it, so that the
 * binding itself holds no timing code.
 */
#ifndef AUCTIONEER_CORE_API_H
#define AUCTIONEER_CORE_API_H

#include <stdint.h>

#include "tick_core.h"

#define TICK_CORE_API_NAME "auctioneer.tick._core._C_API"

/* A native book's core, borrowed: valid while the book object lives. */
struct tick_book_view {
    struct tick_book *book;
    uint32_t capacity;
    uint32_t *sel_agents; /* capacity entries of select scratch */
    uint32_t *sel_prices;
};

struct tick_core_api {
    /* 0 and *view filled when obj is a native tick book; -1 (no exception) otherwise. */
    int (*book_view)(PyObject *obj, struct tick_book_view *view);
};

#endif /* AUCTIONEER_CORE_API_H */
