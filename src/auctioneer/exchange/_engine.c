/*
 * _engine.c - the CPython binding of the native exchange engine (engine_core.c):
 * it takes the command objects themselves and returns the reference's event
 * objects, so auctioneer.exchange.native.NativeExchange can stand behind the
 * Exchange interface.
 *
 * Core.apply(command) returns the command's events; its refusal, the
 * reference's Rejected event (engine_refuse.c formats the reference's own
 * message templates); or None when the native engine does not take it -- an
 * unsupported shape (a cross-market or all-or-none order once its checks pass,
 * a new account or market, a str subclass for an id): nothing has changed then, and the caller
 * moves the state to the reference engine, which applies it. Every integer is
 * range-checked here, where it crosses into C, and refused as the reference
 * refuses it when it is not an exact int in its field's range.
 *
 * Order ids: each order the core accepts gets a number, and a C table maps
 * its id back (engine_names.c); the engine's used-id set is filled from it
 * when the state is dumped. Prices publish through the reference's own
 * PriceIndex objects, and trades are recorded in their pending arrays and the
 * markets' trade tapes -- as they happen, or for a replay, which builds no
 * objects, before anything reads them (engine_tape.c) -- so those stay the
 * reference's state.
 */
#include "engine_binding.h"

/* What the module looks up once: command and event classes, enum members, names. */
PyTypeObject *T_place, *T_market, *T_cancel, *T_modify, *T_deposit, *T_withdraw,
    *T_add, *T_remove, *T_tick;
PyTypeObject *E_accepted, *E_traded, *E_rested, *E_cancelled, *E_modified,
    *E_published;
PyObject *BUY, *SELL, *GTC, *IOC, *FOK;
PyObject *W_buy, *W_sell, *W_tif[MC_FOK + 1];
PyObject *REASONS[MC_R_AON + 1];
PyObject *K_place, *K_market, *K_cancel, *K_modify, *K_deposit, *K_withdraw, *K_add,
    *K_remove, *K_tick, *EMPTY;
PyObject *A_order_id, *A_account, *A_side, *A_markets, *A_price, *A_quantity, *A_tif,
    *A_aon, *A_post_only, *A_ts, *A_max_spend, *A_amount, *A_market, *A_publish, *A_append,
    *A_frombytes;

PyObject *FALLBACK; /* Py_None: what apply returns for the reference to take */

static PyMethodDef Core_methods[] = {
    {"apply", (PyCFunction)Core_apply, METH_O,
     "The command's events, or None when the reference engine must take it."},
    {"apply_many", (PyCFunction)Core_apply_many, METH_VARARGS,
     "The events of each command in turn, up to the first the reference must take."},
    {"replay", (PyCFunction)Core_replay, METH_VARARGS,
     "replay(data, pos, last_seq) -> (pos, last_seq): apply the journal records it takes."},
    {"reserve", (PyCFunction)Core_reserve, METH_O,
     "reserve(orders): room for that many more orders' ids and trades, made now."},
    {"list_market", (PyCFunction)Core_list_market, METH_VARARGS,
     "list_market(kind, id, tick, at_ask, rule, orders, levels, index, tape, ts): its events"},
    {"open_account", (PyCFunction)Core_open_account, METH_VARARGS,
     "open_account(kind, account, role, ts): the events of a new account (checked)"},
    {"load_account", (PyCFunction)Core_load_account, METH_VARARGS, NULL},
    {"load_capacity", (PyCFunction)Core_load_capacity, METH_VARARGS, NULL},
    {"load_holding", (PyCFunction)Core_load_holding, METH_VARARGS, NULL},
    {"load_order", (PyCFunction)Core_load_order, METH_VARARGS, NULL},
    {"load_counters", (PyCFunction)Core_load_counters, METH_VARARGS, NULL},
    {"dump", (PyCFunction)Core_dump, METH_VARARGS,
     "dump(orders=True): the state as tuples (orders empty without `orders`)"},
    {"restore", (PyCFunction)Core_restore, METH_VARARGS,
     "restore(data, orders, used) -> used ids, or None: a snapshot's orders and used ids"},
    {"snapshot_parts", (PyCFunction)Core_snapshot_parts, METH_O,
     "snapshot_parts(roles) -> {key: JSON bytes or int} of the snapshot's growing parts, or None"},
    {"check", (PyCFunction)Core_check, METH_VARARGS,
     "check(full=True) -> None when the invariants hold, else what does not."},
    {"account", (PyCFunction)Core_account, METH_O, "account(number) -> (balance, reserved)"},
    {"depth", (PyCFunction)Core_depth, METH_VARARGS,
     "depth(market, buy, limit) -> [(price, quantity, orders)], best first"},
    {NULL, NULL, 0, NULL},
};

static PyObject *
Core_get_dirty(CoreObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->dirty);
}

static int
Core_set_dirty(CoreObject *self, PyObject *value, void *closure)
{
    (void)closure;
    int truth = value == NULL ? -1 : PyObject_IsTrue(value);
    if (truth < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "dirty cannot be deleted");
        }
        return -1;
    }
    self->dirty = truth;
    return 0;
}

static PyGetSetDef Core_getset[] = {
    {"dirty", (getter)Core_get_dirty, (setter)Core_set_dirty,
     "Whether a command changed the state since this was last set False.", NULL},
    {"nbytes", (getter)Core_get_nbytes, NULL, "Bytes the engine holds.", NULL},
    {"open", (getter)Core_get_open, NULL, "Open orders.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "auctioneer.exchange._engine.Core",
    .tp_basicsize = sizeof(CoreObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The native exchange engine over a loaded state: "
              "Core(markets, accounts, used).",
    .tp_new = Core_new,
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_traverse = (traverseproc)Core_traverse,
    .tp_clear = (inquiry)Core_clear,
    .tp_methods = Core_methods,
    .tp_getset = Core_getset,
};

/* ------------------------------------------------------------------ Gate */

/* Gate(fallback): a callable taking one command, which it applies in its `core` (while one
 * is set) and otherwise, or when the core hands it back, passes to `fallback`. An exchange
 * keeps one as its instance's `apply`, so an order the core takes crosses into C with no
 * Python frame on the way. */
typedef struct {
    PyObject_HEAD
    PyObject *core;     /* a Core, or None */
    PyObject *fallback;
    vectorcallfunc vectorcall;
} GateObject;

static PyObject *
Gate_vectorcall(GateObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) == 1 && kwnames == NULL && self->core != Py_None) {
        PyObject *core = ref(self->core); /* the command may run Python that resets it */
        PyObject *events = Core_apply((CoreObject *)core, args[0]);
        Py_DECREF(core);
        if (events != FALLBACK) {
            return events;
        }
        Py_DECREF(events);
    }
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

static PyObject *
Gate_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fallback", NULL};
    PyObject *fallback;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O", kwlist, &fallback)) {
        return NULL;
    }
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "fallback is not callable");
        return NULL;
    }
    GateObject *self = (GateObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->core = ref(Py_None);
    self->fallback = ref(fallback);
    self->vectorcall = (vectorcallfunc)Gate_vectorcall;
    return (PyObject *)self;
}

static int
Gate_traverse(GateObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->core);
    Py_VISIT(self->fallback);
    return 0;
}

static int
Gate_clear(GateObject *self)
{
    Py_CLEAR(self->core);
    Py_CLEAR(self->fallback);
    return 0;
}

static void
Gate_dealloc(GateObject *self)
{
    PyObject_GC_UnTrack(self);
    Gate_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Gate_get_core(GateObject *self, void *closure)
{
    (void)closure;
    return ref(self->core == NULL ? Py_None : self->core);
}

static int
Gate_set_core(GateObject *self, PyObject *value, void *closure)
{
    (void)closure;
    if (value == NULL || (value != Py_None && !Py_IS_TYPE(value, &CoreType))) {
        PyErr_SetString(PyExc_TypeError, "core must be a Core or None");
        return -1;
    }
    Py_XSETREF(self->core, ref(value));
    return 0;
}

static PyGetSetDef Gate_getset[] = {
    {"core", (getter)Gate_get_core, (setter)Gate_set_core, "The Core it applies in, or None.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject GateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "auctioneer.exchange._engine.Gate",
    .tp_basicsize = sizeof(GateObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Gate(fallback): apply(command) in its core while it has one, else fallback.",
    .tp_new = Gate_new,
    .tp_dealloc = (destructor)Gate_dealloc,
    .tp_traverse = (traverseproc)Gate_traverse,
    .tp_clear = (inquiry)Gate_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(GateObject, vectorcall),
    .tp_getset = Gate_getset,
};

/* ---------------------------------------------------------------- module */

static int
lookup(PyObject *module, const char *name, PyObject **out)
{
    *out = PyObject_GetAttrString(module, name);
    return *out == NULL ? -1 : 0;
}

static int
lookup_type(PyObject *module, const char *name, PyTypeObject **out)
{
    PyObject *obj;
    if (lookup(module, name, &obj) < 0) {
        return -1;
    }
    if (!PyType_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s is not a class", name);
        Py_DECREF(obj);
        return -1;
    }
    *out = (PyTypeObject *)obj;
    return 0;
}

/* A member of an enum class: `cls.name`. */
static int
member(PyObject *module, const char *cls, const char *name, PyObject **out)
{
    PyObject *enum_cls;
    if (lookup(module, cls, &enum_cls) < 0) {
        return -1;
    }
    *out = PyObject_GetAttrString(enum_cls, name);
    Py_DECREF(enum_cls);
    return *out == NULL ? -1 : 0;
}

static int
intern(PyObject **out, const char *text)
{
    *out = PyUnicode_InternFromString(text);
    return *out == NULL ? -1 : 0;
}

static int
setup(void)
{
    PyObject *commands = PyImport_ImportModule("auctioneer.exchange.commands");
    PyObject *events = PyImport_ImportModule("auctioneer.exchange.events");
    PyObject *model = PyImport_ImportModule("auctioneer.exchange.model");
    int rc = -1;
    if (commands == NULL || events == NULL || model == NULL) {
        goto done;
    }
    if (lookup_type(commands, "PlaceOrder", &T_place) < 0
        || lookup_type(commands, "MarketOrder", &T_market) < 0
        || lookup_type(commands, "CancelOrder", &T_cancel) < 0
        || lookup_type(commands, "ModifyOrder", &T_modify) < 0
        || lookup_type(commands, "Deposit", &T_deposit) < 0
        || lookup_type(commands, "Withdraw", &T_withdraw) < 0
        || lookup_type(commands, "AddCapacity", &T_add) < 0
        || lookup_type(commands, "RemoveCapacity", &T_remove) < 0
        || lookup_type(commands, "Tick", &T_tick) < 0
        || lookup_type(events, "Accepted", &E_accepted) < 0
        || lookup_type(events, "Traded", &E_traded) < 0
        || lookup_type(events, "Rested", &E_rested) < 0
        || lookup_type(events, "Cancelled", &E_cancelled) < 0
        || lookup_type(events, "Modified", &E_modified) < 0
        || lookup_type(events, "PricePublished", &E_published) < 0
        || member(model, "Side", "BUY", &BUY) < 0 || member(model, "Side", "SELL", &SELL) < 0
        || member(model, "TimeInForce", "GTC", &GTC) < 0
        || member(model, "TimeInForce", "IOC", &IOC) < 0
        || member(model, "TimeInForce", "FOK", &FOK) < 0
        || intern(&REASONS[MC_R_CANCELLED], "cancelled") < 0
        || intern(&REASONS[MC_R_IOC], "ioc") < 0 || intern(&REASONS[MC_R_FOK], "fok") < 0
        || intern(&REASONS[MC_R_SELF_TRADE], "self_trade") < 0
        || intern(&REASONS[MC_R_AON], "aon") < 0
        || intern(&K_place, "place_order") < 0 || intern(&K_market, "market_order") < 0
        || intern(&K_cancel, "cancel_order") < 0 || intern(&K_modify, "modify_order") < 0
        || intern(&K_deposit, "deposit") < 0 || intern(&K_withdraw, "withdraw") < 0
        || intern(&K_add, "add_capacity") < 0 || intern(&K_remove, "remove_capacity") < 0
        || intern(&K_tick, "tick") < 0 || intern(&EMPTY, "") < 0
        || intern(&W_buy, "buy") < 0 || intern(&W_sell, "sell") < 0
        || intern(&W_tif[MC_GTC], "gtc") < 0 || intern(&W_tif[MC_IOC], "ioc") < 0
        || intern(&W_tif[MC_FOK], "fok") < 0
        || intern(&A_order_id, "order_id") < 0 || intern(&A_account, "account") < 0
        || intern(&A_side, "side") < 0 || intern(&A_markets, "markets") < 0
        || intern(&A_price, "price") < 0 || intern(&A_quantity, "quantity") < 0
        || intern(&A_tif, "tif") < 0 || intern(&A_aon, "all_or_none") < 0
        || intern(&A_post_only, "post_only") < 0 || intern(&A_ts, "ts_ns") < 0
        || intern(&A_max_spend, "max_spend") < 0 || intern(&A_amount, "amount") < 0
        || intern(&A_market, "market") < 0 || intern(&A_publish, "publish") < 0
        || intern(&A_append, "append") < 0 || intern(&A_frombytes, "frombytes") < 0) {
        goto done;
    }
    FALLBACK = Py_None;
    rc = eb_setup_handlers() < 0 || eb_setup_batch() < 0 || eb_setup_answers() < 0
             ? -1 : eb_setup_refusals();
done:
    Py_XDECREF(commands);
    Py_XDECREF(events);
    Py_XDECREF(model);
    return rc;
}

static PyMethodDef module_methods[] = {
    {"scan", (PyCFunction)eb_scan, METH_VARARGS,
     "scan(data, pos, previous, upto) -> (pos, previous): pass over whole, in-sequence "
     "journal records."},
    {"tapes_json", (PyCFunction)eb_tapes_json, METH_VARARGS,
     "tapes_json(tapes, keys, kind, words) -> bytes, or None: a snapshot's trade tapes"},
    {"spans", (PyCFunction)eb_spans, METH_VARARGS,
     "spans(data, start, end) -> {key: (start, end)} of a compact JSON object, or None"},
    {"id_hash", (PyCFunction)eb_id_hash, METH_O,
     "id_hash(id) -> int: the order-id table's keyed hash of the id's UTF-8."},
    {"crc32", (PyCFunction)eb_crc32, METH_VARARGS,
     "crc32(data, crc) -> int: zlib.crc32(data, crc), as replay computes it."},
    {"place_orders", (PyCFunction)eb_place_orders, METH_VARARGS,
     "place_orders(orders, start, out, account, role, ticks, first_ts) -> (stop, cost): "
     "a batch's orders as admitted PlaceOrders, up to the first it does not take."},
    {"valid_orders", (PyCFunction)eb_valid_orders, METH_O,
     "valid_orders(orders) -> bool: every decoded order holds FastOrder.valid's rules."},
    {"place_records", (PyCFunction)eb_place_records, METH_VARARGS,
     "place_records(commands, start, seq) -> (records, stop): journal records of a run of "
     "PlaceOrders, numbered from seq."},
    {"order_summary", (PyCFunction)eb_order_summary, METH_VARARGS,
     "order_summary(oid, quantity, events) -> dict | None: a place's result, from its "
     "Events."},
    {"batch_answer", (PyCFunction)eb_batch_answer, METH_VARARGS,
     "batch_answer(orders, outcomes) -> bytes | None: a batch's answer body, from its "
     "places' Events."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_engine", "The exchange's native engine.", -1, module_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__engine(void)
{
    if (PyType_Ready(&CoreType) < 0 || PyType_Ready(&GateType) < 0
        || PyType_Ready(&EventsType) < 0 || setup() < 0) {
        return NULL;
    }
    eb_hash_init();
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddType(m, &CoreType) < 0 || PyModule_AddType(m, &GateType) < 0
        || PyModule_AddType(m, &EventsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#ifdef AUCTIONEER_SANITIZED
    if (PyModule_AddIntConstant(m, "SANITIZED", 1) < 0) {
#else
    if (PyModule_AddIntConstant(m, "SANITIZED", 0) < 0) {
#endif
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
