/*
 * The live status of `APP run`: on a terminal, one line redrawn in place
 * ("\r\033[K" then the figures); on anything else, an info log line every
 * 10 s and a last one at stop. The fixture app runs in its own process with
 * its stderr on a pseudo-terminal, then on a pipe; records come from
 * `APP write` in another process, so the figures shown are known.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pty_output.h"

/* `engine_app run` with its stderr (and stdout) on ERR_FD. */
static pid_t start_run(int err_fd, int close_fd) {
    setenv("FIXTURE_APP", "obs-status", 1);
    setenv("FIXTURE_PARTITIONS", "1", 1);
    output_len = 0;
    output[0] = '\0';
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(err_fd, STDERR_FILENO);
        dup2(err_fd, STDOUT_FILENO);
        close(err_fd);
        close(close_fd);
        execl(ENGINE_APP, ENGINE_APP, "run", (char *)NULL);
        _exit(127);
    }
    close(err_fd);
    return pid;
}

/* Two records accepted and one refused, written by another process into the running app. */
static void write_records(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "printf '%%s\\n' '{\"id\":\"a\",\"data\":\"1\"}' '{\"id\":\"b\",\"data\":\"\"}' "
             "'{\"id\":\"c\",\"data\":\"3\"}' | %s write raw - >/dev/null 2>&1",
             ENGINE_APP);
    int status = system(cmd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1); /* one refused */
}

static void stop_run(pid_t pid) {
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_status_line_on_a_terminal(void **state) {
    (void)state;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    pid_t pid = start_run(slave, master);

    if (!read_until(master, "running app=", 0, 60000))
        fail_msg("engine_app run did not start:\n%s", output);
    size_t started = output_len;
    write_records();
    /* The transform's in and out, redrawn in place; the write side lives in the other process. */
    const char *want = "| total in 2 out 2 | lag 0 | errors 0 dlq 0 | healthy";
    if (!read_until(master, want, started, 60000))
        fail_msg("no status line with '%s':\n%s", want, output);
    const char *redraw = strstr(output + started, "\r\033[Kin ");
    assert_non_null(redraw);
    double in_per_s, out_per_s;
    unsigned long in, out;
    assert_int_equal(sscanf(redraw, "\r\033[Kin %lf/s out %lf/s | total in %lu out %lu", &in_per_s,
                            &out_per_s, &in, &out),
                     4);
    assert_true(in <= 2 && out <= in);

    size_t before_stop = output_len;
    stop_run(pid);
    /* Drain what the terminal still holds: the last redraw, ended by a newline, then the log. */
    read_until(master, NULL, 0, 5000);
    close(master);
    const char *last = strstr(output + before_stop, "\r\033[Kin ");
    assert_non_null(last);
    const char *end = strstr(last, "\r\n");
    assert_non_null(end);
    const char *tail = "| total in 2 out 2 | lag 0 | errors 0 dlq 0 | healthy";
    assert_true((size_t)(end - last) > strlen(tail));
    assert_memory_equal(end - strlen(tail), tail, strlen(tail));
    assert_non_null(strstr(end, "stopped"));
}

static void test_periodic_log_lines_when_not_a_terminal(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = start_run(fds[1], fds[0]);
    if (!read_until(fds[0], "running app=", 0, 60000))
        fail_msg("engine_app run did not start:\n%s", output);
    write_records();
    /* The first periodic line comes 10 s after the start; 40 s is a bound, not a measurement. */
    const char *want = " info status running in_per_s=";
    if (!read_until(fds[0], want, 0, 40000))
        fail_msg("no periodic status line:\n%s", output);
    stop_run(pid);
    read_until(fds[0], NULL, 0, 5000);
    close(fds[0]);

    /* At least the periodic one and the last one, each a log line of its own, no terminal codes. */
    int lines = 0;
    const char *last = NULL;
    for (const char *at = output; (at = strstr(at, want)) != NULL; at++) {
        lines++;
        last = at;
    }
    assert_true(lines >= 2);
    assert_null(strchr(output, '\r'));
    assert_null(strchr(output, '\033'));
    const char *figures = "records_in=2 records_out=2 lag=0 errors=0 dlq=0 health=healthy\n";
    const char *found = strstr(last, figures);
    if (found == NULL || strchr(last, '\n') != found + strlen(figures) - 1)
        fail_msg("the last status line does not end with '%s':\n%s", figures, output);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_line_on_a_terminal),
        cmocka_unit_test(test_periodic_log_lines_when_not_a_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
