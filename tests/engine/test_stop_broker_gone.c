/*
 * A stopping app never waits forever on a broker it cannot reach: records
 * run through a transform while the embedded broker refuses every commit,
 * then every broker goes down and the app is stopped and closed. Stop and
 * close must return (ctest's TIMEOUT catches a hang), and the log must say
 * which partitions stayed uncommitted and that their records are processed
 * again on restart (at least once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_internal.h"
#include "fixture.h"
#include "kafka_internal.h"
#include "log.h"
#include "moose/error.h"
#include "moose/metrics.h"

enum { RECORDS = 50, PARTITIONS = 2, PROCESS_TIMEOUT_MS = 60000 };
enum { API_OFFSET_COMMIT = 8 }; /* Kafka's api key: rdkafka_mock.h takes the number */

static void stop_returns_with_every_broker_down(void **state) {
    (void)state;
    FILE *log = tmpfile();
    assert_non_null(log);
    moose__log_set_output(log);

    fixture_app f;
    fixture_app_init(&f, "stopgone", FIXTURE_TO_FLOAT, PARTITIONS);
    moose_config cfg = {.brokers = "embedded", .log_level = "warn"};
    char err[512] = "";
    moose_app *app = moose_app_open(&f.app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("moose_app_open: %s", err);
    assert_non_null(app->kafka->owned);
    rd_kafka_mock_cluster_t *mock = moose__embedded_cluster(app->kafka->owned);
    assert_non_null(mock);
    /*
     * No commit is ever taken, so what the workers finished is still to be
     * committed when they stop: the stop must try, and give up.
     */
    rd_kafka_resp_err_t refusals[1000];
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        refusals[i] = RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE;
    rd_kafka_mock_push_request_errors_array(mock, API_OFFSET_COMMIT,
                                            sizeof refusals / sizeof refusals[0], refusals);
    if (moose_app_start(app, err, sizeof err) != 0)
        fail_msg("moose_app_start: %s", err);

    for (int i = 0; i < RECORDS; i++) {
        char id[16], data[16];
        snprintf(id, sizeof id, "k%d", i);
        snprintf(data, sizeof data, "%d", i);
        RawEvent e = {{id, strlen(id)}, {data, strlen(data)}};
        moose_errors errs;
        moose_errors_init(&errs);
        int rc = moose_write(app, &f.raw, &e, &errs);
        moose_errors_free(&errs);
        if (rc != 0)
            fail_msg("moose_write(%s): %s", id, moose_err_name(rc));
    }
    /* Every record processed and its output produced: the workers have something to commit. */
    moose_metrics m = {0};
    for (int waited = 0; waited < PROCESS_TIMEOUT_MS; waited += 50) {
        assert_int_equal(moose_transform_metrics(app, f.transform.name, &m), 0);
        if (m.records_out >= RECORDS)
            break;
        fixture_sleep_ms(50);
    }
    assert_int_equal(m.records_out, RECORDS);

    assert_int_equal(rd_kafka_mock_broker_set_down(mock, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    moose_app_stop(app);
    moose_app_close(app);

    char *text = fixture_read_log(log);
    assert_non_null(text);
    moose__log_set_output(NULL);
    fclose(log);
    /* Each uncommitted partition is named, with the promise that holds instead. */
    int named = 0;
    for (int p = 0; p < PARTITIONS; p++) {
        char want[160];
        snprintf(want, sizeof want, "without committing transform=to_float partition=%d ", p);
        if (strstr(text, want))
            named++;
    }
    if (named == 0) {
        fprintf(stderr, "the log:\n%s", text); /* longer than cmocka's messages */
        fail_msg("no partition was reported uncommitted");
    }
    assert_non_null(strstr(text, "(at least once)"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stop_returns_with_every_broker_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
