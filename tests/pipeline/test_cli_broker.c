/*
 * The app command line against a running embedded broker, as a user drives
 * it from a shell: `APP broker`, `APP write` with bad lines, `APP tail`,
 * `APP run --http`, `APP dlq`, `APP replay`, `APP metrics`, `APP health`.
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

/* Runs CMD; stdout into OUT, stderr into ERR (either may be NULL); returns the exit status. */
static int run(const char *cmd, char *out, size_t size, char *err, size_t err_size) {
    char full[2048];
    snprintf(full, sizeof full, "%s >cmd.out 2>cmd.err", cmd);
    int st = system(full);
    char *bufs[2] = {out, err};
    size_t sizes[2] = {size, err_size};
    const char *files[2] = {"cmd.out", "cmd.err"};
    for (int i = 0; i < 2; i++) {
        if (!bufs[i])
            continue;
        FILE *fp = fopen(files[i], "rb");
        assert_non_null(fp);
        size_t n = fread(bufs[i], 1, sizes[i] - 1, fp);
        bufs[i][n] = '\0';
        fclose(fp);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until FILE contains NEEDLE (up to TIMEOUT_MS); false otherwise. */
static bool wait_for(const char *file, const char *needle, long timeout_ms) {
    for (long waited = 0; waited < timeout_ms; waited += 100) {
        FILE *fp = fopen(file, "rb");
        if (fp) {
            static char buf[1 << 16];
            size_t n = fread(buf, 1, sizeof buf - 1, fp);
            buf[n] = '\0';
            fclose(fp);
            if (strstr(buf, needle))
                return true;
        }
        sleep_ms(100);
    }
    return false;
}

/*
 * The address `APP run --http 127.0.0.1:0` serves at, from the line of LOG
 * that names it (a port of its own: another run of this test may be going on).
 */
static void served_at(const char *log, char *addr, size_t size) {
    const char *marker = "metrics and health at http://";
    assert_true(wait_for(log, marker, 30000));
    FILE *fp = fopen(log, "rb");
    assert_non_null(fp);
    char line[1024];
    addr[0] = '\0';
    while (addr[0] == '\0' && fgets(line, sizeof line, fp)) {
        const char *at = strstr(line, marker);
        if (at) {
            at += strlen(marker);
            snprintf(addr, size, "%.*s", (int)strcspn(at, "/ \n"), at);
        }
    }
    fclose(fp);
    assert_true(addr[0] != '\0');
}

static void the_commands_with_a_broker(void **state) {
    (void)state;
    /* a previous run's files would be read before the new processes truncate them */
    static const char *const stale[] = {MOOSE__BROKER_FILE, "tail.out", "run.log",
                                        "broker.log",       "cmd.out",  "cmd.err"};
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++)
        unlink(stale[i]);
    setenv("FIXTURE_APP", "pcli", 1);
    setenv("FIXTURE_TRANSFORM", "to_float", 1);
    setenv("FIXTURE_PARTITIONS", "1", 1);
    char out[16384], err[8192];

    FILE *bf;
    char bootstrap[256];
    pid_t broker = util_start_broker(ENGINE_APP, "broker.log", &bf, bootstrap, sizeof bootstrap);
    assert_true(broker > 0);

    /* write: refused lines by number and reason on stderr, exit 1; the others are written */
    FILE *in = fopen("input.jsonl", "w");
    fputs("{\"id\":\"a\",\"data\":\"1.5\"}\n"
          "{\"id\":\"b\",\"data\":\"\"}\n"
          "not json\n"
          "{\"id\":\"c\",\"data\":\"abc\"}\n",
          in);
    fclose(in);
    assert_int_equal(run(ENGINE_APP " write raw input.jsonl", out, sizeof out, err, sizeof err), 1);
    assert_string_equal(err, "2: error: data: length 0 is outside [1, 64]\n"
                             "3: error: expected an object, found 'n'\n"
                             "2 written, 2 refused\n");

    /* tail: what is in the topic, as PARTITION:OFFSET KEY VALUE */
    const char *tail_argv[] = {ENGINE_APP, "--log-level", "warn", "tail", "raw", NULL};
    pid_t tail = util_spawn(tail_argv, "tail.out", NULL);
    assert_true(tail > 0);
    assert_true(wait_for("tail.out", "0:1 c {\"id\":\"c\",\"data\":\"abc\"}\n", 30000));
    assert_int_equal(util_stop(tail), 0);
    assert_true(wait_for("tail.out", "0:0 a {\"id\":\"a\",\"data\":\"1.5\"}\n", 100));

    /* run: the transform sends "abc" to the DLQ; --http serves metrics and health */
    const char *run_argv[] = {ENGINE_APP,    "--log-level", "info", "--http",
                              "127.0.0.1:0", "run",         NULL};
    pid_t app = util_spawn(run_argv, "run.log", NULL);
    assert_true(app > 0);
    char http[64], cmd[512];
    served_at("run.log", http, sizeof http);
    assert_true(wait_for("run.log", "transform failed transform=to_float key=c", 30000));

    snprintf(cmd, sizeof cmd, "%s metrics --http %s", ENGINE_APP, http);
    assert_int_equal(run(cmd, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "to_float"));
    snprintf(cmd, sizeof cmd, "%s metrics --json --http %s", ENGINE_APP, http);
    assert_int_equal(run(cmd, out, sizeof out, NULL, 0), 0);
    assert_int_equal(out[0], '{');
    snprintf(cmd, sizeof cmd, "%s health --http %s", ENGINE_APP, http);
    int health = run(cmd, out, sizeof out, NULL, 0);
    assert_true(health == 0 || health == 1);
    assert_int_equal(run(ENGINE_APP " metrics", out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "pass the --http ADDR:PORT it was started with"));

    /* dlq: both refused writes and the transform's failure, readable */
    for (int tries = 0; tries < 50; tries++) {
        assert_int_equal(run(ENGINE_APP " dlq raw", out, sizeof out, err, sizeof err), 0);
        if (strstr(out, "3 entries"))
            break;
        sleep_ms(200);
    }
    assert_non_null(strstr(out, "3 entries in the dead letter queue of raw\n"));
    assert_non_null(strstr(out, "ValidationError from write (pcli-raw)\n  key:      b\n"
                                "  message:  data: length 0 is outside [1, 64]\n"
                                "  error:    data: length 0 is outside [1, 64] [length]\n"
                                "  original: {\"id\":\"b\",\"data\":\"\"}\n"));
    assert_non_null(strstr(out, "  key:      (none)\n"));
    assert_non_null(strstr(out, "  original: not json\n"));
    assert_non_null(strstr(out, "TransformError from transform to_float (pcli-raw partition 0 "
                                "offset 1)\n  key:      c\n"
                                "  message:  data 'abc' is not a number\n"));

    /* replay: the three go through raw again (and, still bad, back to the DLQ) */
    assert_int_equal(run(ENGINE_APP " replay raw", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "replayed 3 records from the dead letter queue into pcli-raw\n");
    assert_int_equal(run(ENGINE_APP " replay raw", out, sizeof out, err, sizeof err), 0);
    assert_true(strncmp(out, "replayed ", 9) == 0);

    assert_int_equal(util_stop(app), 0);
    assert_true(wait_for("run.log", "info run stopped", 100));
    fclose(bf);
    assert_int_equal(util_stop(broker), 0);

    /* with the broker gone, commands say so instead of starting their own */
    assert_int_equal(run(ENGINE_APP " dlq raw", out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "no embedded broker is running"));
}

/* Exit status of PID, waited for up to TIMEOUT_MS; -1 if it is still running then. */
static int exit_status_within(pid_t pid, long timeout_ms) {
    for (long waited = 0; waited < timeout_ms; waited += 50) {
        int st;
        pid_t got = waitpid(pid, &st, WNOHANG);
        assert_true(got >= 0 || errno == EINTR);
        if (got == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        sleep_ms(50);
    }
    return -1;
}

/*
 * `APP run` stops by finishing what is in flight, which waits on the broker;
 * with the broker frozen (SIGSTOP: it neither answers nor refuses) that takes
 * the commit's timeout. A second SIGTERM ends the app at once, saying that
 * what was not committed is read again.
 */
static void a_second_signal_stops_at_once(void **state) {
    (void)state;
    static const char *const stale[] = {MOOSE__BROKER_FILE, "run2.log", "broker2.log"};
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++)
        unlink(stale[i]);
    setenv("FIXTURE_APP", "pstop", 1);
    setenv("FIXTURE_TRANSFORM", "to_float", 1);
    setenv("FIXTURE_PARTITIONS", "1", 1);
    FILE *bf;
    char bootstrap[256];
    pid_t broker = util_start_broker(ENGINE_APP, "broker2.log", &bf, bootstrap, sizeof bootstrap);
    assert_true(broker > 0);

    const char *run_argv[] = {ENGINE_APP, "--log-level", "info", "run", NULL};
    pid_t app = util_spawn(run_argv, "run2.log", NULL);
    assert_true(app > 0);
    assert_true(wait_for("run2.log", "info run running app=pstop", 30000));
    assert_int_equal(kill(broker, SIGSTOP), 0);
    kill(app, SIGTERM);
    assert_true(wait_for("run2.log",
                         "SIGTERM: stopping, finishing the records in flight (a signal again "
                         "stops at once)",
                         10000));
    kill(app, SIGTERM);
    /* Generous for a loaded machine; the stop it cuts short would wait for the broker. */
    assert_int_equal(exit_status_within(app, 30000), 128 + SIGTERM);
    assert_true(wait_for("run2.log",
                         "warn run SIGTERM again: stopping at once; records not yet committed are "
                         "read again at the next start (at least once)",
                         100));

    kill(broker, SIGCONT);
    fclose(bf);
    assert_int_equal(util_stop(broker), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_commands_with_a_broker),
        cmocka_unit_test(a_second_signal_stops_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
