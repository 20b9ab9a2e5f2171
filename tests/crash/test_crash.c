/*
 * Crash recovery. One `APP broker` holds the topics; `APP run` (transform
 * and table sink) is started, a chunk of orders is written with `APP write`,
 * and the run is killed with SIGKILL at a random moment, then restarted. Whatever a
 * killed run had done but not committed is done again by the next one, so
 * in the end the table must hold every delivery exactly once: none missing,
 * none extra, each with its right values.
 *
 * The moments come from a seed printed at the start; MOOSE_CRASH_SEED=S
 * replays a run, MOOSE_CRASH_KILLS=N kills N times instead of three.
 */
#include <errno.h>
#include <stdbool.h>
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

#include "faults_util.h"

enum {
    CHUNK = 400,               /* orders written before each kill */
    KILL_SPAN_MS = 3000,       /* a kill comes at most this long after the write */
    DELIVERY_TIMEOUT_MS = 180000,
};

#define DB "crash.db"
#define TABLES "--tables=sqlite:" DB
/* Short sessions, so a killed member's partitions go to the next run soon. */
#define SESSION "-Xsession.timeout.ms=6000"
#define HEARTBEAT "-Xheartbeat.interval.ms=500"

static pid_t spawn(const char *const argv[], const char *log_path) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log < 0)
            _exit(127);
        dup2(log, 1);
        dup2(log, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid) {
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Orders FROM..TO-1 as newline-delimited JSON, the way `APP write` reads them. */
static void write_chunk_file(const char *path, int64_t from, int64_t to) {
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int64_t i = from; i < to; i++) {
        char id[32];
        faults_order_id(id, sizeof id, i);
        fprintf(fp, "{\"id\":\"%s\",\"amount\":%lld}\n", id, (long long)i);
    }
    assert_int_equal(fclose(fp), 0);
}

static void write_orders(int64_t from, int64_t to) {
    write_chunk_file("chunk.jsonl", from, to);
    const char *argv[] = {CRASH_APP, "--log-level=warn", "write", "orders", "chunk.jsonl", NULL};
    int rc = wait_exit(spawn(argv, "write.log"));
    if (rc != 0)
        fail_msg("APP write of orders %lld..%lld exited %d (see write.log)", (long long)from,
                 (long long)to - 1, rc);
}

static pid_t start_run(void) {
    const char *argv[] = {CRASH_APP, "--log-level=warn", TABLES, SESSION, HEARTBEAT, "run", NULL};
    return spawn(argv, "run.log");
}

/* Waits until `APP broker` published its address (the file other commands look for). */
static void wait_for_broker(pid_t broker) {
    int64_t deadline = faults_now_ms() + 30000;
    while (access(".moose-broker", R_OK) != 0) {
        int st;
        if (waitpid(broker, &st, WNOHANG) == broker)
            fail_msg("APP broker exited before publishing its address (see broker.log)");
        if (faults_now_ms() > deadline)
            fail_msg("APP broker published no address in 30 s (see broker.log)");
        faults_sleep_ms(50);
    }
}

static void killed_runs_leave_every_key_once(void **state) {
    (void)state;
    const char *s = getenv("MOOSE_CRASH_SEED");
    unsigned seed = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *k = getenv("MOOSE_CRASH_KILLS");
    int kills = k ? atoi(k) : 3;
    printf("# MOOSE_CRASH_SEED=%u MOOSE_CRASH_KILLS=%d\n", seed, kills);
    srand(seed);

    unlink(DB);
    unlink(".moose-broker");
    unlink("run.log");
    unlink("write.log");
    unlink("broker.log");
    const char *broker_argv[] = {CRASH_APP, "--log-level=warn", "broker", NULL};
    pid_t broker = spawn(broker_argv, "broker.log");
    wait_for_broker(broker);

    int64_t written = 0;
    for (int i = 0; i < kills; i++) {
        int64_t rows_before = faults_table_count(DB);
        if (rows_before < 0)
            rows_before = 0; /* no table yet */
        pid_t run = start_run();
        /* The chunk is written while the run joins its groups, transforms and delivers. */
        write_orders(written, written + CHUNK);
        written += CHUNK;
        /* Half the kills land once delivery has visibly begun, half at any moment. */
        bool after_progress = rand() % 2;
        int delay = after_progress ? rand() % 800 : rand() % KILL_SPAN_MS;
        if (after_progress)
            faults_wait_rows(DB, rows_before + 1, 20000);
        faults_sleep_ms(delay);
        int64_t rows = faults_table_count(DB);
        kill(run, SIGKILL);
        int rc = wait_exit(run);
        printf("# kill %d: %d ms after %s, %lld of %lld rows in the table\n", i + 1, delay,
               after_progress ? "delivery began" : "the write", (long long)rows,
               (long long)faults_expected_rows(written));
        if (rc != 128 + SIGKILL)
            fail_msg("APP run ended by itself (status %d) before the kill (see run.log)", rc);
    }
    pid_t run = start_run();
    int64_t want = faults_expected_rows(written);
    int64_t got = faults_wait_rows(DB, want, DELIVERY_TIMEOUT_MS);
    faults_sleep_ms(1000); /* a late duplicate or stray row would show by now */
    int run_rc = 0;
    kill(run, SIGTERM);
    run_rc = wait_exit(run);
    kill(broker, SIGTERM);
    wait_exit(broker);

    char why[512] = "";
    if (!faults_table_exact(DB, written, why, sizeof why))
        fail_msg("after %d kills (seed %u): %lld of %lld rows: %s", kills, seed, (long long)got,
                 (long long)want, why);
    assert_int_equal(run_rc, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_runs_leave_every_key_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
