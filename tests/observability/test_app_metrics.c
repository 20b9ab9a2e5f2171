/*
 * Metrics of a whole app against the embedded Kafka cluster: a known
 * workload (valid, refused, failing and filtered records) leaves exactly
 * those counts, in = out + filtered + DLQ holds for the transform, and the
 * app's own HTTP endpoint serves them (promtool accepts the exposition).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app_internal.h"
#include "fixture.h"
#include "metrics.h"
#include "metrics_component.h"
#include "moose/error.h"
#include "moose/metrics.h"

static moose_app *open_app(fixture_app *f) {
    moose_config cfg = {.brokers = "embedded", .log_level = "warn", .http = "127.0.0.1:0"};
    char err[512] = "";
    moose_app *app = moose_app_open(&f->app, &cfg, err, sizeof err);
    if (!app)
        fail_msg("moose_app_open: %s", err);
    return app;
}

static int write_raw(moose_app *app, fixture_app *f, const char *id, const char *data) {
    RawEvent e = {{id, strlen(id)}, {data, strlen(data)}};
    moose_errors errs;
    moose_errors_init(&errs);
    int rc = moose_write(app, &f->raw, &e, &errs);
    moose_errors_free(&errs);
    return rc;
}

/* Waits (at most a minute) until transform NAME took in WANT records and finished each. */
static moose_metrics wait_transform(moose_app *app, const char *name, uint64_t want) {
    moose_metrics m;
    for (int i = 0; i < 600; i++) {
        assert_int_equal(moose_transform_metrics(app, name, &m), 0);
        if (m.records_in >= want && m.records_out + m.filtered + m.dlq >= want)
            break;
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    return m;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *opaque) {
    return fwrite(ptr, size, nmemb, opaque);
}

/* GETs http://ADDR/PATH into FILE; returns the status. */
static long get(const char *addr, const char *path, FILE *out) {
    char url[256];
    snprintf(url, sizeof url, "http://%s%s", addr, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    fflush(out);
    return status;
}

static char *slurp(FILE *fp) {
    long n = ftell(fp);
    rewind(fp);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
    return text;
}

static void assert_contains(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find\n%s\nin\n%s", needle, haystack);
}

static void test_counts_after_a_known_workload(void **state) {
    (void)state;
    /*
     * One partition, one worker: with two, a rebalance while the group forms
     * hands records to the other member again (at least once), and the
     * counts then include those second readings. Static: if an assertion
     * fails, the workers still running must not read a dead stack frame.
     */
    static fixture_app f;
    fixture_app_init(&f, "obs-counts", FIXTURE_TO_FLOAT, 1);
    moose_app *app = open_app(&f);
    char id[16], data[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "k%d", i);
        snprintf(data, sizeof data, "%d", i * 10);
        assert_int_equal(write_raw(app, &f, id, data), 0);
    }
    assert_int_equal(write_raw(app, &f, "kx", "abc"), 0); /* the transform fails */
    assert_int_equal(write_raw(app, &f, "kn", "neg"), 0); /* its output is invalid */
    assert_int_equal(write_raw(app, &f, "kv", ""), MOOSE_EVALIDATION); /* refused */
    assert_int_equal(write_raw(app, &f, "kw", ""), MOOSE_EVALIDATION); /* refused */

    moose_metrics s;
    assert_int_equal(moose_stream_metrics(app, "raw", &s), 0);
    assert_int_equal(s.records_in, 14);
    assert_int_equal(s.records_out, 12);
    assert_int_equal(s.invalid, 2);
    assert_int_equal(s.dlq, 2); /* on_invalid: dead_letter keeps the refused ones */
    assert_int_equal(s.records_in, s.records_out + s.filtered + s.dlq);
    assert_int_equal(s.write_ack.count, 12);
    assert_true(s.write_ack.max_ns > 0);
    assert_true(s.write_ack.p50_ns <= s.write_ack.p99_ns);
    moose_validation_stats vs;
    assert_int_equal(moose_stream_validation_stats(app, "raw", &vs), 0);
    assert_int_equal(vs.checked, 14);
    assert_int_equal(vs.failed, 2);
    assert_int_equal(vs.nfailures, 1);
    assert_string_equal(vs.failures[0].path, "data");
    assert_string_equal(vs.failures[0].rule, "length");
    assert_int_equal(vs.failures[0].count, 2);

    char err[512];
    assert_int_equal(moose_app_start(app, err, sizeof err), 0);
    moose_metrics t = wait_transform(app, "to_float", 12);
    assert_int_equal(t.records_in, 12);
    assert_int_equal(t.records_out, 10);
    assert_int_equal(t.filtered, 0);
    assert_int_equal(t.transform_errors, 1);
    assert_int_equal(t.dlq, 2);
    assert_int_equal(t.records_in, t.records_out + t.filtered + t.dlq);
    assert_int_equal(t.transform.count, 12);

    /* The same through the app's own HTTP endpoint. */
    const char *addr = moose__http_address(app->http);
    FILE *body = tmpfile();
    assert_int_equal(get(addr, "/metrics", body), 200);
    char *text = slurp(body);
    fclose(body);
    assert_contains(text, "moose_records_out_total{stream=\"raw\"} 12\n");
    assert_contains(text, "moose_records_invalid_total{stream=\"raw\"} 2\n");
    assert_contains(text, "moose_records_in_total{transform=\"to_float\"} 12\n");
    assert_contains(text, "moose_records_out_total{transform=\"to_float\"} 10\n");
    assert_contains(text, "moose_transform_errors_total{transform=\"to_float\"} 1\n");
    assert_contains(text, "moose_dlq_records_total{transform=\"to_float\"} 2\n");
    assert_contains(text, "moose_transform_seconds_count{transform=\"to_float\"} 12\n");
    assert_contains(text, "moose_validation_failures_total{stream=\"raw\",field=\"data\","
                          "rule=\"length\"} 2\n");

    char path[] = "/tmp/moose-app-metrics-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    int rc = system(cmd);
    unlink(path);
    assert_true(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    free(text);

    body = tmpfile();
    assert_int_equal(get(addr, "/health", body), 200);
    fclose(body);

    moose_app_stop(app);
    moose_app_close(app);
}

static void test_filtered_records(void **state) {
    (void)state;
    static fixture_app f;
    fixture_app_init(&f, "obs-filter", FIXTURE_FILTER, 1);
    moose_app *app = open_app(&f);
    static const char *const values[] = {"50", "150", "99", "101", "100", "1000"};
    char id[16];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "f%d", i);
        assert_int_equal(write_raw(app, &f, id, values[i]), 0);
    }
    char err[512];
    assert_int_equal(moose_app_start(app, err, sizeof err), 0);
    moose_metrics t = wait_transform(app, "filter", 6);
    assert_int_equal(t.records_in, 6);
    assert_int_equal(t.records_out, 3);
    assert_int_equal(t.filtered, 3);
    assert_int_equal(t.dlq, 0);
    assert_int_equal(t.records_in, t.records_out + t.filtered + t.dlq);
    moose_health h;
    assert_int_equal(moose_transform_health(app, "filter", &h), 0);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    assert_int_equal(moose_transform_metrics(app, "nope", &t), MOOSE_ENOTFOUND);
    moose_app_stop(app);
    moose_app_close(app);
}

/* The fixture's transform, held back while HELD is set: the app falls behind on purpose. */
static moose_transform_fn held_inner;
static atomic_bool held;

static int held_transform(const void *in, moose_transform_ctx *ctx) {
    while (atomic_load(&held))
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    return held_inner(in, ctx);
}

/* Waits (at most 30 s) until transform NAME's total lag satisfies LOW <= lag <= HIGH. */
static moose_metrics wait_lag(moose_app *app, const char *name, int64_t low, int64_t high) {
    moose_metrics m;
    for (int i = 0; i < 300; i++) {
        assert_int_equal(moose_transform_metrics(app, name, &m), 0);
        if (m.lag_total >= low && m.lag_total <= high)
            break;
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    return m;
}

static void test_lag_of_a_running_transform(void **state) {
    (void)state;
    enum { RECORDS = 1000 };
    static fixture_app f;
    fixture_app_init(&f, "obs-lag", FIXTURE_TO_FLOAT, 1);
    held_inner = f.transform.fn;
    f.transform.fn = held_transform;
    atomic_store(&held, true);
    moose_app *app = open_app(&f);
    char id[16], data[16];
    for (int i = 0; i < RECORDS; i++) {
        snprintf(id, sizeof id, "l%d", i);
        snprintf(data, sizeof data, "%d", i);
        assert_int_equal(write_raw(app, &f, id, data), 0);
    }
    char err[512];
    assert_int_equal(moose_app_start(app, err, sizeof err), 0);
    /*
     * The worker took one fetch (at most 256 records) and is stuck in the
     * first of them: the rest of the partition is behind its position.
     */
    moose_metrics m = wait_lag(app, "to_float", 1, RECORDS);
    assert_in_range(m.lag_total, RECORDS - 256, RECORDS - 1);
    assert_int_equal(m.npartitions, 1);
    assert_int_equal(m.lag[0], m.lag_total);
    assert_true(m.records_out < RECORDS);

    atomic_store(&held, false);
    m = wait_transform(app, "to_float", RECORDS);
    assert_int_equal(m.records_out, RECORDS);
    m = wait_lag(app, "to_float", 0, 0);
    assert_int_equal(m.lag_total, 0);
    assert_int_equal(m.npartitions, 1);
    assert_int_equal(m.lag[0], 0);

    /* Stopped on purpose and left open: silent workers are not "stalled", even much later. */
    moose_app_stop(app);
    moose_health h;
    assert_int_equal(moose__metrics_health_at(app->metrics, MOOSE_COMPONENT_TRANSFORM, "to_float",
                                              moose__metrics_now_ms() + 120000, &h),
                     0);
    assert_int_equal(h.status, MOOSE_HEALTHY);
    assert_int_equal(h.nreasons, 0);
    moose_app_close(app);
}

/* An argument runs the one test it names (ctest runs each on its own, side by side). */
int main(int argc, char **argv) {
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_after_a_known_workload),
        cmocka_unit_test(test_filtered_records),
        cmocka_unit_test(test_lag_of_a_running_transform),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
