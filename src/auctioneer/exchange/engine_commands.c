/*
 * engine_commands.c - each command the native engine takes: its fields read and
 * checked in the reference engine's order (a refusal is decided here or by the
 * core and built by engine_refuse.c: a list holding one Rejected, the state
 * unchanged and still clean; a shape the core does not take goes to the
 * reference: FALLBACK), the core called, the events built (an Events). Part of
 * the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <string.h>
#include <structmember.h>

/* ------------------------------------------------------------- commands */

/* Each handler takes the command's fields (borrowed, in its table entry's order) and returns
 * its events, its refusal ([Rejected], the reference's: the checks run in the reference's
 * order), FALLBACK (a new reference) when the reference must take it, or NULL on error. The
 * orders' handlers are in engine_orders.c. */

/* The account of a command that names one (c->a): 1; 2 with the refusal in *out; 0 for the
 * reference; -1 on error. */
static int
named_account(CoreObject *self, PyObject *account, eb_ctx *c, PyObject **out)
{
    int found = eb_account_in(self, account, c);
    if (found != 0) {
        return found;
    }
    if (eb_str_subclass(account)) {
        return 0;
    }
    *out = EB_REFUSE(A_account, EC_WHY_NO_ACCOUNT, Py_BuildValue("(O)", account));
    return *out ? 2 : -1;
}

/* Deposit (flag 1), Withdraw (flag 0): an account and an amount. */
static PyObject *
money(CoreObject *self, PyObject *const *f, int deposit)
{
    eb_ctx ctx = EB_CTX(deposit ? K_deposit : K_withdraw), *c = &ctx;
    int64_t amount, ts;
    PyObject *out = NULL;
    c->amount = f[1];
    c->amount_field = A_amount;
    c->ts = f[2];
    int found = named_account(self, f[0], c, &out);
    if (found != 1) {
        return found == 2 ? out : found == 0 ? ref(FALLBACK) : NULL;
    }
    if (!eb_positive_field(c, A_amount, f[1], EC_MONEY_MAX, &amount, &out)) {
        return out;
    }
    if (!eb_int_in(f[2], 0, EC_MONEY_MAX, &ts)) {
        return eb_late_ts(self, c, deposit ? ec_check_deposit(&self->e, amount)
                                        : ec_check_withdraw(&self->e, c->a, amount));
    }
    int status = deposit ? ec_deposit(&self->e, c->a, amount)
                         : ec_withdraw(&self->e, c->a, amount);
    return status == EC_OK ? eb_events(self, c->kind, PyList_GET_ITEM(self->account_ids, c->a),
                                       ts, EB_NO_MARKET, 0, NULL)
                           : eb_not_applied(self, c, status);
}

/* AddCapacity (flag 1), RemoveCapacity (flag 0): an account, a market and a quantity. */
static PyObject *
capacity(CoreObject *self, PyObject *const *f, int add)
{
    eb_ctx ctx = EB_CTX(add ? K_add : K_remove), *c = &ctx;
    uint64_t m;
    int64_t quantity, ts;
    PyObject *out = NULL;
    c->quantity = f[2];
    c->ts = f[3];
    int found = named_account(self, f[0], c, &out);
    if (found != 1) {
        return found == 2 ? out : found == 0 ? ref(FALLBACK) : NULL;
    }
    if (self->e.accounts[c->a].role != EC_PROVIDER) {
        return eb_core_refused(self, c, EC_WHY_NOT_PROVIDER);
    }
    found = eb_market_of(self, f[1], &m);
    if (found <= 0) {
        return found < 0 ? NULL
               : eb_str_subclass(f[1])
                   ? ref(FALLBACK)
                   : EB_REFUSE(A_market, EC_WHY_NO_MARKET, Py_BuildValue("(O)", f[1]));
    }
    c->m = (uint32_t)m;
    int why = eb_positive(f[2], MC_QUANTITY_MAX, &quantity);
    if (why) { /* AddCapacity's bound is what the record may still take (the core's) */
        return add && why == EC_WHY_RANGE
                   ? eb_core_refused(self, c, why)
                   : eb_not_positive(c->kind, A_quantity, why, f[2], MC_QUANTITY_MAX);
    }
    if (!eb_int_in(f[3], 0, EC_MONEY_MAX, &ts)) {
        return eb_late_ts(self, c, add ? ec_check_add(&self->e, c->m, c->a, quantity)
                                    : ec_check_remove(&self->e, c->m, c->a, quantity));
    }
    int status = add ? ec_add_capacity(&self->e, c->m, c->a, quantity)
                     : ec_remove_capacity(&self->e, c->m, c->a, quantity);
    return status == EC_OK ? eb_events(self, c->kind, PyList_GET_ITEM(self->account_ids, c->a),
                                       ts, EB_NO_MARKET, 0, NULL)
                           : eb_not_applied(self, c, status);
}

static PyObject *
tick(CoreObject *self, PyObject *const *f, int flag)
{
    (void)flag;
    eb_ctx ctx = EB_CTX(K_tick), *c = &ctx;
    int64_t ts;
    c->ts = f[0];
    return eb_int_in(f[0], 0, EC_MONEY_MAX, &ts)
               ? eb_events(self, K_tick, EMPTY, ts, EB_NO_MARKET, 0, NULL)
               : eb_late_ts(self, c, EC_WHY_NONE);
}

eb_handler eb_handlers[EB_HANDLERS];

/* Where instances of `type` hold `name`: the offset of its slot (commands are slotted
 * dataclasses, so Core.apply reads a field without a lookup by name); -1 on error. */
static Py_ssize_t
slot_offset(PyTypeObject *type, PyObject *name)
{
    PyObject *descr = PyObject_GetAttr((PyObject *)type, name);
    if (descr == NULL) {
        return -1;
    }
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)
        && ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX) {
        offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    } else {
        PyErr_Format(PyExc_TypeError, "%s.%U is not a slot", type->tp_name, name);
    }
    Py_DECREF(descr);
    return offset;
}

/* Fill the handler table (after the module looked its names up): 0, or -1 on error. */
int
eb_setup_handlers(void)
{
    eb_handler table[EB_HANDLERS] = {
        {&T_place, &K_place, eb_order, 0, 10,
         {&A_order_id, &A_account, &A_side, &A_markets, &A_price, &A_quantity, &A_tif,
          &A_aon, &A_post_only, &A_ts}, {0}},
        {&T_cancel, &K_cancel, eb_open, 0, 3, {&A_order_id, &A_account, &A_ts}, {0}},
        {&T_modify, &K_modify, eb_open, 1, 5,
         {&A_order_id, &A_account, &A_price, &A_quantity, &A_ts}, {0}},
        {&T_market, &K_market, eb_order, 1, 8,
         {&A_order_id, &A_account, &A_side, &A_markets, &A_quantity, &A_max_spend, &A_tif,
          &A_ts}, {0}},
        {&T_deposit, &K_deposit, money, 1, 3, {&A_account, &A_amount, &A_ts}, {0}},
        {&T_withdraw, &K_withdraw, money, 0, 3, {&A_account, &A_amount, &A_ts}, {0}},
        {&T_add, &K_add, capacity, 1, 4, {&A_account, &A_market, &A_quantity, &A_ts}, {0}},
        {&T_remove, &K_remove, capacity, 0, 4, {&A_account, &A_market, &A_quantity, &A_ts},
         {0}},
        {&T_tick, &K_tick, tick, 0, 1, {&A_ts}, {0}},
    };
    for (int h = 0; h < EB_HANDLERS; h++) {
        for (int i = 0; i < table[h].n; i++) {
            table[h].offsets[i] = slot_offset(*table[h].type, *table[h].fields[i]);
            if (table[h].offsets[i] < 0) {
                return -1;
            }
        }
    }
    memcpy(eb_handlers, table, sizeof table);
    return 0;
}

PyObject *
Core_apply(CoreObject *self, PyObject *cmd)
{
    PyTypeObject *type = Py_TYPE(cmd);
    for (int h = 0; h < EB_HANDLERS; h++) {
        const eb_handler *handler = &eb_handlers[h];
        if (type != *handler->type) {
            continue;
        }
        /* borrowed from the command, which the caller holds (and a frozen one at that) */
        PyObject *f[EB_MAX_FIELDS];
        for (int i = 0; i < handler->n; i++) {
            f[i] = *(PyObject **)((char *)cmd + handler->offsets[i]);
            if (f[i] == NULL) { /* an unset slot: the reference raises its AttributeError */
                return ref(FALLBACK);
            }
        }
        PyObject *events = handler->run(self, f, handler->flag);
        if (events != NULL && events != FALLBACK && !PyList_CheckExact(events)) {
            self->dirty = 1;
        }
        return events;
    }
    return ref(FALLBACK);
}

/* apply_many(commands, start): the events of commands[start:], each in turn, up to the
 * first the reference must take (which is left unapplied). */
PyObject *
Core_apply_many(CoreObject *self, PyObject *args)
{
    PyObject *commands;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &commands, &start)) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = start < 0 ? 0 : start; out != NULL && i < PyList_GET_SIZE(commands);
         i++) {
        PyObject *events = Core_apply(self, PyList_GET_ITEM(commands, i));
        if (events == NULL) {
            Py_CLEAR(out);
        } else if (events == FALLBACK) {
            Py_DECREF(events);
            break;
        } else if (push(out, events) < 0) {
            Py_CLEAR(out);
        }
    }
    return out;
}
