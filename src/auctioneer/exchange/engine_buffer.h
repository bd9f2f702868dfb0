/*
 * engine_buffer.h - a growing byte buffer and the JSON pieces the service's batch path
 * writes into it (engine_batch.c's journal records, engine_answer.c's answers): text
 * that needs no escaping, and ints, each written only when JSON writes it plainly, so a
 * caller that is told 0 falls back to its Python reference. Header-only (static inline):
 * each includer's loops inline the writers.
 */
#ifndef AUCTIONEER_ENGINE_BUFFER_H
#define AUCTIONEER_ENGINE_BUFFER_H

#include "engine_binding.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The small writers are inlined whole (GCC kept put_s out of line): a constant text's
 * length is then known where it is written, and its copy is a few moves, not a call. */
#define EB_WRITER static inline __attribute__((always_inline))

typedef struct {
    char *p;
    size_t n, cap;
} buffer;

/* Room for `more` bytes: 0, or -1 (MemoryError). */
static inline int
room(buffer *b, size_t more)
{
    if (more <= b->cap - b->n) {
        return 0;
    }
    size_t cap = (size_t)eb_doubled(b->cap, b->n, more, 4096u, PY_SSIZE_T_MAX);
    char *p = cap == 0 ? NULL : PyMem_Realloc(b->p, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

EB_WRITER void
put(buffer *b, const char *s, size_t n)
{
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* Text known to need no escaping: 1 (room was made for it). */
EB_WRITER int
put_s(buffer *b, const char *s)
{
    put(b, s, strlen(s));
    return 1;
}

/* `str` as a JSON string, when JSON writes it unescaped (an exact str of printable ASCII
 * but '"' and '\\'): 1; else 0, and nothing is written. */
static inline int
put_plain(buffer *b, PyObject *str)
{
    if (!PyUnicode_CheckExact(str) || !PyUnicode_IS_ASCII(str)) {
        return 0;
    }
    const char *s = (const char *)PyUnicode_DATA(str);
    size_t n = (size_t)PyUnicode_GET_LENGTH(str);
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\') {
            return 0;
        }
    }
    put(b, "\"", 1);
    put(b, s, n);
    return put_s(b, "\"");
}

/* `v` in decimal (room was made for it): 1. Two digits a step from a table: snprintf
 * took about a third of a journal record's time. */
EB_WRITER int
put_u64(buffer *b, uint64_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    char digits[20];
    size_t at = sizeof digits;
    while (v >= 100) {
        size_t pair = (size_t)(v % 100) * 2;
        v /= 100;
        digits[--at] = pairs[pair + 1];
        digits[--at] = pairs[pair];
    }
    if (v >= 10) {
        digits[--at] = pairs[v * 2 + 1];
        digits[--at] = pairs[v * 2];
    } else {
        digits[--at] = (char)('0' + v);
    }
    put(b, digits + at, sizeof digits - at);
    return 1;
}

/* `v` in decimal (room was made for it): 1. */
EB_WRITER int
put_ll(buffer *b, long long v)
{
    if (v < 0) {
        put(b, "-", 1);
        return put_u64(b, 0 - (uint64_t)v); /* LLONG_MIN's magnitude too */
    }
    return put_u64(b, (uint64_t)v);
}

/* An exact int within 64 bits, in decimal: 1; else 0 (nothing written). */
static inline int
put_int(buffer *b, PyObject *obj)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return put_ll(b, v);
}

/* Names a module part interns once: 0, or -1 on error. */
typedef struct {
    PyObject **out;
    const char *text;
} eb_name;

static inline int
eb_intern_all(const eb_name *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *names[i].out = PyUnicode_InternFromString(names[i].text);
        if (*names[i].out == NULL) {
            return -1;
        }
    }
    return 0;
}

#endif
