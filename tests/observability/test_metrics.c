/* Counters, histograms, rates, lag and validation statistics of the metrics registry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "moose/error.h"

static moose_metrics_registry *new_registry(void) {
    char err[128] = "";
    moose_metrics_registry *reg = moose__metrics_registry_new(err, sizeof err);
    assert_non_null(reg);
    return reg;
}

static void test_counters_after_known_workload(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *t = moose__metrics_component(reg, MOOSE_COMPONENT_TRANSFORM, "t");
    assert_non_null(t);
    /* 100 in: 70 out, 20 filtered, 10 transform errors sent to the DLQ. */
    moose__count(t, MOOSE__C_RECORDS_IN, 100);
    moose__count(t, MOOSE__C_BYTES_IN, 4200);
    moose__count(t, MOOSE__C_RECORDS_OUT, 70);
    moose__count(t, MOOSE__C_BYTES_OUT, 2100);
    moose__count(t, MOOSE__C_FILTERED, 20);
    moose__count(t, MOOSE__C_TRANSFORM_ERRORS, 10);
    moose__count(t, MOOSE__C_DLQ, 10);
    moose__count(t, MOOSE__C_RETRIES, 3);
    moose__count(t, MOOSE__C_BATCHES, 7);

    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_TRANSFORM, "t", &m), 0);
    assert_int_equal(m.records_in, 100);
    assert_int_equal(m.records_out, 70);
    assert_int_equal(m.bytes_in, 4200);
    assert_int_equal(m.bytes_out, 2100);
    assert_int_equal(m.filtered, 20);
    assert_int_equal(m.transform_errors, 10);
    assert_int_equal(m.dlq, 10);
    assert_int_equal(m.retries, 3);
    assert_int_equal(m.batches, 7);
    assert_int_equal(m.invalid, 0);
    assert_int_equal(m.records_in, m.records_out + m.filtered + m.dlq);
    assert_int_equal(m.npartitions, 0);
    assert_int_equal(m.write_ack.count, 0);

    /* The same name under another kind is another component. */
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "t", &m),
                     MOOSE_ENOTFOUND);
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_SINK, "nope", &m),
                     MOOSE_ENOTFOUND);
    assert_int_equal(moose_metrics_registry_get(NULL, MOOSE_COMPONENT_SINK, "t", &m), MOOSE_EINVAL);
    /* Asking again for a component returns the same block. */
    assert_ptr_equal(moose__metrics_component(reg, MOOSE_COMPONENT_TRANSFORM, "t"), t);
    moose__metrics_registry_free(reg);
}

static void test_null_component_records_nothing(void **state) {
    (void)state;
    moose__count(NULL, MOOSE__C_RECORDS_IN, 1);
    moose__latency_record(NULL, MOOSE__L_TRANSFORM, 5);
    moose__metrics_set_lag(NULL, 0, 5);
    moose__metrics_validated(NULL, "x", 1, NULL);
    moose__metrics_heartbeat(NULL);
    moose__metrics_sink_failing(NULL, true, "x");
}

#define THREADS 4
#define PER_THREAD 200000

static void *hammer(void *arg) {
    moose__component *c = arg;
    for (uint64_t i = 0; i < PER_THREAD; i++) {
        moose__count(c, MOOSE__C_RECORDS_IN, 1);
        moose__count(c, MOOSE__C_BYTES_IN, 3);
        moose__latency_record(c, MOOSE__L_WRITE_ACK, 1000 + i % 1000);
    }
    return NULL;
}

static void test_concurrent_increments_are_exact(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "s");
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, c), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "s", &m), 0);
    assert_int_equal(m.records_in, (uint64_t)THREADS * PER_THREAD);
    assert_int_equal(m.bytes_in, (uint64_t)THREADS * PER_THREAD * 3);
    assert_int_equal(m.write_ack.count, (uint64_t)THREADS * PER_THREAD);
    /* Each thread records 1000..1999 ns, 200 times each. */
    assert_int_equal(m.write_ack.sum_ns, (uint64_t)THREADS * 200 * (1000 + 1999) * 1000 / 2);
    assert_int_equal(m.write_ack.max_ns, 1999);
    moose__metrics_registry_free(reg);
}

typedef struct reader_args {
    moose_metrics_registry *reg;
    _Atomic int *stop;
    int rounds;
} reader_args;

/* Reads everything a scrape reads, over and over, while writers record. */
static void *reader(void *arg) {
    reader_args *a = arg;
    while (!atomic_load(a->stop)) {
        moose_metrics m;
        moose_metrics_registry_get(a->reg, MOOSE_COMPONENT_STREAM, "s", &m);
        moose_health h;
        moose_metrics_registry_health(a->reg, MOOSE_COMPONENT_STREAM, NULL, &h);
        FILE *null = fopen("/dev/null", "w");
        moose__metrics_prometheus(a->reg, null);
        fclose(null);
        free(moose__metrics_streams_json(a->reg));
        free(moose__metrics_validation_json(a->reg));
        moose__metrics_tick(a->reg, moose__metrics_now_ns() / 1000000);
        a->rounds++;
    }
    return NULL;
}

static void test_reads_during_writes(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "s");
    _Atomic int stop = 0;
    reader_args ra = {reg, &stop, 0};
    pthread_t rd, th[2];
    assert_int_equal(pthread_create(&rd, NULL, reader, &ra), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, c), 0);
    /* Components registered while others record and readers walk the registry. */
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "t%d", i);
        assert_non_null(moose__metrics_component(reg, MOOSE_COMPONENT_TRANSFORM, name));
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(rd, NULL);
    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "s", &m), 0);
    assert_int_equal(m.records_in, 2 * PER_THREAD);
    assert_int_equal(m.write_ack.count, 2 * PER_THREAD);
    assert_true(ra.rounds > 0);
    moose__metrics_registry_free(reg);
}

static void assert_within(uint64_t got, uint64_t want, double rel) {
    double lo = (double)want * (1 - rel), hi = (double)want * (1 + rel);
    if ((double)got < lo || (double)got > hi)
        fail_msg("%llu is not within %.2f%% of %llu", (unsigned long long)got, rel * 100,
                 (unsigned long long)want);
}

static void test_histogram_percentiles(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_SINK, "tbl");
    /* 1 us .. 1000 us, once each, shuffled by a stride co-prime with 1000. */
    for (uint64_t i = 0; i < 1000; i++)
        moose__latency_record(c, MOOSE__L_END_TO_END, ((i * 7) % 1000 + 1) * 1000);
    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_SINK, "tbl", &m), 0);
    assert_int_equal(m.end_to_end.count, 1000);
    assert_int_equal(m.end_to_end.max_ns, 1000000);
    assert_int_equal(m.end_to_end.sum_ns, 500500000);
    assert_within(m.end_to_end.p50_ns, 500000, 0.0625);
    assert_within(m.end_to_end.p95_ns, 950000, 0.0625);
    assert_within(m.end_to_end.p99_ns, 990000, 0.0625);
    assert_true(m.end_to_end.p50_ns >= 500000); /* an upper bound, never below the truth */
    assert_int_equal(m.transform.count, 0);

    /* Small values are exact; huge ones are kept in the last bucket and max is exact. */
    moose__latency_record(c, MOOSE__L_TRANSFORM, 7);
    moose__latency_record(c, MOOSE__L_TRANSFORM, 7);
    moose__latency_record(c, MOOSE__L_TRANSFORM, 7);
    moose__latency_record(c, MOOSE__L_TRANSFORM, UINT64_C(1) << 50);
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_SINK, "tbl", &m), 0);
    assert_int_equal(m.transform.p50_ns, 7);
    assert_int_equal(m.transform.max_ns, UINT64_C(1) << 50);
    assert_int_equal(m.transform.p99_ns, UINT64_C(1) << 50);
    moose__metrics_registry_free(reg);
}

static void test_rates_over_the_last_minute(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "s");
    moose_metrics m;
    moose__metrics_tick(reg, 1000);
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "s", &m), 0);
    assert_true(m.in_per_s == 0.0); /* one sample: no rate yet */
    /* 10 in, 8 out per second for 90 s; then a second with 50 in. */
    for (uint64_t s = 1; s <= 90; s++) {
        moose__count(c, MOOSE__C_RECORDS_IN, 10);
        moose__count(c, MOOSE__C_RECORDS_OUT, 8);
        moose__metrics_tick(reg, 1000 + s * 1000);
    }
    moose__count(c, MOOSE__C_RECORDS_IN, 50);
    moose__metrics_tick(reg, 92000);
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "s", &m), 0);
    /* The last 60 s: 59 seconds of 10 and one of 50. */
    assert_float_equal(m.in_per_s, (59 * 10 + 50) / 60.0, 1e-9);
    assert_float_equal(m.out_per_s, 59 * 8 / 60.0, 1e-9);
    assert_float_equal(m.in_per_s_now, 50.0, 1e-9);
    assert_float_equal(m.out_per_s_now, 0.0, 1e-9);
    assert_float_equal(m.errors_per_s, 0.0, 1e-9);
    moose__metrics_registry_free(reg);
}

static void test_lag_per_partition(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_SINK, "tbl");
    moose__metrics_set_lag(c, 0, 5);
    moose__metrics_set_lag(c, 3, 7);
    moose__metrics_set_lag(c, MOOSE_METRICS_MAX_PARTITIONS, 100); /* ignored: out of range */
    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_SINK, "tbl", &m), 0);
    assert_int_equal(m.npartitions, 4);
    assert_int_equal(m.lag[0], 5);
    assert_int_equal(m.lag[1], -1);
    assert_int_equal(m.lag[2], -1);
    assert_int_equal(m.lag[3], 7);
    assert_int_equal(m.lag_total, 12);
    moose__metrics_set_lag(c, 3, 0);
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_SINK, "tbl", &m), 0);
    assert_int_equal(m.lag_total, 5);
    moose__metrics_registry_free(reg);
}

static void add_error(moose_errors *errs, const char *path, const char *rule, const char *msg) {
    moose_field_error *e = &errs->items[errs->len++];
    snprintf(e->path, sizeof e->path, "%s", path);
    e->rule = rule;
    snprintf(e->message, sizeof e->message, "%s", msg);
    e->offset = -1;
}

static void test_validation_statistics(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "raw");
    moose_field_error items[8];
    moose_errors errs = {.items = items, .cap = 8};

    for (int i = 0; i < 10; i++)
        moose__metrics_validated(c, "{}", 2, NULL);
    errs.len = 0;
    moose__metrics_validated(c, "{}", 2, &errs); /* no errors: a pass */

    add_error(&errs, "items[0].price", "range", "-1 is below 0");
    add_error(&errs, "name", "length", "300 characters, at most 256");
    moose__metrics_validated(c, "{\"first\":1}", 11, &errs);
    errs.len = 0;
    add_error(&errs, "items[17].price", "range", "-5 is below 0");
    moose__metrics_validated(c, "{\"second\":2}", 12, &errs);

    char big[300];
    memset(big, 'x', sizeof big);
    errs.len = 0;
    add_error(&errs, "", "syntax", "unexpected end of input");
    errs.dropped = 2;
    moose__metrics_validated(c, big, sizeof big, &errs);

    moose_validation_stats vs;
    assert_int_equal(moose_metrics_registry_validation(reg, MOOSE_COMPONENT_STREAM, "raw", &vs), 0);
    assert_int_equal(vs.checked, 14);
    assert_int_equal(vs.passed, 11);
    assert_int_equal(vs.failed, 3);
    assert_int_equal(vs.nfailures, 3);
    assert_string_equal(vs.failures[0].path, "items[].price");
    assert_string_equal(vs.failures[0].rule, "range");
    assert_int_equal(vs.failures[0].count, 2);
    /* Ties sort by path: "" before "name". */
    assert_string_equal(vs.failures[1].path, "");
    assert_string_equal(vs.failures[1].rule, "syntax");
    assert_int_equal(vs.failures[1].count, 1);
    assert_string_equal(vs.failures[2].path, "name");
    assert_int_equal(vs.other_failures, 2);

    assert_int_equal(vs.nsamples, 3);
    assert_true(vs.samples[0].truncated);
    assert_int_equal(vs.samples[0].record_len, 300);
    assert_int_equal(strlen(vs.samples[0].record), MOOSE_VALIDATION_SAMPLE_BYTES);
    assert_int_equal(vs.samples[0].nreasons, 1);
    assert_int_equal(vs.samples[0].more_reasons, 2);
    assert_string_equal(vs.samples[0].reasons[0], "(record): syntax: unexpected end of input");
    assert_int_equal(vs.samples[0].seq, 3);
    assert_string_equal(vs.samples[1].record, "{\"second\":2}");
    assert_false(vs.samples[1].truncated);
    assert_string_equal(vs.samples[2].record, "{\"first\":1}");
    assert_int_equal(vs.samples[2].nreasons, 2);
    assert_string_equal(vs.samples[2].reasons[0], "items[0].price: range: -1 is below 0");
    assert_string_equal(vs.samples[2].reasons[1], "name: length: 300 characters, at most 256");
    assert_true(vs.samples[2].time_ms > 1700000000000LL);

    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "raw", &m), 0);
    assert_int_equal(m.invalid, 3);
    moose__metrics_registry_free(reg);
}

static void test_samples_keep_the_most_recent(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_TRANSFORM, "t");
    moose_field_error items[1];
    moose_errors errs = {.items = items, .cap = 1};
    add_error(&errs, "v", "range", "too big");
    char rec[16];
    for (int i = 0; i < 20; i++) {
        int n = snprintf(rec, sizeof rec, "{\"n\":%d}", i);
        moose__metrics_validated(c, rec, (size_t)n, &errs);
    }
    moose_validation_stats vs;
    assert_int_equal(moose_metrics_registry_validation(reg, MOOSE_COMPONENT_TRANSFORM, "t", &vs), 0);
    assert_int_equal(vs.nsamples, MOOSE_VALIDATION_MAX_SAMPLES);
    assert_string_equal(vs.samples[0].record, "{\"n\":19}");
    assert_int_equal(vs.samples[0].seq, 20);
    snprintf(rec, sizeof rec, "{\"n\":%d}", 20 - MOOSE_VALIDATION_MAX_SAMPLES);
    assert_string_equal(vs.samples[MOOSE_VALIDATION_MAX_SAMPLES - 1].record, rec);
    assert_int_equal(vs.failures[0].count, 20);
    moose__metrics_registry_free(reg);
}

static void test_registry_from_app_descriptor(void **state) {
    (void)state;
    static const moose_stream_desc raw = {.name = "raw_stream", .topic = "raw-stream"};
    static const moose_stream_desc out = {.name = "processed_stream", .topic = "processed"};
    static const moose_stream_desc *const streams[] = {&raw, &out};
    static const moose_table_desc table = {.name = "ProcessedTable"};
    static const moose_table_desc *const tables[] = {&table};
    static const moose_stream_desc *const dests[] = {&out};
    static const moose_transform_desc tr = {.name = "transform_record", .source = &raw,
                                            .destinations = dests, .ndestinations = 1};
    static const moose_transform_desc *const transforms[] = {&tr};
    static const moose_app_desc app = {.abi_version = MOOSE_ABI_VERSION, .name = "app",
                                       .tables = tables, .ntables = 1, .streams = streams,
                                       .nstreams = 2, .transforms = transforms, .ntransforms = 1};
    moose_metrics_registry *reg = new_registry();
    assert_int_equal(moose__metrics_registry_add_app(reg, &app), 0);
    assert_non_null(moose__metrics_find(reg, MOOSE_COMPONENT_STREAM, "raw_stream"));
    assert_non_null(moose__metrics_find(reg, MOOSE_COMPONENT_STREAM, "processed_stream"));
    assert_non_null(moose__metrics_find(reg, MOOSE_COMPONENT_TRANSFORM, "transform_record"));
    assert_non_null(moose__metrics_find(reg, MOOSE_COMPONENT_SINK, "ProcessedTable"));
    assert_null(moose__metrics_find(reg, MOOSE_COMPONENT_SINK, "raw_stream"));
    moose__metrics_registry_free(reg);
}

static void test_sampler_thread_ticks(void **state) {
    (void)state;
    moose_metrics_registry *reg = new_registry();
    moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "s");
    assert_int_equal(moose__metrics_start_sampler(reg), 0);
    assert_int_equal(moose__metrics_start_sampler(reg), 0); /* a second start is harmless */
    /* Freeing must stop and join the sampler promptly (leaks would show under ASan). */
    moose__metrics_registry_free(reg);
}

static void test_metrics_off(void **state) {
    (void)state;
    setenv("MOOSE_METRICS", "off", 1);
    moose_metrics_registry *reg = new_registry();
    unsetenv("MOOSE_METRICS");
    static const moose_stream_desc raw = {.name = "raw_stream", .topic = "raw-stream"};
    static const moose_stream_desc *const streams[] = {&raw};
    static const moose_app_desc app = {.abi_version = MOOSE_ABI_VERSION, .name = "app",
                                       .streams = streams, .nstreams = 1};
    assert_int_equal(moose__metrics_registry_add_app(reg, &app), 0);
    assert_null(moose__metrics_find(reg, MOOSE_COMPONENT_STREAM, "raw_stream"));
    assert_null(moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "other"));
    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "raw_stream", &m),
                     MOOSE_ENOTFOUND);
    moose_health h;
    assert_int_equal(moose_metrics_registry_health(reg, MOOSE_COMPONENT_STREAM, NULL, &h), 0);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    moose__metrics_registry_free(reg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_after_known_workload),
        cmocka_unit_test(test_null_component_records_nothing),
        cmocka_unit_test(test_concurrent_increments_are_exact),
        cmocka_unit_test(test_reads_during_writes),
        cmocka_unit_test(test_histogram_percentiles),
        cmocka_unit_test(test_rates_over_the_last_minute),
        cmocka_unit_test(test_lag_per_partition),
        cmocka_unit_test(test_validation_statistics),
        cmocka_unit_test(test_samples_keep_the_most_recent),
        cmocka_unit_test(test_registry_from_app_descriptor),
        cmocka_unit_test(test_sampler_thread_ticks),
        cmocka_unit_test(test_metrics_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
