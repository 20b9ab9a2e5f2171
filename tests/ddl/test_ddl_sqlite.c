/*
 * The SQLite DDL that moosec generates, fed to the real SQLite library: every
 * statement is accepted, the columns come out with the documented types and
 * nullability, and the primary key on the Key takes the sink's upserts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "gen.h"
#include "parse.h"
#include "sema.h"

#ifndef DDL_SCHEMA_DIR
#error "DDL_SCHEMA_DIR must name tests/ddl/schemas"
#endif

typedef struct loaded {
    moosec_schema schema;
    sqlite3 *db;
} loaded;

/* Parses, checks and creates every table of SCHEMAS/NAME in a fresh in-memory database. */
static loaded *load(const char *name) {
    loaded *l = test_calloc(1, sizeof(*l));
    assert_non_null(l);
    moosec_schema_init(&l->schema);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DDL_SCHEMA_DIR, name);
    char err[512];
    moosec_source *src = moosec_source_read(path, err, sizeof err);
    if (!src)
        fail_msg("%s", err);
    moosec_diag diag;
    moosec_diag_init(&diag, stderr);
    moosec_parse(&l->schema, src, &diag);
    assert_int_equal(diag.errors, 0);
    moosec_sema_check(&l->schema, &diag);
    assert_int_equal(diag.errors, 0);
    assert_int_equal(moosec_ddl_check(&l->schema, &diag), 0);

    assert_int_equal(sqlite3_open(":memory:", &l->db), SQLITE_OK);
    for (size_t i = 0; i < l->schema.tables.len; i++) {
        const char *sql =
            moosec_ddl_table(&l->schema.arena, l->schema.tables.items[i], MOOSEC_DDL_SQLITE);
        assert_non_null(sql);
        /* twice: IF NOT EXISTS makes a restart harmless */
        for (int round = 0; round < 2; round++) {
            char *msg = NULL;
            if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK)
                fail_msg("SQLite refused the DDL of %s (%s):\n%s", l->schema.tables.items[i]->name,
                         msg ? msg : "?", sql);
        }
    }
    return l;
}

static void unload(loaded *l) {
    sqlite3_close(l->db);
    moosec_schema_free(&l->schema);
    test_free(l);
}

static void exec_ok(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t query_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* "name type notnull pk;" for every column, in order, from PRAGMA table_info. */
static void table_shape(sqlite3 *db, const char *table, char *buf, size_t size) {
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA table_info(\"%s\")", table);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    size_t off = 0;
    buf[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        int n = snprintf(buf + off, size - off, "%s %s %d %d;",
                         (const char *)sqlite3_column_text(st, 1),
                         (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3),
                         sqlite3_column_int(st, 5));
        assert_true(n > 0 && (size_t)n < size - off);
        off += (size_t)n;
    }
    sqlite3_finalize(st);
}

static void every_valid_schema_is_accepted(void **state) {
    (void)state;
    static const char *const schemas[] = {"all_types.moose", "engines.moose", "enum16.moose",
                                          "fan_out.moose", "raw_to_processed.moose"};
    static const size_t ntables[] = {1, 4, 1, 2, 2};
    for (size_t i = 0; i < sizeof schemas / sizeof *schemas; i++) {
        loaded *l = load(schemas[i]);
        assert_int_equal(query_int(l->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"),
                         ntables[i]);
        unload(l);
    }
}

static void columns_have_the_documented_types(void **state) {
    (void)state;
    loaded *l = load("all_types.moose");
    char shape[4096];
    table_shape(l->db, "EverythingTable", shape, sizeof shape);
    assert_string_equal(shape,
                        "id TEXT 1 1;name TEXT 1 0;active INTEGER 1 0;i8 INTEGER 1 0;"
                        "i16 INTEGER 1 0;i32 INTEGER 1 0;i64 INTEGER 1 0;u8 INTEGER 1 0;"
                        "u16 INTEGER 1 0;u32 INTEGER 1 0;u64 INTEGER 1 0;f32 REAL 1 0;"
                        "f64 REAL 1 0;at TEXT 1 0;day TEXT 1 0;price TEXT 1 0;level TEXT 1 0;"
                        "note TEXT 0 0;count INTEGER 0 0;seen TEXT 0 0;scores TEXT 1 0;"
                        "labels TEXT 0 0;home TEXT 1 0;work TEXT 0 0;past TEXT 1 0;"
                        "table TEXT 1 0;stream INTEGER 0 0;");
    /* a required column refuses NULL: the sink cannot silently drop a value */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(l->db,
                                        "INSERT INTO EverythingTable (id, name) VALUES ('a', NULL)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_CONSTRAINT);
    sqlite3_finalize(st);
    unload(l);
}

/*
 * The sink writes `INSERT ... ON CONFLICT (<Key>) DO UPDATE`: every keyed table,
 * whatever its sort key or engine, must accept it, and a replay changes nothing.
 */
static void keyed_tables_upsert_on_the_key(void **state) {
    (void)state;
    loaded *l = load("engines.moose");
    static const char *const keyed[] = {"Latest", "History", "EveryReading"};
    for (size_t t = 0; t < sizeof keyed / sizeof *keyed; t++) {
        char shape[1024], sql[512];
        table_shape(l->db, keyed[t], shape, sizeof shape);
        assert_string_equal(shape, "sensor INTEGER 1 1;at TEXT 1 0;value REAL 1 0;");
        for (int i = 0; i < 3; i++) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO \"%s\" (\"sensor\", \"at\", \"value\") VALUES "
                     "(7, '2024-03-20T12:00:0%d.000000Z', %d.5) ON CONFLICT (\"sensor\") DO "
                     "UPDATE SET \"at\" = excluded.\"at\", \"value\" = excluded.\"value\"",
                     keyed[t], i, i);
            exec_ok(l->db, sql);
        }
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", keyed[t]);
        assert_int_equal(query_int(l->db, sql), 1);
        snprintf(sql, sizeof sql, "SELECT CAST(value * 10 AS INTEGER) FROM \"%s\"", keyed[t]);
        assert_int_equal(query_int(l->db, sql), 25); /* the last write wins */
    }
    unload(l);
}

/* A table without a Key has nothing to upsert on: it keeps every row. */
static void keyless_tables_keep_every_row(void **state) {
    (void)state;
    loaded *l = load("engines.moose");
    char shape[1024];
    table_shape(l->db, "Logs", shape, sizeof shape);
    assert_string_equal(shape, "at TEXT 1 0;host TEXT 1 0;message TEXT 1 0;");
    for (int i = 0; i < 2; i++)
        exec_ok(l->db, "INSERT INTO Logs VALUES ('2024-03-20T12:00:00.000000Z', 'h', 'm')");
    assert_int_equal(query_int(l->db, "SELECT count(*) FROM Logs"), 2);
    unload(l);
}

/* DateTime text with six fraction digits sorts in time order, which ORDER BY relies on. */
static void datetime_text_sorts_chronologically(void **state) {
    (void)state;
    loaded *l = load("engines.moose");
    exec_ok(l->db, "INSERT INTO Logs VALUES ('2024-03-20T12:00:10.000000Z', 'h', 'b')");
    exec_ok(l->db, "INSERT INTO Logs VALUES ('2024-03-20T12:00:09.500000Z', 'h', 'a')");
    exec_ok(l->db, "INSERT INTO Logs VALUES ('1999-12-31T23:59:59.999999Z', 'h', 'first')");
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(l->db, "SELECT group_concat(message, ',') FROM "
                                  "(SELECT message FROM Logs ORDER BY at)",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "first,a,b");
    sqlite3_finalize(st);
    unload(l);
}

static void unknown_dialect_gives_no_ddl(void **state) {
    (void)state;
    loaded *l = load("fan_out.moose");
    assert_null(moosec_ddl_table(&l->schema.arena, l->schema.tables.items[0], "postgres"));
    assert_false(moosec_ddl_dialect_known("postgres"));
    assert_true(moosec_ddl_dialect_known("clickhouse"));
    assert_int_equal(moosec_ddl_print(stdout, &l->schema, "mysql"), -1);
    unload(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_valid_schema_is_accepted),
        cmocka_unit_test(columns_have_the_documented_types),
        cmocka_unit_test(keyed_tables_upsert_on_the_key),
        cmocka_unit_test(keyless_tables_keep_every_row),
        cmocka_unit_test(datetime_text_sorts_chronologically),
        cmocka_unit_test(unknown_dialect_gives_no_ddl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
