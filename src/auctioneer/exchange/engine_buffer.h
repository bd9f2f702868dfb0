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

static inline void
put(buffer *b, const char *s, size_t n)
{
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* Text known to need no escaping: 1 (room was made for it). */
static inline int
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

/* `v` in decimal (room was made for it): 1. */
static inline int
put_ll(buffer *b, long long v)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%lld", v);
    put(b, digits, (size_t)len);
    return 1;
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
