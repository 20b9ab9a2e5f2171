/*
 * What moose_write() tells its caller when the broker refuses a topic for
 * good (TOPIC_AUTHORIZATION_FAILED): the first write, refused in the
 * broker's reply to the Produce request, and the writes after it, which
 * librdkafka refuses at once once the topic's metadata carries the error.
 * Each one's moose_errors names the error and says the broker's words, not
 * only "transport error".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "app_internal.h"
#include "fixture.h"
#include "kafka_internal.h"
#include "moose/error.h"

static int write_one(moose_app *app, fixture_app *f, const char *id, char *message, size_t size) {
    RawEvent e = {{id, strlen(id)}, {"1", 1}};
    moose_errors errs;
    moose_errors_init(&errs);
    int rc = moose_write(app, &f->raw, &e, &errs);
    snprintf(message, size, "%s", errs.len ? errs.items[0].message : "");
    if (rc != 0) {
        assert_int_equal(errs.len, 1);
        assert_string_equal(errs.items[0].rule, "delivery");
        assert_string_equal(errs.items[0].path, "");
    }
    moose_errors_free(&errs);
    return rc;
}

static void authorization_failed_reaches_every_write(void **state) {
    (void)state;
    unlink(MOOSE__BROKER_FILE);
    fixture_app f;
    fixture_app_init(&f, "werr", FIXTURE_TO_FLOAT, 1);
    moose_config cfg = {.brokers = "embedded", .log_level = "error"};
    char err[512] = "", message[512];
    moose_app *app = moose_app_open(&f.app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("moose_app_open: %s", err);
    assert_int_equal(write_one(app, &f, "a", message, sizeof message), 0);

    /*
     * Refused in the reply to the Produce request: a delivery error. The
     * topic's metadata does not carry the error yet: were it set first, a
     * metadata refresh before this write could leave the record waiting for a
     * usable partition until its message timeout (seen on a loaded machine).
     */
    rd_kafka_mock_cluster_t *mc = moose__embedded_cluster(app->kafka->owned);
    rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    int rc = write_one(app, &f, "b", message, sizeof message);
    assert_int_equal(rc, MOOSE_EDELIVERY);
    assert_string_equal(message, "broker did not acknowledge the record on topic 'werr-raw': "
                                 "TOPIC_AUTHORIZATION_FAILED: Broker: Topic authorization failed");

    /*
     * Refused by librdkafka at once, once the topic's metadata carries the
     * error: each refused Produce makes librdkafka ask for metadata again, so
     * this comes within a few writes (up to 30 s on a loaded machine).
     */
    rd_kafka_mock_topic_set_error(mc, f.raw.topic, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    for (int tries = 0; tries < 300; tries++) {
        rc = write_one(app, &f, "c", message, sizeof message);
        if (rc == MOOSE_ETRANSPORT)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rc, MOOSE_ETRANSPORT);
    const char *refused = "cannot send a record to topic 'werr-raw': "
                          "TOPIC_AUTHORIZATION_FAILED: Broker: Topic authorization failed";
    assert_string_equal(message, refused);

    /* An asynchronous write refused at once says the same. */
    RawEvent e = {{"d", 1}, {"1", 1}};
    moose_errors errs;
    moose_errors_init(&errs);
    assert_int_equal(moose_write_async(app, &f.raw, &e, &errs, NULL, NULL), MOOSE_ETRANSPORT);
    assert_int_equal(errs.len, 1);
    assert_string_equal(errs.items[0].rule, "delivery");
    assert_string_equal(errs.items[0].message, refused);
    moose_errors_free(&errs);
    moose_app_close(app);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(authorization_failed_reaches_every_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
