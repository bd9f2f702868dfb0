/*
 * gpu_core.c - see gpu_core.h; the algorithm is documented in
 * auctioneer/gpu/solver.py, whose names the comments below use.
 */
#include "gpu_core.h"

#define ROW (GPU_TABLE_CELLS + 1u)

struct option {
    int64_t price;
    uint32_t q[2];   /* gpu_ms, memory */
    uint32_t j;      /* the bundle's index in its bid */
    uint32_t pad;
};

struct state {
    struct option *opts;   /* bid t's options: opts[at[t] .. at[t] + count[t] - 1] */
    uint32_t *at;
    uint32_t *count;
    uint32_t *order;       /* bids with options, in search order */
    uint32_t m;            /* how many */
    uint32_t n;
    uint16_t *cur;         /* rank per bid: 0 none, j + 1 bundle j */
    uint16_t *best;
    int64_t *suffix_main;  /* suffix[d], skip = -1 */
    int64_t *suffix;       /* the current search's */
    int64_t *store[2];     /* per resource: (m + 1) rows of ROW cells, skip = -1 */
    int64_t *scratch[2];   /* rows rebuilt without skip */
    const int64_t **rows[2];  /* the current search's row d of table r */
    uint64_t cap[2];
    uint64_t unit[2];
    int64_t lam[2];
    int64_t best_value;
    int64_t max_nodes;
    uint64_t nodes;
    int64_t skip;          /* bid excluded from this search, -1 none */
    int ties;
    int aborted;
};

static size_t
align8(size_t x)
{
    return (x + 7u) & ~(size_t)7u;
}

size_t
gpu_workspace_size(uint32_t bids, uint32_t bundles)
{
    size_t m1 = (size_t)bids + 1u;
    return align8(sizeof(struct state)) + align8((size_t)bundles * sizeof(struct option))
           + 3u * align8(m1 * sizeof(uint32_t)) + 2u * align8(m1 * sizeof(uint16_t))
           + 2u * m1 * sizeof(int64_t) + 4u * m1 * ROW * sizeof(int64_t)
           + 2u * m1 * sizeof(int64_t *);
}

static void *
carve(unsigned char **p, size_t bytes)
{
    void *out = *p;
    *p += align8(bytes);
    return out;
}

/* p1/w1 > p2/w2, exactly: prices < 2**32 and weights < 2**50 need 128 bits. */
static int
denser(uint64_t p1, uint64_t w1, uint64_t p2, uint64_t w2)
{
    return (unsigned __int128)p1 * w2 > (unsigned __int128)p2 * w1;
}

/* The bid's best price per share of both capacities (solver._density):
 * p / (ms * M + mem * W), M at least 1. */
static void
best_density(const struct state *s, uint32_t t, uint64_t *p, uint64_t *w)
{
    const struct option *o = s->opts + s->at[t];
    uint64_t ms_cap = s->cap[0], mem_cap = s->cap[1] ? s->cap[1] : 1u;
    *p = 0;
    *w = 1;
    for (uint32_t k = 0; k < s->count[t]; k++) {
        uint64_t wk = o[k].q[0] * mem_cap + o[k].q[1] * ms_cap;
        if (denser((uint64_t)o[k].price, wk, *p, *w)) {
            *p = (uint64_t)o[k].price;
            *w = wk;
        }
    }
}

/* Does bid a come before bid b in the search order? */
static int
before(const struct state *s, uint32_t a, uint32_t b)
{
    uint64_t pa, ma, pb, mb;
    best_density(s, a, &pa, &ma);
    best_density(s, b, &pb, &mb);
    if (denser(pa, ma, pb, mb))
        return 1;
    if (denser(pb, mb, pa, ma))
        return 0;
    return a < b;
}

/* One DP stage of table r: row = prev with bid t's options added. */
static void
stage(const struct state *s, int r, uint32_t t, int64_t lam, const int64_t *prev, int64_t *row)
{
    uint32_t cells = (uint32_t)(s->cap[r] / s->unit[r]) + 1u;
    for (uint32_t c = 0; c < cells; c++)
        row[c] = prev[c];
    if ((int64_t)t == s->skip)
        return;
    const struct option *o = s->opts + s->at[t];
    for (uint32_t k = 0; k < s->count[t]; k++) {
        uint32_t q = (uint32_t)(o[k].q[r] / s->unit[r]);
        int64_t p = o[k].price - lam * (int64_t)o[k].q[1 - r];
        for (uint32_t c = q; c < cells; c++) {
            int64_t v = prev[c - q] + p;
            row[c] = v > row[c] ? v : row[c];
        }
    }
}

/* Table r at multiplier lam into rows (m + 1 rows of ROW cells, row d the
 * best of bids order[d:]), and how much of the other resource the root's
 * best uses. The reference carries a usage row beside each row; walking back
 * from the root cell finds the same usage: at each stage, the option a usage
 * cell takes is the first one (after "no bundle") strictly beating all
 * before it, which is what the walk picks too. */
static int64_t
root_use(const struct state *s, int r, int64_t lam, int64_t *rows)
{
    uint32_t cells = (uint32_t)(s->cap[r] / s->unit[r]) + 1u, c = cells - 1u;
    int64_t *last = rows + (size_t)s->m * ROW, used = 0;
    for (uint32_t i = 0; i < cells; i++)
        last[i] = 0;
    for (uint32_t d = s->m; d-- > 0;)
        stage(s, r, s->order[d], lam, rows + (size_t)(d + 1u) * ROW, rows + (size_t)d * ROW);
    for (uint32_t d = 0; d < s->m; d++) {
        const int64_t *prev = rows + (size_t)(d + 1u) * ROW;
        const struct option *o = s->opts + s->at[s->order[d]];
        int64_t best = prev[c];
        uint32_t take = 0, pick = 0;
        for (uint32_t k = 0; k < s->count[s->order[d]]; k++) {
            uint32_t q = (uint32_t)(o[k].q[r] / s->unit[r]);
            int64_t v = q <= c ? prev[c - q] + o[k].price - lam * (int64_t)o[k].q[1 - r] : 0;
            if (q <= c && v > best) {
                best = v;
                take = 1;
                pick = k;
            }
        }
        if (take) {
            used += (int64_t)o[pick].q[1 - r];
            c -= (uint32_t)(o[pick].q[r] / s->unit[r]);
        }
    }
    return used;
}

/* The multiplier of table r (solver._Search.choose); s->store[r] is its
 * scratch, rebuilt at the chosen multiplier afterwards. */
static int64_t
choose(struct state *s, int r, int64_t top)
{
    int64_t lo = 0, hi = top, best = -1, best_lam = 0;
    int64_t cap_o = (int64_t)s->cap[1 - r];
    uint32_t cells = (uint32_t)(s->cap[r] / s->unit[r]) + 1u;
    for (int step = 0; step < GPU_LAMBDA_STEPS; step++) {
        int64_t lam = (lo + hi) / 2;
        int64_t used = root_use(s, r, lam, s->store[r]);
        int64_t bound = s->store[r][cells - 1] + lam * cap_o;
        if (best < 0 || bound < best) {
            best = bound;
            best_lam = lam;
        }
        if (used > cap_o)
            lo = lam + 1;
        else
            hi = lam;
        if (lo >= hi)
            break;
    }
    return best_lam;
}

/* Point rows[r][d] at the bounds without s->skip: rows after the skipped bid
 * are the stored ones, rows up to it are rebuilt into scratch. */
static void
build(struct state *s)
{
    uint32_t m = s->m, upto = 0;
    int64_t drop = 0;
    if (s->skip >= 0) {
        while (s->order[upto] != (uint32_t)s->skip)
            upto++;
        drop = s->opts[s->at[s->skip]].price;
        upto++;  /* rows 0..upto-1 change */
    }
    for (uint32_t d = 0; d <= m; d++)
        s->suffix[d] = s->suffix_main[d] - (d < upto ? drop : 0);
    for (int r = 0; r < 2; r++) {
        for (uint32_t d = upto; d <= m; d++)
            s->rows[r][d] = s->store[r] + (size_t)d * ROW;
        for (uint32_t d = upto; d-- > 0;) {
            int64_t *row = s->scratch[r] + (size_t)d * ROW;
            stage(s, r, s->order[d], s->lam[r], s->rows[r][d + 1], row);
            s->rows[r][d] = row;
        }
    }
}

static int64_t
bound(const struct state *s, uint32_t d, uint64_t ms_left, uint64_t mem_left)
{
    uint64_t ms = ms_left < s->cap[0] ? ms_left : s->cap[0];
    uint64_t mem = mem_left < s->cap[1] ? mem_left : s->cap[1];
    int64_t up = s->suffix[d];
    int64_t a = s->rows[0][d][ms / s->unit[0]] + s->lam[0] * (int64_t)mem;
    int64_t b = s->rows[1][d][mem / s->unit[1]] + s->lam[1] * (int64_t)ms;
    up = a < up ? a : up;
    return b < up ? b : up;
}

static int
lex_less(const uint16_t *a, const uint16_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i];
    return 0;
}

struct kid {
    int64_t upper;
    int64_t value;
    uint64_t ms, mem;
    uint32_t rank;
};

static void
run(struct state *s, uint32_t d, uint64_t ms_left, uint64_t mem_left, int64_t value,
    int64_t upper)
{
    s->nodes++;
    if (s->max_nodes >= 0 && s->nodes > (uint64_t)s->max_nodes) {
        s->aborted = 1;
        return;
    }
    if (s->ties) {
        if (upper < s->best_value
            || (upper == s->best_value && !lex_less(s->cur, s->best, s->n)))
            return;
    } else if (upper <= s->best_value) {
        return;
    }
    if (d == s->m) {
        s->best_value = value;
        if (s->ties)
            for (uint32_t i = 0; i < s->n; i++)
                s->best[i] = s->cur[i];
        return;
    }
    uint32_t t = s->order[d];
    struct kid kids[GPU_MAX_BUNDLES + 1];
    uint32_t nk = 0;
    if ((int64_t)t != s->skip) {
        const struct option *o = s->opts + s->at[t];
        for (uint32_t k = 0; k < s->count[t]; k++) {
            if (o[k].q[0] <= ms_left && o[k].q[1] <= mem_left) {
                struct kid *c = &kids[nk++];
                c->ms = ms_left - o[k].q[0];
                c->mem = mem_left - o[k].q[1];
                c->value = value + o[k].price;
                c->upper = c->value + bound(s, d + 1, c->ms, c->mem);
                c->rank = o[k].j + 1u;
            }
        }
    }
    kids[nk] = (struct kid){value + bound(s, d + 1, ms_left, mem_left), value, ms_left,
                            mem_left, 0};
    nk++;
    /* Stable insertion sort, highest bound first. */
    for (uint32_t i = 1; i < nk; i++) {
        struct kid k = kids[i];
        uint32_t j = i;
        while (j > 0 && kids[j - 1].upper < k.upper) {
            kids[j] = kids[j - 1];
            j--;
        }
        kids[j] = k;
    }
    for (uint32_t i = 0; i < nk && !s->aborted; i++) {
        s->cur[t] = (uint16_t)kids[i].rank;
        run(s, d + 1, kids[i].ms, kids[i].mem, kids[i].value, kids[i].upper);
    }
    s->cur[t] = 0;
}

static void
search(struct state *s, uint64_t window_ms, uint64_t memory)
{
    run(s, 0, window_ms, memory, 0, bound(s, 0, window_ms, memory));
}

enum gpu_status
gpu_solve(void *workspace, const struct gpu_bundle *bundles, const uint32_t *first,
          uint32_t bids, uint32_t window_ms, uint32_t memory, uint64_t reserve_per_ms,
          int64_t max_nodes, int32_t *choice, uint64_t *payments, struct gpu_outcome *out)
{
    if (bids > GPU_MAX_BIDS || window_ms > GPU_MAX_CAPACITY || memory > GPU_MAX_CAPACITY
        || reserve_per_ms > UINT32_MAX)
        return GPU_TOO_LARGE;
    for (uint32_t t = 0; t < bids; t++)
        if (first[t + 1] - first[t] > GPU_MAX_BUNDLES)
            return GPU_TOO_LARGE;
    uint32_t total = first[bids];
    unsigned char *p = workspace;
    struct state *s = carve(&p, sizeof *s);
    size_t m1 = (size_t)bids + 1u;
    s->opts = carve(&p, (size_t)total * sizeof(struct option));
    s->at = carve(&p, m1 * sizeof(uint32_t));
    s->count = carve(&p, m1 * sizeof(uint32_t));
    s->order = carve(&p, m1 * sizeof(uint32_t));
    s->cur = carve(&p, m1 * sizeof(uint16_t));
    s->best = carve(&p, m1 * sizeof(uint16_t));
    s->suffix_main = carve(&p, m1 * sizeof(int64_t));
    s->suffix = carve(&p, m1 * sizeof(int64_t));
    for (int r = 0; r < 2; r++) {
        s->store[r] = carve(&p, m1 * ROW * sizeof(int64_t));
        s->scratch[r] = carve(&p, m1 * ROW * sizeof(int64_t));
        s->rows[r] = carve(&p, m1 * sizeof(int64_t *));
    }
    s->n = bids;

    /* Options: admissible, positive, fitting alone; price descending, index ascending. */
    uint32_t used = 0;
    s->m = 0;
    for (uint32_t t = 0; t < bids; t++) {
        s->at[t] = used;
        for (uint32_t k = first[t]; k < first[t + 1]; k++) {
            const struct gpu_bundle *b = bundles + k;
            if (b->price == 0 || b->price < (uint64_t)b->ms * reserve_per_ms
                || b->ms > window_ms || b->mem > memory)
                continue;
            struct option o = {b->price, {b->ms, b->mem}, k - first[t], 0};
            uint32_t j = used++;
            while (j > s->at[t] && s->opts[j - 1].price < o.price) {
                s->opts[j] = s->opts[j - 1];
                j--;
            }
            s->opts[j] = o;
        }
        s->count[t] = used - s->at[t];
        s->cur[t] = s->best[t] = 0;
    }
    uint64_t caps[2] = {window_ms, memory}, sums[2] = {0, 0};
    int64_t top = 0;
    for (uint32_t t = 0; t < bids; t++) {
        if (!s->count[t])
            continue;
        const struct option *o = s->opts + s->at[t];
        uint64_t big[2] = {0, 0};
        for (uint32_t k = 0; k < s->count[t]; k++)
            for (int r = 0; r < 2; r++)
                big[r] = o[k].q[r] > big[r] ? o[k].q[r] : big[r];
        sums[0] += big[0];
        sums[1] += big[1];
        top = o[0].price > top ? o[0].price : top;
    }
    for (int r = 0; r < 2; r++) {
        s->cap[r] = sums[r] < caps[r] ? sums[r] : caps[r];
        s->unit[r] = s->cap[r] ? (s->cap[r] + GPU_TABLE_CELLS - 1u) / GPU_TABLE_CELLS : 1u;
    }
    for (uint32_t t = 0; t < bids; t++) {
        if (!s->count[t])
            continue;
        uint32_t i = s->m++;
        while (i > 0 && before(s, t, s->order[i - 1])) {
            s->order[i] = s->order[i - 1];
            i--;
        }
        s->order[i] = t;
    }
    s->skip = -1;
    s->lam[0] = choose(s, 0, top);
    s->lam[1] = choose(s, 1, top);
    s->suffix_main[s->m] = 0;
    for (uint32_t d = s->m; d-- > 0;)
        s->suffix_main[d] = s->suffix_main[d + 1] + s->opts[s->at[s->order[d]]].price;
    for (int r = 0; r < 2; r++) {
        int64_t *last = s->store[r] + (size_t)s->m * ROW;
        for (uint32_t c = 0; c < ROW; c++)
            last[c] = 0;
        for (uint32_t d = s->m; d-- > 0;)
            stage(s, r, s->order[d], s->lam[r], s->store[r] + (size_t)(d + 1u) * ROW,
                  s->store[r] + (size_t)d * ROW);
    }

    s->max_nodes = max_nodes;
    s->nodes = 0;
    s->aborted = 0;
    s->ties = 1;
    s->best_value = 0;
    build(s);
    search(s, window_ms, memory);
    if (s->aborted)
        return GPU_BUDGET;
    int64_t value = s->best_value;
    s->ties = 0;
    for (uint32_t t = 0; t < bids; t++) {
        choice[t] = (int32_t)s->best[t] - 1;
        payments[t] = 0;
    }
    for (uint32_t t = 0; t < bids; t++) {
        if (choice[t] < 0)
            continue;
        const struct gpu_bundle *b = bundles + first[t] + (uint32_t)choice[t];
        int64_t others = value - (int64_t)b->price;
        s->skip = t;
        s->best_value = others;
        build(s);
        search(s, window_ms, memory);
        if (s->aborted)
            return GPU_BUDGET;
        uint64_t clarke = (uint64_t)(s->best_value - others);
        uint64_t floor = (uint64_t)b->ms * reserve_per_ms;
        payments[t] = clarke > floor ? clarke : floor;
    }
    out->value = (uint64_t)value;
    out->nodes = s->nodes;
    return GPU_OK;
}
