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

/* Append to `log` the changes of command `c` of kind `kind` (record `seq`), which the core
 * has just applied: 1, or -1 on error (the command stays applied). */
int eb_log_changes(CoreObject *self, enum rkind kind, const rcmd *c, uint64_t seq,
                   PyObject *log);

#endif
