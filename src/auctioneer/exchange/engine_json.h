/*
 * engine_json.h - the compact-JSON reader journal replay uses (engine_replay.c):
 * the strict subset json.dumps writes with separators=(",", ":") -- one flat
 * object of ASCII strings without escapes, ints within int64, true, false,
 * null and one-string lists. Anything else is "not taken" (NULL or -1), never
 * guessed at, so the caller falls back to the journal's Python reader, which
 * owns the full grammar. Strings are scanned and digits counted 8 bytes at a
 * time. Header-only: replay inlines the scanners into its per-type readers,
 * which is most of its speed.
 *
 * A snapshot's parts that grow with the state (engine_restore.c, engine_runs.c)
 * are read with the same scanners and two more: skip_value, which finds where
 * a member ends, and read_text, which takes any str as json.dumps writes it
 * with ensure_ascii=False (the snapshot's names are any text). What they do not
 * take falls back to snapshot.py's reader in the same way.
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
static inline const char *
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
static inline const char *
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

static inline int
hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static inline const char *
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
static inline const char *
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
static inline int
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

/* The closing quote of the JSON string whose text starts at p (past its opening quote),
 * escapes passed over, 8 bytes at a time; NULL when it does not close before end. */
static inline const char *
string_close(const char *p, const char *end)
{
    while (p < end) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (end - p >= 8) {
            const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80u;
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
            uint64_t hit = (((quote - ones) & ~quote) | ((slash - ones) & ~slash)) & highs;
            if (hit == 0) {
                p += 8;
                continue;
            }
            p += __builtin_ctzll(hit) / 8; /* the lowest flagged byte is exact, as in stops() */
        }
#endif
        if (*p == '"') {
            return p;
        }
        p += *p == '\\' ? 2 : 1;
    }
    return NULL;
}

/* The end of the JSON value at p, found by matching brackets and skipping strings: past a
 * container's close, or at the ',', ']' or '}' after a scalar; NULL when it does not close
 * before end. It checks no more than that: each part found is read by its own parser. */
static inline const char *
skip_value(const char *p, const char *end)
{
    int depth = 0;
    for (; p < end; p++) {
        char ch = *p;
        if (ch == '"') {
            if ((p = string_close(p + 1, end)) == NULL) {
                return NULL;
            }
        } else if (ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ']' || ch == '}' || (ch == ',' && depth == 0)) {
            if (depth == 0) {
                return p;
            }
            if (--depth == 0) {
                return p + 1;
            }
        }
    }
    return depth == 0 ? p : NULL;
}

/* Whether s[0..n) is UTF-8 as a str's is (no surrogates, no overlong forms). */
static inline int
utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80u                   ? 1u
                     : c >= 0xc2u && c <= 0xdfu ? 2u
                     : c >= 0xe0u && c <= 0xefu ? 3u
                     : c >= 0xf0u && c <= 0xf4u ? 4u
                                                : 0u;
        if (len == 0 || n - i < len) {
            return 0;
        }
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xc0u) != 0x80u) {
                return 0;
            }
        }
        unsigned c1 = len > 1u ? s[i + 1u] : 0x80u;
        if ((c == 0xe0u && c1 < 0xa0u) || (c == 0xedu && c1 >= 0xa0u)
            || (c == 0xf0u && c1 < 0x90u) || (c == 0xf4u && c1 >= 0x90u)) {
            return 0;
        }
        i += len;
    }
    return 1;
}

#define TEXT_ROOM 4096u /* the longest string read_text decodes (one with escapes or not ASCII) */

/* The JSON string at p (its opening quote) as json.dumps(ensure_ascii=False) writes a str:
 * its UTF-8 into *s and *n -- in place when it is plain ASCII, else decoded into `room`
 * (TEXT_ROOM bytes) -- and past its closing quote; NULL for anything else (a raw control
 * character, an escape json.dumps does not write: \/ or \u beyond the control characters,
 * text that is not UTF-8, or more than TEXT_ROOM bytes to decode). */
static inline const char *
read_text(const char *p, const char *end, char *room, const char **s, size_t *n)
{
    if (p == end || *p != '"') {
        return NULL;
    }
    const char *close = string_end(p + 1, end);
    if (close != NULL) {
        *s = p + 1;
        *n = (size_t)(close - p - 1);
        return close + 1;
    }
    size_t out = 0;
    for (p++; p < end && out < TEXT_ROOM; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *s = room;
            *n = out;
            return utf8_valid((const unsigned char *)room, out) ? p + 1 : NULL;
        }
        if (c < 0x20u) {
            return NULL;
        }
        if (c == '\\') {
            if (++p == end) {
                return NULL;
            }
            switch (*p) {
            case '"': case '\\': c = (unsigned char)*p; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': { /* \u00XX: a control character, as json.dumps writes one */
                int hi = end - p > 4 && p[1] == '0' && p[2] == '0' ? hex_value(p[3]) : -1;
                int lo = hi >= 0 && hi < 2 ? hex_value(p[4]) : -1;
                if (lo < 0) {
                    return NULL;
                }
                c = (unsigned char)(hi * 16 + lo);
                p += 4;
                break;
            }
            default:
                return NULL;
            }
        }
        room[out++] = (char)c;
    }
    return NULL;
}

#endif
