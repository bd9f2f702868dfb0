/*
 * ring.c - the bid rings and the price page of ring.h. Freestanding C11:
 * no libc, no allocation, no floating point; see ring.h for the protocols.
 */
#include "ring.h"

/* Address-free atomics are what lets two processes share a block. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
_Static_assert(sizeof(struct ring_bid) == 16, "a bid is 16 bytes");
_Static_assert(sizeof(struct ring_cell) == 32, "an MPSC cell is 32 bytes");
_Static_assert(offsetof(struct ring_spsc, head) == RING_LINE, "head on line 1");
_Static_assert(offsetof(struct ring_spsc, tail) == 2 * RING_LINE, "tail on line 2");
_Static_assert(offsetof(struct ring_spsc, slots) == 3 * RING_LINE, "slots from line 3");
_Static_assert(offsetof(struct ring_mpsc, cells) == 3 * RING_LINE, "cells from line 3");

#define RELAXED memory_order_relaxed
#define ACQUIRE memory_order_acquire
#define RELEASE memory_order_release

static int
valid_capacity(uint32_t capacity)
{
    return capacity >= RING_MIN_CAPACITY && capacity <= RING_MAX_CAPACITY &&
           (capacity & (capacity - 1)) == 0;
}

static int
aligned(const void *mem)
{
    return mem != NULL && ((uintptr_t)mem & (RING_LINE - 1)) == 0;
}

static void
header_init(struct ring_header *hdr, uint64_t magic, uint32_t capacity)
{
    hdr->magic = magic;
    hdr->version = RING_VERSION;
    hdr->capacity = capacity;
}

/* RING_OK when mem holds a `magic` structure whose size(capacity) fits. */
static int
header_attach(const void *mem, size_t nbytes, uint64_t magic, size_t (*size)(uint32_t))
{
    const struct ring_header *hdr = mem;
    if (!aligned(mem) || nbytes < sizeof *hdr || hdr->magic != magic ||
        hdr->version != RING_VERSION) {
        return RING_EINVAL;
    }
    size_t need = size(hdr->capacity);
    return need != 0 && need <= nbytes ? RING_OK : RING_EINVAL;
}

/* Field by field: a struct copy in a loop may become a memcpy call, which a
 * freestanding build does not have. */
static inline void
copy_bid(struct ring_bid *dst, const struct ring_bid *src)
{
    dst->agent = src->agent;
    dst->price = src->price;
    dst->units = src->units;
}

static inline int
apply_bid(struct tick_book *book, const struct ring_bid *bid)
{
    if (bid->agent > UINT32_MAX) {
        return TICK_ERANGE;
    }
    uint32_t agent = (uint32_t)bid->agent;
    return bid->units == 0 ? tick_expire(book, agent)
                           : tick_update(book, agent, bid->price, bid->units);
}

/* ------------------------------------------------------------------------ */
/* SPSC                                                                     */

size_t
ring_spsc_size(uint32_t capacity)
{
    if (!valid_capacity(capacity)) {
        return 0;
    }
    return sizeof(struct ring_spsc) + (size_t)capacity * sizeof(struct ring_bid);
}

int
ring_spsc_init(void *mem, uint32_t capacity)
{
    if (!aligned(mem) || !valid_capacity(capacity)) {
        return RING_EINVAL;
    }
    struct ring_spsc *ring = mem;
    header_init(&ring->hdr, RING_MAGIC_SPSC, capacity);
    atomic_init(&ring->head, 0);
    atomic_init(&ring->tail, 0);
    ring->tail_cache = 0;
    ring->head_cache = 0;
    return RING_OK;
}

int
ring_spsc_attach(const void *mem, size_t nbytes)
{
    return header_attach(mem, nbytes, RING_MAGIC_SPSC, ring_spsc_size);
}

int
ring_spsc_push(struct ring_spsc *ring, const struct ring_bid *bid)
{
    uint64_t tail = atomic_load_explicit(&ring->tail, RELAXED);  /* ours */
    uint32_t capacity = ring->hdr.capacity;
    if (tail - ring->head_cache >= capacity) {
        ring->head_cache = atomic_load_explicit(&ring->head, ACQUIRE);
        if (tail - ring->head_cache >= capacity) {
            return RING_EFULL;
        }
    }
    copy_bid(&ring->slots[tail & (capacity - 1)], bid);
    atomic_store_explicit(&ring->tail, tail + 1, RELEASE);
    return RING_OK;
}

/* The consumer's view: position head and the records ready, at most max. */
static uint32_t
spsc_ready(struct ring_spsc *ring, uint64_t head, uint32_t max)
{
    uint64_t avail = ring->tail_cache - head;
    if (avail < max) {
        ring->tail_cache = atomic_load_explicit(&ring->tail, ACQUIRE);
        avail = ring->tail_cache - head;
        /* A tail behind head or more than a ring ahead is garbage from a
         * broken producer: read nothing rather than trust it. */
        if (avail > ring->hdr.capacity) {
            ring->tail_cache = head;
            avail = 0;
        }
    }
    return avail < max ? (uint32_t)avail : max;
}

uint32_t
ring_spsc_drain(struct ring_spsc *ring, struct ring_bid *out, uint32_t max)
{
    uint64_t head = atomic_load_explicit(&ring->head, RELAXED);  /* ours */
    uint32_t n = spsc_ready(ring, head, max), mask = ring->hdr.capacity - 1;
    for (uint32_t i = 0; i < n; i++) {
        copy_bid(&out[i], &ring->slots[(head + i) & mask]);
    }
    atomic_store_explicit(&ring->head, head + n, RELEASE);
    return n;
}

uint32_t
ring_spsc_drain_book(struct ring_spsc *ring, struct tick_book *book, uint32_t max,
                     uint32_t *rejected)
{
    uint64_t head = atomic_load_explicit(&ring->head, RELAXED);
    uint32_t n = spsc_ready(ring, head, max), mask = ring->hdr.capacity - 1, bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        bad += apply_bid(book, &ring->slots[(head + i) & mask]) != TICK_OK;
    }
    atomic_store_explicit(&ring->head, head + n, RELEASE);
    *rejected = bad;
    return n;
}

uint32_t
ring_spsc_len(const struct ring_spsc *ring)
{
    uint64_t head = atomic_load_explicit(&ring->head, ACQUIRE);
    uint64_t tail = atomic_load_explicit(&ring->tail, ACQUIRE);
    uint64_t n = tail - head;
    return n > ring->hdr.capacity ? ring->hdr.capacity : (uint32_t)n;
}

uint32_t
ring_spsc_capacity(const struct ring_spsc *ring)
{
    return ring->hdr.capacity;
}

int
ring_spsc_check(const struct ring_spsc *ring)
{
    uint64_t head = atomic_load_explicit(&ring->head, ACQUIRE);
    uint64_t tail = atomic_load_explicit(&ring->tail, ACQUIRE);
    uint32_t capacity = ring->hdr.capacity;
    if (ring->hdr.magic != RING_MAGIC_SPSC || !valid_capacity(capacity) || tail < head ||
        tail - head > capacity || ring->head_cache > head || ring->tail_cache > tail) {
        return RING_ECORRUPT;
    }
    return RING_OK;
}

/* ------------------------------------------------------------------------ */
/* MPSC                                                                     */

size_t
ring_mpsc_size(uint32_t capacity)
{
    if (!valid_capacity(capacity)) {
        return 0;
    }
    return sizeof(struct ring_mpsc) + (size_t)capacity * sizeof(struct ring_cell);
}

int
ring_mpsc_init(void *mem, uint32_t capacity)
{
    if (!aligned(mem) || !valid_capacity(capacity)) {
        return RING_EINVAL;
    }
    struct ring_mpsc *ring = mem;
    header_init(&ring->hdr, RING_MAGIC_MPSC, capacity);
    atomic_init(&ring->head, 0);
    atomic_init(&ring->tail, 0);
    for (uint32_t i = 0; i < capacity; i++) {
        atomic_init(&ring->cells[i].seq, i);
        ring->cells[i].bid.agent = 0;
        ring->cells[i].bid.price = 0;
        ring->cells[i].bid.units = 0;
        ring->cells[i].pad = 0;
    }
    return RING_OK;
}

int
ring_mpsc_attach(const void *mem, size_t nbytes)
{
    return header_attach(mem, nbytes, RING_MAGIC_MPSC, ring_mpsc_size);
}

int
ring_mpsc_push(struct ring_mpsc *ring, const struct ring_bid *bid)
{
    uint32_t mask = ring->hdr.capacity - 1;
    uint64_t pos = atomic_load_explicit(&ring->tail, RELAXED);
    struct ring_cell *cell;
    for (;;) {
        cell = &ring->cells[pos & mask];
        uint64_t seq = atomic_load_explicit(&cell->seq, ACQUIRE);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            /* Free for this lap: claim it. On failure pos is the new tail. */
            if (atomic_compare_exchange_weak_explicit(&ring->tail, &pos, pos + 1, RELAXED,
                                                      RELAXED)) {
                break;
            }
        } else if (dif < 0) {
            return RING_EFULL;  /* the consumer has not freed it yet */
        } else {
            pos = atomic_load_explicit(&ring->tail, RELAXED);  /* another producer won */
        }
    }
    copy_bid(&cell->bid, bid);
    atomic_store_explicit(&cell->seq, pos + 1, RELEASE);
    return RING_OK;
}

/* Consume the published cells from head on, at most max, calling `take`. */
#define MPSC_DRAIN(ring, max, take)                                              \
    do {                                                                         \
        uint64_t head_ = atomic_load_explicit(&(ring)->head, RELAXED);           \
        uint32_t cap_ = (ring)->hdr.capacity, n_ = 0;                            \
        while (n_ < (max)) {                                                     \
            struct ring_cell *cell_ = &(ring)->cells[head_ & (cap_ - 1)];        \
            if (atomic_load_explicit(&cell_->seq, ACQUIRE) != head_ + 1) {       \
                break;                                                           \
            }                                                                    \
            take(&cell_->bid, n_);                                               \
            atomic_store_explicit(&cell_->seq, head_ + cap_, RELEASE);           \
            head_++;                                                             \
            n_++;                                                                \
        }                                                                        \
        atomic_store_explicit(&(ring)->head, head_, RELEASE);                    \
        count = n_;                                                              \
    } while (0)

uint32_t
ring_mpsc_drain(struct ring_mpsc *ring, struct ring_bid *out, uint32_t max)
{
    uint32_t count;
#define TAKE_COPY(bid, i) copy_bid(&out[i], bid)
    MPSC_DRAIN(ring, max, TAKE_COPY);
#undef TAKE_COPY
    return count;
}

uint32_t
ring_mpsc_drain_book(struct ring_mpsc *ring, struct tick_book *book, uint32_t max,
                     uint32_t *rejected)
{
    uint32_t count, bad = 0;
#define TAKE_APPLY(bid, i) (bad += apply_bid(book, bid) != TICK_OK)
    MPSC_DRAIN(ring, max, TAKE_APPLY);
#undef TAKE_APPLY
    *rejected = bad;
    return count;
}

uint32_t
ring_mpsc_len(const struct ring_mpsc *ring)
{
    uint64_t head = atomic_load_explicit(&ring->head, ACQUIRE);
    uint64_t tail = atomic_load_explicit(&ring->tail, ACQUIRE);
    uint64_t n = tail - head;
    return n > ring->hdr.capacity ? ring->hdr.capacity : (uint32_t)n;
}

uint32_t
ring_mpsc_capacity(const struct ring_mpsc *ring)
{
    return ring->hdr.capacity;
}

int
ring_mpsc_check(const struct ring_mpsc *ring)
{
    uint64_t head = atomic_load_explicit(&ring->head, ACQUIRE);
    uint64_t tail = atomic_load_explicit(&ring->tail, ACQUIRE);
    uint32_t capacity = ring->hdr.capacity;
    if (ring->hdr.magic != RING_MAGIC_MPSC || !valid_capacity(capacity) || tail < head ||
        tail - head > capacity) {
        return RING_ECORRUPT;
    }
    /* Positions head..tail-1 are published (seq = p + 1); the cells after
     * them are free for positions tail..head+capacity-1 (seq = p). */
    for (uint64_t p = head; p < head + capacity; p++) {
        uint64_t want = p < tail ? p + 1 : p;
        if (atomic_load_explicit(&ring->cells[p & (capacity - 1)].seq, ACQUIRE) != want) {
            return RING_ECORRUPT;
        }
    }
    return RING_OK;
}

/* ------------------------------------------------------------------------ */
/* Price page                                                               */

size_t
price_page_size(void)
{
    return sizeof(struct price_page);
}

/* The page's size whatever the "capacity" a header holds (it holds 0). */
static size_t
page_size_for(uint32_t capacity)
{
    return capacity == 0 ? sizeof(struct price_page) : 0;
}

int
price_page_init(void *mem)
{
    if (!aligned(mem)) {
        return RING_EINVAL;
    }
    struct price_page *page = mem;
    header_init(&page->hdr, RING_MAGIC_PAGE, 0);
    atomic_init(&page->seq, 0);
    atomic_init(&page->tick, 0);
    atomic_init(&page->cpu_price, 0);
    atomic_init(&page->gpu_price, 0);
    atomic_init(&page->cpu_multiplier, 0);
    atomic_init(&page->gpu_multiplier, 0);
    return RING_OK;
}

int
price_page_attach(const void *mem, size_t nbytes)
{
    return header_attach(mem, nbytes, RING_MAGIC_PAGE, page_size_for);
}

void
price_page_publish(struct price_page *page, const struct price_values *v)
{
    uint64_t seq = atomic_load_explicit(&page->seq, RELAXED);  /* the writer's own */
    atomic_store_explicit(&page->seq, seq + 1, RELAXED);
    /* Orders the odd store before the field stores below. */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&page->tick, v->tick, RELAXED);
    atomic_store_explicit(&page->cpu_price, v->cpu_price, RELAXED);
    atomic_store_explicit(&page->gpu_price, v->gpu_price, RELAXED);
    atomic_store_explicit(&page->cpu_multiplier, v->cpu_multiplier, RELAXED);
    atomic_store_explicit(&page->gpu_multiplier, v->gpu_multiplier, RELAXED);
    atomic_store_explicit(&page->seq, seq + 2, RELEASE);
}

int
price_page_read(const struct price_page *page, struct price_values *out, uint32_t tries)
{
    for (uint32_t t = 0; t < tries; t++) {
        uint64_t s0 = atomic_load_explicit(&page->seq, ACQUIRE);
        if (s0 & 1u) {
            continue;  /* a write is on */
        }
        out->tick = atomic_load_explicit(&page->tick, RELAXED);
        out->cpu_price = atomic_load_explicit(&page->cpu_price, RELAXED);
        out->gpu_price = atomic_load_explicit(&page->gpu_price, RELAXED);
        out->cpu_multiplier = atomic_load_explicit(&page->cpu_multiplier, RELAXED);
        out->gpu_multiplier = atomic_load_explicit(&page->gpu_multiplier, RELAXED);
        /* Orders the field loads before the second load of seq. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&page->seq, RELAXED) == s0) {
            return RING_OK;
        }
    }
    return RING_EAGAIN;
}

uint64_t
price_page_seq(const struct price_page *page)
{
    return atomic_load_explicit(&page->seq, ACQUIRE);
}
