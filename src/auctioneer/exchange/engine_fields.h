/*
 * engine_fields.h - an object's named fields read straight from its slots.
 *
 * The batch path reads a few fields of every order of a batch (the decoder's
 * FastOrder, a PlaceOrder): PyObject_GetAttr per field was about as slow as the
 * Python it replaced (the interpreter's own attribute cache specializes slot
 * reads). A field_set learns, for the last type it saw, where each field's slot
 * lies (its member descriptor's offset) and reads it there; a field that is not a
 * plain object slot of that type (a property, a subclass's override, a type with
 * no such member) is read by PyObject_GetAttr, as before. Header-only (static
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
} eb_fields;

/* Where `type`'s fields lie: 0, or -1 with an exception. */
static inline int
eb_fields_learn(eb_fields *f, PyTypeObject *type)
{
    for (int i = 0; i < f->n; i++) {
        PyObject *d = PyObject_GetAttr((PyObject *)type, f->names[i]);
        if (d == NULL && !PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        f->offset[i] = -1;
        if (d != NULL && Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
            if ((m->type == T_OBJECT_EX || m->type == T_OBJECT) && !(m->flags & READ_RESTRICTED)) {
                f->offset[i] = m->offset;
                f->required[i] = m->type == T_OBJECT_EX;
            }
        }
        Py_XDECREF(d);
    }
    Py_XSETREF(f->type, (PyTypeObject *)Py_NewRef(type));
    return 0;
}

/* `obj`'s fields (new references into out, as PyObject_GetAttr gives them): 0, or -1 with
 * an exception (AttributeError for a field it lacks); out is then all NULL. */
static inline int
eb_fields_read(eb_fields *f, PyObject *obj, PyObject **out)
{
    if (f->type != Py_TYPE(obj) && eb_fields_learn(f, Py_TYPE(obj)) < 0) {
        return -1;
    }
    for (int i = 0; i < f->n; i++) {
        if (f->offset[i] < 0) {
            out[i] = PyObject_GetAttr(obj, f->names[i]);
        } else {
            PyObject *v = *(PyObject **)((char *)obj + f->offset[i]);
            out[i] = v != NULL ? Py_NewRef(v) : f->required[i] ? NULL : Py_NewRef(Py_None);
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
