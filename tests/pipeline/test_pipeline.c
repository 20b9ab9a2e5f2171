/*
 * The engine against a real Kafka protocol broker (librdkafka's mock
 * cluster, started in this process): records written with moose_write()
 * run through a transform into the destination topics, and every way a
 * record can fail ends in the dead letter queue with the right type.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "app_internal.h"
#include "fixture.h"
#include "moose/error.h"
#include "pipeline_util.h"

enum { READ_TIMEOUT_MS = 30000, QUIET_MS = 1500 };

static moose_app *open_app(fixture_app *f) {
    moose_config cfg = {.brokers = "embedded", .log_level = "warn"};
    char err[512] = "";
    moose_app *app = moose_app_open(&f->app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("moose_app_open: %s", err);
    return app;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start(moose_app *app) {
    char err[512] = "";
    if (moose_app_start(app, err, sizeof err) != 0)
        fail_msg("moose_app_start: %s", err);
}

static void write_raw(moose_app *app, fixture_app *f, const char *id, const char *data) {
    RawEvent e = {{id, strlen(id)}, {data, strlen(data)}};
    moose_errors errs;
    moose_errors_init(&errs);
    int rc = moose_write(app, &f->raw, &e, &errs);
    if (rc != 0)
        fail_msg("moose_write(%s): %s %s", id, moose_err_name(rc),
                 errs.len ? errs.items[0].message : "");
    moose_errors_free(&errs);
}

/*
 * Asserts that TOPIC holds exactly the records EXPECTED ("KEY VALUE", sorted),
 * each exactly once: within one process and without faults, a record is
 * processed once even while the workers join the group one after another
 * (a worker losing a partition hands what it finished to the next owner).
 */
static void assert_topic(moose_app *app, const char *topic, const char *const *expected,
                         size_t n) {
    util_records got = util_read_topic(app->kafka, topic, n, READ_TIMEOUT_MS, QUIET_MS);
    for (size_t i = 0; i < got.len && i < n; i++)
        assert_string_equal(got.items[i].text, expected[i]);
    assert_int_equal(got.len, n);
    util_records_free(&got);
}

typedef struct dlq_seen {
    size_t n;
    char line[8][512];
} dlq_seen;

/* "Type source transform key | message | path/rule | original" */
static int collect_dlq(const moose__dlq_record *r, void *opaque) {
    dlq_seen *s = opaque;
    if (s->n < 8)
        snprintf(s->line[s->n], sizeof s->line[0], "%s %s %s %s | %s | %s/%s | %s %s",
                 moose__dlq_error_type_name(r->type), moose__dlq_source_name(r->source),
                 r->transform ? r->transform : "-", r->key ? r->key : "-", r->message,
                 r->nerrors ? r->errors[0].path : "", r->nerrors ? r->errors[0].rule : "",
                 r->original, r->partition >= 0 && r->offset >= 0 ? "located" : "unlocated");
    s->n++;
    return 0;
}

static int by_string(const void *a, const void *b) { return strcmp(a, b); }

/* Reads the DLQ of TOPIC, waiting until it holds WANT entries, each once. Lines are sorted. */
static void read_dlq(moose_app *app, const char *topic, size_t want, dlq_seen *s) {
    char err[512];
    for (int tries = 0; tries < 60; tries++) {
        memset(s, 0, sizeof *s);
        int64_t n = moose__dlq_read(app->kafka, topic, collect_dlq, s, NULL, err, sizeof err);
        if (n < 0)
            fail_msg("moose__dlq_read: %s", err);
        if ((size_t)n >= want)
            break;
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* Once more after a quiet while, so an entry sent twice has time to show. */
    struct timespec quiet = {QUIET_MS / 1000, (QUIET_MS % 1000) * 1000 * 1000};
    nanosleep(&quiet, NULL);
    memset(s, 0, sizeof *s);
    if (moose__dlq_read(app->kafka, topic, collect_dlq, s, NULL, err, sizeof err) < 0)
        fail_msg("moose__dlq_read: %s", err);
    qsort(s->line, s->n < 8 ? s->n : 8, sizeof s->line[0], by_string);
}

/* The partition of the source whose committed offset is not at its end, or -1. */
static int32_t uncommitted_partition(moose_app *app, fixture_app *f) {
    char group[256];
    assert_true(moose__group_for_transform(&f->app, &f->transform, group, sizeof group));
    for (int32_t p = 0; p < f->raw.parallelism; p++) {
        int64_t end = util_end_offset(app->kafka, f->raw.topic, p);
        if (end > 0 && util_committed(app->kafka, group, f->raw.topic, p) != end)
            return p;
    }
    return -1;
}

/*
 * Everything processed gets committed while running (once the group
 * settles: the embedded broker refuses commits while its group rebalances),
 * then stopping keeps it so.
 */
static void stop_all_committed(moose_app *app, fixture_app *f) {
    int32_t p = -1;
    for (int tries = 0; tries < 300; tries++) {
        if ((p = uncommitted_partition(app, f)) < 0)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (p >= 0)
        fail_msg("partition %d of %s was never committed to its end", p, f->raw.topic);
    moose_app_stop(app);
    assert_int_equal(uncommitted_partition(app, f), -1);
}

static void one_to_one_and_every_error_path(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "p11", FIXTURE_TO_FLOAT, 2);
    moose_app *app = open_app(&f);
    char id[16], data[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "k%d", i);
        snprintf(data, sizeof data, "%d", i * 10);
        write_raw(app, &f, id, data);
    }
    write_raw(app, &f, "kx", "abc"); /* the transform fails */
    write_raw(app, &f, "kn", "neg"); /* the transform emits an invalid record */

    /* refused at write time: every error returned, and kept in the DLQ (dead_letter) */
    RawEvent bad = {{"kv", 2}, {"", 0}};
    moose_errors errs;
    moose_errors_init(&errs);
    assert_int_equal(moose_write(app, &f.raw, &bad, &errs), MOOSE_EVALIDATION);
    assert_int_equal(errs.len, 1);
    assert_string_equal(errs.items[0].path, "data");
    assert_string_equal(errs.items[0].rule, "length");
    moose_errors_free(&errs);

    int64_t started_ms = wall_ms();
    start(app);
    static const char *const expected[] = {
        "k0 {\"id\":\"k0\",\"value\":0.0}",  "k1 {\"id\":\"k1\",\"value\":10.0}",
        "k2 {\"id\":\"k2\",\"value\":20.0}", "k3 {\"id\":\"k3\",\"value\":30.0}",
        "k4 {\"id\":\"k4\",\"value\":40.0}", "k5 {\"id\":\"k5\",\"value\":50.0}",
        "k6 {\"id\":\"k6\",\"value\":60.0}", "k7 {\"id\":\"k7\",\"value\":70.0}",
        "k8 {\"id\":\"k8\",\"value\":80.0}", "k9 {\"id\":\"k9\",\"value\":90.0}",
    };
    assert_topic(app, f.out.topic, expected, 10);
    /* Each output carries the time the transform took its input up (CreateTime). */
    util_records got = util_read_topic(app->kafka, f.out.topic, 10, READ_TIMEOUT_MS, 0);
    int64_t read_ms = wall_ms();
    assert_int_equal(got.len, 10);
    for (size_t i = 0; i < got.len; i++) {
        assert_true(got.items[i].timestamp_ms >= started_ms);
        assert_true(got.items[i].timestamp_ms <= read_ms);
    }
    util_records_free(&got);

    dlq_seen s;
    read_dlq(app, f.raw.topic, 3, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.line[0],
                        "TransformError transform to_float kx | data 'abc' is not a number | / | "
                        "{\"id\":\"kx\",\"data\":\"abc\"} located");
    assert_string_equal(s.line[1],
                        "ValidationError transform to_float kn | output to out failed "
                        "validation: value: -1 is outside [0, 1e+09] | value/range | "
                        "{\"id\":\"kn\",\"data\":\"neg\"} located");
    assert_string_equal(s.line[2], "ValidationError write - kv | data: length 0 is outside [1, "
                                   "64] | data/length | {\"id\":\"kv\",\"data\":\"\"} unlocated");

    stop_all_committed(app, &f);
    moose_app_close(app);
}

static void one_to_many(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "p1n", FIXTURE_SPLIT, 2);
    moose_app *app = open_app(&f);
    write_raw(app, &f, "a", "1");
    write_raw(app, &f, "b", "2");
    write_raw(app, &f, "c", "3");
    start(app);
    static const char *const expected[] = {
        "a-1 {\"id\":\"a-1\",\"value\":1.0}", "a-2 {\"id\":\"a-2\",\"value\":2.0}",
        "b-1 {\"id\":\"b-1\",\"value\":2.0}", "b-2 {\"id\":\"b-2\",\"value\":4.0}",
        "c-1 {\"id\":\"c-1\",\"value\":3.0}", "c-2 {\"id\":\"c-2\",\"value\":6.0}",
    };
    assert_topic(app, f.out.topic, expected, 6);
    stop_all_committed(app, &f);
    moose_app_close(app);
}

static void filter(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "pfilter", FIXTURE_FILTER, 2);
    moose_app *app = open_app(&f);
    write_raw(app, &f, "a", "50");
    write_raw(app, &f, "b", "150");
    write_raw(app, &f, "c", "99");
    write_raw(app, &f, "d", "101");
    start(app);
    static const char *const expected[] = {
        "b {\"id\":\"b\",\"value\":150.0}",
        "d {\"id\":\"d\",\"value\":101.0}",
    };
    assert_topic(app, f.out.topic, expected, 2);
    /* filtered records are done too: their offsets are committed */
    stop_all_committed(app, &f);
    moose_metrics m;
    assert_int_equal(moose_transform_metrics(app, "filter", &m), 0);
    /* every record read once, and either passed on or filtered */
    assert_int_equal(m.records_in, 4);
    assert_int_equal(m.records_out, 2);
    assert_int_equal(m.filtered, 2);
    moose_app_close(app);
}

static void fan_out(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "pfan", FIXTURE_FANOUT, 2);
    moose_app *app = open_app(&f);
    write_raw(app, &f, "a", "1");
    write_raw(app, &f, "b", "2");
    start(app);
    static const char *const out[] = {"a {\"id\":\"a\",\"value\":1.0}",
                                      "b {\"id\":\"b\",\"value\":2.0}"};
    static const char *const audit[] = {"a {\"id\":\"a\",\"value\":2.0}",
                                        "b {\"id\":\"b\",\"value\":3.0}"};
    assert_topic(app, f.out.topic, out, 2);
    assert_topic(app, f.audit.topic, audit, 2);
    stop_all_committed(app, &f);
    moose_app_close(app);
}

static void records_from_other_producers_are_validated(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "pforeign", FIXTURE_TO_FLOAT, 1);
    moose_app *app = open_app(&f);
    char err[256];
    static const char *const values[] = {"not json", "{\"id\":\"e\",\"data\":\"\"}",
                                         "{\"id\":\"ok\",\"data\":\"5\"}"};
    static const char *const keys[] = {"j", "e", "ok"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(moose__producer_send_sync(app->producer, f.raw.topic, keys[i],
                                                   strlen(keys[i]), values[i], strlen(values[i]),
                                                   NULL, NULL, err, sizeof err),
                         0);
    start(app);
    static const char *const expected[] = {"ok {\"id\":\"ok\",\"value\":5.0}"};
    assert_topic(app, f.out.topic, expected, 1);
    dlq_seen s;
    read_dlq(app, f.raw.topic, 2, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.line[0],
                        "ValidationError transform to_float e | input failed raw's validation: "
                        "data: length 0 is outside [1, 64] | data/length | "
                        "{\"id\":\"e\",\"data\":\"\"} located");
    assert_true(strncmp(s.line[1], "ValidationError transform to_float j | input is not a valid "
                                   "RawEvent: ",
                        70) == 0);
    stop_all_committed(app, &f);
    moose_app_close(app);
}

static void reject_policy_keeps_no_copy(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "preject", FIXTURE_TO_FLOAT, 1);
    f.raw.on_invalid = MOOSE_ON_INVALID_REJECT;
    moose_app *app = open_app(&f);
    RawEvent bad = {{"r", 1}, {"", 0}};
    moose_errors errs;
    moose_errors_init(&errs);
    assert_int_equal(moose_write(app, &f.raw, &bad, &errs), MOOSE_EVALIDATION);
    assert_int_equal(errs.len, 1);
    moose_errors_free(&errs);
    /* the refusal is synchronous, DLQ copy included: had there been one, it would be there now */
    dlq_seen s;
    char err[512];
    memset(&s, 0, sizeof s);
    assert_int_equal(moose__dlq_read(app->kafka, f.raw.topic, collect_dlq, &s, NULL, err,
                                     sizeof err),
                     0);
    assert_int_equal(s.n, 0);
    moose_metrics m;
    assert_int_equal(moose_stream_metrics(app, "raw", &m), 0);
    assert_int_equal(m.invalid, 1);
    assert_int_equal(m.dlq, 0);
    moose_app_close(app);
}

typedef struct async_seen {
    pthread_mutex_t lock;
    int ok, failed;
} async_seen;

static void async_done(int status, const moose_errors *errs, void *opaque) {
    (void)errs;
    async_seen *a = opaque;
    pthread_mutex_lock(&a->lock);
    if (status == 0)
        a->ok++;
    else
        a->failed++;
    pthread_mutex_unlock(&a->lock);
}

static void async_writes_report_each_outcome(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "pasync", FIXTURE_TO_FLOAT, 2);
    moose_app *app = open_app(&f);
    async_seen a = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char id[16];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "a%d", i);
        RawEvent e = {{id, strlen(id)}, {"1", 1}};
        assert_int_equal(moose_write_async(app, &f.raw, &e, NULL, async_done, &a), 0);
    }
    /* refused at once, and the callback is not called for it */
    RawEvent bad = {{"x", 1}, {"", 0}};
    assert_int_equal(moose_write_async(app, &f.raw, &bad, NULL, async_done, &a),
                     MOOSE_EVALIDATION);
    assert_int_equal(moose_app_flush(app, 30000), 0);
    pthread_mutex_lock(&a.lock);
    assert_int_equal(a.ok, 100);
    assert_int_equal(a.failed, 0);
    pthread_mutex_unlock(&a.lock);
    util_records got = util_read_topic(app->kafka, f.raw.topic, 100, READ_TIMEOUT_MS, 500);
    assert_int_equal(got.len, 100);
    util_records_free(&got);
    moose_metrics m;
    assert_int_equal(moose_stream_metrics(app, "raw", &m), 0);
    assert_int_equal(m.records_out, 100);
    assert_int_equal(m.invalid, 1);
    assert_int_equal(m.dlq, 1);
    moose_app_close(app);
}

static int by_offset(const void *a, const void *b) {
    const util_record *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * librdkafka's queue holds 20 records, and a send gives up waiting for room
 * after 5 ms: the outputs a worker sends for its batch meet a full queue
 * again and again, and the worker sends them again from the first one
 * refused. Every output arrives once, and each key's in the order of its
 * inputs (the destination has one partition: offsets are that order).
 */
static void a_full_queue_keeps_each_keys_order(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "pfull", FIXTURE_TO_FLOAT, 2);
    const char *props[] = {"queue.buffering.max.messages=20", "moose.send.timeout.ms=5", NULL};
    moose_config cfg = {.brokers = "embedded", .log_level = "warn", .kafka_props = props};
    char err[512] = "";
    moose_app *app = moose_app_open(&f.app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("moose_app_open: %s", err);
    enum { N = 1500, KEYS = 5 };
    async_seen a = {.lock = PTHREAD_MUTEX_INITIALIZER};
    for (int i = 0; i < N; i++) {
        char id[16], data[16];
        snprintf(id, sizeof id, "q%d", i % KEYS);
        snprintf(data, sizeof data, "%d", i);
        RawEvent e = {{id, strlen(id)}, {data, strlen(data)}};
        int rc;
        while ((rc = moose_write_async(app, &f.raw, &e, NULL, async_done, &a)) ==
               MOOSE_EQUEUEFULL) {
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        assert_int_equal(rc, 0);
    }
    assert_int_equal(moose_app_flush(app, 30000), 0);
    assert_int_equal(a.ok, N);
    start(app);
    util_records got = util_read_topic(app->kafka, f.out.topic, N, READ_TIMEOUT_MS, QUIET_MS);
    assert_int_equal(got.len, N);
    qsort(got.items, got.len, sizeof got.items[0], by_offset);
    static bool seen[N];
    memset(seen, 0, sizeof seen);
    int last[KEYS] = {-1, -1, -1, -1, -1};
    for (size_t i = 0; i < got.len; i++) {
        int key, key_again;
        double value;
        assert_int_equal(sscanf(got.items[i].text, "q%d {\"id\":\"q%d\",\"value\":%lf}", &key,
                                &key_again, &value),
                         3);
        assert_true(key >= 0 && key < KEYS && key_again == key);
        int n = (int)value;
        assert_true(n >= 0 && n < N && n % KEYS == key);
        assert_false(seen[n]);
        seen[n] = true;
        if (n <= last[key])
            fail_msg("key q%d: input %d came out after input %d", key, n, last[key]);
        last[key] = n;
    }
    util_records_free(&got);
    stop_all_committed(app, &f);
    moose_app_close(app);
}

/* An argument runs the one test it names (ctest runs each on its own, side by side). */
int main(int argc, char **argv) {
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_to_one_and_every_error_path),
        cmocka_unit_test(one_to_many),
        cmocka_unit_test(filter),
        cmocka_unit_test(fan_out),
        cmocka_unit_test(records_from_other_producers_are_validated),
        cmocka_unit_test(reject_policy_keeps_no_copy),
        cmocka_unit_test(async_writes_report_each_outcome),
        cmocka_unit_test(a_full_queue_keeps_each_keys_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
