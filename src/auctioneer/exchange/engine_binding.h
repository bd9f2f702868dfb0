/*
 * engine_binding.h - what the files of the native engine's CPython binding
 * (_engine.c, engine_commands.c, engine_events.c, engine_load.c) share: the
 * Core object, the classes and names looked up once, and small helpers.
 * Private to that binding.
 */
#ifndef AUCTIONEER_ENGINE_BINDING_H
#define AUCTIONEER_ENGINE_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "engine_core.h"


typedef struct {
    PyObject_HEAD
    ec_engine e;
    PyObject *account_ids;   /* list[str], by number */
    PyObject *account_index; /* dict: account id -> number */
    PyObject *market_ids;    /* list[str], by number */
    PyObject *market_index;  /* dict: market id -> number */
    PyObject *market_tuples; /* list[tuple[str]]: an event's markets */
    PyObject *indexes;       /* list[PriceIndex] */
    PyObject *pending;       /* list[list[int]]: each PriceIndex's pending trades */
    PyObject *tapes;         /* list[deque[Traded]] */
    PyObject *used;          /* set[str]: the engine's used order ids */
    PyObject *order_index;   /* dict: open order id -> number */
    PyObject **names;        /* order number -> id (NULL once closed) */
    uint32_t *order_market;
    uint64_t n_names, cap_names;
    int quiet; /* replaying: build no events but trades (for the tape) */
    int dirty; /* a command changed the state since the caller last cleared it */
} CoreObject;

/* What the module looks up once (_engine.c): command and event classes, enum members, names. */
extern PyTypeObject *T_place, *T_market, *T_cancel, *T_modify, *T_deposit, *T_withdraw,
    *T_add, *T_remove, *T_tick;
extern PyTypeObject *E_accepted, *E_traded, *E_rested, *E_cancelled, *E_modified,
    *E_published;
extern PyObject *BUY, *SELL, *GTC, *IOC, *FOK;
extern PyObject *REASONS[4];
extern PyObject *K_place, *K_market, *K_cancel, *K_modify, *K_deposit, *K_withdraw, *K_add,
    *K_remove, *K_tick, *EMPTY;
extern PyObject *A_order_id, *A_account, *A_side, *A_markets, *A_price, *A_quantity, *A_tif,
    *A_aon, *A_post_only, *A_ts, *A_max_spend, *A_amount, *A_market, *A_publish, *A_append;
extern PyObject *FALLBACK; /* Py_None: what apply returns for the reference to take */

static inline PyObject *
ref(PyObject *obj)
{
    Py_INCREF(obj);
    return obj;
}

/* Append `item` to the list `out` (stealing it): 0, or -1 on error. */
static inline int
push(PyObject *out, PyObject *item)
{
    if (item == NULL) {
        return -1;
    }
    int rc = PyList_Append(out, item);
    Py_DECREF(item);
    return rc;
}

/* engine_events.c */
PyObject *eb_accept(CoreObject *self, PyObject *kind, PyObject *refobj, int64_t ts);
int eb_reserve_name(CoreObject *self);
int eb_register_order(CoreObject *self, PyObject *name, uint32_t m);
int eb_translate(CoreObject *self, uint32_t m, uint64_t taker, PyObject *name,
                 PyObject *events);

/* engine_commands.c: a handler per command class the core takes, and the fields it reads */
#define EB_HANDLERS 9
#define EB_MAX_FIELDS 10
typedef struct {
    PyTypeObject **type;
    PyObject **kind; /* its "type" in the journal's JSON */
    PyObject *(*run)(CoreObject *self, PyObject *const *fields, int flag);
    int flag;
    int n;
    PyObject **fields[EB_MAX_FIELDS]; /* attribute names, which are also its JSON keys */
    Py_ssize_t offsets[EB_MAX_FIELDS]; /* where the class's slot holds each field */
} eb_handler;
extern eb_handler eb_handlers[EB_HANDLERS];
int eb_setup_handlers(void);
PyObject *Core_apply(CoreObject *self, PyObject *cmd);
PyObject *Core_apply_many(CoreObject *self, PyObject *args);

/* engine_replay.c */
PyObject *Core_replay(CoreObject *self, PyObject *args);
PyObject *eb_scan(PyObject *module, PyObject *args);
PyObject *eb_crc32(PyObject *module, PyObject *args);

/* engine_check.c */
PyObject *Core_check(CoreObject *self, PyObject *args);

/* engine_load.c */
PyObject *Core_new(PyTypeObject *type, PyObject *args, PyObject *kwds);
int Core_traverse(CoreObject *self, visitproc visit, void *arg);
int Core_clear(CoreObject *self);
void Core_dealloc(CoreObject *self);
PyObject *Core_load_account(CoreObject *self, PyObject *args);
PyObject *Core_load_capacity(CoreObject *self, PyObject *args);
PyObject *Core_load_holding(CoreObject *self, PyObject *args);
PyObject *Core_load_order(CoreObject *self, PyObject *args);
PyObject *Core_load_counters(CoreObject *self, PyObject *args);
PyObject *Core_dump(CoreObject *self, PyObject *args);
PyObject *Core_account(CoreObject *self, PyObject *arg);
PyObject *Core_depth(CoreObject *self, PyObject *args);
PyObject *Core_get_nbytes(CoreObject *self, void *closure);
PyObject *Core_get_open(CoreObject *self, void *closure);

#endif
