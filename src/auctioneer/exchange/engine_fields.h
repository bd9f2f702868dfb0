/*
 * engine_fields.h - an object's named fields read straight from its slots.
 *
 * The batch path reads a few fields of every order of a batch (the decoder's
 * FastOrder, a PlaceOrder): PyObject_GetAttr per field was about as slow as the
 * Python it replaced (the interpreter's own attribute cache specializes slot
 * reads). A field_set learns, for the last type it saw, where each field's slot
 * lies (its member descriptor's offset) and reads it there, until the type changes
 * (its version tag); a field that is not a plain object slot of that type (a
 * property, a subclass's override, a type with no such member, another type's
 * member descriptor) is read by PyObject_GetAttr, as before. Header-only (static
 * inline): engine_batch.c and engine_answer.c each keep their own sets.
 */
#ifndef AUCTIONEER_ENGINE_FIELDS_H
#define AUCTIONEER_ENGINE_FIELDS_H

#include "engine_binding.h"

#include <structmember.h>

#define EB_MAX_FIELDS 10

typedef struct {
    PyTypeObject *type; /* the type learnt (a strong reference), or NULL */
    int n;
    PyObject **names; /* n interned names, set up before the first read */
    Py_ssize_t offset[EB_MAX_FIELDS]; /* each field's slot, or -1: read by getattr */
    int required[EB_MAX_FIELDS];      /* an empty slot raises AttributeError (T_OBJECT_EX) */
    unsigned int version; /* type's tp_version_tag when learnt: a change to the type
                           * (a descriptor set or deleted, __bases__) gives it a new one */
} eb_fields;

/* Whether `d` (found on `type`) is a plain object slot of `type`'s own instances: a member
 * descriptor of `type` or a base (another type's would read foreign memory: CPython's own
 * __get__ refuses it) lying inside the instance. */
static inline int
eb_fields_slot(PyObject *d, PyTypeObject *type)
{
    if (!Py_IS_TYPE(d, &PyMemberDescr_Type) || !PyType_IsSubtype(type, PyDescr_TYPE(d))) {
        return 0;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    return (m->type == T_OBJECT_EX || m->type == T_OBJECT) && !(m->flags & READ_RESTRICTED)
           && m->offset >= (Py_ssize_t)sizeof(PyObject)
           && m->offset <= type->tp_basicsize - (Py_ssize_t)sizeof(PyObject *);
}

/* Where `type`'s fields lie, all committed at once (the lookups can run Python code that
 * reads through f itself): 0, or -1 with an exception. */
static inline int
eb_fields_learn(eb_fields *f, PyTypeObject *type)
{
    Py_ssize_t offset[EB_MAX_FIELDS];
    int required[EB_MAX_FIELDS];
    for (int i = 0; i < f->n; i++) {
        PyObject *d = PyObject_GetAttr((PyObject *)type, f->names[i]);
        if (d == NULL && !PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        offset[i] = -1;
        required[i] = 0;
        /* A __getattribute__ of its own may answer other than the slot. */
        if (d != NULL && type->tp_getattro == PyObject_GenericGetAttr
            && eb_fields_slot(d, type)) {
            PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
            offset[i] = m->offset;
            required[i] = m->type == T_OBJECT_EX;
        }
        Py_XDECREF(d);
    }
    memcpy(f->offset, offset, sizeof offset);
    memcpy(f->required, required, sizeof required);
    /* A type with no valid tag (not cacheable) is learnt again at each read. */
    f->version = PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG) ? type->tp_version_tag
                                                                      : 0;
    Py_XSETREF(f->type, (PyTypeObject *)Py_NewRef(type));
    return 0;
}

/* `obj`'s fields (new references into out, as PyObject_GetAttr gives them): 0, or -1 with
 * an exception (AttributeError for a field it lacks); out is then all NULL. */
static inline int
eb_fields_read(eb_fields *f, PyObject *obj, PyObject **out)
{
    PyTypeObject *type = (PyTypeObject *)Py_NewRef(Py_TYPE(obj));
    if (f->type != type || f->version == 0 || f->version != type->tp_version_tag
        || !PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG)) {
        if (eb_fields_learn(f, type) < 0) {
            Py_DECREF(type);
            return -1;
        }
    }
    /* A copy: a getattr below can run Python code that learns f another type. */
    Py_ssize_t offset[EB_MAX_FIELDS];
    int required[EB_MAX_FIELDS];
    memcpy(offset, f->offset, sizeof offset);
    memcpy(required, f->required, sizeof required);
    /* The learning ran Python code: obj may have had its __class__ changed meanwhile. */
    int slots = f->type == type && Py_TYPE(obj) == type;
    Py_DECREF(type);
    for (int i = 0; i < f->n; i++) {
        if (!slots || offset[i] < 0) {
            out[i] = PyObject_GetAttr(obj, f->names[i]);
        } else {
            PyObject *v = *(PyObject **)((char *)obj + offset[i]);
            out[i] = v != NULL ? Py_NewRef(v) : required[i] ? NULL : Py_NewRef(Py_None);
            if (out[i] == NULL) {
                PyErr_Format(PyExc_AttributeError, "%R has no attribute %U", obj,
                             f->names[i]);
            }
        }
        if (out[i] == NULL) {
            for (int k = 0; k < i; k++) {
                Py_CLEAR(out[k]);
            }
            return -1;
        }
    }
    return 0;
}

#endif
