/*
 * A record `APP write` refuses because it does not decode goes to the dead
 * letter queue under the Key it was meant to have when its JSON is an object
 * whose Key field is a string or an integer; "(none)" only when there is no
 * such Key to read. The helper first, then the command line against a broker
 * of its own, in other processes.
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

#include "fixture.h"
#include "kafka.h"
#include "moose/error.h"
#include "transform_internal.h"

/* The key read from JSON for the fixture's RawEvent (Key: id), or "-" when there is none. */
static const char *key_of(const char *json) {
    static char text[128];
    moose_buf buf;
    moose_buf_init(&buf);
    int rc = moose__key_from_json(&RawEvent_desc, json, strlen(json), &buf);
    assert_true(rc == 0 || rc == 1);
    if (rc == 1)
        snprintf(text, sizeof text, "%.*s", (int)buf.len, buf.data ? buf.data : "");
    else
        snprintf(text, sizeof text, "-");
    moose_buf_free(&buf);
    return text;
}

static void test_key_from_json(void **state) {
    (void)state;
    assert_string_equal(key_of("{\"id\":\"k9\",\"data\":5}"), "k9");
    assert_string_equal(key_of("{\"data\":5,\"id\":\"after\"}"), "after");
    assert_string_equal(key_of("{\"id\":42,\"data\":\"x\"}"), "42");
    assert_string_equal(key_of("{\"id\":-7}"), "-7");
    assert_string_equal(key_of("{\"id\":\"caf\\u00e9\"}"), "caf\xc3\xa9");
    /* Not an object, no Key, or a Key that is neither a string nor an integer: none. */
    assert_string_equal(key_of("not json"), "-");
    assert_string_equal(key_of("[\"k9\"]"), "-");
    assert_string_equal(key_of("\"k9\""), "-");
    assert_string_equal(key_of("{\"data\":\"x\"}"), "-");
    assert_string_equal(key_of("{\"id\":1.5}"), "-");
    assert_string_equal(key_of("{\"id\":null}"), "-");
    assert_string_equal(key_of("{\"id\":{\"k\":1}}"), "-");
    assert_string_equal(key_of("{\"idx\":\"k9\",\"i\":\"k8\"}"), "-");
    assert_string_equal(key_of("{\"id\":\"k9\""), "-"); /* cut short */
    /* A model without a Key has none to read. */
    moose_model_desc keyless = RawEvent_desc;
    keyless.key_field = -1;
    moose_buf buf;
    moose_buf_init(&buf);
    assert_int_equal(moose__key_from_json(&keyless, "{\"id\":\"k9\"}", 11, &buf), 0);
    assert_int_equal(buf.len, 0);
    moose_buf_free(&buf);
}

/* Runs CMD; its stdout into OUT, stderr into ERR; returns the exit status. */
static int run(const char *cmd, char *out, size_t size, char *err, size_t err_size) {
    char full[2048];
    snprintf(full, sizeof full, "%s >cmd.out 2>cmd.err", cmd);
    int st = system(full);
    char *bufs[2] = {out, err};
    size_t sizes[2] = {size, err_size};
    const char *files[2] = {"cmd.out", "cmd.err"};
    for (int i = 0; i < 2; i++) {
        FILE *fp = fopen(files[i], "rb");
        assert_non_null(fp);
        size_t n = fread(bufs[i], 1, sizes[i] - 1, fp);
        bufs[i][n] = '\0';
        fclose(fp);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_refused_lines_keep_their_key(void **state) {
    (void)state;
    unlink(MOOSE__BROKER_FILE);
    setenv("FIXTURE_APP", "dlqkey", 1);
    setenv("FIXTURE_PARTITIONS", "1", 1);

    /* `APP broker` prints its address once it serves; the other commands find it. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t broker = fork();
    assert_true(broker >= 0);
    if (broker == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(ENGINE_APP, ENGINE_APP, "--log-level", "warn", "broker", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *bf = fdopen(fds[0], "r");
    char bootstrap[256] = "";
    assert_non_null(fgets(bootstrap, sizeof bootstrap, bf));

    FILE *in = fopen("input.jsonl", "w");
    assert_non_null(in);
    fputs("{\"id\":\"k9\",\"data\":5}\n"      /* data is no string: does not decode */
          "{\"id\":7,\"data\":\"x\"}\n"       /* an integer where the String Key goes */
          "not json\n"                        /* nothing to read a key from */
          "{\"id\":\"ok\",\"data\":\"1\"}\n", /* written */
          in);
    fclose(in);
    char out[16384], err[8192];
    assert_int_equal(run(ENGINE_APP " write raw input.jsonl", out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "1 written, 3 refused\n"));

    assert_int_equal(run(ENGINE_APP " dlq raw", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "3 entries in the dead letter queue of raw\n"));
    const char *k9 = strstr(out, "  key:      k9\n");
    const char *seven = strstr(out, "  key:      7\n");
    const char *none = strstr(out, "  key:      (none)\n");
    if (!k9 || !seven || !none)
        fail_msg("keys k9, 7 and (none) expected:\n%s", out);
    /* In the order written, each with its own original. */
    assert_true(k9 < seven && seven < none);
    assert_non_null(strstr(k9, "  original: {\"id\":\"k9\",\"data\":5}\n"));
    assert_non_null(strstr(seven, "  original: {\"id\":7,\"data\":\"x\"}\n"));
    assert_non_null(strstr(none, "  original: not json\n"));

    kill(broker, SIGTERM);
    int st;
    while (waitpid(broker, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    fclose(bf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_from_json),
        cmocka_unit_test(test_refused_lines_keep_their_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
