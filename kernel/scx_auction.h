/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_auction.h - the map value layouts shared by the BPF scheduler and
 * userspace (src/auctioneer/kernel/maps.py packs and unpacks the same bytes).
 * Fixed-width types only: both sides include or mirror it.
 */
#ifndef SCX_AUCTION_H
#define SCX_AUCTION_H

#include <linux/types.h>

#define SCX_AUCTION_MAX_AGENTS 16384u
#define SCX_AUCTION_PPM_ONE 1000000u /* multiplier 1x, as the price page */
#define SCX_AUCTION_TIME_EVERY 16 /* one call in 16 is timed (a power of two) */
#define SCX_AUCTION_DELAY_BUCKETS 32 /* log2 ns histogram: bucket b holds [2^b, 2^(b+1)) */
/* An agent key: a thread-group id, or this bit | a cgroup v2 id (its inode). */
#define SCX_AUCTION_AGENT_CGROUP (1ULL << 63)

/* An agent's standing bid. */
struct scx_auction_bid {
	__u64 seq;    /* arrival stamp from the writer; 0 = no bid */
	__u32 price;  /* micro-units per quantum of CPU time */
	__u32 units;  /* quanta per slice, 1..SCX_AUCTION_MAX_UNITS */
	__u64 budget; /* micro-units per budget period; 0 = no limit */
};

/* The price page, byte for byte src/auctioneer/tick/ring.h's struct
 * price_page. One writer: seq is odd while a write is on; a reader retries
 * while it sees an odd or changed seq. Line 0 is ring.h's ring_header. */
struct scx_price_page {
	__u64 magic;
	__u32 version;
	__u32 capacity;
	__u8 pad0[48];
	__u64 seq;
	__u64 tick;            /* tick index of the last publication */
	__u32 cpu_price;       /* CPU reserve (posted) price, micro-units per quantum */
	__u32 gpu_price;
	__u32 cpu_multiplier;  /* thermal multiplier, parts per million (1000000 = 1x) */
	__u32 gpu_multiplier;
	__u8 pad1[32];
};

/* Per-CPU counters; userspace sums them (max for max_wait_ns). */
struct scx_auction_stats {
	__u64 enqueued;        /* tasks queued in the shared vtime DSQ */
	__u64 direct;          /* tasks sent straight to an idle CPU */
	__u64 kthreads;        /* kernel threads sent to their CPU's local DSQ */
	__u64 bidders;         /* classifications as a paying bidder */
	__u64 free;            /* ... as free: no bid, under the reserve or out of budget */
	__u64 out_of_budget;   /* ... of which out of budget */
	__u64 kicks;           /* idle CPUs kicked by enqueue */
	__u64 dispatched;      /* dispatches that moved a task to the local DSQ */
	__u64 kept;            /* dispatches that let the running task run on (smallest tag) */
	__u64 page_retries;    /* price page reads that had to retry */
	__u64 page_fallbacks;  /* reads that gave up and used the last good page */
	__u64 dispatches;      /* ops.dispatch calls */
	__u64 cached;          /* pricings served from the task's cache (no bid, same bids) */
	__u64 handoffs;        /* sync wakees queued for their waker's CPU, with no kick */
	__u64 handoff_kicks;   /* idle CPUs kicked when a handoff's CPU found work left queued */
	__u64 pairs;           /* mutual pairs' wakeups on the waker's CPU (PAIR; in direct) */
	__u64 window_cuts;     /* first slice ends in a budget window that cut a lead past lag_ns */
	__u64 window_cut_ns;   /* vtime those cuts took beyond what the bank would have */
	/* Timing takes two clock reads, so one call in SCX_AUCTION_TIME_EVERY is timed:
	 * *_calls counts the timed calls, *_ns their time. */
	__u64 dispatch_calls;
	__u64 dispatch_ns;     /* time inside the timed ops.dispatch calls */
	__u64 enqueue_calls;
	__u64 enqueue_ns;      /* time inside the timed ops.enqueue calls */
	__u64 max_wait_ns;     /* longest runnable -> running wait seen on this CPU */
	__u64 delay_hist[SCX_AUCTION_DELAY_BUCKETS]; /* runnable -> running, ns */
};

/* What an agent ran and paid. charged never resets; period_* is the budget
 * window (period index = ktime / budget_period_ns). */
struct scx_auction_account {
	__u64 charged;         /* micro-units, all time */
	__u64 paid_ns;         /* CPU time run as a paying bidder */
	__u64 free_ns;         /* CPU time run at the free weight */
	__u64 period;          /* index of the budget window period_charged is for */
	__u64 period_charged;  /* micro-units charged in that window */
};

/* Why the scheduler stopped (ops.exit), for userspace. */
struct scx_auction_exit {
	__s64 kind;            /* enum scx_exit_kind; 0 while running */
	__s64 exit_code;
	char reason[128];
	char msg[256];
};

#endif
