/*
 * engine_json.h - the compact-JSON reader journal replay uses (engine_replay.c):
 * the strict subset json.dumps writes with separators=(",", ":") -- one flat
 * object of ASCII strings without escapes, ints within int64, true, false,
 * null and one-string lists. Anything else is "not taken" (NULL or -1), never
 * guessed at, so the caller falls back to the journal's Python reader, which
 * owns the full grammar. Strings are scanned and digits counted 8 bytes at a
 * time. Header-only: its one includer inlines the scanners into its per-type
 * readers, which is most of replay's speed.
 */
#ifndef AUCTIONEER_ENGINE_JSON_H
#define AUCTIONEER_ENGINE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_KEYS 12
enum { J_STR, J_INT, J_TRUE, J_FALSE, J_NULL, J_ONE_STR };

typedef struct {
    const char *key, *s;
    size_t klen, slen;
    int kind;
    int64_t i;
} jfield;

/* The high bit of each byte of w (8 bytes of a string, first in memory lowest) that is
 * below 0x20, '"', '\\' or 0x80 and up. The lowest set bit is exact: a borrow can flag a
 * byte only above one that is flagged itself. */
static inline uint64_t
stops(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80u;
    uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
    return (((w - ones * 0x20u) & ~w) | ((quote - ones) & ~quote) | ((slash - ones) & ~slash) | w)
           & highs;
}

/* A string of ASCII without escapes or control characters at *p (past its opening quote):
 * its end (the closing quote), or NULL. Replay takes no other string (a key or a value
 * that is not ASCII names nothing it takes), so it is refused here, as early as it can be. */
static const char *
string_end(const char *p, const char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; end - p >= 8; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t hit = stops(w);
        if (hit) {
            p += __builtin_ctzll(hit) / 8;
            return *p == '"' ? p : NULL;
        }
    }
#endif
    for (; p < end; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') {
            return p;
        }
        if (ch == '\\' || ch < 0x20u || ch >= 0x80u) {
            return NULL;
        }
    }
    return NULL;
}

/* How many decimal digits start at p (before end). */
static inline size_t
digits(const char *p, const char *end)
{
    const char *start = p;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0xf0u;
    for (; end - p >= 8; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        /* a byte is a digit when it and it plus 6 are both 0x3_; a carry reaches a byte
         * only from one below that is not a digit, so the lowest flagged byte is exact */
        uint64_t other = ((w & highs) ^ ones * 0x30u) | (((w + ones * 6u) & highs) ^ ones * 0x30u);
        if (other) {
            return (size_t)(p - start) + (size_t)__builtin_ctzll(other) / 8u;
        }
    }
#endif
    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }
    return (size_t)(p - start);
}

/* An int as JSON writes one (no leading zeros, no fraction or exponent) within int64. */
static const char *
parse_int(const char *p, const char *end, int64_t *out)
{
    int negative = p < end && *p == '-';
    p += negative;
    size_t n = digits(p, end);
    if (n == 0 || n > 19 || (n > 1 && *p == '0')) {
        return NULL;
    }
    uint64_t v = 0; /* 19 digits fit in 64 bits, unsigned */
    for (const char *last = p + n; p < last; p++) {
        v = v * 10u + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)negative
        || (p < end && (*p == '.' || *p == 'e' || *p == 'E'))) {
        return NULL;
    }
    *out = negative ? (int64_t)(0u - v) : (int64_t)v;
    return p;
}

/* Whether a[0..n) and b[0..n) are the same bytes: inline, in at most a few word loads for
 * the short keys and names replay compares. */
static inline int
same(const char *a, const char *b, size_t n)
{
    if (n < 8) {
        uint32_t x, y, u, v;
        if (n < 4) {
            for (size_t i = 0; i < n; i++) {
                if (a[i] != b[i]) {
                    return 0;
                }
            }
            return 1;
        }
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    uint64_t x, y;
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
            return 0;
        }
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

static const char *
literal(const char *p, const char *end, const char *word, int kind, jfield *f)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) < n || !same(p, word, n)) {
        return NULL;
    }
    f->kind = kind;
    return p + n;
}

/* One value into f: its end, or NULL when it is not one this parser takes. */
static const char *
value(const char *p, const char *end, jfield *f)
{
    if (p == end) {
        return NULL;
    }
    if (*p == '"') {
        const char *close = string_end(p + 1, end);
        if (close == NULL) {
            return NULL;
        }
        f->kind = J_STR;
        f->s = p + 1;
        f->slen = (size_t)(close - p - 1);
        return close + 1;
    }
    if (*p == '[') { /* exactly one string */
        if (end - p < 2 || p[1] != '"') {
            return NULL;
        }
        const char *close = string_end(p + 2, end);
        if (close == NULL || close + 1 >= end || close[1] != ']') {
            return NULL;
        }
        f->kind = J_ONE_STR;
        f->s = p + 2;
        f->slen = (size_t)(close - p - 2);
        return close + 2;
    }
    if (*p == 't') {
        return literal(p, end, "true", J_TRUE, f);
    }
    if (*p == 'f') {
        return literal(p, end, "false", J_FALSE, f);
    }
    if (*p == 'n') {
        return literal(p, end, "null", J_NULL, f);
    }
    f->kind = J_INT;
    return parse_int(p, end, &f->i);
}

/* The members of a compact JSON object: how many, or -1 when it is not one this parser
 * takes (whitespace, escapes, nesting, floats, more than MAX_KEYS members...). */
static int
members(const char *p, const char *end, jfield *out)
{
    if (p == end || *p++ != '{') {
        return -1;
    }
    int n = 0;
    while (p < end && n < MAX_KEYS) {
        jfield *f = &out[n++];
        if (*p++ != '"') {
            return -1;
        }
        const char *close = string_end(p, end);
        if (close == NULL || close + 1 >= end || close[1] != ':') {
            return -1;
        }
        f->key = p;
        f->klen = (size_t)(close - p);
        p = value(close + 2, end, f);
        if (p == NULL || p == end) {
            return -1;
        }
        if (*p == '}') {
            return p + 1 == end ? n : -1;
        }
        if (*p++ != ',') {
            return -1;
        }
    }
    return -1;
}

#endif
