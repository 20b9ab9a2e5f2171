/* The SQLite table store against the real libsqlite3: rows, upserts, poison rows, schema checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event_model.h"
#include "moose/error.h"
#include "table.h"

/* Enough rows for whole many-row statements and a tail of single rows after them. */
#define NROWS 150

static char keys[NROWS][32];
static Event rows[NROWS];
static const void *row_ptrs[NROWS];

static char log_text[8192];
static void capture_log(void *opaque, const char *level, const char *message) {
    (void)opaque;
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%s: %s\n", level, message);
}

static const moose__table_options capture = {.log = capture_log};

static void fill_rows(void) {
    for (int i = 0; i < NROWS; i++) {
        event_fill(&rows[i], i, keys[i], sizeof keys[i]);
        row_ptrs[i] = &rows[i];
    }
}

static void fresh_db(const char *path) {
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    log_text[0] = '\0';
}

static void sql(const char *path, const char *statement) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, statement, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", statement, err);
    sqlite3_close(db);
}

/* Every row of TABLE as "col|col|...\n" lines ordered by id (NULL shown as NULL). */
static char *dump(const char *path, const char *table) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT id, value, timestamp, source, amount, tags, count, flag, day, uid, price, "
             "big FROM \"%s\" ORDER BY id",
             table);
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &stmt, NULL), SQLITE_OK);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(stmt); c++) {
            const char *v = (const char *)sqlite3_column_text(stmt, c);
            len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "|" : "", v ? v : "NULL");
        }
        len += (size_t)snprintf(out + len, cap - len, "\n");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

/* A REAL as SQLite shows it: 15 significant digits, and ".0" on whole numbers. */
static const char *sqlite_real(char *out, size_t size, double v) {
    snprintf(out, size, "%.15g", v);
    if (!strpbrk(out, ".en"))
        strcat(out, ".0");
    return out;
}

/* What row I must look like, computed without the library's formatting code. */
static void expected_row(char *out, size_t size, int i, double value) {
    time_t t = 1710936000 + i;
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[64], day[16];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
    time_t d = (time_t)(19802 + i % 30) * 86400;
    gmtime_r(&d, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    static const char *const tags[] = {"[]", "[\"red\"]", "[\"red\",\"green \\\"quoted\\\"\"]",
                                       "[\"red\",\"green \\\"quoted\\\"\",\"tab\\there\"]"};
    static const char *const sources[] = {"web", "ios", "android"};
    char amount[32];
    if (i % 2 == 0)
        sqlite_real(amount, sizeof amount, i * 0.25);
    else
        snprintf(amount, sizeof amount, "NULL");
    char uid[40];
    int n = 0;
    for (int b = 0; b < 16; b++) {
        if (b == 4 || b == 6 || b == 8 || b == 10)
            uid[n++] = '-';
        n += snprintf(uid + n, sizeof uid - (size_t)n, "%02x", (unsigned)(uint8_t)(i * 16 + b));
    }
    /* Decimal is exact text with its scale's digits: 12.40 stays 12.40. */
    char value_text[32];
    snprintf(out, size, "key-%06d|%s|%s|%s|%s|%s|%d|%d|%s|%s|%d.%02d|%llu\n", i,
             sqlite_real(value_text, sizeof value_text, value), ts, sources[i % 3], amount,
             tags[i % 4], i * 7 - 3, i % 5 == 0, day, uid, (1234 + i) / 100, (1234 + i) % 100,
             (unsigned long long)((1ULL << 62) + (uint64_t)i * 1000003u));
}

static char *expected_dump(int n, const double *values) {
    char *out = calloc(1, 1 << 16);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        expected_row(out + len, (1 << 16) - len, i, values ? values[i] : i * 1.5);
        len += strlen(out + len);
    }
    return out;
}

static void test_rows_land_exactly(void **state) {
    (void)state;
    const char *path = "sqlite_rows.db";
    fresh_db(path);
    fill_rows();
    moose_table_desc desc = event_table("events");
    moose__table *t;
    char err[512] = "";
    int rc = moose__table_open("sqlite:sqlite_rows.db", &desc, &capture, &t, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_string_equal(moose__table_kind(t), "sqlite");
    assert_string_equal(moose__table_display_url(t), "sqlite:sqlite_rows.db");
    assert_non_null(strstr(log_text, "info: table events (sqlite:sqlite_rows.db): created"));

    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    assert_int_equal(rejects.len, 0);

    char *got = dump(path, "events"), *want = expected_dump(NROWS, NULL);
    assert_string_equal(got, want);
    free(got);

    /* A replay of the same batch, with new values for some keys, changes those rows only. */
    double values[NROWS];
    for (int i = 0; i < NROWS; i++)
        values[i] = i % 10 == 0 ? -(double)i - 0.5 : i * 1.5;
    for (int i = 0; i < NROWS; i += 10)
        rows[i].value = values[i];
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    got = dump(path, "events");
    free(want);
    want = expected_dump(NROWS, values);
    assert_string_equal(got, want);
    free(got);
    free(want);

    moose__table_stats stats;
    moose__table_get_stats(t, &stats);
    assert_int_equal(stats.rows_stored, 3 * NROWS);
    assert_int_equal(stats.rows_rejected, 0);
    moose__table_rejects_free(&rejects);
    moose__table_close(t);

    /* The journal is WAL, so readers never wait for a batch. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_poison_rows_isolated(void **state) {
    (void)state;
    const char *path = "sqlite_poison.db";
    fresh_db(path);
    fill_rows();
    /* The table knows a rule the model does not: value must not be negative. */
    sql(path, "CREATE TABLE events (id TEXT PRIMARY KEY, value REAL NOT NULL CHECK (value >= 0), "
              "timestamp TEXT NOT NULL, source TEXT NOT NULL, amount REAL, tags TEXT NOT NULL, "
              "count INTEGER NOT NULL, flag INTEGER NOT NULL, day TEXT NOT NULL, uid TEXT NOT "
              "NULL, price TEXT NOT NULL, big INTEGER NOT NULL)");
    /* Two in the first many-row statement, one in the second, one in the single-row tail. */
    rows[3].value = -1;
    rows[17].value = -2;
    rows[100].value = -3;
    rows[140].value = -4;
    moose_table_desc desc = event_table("events");
    moose__table *t;
    char err[512] = "";
    assert_int_equal(
        moose__table_open("sqlite:sqlite_poison.db", &desc, &capture, &t, err, sizeof err), 0);
    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    assert_int_equal(rejects.len, 4);
    const size_t refused[] = {3, 17, 100, 140};
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(rejects.items[r].index, refused[r]);
        assert_string_equal(rejects.items[r].message, "CHECK constraint failed: value >= 0");
    }

    /* Every other row landed, exactly. */
    char *got = dump(path, "events"), *all = expected_dump(NROWS, NULL);
    char want[1 << 16] = "";
    char *save = NULL;
    int i = 0;
    for (char *line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++)
        if (i != 3 && i != 17 && i != 100 && i != 140) {
            strcat(want, line);
            strcat(want, "\n");
        }
    assert_string_equal(got, want);
    free(got);
    free(all);
    moose__table_stats stats;
    moose__table_get_stats(t, &stats);
    assert_int_equal(stats.rows_stored, NROWS - 4);
    assert_int_equal(stats.rows_rejected, 4);
    moose__table_rejects_free(&rejects);
    moose__table_close(t);
}

static void open_expect(const char *url, int want_rc, const char *want_err) {
    moose_table_desc desc = event_table("events");
    moose__table *t = NULL;
    char err[512] = "";
    int rc = moose__table_open(url, &desc, &capture, &t, err, sizeof err);
    assert_string_equal(err, want_err);
    assert_int_equal(rc, want_rc);
    assert_null(t);
}

static void test_schema_mismatch_is_named(void **state) {
    (void)state;
    const char *path = "sqlite_schema.db";
    fresh_db(path);
    sql(path, "CREATE TABLE events (id TEXT PRIMARY KEY, value TEXT, timestamp TEXT, source TEXT, "
              "amount REAL, tags TEXT, count INTEGER, flag INTEGER, day TEXT, uid TEXT, price "
              "NUMERIC, big INTEGER)");
    open_expect("sqlite:sqlite_schema.db", MOOSE_ESCHEMA,
                "table events (sqlite:sqlite_schema.db): column \"value\" is TEXT (TEXT affinity) "
                "but field Event.value needs REAL");

    fresh_db(path);
    sql(path, "CREATE TABLE events (id TEXT PRIMARY KEY, value REAL, source TEXT, amount REAL, "
              "tags TEXT, count INTEGER, flag INTEGER, day TEXT, uid TEXT, price NUMERIC, big "
              "INTEGER)");
    open_expect("sqlite:sqlite_schema.db", MOOSE_ESCHEMA,
                "table events (sqlite:sqlite_schema.db) has no column \"timestamp\" for the "
                "required field Event.timestamp: add the column or let the table be re-created");

    fresh_db(path);
    sql(path, "CREATE TABLE events (id TEXT, value REAL, timestamp TEXT, source TEXT, amount "
              "REAL, tags TEXT, count INTEGER, flag INTEGER, day TEXT, uid TEXT, price NUMERIC, "
              "big INTEGER)");
    open_expect("sqlite:sqlite_schema.db", MOOSE_ESCHEMA,
                "table events (sqlite:sqlite_schema.db): the Key column \"id\" needs a PRIMARY "
                "KEY or UNIQUE constraint so that inserts are idempotent (ON CONFLICT clause "
                "does not match any PRIMARY KEY or UNIQUE constraint)");

    fresh_db(path);
    sql(path, "CREATE TABLE events (id TEXT PRIMARY KEY, value REAL, timestamp TEXT, source TEXT, "
              "amount REAL, tags TEXT, count INTEGER, flag INTEGER, day TEXT, uid TEXT, price "
              "NUMERIC, big INTEGER, owner TEXT NOT NULL)");
    open_expect("sqlite:sqlite_schema.db", MOOSE_ESCHEMA,
                "table events (sqlite:sqlite_schema.db): column \"owner\" is NOT NULL without a "
                "default and model Event has no field for it");
}

static void test_new_optional_column_is_added(void **state) {
    (void)state;
    const char *path = "sqlite_migrate.db";
    fresh_db(path);
    fill_rows();
    sql(path, "CREATE TABLE events (id TEXT PRIMARY KEY, value REAL, timestamp TEXT, source TEXT, "
              "tags TEXT, count INTEGER, flag INTEGER, day TEXT, uid TEXT, price NUMERIC, big "
              "INTEGER, note TEXT)");
    moose_table_desc desc = event_table("events");
    moose__table *t;
    char err[512] = "";
    assert_int_equal(
        moose__table_open("sqlite:sqlite_migrate.db", &desc, &capture, &t, err, sizeof err), 0);
    assert_string_equal(log_text, "info: table events (sqlite:sqlite_migrate.db): added column "
                                  "\"amount\" REAL for the new optional field Event.amount\n");
    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    assert_int_equal(moose__table_insert(t, row_ptrs, 4, &rejects, err, sizeof err), 0);
    char *got = dump(path, "events"), *want = expected_dump(4, NULL);
    assert_string_equal(got, want);
    free(got);
    free(want);
    moose__table_rejects_free(&rejects);
    moose__table_close(t);
}

static void test_urls(void **state) {
    (void)state;
    open_expect("postgres://bob:hunter2@db/x", MOOSE_EINVAL,
                "table URL with scheme \"postgres\" is not supported: use sqlite:PATH or "
                "clickhouse://USER:PASS@HOST:8123/DB");
    open_expect("sqlite:", MOOSE_EINVAL,
                "table URL \"sqlite:\" needs a file path (sqlite:moose.db)");
    open_expect(
        "clickhouse://bob:hunter2@:8123/db", MOOSE_EINVAL,
        "table URL: a clickhouse:// URL needs a host (clickhouse://USER:PASS@HOST:8123/DB)");
    open_expect("clickhouse://bob:hunter2@host:99999/db", MOOSE_EINVAL,
                "table URL: the port of clickhouse://host is not a number from 1 to 65535");
    open_expect("sqlite:/nonexistent-dir/x/moose.db", MOOSE_ETABLEDOWN,
                "table events (sqlite:/nonexistent-dir/x/moose.db): cannot open the database: "
                "unable to open database file");
    /* Nothing listens on port 1: unreachable, and the password never shows. */
    moose_table_desc desc = event_table("events");
    moose__table *t = NULL;
    char err[512] = "";
    int rc = moose__table_open("clickhouse://bob:hunter2@127.0.0.1:1/db", &desc, &capture, &t, err,
                               sizeof err);
    assert_int_equal(rc, MOOSE_ETABLEDOWN);
    assert_null(strstr(err, "hunter2"));
    assert_non_null(
        strstr(err, "table events (clickhouse://bob:***@127.0.0.1:1/db) is unreachable: "));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_land_exactly),
        cmocka_unit_test(test_poison_rows_isolated),
        cmocka_unit_test(test_schema_mismatch_is_named),
        cmocka_unit_test(test_new_optional_column_is_added),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
