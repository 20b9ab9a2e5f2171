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

#ifdef __cplusplus
}
#endif

#endif
