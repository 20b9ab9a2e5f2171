/*
 * `APP run --batch-rows N --batch-bytes N --batch-ms N`: malformed values
 * are usage errors with exact messages, the options belong to `run` only,
 * and given values reach every table sink over MOOSE_BATCH_* (its start-up
 * log line says "batches of N rows / N bytes / N ms").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kafka.h"
#include "moose/app.h"
#include "reading_model.h"

/* One stream delivering into one table: what a sink needs. */
static moose_table_desc table = {.name = "batch_readings", .model = &Reading_desc};
static moose_stream_desc stream = {.name = "readings",
                                   .topic = "batchopts-readings",
                                   .model = &Reading_desc,
                                   .destination = &table,
                                   .parallelism = 1};
static const moose_stream_desc *streams[] = {&stream};
static const moose_table_desc *tables[] = {&table};
static const moose_app_desc app = {.abi_version = MOOSE_ABI_VERSION,
                                   .name = "batchopts",
                                   .tables = tables,
                                   .ntables = 1,
                                   .streams = streams,
                                   .nstreams = 1};

/* moose_main(ARGV) in a child with stderr (and stdout) into LOG_PATH; its pid. */
static pid_t spawn_main(const char *const argv[], const char *log_path) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log < 0)
            _exit(127);
        dup2(log, STDERR_FILENO);
        dup2(log, STDOUT_FILENO);
        int argc = 0;
        while (argv[argc])
            argc++;
        int status = moose_main(&app, argc, (char **)argv);
        fflush(NULL); /* _exit() would drop what stdio still holds */
        _exit(status);
    }
    return pid;
}

static int wait_exit(pid_t pid) {
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char text[1 << 16];

static const char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    text[0] = '\0';
    if (fp) {
        size_t n = fread(text, 1, sizeof text - 1, fp);
        text[n] = '\0';
        fclose(fp);
    }
    return text;
}

/* Runs the app command line ARGS..., expecting exit status 2 and exactly WANT on stderr. */
static void usage_error(const char *want, const char *const argv[]) {
    pid_t pid = spawn_main(argv, "usage.log");
    assert_int_equal(wait_exit(pid), 2);
    assert_string_equal(slurp("usage.log"), want);
}

static void test_usage_errors(void **state) {
    (void)state;
    const char *hint = "Try 'app --help'.\n";
    char want[512];
#define USAGE(message, ...)                                                                        \
    do {                                                                                           \
        snprintf(want, sizeof want, "app: %s\n%s", message, hint);                                 \
        usage_error(want, (const char *const[]){"app", __VA_ARGS__, NULL});                        \
    } while (0)
    USAGE("--batch-rows wants a positive number of rows (like 10000), not '0'", "run",
          "--batch-rows", "0");
    USAGE("--batch-rows wants a positive number of rows (like 10000), not 'many'", "run",
          "--batch-rows=many");
    USAGE("--batch-rows wants a positive number of rows (like 10000), not '-5'", "run",
          "--batch-rows", "-5");
    USAGE("--batch-rows wants a positive number of rows (like 10000), not '3000000000'", "run",
          "--batch-rows", "3000000000");
    USAGE("--batch-bytes wants a positive size up to 2G (like 1048576, 512k or 16M), not '1x'",
          "run", "--batch-bytes", "1x");
    USAGE("--batch-bytes wants a positive size up to 2G (like 1048576, 512k or 16M), not '4096M'",
          "run", "--batch-bytes", "4096M");
    USAGE("--batch-ms wants a positive number of milliseconds up to a day (like 1000), not "
          "'86400001'",
          "run", "--batch-ms", "86400001");
    USAGE("--batch-ms wants a positive number of milliseconds up to a day (like 1000), not '1.5'",
          "--batch-ms", "1.5", "run");
    USAGE("option '--batch-ms' wants a value", "run", "--batch-ms");
    USAGE("--batch-rows, --batch-bytes and --batch-ms are options of 'run' only", "ddl",
          "--batch-rows", "10");
    USAGE("--batch-rows, --batch-bytes and --batch-ms are options of 'run' only", "--batch-ms",
          "10", "validate", "readings");
#undef USAGE
}

static void test_help_names_the_options(void **state) {
    (void)state;
    pid_t pid = spawn_main((const char *const[]){"app", "run", "--help", NULL}, "help.log");
    assert_int_equal(wait_exit(pid), 0);
    const char *help = slurp("help.log");
    assert_non_null(strstr(
        help, "usage: app [OPTIONS] run [--batch-rows N] [--batch-bytes N] [--batch-ms N]\n"));
    assert_non_null(strstr(help, "  --batch-rows N          a table sink inserts at most N rows "
                                 "at once\n"));
    assert_non_null(strstr(help, "  --batch-bytes N "));
    assert_non_null(strstr(help, "  --batch-ms N "));
}

/* Waits (a minute at most: a bound, not a measurement) until PATH contains NEEDLE. */
static bool wait_for(const char *path, const char *needle) {
    for (int i = 0; i < 600; i++) {
        if (strstr(slurp(path), needle))
            return true;
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    return false;
}

static void run_and_expect(const char *const argv[], const char *want) {
    unlink(MOOSE__BROKER_FILE);
    pid_t pid = spawn_main(argv, "run.log");
    bool seen = wait_for("run.log", want);
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit(pid), 0);
    if (!seen)
        fail_msg("no '%s' in the log of APP run:\n%s", want, slurp("run.log"));
}

static void test_values_reach_the_sink(void **state) {
    (void)state;
    /* The command line wins over the environment. */
    setenv("MOOSE_BATCH_ROWS", "999", 1);
    setenv("MOOSE_BATCH_MS", "777", 1);
    run_and_expect((const char *const[]){"app", "--tables", "sqlite:batch.db", "run",
                                         "--batch-rows", "123", "--batch-bytes=4k", "--batch-ms",
                                         "250", NULL},
                   "table batch_readings (sqlite:batch.db): group batchopts.table.batch_readings, "
                   "batches of 123 rows / 4096 bytes / 250 ms\n");
    /* One option alone: the others still come from the environment, then the defaults. */
    run_and_expect(
        (const char *const[]){"app", "--tables", "sqlite:batch.db", "run", "--batch-rows=50", NULL},
        "batches of 50 rows / ");
    assert_non_null(strstr(text, " / 777 ms\n"));
    unsetenv("MOOSE_BATCH_ROWS");
    unsetenv("MOOSE_BATCH_MS");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_help_names_the_options),
        cmocka_unit_test(test_values_reach_the_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
