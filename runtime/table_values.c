#include "table_values.h"

#include "civil_date.h"
#include "moose/codec.h"
#include "moose/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void moose__tbuf_puts(moose__tbuf *buf, const char *s) {
    moose_buf_append(buf, s, strlen(s));
}

const char *moose__tbuf_cstr(moose__tbuf *buf) {
    if (!moose__tbuf_reserve(buf, 1))
        return "";
    buf->data[buf->len] = '\0';
    return buf->data;
}

static char *put_digits(char *p, uint64_t v, int width) {
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

static size_t fmt_civil(char *out, int64_t days) {
    int64_t y;
    unsigned m, d;
    moose__civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) /* outside RFC 3339: still say something exact */
        return (size_t)snprintf(out, MOOSE__FMT_MAX, "%+06lld-%02u-%02u", (long long)y, m, d);
    char *p = out;
    p = put_digits(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p = '\0';
    return (size_t)(p - out);
}

size_t moose__fmt_date(int32_t days, char out[MOOSE__FMT_MAX]) {
    return fmt_civil(out, days);
}

size_t moose__fmt_datetime(int64_t micros, char out[MOOSE__FMT_MAX]) {
    int64_t secs = micros / 1000000, frac = micros % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    size_t n = fmt_civil(out, days);
    char *p = out + n;
    *p++ = 'T';
    p = put_digits(p, (uint64_t)(sod / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(sod % 60), 2);
    *p++ = '.';
    p = put_digits(p, (uint64_t)frac, 6);
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}

size_t moose__fmt_uuid(const moose_uuid *uuid, char out[MOOSE__FMT_MAX]) {
    _Static_assert(MOOSE__FMT_MAX >= MOOSE_UUID_TEXT_MAX, "room for a UUID's text");
    return moose_uuid_format(uuid, out);
}

static size_t put_uint64(uint64_t value, char *out) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return (size_t)n;
}

size_t moose__fmt_uint64(uint64_t value, char out[MOOSE__FMT_MAX]) {
    return put_uint64(value, out);
}

size_t moose__fmt_int64(int64_t value, char out[MOOSE__FMT_MAX]) {
    if (value >= 0)
        return put_uint64((uint64_t)value, out);
    out[0] = '-';
    /* -(INT64_MIN) does not fit an int64: negate in unsigned arithmetic. */
    return 1 + put_uint64(0 - (uint64_t)value, out + 1);
}

size_t moose__fmt_decimal(int64_t unscaled, unsigned scale, char out[MOOSE__FMT_MAX]) {
    char digits[MOOSE__FMT_MAX];
    bool negative = unscaled < 0;
    uint64_t mag = negative ? 0 - (uint64_t)unscaled : (uint64_t)unscaled;
    size_t nd = moose__fmt_uint64(mag, digits);
    char *p = out;
    if (negative)
        *p++ = '-';
    if (scale == 0) {
        memcpy(p, digits, nd + 1);
        return (size_t)(p - out) + nd;
    }
    if (scale > 30)
        scale = 30;
    if (nd <= scale) {
        *p++ = '0';
        *p++ = '.';
        for (size_t i = nd; i < scale; i++)
            *p++ = '0';
        memcpy(p, digits, nd);
        p += nd;
    } else {
        memcpy(p, digits, nd - scale);
        p += nd - scale;
        *p++ = '.';
        memcpy(p, digits + nd - scale, scale);
        p += scale;
    }
    *p = '\0';
    return (size_t)(p - out);
}

size_t moose__fmt_double(double value, char out[MOOSE__FMT_MAX]) {
    if (isnan(value))
        return (size_t)snprintf(out, MOOSE__FMT_MAX, "nan");
    if (isinf(value))
        return (size_t)snprintf(out, MOOSE__FMT_MAX, value < 0 ? "-inf" : "inf");
    /* The codecs' formatter: shortest round-trip text, mostly without printf (slow here). */
    return moose_float64_format(value, out);
}

size_t moose__fmt_float(float value, char out[MOOSE__FMT_MAX]) {
    if (isnan(value) || isinf(value))
        return moose__fmt_double((double)value, out);
    return moose_float32_format(value, out);
}

int64_t moose__field_int(const moose_field_desc *field, const void *value) {
    switch (field->type) {
    case MOOSE_TYPE_BOOL:
        return *(const bool *)value;
    case MOOSE_TYPE_INT8:
        return *(const int8_t *)value;
    case MOOSE_TYPE_INT16:
        return *(const int16_t *)value;
    case MOOSE_TYPE_INT32:
    case MOOSE_TYPE_DATE:
        return *(const int32_t *)value;
    case MOOSE_TYPE_INT64:
    case MOOSE_TYPE_DATETIME:
    case MOOSE_TYPE_DECIMAL:
        return *(const int64_t *)value;
    case MOOSE_TYPE_UINT8:
        return *(const uint8_t *)value;
    case MOOSE_TYPE_UINT16:
        return *(const uint16_t *)value;
    case MOOSE_TYPE_UINT32:
        return *(const uint32_t *)value;
    case MOOSE_TYPE_UINT64:
        return (int64_t) * (const uint64_t *)value;
    case MOOSE_TYPE_ENUM:
        return *(const int *)value;
    default:
        return 0;
    }
}

uint64_t moose__field_uint(const moose_field_desc *field, const void *value) {
    if (field->type == MOOSE_TYPE_UINT64)
        return *(const uint64_t *)value;
    return (uint64_t)moose__field_int(field, value);
}

bool moose__field_present(const moose_field_desc *field, const void *rec) {
    if (!(field->flags & MOOSE_FIELD_OPTIONAL))
        return true;
    const char *base = rec;
    if (field->type == MOOSE_TYPE_MODEL && !(field->flags & MOOSE_FIELD_ARRAY))
        return *(void *const *)(base + field->offset) != NULL;
    return *(const bool *)(base + field->present_offset);
}

void moose__json_string(moose__tbuf *buf, const char *s, size_t n) {
    moose_json_write_str(buf, (moose_str){s, n});
}

static void json_scalar(moose__tbuf *buf, const moose_field_desc *field, const void *value) {
    char tmp[MOOSE__FMT_MAX];
    size_t n;
    switch (field->type) {
    case MOOSE_TYPE_STRING: {
        const moose_str *str = value;
        moose__json_string(buf, str->ptr ? str->ptr : "", str->len);
        return;
    }
    case MOOSE_TYPE_BOOL:
        moose__tbuf_puts(buf, *(const bool *)value ? "true" : "false");
        return;
    case MOOSE_TYPE_UINT64:
        n = moose__fmt_uint64(*(const uint64_t *)value, tmp);
        break;
    case MOOSE_TYPE_INT8:
    case MOOSE_TYPE_INT16:
    case MOOSE_TYPE_INT32:
    case MOOSE_TYPE_INT64:
    case MOOSE_TYPE_UINT8:
    case MOOSE_TYPE_UINT16:
    case MOOSE_TYPE_UINT32:
        n = moose__fmt_int64(moose__field_int(field, value), tmp);
        break;
    case MOOSE_TYPE_FLOAT32:
    case MOOSE_TYPE_FLOAT64: {
        double v = field->type == MOOSE_TYPE_FLOAT32 ? (double)*(const float *)value
                                                     : *(const double *)value;
        if (!isfinite(v)) {
            moose__tbuf_puts(buf, "null");
            return;
        }
        n = field->type == MOOSE_TYPE_FLOAT32 ? moose__fmt_float(*(const float *)value, tmp)
                                              : moose__fmt_double(v, tmp);
        break;
    }
    case MOOSE_TYPE_DATETIME:
        n = moose__fmt_datetime(*(const int64_t *)value, tmp);
        moose__json_string(buf, tmp, n);
        return;
    case MOOSE_TYPE_DATE:
        n = moose__fmt_date(*(const int32_t *)value, tmp);
        moose__json_string(buf, tmp, n);
        return;
    case MOOSE_TYPE_UUID:
        n = moose__fmt_uuid(value, tmp);
        moose__json_string(buf, tmp, n);
        return;
    case MOOSE_TYPE_DECIMAL:
        n = moose__fmt_decimal(*(const int64_t *)value, field->decimal_scale, tmp);
        break;
    case MOOSE_TYPE_ENUM: {
        int v = *(const int *)value;
        if (v >= 0 && (uint32_t)v < field->enum_count) {
            const char *name = field->enum_values[v];
            moose__json_string(buf, name, strlen(name));
        } else {
            moose__tbuf_puts(buf, "null");
        }
        return;
    }
    case MOOSE_TYPE_MODEL:
        moose__json_record(buf, field->model, value);
        return;
    default:
        moose__tbuf_puts(buf, "null");
        return;
    }
    moose__tbuf_put(buf, tmp, n);
}

void moose__json_field(moose__tbuf *buf, const moose_field_desc *field, const void *rec) {
    if (!moose__field_present(field, rec)) {
        moose__tbuf_puts(buf, "null");
        return;
    }
    const char *at = (const char *)rec + field->offset;
    if (field->flags & MOOSE_FIELD_ARRAY) {
        const MOOSE_ARRAY(char) *arr = (const void *)at;
        moose__tbuf_put(buf, "[", 1);
        for (size_t i = 0; i < arr->len; i++) {
            if (i)
                moose__tbuf_put(buf, ",", 1);
            json_scalar(buf, field, arr->items + i * field->elem_size);
        }
        moose__tbuf_put(buf, "]", 1);
        return;
    }
    if (field->type == MOOSE_TYPE_MODEL && (field->flags & MOOSE_FIELD_OPTIONAL)) {
        json_scalar(buf, field, *(const void *const *)at);
        return;
    }
    json_scalar(buf, field, at);
}

void moose__json_record(moose__tbuf *buf, const moose_model_desc *model, const void *rec) {
    moose__tbuf_put(buf, "{", 1);
    for (uint32_t i = 0; i < model->nfields; i++) {
        const moose_field_desc *field = &model->fields[i];
        if (i)
            moose__tbuf_put(buf, ",", 1);
        moose__json_string(buf, field->name, strlen(field->name));
        moose__tbuf_put(buf, ":", 1);
        moose__json_field(buf, field, rec);
    }
    moose__tbuf_put(buf, "}", 1);
}
