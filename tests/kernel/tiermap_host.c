/*
 * tiermap_host.c - the BPF scheduler's shared headers, compiled for the host
 * by tests/kernel/test_bpf_build.py.
 *
 * At compile time: the map values the scheduler shares with userspace have
 * the userspace structures' layouts (price page = ring.h's struct price_page,
 * bid = tick_core.h's struct tick_slot in size). At run time: for each line
 * "kind tiers base width sub_bits price" on stdin, print "tier floor(tier)"
 * as the BPF program computes them, for the test to compare with
 * auctioneer.tick.TierMap.
 */
#include <stddef.h>
#include <stdio.h>

#include "ring.h"
#include "scx_tiermap.h"

#define SAME_FIELD(f) \
    _Static_assert(offsetof(struct scx_price_page, f) == offsetof(struct price_page, f), \
                   "price page field " #f " moved")

_Static_assert(offsetof(struct scx_price_page, magic) == offsetof(struct price_page, hdr.magic),
               "price page magic moved");
_Static_assert(offsetof(struct scx_price_page, capacity)
               == offsetof(struct price_page, hdr.capacity), "price page header moved");
SAME_FIELD(seq);
SAME_FIELD(tick);
SAME_FIELD(cpu_price);
SAME_FIELD(gpu_price);
SAME_FIELD(cpu_multiplier);
SAME_FIELD(gpu_multiplier);
_Static_assert(sizeof(struct scx_price_page) == sizeof(struct price_page), "price page size");
_Static_assert(sizeof(struct scx_auction_bid) == sizeof(struct tick_slot), "bid size");
_Static_assert(offsetof(struct scx_auction_bid, price) == offsetof(struct tick_slot, price),
               "bid price offset");
_Static_assert(sizeof(struct scx_auction_bits) == 65 * sizeof(__u64), "bitmap size");
_Static_assert(SCX_AUCTION_MAX_TIERS == TICK_MAX_TIERS, "tier count");
_Static_assert(sizeof(struct scx_auction_tiermap) == sizeof(struct tick_tier_map), "map size");

int main(void)
{
    struct scx_auction_tiermap m;
    unsigned int price;

    while (scanf("%u %u %u %u %u %u", &m.kind, &m.tiers, &m.base, &m.width, &m.sub_bits,
                 &price) == 6) {
        __u32 tier = scx_tier_of(&m, price);
        printf("%u %u\n", tier, scx_tier_floor(&m, tier));
    }
    return 0;
}
