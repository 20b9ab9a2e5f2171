/*
 * The descriptors that moosec-generated code hands to libmoose.
 *
 * Generated code (`<base>.moose.c`) defines, for every model, a plain C struct
 * and a moose_model_desc that describes it field by field (offsetof), so
 * generic runtime code — table delivery, validation reports, DDL checks —
 * walks fields without per-model code, while the hot paths (JSON decode and
 * encode, validation) are specialised per model and reached through the
 * function pointers below. One moose_app_desc constant describes a whole
 * schema: streams, tables and transforms, with pointers to the user's
 * transform functions.
 *
 * Everything here is read-only data with static storage duration.
 */
#ifndef MOOSE_SCHEMA_H
#define MOOSE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever generated code and libmoose stop fitting together. */
#define MOOSE_ABI_VERSION 1

/* ---- value representations used by generated structs ---- */

/* UTF-8 text; ptr[len] is always '\0' in decoded records. */
typedef struct moose_str {
    const char *ptr;
    size_t len;
} moose_str;

typedef struct moose_uuid {
    uint8_t bytes[16];
} moose_uuid;

typedef int64_t moose_datetime; /* microseconds since 1970-01-01T00:00:00Z */
typedef int32_t moose_date;     /* days since 1970-01-01 */
typedef int64_t moose_decimal;  /* the unscaled value: 12.34 in Decimal(9, 2) is 1234 */

/* T[] in a model is `struct { T *items; size_t len; }`. */
#define MOOSE_ARRAY(T)                                                         \
    struct {                                                                   \
        T *items;                                                              \
        size_t len;                                                            \
    }

typedef enum moose_type {
    MOOSE_TYPE_STRING,   /* moose_str */
    MOOSE_TYPE_BOOL,     /* bool */
    MOOSE_TYPE_INT8,     /* int8_t ... */
    MOOSE_TYPE_INT16,
    MOOSE_TYPE_INT32,
    MOOSE_TYPE_INT64,
    MOOSE_TYPE_UINT8,
    MOOSE_TYPE_UINT16,
    MOOSE_TYPE_UINT32,
    MOOSE_TYPE_UINT64,
    MOOSE_TYPE_FLOAT32,  /* float */
    MOOSE_TYPE_FLOAT64,  /* double */
    MOOSE_TYPE_DATETIME, /* moose_datetime */
    MOOSE_TYPE_DATE,     /* moose_date */
    MOOSE_TYPE_UUID,     /* moose_uuid */
    MOOSE_TYPE_DECIMAL,  /* moose_decimal */
    MOOSE_TYPE_ENUM,     /* a generated C enum (int-sized), 0-based in declared order */
    MOOSE_TYPE_MODEL,    /* a nested struct (a pointer when optional) */
} moose_type;

enum moose_field_flags {
    MOOSE_FIELD_KEY = 1u << 0,
    MOOSE_FIELD_OPTIONAL = 1u << 1, /* presence in a `bool has_<name>` (pointer for models) */
    MOOSE_FIELD_ARRAY = 1u << 2,    /* MOOSE_ARRAY(T) at offset */
    MOOSE_FIELD_HAS_LENGTH = 1u << 3,
    MOOSE_FIELD_HAS_RANGE = 1u << 4,
    MOOSE_FIELD_HAS_PATTERN = 1u << 5,
    MOOSE_FIELD_HAS_DEFAULT = 1u << 6,
};

typedef struct moose_model_desc moose_model_desc;

typedef struct moose_field_desc {
    const char *name;
    uint32_t name_len;
    moose_type type;
    uint32_t flags;          /* moose_field_flags */
    uint32_t offset;         /* of the value, the array struct, or the model pointer */
    uint32_t present_offset; /* of `bool has_<name>` for optional non-model fields */
    uint32_t elem_size;      /* size of one value (one element for arrays) */
    const moose_model_desc *model;   /* MOOSE_TYPE_MODEL */
    const char *const *enum_values;  /* MOOSE_TYPE_ENUM */
    uint32_t enum_count;
    uint8_t decimal_precision, decimal_scale;
    int64_t length_min, length_max; /* characters, with MOOSE_FIELD_HAS_LENGTH */
    double range_min, range_max;    /* with MOOSE_FIELD_HAS_RANGE */
    const char *pattern;            /* PCRE2 source, with MOOSE_FIELD_HAS_PATTERN */
    const char *default_json;       /* the default as JSON text, with MOOSE_FIELD_HAS_DEFAULT */
} moose_field_desc;

/* Defined in codec.h: the per-model function types reached from a descriptor. */
struct moose_arena;
struct moose_errors;
struct moose_buf;
struct moose_decode_options;

struct moose_model_desc {
    const char *name;
    uint32_t size, align;
    const moose_field_desc *fields;
    uint32_t nfields;
    int32_t key_field; /* index into fields, or -1 */

    /* Sets every field to its default (or zero). */
    void (*init)(void *rec);
    /*
     * Parses one JSON document into REC; strings and arrays are allocated in
     * ARENA. Returns 0, or a negative moose error code with ERRS filled
     * (byte offset and field path).
     */
    int (*decode)(void *rec, const char *json, size_t len, struct moose_arena *arena,
                  const struct moose_decode_options *opts, struct moose_errors *errs);
    /* Checks every constraint; records every failure in ERRS. Returns 0 or MOOSE_EVALIDATION. */
    int (*validate)(const void *rec, struct moose_errors *errs);
    /* Appends REC as one JSON object (no newline) to OUT. Returns 0 or a negative code. */
    int (*encode)(const void *rec, struct moose_buf *out);
    /*
     * Compiles this model's @pattern constraints now (PCRE2 with JIT), so no
     * record pays for it later. 0, or -1 with ERRSTR filled. NULL when the
     * model has no pattern. moose_patterns_prepare() (validate.h) calls it
     * for every model of an app.
     */
    int (*prepare)(char *errstr, size_t errstr_size);
};

/* ---- the app: streams, tables, transforms ---- */

typedef enum moose_engine {
    MOOSE_ENGINE_REPLACING_MERGE_TREE = 0, /* the default: deduplicates on the key */
    MOOSE_ENGINE_MERGE_TREE,
} moose_engine;

typedef struct moose_table_desc {
    const char *name;
    const moose_model_desc *model;
    const char *const *order_by; /* column names; the Key by default */
    uint32_t norder_by;
    moose_engine engine;
    int64_t batch_rows, batch_bytes, batch_ms; /* 0: the runtime's defaults */
    const char *ddl_sqlite;     /* CREATE TABLE IF NOT EXISTS ... */
    const char *ddl_clickhouse; /* for a current server; the runtime adapts it to old ones */
} moose_table_desc;

typedef enum moose_on_invalid {
    MOOSE_ON_INVALID_DEAD_LETTER = 0,
    MOOSE_ON_INVALID_REJECT,
} moose_on_invalid;

typedef struct moose_stream_desc {
    const char *name;  /* the identifier in the schema */
    const char *topic; /* the Kafka topic */
    const moose_model_desc *model;
    const moose_table_desc *destination; /* or NULL */
    int32_t parallelism;
    int64_t retention_s; /* 0: the broker's default */
    moose_on_invalid on_invalid;
    bool allow_extra_fields;
} moose_stream_desc;

/* The runtime's side of one transform call (see transform.h). */
typedef struct moose_transform_ctx moose_transform_ctx;

/*
 * The generated adapter for a user's transform: casts IN to the source
 * model's struct and calls the user's typed function. Returns 0, or a
 * negative code after moose_transform_fail() (the input goes to the DLQ).
 */
typedef int (*moose_transform_fn)(const void *in, moose_transform_ctx *ctx);

typedef struct moose_transform_desc {
    const char *name;
    const moose_stream_desc *source;
    const moose_stream_desc *const *destinations;
    uint32_t ndestinations;
    moose_transform_fn fn;
} moose_transform_desc;

typedef struct moose_app_desc {
    uint32_t abi_version; /* MOOSE_ABI_VERSION of the generator */
    const char *name;     /* the schema's base name */
    const moose_model_desc *const *models;
    uint32_t nmodels;
    const moose_table_desc *const *tables;
    uint32_t ntables;
    const moose_stream_desc *const *streams;
    uint32_t nstreams;
    const moose_transform_desc *const *transforms;
    uint32_t ntransforms;
} moose_app_desc;

#ifdef __cplusplus
}
#endif

#endif
