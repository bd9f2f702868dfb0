/*
 * engine_runs.h - the used order ids in usedids.py's compact form, as the C engine keeps
 * them (engine_runs.c): written by engine_snapshot.c, read back by engine_restore.c.
 * Private to the _engine binding.
 */
#ifndef AUCTIONEER_ENGINE_RUNS_H
#define AUCTIONEER_ENGINE_RUNS_H

#include "engine_binding.h"

/* A name of a table, or a run of used ids in usedids.py's compact form: the ids
 * stem + hex(first) .. stem + hex(first + count - 1), whose stem is the first `stem` bytes
 * of id k; with count 0, the whole name k (stem its length, first 0). */
struct eb_run {
    uint64_t first, stem;
    uint64_t head; /* the stem's first 8 bytes, big-endian, 0-padded: most compares end here */
    uint32_t k, count;
};
typedef struct eb_run eb_run;

/* Every name of t, sorted as Python sorts strs, as whole-name runs in a new array (free()
 * it; NULL with MemoryError). */
eb_run *eb_sorted_names(const eb_names *t, uint32_t count);
/* Bring self->runs up to every used id: the ids numbered since the last call split, sorted
 * and merged in, joining runs. 0, or -1 with MemoryError (the runs kept so far stay valid). */
int eb_compact_ids(CoreObject *self);
/* The compact form's JSON object in [p, end) (a snapshot's "used_ids") into a fresh core's
 * id table and runs (self->runs then holds the form as it was read): 1; 0 when it is not
 * that form exactly as usedids.compact_ids makes it, or C cannot hold one of its ids (the
 * caller drops the core); -1 with an error. */
int eb_restore_used(CoreObject *self, const char *p, const char *end);

#endif
