/*
 * timer.h - the native timing harnesses' clock, shared by _core.c and
 * _ring.c so that the tick and ring benchmarks count the same ticks.
 *
 * On x86-64 the time stamp counter, read as a serialised pair
 * (timer_start: lfence; rdtsc; lfence, timer_stop: rdtscp; lfence);
 * elsewhere CLOCK_MONOTONIC in ns. TIMER_HAVE_TSC says which. Header-only,
 * static inline.
 */
#ifndef AUCTIONEER_TIMER_H
#define AUCTIONEER_TIMER_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <x86intrin.h>
#define TIMER_HAVE_TSC 1
#else
#define TIMER_HAVE_TSC 0
#endif

/* A compiler barrier: keeps the timed code between the two reads. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

static inline uint64_t
monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if TIMER_HAVE_TSC
/* lfence; rdtsc; lfence: earlier instructions finish before the read, later
 * ones start after it. */
static inline uint64_t
timer_start(void)
{
    BARRIER();
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    BARRIER();
    return t;
}

/* rdtscp waits for earlier instructions; the lfence holds later ones back. */
static inline uint64_t
timer_stop(void)
{
    unsigned int aux;
    BARRIER();
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    BARRIER();
    return t;
}

static inline void
cpu_relax(void)
{
    _mm_pause();
}
#else
static inline uint64_t
timer_start(void)
{
    BARRIER();
    uint64_t t = monotonic_ns();
    BARRIER();
    return t;
}
#define timer_stop timer_start

static inline void
cpu_relax(void)
{
    BARRIER();
}
#endif

#endif /* AUCTIONEER_TIMER_H */
