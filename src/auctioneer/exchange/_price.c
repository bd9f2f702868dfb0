/*
 * _price.c - the price index's decay weights and trade folding in C, exactly as
 * pricing.py's decimal reference computes them.
 *
 * pricing._fraction_decimal rounds 2^62 * 2^(-part/h) half-even to an int from a
 * 40-digit decimal computation. Its intermediate roundings (five steps at 40
 * digits, and the 40-digit ln 2) put it within 2e-20 of the true value, so it is
 * the true value correctly rounded unless that lies within 2e-20 of a half.
 * Here the same value is computed in 128-bit fixed point (Q1.127: 1.0 is 2^127):
 * f = part/h, y = f ln 2, e^(-y/256) by its Taylor series, squared eight times.
 * Each step truncates by at most one unit of 2^-127; the series adds at most
 * about 30 units and the squarings multiply that by 256, so the result is
 * within 2^14 units (2^14 / 2^65 = 2^-51 of the final integer's unit). When the
 * 65 bits below the integer lie within 2^tie_bits units of a half, the C value
 * cannot decide the rounding and the caller's fallback (the decimal reference)
 * is asked instead: tie_bits is at least MIN_TIE_BITS, far above the error
 * bound, so every answer here is the reference's. pricing.py uses 32 (a 2^-32
 * chance per weight of asking the reference); the tests use up to 64 to send
 * most weights through the fallback.
 *
 * fold() sums a pending array's trades as PriceIndex._folded's loop does:
 * weight += quantity * decay(ref - ts), weighted += price * that, in 256-bit
 * unsigned accumulators (price and quantity < 2^63, a decay <= 2^62, so a term
 * is < 2^188 and 2^64 terms cannot carry out of 256 bits). Anything outside
 * what it handles (a negative price or quantity, a trade after ref, a half-life
 * or ref that is not a positive 64-bit int) answers None and the caller's
 * Python loop, the reference, runs instead.
 *
 * pending_json() writes the pending trades as a snapshot holds them (canonical JSON of
 * PriceIndex.state()'s "pending"): at a busy second's end they are most of the index.
 *
 * Tests: tests/exchange/test_price_native.py (hypothesis against the decimal
 * reference, with tie_bits from the minimum to 64, and the whole PriceIndex).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>

typedef unsigned __int128 u128;

#define WEIGHT_BITS 62
#define SECOND 1000000000
#define MIN_TIE_BITS 20
#define MAX_TIE_BITS 64
#define Q_ONE ((u128)1 << 127)

/* floor(ln 2 * 2^127), checked against decimal in the tests through fraction(). */
static const u128 LN2_Q127 = ((u128)0x58b90bfbe8e7bcd5u << 64) | 0xe4f1d9cc01f97b57u;

/* a * b / 2^127, truncated, for a, b <= 2^127 + 2^32 (the product's top bits fit). */
static inline u128
qmul(u128 a, u128 b)
{
    uint64_t a1 = (uint64_t)(a >> 64), a0 = (uint64_t)a;
    uint64_t b1 = (uint64_t)(b >> 64), b0 = (uint64_t)b;
    u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1, p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    u128 high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    return (high << 1) | ((uint64_t)mid >> 63);
}

/* 2^(-part/h) in Q1.127, within 2^14 units, for 0 <= part < h. */
static u128
exp2_neg(uint64_t part, uint64_t h)
{
    u128 num = (u128)part << 64;
    uint64_t q1 = (uint64_t)(num / h);
    uint64_t q2 = (uint64_t)(((num % h) << 64) / h);
    u128 f = ((u128)q1 << 63) | (q2 >> 1); /* part/h, truncated */
    u128 x = qmul(f, LN2_Q127) >> 8;       /* y/256 < 2^-8.5 */
    u128 term = Q_ONE, even = Q_ONE, odd = 0;
    for (unsigned n = 1; term != 0; n++) {
        term = qmul(term, x) / n;
        if (n & 1u) {
            odd += term;
        } else {
            even += term;
        }
    }
    u128 v = even - odd;
    for (int i = 0; i < 8; i++) {
        v = qmul(v, v);
    }
    return v;
}

/* The rounded fixed-point fraction into *out: 1; or 0 when v is too near a half to tell. */
static inline int
rounded(u128 v, unsigned tie_bits, uint64_t *out)
{
    const u128 half = (u128)1 << 64;
    u128 low = v & (((u128)1 << 65) - 1);
    u128 gap = low > half ? low - half : half - low;
    if (gap < ((u128)1 << tie_bits)) {
        return 0;
    }
    *out = (uint64_t)(v >> 65) + (low > half);
    return 1;
}

/* ----------------------------------------------------------- 256-bit sums */

typedef struct {
    uint64_t w[4];
} u256;

/* acc += a * b for a < 2^64, b < 2^128 (one carry chain through all four words). */
static inline void
add_product(u256 *acc, uint64_t a, u128 b)
{
    u128 low = (u128)a * (uint64_t)b;
    u128 high = (u128)a * (uint64_t)(b >> 64) + (uint64_t)(low >> 64); /* < 2^128 */
    const uint64_t term[4] = {(uint64_t)low, (uint64_t)high, (uint64_t)(high >> 64), 0};
    u128 carry = 0;
    for (int i = 0; i < 4; i++) {
        carry += (u128)acc->w[i] + term[i];
        acc->w[i] = (uint64_t)carry;
        carry >>= 64;
    }
}

static PyObject *
int_of(const u256 *v)
{
    PyObject *out = PyLong_FromUnsignedLongLong(v->w[3]);
    PyObject *shift = out == NULL ? NULL : PyLong_FromLong(64);
    for (int i = 2; i >= 0 && out != NULL && shift != NULL; i--) {
        PyObject *up = PyNumber_Lshift(out, shift);
        PyObject *limb = up == NULL ? NULL : PyLong_FromUnsignedLongLong(v->w[i]);
        Py_DECREF(out);
        out = limb == NULL ? NULL : PyNumber_Or(up, limb);
        Py_XDECREF(up);
        Py_XDECREF(limb);
    }
    Py_XDECREF(shift);
    if (shift == NULL) {
        Py_CLEAR(out);
    }
    return out;
}

/* ------------------------------------------------------------ bindings */

/* fallback(part, h) as a uint64 into *out: 0, or -1 with an exception. */
static int
ask(PyObject *fallback, uint64_t part, uint64_t h, uint64_t *out)
{
    PyObject *r = PyObject_CallFunction(fallback, "KK", (unsigned long long)part,
                                        (unsigned long long)h);
    if (r == NULL) {
        return -1;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(r);
    Py_DECREF(r);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    *out = v;
    return 0;
}

/* The reference's _fraction(part, h): 0, or -1 with an exception. */
static int
fraction_of(uint64_t part, uint64_t h, unsigned tie_bits, PyObject *fallback, uint64_t *out)
{
    if (rounded(exp2_neg(part, h), tie_bits, out)) {
        return 0;
    }
    return ask(fallback, part, h, out);
}

static int
tie_bits_of(PyObject *obj, unsigned *out)
{
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < MIN_TIE_BITS || v > MAX_TIE_BITS) {
        PyErr_Format(PyExc_ValueError, "tie_bits must be in %d..%d, not %ld", MIN_TIE_BITS,
                     MAX_TIE_BITS, v);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int
arity(const char *name, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, want, nargs);
        return -1;
    }
    return 0;
}

/* An int in low..INT64_MAX into *out: 1; anything else 0 (no error). */
static int
i64_from(PyObject *obj, int64_t low, int64_t *out)
{
    if (!PyLong_Check(obj)) {
        return 0;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (overflow || v < low) {
        return 0;
    }
    *out = v;
    return 1;
}

/* 0 <= part < half_life < 2^63, each an int, into *part and *h: 1; else 0 (no error). */
static int
part_and_half_life(PyObject *part_obj, PyObject *h_obj, uint64_t *part, uint64_t *h)
{
    int64_t p, half_life;
    if (!i64_from(part_obj, 0, &p) || !i64_from(h_obj, 1, &half_life) || p >= half_life) {
        return 0;
    }
    *part = (uint64_t)p;
    *h = (uint64_t)half_life;
    return 1;
}

PyDoc_STRVAR(exp2_q127_doc,
"exp2_q127(part, half_life, /)\n--\n\n"
"The Q1.127 value fraction() rounds, for 0 <= part < half_life < 2^63 (for the tests of\n"
"its error bound); None outside that range.");

static PyObject *
exp2_q127(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t part, h;
    if (arity("exp2_q127", nargs, 2) < 0) {
        return NULL;
    }
    if (!part_and_half_life(args[0], args[1], &part, &h)) {
        Py_RETURN_NONE;
    }
    u128 v = exp2_neg(part, h);
    u256 wide = {{(uint64_t)v, (uint64_t)(v >> 64), 0, 0}};
    return int_of(&wide);
}

PyDoc_STRVAR(fraction_doc,
"fraction(part, half_life, fallback, tie_bits, /)\n--\n\n"
"2^(-part/half_life) as a fixed-point int with 62 fractional bits, rounded half even,\n"
"for 0 <= part < half_life < 2^63: fallback(part, half_life) where the C value is within\n"
"2^tie_bits units of 2^-127 of a rounding tie. None for arguments outside that range.");

static PyObject *
fraction(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    unsigned tie_bits;
    if (arity("fraction", nargs, 4) < 0 || tie_bits_of(args[3], &tie_bits) < 0) {
        return NULL;
    }
    uint64_t part, h, out;
    if (!part_and_half_life(args[0], args[1], &part, &h)) {
        Py_RETURN_NONE;
    }
    if (fraction_of(part, h, tie_bits, args[2], &out) < 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(out);
}

/* A pending array('q') of (price, quantity, ts) triples as a buffer: its int64s, *n of
 * them; or NULL with a TypeError naming `name` (the buffer then released). */
static const int64_t *
trades_view(PyObject *pending, const char *name, Py_buffer *view, Py_ssize_t *n)
{
    if (PyObject_GetBuffer(pending, view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        return NULL;
    }
    if (view->itemsize != (Py_ssize_t)sizeof(int64_t) || view->format == NULL
        || (view->format[0] != 'q' && view->format[0] != 'l') || view->format[1] != '\0'
        || view->len % (Py_ssize_t)(3 * sizeof(int64_t)) != 0) {
        PyErr_Format(PyExc_TypeError, "%s() takes an array('q') of trade triples", name);
        PyBuffer_Release(view);
        return NULL;
    }
    *n = view->len / (Py_ssize_t)sizeof(int64_t);
    return view->buf;
}

PyDoc_STRVAR(fold_doc,
"fold(pending, ref, half_life, fallback, tie_bits, /)\n--\n\n"
"(sum of price * w, sum of w) over a pending array('q') of (price, quantity, ts) trades,\n"
"w = quantity * decay(ref - ts, half_life), each fraction as fraction() gives it; None for\n"
"what it does not handle (see the module comment).");

static PyObject *
fold(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    unsigned tie_bits;
    int64_t ref, h;
    if (arity("fold", nargs, 5) < 0 || tie_bits_of(args[4], &tie_bits) < 0) {
        return NULL;
    }
    if (!i64_from(args[1], 1, &ref) || !i64_from(args[2], 1, &h)) {
        Py_RETURN_NONE;
    }
    Py_buffer view;
    Py_ssize_t n;
    const int64_t *t = trades_view(args[0], "fold", &view, &n);
    if (t == NULL) {
        return NULL;
    }
    PyObject *result = NULL;
    u256 weighted = {{0}}, weight = {{0}};
    for (Py_ssize_t i = 0; i < n; i += 3) {
        int64_t price = t[i], quantity = t[i + 1], ts = t[i + 2];
        if (price < 0 || quantity < 0 || ts > ref) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        uint64_t age = (uint64_t)((__int128)ref - ts); /* ref > 0 and ts >= INT64_MIN */
        uint64_t whole = age / (uint64_t)h, decay = 0;
        if (whole <= WEIGHT_BITS) {
            if (fraction_of(age % (uint64_t)h, (uint64_t)h, tie_bits, args[3], &decay) < 0) {
                goto done;
            }
            decay >>= whole;
        }
        u128 w = (u128)(uint64_t)quantity * decay;
        add_product(&weight, 1, w);
        add_product(&weighted, (uint64_t)price, w);
    }
    PyObject *a = int_of(&weighted);
    PyObject *b = a == NULL ? NULL : int_of(&weight);
    result = b == NULL ? NULL : PyTuple_Pack(2, a, b);
    Py_XDECREF(a);
    Py_XDECREF(b);
done:
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(bars_doc,
"bars(pending, /)\n--\n\n"
"The pending (price, quantity, ts) trades as one-second bars: (second, open, high, low,\n"
"close, volume) for each run of consecutive trades in the same second (ts // 10^9), in\n"
"order. None when a value is negative (the caller's Python loop, the reference, then\n"
"runs).");

static PyObject *
bars(PyObject *Py_UNUSED(module), PyObject *pending)
{
    Py_buffer view;
    Py_ssize_t n;
    const int64_t *t = trades_view(pending, "bars", &view, &n);
    if (t == NULL) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out != NULL && i < n;) {
        int64_t second = t[i + 2] / SECOND, open = t[i], high = open, low = open, close = open;
        u128 volume = 0;
        for (; i < n && t[i + 2] >= 0 && t[i + 2] / SECOND == second; i += 3) {
            if (t[i] < 0 || t[i + 1] < 0) {
                break;
            }
            close = t[i];
            high = close > high ? close : high;
            low = close < low ? close : low;
            volume += (uint64_t)t[i + 1];
        }
        if (i < n && (t[i] < 0 || t[i + 1] < 0 || t[i + 2] < 0)) {
            Py_SETREF(out, Py_NewRef(Py_None));
            break;
        }
        u256 wide = {{(uint64_t)volume, (uint64_t)(volume >> 64), 0, 0}};
        PyObject *v = int_of(&wide);
        PyObject *bar = v == NULL ? NULL : Py_BuildValue("(LLLLLN)", (long long)second,
                                                        (long long)open, (long long)high,
                                                        (long long)low, (long long)close, v);
        if (bar == NULL || PyList_Append(out, bar) < 0) {
            Py_CLEAR(out);
        }
        Py_XDECREF(bar);
    }
    PyBuffer_Release(&view);
    return out;
}

PyDoc_STRVAR(pending_json_doc,
"pending_json(pending, /)\n--\n\n"
"The pending (price, quantity, ts) trades as the canonical JSON of their list of lists\n"
"([[price,quantity,ts],...]): what json.dumps writes for PriceIndex.state()'s 'pending',\n"
"without a Python list or int per trade.");

/* v in decimal at p (at most 20 bytes); the end. */
static char *
put_i64(char *p, int64_t v)
{
    char digits[20];
    int n = 0;
    uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v; /* INT64_MIN's magnitude too */
    do {
        digits[n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0);
    if (v < 0) {
        *p++ = '-';
    }
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

static PyObject *
pending_json(PyObject *Py_UNUSED(module), PyObject *pending)
{
    Py_buffer view;
    Py_ssize_t n;
    const int64_t *t = trades_view(pending, "pending_json", &view, &n);
    if (t == NULL) {
        return NULL;
    }
    /* 20 digits and a sign a number, then "[", ",", "]" around and between: 24 a number */
    PyObject *out = PyBytes_FromStringAndSize(NULL, 2 + 24 * n);
    if (out != NULL) {
        char *start = PyBytes_AS_STRING(out), *p = start;
        *p++ = '[';
        for (Py_ssize_t i = 0; i < n; i += 3) {
            if (i) {
                *p++ = ',';
            }
            *p++ = '[';
            p = put_i64(p, t[i]);
            *p++ = ',';
            p = put_i64(p, t[i + 1]);
            *p++ = ',';
            p = put_i64(p, t[i + 2]);
            *p++ = ']';
        }
        *p++ = ']';
        _PyBytes_Resize(&out, p - start);
    }
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"bars", (PyCFunction)bars, METH_O, bars_doc},
    {"exp2_q127", (PyCFunction)(void (*)(void))exp2_q127, METH_FASTCALL, exp2_q127_doc},
    {"fraction", (PyCFunction)(void (*)(void))fraction, METH_FASTCALL, fraction_doc},
    {"fold", (PyCFunction)(void (*)(void))fold, METH_FASTCALL, fold_doc},
    {"pending_json", (PyCFunction)pending_json, METH_O, pending_json_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "auctioneer.exchange._price",
    "The price index's decay weights and trade folding (see _price.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__price(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddIntConstant(m, "MIN_TIE_BITS", MIN_TIE_BITS) < 0
                      || PyModule_AddIntConstant(m, "MAX_TIE_BITS", MAX_TIE_BITS) < 0)) {
        Py_CLEAR(m);
    }
    return m;
}
