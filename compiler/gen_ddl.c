/*
 * CREATE TABLE statements for SQLite and ClickHouse, one per table (declared
 * or implied by a stream's destination). docs/DDL.md explains the column
 * mapping; the runtime's sinks write values in exactly those shapes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

typedef enum ddl_dialect { DDL_UNKNOWN, DDL_SQLITE, DDL_CLICKHOUSE } ddl_dialect;

static ddl_dialect dialect_of(const char *name) {
    if (!name)
        return DDL_UNKNOWN;
    if (strcmp(name, MOOSEC_DDL_SQLITE) == 0)
        return DDL_SQLITE;
    if (strcmp(name, MOOSEC_DDL_CLICKHOUSE) == 0)
        return DDL_CLICKHOUSE;
    return DDL_UNKNOWN;
}

bool moosec_ddl_dialect_known(const char *dialect) {
    return dialect_of(dialect) != DDL_UNKNOWN;
}

/* ---- what a table's storage looks like, whatever the dialect ---- */

/* The order_by columns: the resolved list, or the Key when sema left it empty. */
static size_t table_order_by(const moosec_table *table, const moosec_field *const **cols,
                             const moosec_field **key_only) {
    if (table->order_by.len) {
        *cols = (const moosec_field *const *)table->order_by.items;
        return table->order_by.len;
    }
    if (table->model && table->model->key) {
        *key_only = table->model->key;
        *cols = key_only;
        return 1;
    }
    *cols = NULL;
    return 0;
}

/* Whether the table deduplicates on its sorting key (ReplacingMergeTree / upsert). */
static bool table_dedups(const moosec_table *table) {
    switch (table->engine) {
    case MOOSEC_ENGINE_REPLACING_MERGE_TREE:
        return true;
    case MOOSEC_ENGINE_MERGE_TREE:
        return false;
    case MOOSEC_ENGINE_DEFAULT:
        break;
    }
    /* without a Key there is nothing to deduplicate on: merging would lose rows */
    return table->model && table->model->key;
}

static moosec_loc prop_loc(const moosec_table *table, const char *name) {
    for (size_t i = 0; i < table->props.len; i++)
        if (strcmp(table->props.items[i]->name, name) == 0)
            return table->props.items[i]->value ? table->props.items[i]->value->loc
                                                : table->props.items[i]->loc;
    return table->loc;
}

static bool table_ok(const moosec_table *table, moosec_diag *diag) {
    const moosec_model *model = table->model;
    if (!model)
        return false; /* sema already said why */
    bool ok = true;
    if (table->engine == MOOSEC_ENGINE_REPLACING_MERGE_TREE && !model->key) {
        if (diag)
            moosec_error(diag, prop_loc(table, "engine"),
                         "table '%s' uses engine ReplacingMergeTree, which deduplicates on the "
                         "Key, but model '%s' has no Key field; add a Key<...> field to '%s' or "
                         "use engine MergeTree",
                         table->name, model->name, model->name);
        ok = false;
    }
    const moosec_field *key_only = NULL;
    const moosec_field *const *cols;
    size_t ncols = table_order_by(table, &cols, &key_only);
    if (table_dedups(table) && model->key) {
        bool has_key = false;
        for (size_t i = 0; i < ncols; i++)
            has_key |= cols[i] == model->key;
        if (!has_key) {
            if (diag)
                moosec_error(diag, prop_loc(table, "order_by"),
                             "order_by of table '%s' lacks the Key '%s': a deduplicating table "
                             "merges rows with equal sorting keys, so records with different "
                             "keys would be lost; add '%s' to order_by (or use engine MergeTree "
                             "to keep every row)",
                             table->name, model->key->name, model->key->name);
            ok = false;
        }
    }
    for (size_t i = 0; i < ncols; i++) {
        const moosec_type *t = &cols[i]->type;
        const char *why = t->array                      ? "is an array"
                          : t->optional                 ? "is optional (ClickHouse cannot sort "
                                                          "by a Nullable column)"
                          : t->kind == MOOSEC_TYPE_MODEL ? "is a nested model (stored as JSON "
                                                           "text)"
                                                         : NULL;
        if (why) {
            if (diag)
                moosec_error(diag, prop_loc(table, "order_by"),
                             "order_by of table '%s' names '%s', which %s: a sorting key column "
                             "must be a required scalar",
                             table->name, cols[i]->name, why);
            ok = false;
        }
    }
    return ok;
}

unsigned moosec_ddl_check(const moosec_schema *schema, moosec_diag *diag) {
    unsigned errors = 0;
    for (size_t i = 0; i < schema->tables.len; i++)
        errors += !table_ok(schema->tables.items[i], diag);
    return errors;
}

/* ---- quoting ---- */

/* SQLite: "name", with " doubled. */
static void put_sqlite_ident(FILE *out, const char *name) {
    fputc('"', out);
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* ClickHouse: `name`, with ` and \ escaped by a backslash. */
static void put_clickhouse_ident(FILE *out, const char *name) {
    fputc('`', out);
    for (const char *p = name; *p; p++) {
        if (*p == '`' || *p == '\\')
            fputc('\\', out);
        fputc(*p, out);
    }
    fputc('`', out);
}

/* ClickHouse: 'text', with ' and \ escaped and control bytes as \xHH. */
static void put_clickhouse_string(FILE *out, const char *s) {
    fputc('\'', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\'' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02X", *p);
        else
            fputc(*p, out);
    }
    fputc('\'', out);
}

static void put_ident(FILE *out, ddl_dialect d, const char *name) {
    if (d == DDL_SQLITE)
        put_sqlite_ident(out, name);
    else
        put_clickhouse_ident(out, name);
}

/* ---- column types ---- */

static const char *sqlite_type(const moosec_type *t) {
    if (t->array)
        return "TEXT"; /* a JSON array */
    switch (t->kind) {
    case MOOSEC_TYPE_BOOL:
    case MOOSEC_TYPE_INT8:
    case MOOSEC_TYPE_INT16:
    case MOOSEC_TYPE_INT32:
    case MOOSEC_TYPE_INT64:
    case MOOSEC_TYPE_UINT8:
    case MOOSEC_TYPE_UINT16:
    case MOOSEC_TYPE_UINT32:
    case MOOSEC_TYPE_UINT64:
        return "INTEGER";
    case MOOSEC_TYPE_FLOAT32:
    case MOOSEC_TYPE_FLOAT64:
        return "REAL";
    case MOOSEC_TYPE_STRING:
    case MOOSEC_TYPE_DATETIME: /* RFC 3339 with 6 fraction digits: sorts as time does */
    case MOOSEC_TYPE_DATE:     /* YYYY-MM-DD */
    case MOOSEC_TYPE_UUID:
    case MOOSEC_TYPE_DECIMAL: /* exact decimal text: REAL would round money */
    case MOOSEC_TYPE_ENUM:
    case MOOSEC_TYPE_MODEL: /* a JSON object */
        return "TEXT";
    }
    return "TEXT";
}

/* The ClickHouse type of one value of T (not its array or Nullable wrapper). */
static void put_clickhouse_scalar(FILE *out, const moosec_type *t) {
    switch (t->kind) {
    case MOOSEC_TYPE_STRING:
    case MOOSEC_TYPE_MODEL: /* JSON text: see docs/DDL.md */
        fputs("String", out);
        return;
    case MOOSEC_TYPE_BOOL:
        fputs("Bool", out);
        return;
    case MOOSEC_TYPE_INT8:
        fputs("Int8", out);
        return;
    case MOOSEC_TYPE_INT16:
        fputs("Int16", out);
        return;
    case MOOSEC_TYPE_INT32:
        fputs("Int32", out);
        return;
    case MOOSEC_TYPE_INT64:
        fputs("Int64", out);
        return;
    case MOOSEC_TYPE_UINT8:
        fputs("UInt8", out);
        return;
    case MOOSEC_TYPE_UINT16:
        fputs("UInt16", out);
        return;
    case MOOSEC_TYPE_UINT32:
        fputs("UInt32", out);
        return;
    case MOOSEC_TYPE_UINT64:
        fputs("UInt64", out);
        return;
    case MOOSEC_TYPE_FLOAT32:
        fputs("Float32", out);
        return;
    case MOOSEC_TYPE_FLOAT64:
        fputs("Float64", out);
        return;
    case MOOSEC_TYPE_DATETIME:
        fputs("DateTime64(6, 'UTC')", out);
        return;
    case MOOSEC_TYPE_DATE:
        fputs("Date32", out);
        return;
    case MOOSEC_TYPE_UUID:
        fputs("UUID", out);
        return;
    case MOOSEC_TYPE_DECIMAL:
        fprintf(out, "Decimal(%d, %d)", t->decimal_precision, t->decimal_scale);
        return;
    case MOOSEC_TYPE_ENUM:
        /* Enum8 holds values -128..127: members are numbered from 1 */
        fputs(t->members.len > 127 ? "Enum16(" : "Enum8(", out);
        for (size_t i = 0; i < t->members.len; i++) {
            if (i)
                fputs(", ", out);
            put_clickhouse_string(out, t->members.items[i].name);
            fprintf(out, " = %zu", i + 1);
        }
        fputc(')', out);
        return;
    }
}

static void put_clickhouse_type(FILE *out, const moosec_type *t) {
    if (t->kind == MOOSEC_TYPE_MODEL) {
        /* one JSON text, object or array, as on SQLite */
        fputs(t->optional ? "Nullable(String)" : "String", out);
    } else if (t->array) {
        /* ClickHouse has no Nullable(Array): an absent optional array is stored as [] */
        fputs("Array(", out);
        put_clickhouse_scalar(out, t);
        fputc(')', out);
    } else if (t->optional) {
        fputs("Nullable(", out);
        put_clickhouse_scalar(out, t);
        fputc(')', out);
    } else {
        put_clickhouse_scalar(out, t);
    }
}

/* ---- statements ---- */

static void put_column_list(FILE *out, ddl_dialect d, const moosec_field *const *cols,
                            size_t ncols) {
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            fputs(", ", out);
        put_ident(out, d, cols[i]->name);
    }
}

static void put_sqlite_table(FILE *out, const moosec_table *table) {
    const moosec_model *model = table->model;
    fputs("CREATE TABLE IF NOT EXISTS ", out);
    put_sqlite_ident(out, table->name);
    fputs(" (\n", out);
    for (size_t i = 0; i < model->fields.len; i++) {
        const moosec_field *f = model->fields.items[i];
        fputs("    ", out);
        put_sqlite_ident(out, f->name);
        fprintf(out, " %s%s", sqlite_type(&f->type), f->type.optional ? "" : " NOT NULL");
        if (i + 1 < model->fields.len || model->key)
            fputc(',', out);
        fputc('\n', out);
    }
    /*
     * The sink writes every row as an upsert on the Key (ON CONFLICT), which
     * needs this constraint, whatever the engine: SQLite keeps one row per
     * Key (docs/DDL.md says where that differs from ClickHouse).
     */
    if (model->key) {
        fputs("    PRIMARY KEY (", out);
        put_sqlite_ident(out, model->key->name);
        fputs(")\n", out);
    }
    fputc(')', out);
}

static void put_clickhouse_table(FILE *out, const moosec_table *table) {
    const moosec_model *model = table->model;
    fputs("CREATE TABLE IF NOT EXISTS ", out);
    put_clickhouse_ident(out, table->name);
    fputs("\n(\n", out);
    for (size_t i = 0; i < model->fields.len; i++) {
        const moosec_field *f = model->fields.items[i];
        fputs("    ", out);
        put_clickhouse_ident(out, f->name);
        fputc(' ', out);
        put_clickhouse_type(out, &f->type);
        if (i + 1 < model->fields.len)
            fputc(',', out);
        fputc('\n', out);
    }
    fprintf(out, ")\nENGINE = %s()\nORDER BY ",
            table_dedups(table) ? "ReplacingMergeTree" : "MergeTree");
    const moosec_field *key_only = NULL;
    const moosec_field *const *cols;
    size_t ncols = table_order_by(table, &cols, &key_only);
    if (ncols == 0) {
        fputs("tuple()", out);
    } else {
        fputc('(', out);
        put_column_list(out, DDL_CLICKHOUSE, cols, ncols);
        fputc(')', out);
    }
}

char *moosec_ddl_table(moosec_arena *arena, const moosec_table *table, const char *dialect) {
    ddl_dialect d = dialect_of(dialect);
    if (d == DDL_UNKNOWN || !table_ok(table, NULL))
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        fprintf(stderr, "moosec: out of memory writing the DDL of table '%s'\n", table->name);
        exit(2);
    }
    if (d == DDL_SQLITE)
        put_sqlite_table(out, table);
    else
        put_clickhouse_table(out, table);
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed || !text) {
        fprintf(stderr, "moosec: out of memory writing the DDL of table '%s'\n", table->name);
        exit(2);
    }
    char *copy = moosec_arena_strndup(arena, text, len);
    free(text);
    return copy;
}

int moosec_ddl_print(FILE *out, const moosec_schema *schema, const char *dialect) {
    if (!moosec_ddl_dialect_known(dialect))
        return -1;
    moosec_arena arena;
    moosec_arena_init(&arena);
    int status = 0;
    for (size_t i = 0; i < schema->tables.len; i++) {
        const char *sql = moosec_ddl_table(&arena, schema->tables.items[i], dialect);
        if (!sql) {
            status = -1;
            continue;
        }
        fprintf(out, "%s%s;\n", i ? "\n" : "", sql);
    }
    moosec_arena_free(&arena);
    return status;
}
