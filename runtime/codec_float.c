/*
 * Floats as text: the shortest decimal that reads back as the same value
 * (so decode(encode(x)) == x), and exact parsing of JSON numbers and of
 * decimal text (moose_float64_parse).
 *
 * Most values that people send (prices, measurements) have few digits: for
 * them an exact integer-and-power-of-ten path avoids printf and strtod, both
 * slow and locale dependent. Other values go through "%.17g" and strtod
 * under the "C" locale for this thread only, whatever locale the program set
 * with setlocale(): a comma never becomes the decimal point.
 */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moose/codec.h"
#include "moose/json.h"

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define TWO53 9007199254740992.0

/* ---- the "C" number format, whatever the program's locale ---- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_make(void) {
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* Switches this thread to the "C" number format; returns what to give c_end. */
static locale_t c_begin(void) {
    pthread_once(&c_locale_once, c_locale_make);
    return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void c_end(locale_t previous) {
    if (previous)
        uselocale(previous);
}

static double c_strtod(const char *s) {
    locale_t previous = c_begin();
    double d = strtod(s, NULL);
    c_end(previous);
    return d;
}

static float c_strtof(const char *s) {
    locale_t previous = c_begin();
    float f = strtof(s, NULL);
    c_end(previous);
    return f;
}

/* "m" with a point K digits from the right, always with a fraction ("5.0"). */
static size_t put_scaled(char *out, int neg, uint64_t m, int k) {
    char tmp[32];
    char *end = tmp + sizeof tmp, *q = end; /* written from the right */
    if (k == 0) {
        *--q = '0';
        *--q = '.';
    }
    int i = 0;
    do {
        *--q = (char)('0' + m % 10);
        m /= 10;
        if (++i == k)
            *--q = '.';
    } while (m || i <= k); /* "0.5": a digit before the point */
    if (neg)
        *--q = '-';
    size_t n = (size_t)(end - q);
    memcpy(out, q, n);
    out[n] = '\0';
    return n;
}

/* The exact path: A = M / 10^K with M < 2^53; returns 0 when no such M exists. */
static size_t try_exact(double a, int neg, int is32, char *out) {
    if (!(a >= 1e-7 && a < 1e15))
        return 0;
    for (int k = 0; k <= 17; k++) {
        double t = a * pow10_exact[k];
        if (t >= TWO53)
            return 0;
        double m = (double)(uint64_t)(t + 0.5); /* floor, as 0 <= t < 2^53, without a call */
        /*
         * For M / 10^K to round to A, T (A * 10^K, rounded once) must lie
         * within 2^-51 of M relatively: further off, skip the division.
         */
        if (!is32 && fabs(t - m) > t * 0x1p-50)
            continue;
        double back = m / pow10_exact[k];
        if (is32 ? (float)back == (float)a : back == a)
            return put_scaled(out, neg, (uint64_t)m, k);
    }
    return 0;
}

static size_t via_printf(double v, int is32, char *out) {
    static const int precisions64[] = {15, 16, 17};
    static const int precisions32[] = {6, 7, 8, 9};
    const int *prec = is32 ? precisions32 : precisions64;
    int nprec = is32 ? 4 : 3;
    int n = 0;
    locale_t previous = c_begin();
    for (int i = 0; i < nprec; i++) {
        n = snprintf(out, MOOSE_FLOAT_TEXT_MAX, "%.*g", prec[i], v);
        double back = strtod(out, NULL);
        if (is32 ? (float)back == (float)v : back == v)
            break;
    }
    c_end(previous);
    /* "1e+20" and "0.5" are JSON; "5" is too, but say it is a float */
    if (!strpbrk(out, ".eE") && n + 2 < MOOSE_FLOAT_TEXT_MAX) {
        out[n++] = '.';
        out[n++] = '0';
        out[n] = '\0';
    }
    return (size_t)n;
}

size_t moose_float64_format(double v, char out[MOOSE_FLOAT_TEXT_MAX]) {
    if (v == 0) {
        strcpy(out, signbit(v) ? "-0.0" : "0.0");
        return strlen(out);
    }
    size_t n = try_exact(fabs(v), v < 0, 0, out);
    return n ? n : via_printf(v, 0, out);
}

size_t moose_float32_format(float f, char out[MOOSE_FLOAT_TEXT_MAX]) {
    if (f == 0) {
        strcpy(out, signbit(f) ? "-0.0" : "0.0");
        return strlen(out);
    }
    size_t n = try_exact(fabs((double)f), f < 0, 1, out);
    /* m / 10^k went through a double first: confirm the text reads back as F */
    if (n && c_strtof(out) != f)
        n = 0;
    return n ? n : via_printf((double)f, 1, out);
}

int moose__number_to_double(const char *s, size_t len, int is32, double *out) {
    /* S is a well-formed JSON number: -?int(.frac)?(e[+-]?exp)? */
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i++;
    }
    uint64_t m = 0;
    int ndig = 0, exp10 = 0;
    int exact = 1;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (ndig < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            ndig += m != 0;
        } else {
            exact = 0;
        }
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (ndig < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                ndig += m != 0;
                exp10--;
            } else {
                exact = 0;
            }
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        int e = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    /* Clinger's fast path: both operands exact, so one correctly rounded operation */
    if (exact && m <= (uint64_t)TWO53 && exp10 >= -22 && exp10 <= 22) {
        double d = (double)m;
        d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
        if (is32) {
            /* only an exact double may be rounded to float: one rounding, not two */
            if (exp10 >= 0 && d < TWO53) {
                float f = (float)d;
                *out = neg ? -f : f;
                return 0;
            }
        } else {
            *out = neg ? -d : d;
            return 0;
        }
    }
    char small[128];
    char *copy = len < sizeof small ? small : malloc(len + 1);
    if (!copy)
        return -2;
    memcpy(copy, s, len);
    copy[len] = '\0';
    if (is32) {
        float f = c_strtof(copy);
        if (copy != small)
            free(copy);
        if (isinf(f))
            return -1;
        *out = f;
        return 0;
    }
    double d = c_strtod(copy);
    if (copy != small)
        free(copy);
    if (isinf(d))
        return -1;
    *out = d;
    return 0;
}

/* True for the ASCII white space Python's float() skips around a number. */
static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * The usual text, [+-]digits[.digits] with at most 19 digits, at most 22 of
 * them after the point and nothing else, read in one pass: Clinger's fast
 * path then rounds once, exactly as strtod would. 0 sends anything else on
 * to the full reading.
 */
static int plain_decimal(const char *s, size_t len, double *out) {
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+'))
        neg = s[i++] == '-';
    uint64_t m = 0;
    unsigned digits = 0, frac = 0, c;
    for (; i < len && (c = (unsigned)((unsigned char)s[i] - '0')) <= 9 && digits < 19; i++)
        m = m * 10 + c, digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && (c = (unsigned)((unsigned char)s[i] - '0')) <= 9 && digits < 19; i++)
            m = m * 10 + c, digits++, frac++;
    if (i != len || digits == 0 || frac > 22 || m > (uint64_t)TWO53)
        return 0;
    double d = (double)m;
    if (frac)
        d /= pow10_exact[frac];
    *out = neg ? -d : d;
    return 1;
}

int moose_float64_parse(const char *s, size_t len, double *out, const char **why) {
    if (plain_decimal(s, len, out))
        return 0;
    const char *reason = NULL;
    size_t i = 0, end = len;
    while (i < end && is_space(s[i]))
        i++;
    while (end > i && is_space(s[end - 1]))
        end--;
    if (i == end)
        reason = "nothing but white space";
    int neg = 0;
    if (i < end && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t start = i, digits = 0;
    while (i < end && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < end && s[i] == '.')
        for (i++; i < end && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits > 0 && i < end && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = i + 1;
        if (e < end && (s[e] == '+' || s[e] == '-'))
            e++;
        size_t edigits = 0;
        while (e < end && s[e] >= '0' && s[e] <= '9')
            e++, edigits++;
        if (edigits == 0)
            reason = "the exponent has no digits";
        i = e;
    }
    if (!reason && digits == 0)
        reason = "no digits";
    else if (!reason && i != end)
        reason = "text after the number";
    if (reason) {
        if (why)
            *why = reason;
        return -1;
    }
    double v;
    int rc = moose__number_to_double(s + start, end - start, 0, &v);
    if (rc == -2) {
        if (why)
            *why = "out of memory";
        return -1;
    }
    if (rc != 0) {
        if (why)
            *why = "out of the range of a Float64";
        return -1;
    }
    *out = neg ? -v : v;
    return 0;
}
