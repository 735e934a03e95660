/*
 * quantity.c - resource quantities (Kubernetes' resource.Quantity).
 *
 * Owns parsing "100m", "1.5Gi", "1e3", ... into an exact decimal (an int64
 * mantissa and a power of ten), the arithmetic the scheduler and quota need,
 * and printing the canonical form Kubernetes prints, so that what a client
 * reads back ("1536Mi" for "1.5Gi") is what real clusters show. Parsing works
 * on the decimal digits themselves, so no binary floating point rounding ever
 * leaks into a value.
 */
#include "api/api.h"
#include "api/ops_int.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>

#define ERR_FORMAT                                                                                 \
    "quantities must match the regular expression "                                                \
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
#define ERR_NUMERIC "unable to parse numeric part of quantity"
#define ERR_SUFFIX "unable to parse quantity's suffix"

/* Significant digits kept while parsing; more than this is not a resource amount. */
#define MAX_DIGITS 400
/* Digits of the stored mantissa: 18 always fit an int64. */
#define KEEP_DIGITS 18

static const struct {
    const char *s;
    int exp;
} dec_suffixes[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
                    {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};

static const char *const bin_suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

api_quantity_t api_quantity_make(int64_t value, int32_t scale, enum api_qformat format)
{
    api_quantity_t q = {value, scale, format};
    return q;
}

/* Interprets a suffix as base (10 or 2), exponent and format. */
static bool interpret_suffix(const char *s, int *base, int64_t *exp, enum api_qformat *fmt)
{
    for (size_t i = 0; i < sizeof dec_suffixes / sizeof dec_suffixes[0]; i++)
        if (!strcmp(s, dec_suffixes[i].s)) {
            *base = 10, *exp = dec_suffixes[i].exp, *fmt = API_QF_DECIMAL_SI;
            return true;
        }
    for (int i = 1; i <= 6; i++)
        if (!strcmp(s, bin_suffixes[i])) {
            *base = 2, *exp = 10 * i, *fmt = API_QF_BINARY_SI;
            return true;
        }
    if ((s[0] == 'e' || s[0] == 'E') && s[1]) {
        const char *p = s + 1;
        bool neg = false;
        if (*p == '+' || *p == '-') neg = *p++ == '-';
        if (!*p) return false;
        int64_t v = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9') return false;
            v = v * 10 + (*p - '0');
            if (v > INT32_MAX) return false; /* rejected, never truncated */
        }
        *base = 10, *exp = neg ? -v : v, *fmt = API_QF_DECIMAL_EXPONENT;
        return true;
    }
    return false;
}

/* A magnitude as decimal digits (most significant first) times 10^scale. */
struct digits {
    char d[MAX_DIGITS + 32];
    size_t n;
    int64_t scale;
};

static void strip_trailing(struct digits *x)
{
    while (x->n && x->d[x->n - 1] == 0) {
        x->n--;
        x->scale++;
    }
}

static void times_two(struct digits *x)
{
    int carry = 0;
    for (size_t i = x->n; i-- > 0;) {
        int v = x->d[i] * 2 + carry;
        x->d[i] = (char)(v % 10);
        carry = v / 10;
    }
    if (carry) {
        memmove(x->d + 1, x->d, x->n);
        x->d[0] = (char)carry;
        x->n++;
    }
}

/* Drops the last `cut` digits, rounding the magnitude up when any was nonzero. */
static void round_up_digits(struct digits *x, size_t cut)
{
    if (cut == 0) return;
    bool nonzero = false;
    if (cut >= x->n) {
        nonzero = x->n > 0;
        x->n = 0;
    } else {
        for (size_t i = x->n - cut; i < x->n; i++)
            nonzero |= x->d[i] != 0;
        x->n -= cut;
    }
    x->scale += (int64_t)cut;
    if (!nonzero) return;
    size_t i = x->n;
    while (i > 0 && x->d[i - 1] == 9)
        x->d[--i] = 0;
    if (i > 0) {
        x->d[i - 1]++;
    } else {
        memmove(x->d + 1, x->d, x->n);
        x->d[0] = 1;
        x->n++;
    }
}

static bool digits_to_i64(const struct digits *x, int64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (v > (uint64_t)INT64_MAX / 10) return false;
        v = v * 10 + (uint64_t)x->d[i];
        if (v > (uint64_t)INT64_MAX) return false;
    }
    *out = (int64_t)v;
    return true;
}

int api_quantity_parse(const char *s, api_quantity_t *out, char *err, size_t errlen)
{
    if (!s || !*s) return ops_err(err, errlen, ERR_FORMAT);
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    /* a sign and zeros only ("0", "-", "000") is zero before any suffix is
     * looked at, as in Kubernetes' scanner */
    if (p[strspn(p, "0")] == '\0') {
        *out = api_quantity_make(0, 0, API_QF_DECIMAL_SI);
        return 0;
    }
    const char *num = p;
    size_t nnum = strspn(p, "0123456789");
    p += nnum;
    const char *den = p;
    size_t nden = 0;
    if (*p == '.') {
        den = ++p;
        nden = strspn(p, "0123456789");
        p += nden;
    }
    const char *suffix = p;
    p += strspn(p, "eEinumkKMGTP");
    if (*p == '+' || *p == '-') p++;
    p += strspn(p, "0123456789");
    if (*p) return ops_err(err, errlen, ERR_FORMAT);
    int base;
    int64_t exp;
    enum api_qformat fmt;
    if (!interpret_suffix(suffix, &base, &exp, &fmt)) return ops_err(err, errlen, ERR_SUFFIX);

    /* value = digits(num den) * 10^-nden */
    struct digits x = {.n = 0, .scale = -(int64_t)nden};
    for (size_t i = 0; i < nnum + nden; i++) {
        char c = i < nnum ? num[i] : den[i - nnum];
        if (x.n == 0 && c == '0') continue;
        if (x.n >= MAX_DIGITS) {
            /* only zeros may follow: more is not a resource amount */
            if (c != '0') return ops_err(err, errlen, ERR_NUMERIC);
            x.scale++;
            continue;
        }
        x.d[x.n++] = (char)(c - '0');
    }
    strip_trailing(&x);
    if (x.n == 0) {
        *out = api_quantity_make(0, 0, fmt);
        return 0;
    }
    if (base == 10) {
        x.scale += exp;
    } else {
        for (int64_t i = 0; i < exp; i++)
            times_two(&x);
        strip_trailing(&x);
    }
    /* Kubernetes rounds anything below 1n up to 1n: asking for some of a
     * resource gets some */
    if (x.scale < -9) round_up_digits(&x, (size_t)(-9 - x.scale));
    strip_trailing(&x);
    int64_t v;
    if (!digits_to_i64(&x, &v)) {
        round_up_digits(&x, x.n - KEEP_DIGITS);
        strip_trailing(&x);
        if (!digits_to_i64(&x, &v)) return ops_err(err, errlen, ERR_NUMERIC);
    }
    if (fmt == API_QF_BINARY_SI && x.scale > 0) {
        /* BinarySI amounts are capped at 2^63-1 */
        int64_t m = v;
        for (int64_t i = 0; i < x.scale; i++) {
            if (m > INT64_MAX / 10) {
                v = INT64_MAX;
                x.scale = 0;
                break;
            }
            m *= 10;
        }
    }
    if (x.scale > INT32_MAX) return ops_err(err, errlen, ERR_NUMERIC);
    /* below 1, binary suffixes would only confuse: 0.5Ki is 512, 0.0001Ki is 102400u */
    if (fmt == API_QF_BINARY_SI && x.scale < 0 && (int64_t)x.n <= -x.scale) fmt = API_QF_DECIMAL_SI;
    *out = api_quantity_make(neg ? -v : v, (int32_t)x.scale, fmt);
    return 0;
}

int api_quantity_from_json(const cJSON *v, api_quantity_t *out, char *err, size_t errlen)
{
    if (cJSON_IsString(v)) return api_quantity_parse(v->valuestring, out, err, errlen);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return ops_err(err, errlen, ERR_FORMAT);
    /* the shortest text that reads back as the same double, as Go prints it */
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v->valuedouble);
        if (strtod(buf, NULL) == v->valuedouble) break;
    }
    return api_quantity_parse(buf, out, err, errlen);
}

/* |q| as digits without trailing zeros. */
static void to_digits(const api_quantity_t *q, struct digits *x)
{
    uint64_t m = q->value < 0 ? (uint64_t)0 - (uint64_t)q->value : (uint64_t)q->value;
    char tmp[24];
    size_t n = 0;
    while (m) {
        tmp[n++] = (char)(m % 10);
        m /= 10;
    }
    x->n = n;
    for (size_t i = 0; i < n; i++)
        x->d[i] = tmp[n - 1 - i];
    x->scale = q->scale;
    strip_trailing(x);
}

int api_quantity_sign(const api_quantity_t *q)
{
    return q->value > 0 ? 1 : q->value < 0 ? -1 : 0;
}

int api_quantity_cmp(const api_quantity_t *a, const api_quantity_t *b)
{
    int sa = api_quantity_sign(a), sb = api_quantity_sign(b);
    if (sa != sb) return sa < sb ? -1 : 1;
    if (sa == 0) return 0;
    struct digits x, y;
    to_digits(a, &x);
    to_digits(b, &y);
    int mag;
    int64_t ox = (int64_t)x.n + x.scale, oy = (int64_t)y.n + y.scale;
    if (ox != oy) {
        mag = ox < oy ? -1 : 1;
    } else {
        size_t n = x.n < y.n ? x.n : y.n;
        int c = memcmp(x.d, y.d, n);
        mag = c ? (c < 0 ? -1 : 1) : x.n == y.n ? 0 : x.n < y.n ? -1 : 1;
    }
    return sa > 0 ? mag : -mag;
}

int api_quantity_add(api_quantity_t *acc, const api_quantity_t *y)
{
    if (y->value == 0) return 0;
    if (acc->value == 0) {
        *acc = *y;
        return 0;
    }
    int64_t s = acc->scale < y->scale ? acc->scale : y->scale;
    int64_t da = acc->scale - s, db = y->scale - s;
    if (da > 19 || db > 19) return -1;
    __int128 a = acc->value, b = y->value;
    while (da-- > 0)
        a *= 10;
    while (db-- > 0)
        b *= 10;
    __int128 sum = a + b;
    while (sum != 0 && sum % 10 == 0) {
        sum /= 10;
        s++;
    }
    if (sum > INT64_MAX || sum < -INT64_MAX || s > INT32_MAX) return -1;
    acc->value = (int64_t)sum;
    acc->scale = sum == 0 ? 0 : (int32_t)s;
    return 0;
}

int api_quantity_sub(api_quantity_t *acc, const api_quantity_t *y)
{
    if (y->value == INT64_MIN) return -1;
    api_quantity_t neg = *y;
    neg.value = -neg.value;
    if (acc->value == 0) {
        *acc = neg;
        return 0;
    }
    return api_quantity_add(acc, &neg);
}

int64_t api_quantity_scaled(const api_quantity_t *q, int32_t scale)
{
    int64_t v = q->value;
    int64_t shift = (int64_t)q->scale - scale;
    if (v == 0) return 0;
    if (shift >= 0) {
        for (int64_t i = 0; i < shift; i++) {
            if (v > INT64_MAX / 10) return INT64_MAX;
            if (v < INT64_MIN / 10) return INT64_MIN;
            v *= 10;
        }
        return v;
    }
    /* dividing: round away from zero, as Kubernetes rounds amounts up */
    if (shift < -19) return v > 0 ? 1 : -1;
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t div = 1;
    for (int64_t i = 0; i < -shift; i++)
        div *= 10;
    uint64_t r = m / div + (m % div ? 1 : 0);
    return v < 0 ? -(int64_t)r : (int64_t)r;
}

int64_t api_quantity_value(const api_quantity_t *q)
{
    return api_quantity_scaled(q, 0);
}

int64_t api_quantity_milli(const api_quantity_t *q)
{
    return api_quantity_scaled(q, -3);
}

char *api_quantity_format(const api_quantity_t *q, char *buf, size_t len)
{
    if (!len) return buf;
    if (q->value == 0) {
        snprintf(buf, len, "0");
        return buf;
    }
    const char *sign = q->value < 0 ? "-" : "";
    struct digits x;
    to_digits(q, &x);
    enum api_qformat fmt = q->format;
    if (fmt == API_QF_BINARY_SI) {
        /* whole numbers of at least 1024 print with binary suffixes; smaller
         * or fractional ones print as DecimalSI to avoid rounding */
        int64_t v;
        struct digits whole = x;
        bool ok = x.scale >= 0 && x.n + (size_t)x.scale <= 19;
        for (int64_t i = 0; ok && i < x.scale; i++)
            whole.d[whole.n++] = 0;
        whole.scale = 0;
        if (ok && digits_to_i64(&whole, &v) && v >= 1024) {
            int k = 0;
            while (k < 6 && v % 1024 == 0) {
                v /= 1024;
                k++;
            }
            snprintf(buf, len, "%s%" PRId64 "%s", sign, v, bin_suffixes[k]);
            return buf;
        }
        fmt = API_QF_DECIMAL_SI;
    }
    /* the exponent goes down to a multiple of 3, the mantissa takes the zeros */
    int64_t e = x.scale;
    int64_t r = ((e % 3) + 3) % 3;
    e -= r;
    char mant[32];
    size_t n = 0;
    for (size_t i = 0; i < x.n; i++)
        mant[n++] = (char)('0' + x.d[i]);
    for (int64_t i = 0; i < r; i++)
        mant[n++] = '0';
    mant[n] = '\0';
    const char *suffix = NULL;
    if (fmt == API_QF_DECIMAL_SI) {
        for (size_t i = 0; i < sizeof dec_suffixes / sizeof dec_suffixes[0]; i++)
            if (dec_suffixes[i].exp == e) suffix = dec_suffixes[i].s;
    } else if (e == 0) {
        suffix = "";
    }
    if (suffix)
        snprintf(buf, len, "%s%s%s", sign, mant, suffix);
    else
        snprintf(buf, len, "%s%se%" PRId64, sign, mant, e);
    return buf;
}
