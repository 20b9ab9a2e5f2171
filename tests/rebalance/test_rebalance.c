/*
 * Exactly once without faults: a transform's workers join its consumer group
 * one after the other at start-up, and records processed by one worker before
 * the group grows must not be processed again by the next owner of their
 * partition. Every record's output names the partition and offset it came
 * from (the fixture's "tag" transform), so a record processed twice shows as
 * the same output twice.
 *
 * Whether a worker joins after the group first formed (3 s after the first
 * one joined, on the embedded broker) depends on timing, so rounds are
 * repeated until one has seen the group grow while records were processed
 * (the log, read back, shows partitions revoked before the app was
 * stopped); a last test makes another member join and leave for certain.
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
#include "log.h"
#include "moose/error.h"
#include "pipeline_util.h"

enum { RECORDS = 3000, READ_TIMEOUT_MS = 60000, QUIET_MS = 2000, MAX_ROUNDS = 6 };

static FILE *log_file; /* every line the runtime logs, to see the group's rebalances */

static moose_app *open_app(fixture_app *f) {
    moose_config cfg = {.brokers = "embedded", .log_level = "debug"};
    char err[512] = "";
    moose_app *app = moose_app_open(&f->app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("moose_app_open: %s", err);
    return app;
}

static void write_records(moose_app *app, fixture_app *f, int from, int to) {
    char id[32], data[32];
    for (int i = from; i < to; i++) {
        snprintf(id, sizeof id, "k%05d", i);
        snprintf(data, sizeof data, "%d", i);
        RawEvent e = {{id, strlen(id)}, {data, strlen(data)}};
        moose_errors errs;
        moose_errors_init(&errs);
        int rc = moose_write_async(app, &f->raw, &e, &errs, NULL, NULL);
        if (rc != 0)
            fail_msg("moose_write_async(%s): %s", id, moose_err_name(rc));
        moose_errors_free(&errs);
    }
    assert_int_equal(moose_app_flush(app, 30000), 0);
}

/* Asserts that the output topic holds one output per record, none twice. */
static void assert_each_once(moose_app *app, fixture_app *f, size_t n) {
    util_records got = util_read_topic(app->kafka, f->out.topic, n, READ_TIMEOUT_MS, QUIET_MS);
    size_t twice = 0;
    for (size_t i = 1; i < got.len; i++)
        if (strcmp(got.items[i - 1].text, got.items[i].text) == 0) {
            if (twice++ < 5)
                print_message("processed twice: %s\n", got.items[i].text);
        }
    print_message("%s: %zu records, %zu outputs, %zu processed twice\n", f->app.name, n, got.len,
                  twice);
    assert_int_equal(twice, 0);
    assert_int_equal(got.len, n);
    util_records_free(&got);
}

typedef struct writer_arg {
    moose_app *app;
    fixture_app *f;
    int chunks;   /* RECORDS written in this many chunks */
    long gap_ms;  /* apart */
} writer_arg;

/* Writes while the group changes, so records are being processed when it does. */
static void *write_while_starting(void *opaque) {
    writer_arg *a = opaque;
    int per = RECORDS / a->chunks;
    for (int i = 0; i < a->chunks; i++) {
        write_records(a->app, a->f, i * per, i == a->chunks - 1 ? RECORDS : (i + 1) * per);
        struct timespec ts = {a->gap_ms / 1000, (a->gap_ms % 1000) * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Whether the log written since FROM shows partitions of GROUP revoked. */
static bool revoked_since(long from, const char *group) {
    char want[300], line[4096];
    snprintf(want, sizeof want, "revoked group=%s ", group);
    fflush(log_file);
    assert_int_equal(fseek(log_file, from, SEEK_SET), 0);
    bool seen = false;
    while (fgets(line, sizeof line, log_file))
        if (strstr(line, want))
            seen = true;
    fseek(log_file, 0, SEEK_END);
    return seen;
}

/* One round; true when the group grew (a partition was revoked) before the app stopped. */
static bool run(const char *name, int partitions, bool written_before) {
    fflush(log_file);
    fseek(log_file, 0, SEEK_END);
    long log_start = ftell(log_file);
    fixture_app f;
    fixture_app_init(&f, name, FIXTURE_TAG, partitions);
    moose_app *app = open_app(&f);
    char err[512] = "";
    if (written_before) {
        write_records(app, &f, 0, RECORDS);
        if (moose_app_start(app, err, sizeof err) != 0)
            fail_msg("moose_app_start: %s", err);
    } else {
        if (moose_app_start(app, err, sizeof err) != 0)
            fail_msg("moose_app_start: %s", err);
        writer_arg a = {app, &f, 30, 100};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, write_while_starting, &a), 0);
        pthread_join(t, NULL);
    }
    assert_each_once(app, &f, RECORDS);
    char group[256];
    assert_true(moose__group_for_transform(&f.app, &f.transform, group, sizeof group));
    bool grew = revoked_since(log_start, group);
    print_message("%s: the group %s while records were processed\n", name,
                  grew ? "grew" : "did not grow");
    moose_app_stop(app);
    moose_app_close(app);
    return grew;
}

/*
 * The first worker to join processes records waiting in its partitions at
 * once, so a worker joining later takes partitions with work already done.
 */
static void workers_join_with_records_waiting(void **state) {
    (void)state;
    int grew = 0, round = 0;
    for (; round < MAX_ROUNDS && (round < 3 || grew == 0); round++) {
        char name[32];
        snprintf(name, sizeof name, "rbw%d", round);
        grew += run(name, 2 + round % 3, true);
    }
    /* member_joins_and_leaves_while_records_arrive makes the group change for certain. */
    if (grew == 0)
        print_message("in %d rounds no worker joined after the group formed\n", round);
}

static void workers_join_while_records_arrive(void **state) {
    (void)state;
    run("rb2a", 2, false);
    run("rb3a", 3, false);
    run("rb4a", 4, false);
}

/* The other member's assignment arrived (with 4 partitions among 5 members it may hold none). */
static void other_assigned(moose__consumer *c, rd_kafka_topic_partition_list_t *parts,
                           void *opaque) {
    (void)c;
    (void)parts;
    *(bool *)opaque = true;
}

/*
 * Another member (a copy of the app, say) joins the transform's group while
 * records arrive, takes partitions, and leaves without processing or
 * committing anything: the group grows and shrinks for certain, and the
 * partitions come back to the app's workers, which must start after what
 * they had finished even though the embedded broker refused their commits
 * while the group rebalanced.
 */
static void member_joins_and_leaves_while_records_arrive(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "rbjl", FIXTURE_TAG, 4);
    moose_app *app = open_app(&f);
    char err[512] = "";
    if (moose_app_start(app, err, sizeof err) != 0)
        fail_msg("moose_app_start: %s", err);
    writer_arg a = {app, &f, 60, 200};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_while_starting, &a), 0);
    struct timespec settle = {4, 0}; /* the group's first generation forms 3 s after its first join */
    nanosleep(&settle, NULL);

    char group[256];
    assert_true(moose__group_for_transform(&f.app, &f.transform, group, sizeof group));
    const char *topics[] = {f.raw.topic};
    bool assigned = false;
    moose__consumer_opts opts = {.group = group,
                                 .topics = topics,
                                 .ntopics = 1,
                                 .on_assign = other_assigned,
                                 .opaque = &assigned,
                                 .name = "other"};
    moose__consumer *other = moose__consumer_new(app->kafka, &opts, err, sizeof err);
    if (!other)
        fail_msg("moose__consumer_new: %s", err);
    for (int tries = 0; tries < 300 && !assigned; tries++) {
        rd_kafka_message_t *m = NULL;
        moose__consumer_poll(other, 100, &m);
        if (m)
            rd_kafka_message_destroy(m); /* not processed: the app's workers read it later */
    }
    assert_true(assigned);
    moose__consumer_close(other);

    pthread_join(t, NULL);
    assert_each_once(app, &f, RECORDS);
    moose_app_stop(app);
    moose_app_close(app);
}

int main(int argc, char **argv) {
    log_file = tmpfile();
    if (!log_file)
        return 1;
    moose__log_set_output(log_file);
    /* An argument runs the one test it names (ctest runs each on its own, side by side). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(workers_join_with_records_waiting),
        cmocka_unit_test(workers_join_while_records_arrive),
        cmocka_unit_test(member_joins_and_leaves_while_records_arrive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
