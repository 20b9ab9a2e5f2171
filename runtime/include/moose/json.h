/*
 * The JSON reader and writer that moosec-generated codecs are built from.
 *
 * A generated decoder is a loop over an object's keys: the key is matched by
 * a generated switch, and the value is read straight into the record's member
 * by one of the typed readers below. Nothing is built in between (no DOM),
 * which is why a generated codec is many times faster than a generic one.
 *
 * Every reader returns 0, or a negative moose error code after recording one
 * error in the reader's moose_errors with the byte offset and the field path
 * ("items[2].price") of the failure. The reader is strict RFC 8259: every
 * escape including surrogate pairs, UTF-8 checked, no trailing commas, no
 * leading zeros, nothing after the document but whitespace.
 *
 * These functions are for generated code; their names start with
 * moose_json_ and may grow, but existing ones keep their meaning within one
 * MOOSE_ABI_VERSION.
 */
#ifndef MOOSE_JSON_H
#define MOOSE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moose/codec.h"
#include "moose/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- where a failure is: a path of field names and array indexes ---- */

/*
 * One step of a field path, kept on the C stack of the generated code while
 * it descends; it is turned into text ("items[2].price") only on failure.
 */
typedef struct moose_path {
    const struct moose_path *parent;
    const char *name; /* a field name, or NULL for an array element */
    int64_t index;    /* with name == NULL */
} moose_path;

/* Writes PATH followed by NAME (may be NULL) as text into OUT; returns OUT. */
char *moose_path_format(const moose_path *path, const char *name, char *out, size_t size);

/* ---- reader ---- */

typedef struct moose_json_reader {
    const char *begin, *p, *end;
    moose_arena *arena;
    moose_errors *errs;
    bool allow_extra_fields;
    uint32_t depth, max_depth;
    const moose_path *path; /* of the value being read */
} moose_json_reader;

/*
 * Starts reading the document JSON[0..LEN). Fails (MOOSE_ETOOBIG) when LEN
 * exceeds the size limit of OPTS (NULL: the defaults).
 */
int moose_json_start(moose_json_reader *r, const char *json, size_t len, moose_arena *arena,
                     const moose_decode_options *opts, moose_errors *errs);
/* After the top-level value: only whitespace may follow. */
int moose_json_finish(moose_json_reader *r);

/* Records a failure at the current position (path + NAME) and returns CODE. */
int moose_json_fail(moose_json_reader *r, int code, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int moose_json_fail_at(moose_json_reader *r, const char *at, const char *name, int code,
                       const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static inline void moose_json_ws(moose_json_reader *r) {
    const char *p = r->p, *end = r->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    r->p = p;
}

/* '{' (after whitespace); counts one level of nesting. */
int moose_json_object_begin(moose_json_reader *r);
/*
 * The next member of the object: 1 with its key in *KEY / *KEY_LEN (the
 * ':' consumed; the key is unescaped and checked), 0 at '}', or a negative
 * code. *FIRST starts true.
 */
int moose_json_object_next(moose_json_reader *r, bool *first, const char **key, size_t *key_len);

/*
 * The fast path for members in declared order: when the next member's key is
 * exactly QUOTED (the name in quotes, as written by encoders: no escapes),
 * consumes it and its ':' and returns true. Otherwise leaves the reader as it
 * was, and moose_json_object_next() reads the member the general way.
 */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool moose_json_expect_key(moose_json_reader *r, bool *first, const char *quoted,
                                         size_t n) {
    const char *p = r->p, *end = r->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    if (!*first) {
        if (p >= end || *p != ',')
            return false;
        p++;
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
            p++;
    }
    if ((size_t)(end - p) <= n)
        return false;
    if (n >= 8 && n <= 16) {
        /* two overlapping 8-byte compares instead of a call to memcmp */
        uint64_t a, b, c, d;
        memcpy(&a, p, 8);
        memcpy(&b, quoted, 8);
        memcpy(&c, p + n - 8, 8);
        memcpy(&d, quoted + n - 8, 8);
        if (a != b || c != d)
            return false;
    } else if (n >= 4 && n < 8) {
        uint32_t a, b, c, d;
        memcpy(&a, p, 4);
        memcpy(&b, quoted, 4);
        memcpy(&c, p + n - 4, 4);
        memcpy(&d, quoted + n - 4, 4);
        if (a != b || c != d)
            return false;
    } else if (memcmp(p, quoted, n) != 0) {
        return false;
    }
    p += n;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    if (p >= end || *p != ':')
        return false;
    p++;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    r->p = p;
    *first = false;
    return true;
}

int moose_json_array_begin(moose_json_reader *r);
/* 1 when an element follows (positioned at it), 0 at ']', or a negative code. */
int moose_json_array_next(moose_json_reader *r, bool *first);

/* Consumes `null` and returns true if the next value is null. */
static inline bool moose_json_null(moose_json_reader *r) {
    moose_json_ws(r);
    if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
        r->p += 4;
        return true;
    }
    return false;
}

/* An unknown member: skipped (allow_extra_fields) or a failure. */
int moose_json_unknown_field(moose_json_reader *r, const char *key, size_t key_len);
int moose_json_duplicate_field(moose_json_reader *r, const char *key, size_t key_len);
/* A required field NAME that the object at OBJECT_AT lacks: recorded, not returned. */
void moose_json_missing_field(moose_json_reader *r, const char *object_at, const char *name);
/* `null` given for a field that is not optional. */
int moose_json_null_not_allowed(moose_json_reader *r);
/*
 * After a field's value failed to decode (RC < 0) where it started at AT
 * with the reader at DEPTH and ERRORS_BEFORE failures recorded: true when
 * the failure was the value's own (a wrong type, a number out of range, a
 * string not in its format, a nested record's fields) and the value is
 * well-formed JSON, so the reader was moved past it and decoding can go on
 * to report the record's other fields. False when nobody collects the
 * failures, or after a syntax, encoding, size or memory failure: the rest
 * of the document may not mean what it seems to.
 */
bool moose_json_recover(moose_json_reader *r, int rc, const char *at, uint32_t depth,
                        size_t errors_before);
/* How many failures were recorded so far (kept or dropped); 0 when nobody collects them. */
static inline size_t moose_json_errors_seen(const moose_json_reader *r) {
    return r->errs ? r->errs->len + r->errs->dropped : 0;
}
/* Skips any value (still checked). */
int moose_json_skip(moose_json_reader *r);

int moose_json_read_str(moose_json_reader *r, moose_str *out);
int moose_json_read_bool(moose_json_reader *r, bool *out);
/* An integer within [MIN, MAX] (the declared width); "1.0" and "1e3" are not integers. */
int moose_json_read_int(moose_json_reader *r, int64_t min, int64_t max, int64_t *out);
int moose_json_read_uint(moose_json_reader *r, uint64_t max, uint64_t *out);
int moose_json_read_f64(moose_json_reader *r, double *out);
int moose_json_read_f32(moose_json_reader *r, float *out);
int moose_json_read_datetime(moose_json_reader *r, moose_datetime *out);
int moose_json_read_date(moose_json_reader *r, moose_date *out);
int moose_json_read_uuid(moose_json_reader *r, moose_uuid *out);
int moose_json_read_decimal(moose_json_reader *r, unsigned precision, unsigned scale,
                            moose_decimal *out);
/* One of NAMES (a JSON string); *OUT is its index. */
int moose_json_read_enum(moose_json_reader *r, const char *const *names, uint32_t count,
                         int *out);

/*
 * Room for one more element of an array being decoded: grows *ITEMS (of
 * *CAP elements of ELEM_SIZE bytes) in the arena. NULL when memory runs out
 * (recorded as a failure).
 */
void *moose_json_array_grow(moose_json_reader *r, void **items, size_t len, size_t *cap,
                            size_t elem_size, size_t elem_align);
/* A zeroed object in the arena (optional nested models). */
void *moose_json_alloc(moose_json_reader *r, size_t size, size_t align);

/* ---- writer: appends to a moose_buf; errors surface as buf->failed ---- */

static inline void moose_json_put(moose_buf *out, const char *s, size_t n) {
    if (n <= out->cap - out->len) {
        memcpy(out->data + out->len, s, n);
        out->len += n;
    } else {
        moose_buf_append(out, s, n);
    }
}

void moose_json_write_str(moose_buf *out, moose_str s);
void moose_json_write_cstr(moose_buf *out, const char *s);
void moose_json_write_bool(moose_buf *out, bool v);
void moose_json_write_int(moose_buf *out, int64_t v);
void moose_json_write_uint(moose_buf *out, uint64_t v);
/* Non-finite values cannot be written in JSON: they make the encoder fail (returns -1). */
int moose_json_write_f64(moose_buf *out, double v);
int moose_json_write_f32(moose_buf *out, float v);
void moose_json_write_datetime(moose_buf *out, moose_datetime v);
void moose_json_write_date(moose_buf *out, moose_date v);
void moose_json_write_uuid(moose_buf *out, const moose_uuid *v);
void moose_json_write_decimal(moose_buf *out, moose_decimal v, unsigned scale);

/* ---- internal helpers shared by the runtime's codec files ---- */

/* Length of the UTF-8 sequence at S (AVAIL bytes available), or 0 if invalid. */
size_t moose__utf8_seq(const unsigned char *s, size_t avail);
/* A well-formed JSON number as a double / float: 0, -1 on overflow, -2 out of memory. */
int moose__number_to_double(const char *s, size_t len, int is32, double *out);

#ifdef __cplusplus
}
#endif

#endif
