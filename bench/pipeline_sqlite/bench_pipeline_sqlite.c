/*
 * The whole pipeline on the embedded defaults, as a user runs it, in one
 * process: a writer thread writes N RawEvents (their text made before the
 * clock starts, as the raw loop's rows are) through the public write API
 * (raw_stream_write_async), transform_record turns each into a
 * ProcessedEvent, and the table sink upserts them into a SQLite table. The
 * clock runs from the first write until the N-th row is committed in the
 * table (read through its own connection); then every key is checked to be
 * there once with its value.
 *
 * Before the clock starts one warm-up record goes all the way through and
 * every transform worker holds partitions, so the embedded broker's group
 * joins (about 3 s each, and one more when a worker joins late) are not
 * measured.
 *
 * Beside it, in the same run, the raw baseline: a hand-written prepared
 * upsert loop over the same N ProcessedEvent rows, with the table layer's
 * pragmas (WAL, synchronous=FULL) and one transaction per 100k rows (the
 * sink's default batch).
 *
 *   bench_pipeline_sqlite [--records N] [--rounds R] [--progress] [-X key=value]...
 *
 * -X passes a Kafka property (moose.backpressure.*, librdkafka's) to the app,
 * as `APP run -X` does.
 *
 * Run it in a scratch folder: the embedded broker's address file and the
 * databases are made there. Each round prints one line per side:
 *   raw: RATE rows/s CPU us/row SECONDS s
 *   pipeline: RATE records/s CPU us/record SECONDS s sustained RATE records/s
 * The first RATE is end to end: from the first write until the last row is
 * in the table, so it includes the last batch waiting out the sink's batch
 * timer. The sustained rate is the pace while the pipeline runs full: rows
 * landed between the moments the table held 10 % and 90 % of them.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "app_internal.h"
#include "pipeline_sqlite.moose.h"
#include "thread_cpu.h"
#include <moose/metrics.h>

#define RAW_BATCH 100000
#define BASE_MICROS 1710936000000000LL

static size_t nrecords = 1000000;
static bool progress; /* --progress: each stage's count every 250 ms on stderr */
static const char *props[33];
static size_t nprops;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of every thread of the process (writer, transform, sink, broker). */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_pipeline_sqlite: %s: %s\n", what, why);
    exit(2);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Record I's fields: the id, the number its data holds, and its time. */
static int id_of(size_t i, char out[32]) {
    return snprintf(out, 32, "evt-%09zu", i);
}
static double value_of(size_t i) {
    return (double)(i % 100000) * 0.25 + 0.5;
}
static int64_t micros_of(size_t i) {
    return BASE_MICROS + (int64_t)i * 1000;
}

static void remove_db(const char *path) {
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* "2024-03-20T12:00:00.000000Z", as the table layer writes DateTime. */
static int datetime_text(int64_t micros, char out[40]) {
    time_t secs = (time_t)(micros / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    return snprintf(out, 40, "%s.%06dZ", day, (int)(micros % 1000000));
}

/* The baseline: the prepared upsert loop a person would write for the same rows. */
static void raw_round(void) {
    const char *path = "raw.db";
    remove_db(path);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(path, sqlite3_errmsg(db));
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t (id TEXT NOT NULL PRIMARY KEY, value REAL NOT NULL, "
                     "timestamp TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("create", sqlite3_errmsg(db));
    sqlite3_stmt *ins, *begin, *commit;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO t (id, value, timestamp) VALUES (?, ?, ?) ON CONFLICT(id) "
                           "DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(db));
    /* The rows as a transform hands them over: built before the clock starts. */
    char(*ids)[32] = malloc(nrecords * sizeof *ids);
    if (!ids)
        die("raw loop", "out of memory");
    for (size_t i = 0; i < nrecords; i++)
        id_of(i, ids[i]);
    double t0 = now_s(), c0 = cpu_s();
    for (size_t at = 0; at < nrecords; at += RAW_BATCH) {
        size_t end = at + RAW_BATCH < nrecords ? at + RAW_BATCH : nrecords;
        sqlite3_step(begin);
        sqlite3_reset(begin);
        for (size_t i = at; i < end; i++) {
            char ts[40];
            int n = datetime_text(micros_of(i), ts);
            sqlite3_bind_text(ins, 1, ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_double(ins, 2, value_of(i));
            sqlite3_bind_text(ins, 3, ts, n, SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE)
                die("insert", sqlite3_errmsg(db));
            sqlite3_reset(ins);
        }
        if (sqlite3_step(commit) != SQLITE_DONE)
            die("commit", sqlite3_errmsg(db));
        sqlite3_reset(commit);
    }
    double took = now_s() - t0, cpu = cpu_s() - c0;
    sqlite3_finalize(ins);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    free(ids);
    remove_db(path);
    printf("raw: %.0f rows/s %.2f us/row %.2f s\n", (double)nrecords / took,
           cpu * 1e6 / (double)nrecords, took);
    fflush(stdout);
}

/* ---- the pipeline ---- */

static atomic_ulong write_failures;
static atomic_int first_failure;

static void on_written(int status, const moose_errors *errs, void *opaque) {
    (void)errs;
    (void)opaque;
    if (status != 0 && atomic_fetch_add(&write_failures, 1) == 0)
        atomic_store(&first_failure, status);
}

typedef struct writer {
    moose_app *app;
    pthread_t thread;
    /* The records' text fields, made before the clock starts, as the raw loop's rows are. */
    char (*ids)[32], (*data)[32];
    /* Set once the figures are taken: the thread lives until then, so its CPU is counted. */
    atomic_bool may_exit;
} writer;

static void write_one(moose_app *app, const char *id, const char *data, int64_t micros) {
    RawEvent rec = RawEvent_INIT;
    rec.id = (moose_str){id, strlen(id)};
    rec.data = (moose_str){data, strlen(data)};
    rec.timestamp = micros;
    int rc = raw_stream_write_async(app, &rec, NULL, on_written, NULL);
    if (rc != 0)
        die("write", moose_strerror(rc));
}

static void *writer_main(void *opaque) {
    writer *w = opaque;
    prctl(PR_SET_NAME, "bench:writer", 0, 0, 0);
    for (size_t i = 0; i < nrecords; i++)
        write_one(w->app, w->ids[i], w->data[i], micros_of(i));
    while (!atomic_load(&w->may_exit))
        sleep_ms(5);
    return NULL;
}

/* Rows in the table so far. Rows are only ever added (upserts of new keys), so the largest rowid
 * counts them without a scan. */
static long long rows_in(sqlite3 *db) {
    sqlite3_stmt *q;
    long long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT max(rowid) FROM \"ProcessedTable\"", -1, &q, NULL) !=
        SQLITE_OK)
        return -1; /* not created yet */
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* Every key once, each with its value, besides the warm-up record. */
static void check_table(sqlite3 *db) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), count(DISTINCT id), sum(value), min(id), max(id) "
                           "FROM \"ProcessedTable\" WHERE id LIKE 'evt-%'",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        die("checking the table", sqlite3_errmsg(db));
    double want_sum = 0;
    for (size_t i = 0; i < nrecords; i++)
        want_sum += value_of(i);
    char first[32], last[32];
    id_of(0, first);
    id_of(nrecords - 1, last);
    long long count = sqlite3_column_int64(q, 0), distinct = sqlite3_column_int64(q, 1);
    double sum = sqlite3_column_double(q, 2);
    const char *min = (const char *)sqlite3_column_text(q, 3);
    const char *max = (const char *)sqlite3_column_text(q, 4);
    if (count != (long long)nrecords || distinct != count || sum != want_sum || !min ||
        strcmp(min, first) != 0 || !max || strcmp(max, last) != 0) {
        fprintf(stderr,
                "bench_pipeline_sqlite: the table is wrong: %lld rows (%lld keys), sum %.2f "
                "(want %zu rows, sum %.2f), ids %s..%s\n",
                count, distinct, sum, nrecords, want_sum, min ? min : "-", max ? max : "-");
        exit(1);
    }
    sqlite3_finalize(q);
}

static void pipeline_round(void) {
    const char *path = "pipeline.db";
    remove_db(path);
    moose_config cfg = {.brokers = "embedded",
                        .tables = "sqlite:pipeline.db",
                        .log_level = "warn",
                        .kafka_props = nprops ? props : NULL};
    char err[1024];
    moose_app *app = moose_app_open(&pipeline_sqlite_app, &cfg, err, sizeof err);
    if (!app)
        die("opening the app", err);
    if (moose_app_start(app, err, sizeof err) != 0)
        die("starting the app", err);
    sqlite3 *db = NULL;
    /* The warm-up record: when it is in the table, both consumer groups have joined. */
    write_one(app, "warm-up", "1.5", BASE_MICROS);
    double warm_until = now_s() + 120;
    for (;;) {
        if (!db && sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            sqlite3_close(db);
            db = NULL;
        }
        /* A worker that joins late makes the group rebalance: a pause of seconds. */
        if (db && rows_in(db) >= 1 && app->nrunners == 1 &&
            moose__transform_workers_assigned(app->runners[0]) ==
                (int)raw_stream_stream.parallelism)
            break;
        if (now_s() > warm_until)
            die("warming up", "in 120 s the warm-up record did not reach the table, or not every "
                              "transform worker got partitions");
        sleep_ms(20);
    }
    sqlite3_busy_timeout(db, 1000);

    writer w = {.app = app, .ids = malloc(nrecords * 32), .data = malloc(nrecords * 32)};
    if (!w.ids || !w.data)
        die("writer", "out of memory");
    for (size_t i = 0; i < nrecords; i++) {
        id_of(i, w.ids[i]);
        snprintf(w.data[i], sizeof w.data[i], "%.2f", value_of(i));
    }
    static thread_cpu before[MAX_THREADS], after[MAX_THREADS];
    int nbefore = threads_cpu(before, MAX_THREADS);
    double t0 = now_s(), c0 = cpu_s();
    if (pthread_create(&w.thread, NULL, writer_main, &w) != 0)
        die("writer", "cannot start its thread");
    long long want = (long long)nrecords + 1, have = 0, last_have = 0;
    long long tenth = (long long)nrecords / 10, nine_tenths = (long long)nrecords * 9 / 10;
    double last_progress = now_s(), t10 = 0, t90 = 0;
    long long have10 = 0, have90 = 0;
    while ((have = rows_in(db)) < want) {
        if (!t10 && have >= tenth + 1)
            t10 = now_s(), have10 = have;
        if (!t90 && have >= nine_tenths + 1)
            t90 = now_s(), have90 = have;
        if (have != last_have) {
            last_have = have;
            last_progress = now_s();
        } else if (now_s() - last_progress > 60) {
            fprintf(stderr, "bench_pipeline_sqlite: stalled at %lld of %lld rows\n", have, want);
            exit(1);
        }
        if (atomic_load(&write_failures)) {
            fprintf(stderr, "bench_pipeline_sqlite: %lu writes failed, the first: %s\n",
                    (unsigned long)atomic_load(&write_failures),
                    moose_strerror(atomic_load(&first_failure)));
            exit(1);
        }
        sleep_ms(5);
        static double last_progress_line;
        if (progress && now_s() - last_progress_line >= 0.25) {
            last_progress_line = now_s();
            moose_metrics ws, tr, sk;
            if (moose_stream_metrics(app, "raw_stream", &ws) == 0 &&
                moose_transform_metrics(app, "transform_record", &tr) == 0 &&
                moose_sink_metrics(app, "ProcessedTable", &sk) == 0)
                fprintf(stderr,
                        "%6.2f s: written %" PRIu64 ", transformed %" PRIu64 ", sink read %" PRIu64
                        ", table rows %lld\n",
                        now_s() - t0, ws.records_out, tr.records_out, sk.records_in, have);
        }
    }
    double took = now_s() - t0, cpu = cpu_s() - c0;
    int nafter = threads_cpu(after, MAX_THREADS);
    atomic_store(&w.may_exit, true);
    pthread_join(w.thread, NULL);
    free(w.ids);
    free(w.data);
    check_table(db);
    sqlite3_close(db);
    moose_app_close(app);
    remove_db(path);
    double sustained = t90 > t10 ? (double)(have90 - have10) / (t90 - t10) : 0;
    printf("pipeline: %.0f records/s %.2f us/record %.2f s sustained %.0f records/s\n",
           (double)nrecords / took, cpu * 1e6 / (double)nrecords, took, sustained);
    print_threads_cpu("pipeline", before, nbefore, after, nafter, (long)nrecords);
    fflush(stdout);
}

int main(int argc, char **argv) {
    int rounds = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            nrecords = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--progress") == 0)
            progress = true;
        else if (strcmp(argv[i], "-X") == 0 && i + 1 < argc &&
                 nprops + 1 < sizeof props / sizeof *props)
            props[nprops++] = argv[++i];
        else {
            fprintf(stderr, "usage: bench_pipeline_sqlite [--records N] [--rounds R] [--progress] "
                            "[-X key=value]...\n");
            return 2;
        }
    }
    if (nrecords == 0 || rounds <= 0)
        return 2;
    /* Alternating, so both sides meet the same load on a shared machine. */
    for (int r = 0; r < rounds; r++) {
        raw_round();
        pipeline_round();
    }
    return 0;
}
