/*
 * Decimal(p, s) text <-> the unscaled int64 value. Exact: a value needing
 * more fractional digits than the scale is refused, never rounded.
 */
#include <stdbool.h>
#include <stdint.h>

#include "moose/codec.h"

int moose_decimal_parse(const char *s, size_t len, unsigned precision, unsigned scale,
                        moose_decimal *out, const char **why) {
    size_t i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    /* the significant digits, without leading zeros, and their decimal exponent */
    char dig[64];
    size_t ndig = 0, dropped_nonzero = 0;
    int64_t exp10 = 0;
    size_t int_start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (ndig || s[i] != '0') {
            if (ndig < sizeof dig)
                dig[ndig++] = s[i];
            else {
                exp10++; /* too many digits anyway: keep the magnitude */
                dropped_nonzero |= s[i] != '0';
            }
        }
        i++;
    }
    if (i == int_start || (i - int_start > 1 && s[int_start] == '0')) {
        *why = "expected a decimal number";
        return -1;
    }
    if (i < len && s[i] == '.') {
        i++;
        size_t frac_start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (ndig || s[i] != '0') {
                if (ndig < sizeof dig) {
                    dig[ndig++] = s[i];
                    exp10--;
                } else
                    dropped_nonzero |= s[i] != '0';
            } else
                exp10--;
            i++;
        }
        if (i == frac_start) {
            *why = "expected a decimal number";
            return -1;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        size_t exp_start = i;
        int64_t e = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
            i++;
        }
        if (i == exp_start) {
            *why = "expected a decimal number";
            return -1;
        }
        exp10 += eneg ? -e : e;
    }
    if (i != len) {
        *why = "expected a decimal number";
        return -1;
    }
    if (ndig == 0) {
        *out = 0;
        return 0;
    }
    int64_t shift = exp10 + (int64_t)scale; /* unscaled = digits * 10^shift */
    if (shift < 0) {
        if (dropped_nonzero || (uint64_t)-shift > ndig) {
            *why = "more fractional digits than the Decimal's scale";
            return -1;
        }
        for (size_t k = ndig - (size_t)-shift; k < ndig; k++)
            if (dig[k] != '0') {
                *why = "more fractional digits than the Decimal's scale";
                return -1;
            }
        ndig -= (size_t)-shift;
        shift = 0;
    }
    if (ndig == 0 || (int64_t)ndig + shift > (int64_t)precision || precision > 18) {
        if (ndig == 0) {
            *out = 0;
            return 0;
        }
        *why = "more digits than the Decimal's precision";
        return -1;
    }
    int64_t v = 0;
    for (size_t k = 0; k < ndig; k++)
        v = v * 10 + (dig[k] - '0');
    for (int64_t k = 0; k < shift; k++)
        v *= 10;
    *out = neg ? -v : v;
    return 0;
}

size_t moose_decimal_format(moose_decimal v, unsigned scale, char out[MOOSE_DECIMAL_TEXT_MAX]) {
    char tmp[MOOSE_DECIMAL_TEXT_MAX];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n <= scale)
        tmp[n++] = '0'; /* at least one digit before the point */
    char *p = out;
    if (v < 0)
        *p++ = '-';
    for (size_t k = n; k-- > 0;) {
        *p++ = tmp[k];
        if (k == scale && scale)
            *p++ = '.';
    }
    *p = '\0';
    return (size_t)(p - out);
}
