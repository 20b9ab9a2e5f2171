/*
 * The JSON writer behind generated encoders (see moose/json.h). Strings are
 * copied in runs between the few bytes that need escaping; numbers are
 * formatted without printf on the common paths.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "moose/json.h"

static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

void moose_json_write_str(moose_buf *out, moose_str s) {
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t len = s.ptr ? s.len : 0;
    /* worst case: every byte as \u00XX */
    if (len > (SIZE_MAX - 2) / 6) {
        out->failed = true;
        return;
    }
    if (!moose_buf_reserve(out, len * 6 + 2))
        return;
    char *o = out->data + out->len;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && !needs_escape[p[run]])
            run++;
        memcpy(o, p + i, run - i);
        o += run - i;
        i = run;
        if (i == len)
            break;
        unsigned char c = p[i++];
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default: {
            static const char hex[] = "0123456789abcdef";
            /* control characters and DEL */
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        }
    }
    *o++ = '"';
    out->len = (size_t)(o - out->data);
}

void moose_json_write_cstr(moose_buf *out, const char *s) {
    moose_str str = {s, strlen(s)};
    moose_json_write_str(out, str);
}

void moose_json_write_bool(moose_buf *out, bool v) {
    if (v)
        moose_json_put(out, "true", 4);
    else
        moose_json_put(out, "false", 5);
}

void moose_json_write_uint(moose_buf *out, uint64_t v) {
    char tmp[24];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    moose_json_put(out, p, (size_t)(tmp + sizeof tmp - p));
}

void moose_json_write_int(moose_buf *out, int64_t v) {
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    moose_json_put(out, p, (size_t)(tmp + sizeof tmp - p));
}

int moose_json_write_f64(moose_buf *out, double v) {
    if (!isfinite(v))
        return -1;
    char tmp[MOOSE_FLOAT_TEXT_MAX];
    moose_json_put(out, tmp, moose_float64_format(v, tmp));
    return 0;
}

int moose_json_write_f32(moose_buf *out, float v) {
    if (!isfinite(v))
        return -1;
    char tmp[MOOSE_FLOAT_TEXT_MAX];
    moose_json_put(out, tmp, moose_float32_format(v, tmp));
    return 0;
}

void moose_json_write_datetime(moose_buf *out, moose_datetime v) {
    char tmp[MOOSE_DATETIME_TEXT_MAX + 2];
    tmp[0] = '"';
    size_t n = moose_datetime_format(v, tmp + 1);
    tmp[n + 1] = '"';
    moose_json_put(out, tmp, n + 2);
}

void moose_json_write_date(moose_buf *out, moose_date v) {
    char tmp[MOOSE_DATE_TEXT_MAX + 2];
    tmp[0] = '"';
    size_t n = moose_date_format(v, tmp + 1);
    tmp[n + 1] = '"';
    moose_json_put(out, tmp, n + 2);
}

void moose_json_write_uuid(moose_buf *out, const moose_uuid *v) {
    char tmp[MOOSE_UUID_TEXT_MAX + 2];
    tmp[0] = '"';
    size_t n = moose_uuid_format(v, tmp + 1);
    tmp[n + 1] = '"';
    moose_json_put(out, tmp, n + 2);
}

void moose_json_write_decimal(moose_buf *out, moose_decimal v, unsigned scale) {
    char tmp[MOOSE_DECIMAL_TEXT_MAX];
    moose_json_put(out, tmp, moose_decimal_format(v, scale, tmp));
}
