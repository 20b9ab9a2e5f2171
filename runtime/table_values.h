/*
 * How the table layer turns a field of a decoded record into text:
 * fixed-format dates and times, and JSON for the values a table stores as
 * text (arrays and nested models in SQLite) or sends as JSONEachRow
 * (ClickHouse). Walks the model's descriptor, so it needs no per-model code.
 * Text goes into the codec's growable buffer (moose_buf) and strings are
 * escaped by the codec's JSON writer: one copy of each in the runtime.
 */
#ifndef MOOSE__TABLE_VALUES_H
#define MOOSE__TABLE_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moose/codec.h"
#include "moose/schema.h"

/* The table layer's text buffer is the codec's; these names read better at its call sites. */
typedef moose_buf moose__tbuf;

static inline void moose__tbuf_init(moose__tbuf *buf) {
    moose_buf_init(buf);
}
static inline void moose__tbuf_free(moose__tbuf *buf) {
    moose_buf_free(buf);
}
static inline void moose__tbuf_reset(moose__tbuf *buf) {
    moose_buf_reset(buf);
}
/* False (and failed set) when memory runs out. Inline when there is room: rows are written a
 * few bytes at a time. */
static inline bool moose__tbuf_reserve(moose__tbuf *buf, size_t more) {
    return buf->cap - buf->len >= more || moose_buf_reserve(buf, more);
}
static inline void moose__tbuf_put(moose__tbuf *buf, const void *data, size_t n) {
    if (n && moose__tbuf_reserve(buf, n)) {
        memcpy(buf->data + buf->len, data, n);
        buf->len += n;
    }
}
void moose__tbuf_puts(moose__tbuf *buf, const char *s);
/* A '\0' after the contents, not counted in len. */
const char *moose__tbuf_cstr(moose__tbuf *buf);

/* Room for the longest of each format below, with its '\0'. */
#define MOOSE__FMT_MAX 48

/* "2024-03-20T12:00:00.000000Z": fixed width, so text order is time order. */
size_t moose__fmt_datetime(int64_t micros, char out[MOOSE__FMT_MAX]);
/* "2024-03-20" */
size_t moose__fmt_date(int32_t days, char out[MOOSE__FMT_MAX]);
/* "123e4567-e89b-12d3-a456-426614174000" */
size_t moose__fmt_uuid(const moose_uuid *uuid, char out[MOOSE__FMT_MAX]);
/* The unscaled value with SCALE digits after the point: 1234, 2 -> "12.34". */
size_t moose__fmt_decimal(int64_t unscaled, unsigned scale, char out[MOOSE__FMT_MAX]);
/* Shortest text that reads back as the same value ("1.5", "5.0"); "nan", "inf", "-inf" otherwise.
 */
size_t moose__fmt_double(double value, char out[MOOSE__FMT_MAX]);
size_t moose__fmt_float(float value, char out[MOOSE__FMT_MAX]);
size_t moose__fmt_int64(int64_t value, char out[MOOSE__FMT_MAX]);
size_t moose__fmt_uint64(uint64_t value, char out[MOOSE__FMT_MAX]);

/* Reads an integer field (bool, int*, uint*, enum) as a wide value. */
int64_t moose__field_int(const moose_field_desc *field, const void *value);
uint64_t moose__field_uint(const moose_field_desc *field, const void *value);

/* Whether an optional field is set in REC (always true for required fields). */
bool moose__field_present(const moose_field_desc *field, const void *rec);

/* Appends S as a JSON string literal (quotes and escapes: the codec's moose_json_write_str). */
void moose__json_string(moose__tbuf *buf, const char *s, size_t n);

/*
 * Appends the value of FIELD in REC as JSON, the way records travel on the
 * wire: DateTime as an RFC 3339 string, Date as "YYYY-MM-DD", UUID as its
 * text, Decimal as a number, Enum as its name, arrays and nested models in
 * full, absent optional fields as null, non-finite floats as null.
 */
void moose__json_field(moose__tbuf *buf, const moose_field_desc *field, const void *rec);

/* Appends a whole record as a JSON object (fields in declared order). */
void moose__json_record(moose__tbuf *buf, const moose_model_desc *model, const void *rec);

#endif
