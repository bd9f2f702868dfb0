/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_auction_vtime.h - scx_auction.bpf.c's virtual-time clamps: the budget
 * window, the clamp behind vtime_now and the slice-end rebank with its
 * window cut. They call no BPF helper, so tests/kernel/test_vtime.py
 * compiles this file for the host and checks it with hypothesis against the
 * simulator's _State.rebank (src/auctioneer/sim/fairshare.py), the rule it
 * mirrors.
 *
 * The includer defines u64 and s64, __always_inline, struct task_ctx (with
 * u64 vtime and bank_until), struct scx_auction_stats (scx_auction.h) and
 * the u64 globals vtime_now, lag_ns, bank_ns and budget_period_ns (rodata
 * but vtime_now in the BPF object).
 */
#ifndef SCX_AUCTION_VTIME_H
#define SCX_AUCTION_VTIME_H

/* The budget window that `now` falls in (windows are global: every agent's
 * start together, as the simulator's do). budget_period_ns = 0 means no
 * budget windows: every ns is its own window, so an agent's spend resets
 * before it can bind, and rebank makes no window cut. */
static __always_inline u64 window_of(u64 now)
{
	return now / (budget_period_ns ? budget_period_ns : 1);
}

/* Start-time fair queueing: vtime_now is the start tag of the latest task
 * to run, and a task's tag is its last finish tag, but no more than `keep`
 * behind vtime_now: a sleeper cannot bank a burst, and a task whose fair
 * share exceeds one CPU (it falls behind by itself, harmlessly: it can use
 * only one CPU) keeps a bounded lead. */
static __always_inline void clamp_vtime(struct task_ctx *tc, u64 keep)
{
	u64 lo = vtime_now > keep ? vtime_now - keep : 0;

	if ((s64)(tc->vtime - lo) < 0)
		tc->vtime = lo;
}

/* A task still runnable when its slice ends keeps bank_ns of credit, but
 * only lag_ns at its first slice end in each budget window. The bank is for
 * the lag that a longer tag step started on another CPU leaves. A task whose
 * weighted share exceeds one CPU falls behind by itself and sits a whole
 * bank behind; that lead is worth bank_ns x weight / free_weight of CPU time
 * once its contenders' weights rise, as budgeted bidders' do when a window
 * starts and they pay again, and it carried one window's phase into the
 * next (kernel/README.md, "Budget windows"). The cut only raises tags, never
 * past vtime_now: the wait bound is unchanged. With no budget windows
 * (budget_period_ns = 0) no weight rises at a window start, so there is
 * nothing to cut. */
static __always_inline void rebank(struct task_ctx *tc, u64 now, struct scx_auction_stats *st)
{
	u64 banked;

	clamp_vtime(tc, bank_ns);
	if (!budget_period_ns || now < tc->bank_until)
		return;
	tc->bank_until = (window_of(now) + 1) * budget_period_ns;
	banked = tc->vtime;
	clamp_vtime(tc, lag_ns);
	if (st && tc->vtime != banked) {
		st->window_cuts++;
		st->window_cut_ns += tc->vtime - banked;
	}
}

#endif /* SCX_AUCTION_VTIME_H */
