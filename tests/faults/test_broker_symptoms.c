/*
 * How health judges what the Kafka clients observe of the brokers (retried
 * requests, failed commits and joins, metadata errors, partitions without a
 * leader, slow round trips, records waiting in a producer), on the
 * registry's own clock; and that an app closing its own connections raises
 * no broker alarm in its log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.moose.h"
#include "kafka_internal.h"
#include "log.h"
#include "metrics.h"
#include "moose/app.h"
#include "moose/error.h"
#include "moose/metrics.h"

/* A clock far from 0: symptom slots use 0 for "never". */
enum { T0 = 1000000 };

static moose_metrics_registry *registry(void) {
    char err[256] = "";
    moose_metrics_registry *reg = moose__metrics_registry_new(err, sizeof err);
    if (!reg)
        fail_msg("registry: %s", err);
    return reg;
}

static moose_health health_at(moose_metrics_registry *reg, uint64_t now_ms) {
    moose_health h;
    assert_int_equal(moose__metrics_health_at(reg, MOOSE_COMPONENT_STREAM, NULL, now_ms, &h), 0);
    return h;
}

/* The reason with CODE in H, or NULL. */
static const moose_health_reason *reason(const moose_health *h, moose_health_reason_code code) {
    for (uint32_t i = 0; i < h->nreasons; i++)
        if (h->reasons[i].code == code)
            return &h->reasons[i];
    return NULL;
}

static void defaults_are_documented(void **state) {
    (void)state;
    moose_health_thresholds t = moose_health_thresholds_default();
    assert_int_equal(t.broker_window_s, 10);
    assert_int_equal(t.broker_symptoms_degraded, 3);
    assert_int_equal(t.broker_rtt_degraded_ms, 200);
    assert_int_equal(t.broker_produce_wait_degraded_ms, 500);
    assert_string_equal(moose_health_reason_name(MOOSE_HEALTH_BROKER_ERRORS), "broker_errors");
    assert_string_equal(moose_health_reason_name(MOOSE_HEALTH_COMMIT_FAILING), "commit_failing");
    assert_string_equal(moose_health_reason_name(MOOSE_HEALTH_GROUP_JOIN_FAILING),
                        "group_join_failing");
    assert_string_equal(moose_health_reason_name(MOOSE_HEALTH_METADATA_ERRORS), "metadata_errors");
    assert_string_equal(moose_health_reason_name(MOOSE_HEALTH_NO_LEADER), "no_leader");
    assert_string_equal(moose_health_reason_name(MOOSE_HEALTH_SLOW_BROKER), "slow_broker");
}

static void a_retried_request_now_and_then_is_no_incident(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_REQUEST_ERRORS, 1, "one retry", T0);
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_REQUEST_ERRORS, 1, "another", T0 + 4000);
    moose_health h = health_at(reg, T0 + 5000);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    assert_int_equal(h.nreasons, 0);
    /* Eleven seconds later the first has left the window: still two at most. */
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_REQUEST_ERRORS, 1, "a third", T0 + 11000);
    assert_int_equal(health_at(reg, T0 + 11000).status, MOOSE_HEALTHY);
    moose__metrics_registry_free(reg);
}

static void retried_requests_degrade_and_clear_after_the_window(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_REQUEST_ERRORS, 2, "first", T0);
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_REQUEST_ERRORS, 1,
                                     "Produce request to b/1 failed", T0 + 2500);
    moose_health h = health_at(reg, T0 + 3000);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    const moose_health_reason *r = reason(&h, MOOSE_HEALTH_BROKER_ERRORS);
    assert_non_null(r);
    assert_int_equal(r->severity, MOOSE_DEGRADED);
    assert_string_equal(r->component, "");
    assert_string_equal(r->message, "3 broker requests retried or failed in the last 10 s; the "
                                    "latest: Produce request to b/1 failed");
    /* The first two leave the window 10 s after their second: one is left, below 3. */
    assert_int_equal(health_at(reg, T0 + 9999).status, MOOSE_DEGRADED);
    assert_int_equal(health_at(reg, T0 + 10000).status, MOOSE_HEALTHY);
    moose__metrics_registry_free(reg);
}

static void each_kind_has_its_reason(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    for (int i = 0; i < 3; i++) {
        moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_COMMIT_FAILED, 1, "commit",
                                         T0 + 100u * i);
        moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_JOIN_FAILED, 1, "join", T0 + 100u * i);
    }
    /* States, polled rather than counted: once is enough. */
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_METADATA_ERRORS, 1,
                                     "orders: Leader not available", T0);
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_NO_LEADER, 1, "orders [0]", T0);
    moose_health h = health_at(reg, T0 + 1000);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    assert_int_equal(h.nreasons, 4);
    assert_null(reason(&h, MOOSE_HEALTH_BROKER_ERRORS));
    assert_string_equal(reason(&h, MOOSE_HEALTH_COMMIT_FAILING)->message,
                        "3 offset commits failed in the last 10 s; the latest: commit");
    assert_string_equal(reason(&h, MOOSE_HEALTH_GROUP_JOIN_FAILING)->message,
                        "3 consumer group joins refused in the last 10 s; the latest: join");
    assert_string_equal(reason(&h, MOOSE_HEALTH_METADATA_ERRORS)->message,
                        "1 metadata errors in the last 10 s; the latest: orders: Leader not "
                        "available");
    assert_string_equal(reason(&h, MOOSE_HEALTH_NO_LEADER)->message,
                        "1 reports of partitions without a leader in the last 10 s; the latest: "
                        "orders [0]");
    assert_int_equal(health_at(reg, T0 + 10300).status, MOOSE_HEALTHY);
    moose__metrics_registry_free(reg);
}

static void slow_round_trips_in_three_seconds_make_a_slow_broker(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    /* One fast request keeps a second below the limit: 100 and 299 ms average 199.5 ms. */
    moose__metrics_broker_rtt_at(reg, 100000, "b/1", T0);
    moose__metrics_broker_rtt_at(reg, 299000, "b/1", T0);
    moose__metrics_broker_rtt_at(reg, 300000, "b/1", T0 + 1000);
    moose__metrics_broker_rtt_at(reg, 300000, "b/1", T0 + 2000);
    assert_int_equal(health_at(reg, T0 + 2500).status, MOOSE_HEALTHY);
    moose__metrics_broker_rtt_at(reg, 301000, "127.0.0.1:9092/1", T0 + 3000);
    moose_health h = health_at(reg, T0 + 3500);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    assert_string_equal(reason(&h, MOOSE_HEALTH_SLOW_BROKER)->message,
                        "broker round trips averaged up to 301 ms in 3 of the last 10 s (limit "
                        "200 ms; the latest: 127.0.0.1:9092/1)");
    /* Fast again: the slow seconds leave the window one by one. */
    assert_int_equal(health_at(reg, T0 + 10999).status, MOOSE_DEGRADED);
    assert_int_equal(health_at(reg, T0 + 11000).status, MOOSE_HEALTHY);
    moose__metrics_registry_free(reg);
}

static void records_waiting_in_a_producer_are_broker_errors(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__metrics_broker_produce_wait_at(reg, 5000, "producer-1", T0);
    moose__metrics_broker_produce_wait_at(reg, 860000, "producer-1", T0 + 1000);
    moose__metrics_broker_produce_wait_at(reg, 1867000, "producer-1", T0 + 2000);
    assert_int_equal(health_at(reg, T0 + 2000).status, MOOSE_HEALTHY);
    moose__metrics_broker_produce_wait_at(reg, 2879000, "producer-1", T0 + 3000);
    moose_health h = health_at(reg, T0 + 3000);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    assert_string_equal(reason(&h, MOOSE_HEALTH_BROKER_ERRORS)->message,
                        "records waited up to 2879 ms on average before their produce request in "
                        "3 of the last 10 s (limit 500 ms: produce requests retried, or the "
                        "producer cannot keep up; producer-1)");
    moose__metrics_registry_free(reg);
}

static void thresholds_turn_the_checks_off_or_are_refused(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    for (int i = 0; i < 5; i++) {
        moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_REQUEST_ERRORS, 1, "x", T0);
        moose__metrics_broker_rtt_at(reg, 900000, "b", T0 + 1000u * i);
    }
    moose__metrics_broker_symptom_at(reg, MOOSE__BROKER_NO_LEADER, 1, "p", T0);
    assert_int_equal(health_at(reg, T0 + 4000).nreasons, 3);

    moose_health_thresholds t = moose_health_thresholds_default();
    t.broker_rtt_degraded_ms = 0;
    assert_int_equal(moose_metrics_registry_set_thresholds(reg, &t), 0);
    moose_health h = health_at(reg, T0 + 4000);
    assert_int_equal(h.nreasons, 2);
    assert_null(reason(&h, MOOSE_HEALTH_SLOW_BROKER));

    t.broker_window_s = 0;
    assert_int_equal(moose_metrics_registry_set_thresholds(reg, &t), 0);
    assert_int_equal(health_at(reg, T0 + 4000).status, MOOSE_HEALTHY);

    /* Symptoms are kept a minute: a longer window cannot be honoured. */
    t.broker_window_s = 64;
    assert_int_equal(moose_metrics_registry_set_thresholds(reg, &t), MOOSE_EINVAL);
    t.broker_window_s = 63;
    assert_int_equal(moose_metrics_registry_set_thresholds(reg, &t), 0);
    moose__metrics_registry_free(reg);
}

/* ---- librdkafka's statistics, as a client reports them ---- */

/* A connection whose only job here is to carry REG's health. */
static moose__kafka *health_only_kafka(moose_metrics_registry *reg) {
    moose__kafka *k = calloc(1, sizeof *k);
    assert_non_null(k);
    pthread_mutex_init(&k->health_lock, NULL);
    moose__kafka_set_health(k, reg);
    return k;
}

static void health_only_kafka_free(moose__kafka *k) {
    pthread_mutex_destroy(&k->health_lock);
    free(k);
}

/* One statistics report of client "c" with one broker. */
static void report(moose__kafka *k, moose__kafka_client_totals *prev, bool seen, int retries,
                   int metadata, const char *cgrp, const char *topics) {
    char json[1024];
    snprintf(json, sizeof json,
             "{\"name\": \"c\", \"type\": \"consumer\", \"brokers\": {\"b:9092/1\": "
             "{\"txretries\": %d, \"txerrs\": 0, \"rxerrs\": 0, \"req_timeouts\": 0, "
             "\"req\": {\"Metadata\": %d, \"Fetch\": 7}}}, \"topics\": {%s}%s%s}",
             retries, metadata, topics ? topics : "", cgrp ? ", \"cgrp\": " : "", cgrp ? cgrp : "");
    moose__kafka_judge_stats(k, "c", prev, seen, json, strlen(json));
}

static moose_health health_now(moose_metrics_registry *reg) {
    moose_health h;
    assert_int_equal(moose_metrics_registry_health(reg, MOOSE_COMPONENT_STREAM, NULL, &h), 0);
    return h;
}

static void start_up_metadata_requests_are_no_alarm(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__kafka *k = health_only_kafka(reg);
    moose__kafka_client_totals prev = {0};
    /* A client meets its topics over a report or two (slowly under valgrind), twice here. */
    static const int metadata[] = {0, 2, 4, 4, 6, 8, 8};
    for (size_t i = 0; i < sizeof metadata / sizeof metadata[0]; i++)
        report(k, &prev, i > 0, 0, metadata[i], NULL, NULL);
    moose_health h = health_now(reg);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    moose__kafka_set_health(k, NULL);
    health_only_kafka_free(k);
    moose__metrics_registry_free(reg);
}

static void leader_lookups_in_three_reports_in_a_row_are_refused_requests(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__kafka *k = health_only_kafka(reg);
    moose__kafka_client_totals prev = {0};
    static const int metadata[] = {5, 6, 7, 8};
    for (size_t i = 0; i < 3; i++)
        report(k, &prev, i > 0, 0, metadata[i], NULL, NULL);
    assert_int_equal(health_now(reg).status, MOOSE_HEALTHY);
    report(k, &prev, true, 0, metadata[3], NULL, NULL);
    moose_health h = health_now(reg);
    assert_int_equal(h.status, MOOSE_DEGRADED);
    assert_string_equal(reason(&h, MOOSE_HEALTH_BROKER_ERRORS)->message,
                        "3 broker requests retried or failed in the last 10 s; the latest: c: "
                        "requests refused by their partition's leader: 3 leader lookups in 3 "
                        "reports in a row (b:9092/1)");
    moose__kafka_set_health(k, NULL);
    health_only_kafka_free(k);
    moose__metrics_registry_free(reg);
}

static void retried_requests_in_statistics_are_broker_errors(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__kafka *k = health_only_kafka(reg);
    moose__kafka_client_totals prev = {0};
    /* What the client retried before its first report is not news. */
    report(k, &prev, false, 9, 1, NULL, NULL);
    report(k, &prev, true, 11, 1, NULL, NULL);
    assert_int_equal(health_now(reg).status, MOOSE_HEALTHY);
    report(k, &prev, true, 13, 1, NULL, NULL);
    moose_health h = health_now(reg);
    assert_string_equal(reason(&h, MOOSE_HEALTH_BROKER_ERRORS)->message,
                        "4 broker requests retried or failed in the last 10 s; the latest: c: 2 "
                        "requests retried, 0 failed, 0 timed out (b:9092/1)");
    moose__kafka_set_health(k, NULL);
    health_only_kafka_free(k);
    moose__metrics_registry_free(reg);
}

static void a_consumer_back_at_the_start_of_its_join_is_a_refused_join(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__kafka *k = health_only_kafka(reg);
    moose__kafka_client_totals prev = {0};
    /* Joining takes a few reports on a healthy cluster: waiting is no failure. */
    for (int i = 0; i < 5; i++)
        report(k, &prev, i > 0, 0, 1, "{\"state\": \"up\", \"join_state\": \"wait-join\"}", NULL);
    /* Nor is a consumer still looking for its coordinator. */
    report(k, &prev, true, 0, 1, "{\"state\": \"wait-coord\", \"join_state\": \"init\"}", NULL);
    assert_int_equal(health_now(reg).status, MOOSE_HEALTHY);
    for (int i = 0; i < 3; i++)
        report(k, &prev, true, 0, 1, "{\"state\": \"up\", \"join_state\": \"init\"}", NULL);
    moose_health h = health_now(reg);
    assert_int_equal(h.nreasons, 1);
    assert_string_equal(reason(&h, MOOSE_HEALTH_GROUP_JOIN_FAILING)->message,
                        "3 consumer group joins refused in the last 10 s; the latest: c: not a "
                        "member of its consumer group: its join was refused, retrying");
    moose__kafka_set_health(k, NULL);
    health_only_kafka_free(k);
    moose__metrics_registry_free(reg);
}

static void a_partition_without_a_leader_is_seen_at_once(void **state) {
    (void)state;
    moose_metrics_registry *reg = registry();
    moose__kafka *k = health_only_kafka(reg);
    moose__kafka_client_totals prev = {0};
    /* Partition -1 is librdkafka's queue for records without a partition yet: never a leader. */
    report(k, &prev, false, 0, 1, NULL,
           "\"orders\": {\"partitions\": {\"-1\": {\"partition\": -1, \"leader\": -1}, "
           "\"0\": {\"partition\": 0, \"leader\": 1}}}");
    assert_int_equal(health_now(reg).status, MOOSE_HEALTHY);
    report(k, &prev, true, 0, 1, NULL,
           "\"orders\": {\"partitions\": {\"0\": {\"partition\": 0, \"leader\": 1}, "
           "\"1\": {\"partition\": 1, \"leader\": -1}}}");
    moose_health h = health_now(reg);
    assert_string_equal(reason(&h, MOOSE_HEALTH_NO_LEADER)->message,
                        "1 reports of partitions without a leader in the last 10 s; the latest: "
                        "c: 1 partitions without a leader (orders [1])");
    moose__kafka_set_health(k, NULL);
    health_only_kafka_free(k);
    moose__metrics_registry_free(reg);
}

/*
 * `APP run` ends by closing the app, which stops the embedded broker its
 * own clients are connected to: librdkafka then says "1/1 brokers are
 * down". That is the app's own doing, not an alarm for the log.
 */
static void closing_the_app_raises_no_broker_alarm(void **state) {
    (void)state;
    FILE *log = tmpfile();
    assert_non_null(log);
    moose__log_set_output(log);
    moose_config cfg = {.brokers = "embedded", .tables = "sqlite:closing.db", .log_level = "info"};
    char err[512] = "";
    moose_app *app = moose_app_open(&faults_app, &cfg, err, sizeof err);
    if (!app) {
        moose__log_set_output(NULL);
        fail_msg("moose_app_open: %s", err);
    }
    assert_int_equal(moose_app_start(app, err, sizeof err), 0);
    Order o = {{"k00000", 6}, 0};
    moose_errors errs;
    moose_errors_init(&errs);
    assert_int_equal(orders_write(app, &o, &errs), 0);
    moose_errors_free(&errs);
    moose_app_stop(app);
    moose_app_close(app);
    moose__log_set_output(NULL);
    remove("closing.db");

    rewind(log);
    char line[2048];
    int lines = 0;
    while (fgets(line, sizeof line, log)) {
        lines++;
        if (strstr(line, "brokers are down") || strstr(line, " error "))
            fail_msg("closing the app logged: %s", line);
    }
    fclose(log);
    /* The log was written to at all (the sinks' start-up lines): the check above saw it. */
    assert_true(lines > 0);
}

int main(int argc, char **argv) {
    const struct CMUnitTest all[] = {
        cmocka_unit_test(defaults_are_documented),
        cmocka_unit_test(a_retried_request_now_and_then_is_no_incident),
        cmocka_unit_test(retried_requests_degrade_and_clear_after_the_window),
        cmocka_unit_test(each_kind_has_its_reason),
        cmocka_unit_test(slow_round_trips_in_three_seconds_make_a_slow_broker),
        cmocka_unit_test(records_waiting_in_a_producer_are_broker_errors),
        cmocka_unit_test(thresholds_turn_the_checks_off_or_are_refused),
        cmocka_unit_test(start_up_metadata_requests_are_no_alarm),
        cmocka_unit_test(leader_lookups_in_three_reports_in_a_row_are_refused_requests),
        cmocka_unit_test(retried_requests_in_statistics_are_broker_errors),
        cmocka_unit_test(a_consumer_back_at_the_start_of_its_join_is_a_refused_join),
        cmocka_unit_test(a_partition_without_a_leader_is_seen_at_once),
        cmocka_unit_test(closing_the_app_raises_no_broker_alarm),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(all, NULL, NULL);
}
