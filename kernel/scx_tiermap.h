/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_tiermap.h - price -> tier -> floor, the tick core's arithmetic
 * (tick_core.c map_tier/map_floor) in a form both the BPF program and a host
 * test include. tests/kernel/test_bpf_build.py compiles this header on the
 * host and checks it against auctioneer.tick.TierMap on every tier boundary.
 *
 * The map is read through a pointer so the BPF side can pass its rodata
 * configuration and the host test an ordinary struct.
 */
#ifndef SCX_TIERMAP_H
#define SCX_TIERMAP_H

#include "scx_auction.h"

/* Index of x's highest set bit, x != 0: the userspace core's clz. BPF has no
 * clz instruction (and clang before 17 cannot lower the builtin for it), so
 * a six-step binary search: constant time, no loop for the verifier. */
static inline __u32 scx_top_bit(__u64 x)
{
	__u32 n = 0;

	if (x >> 32) {
		x >>= 32;
		n += 32;
	}
	if (x >> 16) {
		x >>= 16;
		n += 16;
	}
	if (x >> 8) {
		x >>= 8;
		n += 8;
	}
	if (x >> 4) {
		x >>= 4;
		n += 4;
	}
	if (x >> 2) {
		x >>= 2;
		n += 2;
	}
	return n + (__u32)(x >> 1);
}

/* The tier of a price. A map with tiers out of 1..4096 acts as 4096 tiers,
 * width 0 as 1: the verifier needs every path defined. */
static inline __u32 scx_tier_of(const volatile struct scx_auction_tiermap *m, __u32 price)
{
	__u32 tiers = m->tiers, sb = m->sub_bits & 31, tier;

	if (tiers < 1 || tiers > SCX_AUCTION_MAX_TIERS)
		tiers = SCX_AUCTION_MAX_TIERS;
	if (m->kind == 0) {
		__u32 width = m->width ? m->width : 1;
		tier = price < m->base ? 0 : (price - m->base) / width;
	} else if (price < (2u << sb)) {
		tier = price;
	} else {
		__u32 s = (scx_top_bit(price) - sb) & 31;
		tier = (s << sb) + (price >> s);
	}
	return tier < tiers ? tier : tiers - 1;
}

/* The lowest price in tier t; saturates at 2^32 - 1. */
static inline __u32 scx_tier_floor(const volatile struct scx_auction_tiermap *m, __u32 t)
{
	__u64 f;

	if (m->kind == 0) {
		if (!t)
			return 0;
		f = (__u64)m->base + (__u64)t * m->width;
	} else {
		__u32 sb = m->sub_bits & 31, s;
		if (t < (2u << sb))
			return t;
		s = (t >> sb) - 1;
		if (s >= 32)
			return 0xffffffffu;
		f = (__u64)(t - (s << sb)) << s;
	}
	return f > 0xffffffffu ? 0xffffffffu : (__u32)f;
}

#endif
