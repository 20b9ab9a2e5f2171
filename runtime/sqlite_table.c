/*
 * The SQLite table store: one connection per moose__table, WAL, one
 * transaction per batch, and a prepared upsert on the Key so a replayed
 * batch changes nothing. SQLite reports each row's fate as it is stepped, so
 * a refused row is listed at once and the rest of its batch still commits:
 * no bisection is needed here.
 *
 * Columns: one per top-level field, named after it. Text holds String, Enum
 * (its name), UUID, Date ("2024-03-20"), DateTime ("2024-03-20T12:00:00.000000Z",
 * fixed width so text order is time order) and, as JSON, arrays and nested
 * models, and Decimal as exact text with its scale's digits ("12.40": REAL
 * would round money); INTEGER holds Bool and the integer types; REAL the
 * floats. docs/DDL.md is the same table from the DDL's side.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "moose/error.h"
#include "table_backend.h"
#include "table_values.h"

/*
 * Rows upserted by one statement on the fast path. Most of a one-row
 * statement's cost is stepping it at all (start, halt, reset); a statement of
 * many VALUES rows pays that once for them all. 64 rows already cut that share
 * to a few percent, and keep the rows to redo singly after a refusal few.
 */
#define SQLITE_ROWS_PER_STMT 64

typedef char text_slot[MOOSE__FMT_MAX];

typedef struct sqlite_table {
    sqlite3 *db;
    sqlite3_stmt *upsert, *begin, *commit, *rollback;
    sqlite3_stmt *upsert_many; /* rows_per_stmt rows at once; NULL: one row at a time */
    size_t rows_per_stmt;
    /*
     * One slot per bound parameter of upsert_many for the text made from a
     * value (DateTime, Date, UUID, Decimal): it lives until the next bind of
     * the same parameter, after the step, so SQLite needs no copy of it.
     */
    text_slot *texts;
    moose__tbuf scratch;
    char path[1024];
} sqlite_table;

typedef enum affinity { AFF_TEXT, AFF_NUMERIC, AFF_INTEGER, AFF_REAL, AFF_BLOB } affinity;

static const char *const affinity_names[] = {"TEXT", "NUMERIC", "INTEGER", "REAL", "BLOB"};

/* SQLite's own rules (datatype3.html, 3.1) for the affinity of a declared type. */
static affinity affinity_of(const char *decl) {
    if (!decl || !*decl)
        return AFF_BLOB;
    char up[128];
    size_t i;
    for (i = 0; decl[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
    up[i] = '\0';
    if (strstr(up, "INT"))
        return AFF_INTEGER;
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return AFF_TEXT;
    if (strstr(up, "BLOB"))
        return AFF_BLOB;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return AFF_REAL;
    return AFF_NUMERIC;
}

static affinity field_affinity(const moose_field_desc *field) {
    if (field->flags & MOOSE_FIELD_ARRAY)
        return AFF_TEXT;
    switch (field->type) {
    case MOOSE_TYPE_BOOL:
    case MOOSE_TYPE_INT8:
    case MOOSE_TYPE_INT16:
    case MOOSE_TYPE_INT32:
    case MOOSE_TYPE_INT64:
    case MOOSE_TYPE_UINT8:
    case MOOSE_TYPE_UINT16:
    case MOOSE_TYPE_UINT32:
    case MOOSE_TYPE_UINT64:
        return AFF_INTEGER;
    case MOOSE_TYPE_FLOAT32:
    case MOOSE_TYPE_FLOAT64:
        return AFF_REAL;
    default:
        return AFF_TEXT;
    }
}

/*
 * Whether a column of affinity HAVE holds the field's values. A DECIMAL(p, s)
 * column (NUMERIC) made by hand holds a Decimal field's text as a number:
 * rounded, but what its author asked for.
 */
static bool affinity_fits(const moose_field_desc *field, affinity want, affinity have) {
    if (have == want || have == AFF_BLOB)
        return true;
    if (field->type == MOOSE_TYPE_DECIMAL && !(field->flags & MOOSE_FIELD_ARRAY))
        return have == AFF_NUMERIC || have == AFF_REAL;
    switch (want) {
    case AFF_INTEGER:
    case AFF_REAL:
        return have == AFF_NUMERIC || (want == AFF_INTEGER && have == AFF_REAL);
    default:
        return false;
    }
}

static void quote_ident(moose__tbuf *buf, const char *name) {
    moose__tbuf_put(buf, "\"", 1);
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            moose__tbuf_put(buf, "\"", 1);
        moose__tbuf_put(buf, p, 1);
    }
    moose__tbuf_put(buf, "\"", 1);
}

static void generated_ddl(moose__tbuf *buf, const moose_table_desc *desc) {
    const moose_model_desc *model = desc->model;
    moose__tbuf_puts(buf, "CREATE TABLE IF NOT EXISTS ");
    quote_ident(buf, desc->name);
    moose__tbuf_puts(buf, " (");
    for (uint32_t i = 0; i < model->nfields; i++) {
        const moose_field_desc *field = &model->fields[i];
        if (i)
            moose__tbuf_puts(buf, ", ");
        quote_ident(buf, field->name);
        moose__tbuf_puts(buf, " ");
        moose__tbuf_puts(buf, affinity_names[field_affinity(field)]);
        if (!(field->flags & MOOSE_FIELD_OPTIONAL))
            moose__tbuf_puts(buf, " NOT NULL");
        if ((int32_t)i == model->key_field)
            moose__tbuf_puts(buf, " PRIMARY KEY");
    }
    moose__tbuf_puts(buf, ")");
}

typedef struct column_info {
    char name[128];
    char type[128];
    bool notnull, has_default, pk, matched;
} column_info;

/* Reads PRAGMA table_info into *COLS (malloc'd); *N is 0 when the table is missing. */
static int read_columns(moose__table *table, sqlite_table *st, column_info **cols, size_t *n,
                        char *errstr, size_t errstr_size) {
    *cols = NULL;
    *n = 0;
    moose__tbuf_reset(&st->scratch);
    moose__tbuf_puts(&st->scratch, "PRAGMA table_info(");
    quote_ident(&st->scratch, table->desc->name);
    moose__tbuf_puts(&st->scratch, ")");
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(st->db, moose__tbuf_cstr(&st->scratch), -1, &stmt, NULL) != SQLITE_OK) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): cannot read its columns: %s",
                          table->desc->name, table->display_url, sqlite3_errmsg(st->db));
        return MOOSE_ETABLEDOWN;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            column_info *grown = realloc(*cols, cap * sizeof **cols);
            if (!grown) {
                sqlite3_finalize(stmt);
                free(*cols);
                *cols = NULL;
                moose__table_errf(errstr, errstr_size, "table %s: out of memory",
                                  table->desc->name);
                return MOOSE_ENOMEM;
            }
            *cols = grown;
        }
        column_info *c = &(*cols)[(*n)++];
        memset(c, 0, sizeof *c);
        const char *name = (const char *)sqlite3_column_text(stmt, 1);
        const char *type = (const char *)sqlite3_column_text(stmt, 2);
        snprintf(c->name, sizeof c->name, "%s", name ? name : "");
        snprintf(c->type, sizeof c->type, "%s", type ? type : "");
        c->notnull = sqlite3_column_int(stmt, 3) != 0;
        c->has_default = sqlite3_column_type(stmt, 4) != SQLITE_NULL;
        c->pk = sqlite3_column_int(stmt, 5) != 0;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        free(*cols);
        *cols = NULL;
        *n = 0;
        moose__table_errf(errstr, errstr_size, "table %s (%s): cannot read its columns: %s",
                          table->desc->name, table->display_url, sqlite3_errmsg(st->db));
        return MOOSE_ETABLEDOWN;
    }
    return MOOSE_OK;
}

static int exec_sql(moose__table *table, sqlite_table *st, const char *sql, const char *what,
                    char *errstr, size_t errstr_size) {
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): %s failed: %s", table->desc->name,
                          table->display_url, what, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return MOOSE_ESCHEMA;
    }
    return MOOSE_OK;
}

/* Creates the table if missing, then checks every field against its column. */
static int ensure_table(moose__table *table, sqlite_table *st, char *errstr, size_t errstr_size) {
    const moose_table_desc *desc = table->desc;
    const moose_model_desc *model = table->model;
    column_info *cols;
    size_t ncols;
    int rc = read_columns(table, st, &cols, &ncols, errstr, errstr_size);
    if (rc)
        return rc;
    if (ncols == 0) {
        const char *ddl = desc->ddl_sqlite;
        if (!ddl) {
            moose__tbuf_reset(&st->scratch);
            generated_ddl(&st->scratch, desc);
            ddl = moose__tbuf_cstr(&st->scratch);
        }
        rc = exec_sql(table, st, ddl, "CREATE TABLE", errstr, errstr_size);
        if (rc)
            return rc;
        moose__table_log(table, "info", "table %s (%s): created", desc->name, table->display_url);
        rc = read_columns(table, st, &cols, &ncols, errstr, errstr_size);
        if (rc)
            return rc;
        if (ncols == 0) {
            moose__table_errf(errstr, errstr_size,
                              "table %s (%s): its CREATE TABLE statement did not create a table "
                              "of that name",
                              desc->name, table->display_url);
            return MOOSE_ESCHEMA;
        }
    }
    for (uint32_t i = 0; i < model->nfields && rc == MOOSE_OK; i++) {
        const moose_field_desc *field = &model->fields[i];
        affinity want = field_affinity(field);
        column_info *col = NULL;
        for (size_t j = 0; j < ncols; j++)
            if (strcasecmp(cols[j].name, field->name) == 0)
                col = &cols[j];
        if (!col && (field->flags & MOOSE_FIELD_OPTIONAL)) {
            moose__tbuf_reset(&st->scratch);
            moose__tbuf_puts(&st->scratch, "ALTER TABLE ");
            quote_ident(&st->scratch, desc->name);
            moose__tbuf_puts(&st->scratch, " ADD COLUMN ");
            quote_ident(&st->scratch, field->name);
            moose__tbuf_puts(&st->scratch, " ");
            moose__tbuf_puts(&st->scratch, affinity_names[want]);
            rc = exec_sql(table, st, moose__tbuf_cstr(&st->scratch), "adding a column", errstr,
                          errstr_size);
            if (rc == MOOSE_OK)
                moose__table_log(table, "info",
                                 "table %s (%s): added column \"%s\" %s for the new optional "
                                 "field %s.%s",
                                 desc->name, table->display_url, field->name, affinity_names[want],
                                 model->name, field->name);
        } else if (!col) {
            moose__table_errf(errstr, errstr_size,
                              "table %s (%s) has no column \"%s\" for the required field %s.%s: "
                              "add the column or let the table be re-created",
                              desc->name, table->display_url, field->name, model->name,
                              field->name);
            rc = MOOSE_ESCHEMA;
        } else {
            col->matched = true;
            affinity have = affinity_of(col->type);
            if (!affinity_fits(field, want, have)) {
                moose__table_errf(errstr, errstr_size,
                                  "table %s (%s): column \"%s\" is %s (%s affinity) but field "
                                  "%s.%s needs %s",
                                  desc->name, table->display_url, col->name,
                                  col->type[0] ? col->type : "untyped", affinity_names[have],
                                  model->name, field->name, affinity_names[want]);
                rc = MOOSE_ESCHEMA;
            }
        }
    }
    for (size_t j = 0; j < ncols && rc == MOOSE_OK; j++) {
        const column_info *c = &cols[j];
        bool rowid_alias =
            c->pk && affinity_of(c->type) == AFF_INTEGER && strcasecmp(c->type, "INTEGER") == 0;
        if (!c->matched && c->notnull && !c->has_default && !rowid_alias) {
            moose__table_errf(errstr, errstr_size,
                              "table %s (%s): column \"%s\" is NOT NULL without a default and "
                              "model %s has no field for it",
                              desc->name, table->display_url, c->name, model->name);
            rc = MOOSE_ESCHEMA;
        }
    }
    free(cols);
    return rc;
}

/* The upsert of ROWS rows into SCRATCH. */
static void upsert_sql(moose__table *table, sqlite_table *st, size_t rows) {
    const moose_model_desc *model = table->model;
    moose__tbuf *b = &st->scratch;
    moose__tbuf_reset(b);
    moose__tbuf_puts(b, "INSERT INTO ");
    quote_ident(b, table->desc->name);
    moose__tbuf_puts(b, " (");
    for (uint32_t i = 0; i < model->nfields; i++) {
        if (i)
            moose__tbuf_puts(b, ", ");
        quote_ident(b, model->fields[i].name);
    }
    moose__tbuf_puts(b, ") VALUES ");
    for (size_t r = 0; r < rows; r++) {
        moose__tbuf_puts(b, r ? ", (" : "(");
        for (uint32_t i = 0; i < model->nfields; i++)
            moose__tbuf_puts(b, i ? ", ?" : "?");
        moose__tbuf_puts(b, ")");
    }
    if (model->key_field >= 0) {
        moose__tbuf_puts(b, " ON CONFLICT(");
        quote_ident(b, model->fields[model->key_field].name);
        moose__tbuf_puts(b, ") DO ");
        if (model->nfields == 1) {
            moose__tbuf_puts(b, "NOTHING");
        } else {
            moose__tbuf_puts(b, "UPDATE SET ");
            bool first = true;
            for (uint32_t i = 0; i < model->nfields; i++) {
                if ((int32_t)i == model->key_field)
                    continue;
                if (!first)
                    moose__tbuf_puts(b, ", ");
                first = false;
                quote_ident(b, model->fields[i].name);
                moose__tbuf_puts(b, " = excluded.");
                quote_ident(b, model->fields[i].name);
            }
        }
    }
}

/*
 * The many-rows upsert, when the connection allows that many parameters.
 * Without it every row goes alone, which is only slower.
 */
static int prepare_upsert_many(moose__table *table, sqlite_table *st, char *errstr,
                               size_t errstr_size) {
    size_t nfields = table->model->nfields;
    size_t rows = SQLITE_ROWS_PER_STMT;
    int max_vars = sqlite3_limit(st->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    if (nfields == 0 || max_vars <= 0)
        return MOOSE_OK;
    if (rows * nfields > (size_t)max_vars)
        rows = (size_t)max_vars / nfields;
    if (rows < 2)
        return MOOSE_OK;
    upsert_sql(table, st, rows);
    st->texts = calloc(rows * nfields, sizeof *st->texts);
    if (st->scratch.failed || !st->texts) {
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    if (sqlite3_prepare_v3(st->db, moose__tbuf_cstr(&st->scratch), -1, SQLITE_PREPARE_PERSISTENT,
                           &st->upsert_many, NULL) != SQLITE_OK) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): cannot prepare the insert: %s",
                          table->desc->name, table->display_url, sqlite3_errmsg(st->db));
        return MOOSE_ESCHEMA;
    }
    st->rows_per_stmt = rows;
    return MOOSE_OK;
}

static int prepare_upsert(moose__table *table, sqlite_table *st, char *errstr, size_t errstr_size) {
    const moose_model_desc *model = table->model;
    moose__tbuf *b = &st->scratch;
    upsert_sql(table, st, 1);
    if (b->failed) {
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    if (sqlite3_prepare_v3(st->db, moose__tbuf_cstr(b), -1, SQLITE_PREPARE_PERSISTENT, &st->upsert,
                           NULL) != SQLITE_OK) {
        const char *msg = sqlite3_errmsg(st->db);
        if (model->key_field >= 0 && strstr(msg, "ON CONFLICT"))
            moose__table_errf(errstr, errstr_size,
                              "table %s (%s): the Key column \"%s\" needs a PRIMARY KEY or "
                              "UNIQUE constraint so that inserts are idempotent (%s)",
                              table->desc->name, table->display_url,
                              model->fields[model->key_field].name, msg);
        else
            moose__table_errf(errstr, errstr_size, "table %s (%s): cannot prepare the insert: %s",
                              table->desc->name, table->display_url, msg);
        return MOOSE_ESCHEMA;
    }
    if (sqlite3_prepare_v3(st->db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &st->begin,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &st->commit, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(st->db, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &st->rollback,
                           NULL) != SQLITE_OK) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): %s", table->desc->name,
                          table->display_url, sqlite3_errmsg(st->db));
        return MOOSE_ETABLEDOWN;
    }
    return prepare_upsert_many(table, st, errstr, errstr_size);
}

static void sqlite_close(moose__table *table) {
    sqlite_table *st = table->impl;
    if (!st)
        return;
    sqlite3_finalize(st->upsert);
    sqlite3_finalize(st->upsert_many);
    free(st->texts);
    sqlite3_finalize(st->begin);
    sqlite3_finalize(st->commit);
    sqlite3_finalize(st->rollback);
    sqlite3_close_v2(st->db);
    moose__tbuf_free(&st->scratch);
    free(st);
    table->impl = NULL;
}

static int sqlite_open(moose__table *table, const moose__table_url *url, char *errstr,
                       size_t errstr_size) {
    sqlite_table *st = calloc(1, sizeof *st);
    if (!st) {
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    table->impl = st;
    moose__tbuf_init(&st->scratch);
    snprintf(st->path, sizeof st->path, "%s", url->path);
    int rc = sqlite3_open_v2(
        url->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): cannot open the database: %s",
                          table->desc->name, table->display_url,
                          st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        sqlite_close(table);
        return MOOSE_ETABLEDOWN;
    }
    /*
     * WAL lets readers look at the table while a batch is written; FULL makes
     * a committed batch survive power loss, which matters because its Kafka
     * offsets are committed right after: it costs one fsync per batch.
     */
    sqlite3_busy_timeout(st->db, 10000);
    char *msg = NULL;
    if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                     &msg) != SQLITE_OK) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): cannot switch to WAL: %s",
                          table->desc->name, table->display_url,
                          msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        sqlite_close(table);
        return MOOSE_ETABLEDOWN;
    }
    rc = ensure_table(table, st, errstr, errstr_size);
    if (rc == MOOSE_OK)
        rc = prepare_upsert(table, st, errstr, errstr_size);
    if (rc)
        sqlite_close(table);
    return rc;
}

/*
 * Binds FIELD of REC to parameter COL. Text made here goes into SLOT when
 * there is one (it outlives the step: no copy), else SQLite copies it.
 */
static int bind_value(sqlite_table *st, sqlite3_stmt *stmt, int col, const moose_field_desc *field,
                      const void *rec, char *slot) {
    if (!moose__field_present(field, rec))
        return sqlite3_bind_null(stmt, col);
    const char *at = (const char *)rec + field->offset;
    char own[MOOSE__FMT_MAX];
    char *tmp = slot ? slot : own;
    sqlite3_destructor_type keep = slot ? SQLITE_STATIC : SQLITE_TRANSIENT;
    size_t n;
    if ((field->flags & MOOSE_FIELD_ARRAY) || field->type == MOOSE_TYPE_MODEL) {
        moose__tbuf_reset(&st->scratch);
        moose__json_field(&st->scratch, field, rec);
        if (st->scratch.failed)
            return SQLITE_NOMEM;
        return sqlite3_bind_text(stmt, col, st->scratch.data, (int)st->scratch.len,
                                 SQLITE_TRANSIENT);
    }
    switch (field->type) {
    case MOOSE_TYPE_STRING: {
        const moose_str *s = (const moose_str *)at;
        /* The record outlives the step: no copy. */
        return sqlite3_bind_text(stmt, col, s->ptr ? s->ptr : "", (int)s->len, SQLITE_STATIC);
    }
    case MOOSE_TYPE_FLOAT32:
        return sqlite3_bind_double(stmt, col, *(const float *)at);
    case MOOSE_TYPE_FLOAT64:
        return sqlite3_bind_double(stmt, col, *(const double *)at);
    case MOOSE_TYPE_UINT64: {
        uint64_t v = *(const uint64_t *)at;
        if (v <= INT64_MAX)
            return sqlite3_bind_int64(stmt, col, (sqlite3_int64)v);
        n = moose__fmt_uint64(v, tmp);
        return sqlite3_bind_text(stmt, col, tmp, (int)n, keep);
    }
    case MOOSE_TYPE_DATETIME:
        n = moose__fmt_datetime(*(const int64_t *)at, tmp);
        return sqlite3_bind_text(stmt, col, tmp, (int)n, keep);
    case MOOSE_TYPE_DATE:
        n = moose__fmt_date(*(const int32_t *)at, tmp);
        return sqlite3_bind_text(stmt, col, tmp, (int)n, keep);
    case MOOSE_TYPE_UUID:
        n = moose__fmt_uuid((const moose_uuid *)at, tmp);
        return sqlite3_bind_text(stmt, col, tmp, (int)n, keep);
    case MOOSE_TYPE_DECIMAL:
        n = moose__fmt_decimal(*(const int64_t *)at, field->decimal_scale, tmp);
        return sqlite3_bind_text(stmt, col, tmp, (int)n, keep);
    case MOOSE_TYPE_ENUM: {
        int v = *(const int *)at;
        if (v < 0 || (uint32_t)v >= field->enum_count)
            return sqlite3_bind_null(stmt, col);
        return sqlite3_bind_text(stmt, col, field->enum_values[v], -1, SQLITE_STATIC);
    }
    default:
        return sqlite3_bind_int64(stmt, col, moose__field_int(field, at));
    }
}

/* Errors about one row, after which the transaction goes on (the statement alone is undone). */
static bool row_level_error(int rc) {
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return true;
    default:
        return false;
    }
}

/*
 * Upserts one row with the one-row statement. SQLITE_DONE, or SQLite's code
 * for why not, with the statement reset (a refused row undoes only itself).
 */
static int upsert_one(sqlite_table *st, const moose_model_desc *model, const void *rec) {
    sqlite3_stmt *stmt = st->upsert;
    int rc = SQLITE_OK;
    for (uint32_t f = 0; f < model->nfields && rc == SQLITE_OK; f++)
        rc = bind_value(st, stmt, (int)f + 1, &model->fields[f], rec, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc;
}

/* Upserts ROWS_PER_STMT rows with one statement: SQLITE_DONE or SQLite's code, reset. */
static int upsert_many(sqlite_table *st, const moose_model_desc *model, const void *const *recs) {
    sqlite3_stmt *stmt = st->upsert_many;
    uint32_t nfields = model->nfields;
    int rc = SQLITE_OK;
    for (size_t r = 0; r < st->rows_per_stmt && rc == SQLITE_OK; r++)
        for (uint32_t f = 0; f < nfields && rc == SQLITE_OK; f++) {
            size_t param = r * nfields + f;
            rc = bind_value(st, stmt, (int)param + 1, &model->fields[f], recs[r], st->texts[param]);
        }
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc;
}

static int sqlite_insert(moose__table *table, const void *const *recs, size_t n, size_t base,
                         moose__table_rejects *rejects, size_t *bad_row, char *errstr,
                         size_t errstr_size) {
    sqlite_table *st = table->impl;
    const moose_model_desc *model = table->model;
    *bad_row = SIZE_MAX;
    int rc = sqlite3_step(st->begin);
    sqlite3_reset(st->begin);
    if (rc != SQLITE_DONE) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): cannot begin a transaction: %s",
                          table->desc->name, table->display_url, sqlite3_errmsg(st->db));
        return MOOSE_ETABLEDOWN;
    }
    /*
     * Whole groups of rows go in one statement each. A group with a refused
     * row is undone by SQLite as a whole (the transaction goes on), and its
     * rows are then upserted one by one below, which names the refused ones.
     */
    size_t singles_until = 0; /* rows before this index go one by one */
    for (size_t i = 0; i < n;) {
        if (i >= singles_until && st->upsert_many && n - i >= st->rows_per_stmt) {
            rc = upsert_many(st, model, recs + i);
            if (rc == SQLITE_DONE) {
                i += st->rows_per_stmt;
                continue;
            }
            if (!row_level_error(rc))
                goto failed;
            singles_until = i + st->rows_per_stmt;
        }
        rc = upsert_one(st, model, recs[i]);
        if (rc != SQLITE_DONE) {
            if (!row_level_error(rc))
                goto failed;
            if (!moose__table_rejects_add(rejects, base + i, sqlite3_errmsg(st->db))) {
                rc = SQLITE_NOMEM;
                goto failed;
            }
            moose__table_log(table, "warn", "table %s (%s): row %zu of the batch rejected: %s",
                             table->desc->name, table->display_url, base + i,
                             sqlite3_errmsg(st->db));
        }
        i++;
    }
    rc = sqlite3_step(st->commit);
    sqlite3_reset(st->commit);
    if (rc != SQLITE_DONE) {
        moose__table_errf(errstr, errstr_size, "table %s (%s): commit failed: %s",
                          table->desc->name, table->display_url, sqlite3_errmsg(st->db));
        sqlite3_step(st->rollback);
        sqlite3_reset(st->rollback);
        return MOOSE_ETABLEDOWN;
    }
    return MOOSE_OK;
failed:
    moose__table_errf(errstr, errstr_size, "table %s (%s): insert failed: %s", table->desc->name,
                      table->display_url,
                      rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(st->db));
    sqlite3_step(st->rollback);
    sqlite3_reset(st->rollback);
    return rc == SQLITE_NOMEM ? MOOSE_ENOMEM : MOOSE_ETABLEDOWN;
}

const moose__table_backend moose__sqlite_backend = {
    .kind = "sqlite",
    .open = sqlite_open,
    .insert = sqlite_insert,
    .close = sqlite_close,
};
