/*
 * Broker faults while a pipeline runs: orders are written (keyed), the
 * `deliver` transform filters, refuses or passes each, and the table sink
 * keeps the deliveries in SQLite. Each test injects one fault from
 * librdkafka's mock cluster (the embedded broker this process owns) in the
 * middle of the writes, lifts it, and then checks the promise:
 *   - every delivery in the table exactly once, none missing, none extra;
 *   - every write the app acknowledged was delivered (all writes succeed);
 *   - in = out + invalid for the write side, in = out + filtered + DLQ for the
 *     transform, in = out + DLQ for the sink, and every order produced once;
 *   - health reported the fault while it lasted, where a client can see it
 *     (the broker gone; librdkafka retries the other faults out of sight).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app_internal.h"
#include "faults.moose.h"
#include "faults_util.h"
#include "kafka_internal.h"
#include "moose/error.h"
#include "moose/metrics.h"

enum {
    ORDERS = 300,            /* written per test */
    FAULT_AT = 100,          /* the fault starts once this many were written */
    FAULT_MS = 5000,         /* and lasts this long */
    DELIVERY_TIMEOUT_MS = 90000,
};

/* One running pipeline: the app, whose start runs the transform and the table sink. */
typedef struct pipeline {
    moose_app *app;
    rd_kafka_mock_cluster_t *mock;
    char db[128];
    char tables[160];
} pipeline;

/* The writer thread: orders 0..ORDERS-1 in order, synchronously. */
typedef struct writer {
    moose_app *app;
    atomic_int written;
    atomic_int failed;
    char first_failure[1024];
} writer;

static void *write_orders(void *arg) {
    writer *w = arg;
    moose_errors errs;
    moose_errors_init(&errs);
    for (int64_t i = 0; i < ORDERS; i++) {
        char id[32];
        faults_order_id(id, sizeof id, i);
        Order o = {{id, strlen(id)}, i};
        moose_errors_clear(&errs);
        int rc = orders_write(w->app, &o, &errs);
        if (rc != 0 && atomic_fetch_add(&w->failed, 1) == 0)
            snprintf(w->first_failure, sizeof w->first_failure, "%s: %s%s%s", id,
                     moose_strerror(rc), errs.len ? ": " : "",
                     errs.len ? errs.items[0].message : "");
        atomic_fetch_add(&w->written, 1);
    }
    moose_errors_free(&errs);
    return NULL;
}

static void pipeline_open(pipeline *p, const char *name) {
    memset(p, 0, sizeof *p);
    snprintf(p->db, sizeof p->db, "%s.db", name);
    snprintf(p->tables, sizeof p->tables, "sqlite:%s", p->db);
    unlink(p->db);
    moose_config cfg = {.brokers = "embedded", .tables = p->tables, .log_level = "error"};
    char err[512] = "";
    p->app = moose_app_open(&faults_app, &cfg, err, sizeof err);
    if (!p->app)
        fail_msg("moose_app_open: %s", err);
    if (!p->app->kafka->owned)
        fail_msg("the embedded broker should run in this process (is another test's running?)");
    p->mock = moose__embedded_cluster(p->app->kafka->owned);
    assert_non_null(p->mock);
    /* The workload refuses one order in ten on purpose (see transforms.c): no alarm for that. */
    moose_health_thresholds t = moose_health_thresholds_default();
    t.error_rate_degraded = 0.25;
    /*
     * Under valgrind (the memcheck step runs no_fault) everything is some 30
     * times slower: round trips and producer waits say nothing about the
     * broker there.
     */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) {
        t.broker_rtt_degraded_ms = 0;
        t.broker_produce_wait_degraded_ms = 0;
    }
    assert_int_equal(moose_app_set_health_thresholds(p->app, &t), 0);
}

static void pipeline_start(pipeline *p) {
    char err[512] = "";
    if (moose_app_start(p->app, err, sizeof err) != 0)
        fail_msg("moose_app_start: %s", err);
}

static void pipeline_close(pipeline *p) {
    if (!p->app)
        return;
    moose_app_stop(p->app);
    moose_app_close(p->app);
    unlink(p->db);
    memset(p, 0, sizeof *p);
}

/* The pipeline of the running test: closed by the teardown even when an assertion failed. */
static pipeline current;

static void monitor_teardown(void);

static int close_current(void **state) {
    (void)state;
    monitor_teardown();
    pipeline_close(&current);
    return 0;
}

/* What health said over a stretch of time: the worst status, and each reason's first sentence. */
#define REASON_CODES 32
typedef struct health_seen {
    moose_health_status worst;
    bool any_reason;
    char first_reason[256];
    bool seen[REASON_CODES];
    char message[REASON_CODES][192];
} health_seen;

static void sample_health(moose_app *app, health_seen *seen) {
    moose_health h;
    if (moose_app_health(app, &h) != 0)
        return;
    if (h.status > seen->worst)
        seen->worst = h.status;
    for (uint32_t i = 0; i < h.nreasons; i++) {
        unsigned code = (unsigned)h.reasons[i].code;
        if (code < REASON_CODES && !seen->seen[code]) {
            seen->seen[code] = true;
            snprintf(seen->message[code], sizeof seen->message[code], "%s",
                     h.reasons[i].message);
        }
        if (!seen->any_reason)
            snprintf(seen->first_reason, sizeof seen->first_reason, "%s: %s",
                     moose_health_reason_name(h.reasons[i].code), h.reasons[i].message);
        seen->any_reason = true;
    }
}

/* Health sampled every 100 ms from the pipeline's start to its checks' end (a thread). */
typedef struct monitor {
    moose_app *app;
    atomic_bool stop;
    pthread_mutex_t lock;
    health_seen seen;
    pthread_t thread;
} monitor;

static void *monitor_main(void *arg) {
    monitor *m = arg;
    while (!atomic_load(&m->stop)) {
        health_seen now = {0};
        sample_health(m->app, &now);
        pthread_mutex_lock(&m->lock);
        if (now.worst > m->seen.worst)
            m->seen.worst = now.worst;
        if (now.any_reason && !m->seen.any_reason) {
            m->seen.any_reason = true;
            snprintf(m->seen.first_reason, sizeof m->seen.first_reason, "%s", now.first_reason);
        }
        pthread_mutex_unlock(&m->lock);
        faults_sleep_ms(100);
    }
    return NULL;
}

static void monitor_start(monitor *m, moose_app *app) {
    memset(m, 0, sizeof *m);
    m->app = app;
    pthread_mutex_init(&m->lock, NULL);
    assert_int_equal(pthread_create(&m->thread, NULL, monitor_main, m), 0);
}

static health_seen monitor_stop(monitor *m) {
    atomic_store(&m->stop, true);
    pthread_join(m->thread, NULL);
    pthread_mutex_destroy(&m->lock);
    return m->seen;
}

/* Waits up to MS for health to give REASON no more; false when it still does. */
static bool reason_clears(moose_app *app, moose_health_reason_code reason, int ms,
                          int64_t *cleared_after_ms) {
    int64_t start = faults_now_ms(), until = start + ms;
    for (;;) {
        health_seen now = {0};
        sample_health(app, &now);
        if (!now.seen[reason]) {
            *cleared_after_ms = faults_now_ms() - start;
            return true;
        }
        if (faults_now_ms() > until)
            return false;
        faults_sleep_ms(200);
    }
}

/* Samples health every 100 ms for MS milliseconds, calling KEEP (if any) each time. */
static void watch_health(moose_app *app, int ms, health_seen *seen,
                         void (*keep)(rd_kafka_mock_cluster_t *), rd_kafka_mock_cluster_t *mock) {
    int64_t until = faults_now_ms() + ms;
    while (faults_now_ms() < until) {
        if (keep)
            keep(mock);
        sample_health(app, seen);
        faults_sleep_ms(100);
    }
}

typedef struct fault {
    const char *name;
    /* Before the consumers join (JoinGroup faults), or else after FAULT_AT writes. */
    bool before_start;
    /* And once rows reach the table: the consumers are fetching (Fetch faults). */
    bool once_flowing;
    void (*inject)(rd_kafka_mock_cluster_t *mock);
    /* Called every 100 ms while the fault lasts, to keep it up (NULL: it holds by itself). */
    void (*keep)(rd_kafka_mock_cluster_t *mock);
    void (*lift)(rd_kafka_mock_cluster_t *mock); /* NULL: the fault wears off by itself */
    /* The reason health must give while the fault lasts, and clear once it is over. */
    moose_health_reason_code reason;
    int hold_ms; /* how long the fault lasts (0: FAULT_MS) */
} fault;

/* The stage counters settle once the last record went through: poll until they add up. */
static void assert_accounting(moose_app *app) {
    int64_t deadline = faults_now_ms() + 30000;
    moose_metrics s, t, k;
    for (;;) {
        assert_int_equal(moose_stream_metrics(app, orders_stream.name, &s), 0);
        assert_int_equal(moose_transform_metrics(app, deliver_transform.name, &t), 0);
        assert_int_equal(moose_sink_metrics(app, DeliveryTable_table.name, &k), 0);
        bool settled = t.records_in >= ORDERS &&
                       t.records_in == t.records_out + t.filtered + t.dlq &&
                       k.records_in >= (uint64_t)faults_expected_rows(ORDERS) &&
                       k.records_in == k.records_out + k.dlq;
        if (settled || faults_now_ms() > deadline)
            break;
        faults_sleep_ms(200);
    }
    printf("# stream %s: in %llu out %llu invalid %llu dlq %llu retries %llu\n",
           orders_stream.name, (unsigned long long)s.records_in,
           (unsigned long long)s.records_out, (unsigned long long)s.invalid,
           (unsigned long long)s.dlq, (unsigned long long)s.retries);
    printf("# transform %s: in %llu out %llu filtered %llu dlq %llu\n", deliver_transform.name,
           (unsigned long long)t.records_in, (unsigned long long)t.records_out,
           (unsigned long long)t.filtered, (unsigned long long)t.dlq);
    printf("# sink %s: in %llu out %llu dlq %llu retries %llu\n", DeliveryTable_table.name,
           (unsigned long long)k.records_in, (unsigned long long)k.records_out,
           (unsigned long long)k.dlq, (unsigned long long)k.retries);
    /* Every order was offered once and produced once by the write side. */
    assert_int_equal(s.records_in, ORDERS);
    assert_int_equal(s.records_in, s.records_out + s.invalid);
    assert_int_equal(s.records_out, ORDERS);
    assert_int_equal(s.dlq, 0);
    /* At least once: a record may be seen twice after a fault, but the sums always hold. */
    assert_true(t.records_in >= ORDERS);
    assert_int_equal(t.records_in, t.records_out + t.filtered + t.dlq);
    assert_true(t.filtered >= ORDERS / 10);
    assert_true(t.dlq >= ORDERS / 10);
    assert_true(k.records_in >= (uint64_t)faults_expected_rows(ORDERS));
    assert_int_equal(k.records_in, k.records_out + k.dlq);
    assert_int_equal(k.dlq, 0);
}

/* Health over the whole run of the current test: stopped by the teardown too. */
static monitor current_monitor;
static bool monitor_running;

static health_seen stop_monitor(void) {
    health_seen seen = {0};
    if (monitor_running)
        seen = monitor_stop(&current_monitor);
    monitor_running = false;
    return seen;
}

static void monitor_teardown(void) {
    stop_monitor();
}

/* How long a reason may outlive its fault: the default broker_window_s (10 s) and a margin. */
enum { CLEAR_MS = 15000 };

static void run_fault(const fault *f) {
    pipeline *p = &current;
    pipeline_open(p, f->name);
    monitor_start(&current_monitor, p->app);
    monitor_running = true;
    if (f->before_start && f->inject)
        f->inject(p->mock);
    pipeline_start(p);

    writer w = {.app = p->app};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_orders, &w), 0);
    while (atomic_load(&w.written) < FAULT_AT)
        faults_sleep_ms(10);
    if (f->once_flowing && faults_wait_rows(p->db, 1, DELIVERY_TIMEOUT_MS) < 1)
        fail_msg("%s: no row reached the table before the fault", f->name);

    health_seen seen = {0};
    if (!f->before_start && f->inject)
        f->inject(p->mock);
    watch_health(p->app, f->hold_ms ? f->hold_ms : FAULT_MS, &seen, f->keep, p->mock);
    if (f->lift)
        f->lift(p->mock);
    pthread_join(th, NULL);
    printf("# %s: worst health while it lasted: %s%s%s\n", f->name,
           moose_health_status_name(seen.worst), seen.any_reason ? ", " : "",
           seen.first_reason);

    if (atomic_load(&w.failed) != 0)
        fail_msg("%d writes failed; the first: %s", atomic_load(&w.failed), w.first_failure);
    assert_int_equal(moose_app_flush(p->app, 30000), 0);

    int64_t want = faults_expected_rows(ORDERS);
    int64_t got = faults_wait_rows(p->db, want, DELIVERY_TIMEOUT_MS);
    /* A little longer, so a late duplicate or stray row would show. */
    faults_sleep_ms(500);
    char why[512] = "";
    if (!faults_table_exact(p->db, ORDERS, why, sizeof why)) {
        /* Whether the deliveries topic holds them (the sink skipped) or not (never appended). */
        int64_t in_topic = 0;
        for (int32_t part = 0; part < (int32_t)deliveries_stream.parallelism; part++) {
            int64_t lo = 0, hi = 0;
            if (rd_kafka_query_watermark_offsets(moose__producer_handle(p->app->producer),
                                                 deliveries_stream.topic, part, &lo, &hi,
                                                 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
                in_topic += hi - lo;
        }
        printf("# %s: the %s topic holds %lld records\n", f->name, deliveries_stream.topic,
               (long long)in_topic);
        moose_metrics t, k;
        moose_transform_metrics(p->app, deliver_transform.name, &t);
        moose_sink_metrics(p->app, DeliveryTable_table.name, &k);
        fail_msg("%s: after the fault, %lld of %lld rows: %s (transform in %llu out %llu "
                 "filtered %llu dlq %llu; sink in %llu out %llu dlq %llu)",
                 f->name, (long long)got, (long long)want, why, (unsigned long long)t.records_in,
                 (unsigned long long)t.records_out, (unsigned long long)t.filtered,
                 (unsigned long long)t.dlq, (unsigned long long)k.records_in,
                 (unsigned long long)k.records_out, (unsigned long long)k.dlq);
    }
    assert_accounting(p->app);

    if (!f->inject) {
        /* No fault, no alarm: healthy from the start to the last check. */
        health_seen all = stop_monitor();
        printf("# %s: worst health throughout: %s%s%s\n", f->name,
               moose_health_status_name(all.worst), all.any_reason ? ", " : "",
               all.first_reason);
        if (all.worst != MOOSE_HEALTHY)
            fail_msg("%s: health was %s without a fault: %s", f->name,
                     moose_health_status_name(all.worst), all.first_reason);
    } else {
        stop_monitor();
        if (!seen.seen[f->reason])
            fail_msg("%s: health never said %s while the fault lasted (worst: %s%s%s)", f->name,
                     moose_health_reason_name(f->reason), moose_health_status_name(seen.worst),
                     seen.any_reason ? ", " : "", seen.first_reason);
        printf("# %s: %s: %s\n", f->name, moose_health_reason_name(f->reason),
               seen.message[f->reason]);
        int64_t cleared_ms = 0;
        if (!reason_clears(p->app, f->reason, CLEAR_MS, &cleared_ms))
            fail_msg("%s: health still says %s %d s after the fault ended", f->name,
                     moose_health_reason_name(f->reason), CLEAR_MS / 1000);
        printf("# %s: %s cleared %lld ms after the checks\n", f->name,
               moose_health_reason_name(f->reason), (long long)cleared_ms);
    }
    pipeline_close(p);
}

/* ---- the faults ---- */

static void broker_down(rd_kafka_mock_cluster_t *m) {
    assert_int_equal(rd_kafka_mock_broker_set_down(m, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
}
static void broker_up(rd_kafka_mock_cluster_t *m) {
    assert_int_equal(rd_kafka_mock_broker_set_up(m, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Kafka protocol API keys (librdkafka keeps its names for them private). */
enum { API_PRODUCE = 0, API_FETCH = 1, API_OFFSET_COMMIT = 8, API_JOIN_GROUP = 11 };

static void push_errors(rd_kafka_mock_cluster_t *m, int16_t api, rd_kafka_resp_err_t err,
                        size_t n) {
    rd_kafka_resp_err_t errs[16];
    for (size_t i = 0; i < n; i++)
        errs[i] = err;
    rd_kafka_mock_push_request_errors_array(m, api, n, errs);
}

/* Errors pushed ahead of the requests that meet them; kept topped up while the fault lasts. */
static void produce_errors(rd_kafka_mock_cluster_t *m) {
    push_errors(m, API_PRODUCE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 2);
}
/* Enough for every consumer's fetches to meet some, not only the busiest one's. */
static void fetch_errors(rd_kafka_mock_cluster_t *m) {
    push_errors(m, API_FETCH, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 6);
}
static void offset_commit_errors(rd_kafka_mock_cluster_t *m) {
    push_errors(m, API_OFFSET_COMMIT, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, 2);
}
static void join_group_errors(rd_kafka_mock_cluster_t *m) {
    push_errors(m, API_JOIN_GROUP, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, 2);
}
/*
 * The mock cluster of librdkafka 2.0 answers Metadata without looking at
 * pushed errors: a topic error is what makes its metadata answers fail.
 */
static void set_topic_errors(rd_kafka_mock_cluster_t *m, rd_kafka_resp_err_t err) {
    rd_kafka_mock_topic_set_error(m, orders_stream.topic, err);
    rd_kafka_mock_topic_set_error(m, deliveries_stream.topic, err);
}
static void metadata_errors(rd_kafka_mock_cluster_t *m) {
    set_topic_errors(m, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
}
/* The errors not met yet are taken back: the fault is over. */
static void produce_ok(rd_kafka_mock_cluster_t *m) { rd_kafka_mock_clear_request_errors(m, API_PRODUCE); }
static void fetch_ok(rd_kafka_mock_cluster_t *m) { rd_kafka_mock_clear_request_errors(m, API_FETCH); }
static void offset_commit_ok(rd_kafka_mock_cluster_t *m) {
    rd_kafka_mock_clear_request_errors(m, API_OFFSET_COMMIT);
}
static void join_group_ok(rd_kafka_mock_cluster_t *m) {
    rd_kafka_mock_clear_request_errors(m, API_JOIN_GROUP);
}
static void metadata_ok(rd_kafka_mock_cluster_t *m) {
    set_topic_errors(m, RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Every partition of the orders and deliveries topics loses its leader, then gets it back. */
static void set_leaders(rd_kafka_mock_cluster_t *m, int32_t leader) {
    const moose_stream_desc *streams[] = {&orders_stream, &deliveries_stream};
    for (size_t s = 0; s < 2; s++)
        for (int32_t part = 0; part < (int32_t)streams[s]->parallelism; part++)
            assert_int_equal(
                rd_kafka_mock_partition_set_leader(m, streams[s]->topic, part, leader),
                RD_KAFKA_RESP_ERR_NO_ERROR);
}
static void leaders_lost(rd_kafka_mock_cluster_t *m) { set_leaders(m, -1); }
static void leaders_back(rd_kafka_mock_cluster_t *m) { set_leaders(m, 1); }

static void rtt_up(rd_kafka_mock_cluster_t *m) {
    assert_int_equal(rd_kafka_mock_broker_set_rtt(m, 1, 300), RD_KAFKA_RESP_ERR_NO_ERROR);
}
static void rtt_down(rd_kafka_mock_cluster_t *m) {
    assert_int_equal(rd_kafka_mock_broker_set_rtt(m, 1, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
}

#define FAULT_TEST(fn, ...)                                                                    \
    static void fn(void **state) {                                                             \
        (void)state;                                                                           \
        static const fault f = {.name = #fn, __VA_ARGS__};                                     \
        run_fault(&f);                                                                         \
    }

/* Each fault lasts FAULT_MS unless said otherwise: long enough for health to see it. */
FAULT_TEST(no_fault, .inject = NULL)
/* The health probe asks the broker every 5 s: a shorter outage may pass unseen. */
FAULT_TEST(broker_down_and_up, .inject = broker_down, .lift = broker_up,
           .reason = MOOSE_HEALTH_BROKER_DOWN, .hold_ms = 8000)
FAULT_TEST(produce_errors_are_retried, .inject = produce_errors, .keep = produce_errors,
           .lift = produce_ok, .reason = MOOSE_HEALTH_BROKER_ERRORS)
/* Refused fetches show as leader lookups in three statistics reports in a row: hold it 8 s. */
FAULT_TEST(fetch_errors_are_retried, .once_flowing = true, .inject = fetch_errors,
           .keep = fetch_errors, .lift = fetch_ok, .reason = MOOSE_HEALTH_BROKER_ERRORS,
           .hold_ms = 8000)
FAULT_TEST(offset_commit_errors_are_retried, .inject = offset_commit_errors,
           .keep = offset_commit_errors, .lift = offset_commit_ok,
           .reason = MOOSE_HEALTH_COMMIT_FAILING)
FAULT_TEST(join_group_errors_are_retried, .before_start = true, .inject = join_group_errors,
           .keep = join_group_errors, .lift = join_group_ok,
           .reason = MOOSE_HEALTH_GROUP_JOIN_FAILING)
/* Clients ask for metadata seldom; the health probe asks every 5 s: hold it for two probes. */
FAULT_TEST(metadata_errors_are_retried, .inject = metadata_errors, .lift = metadata_ok, .reason = MOOSE_HEALTH_METADATA_ERRORS, .hold_ms = 8000)
FAULT_TEST(partitions_without_leader, .inject = leaders_lost, .lift = leaders_back,
           .reason = MOOSE_HEALTH_NO_LEADER)
FAULT_TEST(slow_broker, .inject = rtt_up, .lift = rtt_down, .reason = MOOSE_HEALTH_SLOW_BROKER)

/*
 * The broker refuses some produce requests for good (an error no retry
 * cures): each refused write returns an error naming the reason, and the
 * promise narrows to what the caller was told succeeded: exactly those
 * orders reach the table, and none of the refused ones.
 */
static void writes_the_broker_refuses_are_reported_and_only_those_are_missing(void **state) {
    (void)state;
    enum { N = 60, REFUSED_AT = 20, REFUSALS = 3 };
    pipeline *p = &current;
    pipeline_open(p, "refused_writes");
    pipeline_start(p);
    bool ok[N];
    int failures = 0;
    char first_failure[512] = "";
    moose_errors errs;
    moose_errors_init(&errs);
    for (int64_t i = 0; i < N; i++) {
        if (i == REFUSED_AT)
            push_errors(p->mock, API_PRODUCE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
                        REFUSALS);
        char id[32];
        faults_order_id(id, sizeof id, i);
        Order o = {{id, strlen(id)}, i};
        moose_errors_clear(&errs);
        int rc = orders_write(p->app, &o, &errs);
        ok[i] = rc == 0;
        if (!ok[i] && i > REFUSED_AT + REFUSALS)
            printf("# %s refused after the injected errors: %s\n", id,
                   errs.len ? errs.items[0].message : moose_strerror(rc));
        if (!ok[i] && failures++ == 0)
            snprintf(first_failure, sizeof first_failure, "%s: %s%s%s", moose_err_name(rc),
                     moose_strerror(rc), errs.len ? ": " : "",
                     errs.len ? errs.items[0].message : "");
    }
    moose_errors_free(&errs);
    printf("# %d of %d writes refused; the first: %s\n", failures, N, first_failure);
    assert_int_equal(failures, REFUSALS);
    /* The caller hears why, not just that it failed. */
    assert_non_null(strstr(first_failure, "Broker failed to validate record"));

    int64_t want = 0;
    for (int64_t i = 0; i < N; i++)
        want += ok[i] && !faults_is_filtered(i) && !faults_is_refused(i);
    faults_wait_rows(p->db, want, DELIVERY_TIMEOUT_MS);
    faults_sleep_ms(500);
    for (int64_t i = 0; i < N; i++) {
        char id[32];
        faults_order_id(id, sizeof id, i);
        int expect = ok[i] && !faults_is_filtered(i) && !faults_is_refused(i);
        int has = faults_table_has(p->db, id);
        if (has != expect)
            fail_msg("%s: %s in the table, but its write %s", id, has ? "is" : "is not",
                     ok[i] ? "succeeded" : "was refused");
    }
    assert_int_equal(faults_table_count(p->db), want);
    pipeline_close(p);
}

/* What the broker said of one record sent by refused_request_is_not_overtaken. */
typedef struct acked {
    atomic_bool done;
    int status;
    int64_t offset;
} acked;

static void record_acked(int status, int32_t partition, int64_t offset, const char *message,
                         void *opaque) {
    (void)partition;
    (void)message;
    acked *a = opaque;
    a->status = status;
    a->offset = offset;
    atomic_store(&a->done, true);
}

/*
 * The embedded broker does not check an idempotent producer's sequence
 * numbers: a produce request sent while an earlier one is on its way back
 * refused (NOT_ENOUGH_REPLICAS, retriable) is stored, and librdkafka then
 * takes the refused records for acknowledged (no error, offset -1) without
 * their ever reaching the log. The broker answers slowly here, so a second
 * and a third request would leave behind the first; every record must still
 * be acknowledged with an offset and be in the partition.
 */
static void refused_request_is_not_overtaken(void **state) {
    (void)state;
    enum { N = 3, RTT_MS = 500, GAP_MS = 100 };
    pipeline *p = &current;
    pipeline_open(p, "refused_request");
    moose__producer *prod = p->app->producer;
    const char *topic = orders_stream.topic;
    /* Once the producer has its id (a first record, to partition 1), records leave one by one. */
    acked warm = {.status = -1};
    atomic_init(&warm.done, false);
    assert_int_equal(moose__producer_send(prod, topic, 1, "warm", 4, "{}", 2, record_acked, &warm),
                     0);
    assert_int_equal(moose__producer_flush(prod, 30000), 0);
    assert_true(atomic_load(&warm.done));
    assert_int_equal(warm.status, 0);
    assert_int_equal(rd_kafka_mock_broker_set_rtt(p->mock, 1, RTT_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
    push_errors(p->mock, API_PRODUCE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 1);
    acked a[N];
    for (int i = 0; i < N; i++) {
        atomic_init(&a[i].done, false);
        char key[8];
        snprintf(key, sizeof key, "r%d", i);
        int rc = moose__producer_send(prod, topic, 0, key, strlen(key), "{}", 2, record_acked,
                                      &a[i]);
        assert_int_equal(rc, 0);
        faults_sleep_ms(GAP_MS);
    }
    assert_int_equal(moose__producer_flush(prod, 30000), 0);
    assert_int_equal(rd_kafka_mock_broker_set_rtt(p->mock, 1, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int i = 0; i < N; i++) {
        assert_true(atomic_load(&a[i].done));
        printf("# record r%d: status %d offset %lld\n", i, a[i].status, (long long)a[i].offset);
        if (a[i].status != 0 || a[i].offset < 0)
            fail_msg("record r%d was acknowledged with status %d offset %lld: not stored", i,
                     a[i].status, (long long)a[i].offset);
    }
    int64_t lo = 0, hi = 0;
    assert_int_equal(rd_kafka_query_watermark_offsets(moose__producer_handle(prod), topic, 0, &lo,
                                                      &hi, 5000),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(hi - lo, N);
    pipeline_close(p);
}

/*
 * The transform counts an output out once the broker acknowledged it, not
 * when it was queued: an output the broker refuses for good sends its input
 * to the dead letter queue and is not counted out, so in = out + filtered +
 * dlq says what reached the topic.
 */
/*
 * Opens pipeline NAME, writes one order of AMOUNT, makes the broker refuse
 * the next REFUSED produce requests for good, starts the transform and waits
 * until it dead-lettered a record (or DELIVERY_TIMEOUT_MS). The transform's
 * metrics.
 */
static moose_metrics refuse_produces(pipeline *p, const char *name, int64_t amount,
                                     size_t refused) {
    pipeline_open(p, name);
    moose_errors errs;
    moose_errors_init(&errs);
    Order o = {{"k0", 2}, amount};
    assert_int_equal(orders_write(p->app, &o, &errs), 0);
    moose_errors_free(&errs);
    /* The next produce requests are the transform's: nothing else produces before it. */
    push_errors(p->mock, API_PRODUCE, RD_KAFKA_RESP_ERR_INVALID_RECORD, refused);
    pipeline_start(p);
    moose_metrics t;
    int64_t deadline = faults_now_ms() + DELIVERY_TIMEOUT_MS;
    do {
        faults_sleep_ms(100);
        assert_int_equal(moose_transform_metrics(p->app, deliver_transform.name, &t), 0);
    } while (t.dlq < 1 && faults_now_ms() < deadline);
    return t;
}

static void refused_output_is_not_counted_out(void **state) {
    (void)state;
    pipeline *p = &current;
    /* The transform's output is refused. */
    moose_metrics t = refuse_produces(p, "refused_output", 1, 1);
    printf("# transform %s: in %llu out %llu filtered %llu dlq %llu\n", deliver_transform.name,
           (unsigned long long)t.records_in, (unsigned long long)t.records_out,
           (unsigned long long)t.filtered, (unsigned long long)t.dlq);
    assert_int_equal(t.records_in, 1);
    assert_int_equal(t.dlq, 1);
    assert_int_equal(t.records_out, 0);
    assert_int_equal(t.bytes_out, 0);
    assert_int_equal(faults_table_count(p->db), 0);
    pipeline_close(p);
}

/*
 * An output the broker refuses for good sends its input to the dead letter
 * queue; when the broker refuses that too, the record is kept (no commit
 * passes it) and filed again a second later, not dropped. The broker takes
 * the second try: the entry is there, once.
 */
static void refused_dead_letter_is_tried_again(void **state) {
    (void)state;
    pipeline *p = &current;
    /* The transform's output, then its first dead letter, are refused. */
    moose_metrics t = refuse_produces(p, "refused_dead_letter", 1, 2);
    assert_int_equal(t.records_in, 1);
    assert_int_equal(t.dlq, 1);
    assert_int_equal(t.records_out, 0);
    char dlq[256];
    snprintf(dlq, sizeof dlq, "%s.dlq", orders_stream.topic);
    int64_t entries = 0;
    for (int32_t part = 0; part < orders_stream.parallelism; part++) {
        int64_t lo = 0, hi = 0;
        assert_int_equal(rd_kafka_query_watermark_offsets(moose__producer_handle(p->app->producer),
                                                          dlq, part, &lo, &hi, 5000),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        entries += hi - lo;
    }
    assert_int_equal(entries, 1);
    pipeline_close(p);
}

/* "Type message" of each DLQ entry read, up to 4. */
typedef struct dead_letters {
    int n;
    char line[4][256];
} dead_letters;

static int collect_dead_letter(const moose__dlq_record *r, void *opaque) {
    dead_letters *d = opaque;
    if (d->n < 4)
        snprintf(d->line[d->n], sizeof d->line[0], "%s %s", moose__dlq_error_type_name(r->type),
                 r->message);
    d->n++;
    return 0;
}

/*
 * A dead letter lost on its way (the broker refuses its produce request) is
 * sent again as it was: the record's own TransformError and reason, counted
 * once, not a DeliveryError about the dead letter queue.
 */
static void lost_dead_letter_keeps_its_failure(void **state) {
    (void)state;
    pipeline *p = &current;
    /* Amount 8 fails in the transform: the first produce request is its dead letter. */
    moose_metrics t = refuse_produces(p, "lost_dead_letter", 8, 1);
    assert_int_equal(t.records_in, 1);
    assert_int_equal(t.transform_errors, 1);
    dead_letters d = {0};
    char err[256];
    int64_t deadline = faults_now_ms() + DELIVERY_TIMEOUT_MS;
    do {
        memset(&d, 0, sizeof d);
        faults_sleep_ms(100);
        assert_true(moose__dlq_read(p->app->kafka, orders_stream.topic, collect_dead_letter, &d,
                                    NULL, err, sizeof err) >= 0);
    } while (d.n < 1 && faults_now_ms() < deadline);
    faults_sleep_ms(1500); /* time for a second entry to show, if one were sent */
    memset(&d, 0, sizeof d);
    assert_true(moose__dlq_read(p->app->kafka, orders_stream.topic, collect_dead_letter, &d, NULL,
                                err, sizeof err) >= 0);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.line[0], "TransformError amount 8 is refused on purpose");
    assert_int_equal(moose_transform_metrics(p->app, deliver_transform.name, &t), 0);
    assert_int_equal(t.dlq, 1);
    pipeline_close(p);
}

/*
 * A record within max_record_bytes (1 MiB by default) is accepted by
 * validation, so it must also fit through Kafka. Its Key travels twice (as
 * the message key and inside the value), so a 600 kB Key makes a 1.2 MB
 * message: above librdkafka's default message.max.bytes (1,000,000), which
 * the runtime must raise to fit the record limit.
 */
static void record_within_the_size_limit_is_delivered(void **state) {
    (void)state;
    pipeline *p = &current;
    pipeline_open(p, "large_record");
    pipeline_start(p);
    enum { KEY_BYTES = 600 * 1000 };
    char *id = malloc(KEY_BYTES + 1);
    assert_non_null(id);
    memset(id, 'k', KEY_BYTES);
    id[KEY_BYTES] = '\0';
    Order o = {{id, KEY_BYTES}, 1};
    moose_errors errs;
    moose_errors_init(&errs);
    int rc = orders_write(p->app, &o, &errs);
    free(id);
    moose_errors_free(&errs);
    if (rc != 0)
        fail_msg("a %d-byte record was refused by the transport: %s", KEY_BYTES + 20,
                 moose_strerror(rc));
    assert_int_equal(faults_wait_rows(p->db, 1, DELIVERY_TIMEOUT_MS), 1);
    pipeline_close(p);
}

int main(int argc, char **argv) {
    const struct CMUnitTest all[] = {
        cmocka_unit_test_teardown(no_fault, close_current),
        cmocka_unit_test_teardown(broker_down_and_up, close_current),
        cmocka_unit_test_teardown(produce_errors_are_retried, close_current),
        cmocka_unit_test_teardown(fetch_errors_are_retried, close_current),
        cmocka_unit_test_teardown(offset_commit_errors_are_retried, close_current),
        cmocka_unit_test_teardown(join_group_errors_are_retried, close_current),
        cmocka_unit_test_teardown(metadata_errors_are_retried, close_current),
        cmocka_unit_test_teardown(partitions_without_leader, close_current),
        cmocka_unit_test_teardown(slow_broker, close_current),
        cmocka_unit_test_teardown(record_within_the_size_limit_is_delivered, close_current),
        cmocka_unit_test_teardown(refused_request_is_not_overtaken, close_current),
        cmocka_unit_test_teardown(refused_output_is_not_counted_out, close_current),
        cmocka_unit_test_teardown(refused_dead_letter_is_tried_again, close_current),
        cmocka_unit_test_teardown(lost_dead_letter_keeps_its_failure, close_current),
        cmocka_unit_test_teardown(writes_the_broker_refuses_are_reported_and_only_those_are_missing,
                                  close_current),
    };
    /* `test_faults no_fault` runs one test (what the memcheck step does). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(all, NULL, NULL);
}
