// SPDX-License-Identifier: GPL-2.0
/*
 * scx_auction.bpf.c - a sched_ext scheduler that runs the tick market's tier
 * book inside the kernel: the highest bid runs first, FIFO within a tier,
 * and nobody under the thermal reserve price runs while anyone above it waits.
 *
 * The structure is TierBook's (src/auctioneer/tick/tick_core.c, TICK_TIERS):
 *
 *   TierBook (userspace)                  here
 *   u64 bits[65] summary + 64 words       map tier_bits (same two levels)
 *   per-tier FIFO: head/tail + links      one sched_ext dispatch queue (DSQ)
 *                                         per tier; DSQs are FIFO
 *   tick_update(agent, price)             ops.enqueue: look the task's bid up,
 *                                         insert into its tier's DSQ, set bits
 *   tick_select(2): highest tier, head    ops.dispatch: two clz on the bitmap,
 *                                         move that DSQ's head to this CPU
 *   rank price = floor of next tier       ops.running: charge the floor of the
 *                                         highest tier still waiting (the
 *                                         runner-up), never above the bid
 *
 * Bids are written by userspace (the bid ring's consumer) into map `bids`,
 * keyed by thread-group id: one Firecracker VMM process is one agent. Prices
 * come from map `price_page`, the tick's seqlock price page, which userspace
 * writes through mmap (BPF_F_MMAPABLE) with the same protocol as
 * src/auctioneer/tick/ring.h. The effective reserve is
 * cpu_price * cpu_multiplier (parts per million): when the GPU runs hot the thermal
 * controller raises the multiplier and only bids above it are auctioned.
 * Tasks under the reserve wait in one DSQ served only when every tier is
 * empty (work conserving, so the sched_ext watchdog never fires).
 *
 * The bitmap is a hint, kept without locks: a bit may be set for an empty
 * tier (a task left its DSQ without passing through dispatch: dequeue,
 * migration, exit), and dispatch clears such bits as it meets them; a
 * non-empty tier's bit is never left clear, because enqueue sets bits after
 * inserting and every clear is followed by a re-check that sets it again.
 *
 * No floating point, no allocation after init, every loop bounded.
 */
#include "scx_min.h"
#include "scx_auction.h"
#include "scx_tiermap.h"

char _license[] SEC("license") = "GPL";

#define ENOMEM 12
#define DISPATCH_TRIES 8 /* stale bits skipped before giving up on the tiers */
#define PAGE_TRIES 4     /* seqlock read attempts before using the last good page */
#define MAX_UNITS 64     /* longest slice, in quanta */
#define TIER_DIRECT 0xfffffffeu /* ran on an idle CPU without queueing */
#define TIER_BELOW 0xffffffffu  /* queued under the reserve */

/* Set by the loader before load (rodata). The default map is TierBook's
 * TierMap.log(7): 0.8 % price resolution over all of u32 in 3328 tiers. */
const volatile struct scx_auction_tiermap tiermap = {
	.kind = 1, .tiers = 3328, .base = 0, .width = 1, .sub_bits = 7,
};
const volatile u64 quantum_ns = 1000000;     /* slice per unit bid: 1 ms */
const volatile u64 below_slice_ns = 250000;  /* slice under the reserve */
const volatile bool kthreads_local = true;   /* kernel threads bypass the market */

struct task_ctx {
	u64 enq_ns;    /* when it last became runnable */
	u64 run_ns;    /* when it last started running */
	u32 tier;      /* where it was queued, or TIER_DIRECT / TIER_BELOW */
	u32 price;     /* what it pays per quantum for this run, micro-units */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCX_AUCTION_MAX_AGENTS);
	__type(key, u32); /* tgid */
	__type(value, struct scx_auction_bid);
} bids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, u32);
	__type(value, struct scx_price_page);
} price_page SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scx_auction_bits);
} tier_bits SEC(".maps");

/* The last consistent price page this CPU read: used when the writer keeps
 * the page busy through every retry, so a reader never waits for it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scx_price_page);
} last_page SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scx_auction_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCX_AUCTION_MAX_AGENTS);
	__type(key, u32); /* tgid */
	__type(value, struct scx_auction_account);
} accounts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

static const u32 zero;

/* -------------------------------------------------------------- bitmap -- */

/* The fetch forms of the atomics, which every JIT makes fully ordered (the
 * non-fetch forms are relaxed on arm64, and the re-check protocol below needs
 * each clear ordered before the re-read that follows it). */
static __always_inline u64 bits_or(u64 *word, u64 mask)
{
	u64 old = __sync_fetch_and_or(word, mask);

	barrier_var(old); /* keeps the fetch even when the caller drops it */
	return old;
}

static __always_inline u64 bits_and(u64 *word, u64 mask)
{
	u64 old = __sync_fetch_and_and(word, mask);

	barrier_var(old);
	return old;
}

static __always_inline void tier_mark(struct scx_auction_bits *b, u32 t)
{
	u32 w = (t >> 6) & 63;

	bits_or(&b->words[w], 1ULL << (t & 63));
	bits_or(&b->summary, 1ULL << w);
}

/* Clear a tier's bit after its DSQ was found empty, then re-check: a task
 * inserted meanwhile has set the bit before or sets it after, never lost. */
static __always_inline void tier_unmark(struct scx_auction_bits *b, u32 t)
{
	u32 w = (t >> 6) & 63;
	u64 bit = 1ULL << (t & 63);

	if ((bits_and(&b->words[w], ~bit) & ~bit) == 0) {
		bits_and(&b->summary, ~(1ULL << w));
		if (READ_ONCE(b->words[w]))
			bits_or(&b->summary, 1ULL << w);
	}
	if (scx_bpf_dsq_nr_queued(t) > 0)
		tier_mark(b, t);
}

/* The highest tier whose bit is set, or -1. Two clz: the summary, a word. */
static __always_inline s64 tier_top(struct scx_auction_bits *b)
{
	u64 sum = READ_ONCE(b->summary), word;
	u32 w;

	if (!sum)
		return -1;
	w = scx_top_bit(sum);
	word = READ_ONCE(b->words[w]);
	if (!word)
		return -1;
	return (s64)((w << 6) | scx_top_bit(word));
}

/* ---------------------------------------------------------- price page -- */

static __always_inline struct scx_auction_stats *my_stats(void)
{
	return bpf_map_lookup_elem(&stats, &zero);
}

/* The effective CPU reserve, micro-units: cpu_price x cpu_multiplier (ppm).
 * A seqlock read: retry while the writer is inside (odd seq) or has moved
 * on (seq changed), at most PAGE_TRIES times, then fall back to this CPU's
 * last consistent copy, so a reader never waits for the writer. A page never
 * written reads as zeros: no reserve.
 * Loads are ordered by compiler barriers only: enough on x86 (TSO); a weakly
 * ordered CPU needs load-acquire on seq, which BPF gained only in 6.15. */
static __always_inline u64 reserve_now(struct scx_auction_stats *st)
{
	struct scx_price_page *pp = bpf_map_lookup_elem(&price_page, &zero);
	struct scx_price_page *last = bpf_map_lookup_elem(&last_page, &zero);
	u32 price, mult;
	u64 s1;
	int i;

	if (!pp || !last)
		return 0;
	for (i = 0; i < PAGE_TRIES; i++) {
		s1 = READ_ONCE(pp->seq);
		if (!(s1 & 1)) {
			barrier();
			price = READ_ONCE(pp->cpu_price);
			mult = READ_ONCE(pp->cpu_multiplier);
			barrier();
			if (READ_ONCE(pp->seq) == s1) {
				last->cpu_price = price;
				last->cpu_multiplier = mult;
				last->seq = s1;
				goto have;
			}
		}
		if (st)
			st->page_retries++;
	}
	if (st)
		st->page_fallbacks++;
	price = last->cpu_price;
	mult = last->cpu_multiplier;
have:
	/* < 2^32 x 2^32: no overflow in u64. */
	return (u64)price * mult / SCX_AUCTION_PPM_ONE;
}

/* --------------------------------------------------------------- bids -- */

/* The task's standing bid (0 without one) and its slice. */
static __always_inline u32 bid_of(struct task_struct *p, u64 *slice)
{
	u32 tgid = (u32)p->tgid, units = 1, price = 0;
	struct scx_auction_bid *bid = bpf_map_lookup_elem(&bids, &tgid);

	if (bid && bid->seq) {
		price = bid->price;
		units = bid->units;
	}
	if (units < 1)
		units = 1;
	if (units > MAX_UNITS)
		units = MAX_UNITS;
	*slice = quantum_ns * units;
	return price;
}

/* ------------------------------------------------------------- ops ---- */

s32 BPF_STRUCT_OPS(auction_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	struct scx_auction_stats *st = my_stats();
	struct task_ctx *tc;
	bool idle = false;
	u64 slice, reserve;
	u32 price;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
	if (!idle)
		return cpu;
	/* An idle CPU is supply nobody else wants: the market clears at the
	 * reserve, so a bid that meets it runs at once, without queueing. */
	price = bid_of(p, &slice);
	reserve = reserve_now(st);
	if (price < reserve)
		return cpu;
	tc = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	if (tc) {
		tc->enq_ns = bpf_ktime_get_ns();
		tc->tier = TIER_DIRECT;
	}
	scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice, 0);
	if (st)
		st->direct++;
	return cpu;
}

void BPF_STRUCT_OPS(auction_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct scx_auction_stats *st = my_stats();
	struct scx_auction_bits *b = bpf_map_lookup_elem(&tier_bits, &zero);
	struct task_ctx *tc = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	u64 t0 = bpf_ktime_get_ns(), slice, reserve;
	u32 price, t;

	if (tc)
		tc->enq_ns = t0;
	if (kthreads_local && (p->flags & PF_KTHREAD)) {
		if (tc)
			tc->tier = TIER_DIRECT;
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, enq_flags);
		return;
	}
	price = bid_of(p, &slice);
	reserve = reserve_now(st);
	if (!b || price < reserve) {
		if (tc)
			tc->tier = TIER_BELOW;
		scx_bpf_dsq_insert(p, SCX_AUCTION_DSQ_BELOW, below_slice_ns, enq_flags);
		if (st)
			st->below_reserve++;
	} else {
		t = scx_tier_of(&tiermap, price);
		if (tc)
			tc->tier = t;
		scx_bpf_dsq_insert(p, t, slice, enq_flags);
		tier_mark(b, t); /* after the insert: see the header comment */
		if (st)
			st->enqueued++;
	}
	if (st)
		st->enqueue_ns += bpf_ktime_get_ns() - t0;
}

void BPF_STRUCT_OPS(auction_dispatch, s32 cpu, struct task_struct *prev)
{
	struct scx_auction_stats *st = my_stats();
	struct scx_auction_bits *b = bpf_map_lookup_elem(&tier_bits, &zero);
	u64 t0 = bpf_ktime_get_ns();
	s64 top;
	int i;

	if (!b)
		return;
	for (i = 0; i < DISPATCH_TRIES; i++) {
		top = tier_top(b);
		if (top < 0) {
			/* A set summary bit over an empty word: drop it, look again. */
			u64 sum = READ_ONCE(b->summary);
			if (!sum)
				break;
			tier_unmark(b, scx_top_bit(sum) << 6);
			continue;
		}
		if (scx_bpf_dsq_move_to_local((u64)top)) {
			if (st)
				st->dispatched++;
			goto out;
		}
		if (st)
			st->stale_bits++;
		tier_unmark(b, (u32)top);
	}
	scx_bpf_dsq_move_to_local(SCX_AUCTION_DSQ_BELOW);
out:
	if (st) {
		st->dispatch_calls++;
		st->dispatch_ns += bpf_ktime_get_ns() - t0;
	}
}

/* Starting a run: record the queueing delay and fix the price of this run,
 * the floor of the best tier still waiting (the runner-up's rank price),
 * capped at the task's own tier floor and raised to the reserve. A task
 * that cleared the reserve bid at least both, so it never pays above its bid. */
void BPF_STRUCT_OPS(auction_running, struct task_struct *p)
{
	struct scx_auction_stats *st = my_stats();
	struct scx_auction_bits *b = bpf_map_lookup_elem(&tier_bits, &zero);
	struct task_ctx *tc = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	u64 now = bpf_ktime_get_ns(), delay, reserve, price = 0;
	u32 bucket = 0, own;
	s64 next;

	if (!tc)
		return;
	tc->run_ns = now;
	delay = now > tc->enq_ns ? now - tc->enq_ns : 0;
	if (delay)
		bucket = scx_top_bit(delay);
	if (st && bucket < SCX_AUCTION_DELAY_BUCKETS)
		st->delay_hist[bucket]++;
	if (tc->tier != TIER_BELOW) {
		reserve = reserve_now(st);
		price = reserve;
		if (tc->tier != TIER_DIRECT && b) {
			own = scx_tier_floor(&tiermap, tc->tier);
			next = tier_top(b);
			price = next < 0 ? 0 : scx_tier_floor(&tiermap, (u32)next);
			if (price > own)
				price = own;
			if (price < reserve)
				price = reserve;
		}
	}
	tc->price = price > 0xffffffffULL ? 0xffffffffu : (u32)price;
}

/* Stopping: bill the run, pro rata of a quantum, in micro-units. */
void BPF_STRUCT_OPS(auction_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *tc = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	struct scx_auction_account fresh = {}, *acct;
	u64 used, quantum_us = quantum_ns / 1000;
	u32 tgid = (u32)p->tgid;

	if (!tc || !tc->price)
		return;
	used = bpf_ktime_get_ns() - tc->run_ns;
	acct = bpf_map_lookup_elem(&accounts, &tgid);
	if (!acct) {
		bpf_map_update_elem(&accounts, &tgid, &fresh, BPF_NOEXIST);
		acct = bpf_map_lookup_elem(&accounts, &tgid);
		if (!acct)
			return;
	}
	if (!quantum_us)
		quantum_us = 1;
	/* price < 2^32 and used/1000 < 2^32 for runs under an hour: no overflow. */
	__sync_fetch_and_add(&acct->charged, (u64)tc->price * (used / 1000) / quantum_us);
	__sync_fetch_and_add(&acct->run_ns, used);
}

s32 BPF_STRUCT_OPS(auction_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	if (!bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		return -ENOMEM;
	return 0;
}

/* One DSQ per tier, plus the one under the reserve. */
s32 BPF_STRUCT_OPS_SLEEPABLE(auction_init)
{
	u32 tiers = tiermap.tiers, t;
	s32 err;

	for (t = 0; t < SCX_AUCTION_MAX_TIERS; t++) {
		if (t >= tiers)
			break;
		err = scx_bpf_create_dsq(t, NUMA_NO_NODE);
		if (err)
			return err;
	}
	return scx_bpf_create_dsq(SCX_AUCTION_DSQ_BELOW, NUMA_NO_NODE);
}

SCX_OPS_DEFINE(auction_ops,
	       .select_cpu = (void *)auction_select_cpu,
	       .enqueue = (void *)auction_enqueue,
	       .dispatch = (void *)auction_dispatch,
	       .running = (void *)auction_running,
	       .stopping = (void *)auction_stopping,
	       .init_task = (void *)auction_init_task,
	       .init = (void *)auction_init,
	       .timeout_ms = 5000,
	       .name = "auction");
