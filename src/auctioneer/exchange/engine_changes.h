/*
 * engine_changes.h - a journal command as replay reads it (engine_replay.c), and the
 * changes to the SQL projection that engine_changes.c logs for it. Private to the _engine
 * binding.
 */
#ifndef AUCTIONEER_ENGINE_CHANGES_H
#define AUCTIONEER_ENGINE_CHANGES_H

#include "engine_binding.h"

/* A command's fields, checked and looked up (which fields a command has: its spec in
 * engine_replay.c). */
typedef struct {
    const char *id;
    size_t id_len;
    uint64_t id_hash;
    uint32_t account, market;
    int buy, tif, aon;
    int64_t price, quantity, amount, ts; /* -1: null */
    /* a cross-market bid's: its markets' list as the journal holds it, between the brackets
     * (its names checked as strings, looked up when it is applied), and how many; else 0 */
    const char *markets;
    size_t markets_len;
    uint32_t n_markets;
} rcmd;

/* The commands replay takes: the index of each one's spec in engine_replay.c. */
enum rkind {
    RK_PLACE,
    RK_CANCEL,
    RK_MODIFY,
    RK_MARKET,
    RK_DEPOSIT,
    RK_WITHDRAW,
    RK_ADD_CAPACITY,
    RK_REMOVE_CAPACITY,
    RK_TICK,
    RK_KINDS
};

/* engine_rapply.c: each applies a command replay read (the flag picks which of its two, as
 * each spec in engine_replay.c says): 1 when the core applied it, 0 when replay does not take
 * it (nothing changed), -1 on error. */
int eb_replay_order(CoreObject *self, const rcmd *c, int market); /* place 0, market order 1 */
int eb_replay_open(CoreObject *self, const rcmd *c, int modify);  /* cancel 0, modify 1 */
int eb_replay_money(CoreObject *self, const rcmd *c, int deposit); /* withdraw 0, deposit 1 */
int eb_replay_capacity(CoreObject *self, const rcmd *c, int add);  /* remove 0, add 1 */
int eb_replay_tick(CoreObject *self, const rcmd *c, int flag);

/* Append to `log` the changes of command `c` of kind `kind` (record `seq`), which the core
 * has just applied: 1, or -1 on error (the command stays applied). */
int eb_log_changes(CoreObject *self, enum rkind kind, const rcmd *c, uint64_t seq,
                   PyObject *log);

#endif
