/*
 * _match.c - the CPython binding of the native matching core (match_core.c):
 * argument checks and conversion only. Bad prices and quantities are refused
 * by calling the Python engine's own check (auctioneer.exchange.state.positive),
 * so the field and message are the reference's; every integer is range-checked
 * here, where it crosses into C, and nothing can wrap.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "binding.h"
#include "match_core.h"

typedef struct {
    PyObject_HEAD
    mc_book book;
    void *memory;
    size_t nbytes;
} BookObject;

static PyObject *positive_check; /* auctioneer.exchange.state.positive */
static PyObject *refusal;        /* auctioneer.exchange.state.Refusal */
static PyObject *price_name, *quantity_name, *price_max, *quantity_max;
static PyObject *spend_name, *money_max;

/* Raise Refusal(field, reason): the reference's refusal, built here. NULL. */
static PyObject *
refuse(const char *field, PyObject *reason)
{
    if (reason != NULL) {
        PyObject *exc = PyObject_CallFunction(refusal, "sO", field, reason);
        Py_DECREF(reason);
        if (exc != NULL) {
            PyErr_SetObject(refusal, exc);
            Py_DECREF(exc);
        }
    }
    return NULL;
}

/* value in 1..limit into *out: 0. Otherwise -1 with the reference's error. */
static int
checked(PyObject *value, PyObject *name, PyObject *limit_obj, int64_t limit, int64_t *out)
{
    if (PyLong_CheckExact(value)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (!overflow && !(v == -1 && PyErr_Occurred()) && v >= 1 && v <= limit) {
            *out = (int64_t)v;
            return 0;
        }
        PyErr_Clear();
    }
    PyObject *args[3] = {value, name, limit_obj};
    return raise_from_check(positive_check, args, 3);
}

static int
order_id(PyObject *obj, uint64_t *out)
{
    if (!fast_u64(obj, out)) {
        PyErr_Format(PyExc_ValueError, "order id %R is not an int in 0..2**64-1", obj);
        return -1;
    }
    return 0;
}

static PyObject *
Book_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"max_orders", "max_levels", "self_trade", "at_ask", NULL};
    PyObject *orders_obj, *levels_obj;
    int self_trade = MC_CANCEL_NEWEST, at_ask = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|ip", names, &orders_obj, &levels_obj,
                                     &self_trade, &at_ask)) {
        return NULL;
    }
    uint32_t max_orders, max_levels;
    size_t nbytes = 0;
    if (fast_u32(orders_obj, &max_orders) && fast_u32(levels_obj, &max_levels)) {
        nbytes = mc_bytes(max_orders, max_levels);
    }
    if (nbytes == 0) {
        PyErr_Format(PyExc_ValueError, "max_orders %R and max_levels %R must be ints in "
                     "1..%u", orders_obj, levels_obj, (unsigned)MC_MAX_ORDERS);
        return NULL;
    }
    if (self_trade < MC_CANCEL_NEWEST || self_trade > MC_CANCEL_BOTH) {
        PyErr_Format(PyExc_ValueError, "self_trade %d is not 0, 1 or 2", self_trade);
        return NULL;
    }
    BookObject *self = (BookObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->memory = PyMem_Malloc(nbytes);
    if (self->memory == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->nbytes = nbytes;
    mc_init(&self->book, self->memory, max_orders, max_levels, self_trade, at_ask);
    return (PyObject *)self;
}

static void
Book_dealloc(BookObject *self)
{
    PyMem_Free(self->memory);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
status_error(int status, uint64_t id)
{
    if (status == MC_E_DUPLICATE) {
        PyErr_Format(PyExc_ValueError, "order %llu is already open", (unsigned long long)id);
    } else if (status == MC_E_FULL) {
        PyErr_SetString(PyExc_MemoryError, "the native book is full: size it for more "
                        "orders or levels");
    } else {
        PyErr_Format(PyExc_KeyError, "order %llu is not open", (unsigned long long)id);
    }
    return NULL;
}

/* The arguments every order shares: its id, account and side. 0, or -1 with an error. */
static int
party(PyObject *const *args, uint64_t *id, uint32_t *account, int *buy)
{
    if (order_id(args[0], id) < 0) {
        return -1;
    }
    if (!fast_u32(args[1], account)) {
        PyErr_Format(PyExc_ValueError, "account %R is not an int in 0..2**32-1", args[1]);
        return -1;
    }
    if (!PyBool_Check(args[2])) {
        PyErr_Format(PyExc_TypeError, "buy %R is not true or false", args[2]);
        return -1;
    }
    *buy = args[2] == Py_True;
    return 0;
}

/* The quantity the last command's trades filled, as an int. */
static PyObject *
filled(const mc_book *book)
{
    int64_t total = 0;
    for (uint32_t i = 0; i < book->n_events; i++) {
        if (book->events[i].kind == MC_TRADED) {
            total += book->events[i].quantity;
        }
    }
    return PyLong_FromLongLong(total);
}

/* place(order_id, account, buy, price, quantity, tif) -> filled quantity */
static PyObject *
Book_place(BookObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    self->book.n_events = 0; /* a refused command has no events */
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "place(order_id, account, buy, price, quantity, tif)");
        return NULL;
    }
    uint64_t id;
    uint32_t account, tif;
    int64_t price, quantity;
    int buy;
    if (party(args, &id, &account, &buy) < 0) {
        return NULL;
    }
    if (checked(args[3], price_name, price_max, MC_PRICE_MAX, &price) < 0
        || checked(args[4], quantity_name, quantity_max, MC_QUANTITY_MAX, &quantity) < 0) {
        return NULL;
    }
    if (!fast_u32(args[5], &tif) || tif > MC_FOK) {
        PyErr_Format(PyExc_ValueError, "tif %R is not 0 (gtc), 1 (ioc) or 2 (fok)", args[5]);
        return NULL;
    }
    int status = mc_place(&self->book, id, account, buy, price, quantity, (int)tif);
    if (status != MC_OK) {
        return status_error(status, id);
    }
    return filled(&self->book);
}

/* place_market(order_id, account, buy, quantity, max_spend, tif) -> filled quantity;
 * the checks, in the engine's order, for what a market order has of its own. */
static PyObject *
Book_place_market(BookObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    self->book.n_events = 0; /* a refused command has no events */
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "place_market(order_id, account, buy, quantity, max_spend, tif)");
        return NULL;
    }
    uint64_t id;
    uint32_t account, tif;
    int64_t quantity, budget = -1;
    int buy;
    if (party(args, &id, &account, &buy) < 0) {
        return NULL;
    }
    if (checked(args[3], quantity_name, quantity_max, MC_QUANTITY_MAX, &quantity) < 0) {
        return NULL;
    }
    if (buy) {
        if (args[4] == Py_None) {
            return refuse("max_spend", PyUnicode_FromString(
                "a market buy gives max_spend, the most it pays in all"));
        }
        if (checked(args[4], spend_name, money_max, INT64_MAX, &budget) < 0) {
            return NULL;
        }
    } else if (args[4] != Py_None) {
        return refuse("max_spend", PyUnicode_FromFormat(
            "%R: a market sell takes any price and gives no max_spend", args[4]));
    }
    if (!fast_u32(args[5], &tif) || tif > MC_FOK) {
        PyErr_Format(PyExc_ValueError, "tif %R is not 0 (gtc), 1 (ioc) or 2 (fok)", args[5]);
        return NULL;
    }
    if (tif == MC_GTC) {
        return refuse("tif", PyUnicode_FromString("a market order is ioc or fok, not gtc"));
    }
    int status = mc_place_market(&self->book, id, account, buy, quantity, budget, (int)tif);
    if (status == MC_E_UNFILLABLE) {
        if (buy) {
            return refuse("quantity", PyUnicode_FromFormat(
                "only %lld of %lld can fill now within max_spend %lld",
                (long long)self->book.fillable, (long long)quantity, (long long)budget));
        }
        return refuse("quantity", PyUnicode_FromFormat("only %lld of %lld can fill now",
                                                       (long long)self->book.fillable,
                                                       (long long)quantity));
    }
    if (status != MC_OK) {
        return status_error(status, id);
    }
    return filled(&self->book);
}

/* modify(order_id, price, quantity) -> None; None keeps the price or the open quantity. */
static PyObject *
Book_modify(BookObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    self->book.n_events = 0; /* a refused command has no events */
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "modify(order_id, price, quantity)");
        return NULL;
    }
    uint64_t id;
    if (order_id(args[0], &id) < 0) {
        return NULL;
    }
    const mc_order *order = mc_find(&self->book, id);
    if (order == NULL) {
        return status_error(MC_E_UNKNOWN, id);
    }
    if (args[1] == Py_None && args[2] == Py_None) {
        return refuse("price", PyUnicode_FromString("give a new price, a new quantity or both"));
    }
    int64_t price = order->price, quantity = order->remaining;
    if ((args[1] != Py_None
         && checked(args[1], price_name, price_max, MC_PRICE_MAX, &price) < 0)
        || (args[2] != Py_None
            && checked(args[2], quantity_name, quantity_max, MC_QUANTITY_MAX, &quantity) < 0)) {
        return NULL;
    }
    int status = mc_modify(&self->book, id, price, quantity);
    if (status != MC_OK) {
        return status_error(status, id);
    }
    Py_RETURN_NONE;
}

static PyObject *
Book_cancel(BookObject *self, PyObject *arg)
{
    self->book.n_events = 0; /* a refused command has no events */
    uint64_t id;
    if (order_id(arg, &id) < 0) {
        return NULL;
    }
    int status = mc_cancel(&self->book, id);
    if (status != MC_OK) {
        return status_error(status, id);
    }
    return PyLong_FromLongLong(self->book.events[0].quantity);
}

static PyObject *
Book_events(BookObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *out = PyList_New(self->book.n_events);
    if (out == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < self->book.n_events; i++) {
        const mc_event *e = &self->book.events[i];
        PyObject *item = Py_BuildValue("(iiOKKIILLK)", e->kind, e->reason,
                                       e->buy ? Py_True : Py_False,
                                       (unsigned long long)e->order,
                                       (unsigned long long)e->taker, e->account,
                                       e->taker_account, (long long)e->price,
                                       (long long)e->quantity,
                                       (unsigned long long)e->trade_id);
        if (item == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, item);
    }
    return out;
}

static PyObject *
Book_depth(BookObject *self, PyObject *args)
{
    int buy;
    PyObject *limit_obj;
    uint32_t limit;
    if (!PyArg_ParseTuple(args, "pO", &buy, &limit_obj)) {
        return NULL;
    }
    if (!fast_u32(limit_obj, &limit)) {
        PyErr_Format(PyExc_ValueError, "limit %R is not an int in 0..2**32-1", limit_obj);
        return NULL;
    }
    const mc_side *side = buy ? &self->book.bids : &self->book.asks;
    if (limit > side->count) {
        limit = side->count;
    }
    mc_level *levels = PyMem_Malloc(((size_t)limit + 1u) * sizeof(mc_level));
    if (levels == NULL) {
        return PyErr_NoMemory();
    }
    uint32_t n = mc_depth(&self->book, buy, levels, limit);
    PyObject *out = PyList_New(n);
    for (uint32_t i = 0; out != NULL && i < n; i++) {
        PyObject *item = Py_BuildValue("(LLI)", (long long)levels[i].price,
                                       (long long)levels[i].quantity, levels[i].count);
        if (item == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, item);
    }
    PyMem_Free(levels);
    return out;
}

static PyObject *
Book_get_open(BookObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(self->book.open);
}

static PyObject *
Book_get_nbytes(BookObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->nbytes + sizeof(BookObject));
}

static PyMethodDef Book_methods[] = {
    {"place", (PyCFunction)(void (*)(void))Book_place, METH_FASTCALL,
     "place(order_id, account, buy, price, quantity, tif) -> filled: match a limit order."},
    {"place_market", (PyCFunction)(void (*)(void))Book_place_market, METH_FASTCALL,
     "place_market(order_id, account, buy, quantity, max_spend, tif) -> filled."},
    {"modify", (PyCFunction)(void (*)(void))Book_modify, METH_FASTCALL,
     "modify(order_id, price, quantity): None keeps the price or the open quantity."},
    {"cancel", (PyCFunction)Book_cancel, METH_O, "cancel(order_id) -> open quantity cancelled."},
    {"events", (PyCFunction)Book_events, METH_NOARGS, "The last command's events as tuples."},
    {"depth", (PyCFunction)Book_depth, METH_VARARGS,
     "depth(buy, limit) -> [(price, quantity, orders)], best first."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Book_getset[] = {
    {"open", (getter)Book_get_open, NULL, "Open (resting) orders.", NULL},
    {"nbytes", (getter)Book_get_nbytes, NULL, "Bytes held, all allocated up front.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject BookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "auctioneer.exchange._match.Book",
    .tp_basicsize = sizeof(BookObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One market's native book: Book(max_orders, max_levels, self_trade=0, "
              "at_ask=True).",
    .tp_new = Book_new,
    .tp_dealloc = (destructor)Book_dealloc,
    .tp_methods = Book_methods,
    .tp_getset = Book_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_match", "The exchange's native matching core.", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__match(void)
{
    if (PyType_Ready(&BookType) < 0) {
        return NULL;
    }
    positive_check = import_attr("auctioneer.exchange.state", "positive");
    refusal = import_attr("auctioneer.exchange.state", "Refusal");
    spend_name = PyUnicode_InternFromString("max_spend");
    money_max = PyLong_FromLongLong(INT64_MAX);
    price_name = PyUnicode_InternFromString("price");
    quantity_name = PyUnicode_InternFromString("quantity");
    price_max = PyLong_FromLongLong(MC_PRICE_MAX);
    quantity_max = PyLong_FromLongLong(MC_QUANTITY_MAX);
    if (positive_check == NULL || refusal == NULL || spend_name == NULL || money_max == NULL
        || price_name == NULL || quantity_name == NULL
        || price_max == NULL || quantity_max == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&BookType);
    if (PyModule_AddObject(m, "Book", (PyObject *)&BookType) < 0 || add_sanitized(m) < 0) {
        Py_DECREF(&BookType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
