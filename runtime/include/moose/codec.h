/*
 * What generated codecs and validators build on: an arena for decoded
 * records, a growable output buffer, and the list of field errors that
 * decoding and validation fill. (Implemented in runtime/codec_*.c.)
 */
#ifndef MOOSE_CODEC_H
#define MOOSE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moose/error.h"
#include "moose/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- arena: a record's (or a batch's) strings and arrays; reset, not freed, per record ---- */

typedef struct moose_arena_chunk moose_arena_chunk;
typedef struct moose_arena {
    moose_arena_chunk *head;
    char *cur, *end;
} moose_arena;

void moose_arena_init(moose_arena *arena);
/* Keeps the first chunk, so a reset arena allocates nothing in steady state. */
void moose_arena_reset(moose_arena *arena);
void moose_arena_free(moose_arena *arena);
/* NULL only when memory runs out. */
void *moose_arena_alloc(moose_arena *arena, size_t size, size_t align);

/* ---- output buffer ---- */

typedef struct moose_buf {
    char *data;
    size_t len, cap;
    bool failed; /* an allocation failed: the contents are incomplete */
} moose_buf;

void moose_buf_init(moose_buf *buf);
void moose_buf_free(moose_buf *buf);
void moose_buf_reset(moose_buf *buf);
/* Makes room for N more bytes; false (and failed set) when memory runs out. */
bool moose_buf_reserve(moose_buf *buf, size_t n);
void moose_buf_append(moose_buf *buf, const void *data, size_t n);

/* ---- field errors ---- */

#define MOOSE_ERROR_PATH_MAX 256
#define MOOSE_ERROR_MESSAGE_MAX 256

typedef struct moose_field_error {
    char path[MOOSE_ERROR_PATH_MAX];       /* "items[2].price"; "" for the whole record */
    const char *rule;                      /* "length", "range", "pattern", "type", "required",
                                              "enum", "unknown_field", "syntax", ... */
    char message[MOOSE_ERROR_MESSAGE_MAX]; /* a sentence for a person */
    int64_t offset;                        /* byte offset in the input, or -1 */
} moose_field_error;

typedef struct moose_errors {
    moose_field_error *items;
    size_t len, cap;
    size_t dropped; /* failures beyond max, counted but not kept */
    size_t max;     /* keep at most this many (0: 64) */
} moose_errors;

void moose_errors_init(moose_errors *errs);
void moose_errors_free(moose_errors *errs);
void moose_errors_clear(moose_errors *errs);
void moose_errors_add(moose_errors *errs, const char *path, const char *rule, int64_t offset,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- decoding options (per stream) ---- */

typedef struct moose_decode_options {
    bool allow_extra_fields; /* ignore unknown fields instead of failing */
    uint32_t max_depth;      /* nesting limit (0: 64) */
    size_t max_bytes;        /* record size limit (0: 1 MiB) */
} moose_decode_options;

/* ---- ownership ----
 *
 * A decoded record owns nothing: its strings, arrays and optional nested
 * models live in the moose_arena handed to <Model>_from_json(), so a record
 * is released by resetting or freeing that arena (one arena per record or per
 * batch; a reset arena allocates nothing in steady state). Records built by
 * hand may point anywhere; libmoose never frees a record's members.
 */

/* ---- value formats on the wire (what generated codecs use; handy for users too) ---- */

/* Bytes needed by moose_datetime_format() including the NUL. */
#define MOOSE_DATETIME_TEXT_MAX 32
#define MOOSE_DATE_TEXT_MAX 12
#define MOOSE_UUID_TEXT_MAX 37
#define MOOSE_DECIMAL_TEXT_MAX 48
#define MOOSE_FLOAT_TEXT_MAX 32

/* Smallest and largest DateTime: 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z. */
#define MOOSE_DATETIME_MIN INT64_C(-62167219200000000)
#define MOOSE_DATETIME_MAX INT64_C(253402300799999999)
#define MOOSE_DATE_MIN (-719528)
#define MOOSE_DATE_MAX 2932896

/*
 * RFC 3339 date-time ("2024-03-20T12:00:00.5+01:00"; 't', 'z' and ' ' as the
 * separator are accepted too) into microseconds since the epoch, UTC.
 * Fractions finer than a microsecond are truncated. Returns 0, or -1 with a
 * reason in *WHY (a static string).
 */
int moose_datetime_parse(const char *s, size_t len, moose_datetime *out, const char **why);
/* "2024-03-20T11:00:00.500Z" (fraction only when not zero); returns the length. */
size_t moose_datetime_format(moose_datetime t, char out[MOOSE_DATETIME_TEXT_MAX]);

/* "2024-03-20" into days since the epoch. */
int moose_date_parse(const char *s, size_t len, moose_date *out, const char **why);
size_t moose_date_format(moose_date d, char out[MOOSE_DATE_TEXT_MAX]);

/* 8-4-4-4-12 hexadecimal digits, either case; formatted in lower case. */
int moose_uuid_parse(const char *s, size_t len, moose_uuid *out, const char **why);
size_t moose_uuid_format(const moose_uuid *u, char out[MOOSE_UUID_TEXT_MAX]);

/*
 * A JSON number ("12.3", "-1.25e2") as Decimal(PRECISION, SCALE): the exact
 * unscaled value, refused when it needs more than SCALE fractional digits or
 * more than PRECISION digits in all (PRECISION <= 18).
 */
int moose_decimal_parse(const char *s, size_t len, unsigned precision, unsigned scale,
                        moose_decimal *out, const char **why);
/* "12.30" for 1230 in Decimal(p, 2). */
size_t moose_decimal_format(moose_decimal v, unsigned scale, char out[MOOSE_DECIMAL_TEXT_MAX]);

/*
 * The shortest decimal text that reads back as exactly V (or F), e.g. "0.1",
 * "5.0", "1e+300". V must be finite. Returns the length.
 */
size_t moose_float64_format(double v, char out[MOOSE_FLOAT_TEXT_MAX]);
size_t moose_float32_format(float f, char out[MOOSE_FLOAT_TEXT_MAX]);

/*
 * Decimal text ("12.5", "-3", ".5", "1e-3", " 7 ") as the nearest Float64:
 * what Python's float() reads from such text, correctly rounded, and in the
 * "C" number format whatever locale the program set (strtod() takes "1,5"
 * under a German one, and also reads "0x1A", "inf" and "nan"). ASCII white
 * space around the number is skipped; anything else is refused, as is a
 * number beyond the range of a Float64. Returns 0, or -1 with a reason in
 * *WHY (a static string).
 */
int moose_float64_parse(const char *s, size_t len, double *out, const char **why);

/* Number of characters (code points) in valid UTF-8 S; -1 when S is not valid UTF-8. */
int64_t moose_utf8_length(const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif
