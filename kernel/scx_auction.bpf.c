// SPDX-License-Identifier: GPL-2.0
/*
 * scx_auction.bpf.c - a sched_ext scheduler that sells CPU time to bids.
 *
 * Policy: a proportional-share market (stride scheduling with money as the
 * tickets). A task's weight is free_weight plus its agent's bid (micro-units
 * per quantum, capped at max_bid); each CPU runs the runnable task with the
 * smallest virtual time, and a task's virtual time advances by
 * ran_ns * free_weight / weight. So a task's share of the CPUs it contends
 * for is its weight over the contenders' total, and a bidder pays its bid per
 * quantum it actually runs. A task with no bid, a bid under the thermal
 * reserve (cpu_price x cpu_multiplier from the tick's price page), or an
 * agent whose budget for the current window is spent, runs at free_weight
 * and pays nothing.
 *
 * Why no task can be stranded: every queued task sits in ONE vtime-ordered
 * dispatch queue (SHARED_DSQ). There is no side structure (the old tier
 * bitmap) that can disagree with it: dispatch asks the DSQ itself, under
 * its lock, for its head. A task inserted by ops.enqueue is in the DSQ when
 * the kernel finishes the enqueue, and every later dispatch on any CPU the
 * task may run on sees it. The old design's stall came from the bitmap: a
 * scx_bpf_dsq_insert() from ops.enqueue only records a direct dispatch, and
 * the kernel inserts the task after ops.enqueue returns
 * (kernel/sched/ext.c: do_enqueue_task -> direct_dispatch), so the tier bit
 * was set while the DSQ was still empty; a dispatch on the other CPU found
 * it empty, cleared the bit, re-checked (still empty), and the task then
 * landed in a DSQ whose bit was clear: invisible to every dispatch.
 * And a dispatch is always coming: ops.enqueue runs with the run queue of a
 * CPU r the task may use locked (select_cpu's pick, or the task's own CPU),
 * and the task is queued before that lock is dropped. A CPU's last dispatch
 * and its idle bit are set under its own lock, so r is then running a task
 * (it dispatches when that stops), not yet past its next dispatch, or idle
 * with its bit set, and the enqueue's idle pick finds it or another idle
 * CPU (the kick is sent after the insert). The kick is work conservation;
 * r's own dispatch is the guarantee (kernel/README.md).
 *
 * Why every runnable task runs within a bound: weights lie in
 * [free_weight, free_weight + max_bid], a ratio R = 1 + max_bid/free_weight
 * (32 by default), and one run moves a task's vtime by at most
 * t = max_units quanta (16 ms) times free_weight/weight. When task i is
 * queued its tag is at most vtime_now + t, and every other task's tag is at
 * least vtime_now - bank_ns (lag_ns after a sleep, and at a task's first
 * slice end in a budget window: rebank) and only grows. So while
 * i waits, each other runnable task j runs at most
 *   (t + bank_ns) * w_j / free_weight + s_max  <=  R * (t + bank_ns) + s_max
 * of CPU time before its tag passes i's, and i waits at most
 *   (N - 1) * (R * (t + bank_ns) + s_max) + s_max
 * with N runnable tasks, even on one CPU: 1,040 ms per competitor at the
 * defaults (t = s_max = bank = 16 ms); the watchdog (10 s) needs 10
 * competitors at the highest bid on one CPU. The bank is one whole tag step
 * t, as scx_simple's is one slice: a free task's slice started on another
 * CPU moves vtime_now up to t past a bidder still running, and a shorter
 * bank cut the bidder's credit at each of its slice ends, so on two CPUs a
 * small bid bought nothing (auctioneer.sim.fairshare's tests). kernel/README.md has the
 * derivation; the VM test measures the longest wait (max_wait_ns) against it.
 *
 * Idle CPUs: ops.select_cpu sends a waking task straight to an idle CPU it
 * found (that CPU has nobody else to run); ops.enqueue kicks an idle CPU the
 * task may use after queueing it. The handoff (HANDOFF=1, the default)
 * makes one exception (handoff_cpu): a sync wakeup that found no
 * idle CPU is queued from the waker's CPU, which takes it when the waker
 * sleeps, and whose next dispatch or tick (within 1/HZ) kicks an idle CPU
 * if work is still queued then.
 *
 * No floating point, no allocation after init, every loop bounded.
 */
#include "scx_min.h"
#include "scx_auction.h"

char _license[] SEC("license") = "GPL";

#define ENOMEM 12
#define SHARED_DSQ 0
#define PAGE_TRIES 4 /* seqlock read attempts before using the last good page */

#ifndef SCX_AUCTION_KTHREADS
#define SCX_AUCTION_KTHREADS 0 /* 0: kernel threads queue like any task; 1: CPU-local */
#endif

/* Rodata: the loader does not override these, so they are the scheduler's
 * constants; kernel/README.md documents them, src/auctioneer/kernel/layout.py
 * mirrors them and tests/kernel/test_bpf_build.py checks that the two agree. */
const volatile u64 quantum_ns = 1000000;        /* billing unit and slice unit: 1 ms */
const volatile u32 max_units = 16;              /* longest slice, in quanta */
const volatile u64 free_weight = 10000;         /* weight of a task that pays nothing */
const volatile u64 max_bid = 310000;            /* bids weigh at most this: R = 32 */
const volatile u64 lag_ns = 1000000;            /* credit a sleeper keeps, vtime ns */
const volatile u64 bank_ns = 16000000;          /* credit a runnable task keeps, vtime ns */
const volatile u64 budget_period_ns = 1000000000; /* budget window: 1 s */
const volatile bool kthreads_local = SCX_AUCTION_KTHREADS; /* kernel threads bypass the market */

/* Build-time knobs, for A/B runs of the bench only (`make -C kernel KICK=0
 * MIN_UNITS=16`, or `auction:KICK=0` in run.sh's SCHEDS); the defaults are
 * the scheduler kernel/README.md describes and the A/B kept. MIN_UNITS keeps
 * the wait bound (a slice stays at most max_units quanta). KICK=0 drops work
 * conservation (a queued task then waits for a busy CPU's next dispatch while
 * an idle one sleeps; the A/B measured such waits), so it is never the
 * shipped build. FREE_UNITS=1 is the slice rule before 2026-12-07 (a task
 * with no bid got one quantum). HANDOFF=1 holds a sync wakee back for its
 * waker's CPU (handoff_cpu) and KTHREADS=0 queues kernel threads in the
 * market: together they cut pipe's host CPU time to 0.92x [0.86, 1.00] of
 * HANDOFF=0 KTHREADS=1 over 282 paired rounds, so they are the default. */
#ifndef SCX_AUCTION_KICK
#define SCX_AUCTION_KICK 1
#endif
#ifndef SCX_AUCTION_MIN_UNITS
#define SCX_AUCTION_MIN_UNITS 1
#endif
#ifndef SCX_AUCTION_FREE_UNITS
#define SCX_AUCTION_FREE_UNITS 16
#endif
/* HANDOFF is compile-time only (no rodata): HANDOFF=0 compiles the handoff
 * out and registers no ops.tick. PAIR=1 (the default since 2026-12-08, only
 * with HANDOFF=1) hands a pair's sync wakeup to the waker's CPU before
 * scx_bpf_select_cpu_dfl can send it to its idle previous CPU (pair_cpu);
 * PAIR=0 compiles that out. */
#ifndef SCX_AUCTION_HANDOFF
#define SCX_AUCTION_HANDOFF 1
#endif
#ifndef SCX_AUCTION_PAIR
#define SCX_AUCTION_PAIR 1
#endif
const volatile bool kick_idle = SCX_AUCTION_KICK; /* enqueue wakes an idle CPU p may use */
const volatile u32 min_units = SCX_AUCTION_MIN_UNITS; /* shortest slice, quanta (<= max_units) */
const volatile u32 free_units = SCX_AUCTION_FREE_UNITS; /* slice of a task with no bid (<= max_units) */

/* The vtime of the latest task to start running: where sleepers restart. */
u64 vtime_now;

struct task_ctx {
	u64 vtime;     /* this task's virtual time */
	u64 enq_ns;    /* when it was last queued; 0: not queued (sent to an idle CPU) */
	u64 exec_ns;   /* its sum_exec_runtime when last charged or started */
	u32 on_cpu;    /* started here and not yet stopped */
	u64 agent;     /* bid key: tgid or AGENT_CGROUP | cgroup id, 0 = none */
	u64 cgroup;    /* its cgroup v2 id (cpu controller's view) */
	u64 weight;    /* its weight for this run */
	u32 price;     /* what it pays per quantum for this run, micro-units */
	u32 units;     /* its slice, in quanta */
	u64 nobid_gen; /* 1 + auc_bids_gen when it was last priced and had no bid; 0: look it up */
	u32 handoff;   /* 1 + the waker's CPU: select_cpu handed this wakeup to it */
	u32 last_wakee; /* pid of the last task this one woke with a sync wakeup */
	u64 bank_until; /* start of the budget window after its last slice-end clamp */
};

/* Per CPU: whether this CPU holds a handed-off wakee back from the idle CPUs
 * (no kick at its enqueue). Its next ops.dispatch or ops.tick settles that:
 * if work is still queued then, it kicks an idle CPU for the queue's head. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} auc_owed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCX_AUCTION_MAX_AGENTS);
	__type(key, u64);
	__type(value, struct scx_auction_bid);
} auc_bids SEC(".maps");

/* The bids' generation: userspace writes a new value after every change to
 * auc_bids. A task priced with no bid keeps that pricing, with no map lookup,
 * until the generation changes (the common path: most tasks never bid). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} auc_bids_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, u32);
	__type(value, struct scx_price_page);
} auc_price_page SEC(".maps");

/* The last consistent price page this CPU read: used when the writer keeps
 * the page busy through every retry, so a reader never waits for it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scx_price_page);
} auc_last_page SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scx_auction_stats);
} auc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCX_AUCTION_MAX_AGENTS);
	__type(key, u64);
	__type(value, struct scx_auction_account);
} auc_accounts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scx_auction_exit);
} auc_exit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} auc_task_ctxs SEC(".maps");

static const u32 zero;

static __always_inline struct scx_auction_stats *my_stats(void)
{
	return bpf_map_lookup_elem(&auc_stats, &zero);
}

static __always_inline struct task_ctx *ctx_of(struct task_struct *p)
{
	return bpf_task_storage_get(&auc_task_ctxs, p, 0, 0);
}

/* ---------------------------------------------------------- price page -- */

/* The effective CPU reserve, micro-units: cpu_price x cpu_multiplier (ppm).
 * A seqlock read: retry while the writer is inside (odd seq) or has moved
 * on (seq changed), at most PAGE_TRIES times, then fall back to this CPU's
 * last consistent copy, so a reader never waits for the writer. A page never
 * written reads as zeros: no reserve. Loads are ordered by compiler barriers
 * only: enough on x86 (TSO); arm64 needs BPF load-acquire (kernel >= 6.15). */
static __always_inline u64 reserve_now(struct scx_auction_stats *st)
{
	struct scx_price_page *pp = bpf_map_lookup_elem(&auc_price_page, &zero);
	struct scx_price_page *last = bpf_map_lookup_elem(&auc_last_page, &zero);
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

static __always_inline struct scx_auction_account *account_of(u64 agent)
{
	struct scx_auction_account fresh = {}, *acct;

	acct = bpf_map_lookup_elem(&auc_accounts, &agent);
	if (acct)
		return acct;
	bpf_map_update_elem(&auc_accounts, &agent, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&auc_accounts, &agent);
}

#include "scx_auction_vtime.h"

/* Whether the agent has spent its budget in the current window. The first
 * CPU to see a new window resets the window's spend (a compare-and-swap on
 * the window index), so each window starts from zero once. */
static __always_inline bool over_budget(struct scx_auction_account *acct, u64 budget, u64 now)
{
	u64 window = window_of(now);
	u64 seen = READ_ONCE(acct->period);

	if (seen != window && __sync_val_compare_and_swap(&acct->period, seen, window) == seen)
		__sync_lock_test_and_set(&acct->period_charged, 0);
	return READ_ONCE(acct->period_charged) >= budget;
}

/* The bids' generation, shifted and tagged so that it is never 0, which
 * marks a task never priced (userspace writes values below 2^63). */
static __always_inline u64 bids_gen(void)
{
	u64 *gen = bpf_map_lookup_elem(&auc_bids_gen, &zero);

	return ((gen ? READ_ONCE(*gen) : 0) << 1) | 1;
}

/* Whether the task was priced with no bid under the current bids: then its
 * pricing (free weight, no price, one quantum) still holds. */
static __always_inline bool priced_free(struct task_ctx *tc)
{
	return tc->nobid_gen == bids_gen() && tc->weight;
}

/* Price this task's next run: weight, price paid, slice. */
static __always_inline void classify(struct task_struct *p, struct task_ctx *tc,
				     struct scx_auction_stats *st)
{
	struct scx_auction_bid *bid;
	struct scx_auction_account *acct;
	u64 key = (u32)p->tgid, price = 0, gen;
	u32 units = free_units;

	/* The generation is read before the lookups: a bid written after
	 * this read comes with a newer generation, so it is looked up again. */
	gen = bids_gen();
	if (tc->nobid_gen == gen && tc->weight) {
		if (st)
			st->cached++;
		return;
	}
	bid = bpf_map_lookup_elem(&auc_bids, &key);
	if (!bid && tc->cgroup) {
		key = SCX_AUCTION_AGENT_CGROUP | tc->cgroup;
		bid = bpf_map_lookup_elem(&auc_bids, &key);
	}
	tc->agent = bid ? key : 0;
	tc->nobid_gen = bid ? 0 : gen;
	if (bid && bid->seq) {
		units = bid->units;
		price = bid->price;
		if (price < reserve_now(st)) {
			price = 0;
		} else if (bid->budget) {
			acct = account_of(key);
			if (!acct || over_budget(acct, bid->budget, bpf_ktime_get_ns())) {
				price = 0;
				if (st)
					st->out_of_budget++;
			}
		}
	}
	tc->price = (u32)price;
	tc->weight = free_weight + (price < max_bid ? price : max_bid);
	/* A bidder's slice is at most weight/free_weight quanta: it is re-priced
	 * (reserve, budget) when its slice ends, and one run moves its vtime by
	 * at most one quantum. A task with no bid has nothing to re-price and
	 * gets free_units (max_units), as long as scx_simple's 20 ms: a 1 ms
	 * slice ended at every 4 ms tick while others queued, which tripled
	 * messaging's preemptions, and a pipe task preempted with its partner
	 * in the local DSQ was requeued, kicked onto the idle CPU, and split the
	 * pair across CPUs (an IPI per message; kernel/README.md). The wait
	 * bound holds for any slice up to max_units. */
	if (tc->agent && units > tc->weight / free_weight)
		units = tc->weight / free_weight;
	if (units < min_units)
		units = min_units;
	if (units > max_units)
		units = max_units;
	if (units < 1)
		units = 1;
	tc->units = units;
	if (st) {
		if (price)
			st->bidders++;
		else
			st->free++;
	}
}

/* Charge the run since the last charge: advance the task's vtime by the run
 * over its weight, and bill the agent, pro rata of a quantum, in micro-units.
 * The run is the kernel's own count (se.sum_exec_runtime, brought up to date
 * before ops.stopping and before ops.dispatch sees prev): no clock read. */
static __always_inline void charge(struct task_struct *p, struct task_ctx *tc)
{
	struct scx_auction_account *acct;
	u64 used, charge, exec;

	if (!tc->weight || !tc->on_cpu)
		return; /* it was on a CPU when the scheduler came in: never started here */
	exec = p->se.sum_exec_runtime;
	used = exec > tc->exec_ns ? exec - tc->exec_ns : 0;
	tc->exec_ns = exec;
	/* used < 2^34 ns (17 s, past the watchdog) keeps price x used/1000 in u64. */
	if (used > (1ULL << 34))
		used = 1ULL << 34;
	/* One run moves the vtime by at most max_units quanta at the free
	 * weight: a run that went long on a CPU nobody else wanted (the kernel
	 * refills the slice of a task left alone) does not push it back for it. */
	tc->vtime += (used < max_units * quantum_ns ? used : max_units * quantum_ns) *
		     free_weight / tc->weight;
	if (!tc->agent)
		return;
	acct = account_of(tc->agent);
	if (!acct)
		return;
	if (!tc->price) {
		__sync_fetch_and_add(&acct->free_ns, used);
		return;
	}
	/* price < 2^32 and used < 2^34 ns: price x (used / 1000) < 2^56. */
	charge = (u64)tc->price * (used / 1000) / (quantum_ns / 1000 ? quantum_ns / 1000 : 1);
	__sync_fetch_and_add(&acct->charged, charge);
	__sync_fetch_and_add(&acct->period_charged, charge);
	__sync_fetch_and_add(&acct->paid_ns, used);
}

/* ------------------------------------------------------------- ops ---- */

/* A sync wakeup (the waker is about to sleep) that found no idle CPU: queue
 * the wakee from the waker's CPU w and let w take it when the waker blocks,
 * rather than kick a CPU that went idle since (that kick split a pipe pair
 * across the CPUs: the wakee's previous CPU, just going idle, was woken to
 * take it, and each message then cost an IPI; kernel/README.md). Only when
 * the waker is one of this scheduler's tasks running on w, so that w calls
 * ops.tick every tick and ops.dispatch when it stops, and only with
 * scx_bpf_dsq_peek, which the settling needs. Returns w, or -1 when the
 * wakeup may not be handed off; *pair says whether the waker woke this same
 * task with its previous sync wakeup and that task's last sync wakeup woke
 * the waker (pair_cpu). */
static __always_inline s32 sync_waker_cpu(struct task_struct *p, struct task_ctx *tc,
					  u64 wake_flags, bool *pair)
{
	struct task_struct *waker;
	struct task_ctx *wc;
	s32 self;

	if (!SCX_AUCTION_HANDOFF || !(wake_flags & SCX_WAKE_SYNC) ||
	    !bpf_ksym_exists(scx_bpf_dsq_peek))
		return -1;
	self = bpf_get_smp_processor_id();
	waker = bpf_get_current_task_btf();
	wc = ctx_of(waker);
	if (!wc || !wc->on_cpu || !bpf_cpumask_test_cpu(self, p->cpus_ptr))
		return -1;
	if (SCX_AUCTION_PAIR) {
		/* Mutual: p's own last sync wakeup woke the waker. A producer that
		 * wakes a faster consumer again and again without sleeping, or a
		 * hog interrupted by a softirq's wakeups, is woken by nobody it
		 * wakes, and pinning its wakee to its CPU would serialise them. */
		*pair = wc->last_wakee == (u32)p->pid && tc &&
			tc->last_wakee == (u32)waker->pid;
		wc->last_wakee = p->pid;
	}
	return self;
}

/* Mark the wakeup of the task whose context is tc as handed to the waker's
 * CPU w (-1: not handed off, and cpu, the default pick, stands). The mark is
 * cleared by the enqueue that always follows. */
static __always_inline s32 handoff_cpu(struct task_ctx *tc, s32 w, s32 cpu)
{
	if (w < 0 || !tc)
		return cpu;
	tc->handoff = w + 1;
	return w;
}

/* A pair (PAIR=1): the waker's previous sync wakeup woke this same task and
 * that task's woke the waker, as each side of a pipe or a request-reply
 * pair does. Send it straight to the waker's CPU w (its local DSQ), the
 * placement scx_bpf_select_cpu_dfl makes for a sync wakeup when w's local
 * DSQ is empty and some CPU is idle, but also when the wakee's previous CPU
 * is idle, where dfl sends it instead (so dfl is not called): a pair split
 * across two CPUs stays split, each message an IPI and an idle exit on the
 * partner's CPU (pipe under MTTCG: kernel/README.md), and joined it runs on
 * w by turns, the waker blocking as the wakee starts. Only while nothing
 * waits, in the shared queue or in w's local DSQ, so that no queued task is
 * passed; a task whose enqueue races with that check waits for the wakee's
 * one run, as for any direct placement. A waker that wakes others in turn
 * (messaging) is no pair. */
static __always_inline bool pair_cpu(bool pair)
{
	return SCX_AUCTION_PAIR && pair && !scx_bpf_dsq_nr_queued(SHARED_DSQ) &&
	       !scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL);
}

/* Kick an idle CPU that may run the queue's head, if any. */
static __always_inline bool kick_for_head(void)
{
	struct task_struct *head;
	s32 cpu;

	if (!bpf_ksym_exists(scx_bpf_dsq_peek))
		return false;
	head = scx_bpf_dsq_peek(SHARED_DSQ);
	cpu = head ? scx_bpf_pick_idle_cpu(head->cpus_ptr, 0) : -1;
	if (cpu < 0)
		return false;
	scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	return true;
}

/* This CPU's dispatch or tick: a wakee it held back is either taken by now
 * (this CPU's dispatch moved the head) or still queued; if any task is still
 * queued, wake an idle CPU for the head, as the enqueue would have. */
static __always_inline void settle_handoff(struct scx_auction_stats *st)
{
	u32 *owed;

	if (!SCX_AUCTION_HANDOFF)
		return;
	owed = bpf_map_lookup_elem(&auc_owed, &zero);
	if (!owed || !*owed)
		return;
	*owed = 0;
	if (scx_bpf_dsq_nr_queued(SHARED_DSQ) > 0 && kick_for_head() && st)
		st->handoff_kicks++;
}

/* Whether enqueue may skip the kick for p: a handoff to this very CPU, which
 * holds no other handed-off wakee (a waker that wakes a second task before it
 * blocks is not about to sleep: that one is kicked for as usual). Every
 * enqueue calls it, so the mark never outlives its wakeup; a build without
 * the kick (KICK=0) has nothing to hold back and owes no settling kick. */
static __always_inline bool held_back(struct task_ctx *tc, u64 enq_flags,
				      struct scx_auction_stats *st)
{
	u32 mark = tc->handoff, *owed;

	if (!SCX_AUCTION_HANDOFF)
		return false;
	tc->handoff = 0;
	if (!kick_idle || !mark || !(enq_flags & SCX_ENQ_WAKEUP) ||
	    mark != bpf_get_smp_processor_id() + 1)
		return false;
	owed = bpf_map_lookup_elem(&auc_owed, &zero);
	if (!owed || *owed)
		return false;
	*owed = 1;
	if (st)
		st->handoffs++;
	return true;
}

s32 BPF_STRUCT_OPS(auction_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	struct scx_auction_stats *st;
	struct task_ctx *tc;
	bool idle = false, pair = false;
	s32 cpu, waker;

	/* Looked up once: the pair test, the handoff mark and the direct
	 * insert all read it. A pair needs it, so without it no pair forms. */
	tc = ctx_of(p);
	waker = sync_waker_cpu(p, tc, wake_flags, &pair);
	pair = waker >= 0 && pair_cpu(pair);
	if (pair) {
		cpu = waker;
	} else {
		cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
		if (!idle)
			return handoff_cpu(tc, waker, cpu);
	}
	/* An idle CPU, or a pair's waker about to sleep with nothing queued,
	 * has nobody else to run: no auction needed, and no wait to time
	 * (enq_ns 0: the wait statistics cover queued tasks). */
	if (!tc)
		return cpu;
	st = my_stats();
	classify(p, tc, st);
	tc->enq_ns = 0;
	scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, quantum_ns * tc->units, 0);
	if (st) {
		st->direct++;
		if (pair)
			st->pairs++;
	}
	return cpu;
}

void BPF_STRUCT_OPS(auction_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct scx_auction_stats *st = my_stats();
	struct task_ctx *tc = ctx_of(p);
	u64 t0 = bpf_ktime_get_ns();
	s32 cpu;

	if (!tc || (kthreads_local && (p->flags & PF_KTHREAD))) {
		/* No context means init_task failed to allocate: such a task
		 * still runs, on its CPU, outside the market. */
		if (tc)
			tc->enq_ns = t0;
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, enq_flags);
		if (st)
			st->kthreads++;
		return;
	}
	classify(p, tc, st);
	tc->enq_ns = t0;
	if (enq_flags & SCX_ENQ_WAKEUP)
		clamp_vtime(tc, lag_ns);
	else
		rebank(tc, t0, st);
	scx_bpf_dsq_insert_vtime(p, SHARED_DSQ, quantum_ns * tc->units, tc->vtime, enq_flags);
	/* Work conservation: a CPU that may run p and sleeps is woken to take
	 * it, now, or (a handoff) at this CPU's next dispatch or tick. */
	cpu = !held_back(tc, enq_flags, st) && kick_idle ? scx_bpf_pick_idle_cpu(p->cpus_ptr, 0) : -1;
	if (cpu >= 0) {
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		if (st)
			st->kicks++;
	}
	if (st && !(st->enqueued++ & (SCX_AUCTION_TIME_EVERY - 1))) {
		st->enqueue_calls++;
		st->enqueue_ns += bpf_ktime_get_ns() - t0;
	}
}

static __always_inline void set_slice(struct task_struct *p, u64 slice)
{
	if (bpf_ksym_exists(scx_bpf_task_set_slice))
		scx_bpf_task_set_slice(p, slice);
	else
		p->scx.slice = slice;
}

/* Whether prev, whose slice ran out but which is still runnable, should run
 * on: the kernel calls ops.dispatch before it queues prev again, so without
 * this check prev would always lose its CPU to the queue's head, even with
 * the smaller tag (a task worth more than one CPU would get far less).
 *
 * With nobody waiting and nothing to bill (no bid under the current bids),
 * prev runs on for the longest slice without being re-priced: there is no
 * one to compare it with, and its run is charged when it stops or when
 * someone waits (one run moves its tag by at most max_units quanta, as any
 * run). Otherwise charge the run so far, price the next one (a bidder's
 * budget and the reserve are checked at every slice), clamp the tag as a
 * requeue would (a task that runs on is the one that falls behind), and
 * compare tags with the head. */
static __always_inline bool keep_running(struct task_struct *prev, struct scx_auction_stats *st)
{
	struct task_struct *head;
	struct task_ctx *tc;

	if (!bpf_ksym_exists(scx_bpf_dsq_peek) || !(prev->scx.flags & SCX_TASK_QUEUED))
		return false;
	tc = ctx_of(prev);
	if (!tc || !tc->weight || !tc->on_cpu)
		return false;
	head = scx_bpf_dsq_peek(SHARED_DSQ);
	if (!head && priced_free(tc)) {
		set_slice(prev, quantum_ns * max_units);
		return true;
	}
	charge(prev, tc);
	classify(prev, tc, st);
	rebank(tc, bpf_ktime_get_ns(), st);
	if (head && (s64)(tc->vtime - head->scx.dsq_vtime) >= 0)
		return false;
	set_slice(prev, quantum_ns * (head ? tc->units : max_units));
	return true;
}

void BPF_STRUCT_OPS(auction_dispatch, s32 cpu, struct task_struct *prev)
{
	struct scx_auction_stats *st = my_stats();
	bool moved = false, kept = false, timed;
	u64 t0 = 0;

	timed = st && !(st->dispatches++ & (SCX_AUCTION_TIME_EVERY - 1));
	if (timed)
		t0 = bpf_ktime_get_ns();
	if (prev)
		kept = keep_running(prev, st);
	if (!kept)
		moved = scx_bpf_dsq_move_to_local(SHARED_DSQ);
	settle_handoff(st);
	if (!st)
		return;
	if (moved)
		st->dispatched++;
	if (kept)
		st->kept++;
	if (timed) {
		st->dispatch_calls++;
		st->dispatch_ns += bpf_ktime_get_ns() - t0;
	}
}

/* floor(log2(v)) capped at the last bucket (0 for v < 2), in six steps
 * (BPF has no clz). */
static __always_inline u32 log2_bucket(u64 v)
{
	u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r < SCX_AUCTION_DELAY_BUCKETS ? r : SCX_AUCTION_DELAY_BUCKETS - 1;
}

void BPF_STRUCT_OPS(auction_running, struct task_struct *p)
{
	struct scx_auction_stats *st;
	struct task_ctx *tc = ctx_of(p);
	u64 delay;

	if (!tc)
		return;
	tc->exec_ns = p->se.sum_exec_runtime;
	tc->on_cpu = 1;
	if ((s64)(tc->vtime - vtime_now) > 0)
		vtime_now = tc->vtime;
	if (!tc->enq_ns)
		return; /* sent to an idle CPU: it did not queue */
	delay = bpf_ktime_get_ns() - tc->enq_ns;
	tc->enq_ns = 0;
	st = my_stats();
	if (!st)
		return;
	st->delay_hist[log2_bucket(delay)]++;
	if (delay > st->max_wait_ns)
		st->max_wait_ns = delay;
}

#if SCX_AUCTION_HANDOFF
/* Only a handoff build has anything to do at a tick: the default registers
 * no ops.tick, so it runs nothing per tick, as before the knob. */
void BPF_STRUCT_OPS(auction_tick, struct task_struct *p)
{
	settle_handoff(my_stats());
}
#endif

void BPF_STRUCT_OPS(auction_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *tc = ctx_of(p);

	if (tc) {
		charge(p, tc);
		tc->on_cpu = 0;
	}
}

static __always_inline u64 cgroup_id(struct cgroup *cgrp)
{
	return cgrp && cgrp->kn ? cgrp->kn->id : 0;
}

s32 BPF_STRUCT_OPS(auction_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	struct task_ctx *tc;

	tc = bpf_task_storage_get(&auc_task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tc)
		return -ENOMEM;
	tc->cgroup = cgroup_id(args->cgroup);
	return 0;
}

/* A task joining the scheduler starts at the current virtual time. */
void BPF_STRUCT_OPS(auction_enable, struct task_struct *p)
{
	struct task_ctx *tc = ctx_of(p);

	if (tc)
		tc->vtime = vtime_now;
}

void BPF_STRUCT_OPS(auction_cgroup_move, struct task_struct *p, struct cgroup *from,
		    struct cgroup *to)
{
	struct task_ctx *tc = ctx_of(p);

	if (tc) {
		tc->cgroup = cgroup_id(to);
		tc->nobid_gen = 0; /* its cgroup's bid may differ: look it up again */
	}
}

s32 BPF_STRUCT_OPS_SLEEPABLE(auction_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

/* Record why the scheduler stopped, for `auctioneer kernel status`. */
void BPF_STRUCT_OPS(auction_exit, struct scx_exit_info *ei)
{
	struct scx_auction_exit *ex = bpf_map_lookup_elem(&auc_exit, &zero);

	if (!ex)
		return;
	bpf_probe_read_kernel_str(ex->reason, sizeof(ex->reason), ei->reason);
	bpf_probe_read_kernel_str(ex->msg, sizeof(ex->msg), ei->msg);
	ex->exit_code = ei->exit_code;
	ex->kind = ei->kind;
}

SCX_OPS_DEFINE(auction_ops,
	       .select_cpu = (void *)auction_select_cpu,
	       .enqueue = (void *)auction_enqueue,
	       .dispatch = (void *)auction_dispatch,
	       .running = (void *)auction_running,
#if SCX_AUCTION_HANDOFF
	       .tick = (void *)auction_tick,
#endif
	       .stopping = (void *)auction_stopping,
	       .init_task = (void *)auction_init_task,
	       .enable = (void *)auction_enable,
	       .cgroup_move = (void *)auction_cgroup_move,
	       .init = (void *)auction_init,
	       .exit = (void *)auction_exit,
	       .timeout_ms = 10000,
	       .name = "auction");
