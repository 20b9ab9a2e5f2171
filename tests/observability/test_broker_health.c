/*
 * Health follows the real Kafka cluster (librdkafka's mock cluster): it turns
 * unhealthy when the broker goes away and healthy again when it returns.
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_without_a_probe),
        T(test_broker_goes_away_and_returns),
        T(test_sampler_probes_on_its_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
