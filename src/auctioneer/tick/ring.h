/*
 * ring.h - lock-free bid submission and price broadcast, in freestanding C11.
 *
 * Three structures, each laid out in ONE caller-provided block so that it can
 * live in memory shared between processes (POSIX shared memory, a BPF arena,
 * a page mapped into a VM). Like tick_core.h: no allocation, no locks, no
 * floating point, no libc (<stdatomic.h>, <stdint.h>, <stddef.h> and
 * <stdalign.h> are freestanding headers); tests/tick/test_ring_freestanding.py
 * links ring.c with -ffreestanding -nostdlib. Every atomic is a 64- or 32-bit
 * lock-free, address-free atomic, so two processes mapping the same block at
 * different addresses synchronise through it.
 *
 * The bid record (struct ring_bid, 16 bytes) is the seed's AgentBid:
 *   { u64 agent; u32 price (micro-units); u32 units }.
 * A record with units == 0 withdraws the agent's bid (tick_expire); any other
 * record replaces it (tick_update). The tick core's slot has the same size
 * but carries an arrival stamp where this carries the agent id: the ring
 * transports bids, the book stamps them as it applies them.
 *
 * Counters. head (next record to read) and tail (next record to write) are
 * 64-bit and only ever grow; the slot of position p is p & (capacity - 1).
 * At 10^10 bids a second they wrap after 58 years, so no wrap logic exists.
 *
 * struct ring_spsc - single producer, single consumer (Lamport / Rigtorp):
 *   line 0: magic, version, capacity (read-only after init);
 *   line 1: head, written by the consumer only, and the consumer's cached
 *           copy of tail;
 *   line 2: tail, written by the producer only, and the producer's cached
 *           copy of head;
 *   then capacity 16-byte records (4 to a cache line).
 *   push: write the record, then store tail + 1 with release; the consumer
 *   loads tail with acquire before reading records, and stores head with
 *   release after reading them, which the producer loads with acquire before
 *   reusing their slots. The cached copies mean the producer touches the
 *   consumer's line only when the ring looks full, and the consumer touches
 *   the producer's line only when it looks empty.
 *   EXACTLY ONE producer and one consumer at a time: the cached copies live
 *   in the shared block, so two producers on one SPSC ring corrupt it. Give
 *   each agent (or each producer process) its own ring.
 *
 * struct ring_mpsc - many producers, single consumer (Vyukov's bounded queue
 * with one consumer): every 32-byte cell carries a 64-bit sequence number
 * next to its record. Initially cell i holds i. A producer claims position p
 * when cell[p].seq == p by CAS(tail, p, p + 1), writes the record, and stores
 * seq = p + 1 with release; the consumer reads position p when it loads
 * (acquire) seq == p + 1, then frees the cell for the next lap by storing
 * seq = p + capacity with release. Full when the claimed cell still holds
 * p - capacity + 1 (the consumer has not freed it). The cost over SPSC: a
 * CAS on a line every producer writes, and a sequence store per record.
 * Lock-free for producers; but a producer that stops between its CAS and its
 * sequence store (killed, descheduled) holds the consumer at that cell until
 * it resumes - the well-known caveat of this queue.
 *
 * struct price_page - one writer (the tick), any number of readers, seqlock:
 *   the writer makes seq odd, stores the fields, makes seq even again; a
 *   reader loads seq (acquire), the fields (relaxed), fences (acquire) and
 *   loads seq again, and retries while the two differ or are odd (Boehm,
 *   "Can seqlocks get along with programming language memory models?",
 *   2012). Readers never write the page, so they never slow the writer; the
 *   writer never waits. Every field is an atomic, so a racing read is not a
 *   data race, merely discarded. ONE writer at a time.
 *   Fields: tick (u64), cpu_price and gpu_price (u32 micro-units per unit),
 *   cpu_multiplier and gpu_multiplier (u32 fixed point, parts per million:
 *   1000000 = 1x, 8000000 = 8x).
 *
 * Blocks: ring_*_size(capacity) bytes, 64-byte aligned. *_init lays a fresh
 * structure out (the block need not be zeroed); *_attach checks that a block
 * holds a structure of that kind and version and fits in nbytes, so a
 * process that maps an existing block by name can refuse a wrong one.
 * Consumers validate what producers wrote: drain never reads outside the
 * slots whatever tail holds, and *_check reports a counter out of range.
 */
#ifndef AUCTIONEER_TICK_RING_H
#define AUCTIONEER_TICK_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "tick_core.h"

#define RING_LINE 64u
#define RING_VERSION 1u
#define RING_MIN_CAPACITY 2u          /* Vyukov's queue needs two cells */
#define RING_MAX_CAPACITY (1u << 24)

#define RING_MAGIC_SPSC 0x43535053474E4952ull  /* "RINGSPSC" in memory */
#define RING_MAGIC_MPSC 0x4353504D474E4952ull  /* "RINGMPSC" in memory */
#define RING_MAGIC_PAGE 0x45474150474E4952ull  /* "RINGPAGE" in memory */

/* How many times a reader retries a page that writes keep overlapping, by
 * default (ring.py's DEFAULT_TRIES). */
#define PRICE_PAGE_DEFAULT_TRIES 1000000u

enum ring_status {
    RING_OK = 0,
    RING_EFULL = 1,    /* push: no free slot; nothing written */
    RING_EINVAL = 2,   /* bad capacity, misaligned or foreign block */
    RING_EAGAIN = 3,   /* price_page_read: the writer kept the page busy */
    RING_ECORRUPT = 4  /* *_check: a counter is out of range */
};

struct ring_bid {
    uint64_t agent;
    uint32_t price;     /* micro-units */
    uint32_t units;     /* 0 withdraws the agent's bid */
};

struct ring_header {
    uint64_t magic;
    uint32_t version;
    uint32_t capacity;  /* a power of two, RING_MIN..RING_MAX_CAPACITY */
};

struct ring_spsc {
    alignas(RING_LINE) struct ring_header hdr;
    alignas(RING_LINE) _Atomic uint64_t head;   /* consumer's line */
    uint64_t tail_cache;
    alignas(RING_LINE) _Atomic uint64_t tail;   /* producer's line */
    uint64_t head_cache;
    alignas(RING_LINE) struct ring_bid slots[];
};

struct ring_cell {
    _Atomic uint64_t seq;
    struct ring_bid bid;
    uint64_t pad;       /* 32-byte cells: two per line, none straddles one */
};

struct ring_mpsc {
    alignas(RING_LINE) struct ring_header hdr;
    alignas(RING_LINE) _Atomic uint64_t head;   /* the consumer's line */
    alignas(RING_LINE) _Atomic uint64_t tail;   /* the producers' line */
    alignas(RING_LINE) struct ring_cell cells[];
};

struct price_values {
    uint64_t tick;
    uint32_t cpu_price;
    uint32_t gpu_price;
    uint32_t cpu_multiplier;   /* parts per million */
    uint32_t gpu_multiplier;
};

struct price_page {
    alignas(RING_LINE) struct ring_header hdr;
    alignas(RING_LINE) _Atomic uint64_t seq;    /* odd while a write is on */
    _Atomic uint64_t tick;
    _Atomic uint32_t cpu_price;
    _Atomic uint32_t gpu_price;
    _Atomic uint32_t cpu_multiplier;
    _Atomic uint32_t gpu_multiplier;
};

/* SPSC ring. size: 0 when capacity is not a power of two in range. */
size_t ring_spsc_size(uint32_t capacity);
int ring_spsc_init(void *mem, uint32_t capacity);
int ring_spsc_attach(const void *mem, size_t nbytes);
/* Producer: RING_OK, or RING_EFULL with nothing written. */
int ring_spsc_push(struct ring_spsc *ring, const struct ring_bid *bid);
/* Consumer: move up to max records, oldest first, into out; return how many. */
uint32_t ring_spsc_drain(struct ring_spsc *ring, struct ring_bid *out, uint32_t max);
/* Consumer: apply up to max records to a tick book in order (units 0:
 * tick_expire, else tick_update) with no copy; return how many were
 * consumed. Records the book refuses (agent out of its range, withdrawal of
 * an absent bid) are consumed and counted in *rejected. */
uint32_t ring_spsc_drain_book(struct ring_spsc *ring, struct tick_book *book, uint32_t max,
                              uint32_t *rejected);
/* Records waiting; exact when neither side is running. */
uint32_t ring_spsc_len(const struct ring_spsc *ring);
uint32_t ring_spsc_capacity(const struct ring_spsc *ring);
int ring_spsc_check(const struct ring_spsc *ring);

/* MPSC ring: the same contract, any number of producers. */
size_t ring_mpsc_size(uint32_t capacity);
int ring_mpsc_init(void *mem, uint32_t capacity);
int ring_mpsc_attach(const void *mem, size_t nbytes);
int ring_mpsc_push(struct ring_mpsc *ring, const struct ring_bid *bid);
uint32_t ring_mpsc_drain(struct ring_mpsc *ring, struct ring_bid *out, uint32_t max);
uint32_t ring_mpsc_drain_book(struct ring_mpsc *ring, struct tick_book *book, uint32_t max,
                              uint32_t *rejected);
/* Claimed positions not yet drained (includes records still being written). */
uint32_t ring_mpsc_len(const struct ring_mpsc *ring);
uint32_t ring_mpsc_capacity(const struct ring_mpsc *ring);
/* Every cell's sequence number matches its position: call it when no
 * producer is inside a push. */
int ring_mpsc_check(const struct ring_mpsc *ring);

/* Price page. */
size_t price_page_size(void);
int price_page_init(void *mem);
int price_page_attach(const void *mem, size_t nbytes);
/* The single writer: publish a whole new set of values. Wait-free. */
void price_page_publish(struct price_page *page, const struct price_values *values);
/* A reader: a consistent snapshot into *out, RING_OK; RING_EAGAIN after
 * `tries` attempts (>= 1) all overlapped a write (out is then unspecified). */
int price_page_read(const struct price_page *page, struct price_values *out, uint32_t tries);
/* The sequence number: 2 x the writes completed, +1 while one is on. */
uint64_t price_page_seq(const struct price_page *page);

#endif
