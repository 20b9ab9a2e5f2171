/*
 * The table sink end to end against the real embedded Kafka broker (the
 * librdkafka mock cluster) and real stores: SQLite, and a clickhouse-server
 * of the test's own that it stops and resumes mid-run.
 *
 *   sqlite: every row lands exactly; a poison row (the table's CHECK) and a
 *           record that is not JSON go to the DLQ with the right type and
 *           message; the group's committed offsets reach the end; a second
 *           group replaying everything leaves no duplicate.
 *   clickhouse_down: with the server stopped, the sink holds its batch and
 *           commits nothing, health says so, and once the server is back every
 *           row arrives (compared one by one) and the offsets reach the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ch_client.h"
#include "dlq.h"
#include "kafka.h"
#include "metrics.h"
#include "metrics_component.h"
#include "reading_model.h"
#include "sink.h"

static char dir[] = "/tmp/moose-sink-XXXXXX";
static moose__kafka *kafka;
static moose__producer *producer;

/* One app with one stream delivering into one table. */
typedef struct one_table_app {
    moose_table_desc table;
    moose_stream_desc stream;
    const moose_stream_desc *streams[1];
    const moose_table_desc *tables[1];
    moose_app_desc app;
} one_table_app;

static void app_init(one_table_app *a, const char *app_name, const char *table, const char *topic) {
    memset(a, 0, sizeof *a);
    a->table = (moose_table_desc){.name = table, .model = &Reading_desc};
    a->stream = (moose_stream_desc){.name = topic,
                                    .topic = topic,
                                    .model = &Reading_desc,
                                    .destination = &a->table,
                                    .parallelism = 2};
    a->streams[0] = &a->stream;
    a->tables[0] = &a->table;
    a->app = (moose_app_desc){.abi_version = MOOSE_ABI_VERSION,
                              .name = app_name,
                              .tables = a->tables,
                              .ntables = 1,
                              .streams = a->streams,
                              .nstreams = 1};
}

static double value_of(int i) {
    return i == 500 ? -1 : i * 0.5;
}

static void produce(const char *topic, const char *prefix, int from, int to) {
    for (int i = from; i < to; i++) {
        char key[32], json[96];
        int klen = snprintf(key, sizeof key, "%s-%04d", prefix, i);
        int jlen = snprintf(json, sizeof json, "{\"id\":\"%s\",\"value\":%.17g}", key, value_of(i));
        int rc = moose__producer_send(producer, topic, -1, key, (size_t)klen, json, (size_t)jlen,
                                      NULL, NULL);
        if (rc)
            fail_msg("send to %s: %s", topic, moose_strerror(rc));
    }
    assert_int_equal(moose__producer_flush(producer, 30000), 0);
}

static void produce_raw(const char *topic, const char *key, const char *value) {
    char err[512];
    if (moose__producer_send_sync(producer, topic, key, strlen(key), value, strlen(value), NULL,
                                  NULL, err, sizeof err))
        fail_msg("send to %s: %s", topic, err);
}

/* Waits (up to a minute: a bound, not a measurement) until the sink's stats satisfy DONE. */
static moose__sink_stats wait_for(moose__sink *sink,
                                  bool (*done)(const moose__sink_stats *, int64_t), int64_t arg,
                                  const char *what) {
    moose__sink_stats st;
    for (int i = 0; i < 1200; i++) {
        moose__sink_get_stats(sink, &st);
        if (done(&st, arg))
            return st;
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    fail_msg("timed out waiting for %s: in %" PRIu64 " stored %" PRIu64 " rejected %" PRIu64
             " invalid %" PRIu64 " retries %" PRIu64 " down %d (%s)",
             what, st.records_in, st.rows_stored, st.rows_rejected, st.invalid, st.retries,
             st.table_down, st.last_error);
    return st;
}

static bool all_handled(const moose__sink_stats *st, int64_t n) {
    return (int64_t)(st->rows_stored + st->rows_rejected + st->invalid) >= n;
}
static bool stored_at_least(const moose__sink_stats *st, int64_t n) {
    return (int64_t)st->rows_stored >= n && !st->table_down;
}
static bool fetched_at_least(const moose__sink_stats *st, int64_t n) {
    return (int64_t)st->records_in >= n;
}
static bool down_and_retrying(const moose__sink_stats *st, int64_t retries) {
    return st->table_down && (int64_t)st->retries >= retries;
}

/* The offsets GROUP committed on TOPIC, summed over its partitions (-1 counts as 0). */
static int64_t committed_total(const char *group, const char *topic, int partitions) {
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_conf(kafka, err, sizeof err);
    assert_non_null(conf);
    assert_int_equal(rd_kafka_conf_set(conf, "group.id", group, err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p);
    assert_int_equal(rd_kafka_committed(rk, parts, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t total = 0;
    for (int p = 0; p < partitions; p++)
        if (parts->elems[p].offset > 0)
            total += parts->elems[p].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return total;
}

static int setup(void **state) {
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    moose__kafka_opts opts = {
        .brokers = "embedded", .embedded = MOOSE__EMBEDDED_START, .dir = dir, .prog = "test_sink"};
    char err[512];
    if (moose__kafka_open(&opts, &kafka, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    producer = moose__producer_new(kafka, "test", err, sizeof err);
    return producer ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    moose__producer_close(producer);
    moose__kafka_close(kafka);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct dlq_seen {
    int n;
    moose__dlq_record recs[8];
} dlq_seen;

static int on_dlq(const moose__dlq_record *rec, void *opaque) {
    dlq_seen *seen = opaque;
    if (seen->n < 8) {
        moose__dlq_record *r = &seen->recs[seen->n];
        *r = *rec;
        r->message = strdup(rec->message);
        r->original = strndup(rec->original, rec->original_len);
        r->key = rec->key ? strndup(rec->key, rec->key_len) : NULL;
        r->errors = NULL;
        r->nerrors = 0;
        r->topic = strdup(rec->topic);
        r->transform = NULL;
    }
    seen->n++;
    return 0;
}

static void test_sqlite(void **state) {
    (void)state;
    char db[256], url[300], err[1024];
    snprintf(db, sizeof db, "%s/sink.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "CREATE TABLE readings (id TEXT PRIMARY KEY, value REAL NOT "
                                  "NULL CHECK (value >= 0))",
                                  NULL, NULL, NULL),
                     SQLITE_OK);

    one_table_app a;
    app_init(&a, "sinkapp", "readings", "readings-sq");
    assert_int_equal(moose__kafka_ensure_app_topics(kafka, &a.app, err, sizeof err), 0);
    produce("readings-sq", "r", 0, 1000);
    produce_raw("readings-sq", "bad", "not json");

    moose__sink_config cfg = {.kafka = kafka,
                              .app = &a.app,
                              .table = &a.table,
                              .streams = a.streams,
                              .nstreams = 1,
                              .tables_url = url,
                              .batch_rows = 256,
                              .batch_ms = 100};
    moose__sink *sink = moose__sink_start(&cfg, err, sizeof err);
    if (!sink)
        fail_msg("%s", err);
    moose__sink_stats st = wait_for(sink, all_handled, 1001, "1001 records handled");
    assert_int_equal(st.rows_stored, 999);
    assert_int_equal(st.rows_rejected, 1);
    assert_int_equal(st.invalid, 1);
    assert_false(st.table_down);
    moose__sink_stop(sink);
    assert_int_equal(committed_total("sinkapp.table.readings", "readings-sq", 2), 1001);

    /* Every row but the poison one, exactly. */
    sqlite3_stmt *stmt;
    assert_int_equal(
        sqlite3_prepare_v2(h, "SELECT id, value FROM readings ORDER BY id", -1, &stmt, NULL),
        SQLITE_OK);
    int i = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        if (i == 500)
            i++;
        char want[32];
        snprintf(want, sizeof want, "r-%04d", i);
        assert_string_equal((const char *)sqlite3_column_text(stmt, 0), want);
        assert_true(sqlite3_column_double(stmt, 1) == value_of(i));
        i++;
    }
    assert_int_equal(i, 1000);
    sqlite3_finalize(stmt);

    /* The DLQ holds the poison row as TableError and the bad record as ValidationError. */
    dlq_seen seen = {0};
    assert_true(moose__dlq_read(kafka, "readings-sq", on_dlq, &seen, NULL, err, sizeof err) == 2);
    int table_i = strcmp(seen.recs[0].key, "r-0500") == 0 ? 0 : 1;
    moose__dlq_record *te = &seen.recs[table_i], *ve = &seen.recs[1 - table_i];
    assert_int_equal(te->type, MOOSE__DLQ_TABLE_ERROR);
    assert_int_equal(te->source, MOOSE__DLQ_FROM_TABLE);
    assert_string_equal(te->message, "CHECK constraint failed: value >= 0");
    assert_string_equal(te->original, "{\"id\":\"r-0500\",\"value\":-1}");
    assert_string_equal(te->topic, "readings-sq");
    assert_true(te->offset >= 0);
    assert_int_equal(ve->type, MOOSE__DLQ_VALIDATION_ERROR);
    assert_string_equal(ve->key, "bad");
    assert_string_equal(ve->original, "not json");
    assert_non_null(
        strstr(ve->message, "record does not decode read by the sink of table readings"));
    for (int k = 0; k < 2 && k < seen.n; k++) {
        free(seen.recs[k].message);
        free(seen.recs[k].original);
        free(seen.recs[k].key);
        free(seen.recs[k].topic);
    }

    /* Another group replays the whole topic: still one row per key. */
    cfg.group = "sinkapp.table.readings.replay";
    sink = moose__sink_start(&cfg, err, sizeof err);
    if (!sink)
        fail_msg("%s", err);
    wait_for(sink, all_handled, 1001, "the replay");
    moose__sink_stop(sink);
    assert_int_equal(
        sqlite3_prepare_v2(h, "SELECT count(*), count(DISTINCT id) FROM readings", -1, &stmt, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 999);
    assert_int_equal(sqlite3_column_int(stmt, 1), 999);
    sqlite3_finalize(stmt);
    sqlite3_close(h);
}

/*
 * Writers of a partition wait once it holds moose.backpressure.max.records
 * or .bytes (40000, 2 MiB by default) beyond the sink's commit, so a batch
 * ends at half that on any partition, whatever batch_rows and batch_ms say:
 * here neither could end one within the minute wait_for allows.
 */
static void test_batches_end_at_half_the_backpressure_window(void **state) {
    (void)state;
    char db[256], url[300], err[1024];
    snprintf(db, sizeof db, "%s/window.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", db);
    one_table_app a;
    app_init(&a, "windowapp", "readings", "readings-window");
    assert_int_equal(moose__kafka_ensure_app_topics(kafka, &a.app, err, sizeof err), 0);
    /* About 22 500 a partition (~100 bytes each as the back-pressure counts): past half the
     * window on both. */
    produce("readings-window", "w", 0, 45000);
    moose__sink_config cfg = {.kafka = kafka,
                              .app = &a.app,
                              .table = &a.table,
                              .streams = a.streams,
                              .nstreams = 1,
                              .tables_url = url,
                              .batch_rows = 1000000,
                              .batch_ms = 600000};
    moose__sink *sink = moose__sink_start(&cfg, err, sizeof err);
    if (!sink)
        fail_msg("%s", err);
    moose__sink_stats st = wait_for(sink, stored_at_least, 20000, "a batch ended by the window");
    assert_true(st.rows_stored < 45000);
    /* Stopping delivers the rest, once it is fetched. */
    wait_for(sink, fetched_at_least, 45000, "every record fetched");
    moose__sink_stop(sink);
    assert_int_equal(committed_total("windowapp.table.readings", "readings-window", 2), 45000);
}

static void server(const char *cmd, const char *server_dir, const char *port) {
    char line[1024];
    snprintf(line, sizeof line, "%s %s %s %s", getenv("MOOSE_TEST_CLICKHOUSE_SCRIPT"), cmd,
             server_dir, port ? port : "");
    int rc = system(line);
    if (rc != 0)
        fail_msg("%s -> %d", line, rc);
}

static void test_clickhouse_down_and_back(void **state) {
    (void)state;
    const char *port = getenv("MOOSE_TEST_CLICKHOUSE_SPARE_PORT");
    if (!port || !getenv("MOOSE_TEST_CLICKHOUSE_SCRIPT")) {
        print_message("MOOSE_TEST_CLICKHOUSE_SPARE_PORT / _SCRIPT not set: not run\n");
        skip();
    }
    char server_dir[300], url[128], err[1024];
    snprintf(server_dir, sizeof server_dir, "%s/clickhouse", dir);
    snprintf(url, sizeof url, "clickhouse://127.0.0.1:%s/default", port);
    server("start", server_dir, port);

    moose_metrics_registry *reg = moose__metrics_registry_new(err, sizeof err);
    assert_non_null(reg);
    moose__component *metrics = moose__metrics_component(reg, MOOSE_COMPONENT_SINK, "ch_readings");

    one_table_app a;
    app_init(&a, "sinkapp", "ch_readings", "readings-ch");
    assert_int_equal(moose__kafka_ensure_app_topics(kafka, &a.app, err, sizeof err), 0);
    moose__sink_config cfg = {.kafka = kafka,
                              .app = &a.app,
                              .table = &a.table,
                              .streams = a.streams,
                              .nstreams = 1,
                              .tables_url = url,
                              .batch_rows = 100,
                              .batch_ms = 100,
                              .metrics = metrics};
    moose__sink *sink = moose__sink_start(&cfg, err, sizeof err);
    if (!sink)
        fail_msg("%s", err);
    produce("readings-ch", "c", 0, 300);
    wait_for(sink, stored_at_least, 300, "the first 300 rows");
    assert_int_equal(committed_total("sinkapp.table.ch_readings", "readings-ch", 2), 300);

    server("stop", server_dir, NULL);
    produce("readings-ch", "c", 300, 450);
    moose__sink_stats st = wait_for(sink, down_and_retrying, 3, "the sink to see the table down");
    char why[256];
    assert_true(moose__component_sink_failing(metrics, why, sizeof why));
    char want[200];
    snprintf(want, sizeof want, "table ch_readings (%s) is unreachable: ", url);
    assert_non_null(strstr(why, want));
    assert_non_null(strstr(st.last_error, want));
    /* Nothing past the last delivered batch is committed while the table is down. */
    assert_int_equal(committed_total("sinkapp.table.ch_readings", "readings-ch", 2), 300);

    server("resume", server_dir, port);
    /* Row 500 would be negative: keep ids below it so every row is a good one. */
    produce("readings-ch", "c", 450, 500);
    wait_for(sink, stored_at_least, 500, "all 500 rows after the server came back");
    assert_false(moose__component_sink_failing(metrics, why, sizeof why));
    moose__sink_stop(sink);
    assert_int_equal(committed_total("sinkapp.table.ch_readings", "readings-ch", 2), 500);

    /* Compare every row, read back over the spare server's HTTP port. */
    char address[64];
    snprintf(address, sizeof address, "127.0.0.1:%s", port);
    setenv("MOOSE_TEST_CLICKHOUSE", address, 1);
    char *rows = ch_ok("SELECT id, value FROM ch_readings FINAL ORDER BY id FORMAT TabSeparated");
    static char want_rows[1 << 16];
    size_t len = 0;
    for (int i = 0; i < 500; i++)
        len += (size_t)snprintf(want_rows + len, sizeof want_rows - len, "c-%04d\t%g\n", i,
                                value_of(i));
    assert_string_equal(rows, want_rows);
    free(rows);
    server("stop", server_dir, NULL);
    moose__metrics_registry_free(reg);
}

/* moose__sinks_start: one sink per destination table, batch sizes overridden from the environment.
 */
static void test_app_sinks_and_overrides(void **state) {
    (void)state;
    char db[256], url[300], err[1024];
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", db);
    one_table_app a;
    app_init(&a, "envapp", "env_readings", "readings-env");
    assert_int_equal(moose__kafka_ensure_app_topics(kafka, &a.app, err, sizeof err), 0);
    moose__sinks_config cfg = {.kafka = kafka, .app = &a.app, .tables_url = url};

    setenv("MOOSE_BATCH_ROWS", "lots", 1);
    assert_null(moose__sinks_start(&cfg, err, sizeof err));
    assert_string_equal(err, "MOOSE_BATCH_ROWS=lots: a positive whole number is needed");

    /* 100-row batches and a minute of patience: 1000 records make exactly 10 batches. */
    setenv("MOOSE_BATCH_ROWS", "100", 1);
    setenv("MOOSE_BATCH_MS", "60000", 1);
    moose__sinks *sinks = moose__sinks_start(&cfg, err, sizeof err);
    unsetenv("MOOSE_BATCH_ROWS");
    unsetenv("MOOSE_BATCH_MS");
    if (!sinks)
        fail_msg("%s", err);
    assert_int_equal(moose__sinks_count(sinks), 1);
    produce("readings-env", "e", 0, 500);
    produce("readings-env", "e", 501, 1001);
    moose__sink_stats st = wait_for(moose__sinks_get(sinks, 0), all_handled, 1000, "1000 rows");
    assert_int_equal(st.rows_stored, 1000);
    assert_int_equal(st.batches, 10);
    moose__sinks_stop(sinks);
}

/*
 * A sink reports through its metrics component: the lag of each partition it
 * reads, measured from its own consumer (0 once it caught up; -1 would mean
 * unknown), and, once stopped on purpose, no "stalled" verdict however long
 * it stays silent.
 */
static void test_sink_lag_and_stop(void **state) {
    (void)state;
    char db[256], url[300], err[1024];
    snprintf(db, sizeof db, "%s/lag.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", db);
    moose_metrics_registry *reg = moose__metrics_registry_new(err, sizeof err);
    assert_non_null(reg);
    moose__component *metrics = moose__metrics_component(reg, MOOSE_COMPONENT_SINK, "lag_readings");
    assert_non_null(metrics);

    one_table_app a;
    app_init(&a, "lagapp", "lag_readings", "readings-lag");
    assert_int_equal(moose__kafka_ensure_app_topics(kafka, &a.app, err, sizeof err), 0);
    produce("readings-lag", "l", 0, 400);
    moose__sink_config cfg = {.kafka = kafka,
                              .app = &a.app,
                              .table = &a.table,
                              .streams = a.streams,
                              .nstreams = 1,
                              .tables_url = url,
                              .batch_rows = 100,
                              .batch_ms = 100,
                              .metrics = metrics};
    moose__sink *sink = moose__sink_start(&cfg, err, sizeof err);
    if (!sink)
        fail_msg("%s", err);
    wait_for(sink, stored_at_least, 400, "400 rows");
    moose_metrics m;
    for (int i = 0; i < 200; i++) {
        moose__metrics_tick(reg, moose__metrics_now_ms());
        moose__component_snapshot(reg, metrics, &m);
        if (m.npartitions == 2 && m.lag[0] == 0 && m.lag[1] == 0)
            break;
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    assert_int_equal(m.npartitions, 2);
    assert_int_equal(m.lag[0], 0);
    assert_int_equal(m.lag[1], 0);
    assert_int_equal(m.lag_total, 0);

    moose__sink_stop(sink);
    moose_health h;
    assert_int_equal(moose__metrics_health_at(reg, MOOSE_COMPONENT_SINK, "lag_readings",
                                              moose__metrics_now_ms() + 120000, &h),
                     0);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    assert_int_equal(h.nreasons, 0);
    moose__metrics_registry_free(reg);
}

/* An argument runs the one test it names (ctest runs each on its own, side by side). */
int main(int argc, char **argv) {
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite),
        cmocka_unit_test(test_app_sinks_and_overrides),
        cmocka_unit_test(test_sink_lag_and_stop),
        cmocka_unit_test(test_batches_end_at_half_the_backpressure_window),
        cmocka_unit_test(test_clickhouse_down_and_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
