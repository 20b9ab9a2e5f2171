/*
 * `APP metrics` and `APP health` against a running `APP run --http`: the
 * fixture app in three processes (run, write, metrics/health), as a user
 * would drive it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t run_pid = -1;
static char http_addr[64];

/* `engine_app run --http 127.0.0.1:0`; its log names the port it got. */
static void start_app(void) {
    /* Every process of the test (run, write, metrics) is the same app: same topics. */
    setenv("FIXTURE_APP", "obs-cli", 1);
    setenv("FIXTURE_PARTITIONS", "1", 1);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    run_pid = fork();
    assert_true(run_pid >= 0);
    if (run_pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(ENGINE_APP, ENGINE_APP, "run", "--http", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *log = fdopen(fds[0], "r");
    char line[1024];
    const char *marker = "metrics and health at http://";
    while (http_addr[0] == '\0') {
        /* A hang here ends at the test's timeout; an early exit ends the log. */
        if (fgets(line, sizeof line, log) == NULL)
            fail_msg("engine_app run ended without saying where it serves HTTP");
        const char *at = strstr(line, marker);
        if (at) {
            at += strlen(marker);
            size_t n = strcspn(at, "/ \n");
            snprintf(http_addr, sizeof http_addr, "%.*s", (int)n, at);
        }
    }
    /* Keep draining its log (into run.log, to read when something fails) so it never blocks. */
    if (fork() == 0) {
        FILE *keep = fopen("run.log", "w");
        while (fgets(line, sizeof line, log))
            if (keep) {
                fputs(line, keep);
                fflush(keep);
            }
        _exit(0);
    }
    fclose(log);
}

static void stop_app(void) {
    if (run_pid > 0) {
        kill(run_pid, SIGTERM);
        int status;
        waitpid(run_pid, &status, 0);
        run_pid = -1;
    }
}

/* Runs CMD in the working directory; its stdout (and stderr) in OUT; the exit status. */
static int sh(const char *cmd, char *out, size_t size) {
    char full[1024];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char last_json[65536];

static json_int_t transform_in(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s metrics --json --http %s", ENGINE_APP, http_addr);
    if (sh(cmd, last_json, sizeof last_json) != 0)
        return -1;
    json_t *doc = json_loads(last_json, 0, NULL);
    json_t *t = json_array_get(json_object_get(doc, "transforms"), 0);
    json_int_t n = json_integer_value(json_object_get(t, "records_in"));
    json_decref(doc);
    return n;
}

static void test_metrics_and_health_of_a_running_app(void **state) {
    (void)state;
    start_app();
    char cmd[512], out[65536];

    snprintf(cmd, sizeof cmd, "%s health --http %s", ENGINE_APP, http_addr);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_string_equal(out, "healthy\n");

    /* Three records from another process, one of them refused. */
    snprintf(cmd, sizeof cmd,
             "printf '%%s\\n' '{\"id\":\"a\",\"data\":\"1\"}' '{\"id\":\"b\",\"data\":\"\"}' "
             "'{\"id\":\"c\",\"data\":\"3\"}' | %s write raw -",
             ENGINE_APP);
    assert_int_equal(sh(cmd, out, sizeof out), 1);

    /* The running app's transform takes in the two accepted ones. */
    json_int_t in = -1;
    for (int i = 0; i < 300 && in != 2; i++) {
        in = transform_in();
        if (in != 2)
            nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
    }
    if (in != 2)
        fail_msg("the transform took in %lld records, not 2:\n%s", (long long)in, last_json);

    /* Outputs count once the broker acknowledged them, a poll after they were taken in. */
    snprintf(cmd, sizeof cmd, "%s metrics --http %s", ENGINE_APP, http_addr);
    const char *header = "KIND      NAME                           IN        OUT     IN/s    OUT/s "
                         "FILTERED  INVALID   ERRORS      DLQ      LAG      P99  HEALTH\n";
    const char *row = NULL;
    for (int i = 0; i < 100 && row == NULL; i++) {
        if (i > 0)
            nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
        assert_int_equal(sh(cmd, out, sizeof out), 0);
        assert_memory_equal(out, header, strlen(header));
        row = strstr(out, "\ntransform to_float                        2          2 ");
    }
    if (row == NULL)
        fail_msg("no to_float row with 2 in, 2 out:\n%s", out);

    stop_app();
    /* Gone: both commands say so and exit 2. */
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "error: cannot reach the app at http://"));
    snprintf(cmd, sizeof cmd, "%s health --http %s", ENGINE_APP, http_addr);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
}

static int teardown(void **state) {
    (void)state;
    stop_app();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_metrics_and_health_of_a_running_app, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
