/*
 * The app command line, run as a user runs it (the fixture app's binary):
 * validate's exact output, usage errors, help, ddl, and commands that need
 * a broker refusing plainly when there is none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

/* Runs CMD (stderr joined to stdout); returns the exit status and the output in OUT. */
static int run(const char *cmd, char *out, size_t size) {
    char full[4096];
    snprintf(full, sizeof full, "cd '%s' && %s 2>&1", WORK_DIR, cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void validate_golden(void **state) {
    (void)state;
    char out[8192];
    int st = run(ENGINE_APP " validate raw " GOLDEN_DIR "/validate.jsonl", out, sizeof out);
    assert_string_equal(out, slurp(GOLDEN_DIR "/validate.out"));
    assert_int_equal(st, 1);
}

static void validate_from_stdin_all_valid(void **state) {
    (void)state;
    char out[1024];
    int st = run("printf '{\"id\":\"a\",\"data\":\"1\"}\\n{\"id\":\"b\",\"data\":\"2\"}' | "
                 ENGINE_APP " validate raw -",
                 out, sizeof out);
    assert_string_equal(out, "2 valid, 0 invalid\n");
    assert_int_equal(st, 0);
}

static void validate_record_size_limit(void **state) {
    (void)state;
    char out[1024];
    int st = run("printf '{\"id\":\"a\",\"data\":\"1\"}\\n{\"id\":\"bbbbbbbbbbbbbbbbbb\",\"data\":\"2\"}\\n' | "
                 ENGINE_APP " --max-record-bytes 30 validate raw",
                 out, sizeof out);
    assert_string_equal(out, "2: error: record is longer than the limit of 30 bytes\n"
                             "1 valid, 1 invalid\n");
    assert_int_equal(st, 1);
}

static void usage_errors(void **state) {
    (void)state;
    char out[4096];
    assert_int_equal(run(ENGINE_APP, out, sizeof out), 2);
    assert_string_equal(out, "engine_app: which command? (run, write, validate, ...)\n"
                             "Try 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " frobnicate", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: unknown command 'frobnicate'\n"
                             "Try 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " validate", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: usage: engine_app validate STREAM [FILE|-]\n"
                             "Try 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " validate nosuch", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: no stream named 'nosuch'; the streams are: raw out audit\n");
    assert_int_equal(run(ENGINE_APP " validate raw /nonexistent/file", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: cannot open '/nonexistent/file': No such file or directory\n");
    assert_int_equal(run(ENGINE_APP " --log-level loud validate raw", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: log level is debug, info, warn or error, not 'loud'\n"
                             "Try 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " -X nokey validate raw", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: -X wants key=value, not 'nokey'\n"
                             "Try 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " --http 9090 run", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: --http wants ADDR:PORT (like 127.0.0.1:9090), not '9090'\n"
                             "Try 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " --brokers", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: option '--brokers' wants a value\n"
                             "Try 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " validate raw --json", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: --json is an option of 'metrics' and 'health' only\n"
                             "Try 'engine_app --help'.\n");
}

static void help(void **state) {
    (void)state;
    char out[8192];
    assert_int_equal(run(ENGINE_APP " --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: engine_app [OPTIONS] COMMAND [ARGS]\n"));
    assert_non_null(strstr(out, "  validate STREAM [FILE|-]\n"));
    assert_non_null(strstr(out, "Streams: raw out audit\n"));
    assert_non_null(strstr(out, "MOOSE_BROKERS"));
    assert_int_equal(run(ENGINE_APP " write --help", out, sizeof out), 0);
    assert_true(strncmp(out, "usage: engine_app [OPTIONS] write STREAM [FILE|-]\n\nReads", 55) == 0);
}

static void ddl_without_tables(void **state) {
    (void)state;
    char out[1024];
    /* the fixture declares no table: nothing to print, and that is fine */
    assert_int_equal(run(ENGINE_APP " ddl", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(run(ENGINE_APP " --tables mysql://x ddl", out, sizeof out), 2);
    assert_string_equal(out, "engine_app: --tables 'mysql://x' is neither sqlite:FILE nor "
                             "clickhouse://...; pass --dialect\nTry 'engine_app --help'.\n");
    assert_int_equal(run(ENGINE_APP " ddl --dialect clickhouse", out, sizeof out), 0);
}

static void write_needs_a_running_broker(void **state) {
    (void)state;
    char out[4096];
    int st = run("echo '{\"id\":\"a\",\"data\":\"1\"}' | " ENGINE_APP " write raw", out, sizeof out);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "broker"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validate_golden),
        cmocka_unit_test(validate_from_stdin_all_valid),
        cmocka_unit_test(validate_record_size_limit),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(help),
        cmocka_unit_test(ddl_without_tables),
        cmocka_unit_test(write_needs_a_running_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
