/*
 * The checked model of a .moose schema.
 *
 * The parser builds the syntactic part (names, locations, raw property lists);
 * sema.c fills in the resolved part (marked "resolved" below) and the code
 * generators read only checked schemas. Every node lives in the schema's arena,
 * so nothing here is freed one by one.
 */
#ifndef MOOSEC_AST_H
#define MOOSEC_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "source.h"

/* A dynamic array of T kept in an arena: `MOOSEC_VEC(moosec_field *) fields;`. */
#define MOOSEC_VEC(T)                                                          \
    struct {                                                                   \
        T *items;                                                              \
        size_t len, cap;                                                       \
    }

/* Appends V to VEC (growing it in ARENA). */
#define MOOSEC_VEC_PUSH(ARENA, VEC, V)                                         \
    do {                                                                       \
        if ((VEC).len == (VEC).cap) {                                          \
            size_t ncap__ = (VEC).cap ? (VEC).cap * 2 : 4;                     \
            void *nitems__ = moosec_arena_alloc(                               \
                (ARENA), ncap__ * sizeof(*(VEC).items));                       \
            if ((VEC).len)                                                     \
                memcpy(nitems__, (VEC).items,                                  \
                       (VEC).len * sizeof(*(VEC).items));                      \
            (VEC).items = nitems__;                                            \
            (VEC).cap = ncap__;                                                \
        }                                                                      \
        (VEC).items[(VEC).len++] = (V);                                        \
    } while (0)

typedef enum moosec_type_kind {
    MOOSEC_TYPE_STRING,
    MOOSEC_TYPE_BOOL,
    MOOSEC_TYPE_INT8,
    MOOSEC_TYPE_INT16,
    MOOSEC_TYPE_INT32,
    MOOSEC_TYPE_INT64,
    MOOSEC_TYPE_UINT8,
    MOOSEC_TYPE_UINT16,
    MOOSEC_TYPE_UINT32,
    MOOSEC_TYPE_UINT64,
    MOOSEC_TYPE_FLOAT32,
    MOOSEC_TYPE_FLOAT64,
    MOOSEC_TYPE_DATETIME,
    MOOSEC_TYPE_DATE,
    MOOSEC_TYPE_UUID,
    MOOSEC_TYPE_DECIMAL,
    MOOSEC_TYPE_ENUM,
    MOOSEC_TYPE_MODEL, /* a reference to another model, by name */
} moosec_type_kind;

/* A literal value: constraint arguments and property values. */
typedef enum moosec_value_kind {
    MOOSEC_VALUE_INT,      /* 42, -7: text and i are set (f too) */
    MOOSEC_VALUE_FLOAT,    /* 1.5, 1e9: text and f are set */
    MOOSEC_VALUE_STRING,   /* "x": str is the unescaped contents */
    MOOSEC_VALUE_BOOL,     /* true / false */
    MOOSEC_VALUE_IDENT,    /* dead_letter, RawTable */
    MOOSEC_VALUE_DURATION, /* 7d, 15m: i is the duration in seconds */
    MOOSEC_VALUE_LIST,     /* [a, b] */
    MOOSEC_VALUE_OBJECT,   /* { key: value, ... } */
} moosec_value_kind;

typedef struct moosec_value moosec_value;
typedef struct moosec_prop moosec_prop;

/* A `name: value` pair in a table, stream or object body. */
struct moosec_prop {
    const char *name;
    moosec_loc loc; /* of the name */
    moosec_value *value;
};

struct moosec_value {
    moosec_value_kind kind;
    moosec_loc loc;
    const char *text; /* number literal as written, identifier, string contents */
    size_t text_len;  /* strings may hold NUL bytes after unescaping */
    int64_t i;
    double f;
    bool b;
    bool int_overflow; /* an INT literal that does not fit in int64_t */
    MOOSEC_VEC(moosec_value *) items; /* LIST */
    MOOSEC_VEC(moosec_prop *) props;  /* OBJECT */
};

/* `@name(args...)` after a field's type. */
typedef struct moosec_attr {
    const char *name;
    moosec_loc loc; /* of the name, including '@' */
    MOOSEC_VEC(moosec_value *) args;
} moosec_attr;

typedef struct moosec_enum_member {
    const char *name;
    moosec_loc loc;
} moosec_enum_member;

typedef struct moosec_model moosec_model;

typedef struct moosec_type {
    moosec_type_kind kind;
    moosec_loc loc;
    bool key;      /* Key<T> */
    bool optional; /* T? */
    bool array;    /* T[] */
    bool elem_optional; /* T?[]: parsed so sema can refuse it by name */
    int decimal_precision, decimal_scale; /* Decimal(p, s) */
    MOOSEC_VEC(moosec_enum_member) members; /* Enum("a", "b") */
    const char *model_name;                 /* MODEL: the name as written */
    moosec_model *model;                    /* MODEL: resolved */
} moosec_type;

typedef struct moosec_field {
    const char *name;
    moosec_loc loc;
    moosec_type type;
    MOOSEC_VEC(moosec_attr *) attrs;

    /* resolved: the constraints, checked against the type */
    bool has_length;
    int64_t length_min, length_max; /* characters */
    bool has_range;
    double range_min, range_max;
    const moosec_value *range_min_value, *range_max_value; /* exact literals */
    const char *pattern; /* PCRE2 syntax */
    const moosec_value *default_value;
} moosec_field;

struct moosec_model {
    const char *name;
    moosec_loc loc;
    MOOSEC_VEC(moosec_field *) fields;

    /* resolved */
    moosec_field *key; /* the Key field, or NULL */
    int index;         /* position in schema->models */
};

typedef enum moosec_engine {
    MOOSEC_ENGINE_DEFAULT, /* ReplacingMergeTree on ClickHouse, upsert on SQLite */
    MOOSEC_ENGINE_REPLACING_MERGE_TREE,
    MOOSEC_ENGINE_MERGE_TREE,
} moosec_engine;

typedef struct moosec_table {
    const char *name;
    moosec_loc loc;
    const char *model_name;
    moosec_loc model_loc;
    MOOSEC_VEC(moosec_prop *) props;
    bool implied; /* created by a stream's destination, not declared */

    /* resolved */
    moosec_model *model;
    MOOSEC_VEC(moosec_field *) order_by; /* defaults to the Key */
    moosec_engine engine;
    int64_t batch_rows;  /* 0: runtime default */
    int64_t batch_bytes; /* 0: runtime default */
    int64_t batch_ms;    /* 0: runtime default */
} moosec_table;

typedef enum moosec_on_invalid {
    MOOSEC_ON_INVALID_DEAD_LETTER,
    MOOSEC_ON_INVALID_REJECT,
} moosec_on_invalid;

typedef struct moosec_stream {
    const char *name;
    moosec_loc loc;
    const char *model_name;
    moosec_loc model_loc;
    MOOSEC_VEC(moosec_prop *) props;

    /* resolved */
    moosec_model *model;
    const char *topic;        /* `name:` or the identifier */
    moosec_table *destination; /* or NULL */
    int64_t parallelism;       /* 1 unless set */
    int64_t retention_s;       /* 0: broker default */
    moosec_on_invalid on_invalid;
    bool allow_extra_fields;
} moosec_stream;

typedef struct moosec_stream_ref {
    const char *name;
    moosec_loc loc;
    moosec_stream *stream; /* resolved */
} moosec_stream_ref;

typedef struct moosec_transform {
    const char *name;
    moosec_loc loc;
    moosec_stream_ref source;
    MOOSEC_VEC(moosec_stream_ref) destinations; /* one, or several for fan-out */
} moosec_transform;

/* A whole schema: one or more files. */
typedef struct moosec_schema {
    moosec_arena arena;
    MOOSEC_VEC(moosec_source *) sources;
    MOOSEC_VEC(moosec_model *) models;
    MOOSEC_VEC(moosec_table *) tables; /* declared first, then implied */
    MOOSEC_VEC(moosec_stream *) streams;
    MOOSEC_VEC(moosec_transform *) transforms;
} moosec_schema;

void moosec_schema_init(moosec_schema *schema);
void moosec_schema_free(moosec_schema *schema);

/* The spelling of a type kind in the language ("Int32", "Decimal"). */
const char *moosec_type_kind_name(moosec_type_kind kind);

/* Lookups by name; NULL when absent. */
moosec_model *moosec_schema_find_model(const moosec_schema *schema, const char *name);
moosec_table *moosec_schema_find_table(const moosec_schema *schema, const char *name);
moosec_stream *moosec_schema_find_stream(const moosec_schema *schema, const char *name);

#endif
