/*
 * Health and lag follow the real Kafka cluster (librdkafka's mock cluster):
 * health turns unhealthy when the broker goes away and healthy again when it
 * returns; lag is what the consumers' positions leave behind the watermarks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "moose/error.h"

typedef struct fixture {
    rd_kafka_t *mock_rk, *rk;
    rd_kafka_mock_cluster_t *mcluster;
    moose_metrics_registry *reg;
} fixture;

static rd_kafka_t *new_producer(const char *bootstrap) {
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Quiet: the disconnections below are the point of the test. */
    if (rd_kafka_conf_set(conf, "log_level", "0", why, sizeof why) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "200", why, sizeof why) !=
            RD_KAFKA_CONF_OK ||
        (bootstrap &&
         rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why) !=
             RD_KAFKA_CONF_OK)) {
        fprintf(stderr, "%s\n", why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (rk == NULL)
        fprintf(stderr, "rd_kafka_new: %s\n", why);
    return rk;
}

static int setup(void **state) {
    static fixture f;
    char err[128];
    memset(&f, 0, sizeof f);
    if (!(f.mock_rk = new_producer(NULL)) ||
        !(f.mcluster = rd_kafka_mock_cluster_new(f.mock_rk, 1)) ||
        !(f.rk = new_producer(rd_kafka_mock_cluster_bootstraps(f.mcluster))) ||
        !(f.reg = moose__metrics_registry_new(err, sizeof err)))
        return -1;
    moose__metrics_component(f.reg, MOOSE_COMPONENT_STREAM, "raw_stream");
    moose__metrics_component(f.reg, MOOSE_COMPONENT_SINK, "Events");
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    /* The probe goes before the handle it uses. */
    moose__metrics_set_broker_probe(f->reg, NULL, NULL, 0);
    moose__metrics_registry_free(f->reg);
    rd_kafka_destroy(f->rk);
    rd_kafka_mock_cluster_destroy(f->mcluster);
    rd_kafka_destroy(f->mock_rk);
    return 0;
}

static moose_health health(fixture *f) {
    moose_health h;
    assert_int_equal(moose_metrics_registry_health(f->reg, MOOSE_COMPONENT_STREAM, NULL, &h), 0);
    return h;
}

/* Probes until the verdict is WANT, at most ATTEMPTS times (a reconnect takes a few tries). */
static moose_health probe_until(fixture *f, moose_health_status want, int attempts) {
    moose_health h = {0};
    for (int i = 0; i < attempts; i++) {
        assert_int_equal(moose__metrics_probe_broker(f->reg), 0);
        h = health(f);
        if (h.status == want)
            break;
        nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
    }
    return h;
}

static void test_without_a_probe(void **state) {
    fixture *f = *state;
    assert_int_equal(moose__metrics_probe_broker(f->reg), MOOSE_ENOTFOUND);
    assert_int_equal(health(f).status, MOOSE_HEALTHY);
}

static void test_broker_goes_away_and_returns(void **state) {
    fixture *f = *state;
    moose__metrics_set_broker_probe(f->reg, moose__metrics_kafka_probe, f->rk, 0);
    moose_health h = probe_until(f, MOOSE_HEALTHY, 10);
    assert_int_equal(h.status, MOOSE_HEALTHY);

    assert_int_equal(rd_kafka_mock_broker_set_down(f->mcluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    h = probe_until(f, MOOSE_UNHEALTHY, 10);
    assert_int_equal(h.status, MOOSE_UNHEALTHY);
    assert_int_equal(h.nreasons, 1);
    assert_int_equal(h.reasons[0].code, MOOSE_HEALTH_BROKER_DOWN);
    const char *prefix = "Kafka cluster unreachable: metadata request failed: ";
    if (strncmp(h.reasons[0].message, prefix, strlen(prefix)) != 0)
        fail_msg("unexpected reason: %s", h.reasons[0].message);

    assert_int_equal(rd_kafka_mock_broker_set_up(f->mcluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    h = probe_until(f, MOOSE_HEALTHY, 30);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    assert_int_equal(h.nreasons, 0);
}

static void test_sampler_probes_on_its_own(void **state) {
    fixture *f = *state;
    moose__metrics_set_broker_probe(f->reg, moose__metrics_kafka_probe, f->rk, 100);
    assert_int_equal(moose__metrics_start_sampler(f->reg), 0);
    assert_int_equal(rd_kafka_mock_broker_set_down(f->mcluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    moose_health_status seen = MOOSE_HEALTHY;
    for (int i = 0; i < 100 && seen != MOOSE_UNHEALTHY; i++) {
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
        seen = health(f).status;
    }
    assert_int_equal(seen, MOOSE_UNHEALTHY);
    assert_int_equal(rd_kafka_mock_broker_set_up(f->mcluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int i = 0; i < 150 && seen != MOOSE_HEALTHY; i++) {
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
        seen = health(f).status;
    }
    assert_int_equal(seen, MOOSE_HEALTHY);
}

static rd_kafka_t *new_consumer(const char *bootstrap) {
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {{"bootstrap.servers", bootstrap}, {"group.id", "lag-test"},
                              {"enable.auto.commit", "false"}, {"log_level", "0"}};
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], why, sizeof why) !=
            RD_KAFKA_CONF_OK)
            fail_msg("%s: %s", props[i][0], why);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (rk == NULL)
        fail_msg("rd_kafka_new: %s", why);
    return rk;
}

static void consume(rd_kafka_t *rk, int n) {
    for (int got = 0, polls = 0; got < n; polls++) {
        if (polls > 300)
            fail_msg("only %d of %d messages arrived", got, n);
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (msg == NULL)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
            got++;
        rd_kafka_message_destroy(msg);
    }
}

static void test_lag_from_consumer_positions(void **state) {
    fixture *f = *state;
    assert_int_equal(rd_kafka_mock_topic_create(f->mcluster, "lag-topic", 1, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int i = 0; i < 10; i++)
        assert_int_equal(rd_kafka_producev(f->rk, RD_KAFKA_V_TOPIC("lag-topic"),
                                           RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_flush(f->rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);

    moose__component *c = moose__metrics_component(f->reg, MOOSE_COMPONENT_SINK, "Events");
    /* A partition this process does not own: unknown once the consumers are sampled. */
    moose__metrics_set_lag(c, 1, 5);
    rd_kafka_t *consumer = new_consumer(rd_kafka_mock_cluster_bootstraps(f->mcluster));
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, "lag-topic", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(consumer, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    assert_int_equal(moose__metrics_add_consumer(c, consumer), 0);

    consume(consumer, 3);
    moose__metrics_tick(f->reg, moose__metrics_now_ns() / 1000000);
    moose_metrics m;
    assert_int_equal(moose_metrics_registry_get(f->reg, MOOSE_COMPONENT_SINK, "Events", &m), 0);
    assert_int_equal(m.npartitions, 2);
    assert_int_equal(m.lag[0], 7);
    assert_int_equal(m.lag[1], -1);
    assert_int_equal(m.lag_total, 7);

    consume(consumer, 7);
    moose__metrics_tick(f->reg, moose__metrics_now_ns() / 1000000);
    assert_int_equal(moose_metrics_registry_get(f->reg, MOOSE_COMPONENT_SINK, "Events", &m), 0);
    assert_int_equal(m.lag[0], 0);

    moose__metrics_remove_consumer(c, consumer);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    /* Removed: ticks no longer touch it (ASan would catch a use after free). */
    moose__metrics_tick(f->reg, moose__metrics_now_ns() / 1000000);
    assert_int_equal(moose__metrics_add_consumer(NULL, consumer), MOOSE_EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_without_a_probe),
        T(test_broker_goes_away_and_returns),
        T(test_sampler_probes_on_its_own),
        T(test_lag_from_consumer_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
