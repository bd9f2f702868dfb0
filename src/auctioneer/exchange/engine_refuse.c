/*
 * engine_refuse.c - the native engine's refusals as the reference's Rejected
 * events: the core (or a shape check here) decides why, and the message is
 * formatted here from auctioneer/exchange/refusals.py's REASONS, the one table
 * of templates the reference engine formats too, with the values the state
 * holds (a refusal changes nothing, so they are the values it was refused on).
 * Part of the _engine binding (see _engine.c).
 */
#include "engine_binding.h"

#include <string.h>

PyTypeObject *E_rejected;
static PyObject *formats[EC_WHY_COUNT]; /* REASONS[Why(k)].format, by k */
static PyObject *roles[3];              /* Role values, by enum ec_role */

/* enum ec_why's names, as refusals.Why spells them. */
static const char *const names[EC_WHY_COUNT] = {
    "", "NOT_TEXT", "USED", "NO_ACCOUNT", "ADMIN_TRADES", "NOT_SELLER", "NOT_SIDE",
    "NOT_MARKETS", "NO_MARKET", "SELL_MARKETS", "MARKET_TWICE", "NOT_INT", "RANGE",
    "OFF_TICK", "NOT_TIF", "NOT_BOOL", "POST_ONLY_TIF", "POST_ONLY_TRADES", "COST",
    "NOT_OFFERABLE", "BAD_TS", "NO_SPEND", "SELL_SPEND", "MARKET_TIF", "AVAILABLE",
    "FOK_SHORT", "NOT_OPEN", "FOREIGN", "NO_CHANGE", "MORE_COST", "MORE_CAPACITY",
    "MODIFY_TRADES", "MINTED", "NOT_PROVIDER", "PROVIDED", "NOT_FREE", "EXISTS", "NOT_ROLE",
    "NOT_MARKET", "MARKET_ID", "LISTED", "NOT_EXECUTION", "NOT_SELF_TRADE",
};

int
eb_setup_refusals(void)
{
    PyObject *module = PyImport_ImportModule("auctioneer.exchange.refusals");
    PyObject *events = PyImport_ImportModule("auctioneer.exchange.events");
    PyObject *model = PyImport_ImportModule("auctioneer.exchange.model");
    PyObject *reasons = module ? PyObject_GetAttrString(module, "REASONS") : NULL;
    PyObject *why = module ? PyObject_GetAttrString(module, "Why") : NULL;
    PyObject *role = model ? PyObject_GetAttrString(model, "Role") : NULL;
    int rc = -1;
    if (reasons == NULL || why == NULL || role == NULL || events == NULL) {
        goto done;
    }
    E_rejected = (PyTypeObject *)PyObject_GetAttrString(events, "Rejected");
    if (E_rejected == NULL || PyObject_Size(reasons) != EC_WHY_COUNT - 1) {
        PyErr_SetString(PyExc_ImportError, "refusals.REASONS does not match enum ec_why");
        goto done;
    }
    for (int k = 1; k < EC_WHY_COUNT; k++) {
        PyObject *member = PyObject_CallFunction(why, "i", k);
        PyObject *name = member ? PyObject_GetAttrString(member, "name") : NULL;
        PyObject *text = member ? PyObject_GetItem(reasons, member) : NULL;
        int same = name != NULL && PyUnicode_CompareWithASCIIString(name, names[k]) == 0;
        formats[k] = text && same ? PyObject_GetAttrString(text, "format") : NULL;
        Py_XDECREF(member);
        Py_XDECREF(name);
        Py_XDECREF(text);
        if (formats[k] == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_ImportError, "refusals.Why(%d) is not %s", k, names[k]);
            }
            goto done;
        }
    }
    static const char *const role_names[3] = {"TRADER", "PROVIDER", "ADMIN"};
    for (int r = 0; r < 3; r++) {
        PyObject *member = PyObject_GetAttrString(role, role_names[r]);
        roles[r] = member ? PyObject_GetAttrString(member, "value") : NULL;
        Py_XDECREF(member);
        if (roles[r] == NULL) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(module);
    Py_XDECREF(events);
    Py_XDECREF(model);
    Py_XDECREF(reasons);
    Py_XDECREF(why);
    Py_XDECREF(role);
    return rc;
}

PyObject *
eb_rejected(PyObject *kind, PyObject *field, int why, PyObject *args)
{
    if (args == NULL) {
        return NULL;
    }
    PyObject *reason = PyObject_Call(formats[why], args, NULL);
    Py_DECREF(args);
    if (reason == NULL) {
        return NULL;
    }
    PyObject *event = PyObject_CallFunctionObjArgs((PyObject *)E_rejected, kind, field, reason,
                                                  NULL);
    Py_DECREF(reason);
    return event == NULL ? NULL : Py_BuildValue("[N]", event);
}

PyObject *
eb_not_positive(PyObject *kind, PyObject *field, int why, PyObject *value, int64_t hi)
{
    return why == EC_WHY_NOT_INT ? eb_rejected(kind, field, why, Py_BuildValue("(O)", value))
                                 : eb_rejected(kind, field, why,
                                               Py_BuildValue("(OL)", value, (long long)hi));
}

int
eb_str_subclass(PyObject *key)
{
    return PyUnicode_Check(key) && !PyUnicode_CheckExact(key);
}

PyObject *
eb_late_ts(CoreObject *self, const eb_ctx *c, int why)
{
    return eb_core_refused(self, c, why ? why : EC_WHY_BAD_TS);
}

PyObject *
eb_not_applied(CoreObject *self, const eb_ctx *c, int status)
{
    return status == EC_REFUSED ? eb_core_refused(self, c, self->e.why) : ref(FALLBACK);
}


/* a x b - c x d, as a Python int (it may pass 64 bits). */
static PyObject *
wide_long(int64_t a, int64_t b, int64_t c, int64_t d)
{
    __int128 v = (__int128)a * b - (__int128)c * d;
    if (v >= INT64_MIN && v <= INT64_MAX) {
        return PyLong_FromLongLong((long long)v);
    }
    /* |v| < 2**127: as hi x 10**18 + lo, each part within 64 bits */
    const int64_t base = INT64_C(1000000000000000000);
    PyObject *hi = PyLong_FromLongLong((long long)(v / base));
    PyObject *lo = PyLong_FromLongLong((long long)(v % base));
    PyObject *scale = PyLong_FromLongLong(base);
    PyObject *top = hi && scale ? PyNumber_Multiply(hi, scale) : NULL;
    PyObject *sum = top && lo ? PyNumber_Add(top, lo) : NULL;
    Py_XDECREF(hi);
    Py_XDECREF(lo);
    Py_XDECREF(scale);
    Py_XDECREF(top);
    return sum;
}

PyObject *
eb_core_refused(CoreObject *self, const eb_ctx *c, int why)
{
    const ec_engine *e = &self->e;
    PyObject *account = c->a == UINT32_MAX ? NULL : PyList_GET_ITEM(self->account_ids, c->a);
    PyObject *market = c->m == UINT32_MAX ? NULL : PyList_GET_ITEM(self->market_ids, c->m);
    const mc_order *o = why == EC_WHY_MORE_COST || why == EC_WHY_MORE_CAPACITY
                            ? mc_find(&e->markets[c->m].book, c->n)
                            : NULL;
    int64_t price = o && c->price_value == 0 ? o->price : c->price_value;
    int64_t quantity = o && c->quantity_value == 0 ? o->remaining : c->quantity_value;
    switch (why) {
    case EC_WHY_ADMIN_TRADES:
        return eb_rejected(c->kind, A_account, why, Py_BuildValue("(O)", account));
    case EC_WHY_NOT_SELLER:
        return eb_rejected(c->kind, A_side, why,
                           Py_BuildValue("(OO)", account, roles[e->accounts[c->a].role]));
    case EC_WHY_NOT_PROVIDER:
        return eb_rejected(c->kind, A_account, why,
                           Py_BuildValue("(OO)", account, roles[e->accounts[c->a].role]));
    case EC_WHY_OFF_TICK:
        return eb_rejected(c->kind, A_price, why,
                           Py_BuildValue("(OOL)", c->price, market,
                                         (long long)e->markets[c->m].tick));
    case EC_WHY_COST:
        return eb_rejected(c->kind, A_quantity, why,
                           Py_BuildValue("(OONL)", c->quantity, c->price,
                                         wide_long(price, quantity, 0, 0),
                                         (long long)ec_available(e, c->a)));
    case EC_WHY_NOT_OFFERABLE:
        return eb_rejected(c->kind, A_quantity, why,
                           Py_BuildValue("(OLOO)", c->quantity,
                                         (long long)ec_free_capacity(e, c->m, c->a), account,
                                         market));
    case EC_WHY_AVAILABLE:
        return eb_rejected(c->kind, c->amount_field, why,
                           Py_BuildValue("(OL)", c->amount, (long long)ec_available(e, c->a)));
    case EC_WHY_FOK_SHORT:
        return eb_rejected(
            c->kind, A_quantity, why,
            Py_BuildValue("(LON)", (long long)e->markets[c->m].book.fillable, c->quantity,
                          c->budget > 0 ? PyUnicode_FromFormat(" within max_spend %lld",
                                                               (long long)c->budget)
                                        : ref(EMPTY)));
    case EC_WHY_NOT_OPEN:
        return eb_rejected(c->kind, A_order_id, why, Py_BuildValue("(O)", c->order_id));
    case EC_WHY_FOREIGN:
        return eb_rejected(c->kind, A_account, why, Py_BuildValue("(O)", c->order_id));
    case EC_WHY_MORE_COST:
        return eb_rejected(c->kind, A_quantity, why,
                           Py_BuildValue("(LLNL)", (long long)quantity, (long long)price,
                                         wide_long(price, quantity, o->price, o->remaining),
                                         (long long)ec_available(e, c->a)));
    case EC_WHY_MORE_CAPACITY:
        return eb_rejected(c->kind, A_quantity, why,
                           Py_BuildValue("(LLL)", (long long)quantity, (long long)o->remaining,
                                         (long long)ec_free_capacity(e, c->m, c->a)));
    case EC_WHY_MINTED:
        return eb_rejected(c->kind, A_amount, why,
                           Py_BuildValue("(OLL)", c->amount, (long long)EC_MONEY_MAX,
                                         (long long)(EC_MONEY_MAX - e->minted)));
    case EC_WHY_RANGE: /* AddCapacity: past what the record may still take */
        return eb_not_positive(c->kind, A_quantity, why, c->quantity,
                               MC_QUANTITY_MAX - (ec_slot_of(e, c->m, c->a)->exists
                                                      ? ec_slot_of(e, c->m, c->a)->provided
                                                      : 0));
    case EC_WHY_PROVIDED:
        return eb_rejected(c->kind, A_quantity, why,
                           Py_BuildValue("(OOL)", c->quantity, market,
                                         (long long)EC_MONEY_MAX));
    case EC_WHY_NOT_FREE:
        return eb_rejected(c->kind, A_quantity, why,
                           Py_BuildValue("(OL)", c->quantity,
                                         (long long)ec_free_capacity(e, c->m, c->a)));
    case EC_WHY_BAD_TS:
        return eb_rejected(c->kind, A_ts, why, Py_BuildValue("(O)", c->ts));
    default:
        PyErr_Format(PyExc_SystemError, "the native engine has no message for refusal %d",
                     why);
        return NULL;
    }
}
