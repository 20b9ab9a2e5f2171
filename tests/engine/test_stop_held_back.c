/*
 * A stopping app never waits forever on back-pressure: a transform worker
 * whose next output would run too far ahead of the table sink that reads it
 * waits for the sink to commit, and here the sink cannot (its SQLite table
 * is locked by another connection, so nothing it inserts lands). Stopping the
 * app must not wait for that commit: the worker gives up the record it held,
 * which is read again at the next start, and sends nothing to the dead
 * letter queue for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_internal.h"
#include "fixture.h"
#include "kafka_internal.h"
#include "log.h"
#include "moose/error.h"
#include "moose/metrics.h"

/* Each input makes two outputs: 15 inputs fit the input topic's bound, 30 outputs do not. */
enum { RECORDS = 15, AHEAD = 20, WAIT_MS = 60000 };

typedef struct stopper {
    moose_app *app;
    atomic_bool done;
} stopper;

static void *stop_app(void *arg) {
    stopper *s = arg;
    moose_app_stop(s->app);
    atomic_store(&s->done, true);
    return NULL;
}

static void stop_returns_while_a_worker_waits_on_backpressure(void **state) {
    (void)state;
    FILE *log = tmpfile();
    assert_non_null(log);
    moose__log_set_output(log);
    unlink("held.db");

    fixture_app f;
    fixture_app_init(&f, "stopheld", FIXTURE_SPLIT, 1);
    moose_table_desc table = {.name = "HeldBack", .model = &ProcessedEvent_desc};
    const moose_table_desc *tables[] = {&table};
    f.out.destination = &table;
    f.app.tables = tables;
    f.app.ntables = 1;
    char ahead[64];
    snprintf(ahead, sizeof ahead, "moose.backpressure.max.records=%d", AHEAD);
    const char *const props[] = {ahead, NULL};
    moose_config cfg = {.brokers = "embedded",
                        .tables = "sqlite:held.db",
                        .kafka_props = props,
                        .log_level = "warn"};
    char err[512] = "";
    moose_app *app = moose_app_open(&f.app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("moose_app_open: %s", err);
    if (moose_app_start(app, err, sizeof err) != 0)
        fail_msg("moose_app_start: %s", err);
    /* The table is there (made at start); from now on another connection holds it. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open("held.db", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

    for (int i = 0; i < RECORDS; i++) {
        char id[16], data[16];
        snprintf(id, sizeof id, "k%d", i);
        snprintf(data, sizeof data, "%d", i);
        RawEvent e = {{id, strlen(id)}, {data, strlen(data)}};
        int rc = moose_write(app, &f.raw, &e, NULL);
        if (rc != 0)
            fail_msg("moose_write(%s): %s", id, moose_err_name(rc));
    }
    /* The worker is held back once AHEAD outputs are out, halfway through the inputs. */
    bool held = false;
    for (int waited = 0; waited < WAIT_MS && !held; waited += 50) {
        held = moose__kafka_writers_held_back(app->kafka, 1000);
        fixture_sleep_ms(50);
    }
    assert_true(held);
    fixture_sleep_ms(500);
    assert_true(moose__kafka_writers_held_back(app->kafka, 100)); /* and still is */
    moose_metrics m = {0};

    stopper s = {.app = app};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_app, &s), 0);
    /* Generous for a loaded machine; without giving up, the stop waits for ever. */
    for (int waited = 0; waited < 2 * WAIT_MS && !atomic_load(&s.done); waited += 50)
        fixture_sleep_ms(50);
    if (!atomic_load(&s.done)) {
        char *text = fixture_read_log(log);
        assert_non_null(text);
        fprintf(stderr, "the log:\n%s", text);
        free(text);
        fail_msg("moose_app_stop did not return while a worker waited on back-pressure");
    }
    pthread_join(t, NULL);

    assert_int_equal(moose_transform_metrics(app, f.transform.name, &m), 0);
    assert_int_equal(m.dlq, 0); /* given up, not failed */
    char *text = fixture_read_log(log);
    assert_non_null(text);
    if (!strstr(text, "transform=split partition=0 stopped with records still unacknowledged; "
                      "they will be processed again")) {
        fprintf(stderr, "the log:\n%s", text);
        fail_msg("the record given up is not reported");
    }
    assert_null(strstr(text, "DeliveryError"));
    free(text);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    moose_app_close(app);
    moose__log_set_output(NULL);
    fclose(log);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stop_returns_while_a_worker_waits_on_backpressure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
