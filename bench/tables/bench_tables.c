/*
 * Table delivery against its raw baselines, on the same rows in the same run:
 *
 *   bench_tables sqlite PATH ROWS BATCH
 *       the table layer (moose__table_insert: values bound from the struct
 *       through the model's descriptor, upsert on the Key, one transaction per
 *       batch) vs a hand-written prepared-upsert loop with the same pragmas.
 *   bench_tables clickhouse HOST:PORT ROWS BATCH
 *       the table layer (rows written as JSONEachRow from the struct, then one
 *       POST per batch) vs POSTing the same JSONEachRow bodies built before
 *       the clock starts (the server's share alone).
 *   bench_tables sink-sqlite DIR ROWS BATCH
 *       the whole sink: records on the embedded Kafka broker (8 partitions)
 *       are consumed, decoded, upserted and committed, vs the raw loop on the
 *       same rows. The mock broker keeps only about 5 MB per partition, so
 *       keep ROWS at or below 300000.
 *
 * Each side runs ROUNDS times, alternating, into a fresh table. Each side's
 * rows/s is its median round; "of the baseline" is the median of the rounds'
 * own ratios (the raw side's time over the layer's in the same round: the
 * two ran back to back, under the same load on a shared machine, where the
 * best round of each side may come from different minutes). Output: one
 * Markdown table row per side, then each round's ratio.
 */
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka.h"
#include "moose/codec.h"
#include "moose/error.h"
#include "moose/json.h"
#include "sink.h"
#include "table.h"
#include "table_values.h"

#define ROUNDS 7

typedef struct BenchEvent {
    moose_str id;
    double value;
    moose_datetime timestamp;
} BenchEvent;

static int BenchEvent_decode(void *rec, const char *json, size_t len, moose_arena *arena,
                             const moose_decode_options *opts, moose_errors *errs) {
    BenchEvent *e = rec;
    moose_json_reader r;
    int rc = moose_json_start(&r, json, len, arena, opts, errs);
    if (rc)
        return rc;
    moose_json_ws(&r);
    if ((rc = moose_json_object_begin(&r)))
        return rc;
    bool first = true;
    const char *key;
    size_t klen;
    int seen = 0;
    while ((rc = moose_json_object_next(&r, &first, &key, &klen)) == 1) {
        if (klen == 2 && memcmp(key, "id", 2) == 0)
            rc = moose_json_read_str(&r, &e->id), seen |= 1;
        else if (klen == 5 && memcmp(key, "value", 5) == 0)
            rc = moose_json_read_f64(&r, &e->value), seen |= 2;
        else if (klen == 9 && memcmp(key, "timestamp", 9) == 0)
            rc = moose_json_read_datetime(&r, &e->timestamp), seen |= 4;
        else
            rc = moose_json_unknown_field(&r, key, klen);
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    return seen == 7 ? moose_json_finish(&r) : MOOSE_EDECODE;
}

static const moose_field_desc fields[] = {
    {.name = "id",
     .name_len = 2,
     .type = MOOSE_TYPE_STRING,
     .flags = MOOSE_FIELD_KEY,
     .offset = offsetof(BenchEvent, id),
     .elem_size = sizeof(moose_str)},
    {.name = "value",
     .name_len = 5,
     .type = MOOSE_TYPE_FLOAT64,
     .offset = offsetof(BenchEvent, value),
     .elem_size = sizeof(double)},
    {.name = "timestamp",
     .name_len = 9,
     .type = MOOSE_TYPE_DATETIME,
     .offset = offsetof(BenchEvent, timestamp),
     .elem_size = sizeof(moose_datetime)},
};

static const moose_model_desc BenchEvent_desc = {
    .name = "BenchEvent",
    .size = sizeof(BenchEvent),
    .align = _Alignof(BenchEvent),
    .fields = fields,
    .nfields = 3,
    .key_field = 0,
    .decode = BenchEvent_decode,
};

static BenchEvent *rows;
static const void **ptrs;
static char *ids;
static size_t nrows, batch;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_rows(size_t n) {
    nrows = n;
    rows = calloc(n, sizeof *rows);
    ptrs = calloc(n, sizeof *ptrs);
    ids = calloc(n, 16);
    if (!rows || !ptrs || !ids) {
        fprintf(stderr, "bench_tables: out of memory for %zu rows\n", n);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        char *id = ids + i * 16;
        int len = snprintf(id, 16, "evt-%08zu", i);
        rows[i].id = (moose_str){id, (size_t)len};
        rows[i].value = (double)(i % 1000) * 1.25 + 0.1;
        rows[i].timestamp = 1710936000000000LL + (int64_t)i * 1000;
        ptrs[i] = &rows[i];
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double sorted[ROUNDS];
    memcpy(sorted, v, (size_t)n * sizeof *v);
    qsort(sorted, (size_t)n, sizeof *sorted, by_value);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* The raw side's row, the layer's row (RAW and LAYER: seconds of each round), each round's ratio.
 */
static void report(const char *raw_name, const char *layer_name, const double *raw,
                   const double *layer) {
    double ratios[ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        ratios[r] = 100.0 * raw[r] / layer[r];
    printf("| %s | %.0f | 100%% |\n", raw_name, (double)nrows / median(raw, ROUNDS));
    printf("| %s | %.0f | %.0f%% |\n", layer_name, (double)nrows / median(layer, ROUNDS),
           median(ratios, ROUNDS));
    printf("\nEach round's ratio (raw time / layer time):");
    for (int r = 0; r < ROUNDS; r++)
        printf("%s %.0f %%", r ? "," : "", ratios[r]);
    printf(".\n");
}

static void die_sqlite(sqlite3 *db, const char *what) {
    fprintf(stderr, "bench_tables: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void fresh_sqlite(const char *path) {
    char side[1200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* The hand-written loop a person would write: same pragmas, same upsert, same text for times. */
static double raw_sqlite(const char *path) {
    fresh_sqlite(path);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die_sqlite(db, path);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t (id TEXT NOT NULL PRIMARY KEY, value REAL NOT NULL, "
                     "timestamp TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        die_sqlite(db, "create");
    sqlite3_stmt *ins, *begin, *commit;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO t (id, value, timestamp) VALUES (?, ?, ?) ON CONFLICT(id) "
                           "DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
        die_sqlite(db, "prepare");
    double t0 = now_s();
    for (size_t at = 0; at < nrows; at += batch) {
        size_t end = at + batch < nrows ? at + batch : nrows;
        sqlite3_step(begin);
        sqlite3_reset(begin);
        for (size_t i = at; i < end; i++) {
            char ts[MOOSE__FMT_MAX];
            size_t n = moose__fmt_datetime(rows[i].timestamp, ts);
            sqlite3_bind_text(ins, 1, rows[i].id.ptr, (int)rows[i].id.len, SQLITE_STATIC);
            sqlite3_bind_double(ins, 2, rows[i].value);
            sqlite3_bind_text(ins, 3, ts, (int)n, SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE)
                die_sqlite(db, "insert");
            sqlite3_reset(ins);
        }
        if (sqlite3_step(commit) != SQLITE_DONE)
            die_sqlite(db, "commit");
        sqlite3_reset(commit);
    }
    double took = now_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return took;
}

static double layer(const char *url, const moose_table_desc *desc) {
    moose__table *t;
    char err[1024];
    if (moose__table_open(url, desc, NULL, &t, err, sizeof err)) {
        fprintf(stderr, "bench_tables: %s\n", err);
        exit(1);
    }
    moose__table_rejects rejects;
    moose__table_rejects_init(&rejects);
    double t0 = now_s();
    for (size_t at = 0; at < nrows; at += batch) {
        size_t n = at + batch < nrows ? batch : nrows - at;
        if (moose__table_insert(t, ptrs + at, n, &rejects, err, sizeof err) || rejects.len) {
            fprintf(stderr, "bench_tables: insert: %s\n", err);
            exit(1);
        }
    }
    double took = now_s() - t0;
    moose__table_rejects_free(&rejects);
    moose__table_close(t);
    return took;
}

static void bench_sqlite(const char *path) {
    char url[1100];
    snprintf(url, sizeof url, "sqlite:%s", path);
    moose_table_desc desc = {.name = "t", .model = &BenchEvent_desc};
    double raw[ROUNDS], sink[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        raw[r] = raw_sqlite(path);
        fresh_sqlite(path);
        sink[r] = layer(url, &desc);
    }
    report("SQLite: raw prepared-upsert loop", "SQLite: table layer (moose__table_insert)", raw,
           sink);
}

/* ---- ClickHouse ---- */

static char ch_base[256];

static size_t discard(char *data, size_t size, size_t nmemb, void *opaque) {
    (void)data;
    (void)opaque;
    return size * nmemb;
}

static void ch_exec(CURL *c, const char *url, const char *body, size_t len) {
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK ||
        (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200)) {
        fprintf(stderr, "bench_tables: %s failed (HTTP %ld)\n", url, status);
        exit(1);
    }
}

static void bench_clickhouse(const char *address) {
    snprintf(ch_base, sizeof ch_base, "http://%s/", address);
    CURL *c = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    /* The raw side's bodies, built before its clock starts. */
    size_t nbatches = (nrows + batch - 1) / batch;
    moose__tbuf *bodies = calloc(nbatches, sizeof *bodies);
    for (size_t b = 0; b < nbatches; b++) {
        moose__tbuf_init(&bodies[b]);
        for (size_t i = b * batch; i < nrows && i < (b + 1) * batch; i++) {
            char line[160];
            int n =
                snprintf(line, sizeof line, "{\"id\":\"%s\",\"value\":%.17g,\"timestamp\":%lld}\n",
                         rows[i].id.ptr, rows[i].value, (long long)(rows[i].timestamp / 1000000));
            moose__tbuf_put(&bodies[b], line, (size_t)n);
        }
    }
    const char *create = "CREATE TABLE t (id String, value Float64, timestamp DateTime) ENGINE = "
                         "ReplacingMergeTree ORDER BY id";
    char insert_url[512];
    snprintf(insert_url, sizeof insert_url, "%s?query=INSERT%%20INTO%%20t%%20FORMAT%%20JSONEachRow",
             ch_base);
    char url[300];
    snprintf(url, sizeof url, "clickhouse://%s/default", address);
    moose_table_desc desc = {.name = "t", .model = &BenchEvent_desc};
    double raw[ROUNDS], sink[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        ch_exec(c, ch_base, "DROP TABLE IF EXISTS t", 22);
        ch_exec(c, ch_base, create, strlen(create));
        double t0 = now_s();
        for (size_t b = 0; b < nbatches; b++)
            ch_exec(c, insert_url, bodies[b].data, bodies[b].len);
        raw[r] = now_s() - t0;
        ch_exec(c, ch_base, "DROP TABLE IF EXISTS t", 22);
        ch_exec(c, ch_base, create, strlen(create));
        sink[r] = layer(url, &desc);
    }
    report("ClickHouse: raw bulk HTTP insert of prebuilt JSONEachRow",
           "ClickHouse: table layer (moose__table_insert)", raw, sink);
    for (size_t b = 0; b < nbatches; b++)
        moose__tbuf_free(&bodies[b]);
    free(bodies);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
}

/* ---- the whole sink, from the embedded broker ---- */

static void bench_sink_sqlite(const char *dir) {
    char err[1024], path[1100], url[1200];
    snprintf(path, sizeof path, "%s/bench-sink.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    moose__kafka_opts opts = {.brokers = "embedded",
                              .embedded = MOOSE__EMBEDDED_START,
                              .dir = dir,
                              .prog = "bench_tables"};
    const char *const props[] = {"moose.backpressure.max.records=100000000",
                                 "moose.backpressure.max.bytes=10000000000", NULL};
    opts.props = props;
    moose__kafka *kafka;
    if (moose__kafka_open(&opts, &kafka, err, sizeof err)) {
        fprintf(stderr, "bench_tables: %s\n", err);
        exit(1);
    }
    moose__producer *p = moose__producer_new(kafka, "bench", err, sizeof err);
    double raw[ROUNDS], whole[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        /* Alternate with the sink, so both meet the same load on a shared machine. */
        raw[r] = raw_sqlite(path);
        char topic[64];
        snprintf(topic, sizeof topic, "bench-%d", r);
        moose_table_desc table = {.name = "t", .model = &BenchEvent_desc};
        moose_stream_desc stream = {.name = topic,
                                    .topic = topic,
                                    .model = &BenchEvent_desc,
                                    .destination = &table,
                                    .parallelism = 8};
        const moose_stream_desc *streams[] = {&stream};
        const moose_table_desc *tables[] = {&table};
        moose_app_desc app = {.abi_version = MOOSE_ABI_VERSION,
                              .name = "bench",
                              .tables = tables,
                              .ntables = 1,
                              .streams = streams,
                              .nstreams = 1};
        if (moose__kafka_ensure_app_topics(kafka, &app, err, sizeof err)) {
            fprintf(stderr, "bench_tables: %s\n", err);
            exit(1);
        }
        for (size_t i = 0; i < nrows; i++) {
            char json[160], ts[MOOSE__FMT_MAX];
            moose__fmt_datetime(rows[i].timestamp, ts);
            int n =
                snprintf(json, sizeof json, "{\"id\":\"%s\",\"value\":%.17g,\"timestamp\":\"%s\"}",
                         rows[i].id.ptr, rows[i].value, ts);
            while (moose__producer_send(p, topic, -1, rows[i].id.ptr, rows[i].id.len, json,
                                        (size_t)n, NULL, NULL) == MOOSE_EQUEUEFULL)
                moose__producer_flush(p, 100);
        }
        moose__producer_flush(p, 60000);
        fresh_sqlite(path);
        /* The first group join is slow on the mock broker: start the clock at the first record. */
        moose__sink_config cfg = {.kafka = kafka,
                                  .app = &app,
                                  .table = &table,
                                  .streams = streams,
                                  .nstreams = 1,
                                  .tables_url = url,
                                  .batch_rows = (int64_t)batch,
                                  .batch_ms = 1000};
        moose__sink *sink = moose__sink_start(&cfg, err, sizeof err);
        if (!sink) {
            fprintf(stderr, "bench_tables: %s\n", err);
            exit(1);
        }
        moose__sink_stats st;
        double t0 = 0, last_progress = now_s();
        uint64_t last_in = 0;
        for (;;) {
            moose__sink_get_stats(sink, &st);
            if (t0 == 0 && st.records_in > 0)
                t0 = now_s();
            if (st.rows_stored >= nrows)
                break;
            if (st.records_in != last_in) {
                last_in = st.records_in;
                last_progress = now_s();
            } else if (now_s() - last_progress > 60) {
                fprintf(stderr, "bench_tables: the sink stalled at %llu of %zu records\n",
                        (unsigned long long)st.records_in, nrows);
                exit(1);
            }
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
        }
        whole[r] = now_s() - t0;
        moose__sink_stop(sink);
    }
    report("SQLite: raw prepared-upsert loop",
           "SQLite: whole sink from the embedded broker (consume, decode, upsert, commit)", raw,
           whole);
    moose__producer_close(p);
    moose__kafka_close(kafka);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: bench_tables sqlite PATH ROWS BATCH\n"
                        "       bench_tables clickhouse HOST:PORT ROWS BATCH\n"
                        "       bench_tables sink-sqlite DIR ROWS BATCH\n");
        return 2;
    }
    make_rows((size_t)strtoull(argv[3], NULL, 10));
    batch = (size_t)strtoull(argv[4], NULL, 10);
    if (batch == 0 || nrows == 0)
        return 2;
    printf("| %zu rows, batches of %zu | rows/s | of the baseline |\n|---|---:|---:|\n", nrows,
           batch);
    if (strcmp(argv[1], "sqlite") == 0)
        bench_sqlite(argv[2]);
    else if (strcmp(argv[1], "clickhouse") == 0)
        bench_clickhouse(argv[2]);
    else if (strcmp(argv[1], "sink-sqlite") == 0)
        bench_sink_sqlite(argv[2]);
    else
        return 2;
    free(rows);
    free(ptrs);
    free(ids);
    return 0;
}
