/* The checks that generated validators share (see moose/validate.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "moose/validate.h"

int moose_validate_fail(moose_errors *errs, const moose_path *path, const char *name,
                        const char *rule, const char *fmt, ...) {
    if (!errs)
        return MOOSE_EVALIDATION;
    char where[MOOSE_ERROR_PATH_MAX];
    char msg[MOOSE_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    moose_errors_add(errs, moose_path_format(path, name, where, sizeof where), rule, -1, "%s", msg);
    return MOOSE_EVALIDATION;
}

/*
 * The bytes of P[0..N) OR-ed together, eight at a time: a byte's high bit
 * shows in the result. The last load overlaps the one before it rather than
 * going on byte by byte (most keys and values are shorter than 16 bytes).
 */
static uint64_t high_bits(const unsigned char *p, size_t n) {
    if (n >= 8) {
        uint64_t high = 0, w;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            high |= w;
        }
        memcpy(&w, p + n - 8, 8);
        return high | w;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return a | b;
    }
    if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, p, 2);
        memcpy(&b, p + n - 2, 2);
        return (uint64_t)(a | b);
    }
    return n ? p[0] : 0;
}

int moose_validate_str(moose_errors *errs, const moose_path *path, const char *name, moose_str s,
                       int64_t min_chars, int64_t max_chars, moose_pattern *pattern) {
    if (!s.ptr && s.len) {
        moose_validate_fail(errs, path, name, "type", "string has a length but no bytes");
        return 1;
    }
    /* ASCII text (the usual case) is well-formed and has as many characters as bytes. */
    bool ascii = !(high_bits((const unsigned char *)s.ptr, s.len) & 0x8080808080808080ull);
    if (ascii && min_chars < 0 && max_chars < 0 && !pattern)
        return 0;
    int64_t n = ascii ? (int64_t)s.len : moose_utf8_length(s.ptr, s.len);
    if (n < 0) {
        moose_validate_fail(errs, path, name, "encoding", "not valid UTF-8");
        return 1;
    }
    int failures = 0;
    if ((min_chars >= 0 && n < min_chars) || (max_chars >= 0 && n > max_chars)) {
        failures++;
        if (max_chars < 0)
            moose_validate_fail(errs, path, name, "length",
                                "length %lld is less than the minimum %lld", (long long)n,
                                (long long)min_chars);
        else
            moose_validate_fail(errs, path, name, "length",
                                "length %lld is not between %lld and %lld characters",
                                (long long)n, (long long)(min_chars < 0 ? 0 : min_chars),
                                (long long)max_chars);
    }
    if (pattern) {
        int m = moose_pattern_match(pattern, s.ptr, s.len);
        if (m == 0) {
            failures++;
            moose_validate_fail(errs, path, name, "pattern", "does not match the pattern \"%s\"",
                                pattern->source);
        } else if (m < 0) {
            failures++;
            moose_validate_fail(errs, path, name, "pattern", "pattern \"%s\" cannot be used",
                                pattern->source);
        }
    }
    return failures;
}

int moose_validate_finite(moose_errors *errs, const moose_path *path, const char *name,
                          double v) {
    if (isfinite(v))
        return 0;
    moose_validate_fail(errs, path, name, "type", "%s is not a number JSON can carry",
                        isnan(v) ? "NaN" : "infinity");
    return 1;
}

int moose_validate_datetime(moose_errors *errs, const moose_path *path, const char *name,
                            moose_datetime v) {
    if (v >= MOOSE_DATETIME_MIN && v <= MOOSE_DATETIME_MAX)
        return 0;
    moose_validate_fail(errs, path, name, "range", "date-time is outside years 0000 to 9999");
    return 1;
}

int moose_validate_date(moose_errors *errs, const moose_path *path, const char *name,
                        moose_date v) {
    if (v >= MOOSE_DATE_MIN && v <= MOOSE_DATE_MAX)
        return 0;
    moose_validate_fail(errs, path, name, "range", "date is outside years 0000 to 9999");
    return 1;
}

int moose_validate_decimal(moose_errors *errs, const moose_path *path, const char *name,
                           moose_decimal v, unsigned precision, unsigned scale) {
    uint64_t limit = 1;
    for (unsigned i = 0; i < precision && i < 19; i++)
        limit *= 10;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (precision >= 19 || mag < limit)
        return 0;
    moose_validate_fail(errs, path, name, "decimal",
                        "more than %u digits: not a Decimal(%u, %u)", precision, precision, scale);
    return 1;
}

int moose_validate_enum(moose_errors *errs, const moose_path *path, const char *name, int v,
                        uint32_t count) {
    if (v >= 0 && (uint32_t)v < count)
        return 0;
    moose_validate_fail(errs, path, name, "enum", "value %d is not one of the %u members", v,
                        count);
    return 1;
}
