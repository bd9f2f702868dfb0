/*
 * gpu_core.h - exact clearing of the GPU plane's bundle auction, with VCG
 * payments, in freestanding C99 (only <stdint.h> and <stddef.h>; no
 * allocation, no libc, no floating point), like the tick core.
 *
 * The problem: bids are XOR lists of (gpu_ms, memory, price) bundles; pick at
 * most one bundle per bid, within window_ms GPU milliseconds and `memory`
 * units, maximising the sum of prices. A bundle priced below
 * gpu_ms * reserve_per_ms is inadmissible. Winner t pays
 *     max(V(-t) - (V* - price_t), gpu_ms_t * reserve_per_ms),
 * VCG raised to the reserve floor.
 *
 * The algorithm (depth-first branch and bound with Lagrangian knapsack
 * tables as bounds), its tie rule (the lexicographically smallest optimal
 * choice vector, "no bundle" first) and every constant are those of the
 * Python reference, auctioneer/gpu/solver.py, which documents them;
 * this file walks exactly the same search tree (the node counts are tested
 * equal).
 *
 * Memory: the caller hands gpu_solve() a workspace of at least
 * gpu_workspace_size(bids, bundles) bytes, 8-byte aligned, contents
 * irrelevant. The recursion is as deep as the number of bids with an
 * admissible bundle, at most GPU_MAX_BIDS frames of ~0.6 KiB.
 */
#ifndef AUCTIONEER_GPU_CORE_H
#define AUCTIONEER_GPU_CORE_H

#include <stddef.h>
#include <stdint.h>

#define GPU_MAX_BIDS 256u
#define GPU_MAX_BUNDLES 16u          /* per bid */
#define GPU_MAX_CAPACITY (1u << 24)  /* window_ms and memory */
#define GPU_TABLE_CELLS 32u     /* cells on a bound table's axis */
#define GPU_LAMBDA_STEPS 8      /* bisection steps per multiplier */

enum gpu_status {
    GPU_OK = 0,
    GPU_BUDGET = 1,     /* more than max_nodes search nodes: no result */
    GPU_TOO_LARGE = 2,  /* beyond the limits above: no result */
};

struct gpu_bundle {
    uint32_t ms;
    uint32_t mem;
    uint32_t price;
};

struct gpu_outcome {
    uint64_t value;   /* V*: the sum of the winning prices */
    uint64_t nodes;   /* search nodes, all searches together */
};

/* Bytes of workspace for `bids` bids holding `bundles` bundles in all. */
size_t gpu_workspace_size(uint32_t bids, uint32_t bundles);

/*
 * Clear bids 0..bids-1; bid t owns bundles[first[t] .. first[t+1]-1]
 * (first has bids + 1 entries, first[0] == 0). Every bundle must have
 * ms >= 1. max_nodes < 0: no budget. On GPU_OK, choice[t] is the bundle
 * index bid t wins (-1: none) and payments[t] what it pays (0 for losers).
 */
enum gpu_status gpu_solve(void *workspace, const struct gpu_bundle *bundles,
                          const uint32_t *first, uint32_t bids, uint32_t window_ms,
                          uint32_t memory, uint64_t reserve_per_ms, int64_t max_nodes,
                          int32_t *choice, uint64_t *payments, struct gpu_outcome *out);

#endif
