/*
 * The ClickHouse table store against a real clickhouse-server (Debian's
 * 18.16 here): exact rows, replays that leave one row per key (FINAL), poison
 * rows bisected out, DDL adapted to the server's version, schema checks and
 * credentials that never show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch_client.h"
#include "event_model.h"
#include "moose/error.h"
#include "table.h"

#define NROWS 50

static char keys[NROWS][32];
static Event rows[NROWS];
static const void *row_ptrs[NROWS];
static char url[256], log_text[8192];

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
    log_text[0] = '\0';
}

/* DDL as moosec writes it for a current server; 18.16 needs it adapted. */
static const char current_ddl[] = "CREATE TABLE IF NOT EXISTS `ch_events`\n"
                                  "(\n"
                                  "    `id` String,\n"
                                  "    `value` Float64,\n"
                                  "    `timestamp` DateTime64(6, 'UTC'),\n"
                                  "    `source` LowCardinality(String),\n"
                                  "    `amount` Nullable(Float64),\n"
                                  "    `tags` Array(String),\n"
                                  "    `count` Int32,\n"
                                  "    `flag` Bool,\n"
                                  "    `day` Date32,\n"
                                  "    `uid` UUID,\n"
                                  "    `price` Decimal(9, 2),\n"
                                  "    `big` UInt64\n"
                                  ")\n"
                                  "ENGINE = ReplacingMergeTree()\n"
                                  "ORDER BY (`id`);\n";

/* Row I as `SELECT ... FORMAT TabSeparatedRaw` shows it, computed without the library. */
static size_t expected_row(char *out, size_t size, int i, double value) {
    time_t t = 1710936000 + i;
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[32], day[16];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    time_t d = (time_t)(19802 + i % 30) * 86400;
    gmtime_r(&d, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    static const char *const tags[] = {"[]", "['red']", "['red','green \"quoted\"']",
                                       "['red','green \"quoted\"','tab\\there']"};
    static const char *const sources[] = {"web", "ios", "android"};
    char amount[32], uid[40];
    if (i % 2 == 0)
        snprintf(amount, sizeof amount, "%g", i * 0.25);
    else
        snprintf(amount, sizeof amount,
                 "\xe1\xb4\xba\xe1\xb5\x81\xe1\xb4\xb8\xe1\xb4\xb8"); /* TabSeparatedRaw's NULL */
    int n = 0;
    for (int b = 0; b < 16; b++) {
        if (b == 4 || b == 6 || b == 8 || b == 10)
            uid[n++] = '-';
        n += snprintf(uid + n, sizeof uid - (size_t)n, "%02x", (unsigned)(uint8_t)(i * 16 + b));
    }
    return (size_t)snprintf(
        out, size, "key-%06d\t%g\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d.%02d\t%llu\n", i, value, ts,
        sources[i % 3], amount, tags[i % 4], i * 7 - 3, i % 5 == 0, day, uid, (1234 + i) / 100,
        (1234 + i) % 100, (unsigned long long)((1ULL << 62) + (uint64_t)i * 1000003u));
}

static char *select_all(const char *table) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT id, value, timestamp, source, amount, tags, count, flag, day, uid, price, big "
             "FROM %s FINAL ORDER BY id FORMAT TabSeparatedRaw",
             table);
    return ch_ok(sql);
}

static void test_rows_land_exactly(void **state) {
    (void)state;
    fill_rows();
    free(ch_ok("DROP TABLE IF EXISTS ch_events"));
    moose_table_desc desc = event_table("ch_events");
    desc.ddl_clickhouse = current_ddl;
    moose__table *t;
    char err[512] = "";
    int rc = moose__table_open(url, &desc, &capture, &t, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(moose__table_kind(t), "clickhouse");

    /* 18.16 has no DateTime64, Bool or LowCardinality: the DDL was adapted. */
    char *types = ch_ok("SELECT name, type FROM system.columns WHERE database = 'default' AND "
                        "table = 'ch_events' FORMAT TabSeparatedRaw");
    assert_string_equal(types, "id\tString\nvalue\tFloat64\ntimestamp\tDateTime\nsource\tString\n"
                               "amount\tNullable(Float64)\ntags\tArray(String)\ncount\tInt32\n"
                               "flag\tUInt8\nday\tDate\nuid\tUUID\nprice\tDecimal(9, 2)\n"
                               "big\tUInt64\n");
    free(types);

    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    assert_int_equal(rejects.len, 0);
    static char want[1 << 16];
    size_t len = 0;
    for (int i = 0; i < NROWS; i++)
        len += expected_row(want + len, sizeof want - len, i, i * 1.5);
    char *got = select_all("ch_events");
    assert_string_equal(got, want);
    free(got);

    /* Replays (twice, some values changed): one row per key, the last values win. */
    for (int i = 0; i < NROWS; i += 10)
        rows[i].value = -(double)i - 0.5;
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    len = 0;
    for (int i = 0; i < NROWS; i++)
        len += expected_row(want + len, sizeof want - len, i,
                            i % 10 == 0 ? -(double)i - 0.5 : i * 1.5);
    got = select_all("ch_events");
    assert_string_equal(got, want);
    free(got);
    char *count = ch_ok("SELECT count() FROM ch_events FINAL");
    assert_string_equal(count, "50\n");
    free(count);
    moose__table_rejects_free(&rejects);
    moose__table_close(t);
}

static void test_poison_rows_bisected_out(void **state) {
    (void)state;
    fill_rows();
    free(ch_ok("DROP TABLE IF EXISTS ch_poison"));
    /* The table knows a rule the model does not: value must not be negative. */
    free(ch_ok("CREATE TABLE ch_poison (id String, value Float64, timestamp DateTime, source "
               "String, amount Nullable(Float64), tags Array(String), count Int32, flag UInt8, "
               "day Date, uid UUID, price Decimal(9, 2), big UInt64, guard UInt8 MATERIALIZED "
               "throwIf(value < 0)) ENGINE = ReplacingMergeTree ORDER BY id"));
    rows[3].value = -1;
    rows[41].value = -2;
    moose_table_desc desc = event_table("ch_poison");
    moose__table *t;
    char err[512] = "";
    int rc = moose__table_open(url, &desc, &capture, &t, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    assert_int_equal(moose__table_insert(t, row_ptrs, NROWS, &rejects, err, sizeof err), 0);
    assert_int_equal(rejects.len, 2);
    assert_int_equal(rejects.items[0].index, 3);
    assert_int_equal(rejects.items[1].index, 41);
    const char *why = "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' "
                      "function is non zero";
    assert_string_equal(rejects.items[0].message, why);
    assert_string_equal(rejects.items[1].message, why);
    static char want[1 << 16];
    size_t len = 0;
    for (int i = 0; i < NROWS; i++)
        if (i != 3 && i != 41)
            len += expected_row(want + len, sizeof want - len, i, i * 1.5);
    char *got = select_all("ch_poison");
    assert_string_equal(got, want);
    free(got);
    moose__table_stats stats;
    moose__table_get_stats(t, &stats);
    assert_int_equal(stats.rows_stored, NROWS - 2);
    assert_int_equal(stats.rows_rejected, 2);
    assert_true(stats.bisections >= 2);
    moose__table_rejects_free(&rejects);
    moose__table_close(t);
}

static void test_generated_ddl_and_new_optional_column(void **state) {
    (void)state;
    fill_rows();
    free(ch_ok("DROP TABLE IF EXISTS ch_gen"));
    moose_table_desc desc = event_table("ch_gen");
    moose__table *t;
    char err[512] = "";
    assert_int_equal(moose__table_open(url, &desc, &capture, &t, err, sizeof err), 0);
    moose__table_close(t);
    char *ddl = ch_ok("SHOW CREATE TABLE ch_gen FORMAT TabSeparatedRaw");
    assert_string_equal(
        ddl, "CREATE TABLE default.ch_gen ( id String,  value Float64,  timestamp DateTime,  "
             "source Enum8('web' = 1, 'ios' = 2, 'android' = 3),  amount Nullable(Float64),  "
             "tags Array(String),  count Int32,  flag UInt8,  day Date,  uid UUID,  price "
             "Decimal(9, 2),  big UInt64) ENGINE = ReplacingMergeTree ORDER BY id SETTINGS "
             "index_granularity = 8192\n");
    free(ddl);

    /* A table from before `amount` existed gets the column, and says so. */
    free(ch_ok("ALTER TABLE ch_gen DROP COLUMN amount"));
    log_text[0] = '\0';
    assert_int_equal(moose__table_open(url, &desc, &capture, &t, err, sizeof err), 0);
    char line[512];
    snprintf(line, sizeof line,
             "info: table ch_gen (%s): added column `amount` Nullable(Float64) for the new "
             "optional field Event.amount\n",
             url + 0);
    assert_string_equal(log_text, line);
    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    assert_int_equal(moose__table_insert(t, row_ptrs, 4, &rejects, err, sizeof err), 0);
    char *got = ch_ok("SELECT id, source, amount FROM ch_gen FINAL ORDER BY id FORMAT "
                      "TabSeparatedRaw");
    assert_string_equal(got, "key-000000\tweb\t0\nkey-000001\tios\tᴺᵁᴸᴸ\nkey-000002\tandroid\t0.5\n"
                             "key-000003\tweb\tᴺᵁᴸᴸ\n");
    free(got);
    moose__table_rejects_free(&rejects);
    moose__table_close(t);
}

static void test_schema_mismatch_is_named(void **state) {
    (void)state;
    free(ch_ok("DROP TABLE IF EXISTS ch_bad"));
    free(ch_ok("CREATE TABLE ch_bad (id String, value String, timestamp DateTime, source "
               "Enum8('web' = 1, 'ios' = 2), amount Nullable(Float64), tags Array(String), "
               "count Int32, flag UInt8, day Date, uid UUID, price Decimal(9, 2), big UInt64) "
               "ENGINE = ReplacingMergeTree ORDER BY id"));
    moose_table_desc desc = event_table("ch_bad");
    moose__table *t = NULL;
    char err[512] = "", want[512];
    assert_int_equal(moose__table_open(url, &desc, &capture, &t, err, sizeof err), MOOSE_ESCHEMA);
    snprintf(want, sizeof want,
             "table ch_bad (%s): column `value` is String, which does not fit field Event.value: "
             "its type does not hold this field's values",
             url);
    assert_string_equal(err, want);
    free(ch_ok("ALTER TABLE ch_bad MODIFY COLUMN value Float64"));
    assert_int_equal(moose__table_open(url, &desc, &capture, &t, err, sizeof err), MOOSE_ESCHEMA);
    snprintf(want, sizeof want,
             "table ch_bad (%s): column `source` is Enum8('web' = 1, 'ios' = 2), which does not "
             "fit field Event.source: the enum value 'android' is missing from it",
             url);
    assert_string_equal(err, want);
    assert_null(t);
}

static void test_credentials_never_shown(void **state) {
    (void)state;
    moose_table_desc desc = event_table("ch_events");
    moose__table *t = NULL;
    char err[512] = "", with_user[256];
    snprintf(with_user, sizeof with_user, "clickhouse://moose:s3cret-pw@%s/default", ch_address());
    assert_int_equal(moose__table_open(with_user, &desc, &capture, &t, err, sizeof err), 0);
    char want[256];
    snprintf(want, sizeof want, "clickhouse://moose:***@%s/default", ch_address());
    assert_string_equal(moose__table_display_url(t), want);
    moose__table_close(t);

    snprintf(with_user, sizeof with_user, "clickhouse://moose:wrong-pw@%s/default", ch_address());
    assert_int_equal(moose__table_open(with_user, &desc, &capture, &t, err, sizeof err),
                     MOOSE_ETABLEDOWN);
    snprintf(want, sizeof want,
             "table ch_events (clickhouse://moose:***@%s/default) refused the request (HTTP 401): "
             "Code: 193, e.displayText() = DB::Exception: Wrong password for user moose",
             ch_address());
    assert_string_equal(err, want);
    assert_null(strstr(log_text, "wrong-pw"));
    assert_null(strstr(log_text, "s3cret-pw"));
}

/* The server closes idle keep-alive connections (after 2 s here): the next insert still works. */
static void test_idle_connection_closed_by_server(void **state) {
    (void)state;
    fill_rows();
    free(ch_ok("DROP TABLE IF EXISTS ch_idle"));
    moose_table_desc desc = event_table("ch_idle");
    moose__table *t;
    char err[512] = "";
    assert_int_equal(moose__table_open(url, &desc, &capture, &t, err, sizeof err), 0);
    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    assert_int_equal(moose__table_insert(t, row_ptrs, 10, &rejects, err, sizeof err), 0);
    struct timespec idle = {3, 0};
    nanosleep(&idle, NULL);
    int rc = moose__table_insert(t, row_ptrs + 10, 10, &rejects, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    char *count = ch_ok("SELECT count() FROM ch_idle FINAL");
    assert_string_equal(count, "20\n");
    free(count);
    moose__table_rejects_free(&rejects);
    moose__table_close(t);
}

int main(void) {
    if (!ch_address()) {
        fprintf(stderr,
                "MOOSE_TEST_CLICKHOUSE (host:port of a test clickhouse-server) is not set\n");
        return 1;
    }
    snprintf(url, sizeof url, "clickhouse://%s/default", ch_address());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_land_exactly),
        cmocka_unit_test(test_poison_rows_bisected_out),
        cmocka_unit_test(test_generated_ddl_and_new_optional_column),
        cmocka_unit_test(test_schema_mismatch_is_named),
        cmocka_unit_test(test_credentials_never_shown),
        cmocka_unit_test(test_idle_connection_closed_by_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
