/*
 * engine_crc.c - a journal record's frame, checked in C: the CRC-32 (zlib's
 * polynomial, reflection and conditioning; carry-less multiplication folding
 * where the CPU has it, slice-by-8 tables elsewhere and for the tail) and the
 * whole-record check replay and the reader's scan share (journal.py's header:
 * payload length, CRC-32 of the sequence number then the payload, sequence
 * number, little-endian). Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <string.h>

#define MAX_RECORD (UINT32_C(1) << 24)

/* Slice-by-8: crc_table[k][b] is the CRC of byte b followed by k zero bytes, so eight
 * bytes fold in with eight independent lookups instead of a chain of eight. */
static uint32_t crc_table[8][256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256u; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? UINT32_C(0xEDB88320) ^ (c >> 1) : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256u; i++) {
        for (int k = 1; k < 8; k++) {
            uint32_t c = crc_table[k - 1][i];
            crc_table[k][i] = crc_table[0][c & 0xffu] ^ (c >> 8);
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Carry-less multiplication folding (Intel, "Fast CRC Computation for Generic Polynomials
 * Using PCLMULQDQ Instruction", 2009), for the CRC-32 polynomial reflected: the constants
 * are x^(4*128+32), x^(4*128-32), x^(128+32), x^(128-32) and x^64 mod P, and the Barrett
 * pair (floor(x^64 / P), P). `crc` is the inner (inverted) state; n >= 64, a multiple of
 * 16. */
static const uint64_t FOLD4[2] = {UINT64_C(0x154442bd4), UINT64_C(0x1c6e41596)};
static const uint64_t FOLD1[2] = {UINT64_C(0x1751997d0), UINT64_C(0x0ccaa009e)};
static const uint64_t FOLD_64 = UINT64_C(0x163cd6124);
static const uint64_t BARRETT[2] = {UINT64_C(0x1db710641), UINT64_C(0x1f7011641)};

__attribute__((target("pclmul,sse4.1"))) static inline __m128i
fold(__m128i x, __m128i k, __m128i data)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)),
                         data);
}

__attribute__((target("pclmul,sse4.1"))) static uint32_t
crc32_clmul(uint32_t crc, const unsigned char *p, size_t n)
{
    const __m128i *in = (const __m128i *)(const void *)p;
    __m128i x1 = _mm_xor_si128(_mm_loadu_si128(in), _mm_cvtsi32_si128((int)crc));
    __m128i x2 = _mm_loadu_si128(in + 1), x3 = _mm_loadu_si128(in + 2);
    __m128i x4 = _mm_loadu_si128(in + 3);
    __m128i k = _mm_set_epi64x((long long)FOLD4[1], (long long)FOLD4[0]);
    for (in += 4, n -= 64; n >= 64; in += 4, n -= 64) {
        x1 = fold(x1, k, _mm_loadu_si128(in));
        x2 = fold(x2, k, _mm_loadu_si128(in + 1));
        x3 = fold(x3, k, _mm_loadu_si128(in + 2));
        x4 = fold(x4, k, _mm_loadu_si128(in + 3));
    }
    k = _mm_set_epi64x((long long)FOLD1[1], (long long)FOLD1[0]);
    x1 = fold(fold(fold(x1, k, x2), k, x3), k, x4);
    for (; n >= 16; in++, n -= 16) {
        x1 = fold(x1, k, _mm_loadu_si128(in));
    }
    /* 128 bits to 64 (appending 32 zero bits), then to 32 */
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(k, x1, 0x01));
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 4),
                       _mm_clmulepi64_si128(_mm_and_si128(x1, low32),
                                            _mm_set_epi64x(0, (long long)FOLD_64), 0x00));
    k = _mm_set_epi64x((long long)BARRETT[1], (long long)BARRETT[0]);
    __m128i t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k, 0x10), low32);
    x1 = _mm_xor_si128(x1, _mm_clmulepi64_si128(t, k, 0x00));
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int
has_clmul(void)
{
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    }
    return known;
}
#endif

/* zlib.crc32(data, crc): the same polynomial, reflection and conditioning. */
uint32_t
eb_crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    if (crc_table[0][1] == 0) {
        crc_init();
    }
    crc = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
    if (n >= 64 && has_clmul()) {
        size_t whole = n & ~(size_t)15u;
        crc = crc32_clmul(crc, p, whole);
        p += whole;
        n -= whole;
    }
#endif
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
                             | (uint32_t)p[3] << 24);
        crc = crc_table[7][lo & 0xffu] ^ crc_table[6][(lo >> 8) & 0xffu]
              ^ crc_table[5][(lo >> 16) & 0xffu] ^ crc_table[4][lo >> 24]
              ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]]
              ^ crc_table[0][p[7]];
    }
    while (n--) {
        crc = crc_table[0][(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    }
    return ~crc;
}

/* crc32(data, crc) -> int: zlib.crc32's value, from the replay's own code (for its test). */
PyObject *
eb_crc32(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer buf;
    unsigned int crc;
    if (!PyArg_ParseTuple(args, "y*I", &buf, &crc)) {
        return NULL;
    }
    uint32_t out = eb_crc32_update(crc, buf.buf, (size_t)buf.len);
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong(out);
}

/* The little-endian int of n bytes (4 or 8) at p. */
static inline uint64_t
le(const unsigned char *p, int n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
#endif
}

/* The checksum of the record at `head` with a payload of n bytes: the sequence number and
 * the payload follow each other there, so one pass covers both (whole 16-byte blocks fold
 * by carry-less multiplication, not the sequence number alone by table). */
static uint32_t
record_crc(const unsigned char *head, uint32_t n)
{
    return eb_crc32_update(0, head + 8, 8u + (size_t)n);
}

/* The record at data[pos..) when it is whole, its checksum holds and its sequence number
 * is `next` (any when next is 0): its payload length and sequence number, 1; else 0. */
int
eb_whole_record(const unsigned char *data, Py_ssize_t size, Py_ssize_t pos, uint64_t next,
             uint32_t *length, uint64_t *seq)
{
    if (pos < 0 || size - pos < (Py_ssize_t)EB_RECORD_HEADER) {
        return 0;
    }
    const unsigned char *head = data + pos;
    uint32_t n = (uint32_t)le(head, 4), crc = (uint32_t)le(head + 4, 4);
    uint64_t s = le(head + 8, 8);
    if (n > MAX_RECORD || (Py_ssize_t)n > size - pos - (Py_ssize_t)EB_RECORD_HEADER
        || (next != 0 && s != next)
        || record_crc(head, n) != crc) {
        return 0;
    }
    *length = n;
    *seq = s;
    return 1;
}

/* Write the header of the record at `record` whose payload of `length` bytes follows it
 * and whose sequence number is `seq`: what eb_whole_record checks. */
void
eb_frame_record(unsigned char *record, uint32_t length, uint64_t seq)
{
    for (int k = 0; k < 8; k++) {
        record[8 + k] = (unsigned char)(seq >> (8 * k));
    }
    uint32_t crc = record_crc(record, length);
    for (int k = 0; k < 4; k++) {
        record[k] = (unsigned char)(length >> (8 * k));
        record[4 + k] = (unsigned char)(crc >> (8 * k));
    }
}

/* scan(data, pos, previous, upto) -> (pos, previous): pass over the whole records from
 * offset pos on whose checksums hold, each numbered one after the one before (the first
 * after `previous`, any when previous is -1) and none past `upto`: where it stopped, and
 * the last number passed (`previous` when none). The journal's own checks, in C, for the
 * records a reader skips. */
PyObject *
eb_scan(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer buf;
    Py_ssize_t pos;
    long long previous;
    unsigned long long upto;
    if (!PyArg_ParseTuple(args, "y*nLK", &buf, &pos, &previous, &upto)) {
        return NULL;
    }
    uint32_t length;
    uint64_t seq;
    while (eb_whole_record(buf.buf, buf.len, pos, previous < 0 ? 0 : (uint64_t)previous + 1u,
                        &length, &seq)
           && seq <= upto && seq <= (uint64_t)INT64_MAX) {
        pos += (Py_ssize_t)(EB_RECORD_HEADER + length);
        previous = (long long)seq;
    }
    PyBuffer_Release(&buf);
    return Py_BuildValue("nL", pos, previous);
}
