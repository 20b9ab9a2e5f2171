/* Health: facts reported by components turn into healthy / degraded / unhealthy with reasons. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "metrics.h"
#include "metrics_component.h"
#include "moose/error.h"

typedef struct fixture {
    moose_metrics_registry *reg;
    moose__component *stream, *transform, *sink;
    uint64_t t0;
} fixture;

static int setup(void **state) {
    static fixture f;
    char err[128];
    f.reg = moose__metrics_registry_new(err, sizeof err);
    f.stream = moose__metrics_component(f.reg, MOOSE_COMPONENT_STREAM, "raw_stream");
    f.transform = moose__metrics_component(f.reg, MOOSE_COMPONENT_TRANSFORM, "enrich");
    f.sink = moose__metrics_component(f.reg, MOOSE_COMPONENT_SINK, "Events");
    f.t0 = moose__metrics_now_ms();
    *state = &f;
    return f.reg && f.stream && f.transform && f.sink ? 0 : -1;
}

static int teardown(void **state) {
    fixture *f = *state;
    moose__metrics_registry_free(f->reg);
    return 0;
}

static moose_health health_at(fixture *f, uint64_t at_ms) {
    moose_health h;
    assert_int_equal(moose__metrics_health_at(f->reg, MOOSE_COMPONENT_STREAM, NULL, at_ms, &h), 0);
    return h;
}

static void test_starts_healthy(void **state) {
    fixture *f = *state;
    moose_health h = health_at(f, f->t0);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    assert_int_equal(h.nreasons, 0);
    assert_string_equal(moose_health_status_name(h.status), "healthy");
}

static void test_broker_down_then_back(void **state) {
    fixture *f = *state;
    moose__metrics_set_broker_up(f->reg, false, "connection refused by 127.0.0.1:9092");
    moose_health h = health_at(f, f->t0);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);
    assert_int_equal(h.nreasons, 1);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_BROKER_DOWN);
    assert_string_equal(h.reasons[0].component, "");
    assert_string_equal(h.reasons[0].message,
                        "Kafka cluster unreachable: connection refused by 127.0.0.1:9092");
    /* A component's own health includes the broker it depends on. */
    assert_int_equal(moose_metrics_registry_health(f->reg, MOOSE_COMPONENT_SINK, "Events", &h), 0);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);

    moose__metrics_set_broker_up(f->reg, true, NULL);
    h = health_at(f, f->t0);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    assert_int_equal(h.nreasons, 0);
}

static void test_lag_thresholds(void **state) {
    fixture *f = *state;
    moose_health_thresholds t = moose_health_thresholds_default();
    t.lag_degraded = 100;
    t.lag_unhealthy = 1000;
    assert_int_equal(moose_metrics_registry_set_thresholds(f->reg, &t), 0);

    moose__metrics_set_lag(f->sink, 0, 30);
    moose__metrics_set_lag(f->sink, 1, 120);
    moose_health h = health_at(f, f->t0);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    assert_int_equal(h.nreasons, 1);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_LAG);
    assert_int_equal(h.reasons[0].kind, MOOSE_COMPONENT_SINK);
    assert_string_equal(h.reasons[0].component, "Events");
    assert_string_equal(h.reasons[0].message, "lag 150 above 100 (partition 1: 120)");

    moose__metrics_set_lag(f->sink, 1, 2000);
    h = health_at(f, f->t0);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);
    assert_string_equal(h.reasons[0].message, "lag 2030 above 1000 (partition 1: 2000)");

    /* Another component is not concerned. */
    assert_int_equal(moose__metrics_health_at(f->reg, MOOSE_COMPONENT_TRANSFORM, "enrich", f->t0,
                                              &h),
                     0);
    assert_int_equal(h.status, MOOSE_HEALTHY);

    moose__metrics_set_lag(f->sink, 0, 0);
    moose__metrics_set_lag(f->sink, 1, 0);
    h = health_at(f, f->t0);
    assert_int_equal(h.status, MOOSE_HEALTHY);
}

static void test_error_rate(void **state) {
    fixture *f = *state;
    moose_field_error item = {.path = "amount", .rule = "range", .message = "too big"};
    moose_errors errs = {.items = &item, .len = 1, .cap = 1};

    moose__metrics_tick(f->reg, f->t0);
    /* 100 written, 10 of them invalid: 10 % is above 5 % (degraded), below 50 %. */
    moose__count(f->stream, MOOSE__C_RECORDS_IN, 100);
    for (int i = 0; i < 10; i++)
        moose__metrics_validated(f->stream, "{}", 2, &errs);
    moose__metrics_tick(f->reg, f->t0 + 1000);
    moose_health h = health_at(f, f->t0 + 1000);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    assert_int_equal(h.nreasons, 1);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_ERROR_RATE);
    assert_string_equal(h.reasons[0].component, "raw_stream");
    assert_string_equal(h.reasons[0].message,
                        "10 errors in 100 records in the last minute (10.0%, limit 5.0%)");

    /* 60 more, all invalid: 70 of 160. */
    moose__count(f->stream, MOOSE__C_RECORDS_IN, 60);
    for (int i = 0; i < 60; i++)
        moose__metrics_validated(f->stream, "{}", 2, &errs);
    moose__metrics_tick(f->reg, f->t0 + 2000);
    h = health_at(f, f->t0 + 2000);
    assert_int_equal(h.status, MOOSE_DEGRADED); /* 43.75 % */
    moose__count(f->stream, MOOSE__C_RECORDS_IN, 40);
    for (int i = 0; i < 40; i++)
        moose__metrics_validated(f->stream, "{}", 2, &errs);
    moose__metrics_tick(f->reg, f->t0 + 3000);
    h = health_at(f, f->t0 + 3000);
    assert_int_equal(h.status, MOOSE_UNHEALTHY); /* 110 of 200 */
    assert_string_equal(h.reasons[0].message,
                        "110 errors in 200 records in the last minute (55.0%, limit 50.0%)");

    /* A minute of clean traffic later, the window no longer holds the failures. */
    for (uint64_t s = 4; s <= 64; s++) {
        moose__count(f->stream, MOOSE__C_RECORDS_IN, 10);
        moose__metrics_tick(f->reg, f->t0 + s * 1000);
    }
    h = health_at(f, f->t0 + 64000);
    assert_int_equal(h.status, MOOSE_HEALTHY);
}

static void test_few_records_do_not_count(void **state) {
    fixture *f = *state;
    moose__metrics_tick(f->reg, f->t0);
    moose__count(f->transform, MOOSE__C_RECORDS_IN, 5);
    moose__count(f->transform, MOOSE__C_TRANSFORM_ERRORS, 5);
    moose__metrics_tick(f->reg, f->t0 + 1000);
    /* 100 % of 5 records: fewer than error_min_records (20), so not a verdict yet. */
    assert_int_equal(health_at(f, f->t0 + 1000).status, MOOSE_HEALTHY);
}

/* A failure that started at BEFORE or later has lasted at most this many whole seconds at AT_MS. */
static uint64_t most_seconds(uint64_t before, uint64_t at_ms) {
    return (at_ms - before) / 1000;
}

static void test_sink_failing(void **state) {
    fixture *f = *state;
    /* A table that is down loses nothing (commits wait): degraded at first. */
    uint64_t before = moose__metrics_now_ms();
    moose__metrics_sink_failing(f->sink, true, "database is locked");
    uint64_t after = moose__metrics_now_ms();
    moose_health h = health_at(f, after);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    assert_int_equal(h.nreasons, 1);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_SINK_FAILING);
    assert_int_equal(h.reasons[0].severity, MOOSE_DEGRADED);
    assert_string_equal(h.reasons[0].message, "table inserts failing: database is locked");
    assert_string_equal(moose_health_reason_name(h.reasons[0].code), "sink_failing");
    /* Still failing, later reports do not restart the clock. */
    moose__metrics_sink_failing(f->sink, true, "database is locked");
    assert_int_equal(health_at(f, before + 59000).status, MOOSE_DEGRADED);

    /* Failing for the threshold (60 s by default) or longer: unhealthy. */
    h = health_at(f, after + 90000);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);
    assert_int_equal(h.reasons[0].severity, MOOSE_UNHEALTHY);
    unsigned long long seconds = 0;
    char why[64] = "";
    assert_int_equal(sscanf(h.reasons[0].message, "table inserts failing for %llu s: %63[^\n]",
                            &seconds, why),
                     2);
    assert_in_range(seconds, 90, most_seconds(before, after + 90000));
    assert_string_equal(why, "database is locked");

    /* Working again, then failing again: the clock starts over. */
    moose__metrics_sink_failing(f->sink, false, NULL);
    assert_int_equal(health_at(f, after + 90000).status, MOOSE_HEALTHY);
    before = moose__metrics_now_ms();
    moose__metrics_sink_failing(f->sink, true, "disk full");
    assert_int_equal(health_at(f, before + 59000).status, MOOSE_DEGRADED);

    /* The threshold is configurable; 0 keeps a failing sink degraded however long. */
    moose_health_thresholds t = moose_health_thresholds_default();
    assert_int_equal(t.sink_failing_unhealthy_s, 60);
    t.sink_failing_unhealthy_s = 5;
    assert_int_equal(moose_metrics_registry_set_thresholds(f->reg, &t), 0);
    assert_int_equal(health_at(f, before + 4000).status, MOOSE_DEGRADED);
    assert_int_equal(health_at(f, moose__metrics_now_ms() + 5000).status, MOOSE_UNHEALTHY);
    t.sink_failing_unhealthy_s = 0;
    assert_int_equal(moose_metrics_registry_set_thresholds(f->reg, &t), 0);
    assert_int_equal(health_at(f, before + 3600 * 1000).status, MOOSE_DEGRADED);
    moose__metrics_sink_failing(f->sink, false, NULL);
    assert_int_equal(health_at(f, before).status, MOOSE_HEALTHY);
}

static void test_stalled_without_progress(void **state) {
    fixture *f = *state;
    moose__metrics_set_lag(f->transform, 0, 50);
    moose__metrics_tick(f->reg, f->t0);
    /* Lag but within the default stall time (30 s): fine. */
    moose__metrics_tick(f->reg, f->t0 + 20000);
    assert_int_equal(health_at(f, f->t0 + 20000).status, MOOSE_HEALTHY);
    moose__metrics_tick(f->reg, f->t0 + 31000);
    moose_health h = health_at(f, f->t0 + 31000);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_STALLED);
    assert_string_equal(h.reasons[0].component, "enrich");
    assert_string_equal(h.reasons[0].message, "workers stalled: no progress for 31 s with lag 50");
    /* Progress clears it. */
    moose__count(f->transform, MOOSE__C_RECORDS_IN, 1);
    moose__metrics_tick(f->reg, f->t0 + 32000);
    assert_int_equal(health_at(f, f->t0 + 32000).status, MOOSE_HEALTHY);
    /* No lag, no progress: idle, not stalled. */
    moose__metrics_set_lag(f->transform, 0, 0);
    moose__metrics_tick(f->reg, f->t0 + 90000);
    assert_int_equal(health_at(f, f->t0 + 90000).status, MOOSE_HEALTHY);
}

static void test_no_stall_verdict_without_ticks(void **state) {
    fixture *f = *state;
    moose__metrics_set_lag(f->transform, 0, 50);
    /* Never ticked: progress is unknown, so no verdict. */
    assert_int_equal(health_at(f, f->t0 + 60000).status, MOOSE_HEALTHY);
    /* Ticked once long ago (the sampler died): still no verdict. */
    moose__metrics_tick(f->reg, f->t0);
    assert_int_equal(health_at(f, f->t0 + 60000).status, MOOSE_HEALTHY);
    moose__metrics_tick(f->reg, f->t0 + 58000);
    assert_int_equal(health_at(f, f->t0 + 60000).status, MOOSE_UNHEALTHY);
}

static void test_stalled_without_heartbeat(void **state) {
    fixture *f = *state;
    moose__metrics_heartbeat(f->sink);
    assert_int_equal(health_at(f, moose__metrics_now_ms() + 5000).status, MOOSE_HEALTHY);
    moose_health h = health_at(f, moose__metrics_now_ms() + 40000);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_STALLED);
    assert_string_equal(h.reasons[0].message, "workers stalled: no heartbeat for 40 s");
    /* Workers that stopped on purpose are not stalled. */
    moose__metrics_heartbeat_end(f->sink);
    assert_int_equal(health_at(f, moose__metrics_now_ms() + 40000).status, MOOSE_HEALTHY);
}

static void test_thresholds_are_checked(void **state) {
    fixture *f = *state;
    moose_health_thresholds t = moose_health_thresholds_default();
    t.lag_degraded = 1000;
    t.lag_unhealthy = 10;
    assert_int_equal(moose_metrics_registry_set_thresholds(f->reg, &t), MOOSE_EINVAL);
    t = moose_health_thresholds_default();
    t.error_rate_degraded = -1;
    assert_int_equal(moose_metrics_registry_set_thresholds(f->reg, &t), MOOSE_EINVAL);
    /* Zero turns a check off. */
    t = moose_health_thresholds_default();
    t.lag_degraded = 0;
    t.stall_s = 0;
    assert_int_equal(moose_metrics_registry_set_thresholds(f->reg, &t), 0);
    moose__metrics_set_lag(f->sink, 0, 1000000);
    moose__metrics_tick(f->reg, f->t0);
    assert_int_equal(health_at(f, f->t0 + 600000).status, MOOSE_HEALTHY);
    moose_health h;
    assert_int_equal(moose_metrics_registry_health(f->reg, MOOSE_COMPONENT_SINK, "nope", &h),
                     MOOSE_ENOTFOUND);
}

static void test_reasons_accumulate(void **state) {
    fixture *f = *state;
    moose__metrics_set_broker_up(f->reg, false, "all brokers down");
    moose__metrics_sink_failing(f->sink, true, "disk full");
    moose__metrics_set_lag(f->sink, 0, 20000);
    moose_health h = health_at(f, f->t0);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);
    assert_int_equal(h.nreasons, 3);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_BROKER_DOWN);
    assert_int_equal(h.reasons[1].code, MOOSE_HEALTH_SINK_FAILING);
    assert_int_equal(h.reasons[1].severity, MOOSE_DEGRADED);
    assert_int_equal(h.reasons[2].code, MOOSE_HEALTH_LAG);
    assert_int_equal(h.reasons[2].severity, MOOSE_DEGRADED);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_starts_healthy),          T(test_broker_down_then_back),
        T(test_lag_thresholds),          T(test_error_rate),
        T(test_few_records_do_not_count), T(test_sink_failing),
        T(test_stalled_without_progress), T(test_stalled_without_heartbeat),
        T(test_no_stall_verdict_without_ticks),
        T(test_thresholds_are_checked),  T(test_reasons_accumulate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
