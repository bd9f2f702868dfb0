/*
 * timing_ring.h - what _timing.c's module takes from timing_ring.c.
 */
#ifndef AUCTIONEER_TIMING_RING_H
#define AUCTIONEER_TIMING_RING_H

#include <Python.h>

enum { KIND_SPSC = 0, KIND_MPSC = 1 };

enum {
    OP_SPSC_PUSH = 0,
    OP_MPSC_PUSH = 1,
    OP_SPSC_PUSH_BATCH = 2,
    OP_MPSC_PUSH_BATCH = 3,
    OP_SPSC_DRAIN_BOOK = 4,
    OP_MPSC_DRAIN_BOOK = 5,
    OP_PAGE_PUBLISH = 6,
    OP_PAGE_READ = 7,
    OP_EMPTY = 8,
    OP_COUNT = 9
};

/* time_op(op, ops, capacity=1024, batch=256, /) -> bytes */
PyObject *timing_time_op(PyObject *module, PyObject *args);

/* run_pair(kind, capacity, producers, per_producer, timed=False, pin=True, pace_ns=0, /) */
PyObject *timing_run_pair(PyObject *module, PyObject *args);

#endif /* AUCTIONEER_TIMING_RING_H */
