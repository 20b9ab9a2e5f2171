/*
 * Two processes of the same app (`APP run`, parallelism 4: four workers
 * each) against one embedded broker (`APP broker`), records written with
 * `APP write`: every record is processed, each partition is owned by one
 * worker at a time, and SIGTERM drains and commits everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kafka.h"
#include "pipeline_util.h"

enum { RECORDS = 2000, PARTITIONS = 4 };

typedef struct seen {
    int partition;
    long long offset, t;
    char worker[64];
} seen;

static int by_partition_then_time(const void *a, const void *b) {
    const seen *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition - y->partition;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* By partition, offset, then the process ("PID" of "PID.THREAD"): one record's copies together. */
static int by_record_then_process(const void *a, const void *b) {
    const seen *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition - y->partition;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return atol(x->worker) < atol(y->worker) ? -1 : atol(x->worker) > atol(y->worker);
}

static void two_processes_share_the_partitions(void **state) {
    (void)state;
    unlink(MOOSE__BROKER_FILE);
    setenv("FIXTURE_APP", "pmp", 1);
    setenv("FIXTURE_TRANSFORM", "owner", 1);
    setenv("FIXTURE_PARTITIONS", "4", 1);

    FILE *bf;
    char bootstrap[256];
    pid_t broker = util_start_broker(ENGINE_APP, "broker.log", &bf, bootstrap, sizeof bootstrap);
    assert_true(broker > 0);
    assert_non_null(strstr(bootstrap, "127.0.0.1:"));

    const char *run_argv[] = {ENGINE_APP, "--log-level", "info", "run", NULL};
    pid_t run1 = util_spawn(run_argv, "run1.log", NULL);
    assert_true(run1 > 0);
    pid_t run2 = util_spawn(run_argv, "run2.log", NULL);
    assert_true(run2 > 0);

    FILE *rf = fopen("records.jsonl", "w");
    assert_non_null(rf);
    for (int i = 0; i < RECORDS; i++)
        fprintf(rf, "{\"id\":\"r%d\",\"data\":\"%d\"}\n", i, i);
    fclose(rf);
    assert_int_equal(system(ENGINE_APP " --log-level warn write raw records.jsonl 2>write.log"), 0);

    moose__kafka_opts kopts = {.brokers = "embedded", .embedded = MOOSE__EMBEDDED_FIND};
    moose__kafka *kafka = NULL;
    char err[512];
    if (moose__kafka_open(&kopts, &kafka, err, sizeof err) != 0)
        fail_msg("%s", err);
    util_records out = util_read_topic(kafka, "pmp-out", RECORDS, 90000, 2000);
    assert_true(out.len >= RECORDS);

    /* every record processed (at least once) */
    static bool done[RECORDS];
    seen *s = calloc(out.len, sizeof *s);
    assert_non_null(s);
    for (size_t i = 0; i < out.len; i++) {
        int id;
        /* "KEY {"id":"rN P OFFSET PID.THREAD T",...}": the key repeats the id */
        const char *v = strstr(out.items[i].text, "{\"id\":\"r");
        assert_non_null(v);
        assert_int_equal(sscanf(v + 8, "%d %d %lld %63s %lld", &id, &s[i].partition, &s[i].offset,
                                s[i].worker, &s[i].t),
                         5);
        assert_true(id >= 0 && id < RECORDS);
        done[id] = true;
    }
    for (int i = 0; i < RECORDS; i++)
        if (!done[i])
            fail_msg("record r%d was never processed", i);

    /*
     * A record is processed again only by the other process, which read it
     * from a commit the broker had refused during a rebalance: within one
     * process a partition's next owner starts after what its last owner
     * there finished.
     */
    qsort(s, out.len, sizeof *s, by_record_then_process);
    for (size_t k = 1; k < out.len; k++)
        if (s[k].partition == s[k - 1].partition && s[k].offset == s[k - 1].offset &&
            atol(s[k].worker) == atol(s[k - 1].worker))
            fail_msg("partition %d offset %lld processed twice in process %ld (%s, %s)",
                     s[k].partition, s[k].offset, atol(s[k].worker), s[k - 1].worker, s[k].worker);

    /*
     * One owner at a time. Each owner reads its partition in offset order,
     * so two workers owning a partition at once would show as their records
     * alternating all along; a hand-over (a rebalance) shows as one change of
     * worker, after which offsets may restart from the last commit (at least
     * once). So per partition, in processing-time order: few changes of
     * worker, and between changes, offsets that only go up.
     */
    qsort(s, out.len, sizeof *s, by_partition_then_time);
    size_t duplicates = out.len - RECORDS;
    for (size_t k = 0, changes = 0; k < out.len; k++) {
        bool same_partition = k > 0 && s[k].partition == s[k - 1].partition;
        if (!same_partition) {
            changes = 0;
            continue;
        }
        if (strcmp(s[k].worker, s[k - 1].worker) != 0) {
            if (++changes > 6)
                fail_msg("partition %d changed hands %zu times by offset %lld: two owners "
                         "at once",
                         s[k].partition, changes, s[k].offset);
        } else if (s[k].offset <= s[k - 1].offset && s[k].offset != 0 &&
                   s[k].t - s[k - 1].t < 100000000LL) {
            /* the same worker going back, without a rebalance in between (which takes longer) */
            fail_msg("partition %d: worker %s went back from offset %lld to %lld", s[k].partition,
                     s[k].worker, s[k - 1].offset, s[k].offset);
        }
    }
    print_message("%zu outputs for %d records (%zu read again after a rebalance)\n", out.len,
                  RECORDS, duplicates);
    free(s);
    util_records_free(&out);

    /*
     * Everything done is committed once the group settles (the embedded
     * broker refuses commits while its group rebalances, so a commit may land
     * only after the last rebalance of the start-up).
     */
    int32_t lagging = -1;
    for (int tries = 0; tries < 300; tries++) {
        lagging = -1;
        for (int32_t p = 0; p < PARTITIONS && lagging < 0; p++)
            if (util_committed(kafka, "pmp.transform.owner", "pmp-raw", p) !=
                util_end_offset(kafka, "pmp-raw", p))
                lagging = p;
        if (lagging < 0)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (lagging >= 0)
        fail_msg("partition %d of pmp-raw was never committed to its end", lagging);

    /* SIGTERM: drain, commit, exit 0; what was committed stays committed */
    assert_int_equal(util_stop(run1), 0);
    assert_int_equal(util_stop(run2), 0);
    for (int32_t p = 0; p < PARTITIONS; p++) {
        int64_t end = util_end_offset(kafka, "pmp-raw", p);
        assert_int_equal(util_committed(kafka, "pmp.transform.owner", "pmp-raw", p), end);
    }
    moose__kafka_close(kafka);
    fclose(bf);
    assert_int_equal(util_stop(broker), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_processes_share_the_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
