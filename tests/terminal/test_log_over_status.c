/*
 * A log line written while `APP run`'s live status line is showing on a
 * terminal: the status line is erased first ("\r\033[K"), the log line takes
 * a line of its own, and the status line is drawn again under it. The
 * fixture app runs in its own process with its stderr on a pseudo-terminal;
 * a record its transform refuses ("abc" is not a number), written by
 * `APP write` in another process, makes it log a warning while running.
 */
#define _GNU_SOURCE /* posix_openpt, memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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

#include "../observability/pty_output.h"

/* The output with its terminal codes spelled out, for a failure message. */
static const char *visible(const char *s, size_t len) {
    static char buf[16384];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < sizeof buf; i++) {
        if (s[i] == '\r')
            o += (size_t)snprintf(buf + o, sizeof buf - o, "\\r");
        else if (s[i] == '\033')
            o += (size_t)snprintf(buf + o, sizeof buf - o, "\\e");
        else
            buf[o++] = s[i];
    }
    buf[o] = '\0';
    return buf;
}

static void log_line_erases_and_redraws_the_status_line(void **state) {
    (void)state;
    setenv("FIXTURE_APP", "term-status", 1);
    setenv("FIXTURE_PARTITIONS", "1", 1);
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(slave, STDERR_FILENO);
        dup2(slave, STDOUT_FILENO);
        close(slave);
        close(master);
        execl(ENGINE_APP, ENGINE_APP, "run", (char *)NULL);
        _exit(127);
    }
    close(slave);

    if (!read_until(master, "running app=", 0, 60000))
        fail_msg("engine_app run did not start:\n%s", visible(output, output_len));
    /* The status line is showing once it was drawn a first time. */
    if (!read_until(master, "\r\033[Kin ", 0, 60000))
        fail_msg("no status line:\n%s", visible(output, output_len));
    size_t showing = output_len;

    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "printf '%%s\\n' '{\"id\":\"x\",\"data\":\"abc\"}' | %s write raw - >/dev/null 2>&1",
             ENGINE_APP);
    int status = system(cmd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    const char *logged = " warn transform transform failed transform=to_float key=x";
    if (!read_until(master, logged, showing, 60000))
        fail_msg("no log line '%s':\n%s", logged, visible(output, output_len));
    /* And the status line drawn again after it. */
    char *line = strstr(output + showing, logged);
    size_t line_at = (size_t)(line - output);
    if (!read_until(master, "\n\r\033[Kin ", line_at, 10000))
        fail_msg("the status line was not drawn again under the log line:\n%s",
                 visible(output + showing, output_len - showing));

    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    read_until(master, NULL, 0, 5000);
    close(master);

    /*
     * "2026-11-27T18:40:01.123Z warn ...": the line starts right after the
     * erase, which follows the status text it replaced, and ends with a
     * newline (the terminal's "\r\n") followed by the status line again.
     */
    line = output + line_at;
    const size_t stamp = strlen("2026-11-27T18:40:01.123Z");
    char *start = line - stamp;
    assert_true(start - output >= 4);
    if (memcmp(start - 4, "\r\033[K", 4) != 0)
        fail_msg("the log line does not start on an erased line:\n%s",
                 visible(start - 80, 80 + strlen(logged) + stamp));
    assert_true(start[4] == '-' && start[stamp - 1] == 'Z');
    char *end = strchr(line, '\n');
    assert_non_null(end);
    assert_true(end[-1] == '\r');
    assert_memory_equal(end + 1, "\r\033[Kin ", 6);
    /* Before the erase, the status line as it was drawn: a log line never lands on it. */
    char *before = start - 4;
    char *drawn = before;
    while (drawn > output && memcmp(drawn, "\r\033[Kin ", 6) != 0)
        drawn--;
    assert_memory_equal(drawn, "\r\033[Kin ", 6);
    assert_null(memchr(drawn + 1, '\n', (size_t)(before - drawn - 1)));
    assert_non_null(memmem(drawn, (size_t)(before - drawn), " | lag ", 7));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_line_erases_and_redraws_the_status_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
