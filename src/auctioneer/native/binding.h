/*
 * binding.h - CPython glue shared by the bindings _core.c, _ring.c and
 * gpu/_gpu.c. Private and header-only: every function is static inline,
 * so each extension gets its own copy and nothing is exported.
 *
 * Include after <Python.h> (with PY_SSIZE_T_CLEAN defined).
 */
#ifndef AUCTIONEER_BINDING_H
#define AUCTIONEER_BINDING_H

#include <stdint.h>

/* An exact int in 0..UINT32_MAX into *out: 1. Anything else: 0, no error. */
static inline int
fast_u32(PyObject *obj, uint32_t *out)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact((PyLongObject *)obj)) {
        Py_ssize_t v = PyUnstable_Long_CompactValue((PyLongObject *)obj);
        if (v < 0 || (uint64_t)v > UINT32_MAX) {
            return 0;
        }
        *out = (uint32_t)v;
        return 1;
    }
#elif PY_VERSION_HEX >= 0x030B0000 && PyLong_SHIFT == 30
    {
        Py_ssize_t size = Py_SIZE(obj);
        const digit *d = ((PyLongObject *)obj)->ob_digit;
        if (size == 0) {
            *out = 0;
            return 1;
        }
        if (size == 1) {
            *out = (uint32_t)d[0];
            return 1;
        }
        if (size == 2) {
            uint64_t v = (uint64_t)d[0] | ((uint64_t)d[1] << PyLong_SHIFT);
            if (v > UINT32_MAX) {
                return 0;
            }
            *out = (uint32_t)v;
            return 1;
        }
        if (size < 0) {
            return 0;
        }
    }
#endif
    unsigned long long v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (v > UINT32_MAX) {
        return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

/* An exact int in 0..UINT64_MAX into *out: 1. Anything else: 0, no error. */
static inline int
fast_u64(PyObject *obj, uint64_t *out)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

/* Call a Python check that must raise for `args` (a fast path refused them);
 * -1 with its exception. The reference's checks raise the user's error, so the
 * binding's messages are exactly the reference's. */
static inline int
raise_from_check(PyObject *fn, PyObject *const *args, size_t nargs)
{
    PyObject *res = PyObject_Vectorcall(fn, args, nargs, NULL);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    PyErr_Format(PyExc_SystemError, "%R accepted a value the native binding rejects", fn);
    return -1;
}

/* module.name, a new reference; NULL with an exception. */
static inline PyObject *
import_attr(const char *module, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module);
    if (mod == NULL) {
        return NULL;
    }
    PyObject *attr = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return attr;
}

/* Sets m.SANITIZED: it lets a sanitizer run prove it is not testing a stale,
 * uninstrumented build. 0, or -1 with an exception. */
static inline int
add_sanitized(PyObject *m)
{
#ifdef AUCTIONEER_SANITIZED
    const long sanitized = 1;
#else
    const long sanitized = 0;
#endif
    return PyModule_AddIntConstant(m, "SANITIZED", sanitized);
}

#endif /* AUCTIONEER_BINDING_H */
