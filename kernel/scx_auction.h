/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_auction.h - the layouts shared by the BPF scheduler and userspace.
 *
 * Every struct here is a BPF map value that userspace reads or writes, so it
 * uses fixed-width types only and is included by both sides.
 *
 * Correspondence with the userspace tick core (src/auctioneer/tick/):
 *   struct scx_auction_bid    = struct tick_slot (16 bytes: seq, price, units)
 *   struct scx_auction_bits   = TierBook's u64 bits[65] (summary + 64 words)
 *   struct scx_auction_tiermap = struct tick_tier_map (same arithmetic)
 *   one dispatch queue per tier = TierBook's per-tier FIFO (head/tail/links)
 *   struct scx_price_page     = the seqlock price page the tick publishes
 *                               (src/auctioneer/tick/ring.h)
 */
#ifndef SCX_AUCTION_H
#define SCX_AUCTION_H

#include <linux/types.h>

#define SCX_AUCTION_MAX_TIERS 4096u /* 64 x 64, as TICK_MAX_TIERS */
#define SCX_AUCTION_MAX_AGENTS 16384u
#define SCX_AUCTION_DSQ_BELOW SCX_AUCTION_MAX_TIERS /* bids under the reserve */
#define SCX_AUCTION_PPM_ONE 1000000u /* multiplier 1x, as the price page */
#define SCX_AUCTION_DELAY_BUCKETS 32 /* log2 ns histogram: bucket b holds [2^b, 2^(b+1)) */

/* An agent's standing bid: the tick core's slot, 16 bytes. Agents are keyed
 * by thread-group id (one Firecracker VMM process per VM). */
struct scx_auction_bid {
	__u64 seq;   /* arrival stamp from the writer; 0 = no bid */
	__u32 price; /* micro-units per quantum */
	__u32 units; /* quanta wanted, >= 1: the slice is units x quantum */
};

/* Two-level bitmap over the tiers: bit w of summary is set iff words[w] is
 * non-zero; bit b of words[w] is set iff tier 64w+b may be non-empty. */
struct scx_auction_bits {
	__u64 summary;
	__u64 words[64];
};

/* Price -> tier, identical to tick_core.c's map_tier/map_floor. */
struct scx_auction_tiermap {
	__u32 kind; /* 0 linear, 1 log */
	__u32 tiers;
	__u32 base;
	__u32 width;
	__u32 sub_bits;
};

/* The price page, byte for byte src/auctioneer/tick/ring.h's struct
 * price_page, so the tick's price_page_init/price_page_publish can run on
 * this map's mmap()ed value (the map is BPF_F_MMAPABLE). One writer: seq is
 * odd while a write is on; a reader retries while it sees an odd or changed
 * seq. Line 0 is ring.h's struct ring_header; the values start on line 1. */
struct scx_price_page {
	__u64 magic;           /* RING_MAGIC_PAGE once the tick initialised it */
	__u32 version;
	__u32 capacity;
	__u8 pad0[48];
	__u64 seq;
	__u64 tick;            /* tick index of the last publication */
	__u32 cpu_price;       /* CPU reserve (posted) price, micro-units per quantum */
	__u32 gpu_price;       /* GPU price, micro-units per unit */
	__u32 cpu_multiplier;  /* thermal multiplier, parts per million (1000000 = 1x) */
	__u32 gpu_multiplier;
	__u8 pad1[32];
};

/* Per-CPU counters; userspace sums them over CPUs. */
struct scx_auction_stats {
	__u64 enqueued;        /* tasks placed in a tier */
	__u64 below_reserve;   /* tasks placed under the reserve */
	__u64 direct;          /* tasks sent straight to an idle CPU */
	__u64 dispatched;      /* tasks moved from a tier to a CPU */
	__u64 stale_bits;      /* bitmap bits found pointing at an empty tier */
	__u64 page_retries;    /* price page reads that had to retry */
	__u64 page_fallbacks;  /* reads that gave up and used the last good page */
	__u64 dispatch_calls;
	__u64 dispatch_ns;     /* time inside ops.dispatch: the auction's cost */
	__u64 enqueue_ns;      /* time inside ops.enqueue */
	__u64 delay_hist[SCX_AUCTION_DELAY_BUCKETS]; /* enqueue -> running, ns */
};

/* What an agent has been charged: micro-units, pro rata of the quanta run. */
struct scx_auction_account {
	__u64 charged;
	__u64 run_ns;
};

#endif
