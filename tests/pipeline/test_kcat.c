/*
 * A record produced with kcat, in JSON, is transformed, and kcat reads the
 * output back: the topics are plain Kafka topics any client can use.
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

#include "app_internal.h"
#include "fixture.h"

static int run(const char *cmd, char *out, size_t size) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void kcat_in_kcat_out(void **state) {
    (void)state;
    fixture_app f;
    fixture_app_init(&f, "pkcat", FIXTURE_TO_FLOAT, 2);
    moose_config cfg = {.brokers = "embedded", .log_level = "warn"};
    char err[512];
    moose_app *app = moose_app_open(&f.app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("%s", err);
    if (moose_app_start(app, err, sizeof err) != 0)
        fail_msg("%s", err);
    const char *bootstrap = moose__kafka_bootstrap(app->kafka);

    char cmd[1024], out[4096];
    /* -K| splits KEY|VALUE (JSON has colons); murmur2_random is libmoose's partitioner */
    snprintf(cmd, sizeof cmd,
             "printf '%%s\\n' 'kc1|{\"id\":\"kc1\",\"data\":\"4.25\"}' "
             "'kc2|{\"id\":\"kc2\",\"data\":\"x\"}' "
             "| kcat -b %s -P -t pkcat-raw -K'|' -X partitioner=murmur2_random 2>&1",
             bootstrap);
    assert_int_equal(run(cmd, out, sizeof out), 0);

    snprintf(cmd, sizeof cmd,
             "timeout 60 kcat -q -b %s -C -t pkcat-out -o beginning -c 1 -f '%%k %%s\\n' 2>&1",
             bootstrap);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_string_equal(out, "kc1 {\"id\":\"kc1\",\"value\":4.25}\n");

    /* the bad one is in the DLQ, readable by kcat as JSON too */
    snprintf(cmd, sizeof cmd,
             "timeout 60 kcat -q -b %s -C -t pkcat-raw.dlq -o beginning -c 1 -f '%%k %%s\\n' 2>&1",
             bootstrap);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_true(strncmp(out, "kc2 {", 5) == 0);
    assert_non_null(strstr(out, "\"error_type\":\"TransformError\""));
    assert_non_null(strstr(out, "data 'x' is not a number"));

    moose_app_close(app);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kcat_in_kcat_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
