/*
 * The HTTP endpoints, the Prometheus exposition (checked by promtool), and
 * the `APP metrics` / `APP health` printers against a live server.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt: the status line's terminal form needs a terminal */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "moose/error.h"

typedef struct fixture {
    moose_metrics_registry *reg;
    moose__http *http;
    char addr[64];
} fixture;

/* A known workload: 100 written (5 invalid), a transform that filters 20 and fails 3. */
static void workload(moose_metrics_registry *reg) {
    moose__component *s = moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "raw_stream");
    moose__component *t = moose__metrics_component(reg, MOOSE_COMPONENT_TRANSFORM, "enrich");
    moose__component *k = moose__metrics_component(reg, MOOSE_COMPONENT_SINK, "Processed\"Table");
    moose_field_error item = {.path = "items[3].price", .rule = "range", .message = "-1 below 0"};
    moose_errors errs = {.items = &item, .len = 1, .cap = 1};
    moose__count(s, MOOSE__C_RECORDS_IN, 100);
    for (int i = 0; i < 95; i++)
        moose__metrics_validated(s, "{}", 2, NULL);
    for (int i = 0; i < 5; i++)
        moose__metrics_validated(s, "{\"items\":[]}", 12, &errs);
    moose__count(s, MOOSE__C_DLQ, 5);
    moose__count(s, MOOSE__C_RECORDS_OUT, 95);
    for (int i = 0; i < 95; i++)
        moose__latency_record(s, MOOSE__L_WRITE_ACK, 2000000);
    moose__count(t, MOOSE__C_RECORDS_IN, 95);
    moose__count(t, MOOSE__C_RECORDS_OUT, 72);
    moose__count(t, MOOSE__C_FILTERED, 20);
    moose__count(t, MOOSE__C_TRANSFORM_ERRORS, 3);
    moose__count(t, MOOSE__C_DLQ, 3);
    moose__metrics_set_lag(t, 0, 4);
    moose__metrics_set_lag(t, 1, 0);
    moose__count(k, MOOSE__C_RECORDS_IN, 72);
    moose__count(k, MOOSE__C_RECORDS_OUT, 72);
    moose__count(k, MOOSE__C_BATCHES, 2);
}

static int setup(void **state) {
    static fixture f;
    char err[256];
    f.reg = moose__metrics_registry_new(err, sizeof err);
    if (f.reg == NULL)
        return -1;
    workload(f.reg);
    f.http = moose__http_start(f.reg, "127.0.0.1:0", err, sizeof err);
    if (f.http == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(f.addr, sizeof f.addr, "%s", moose__http_address(f.http));
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    moose__http_stop(f->http);
    moose__metrics_registry_free(f->reg);
    return 0;
}

typedef struct response {
    long status;
    char *body;
    size_t len;
    char type[128];
} response;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *opaque) {
    response *r = opaque;
    size_t n = size * nmemb;
    r->body = realloc(r->body, r->len + n + 1);
    assert_non_null(r->body);
    memcpy(r->body + r->len, ptr, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static response request(fixture *f, const char *method, const char *path) {
    response r = {0};
    char url[256];
    snprintf(url, sizeof url, "http://%s%s", f->addr, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    snprintf(r.type, sizeof r.type, "%s", type ? type : "");
    curl_easy_cleanup(curl);
    if (r.body == NULL)
        r.body = calloc(1, 1);
    return r;
}

static void assert_contains(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find\n%s\nin\n%s", needle, haystack);
}

static void test_port_zero_picks_a_port(void **state) {
    fixture *f = *state;
    assert_true(moose__http_port(f->http) > 0);
    char want[32];
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)moose__http_port(f->http));
    assert_string_equal(moose__http_address(f->http), want);
}

static void test_bad_addresses_are_refused(void **state) {
    fixture *f = *state;
    char err[256];
    assert_null(moose__http_start(f->reg, "127.0.0.1:99999", err, sizeof err));
    assert_string_equal(err, "http address '127.0.0.1:99999': expected HOST:PORT with a port 0-65535");
    assert_null(moose__http_start(f->reg, "example.org:80", err, sizeof err));
    assert_string_equal(err, "http address 'example.org:80': 'example.org' is not an IPv4 address");
    /* The port the fixture holds is taken. */
    assert_null(moose__http_start(f->reg, f->addr, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "http: cannot listen on %s: Address already in use", f->addr);
    assert_string_equal(err, want);
}

static void test_metrics_endpoint(void **state) {
    fixture *f = *state;
    response r = request(f, "GET", "/metrics");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
    assert_contains(r.body, "# HELP moose_records_in_total Records that reached the component, "
                            "valid or not.\n# TYPE moose_records_in_total counter\n");
    assert_contains(r.body, "moose_records_in_total{stream=\"raw_stream\"} 100\n");
    assert_contains(r.body, "moose_records_in_total{transform=\"enrich\"} 95\n");
    assert_contains(r.body, "moose_records_out_total{table=\"Processed\\\"Table\"} 72\n");
    assert_contains(r.body, "moose_records_invalid_total{stream=\"raw_stream\"} 5\n");
    assert_contains(r.body, "moose_records_filtered_total{transform=\"enrich\"} 20\n");
    assert_contains(r.body, "moose_dlq_records_total{transform=\"enrich\"} 3\n");
    assert_contains(r.body, "moose_batches_total{table=\"Processed\\\"Table\"} 2\n");
    assert_contains(r.body, "moose_write_ack_seconds{stream=\"raw_stream\",quantile=\"0.99\"} 0.002\n");
    assert_contains(r.body, "moose_write_ack_seconds_count{stream=\"raw_stream\"} 95\n");
    assert_contains(r.body, "moose_write_ack_seconds_sum{stream=\"raw_stream\"} 0.19\n");
    assert_contains(r.body, "moose_transform_seconds{transform=\"enrich\",quantile=\"0.5\"} NaN\n");
    assert_contains(r.body, "moose_consumer_lag{transform=\"enrich\",partition=\"0\"} 4\n");
    assert_contains(r.body, "moose_validation_checked_total{stream=\"raw_stream\"} 100\n");
    assert_contains(r.body, "moose_validation_failures_total{stream=\"raw_stream\","
                            "field=\"items[].price\",rule=\"range\"} 5\n");
    assert_contains(r.body, "moose_health_status 0\n");
    assert_contains(r.body, "moose_broker_up 1\n");
    free(r.body);
}

/* Runs promtool on REG's exposition; fails the test with promtool's words if it objects. */
static void assert_promtool_accepts(moose_metrics_registry *reg) {
    char path[] = "/tmp/moose-metrics-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    assert_int_equal(moose__metrics_prometheus(reg, out), 0);
    fclose(out);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s > %s.out 2>&1", path, path);
    int rc = system(cmd);
    char outpath[64];
    snprintf(outpath, sizeof outpath, "%s.out", path);
    FILE *report = fopen(outpath, "r");
    char text[4096] = "";
    if (report) {
        size_t n = fread(text, 1, sizeof text - 1, report);
        text[n] = '\0';
        fclose(report);
    }
    unlink(outpath);
    unlink(path);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        fail_msg("promtool check metrics failed (status %d):\n%s", rc, text);
    assert_string_equal(text, "");
}

static void test_promtool_accepts_the_exposition(void **state) {
    fixture *f = *state;
    assert_promtool_accepts(f->reg);
}

static void test_labels_from_user_data(void **state) {
    (void)state;
    char err[128];
    moose_metrics_registry *reg = moose__metrics_registry_new(err, sizeof err);
    moose__component *c = moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "s");
    moose_field_error items[3] = {
        {.path = "caf\xe9", .rule = "unknown_field", .message = "unknown field"},
        {.path = "na\xc3\xafve", .rule = "unknown_field", .message = "unknown field"},
        {.path = "a\\b\"c\nd", .rule = "unknown_field", .message = "unknown field"},
    };
    moose_errors errs = {.items = items, .len = 3, .cap = 3};
    moose__metrics_validated(c, "{}", 2, &errs);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(moose__metrics_prometheus(reg, out), 0);
    fclose(out);
    assert_contains(text, "{stream=\"s\",field=\"caf?\",rule=\"unknown_field\"} 1\n");
    assert_contains(text, "{stream=\"s\",field=\"na\xc3\xafve\",rule=\"unknown_field\"} 1\n");
    assert_contains(text, "{stream=\"s\",field=\"a\\\\b\\\"c\\nd\",rule=\"unknown_field\"} 1\n");
    free(text);
    assert_promtool_accepts(reg);
    moose__metrics_registry_free(reg);
}

static void test_health_endpoint_codes(void **state) {
    fixture *f = *state;
    response r = request(f, "GET", "/health");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.type, "application/json");
    assert_string_equal(r.body, "{\n  \"status\": \"healthy\",\n  \"reasons\": [],\n  \"dropped\": 0\n}\n");
    free(r.body);

    moose__metrics_set_broker_up(f->reg, false, "no broker answers at localhost:9092");
    r = request(f, "GET", "/health");
    assert_int_equal(r.status, 503);
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "unhealthy");
    json_t *reason = json_array_get(json_object_get(doc, "reasons"), 0);
    assert_string_equal(json_string_value(json_object_get(reason, "reason")), "broker_down");
    assert_string_equal(json_string_value(json_object_get(reason, "message")),
                        "Kafka cluster unreachable: no broker answers at localhost:9092");
    json_decref(doc);
    free(r.body);

    moose__metrics_set_broker_up(f->reg, true, NULL);
    r = request(f, "GET", "/health");
    assert_int_equal(r.status, 200);
    free(r.body);

    /* Degraded still answers 200: a load balancer keeps it in. */
    moose__component *k = moose__metrics_find(f->reg, MOOSE_COMPONENT_SINK, "Processed\"Table");
    moose__metrics_set_lag(k, 0, 20000);
    r = request(f, "GET", "/health");
    assert_int_equal(r.status, 200);
    assert_contains(r.body, "\"status\": \"degraded\"");
    free(r.body);
    moose__metrics_set_lag(k, 0, 0);
}

static void test_streams_endpoint(void **state) {
    fixture *f = *state;
    response r = request(f, "GET", "/streams");
    assert_int_equal(r.status, 200);
    json_error_t jerr;
    json_t *doc = json_loads(r.body, 0, &jerr);
    if (doc == NULL)
        fail_msg("invalid JSON: %s\n%s", jerr.text, r.body);
    json_t *s = json_array_get(json_object_get(doc, "streams"), 0);
    assert_string_equal(json_string_value(json_object_get(s, "name")), "raw_stream");
    assert_int_equal(json_integer_value(json_object_get(s, "records_in")), 100);
    assert_int_equal(json_integer_value(json_object_get(s, "invalid")), 5);
    json_t *ack = json_object_get(json_object_get(s, "latency"), "write_ack");
    assert_int_equal(json_integer_value(json_object_get(ack, "count")), 95);
    assert_float_equal(json_real_value(json_object_get(ack, "p99_ms")), 2.0, 1e-9);
    json_t *t = json_array_get(json_object_get(doc, "transforms"), 0);
    json_t *lag = json_object_get(t, "lag");
    assert_int_equal(json_integer_value(json_object_get(lag, "total")), 4);
    assert_int_equal(json_array_size(json_object_get(lag, "partitions")), 2);
    assert_string_equal(json_string_value(json_object_get(t, "health")), "healthy");
    json_t *k = json_array_get(json_object_get(doc, "sinks"), 0);
    assert_string_equal(json_string_value(json_object_get(k, "name")), "Processed\"Table");
    assert_int_equal(json_integer_value(json_object_get(k, "records_out")), 72);
    json_decref(doc);
    free(r.body);
}

static void test_validation_endpoint(void **state) {
    fixture *f = *state;
    /* A sample that is not UTF-8 must not spoil the document. */
    moose__component *t = moose__metrics_find(f->reg, MOOSE_COMPONENT_TRANSFORM, "enrich");
    moose_field_error item = {.path = "name", .rule = "type", .message = "not a string"};
    moose_errors errs = {.items = &item, .len = 1, .cap = 1};
    moose__metrics_validated(t, "{\"name\":\"\xff\xfe\"}", 14, &errs);

    response r = request(f, "GET", "/validation");
    assert_int_equal(r.status, 200);
    json_error_t jerr;
    json_t *doc = json_loads(r.body, 0, &jerr);
    if (doc == NULL)
        fail_msg("invalid JSON: %s\n%s", jerr.text, r.body);
    json_t *s = json_array_get(json_object_get(doc, "streams"), 0);
    assert_int_equal(json_integer_value(json_object_get(s, "checked")), 100);
    assert_int_equal(json_integer_value(json_object_get(s, "passed")), 95);
    assert_int_equal(json_integer_value(json_object_get(s, "failed")), 5);
    json_t *fail0 = json_array_get(json_object_get(s, "failures"), 0);
    assert_string_equal(json_string_value(json_object_get(fail0, "field")), "items[].price");
    assert_string_equal(json_string_value(json_object_get(fail0, "rule")), "range");
    assert_int_equal(json_integer_value(json_object_get(fail0, "count")), 5);
    json_t *sample = json_array_get(json_object_get(s, "samples"), 0);
    assert_string_equal(json_string_value(json_object_get(sample, "record")), "{\"items\":[]}");
    assert_string_equal(json_string_value(json_array_get(json_object_get(sample, "reasons"), 0)),
                        "items[3].price: range: -1 below 0");
    json_t *ts = json_array_get(json_object_get(doc, "transforms"), 0);
    json_t *bad = json_array_get(json_object_get(ts, "samples"), 0);
    assert_string_equal(json_string_value(json_object_get(bad, "record")), "{\"name\":\"??\"}");
    json_decref(doc);
    free(r.body);
}

static void test_other_paths_and_methods(void **state) {
    fixture *f = *state;
    response r = request(f, "GET", "/nope");
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"error\": \"not found; try /metrics, /health, /streams, /validation\"}\n");
    free(r.body);
    r = request(f, "POST", "/metrics");
    assert_int_equal(r.status, 405);
    free(r.body);
    r = request(f, "GET", "/");
    assert_int_equal(r.status, 200);
    assert_contains(r.body, "/metrics     Prometheus text format\n");
    free(r.body);
}

static char *capture(FILE *fp) {
    long n = ftell(fp);
    rewind(fp);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
    return text;
}

static void test_cli_metrics_table(void **state) {
    fixture *f = *state;
    FILE *out = tmpfile(), *err = tmpfile();
    assert_int_equal(moose__cli_metrics(f->addr, false, out, err), 0);
    char *text = capture(out), *errors = capture(err);
    assert_string_equal(errors, "");
    const char *lines[] = {
        "KIND      NAME                           IN        OUT     IN/s    OUT/s FILTERED  INVALID   ERRORS      DLQ      LAG      P99  HEALTH\n",
        "stream    raw_stream                    100         95      0.0      0.0        0        5        0        5        0    2.0ms  healthy\n",
        "transform enrich                         95         72      0.0      0.0       20        1        3        3        4        -  healthy\n",
        "sink      Processed\"Table                72         72      0.0      0.0        0        0        0        0        0        -  healthy\n",
    };
    char want[1024] = "";
    for (size_t i = 0; i < 4; i++)
        strcat(want, lines[i]);
    assert_string_equal(text, want);
    free(text);
    free(errors);
    fclose(out);
    fclose(err);

    out = tmpfile();
    err = tmpfile();
    assert_int_equal(moose__cli_metrics(f->addr, true, out, err), 0);
    text = capture(out);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "streams")), 1);
    json_decref(doc);
    free(text);
    fclose(out);
    fclose(err);
}

static void test_cli_health(void **state) {
    fixture *f = *state;
    FILE *out = tmpfile(), *err = tmpfile();
    assert_int_equal(moose__cli_health(f->addr, false, out, err), 0);
    char *text = capture(out);
    assert_string_equal(text, "healthy\n");
    free(text);
    fclose(out);

    moose__component *k = moose__metrics_find(f->reg, MOOSE_COMPONENT_SINK, "Processed\"Table");
    moose__metrics_sink_failing(k, true, "database is locked");
    /* The metrics table names the failing component. */
    out = tmpfile();
    assert_int_equal(moose__cli_metrics(f->addr, false, out, err), 0);
    text = capture(out);
    assert_non_null(strstr(text, "        0        -  degraded\n"));
    assert_non_null(strstr(text, "        4        -  healthy\n"));
    free(text);
    fclose(out);
    out = tmpfile();
    /* A table down loses nothing (commits wait): degraded, so the exit status is still 0. */
    assert_int_equal(moose__cli_health(f->addr, false, out, err), 0);
    text = capture(out);
    assert_string_equal(text, "degraded\n"
                              "  degraded  sink_failing sink Processed\"Table         table "
                              "inserts failing: database is locked\n");
    free(text);
    fclose(out);
    fclose(err);
    moose__metrics_sink_failing(k, false, NULL);
}

static void test_cli_unreachable(void **state) {
    (void)state;
    FILE *out = tmpfile(), *err = tmpfile();
    /* Port 1 on loopback: nothing listens there. */
    assert_int_equal(moose__cli_metrics("127.0.0.1:1", false, out, err), 2);
    assert_int_equal(moose__cli_health("127.0.0.1:1", false, out, err), 2);
    char *text = capture(err);
    assert_non_null(strstr(text, "error: cannot reach the app at http://127.0.0.1:1/streams: "));
    assert_non_null(strstr(text, "(is it running with --http 127.0.0.1:1?)\n"));
    free(text);
    fclose(out);
    fclose(err);
}

static void test_status_line(void **state) {
    fixture *f = *state;
    char line[256];
    moose__status_format(f->reg, line, sizeof line);
    /*
     * in 100 + 95 + 72, out 95 + 72 + 72; errors: max(5 invalid, 5 dlq) on the stream,
     * max(1 invalid (the validation test's) + 3 failed, 3 dlq) on the transform.
     */
    assert_string_equal(line, "in 0/s out 0/s | total in 267 out 239 | lag 4 | errors 9 dlq 8 "
                              "| healthy");

    /* Not a terminal: plain log lines through the logger, the last one written on stop. */
    FILE *out = tmpfile(), *log = tmpfile();
    moose__log_set_output(log);
    moose__status *st = moose__status_start(f->reg, out, 3600 * 1000);
    assert_non_null(st);
    moose__status_stop(st);
    moose__log_set_output(NULL);
    assert_int_equal(ftell(out), 0);
    char *text = capture(log);
    fclose(log);
    const char *rest = strstr(text, "Z info status running in_per_s=0.0 out_per_s=0.0 "
                                    "records_in=267 records_out=239 lag=4 errors=9 dlq=8 "
                                    "health=healthy\n");
    assert_non_null(rest);
    assert_int_equal(rest - text, 23); /* 2026-11-27T15:40:01.123 */
    assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text)); /* one line */
    free(text);
    fclose(out);
}

static void test_status_line_on_a_terminal(void **state) {
    fixture *f = *state;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    FILE *tty = fopen(ptsname(master), "w");
    assert_non_null(tty);
    moose__status *st = moose__status_start(f->reg, tty, 3600 * 1000);
    assert_non_null(st);
    moose__status_stop(st);
    fclose(tty);
    /* Everything written is buffered in the terminal; once drained, read() fails (EIO). */
    char got[512];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof got - 1 && (n = read(master, got + len, sizeof got - 1 - len)) > 0)
        len += (size_t)n;
    close(master);
    got[len] = '\0';
    char line[256], want[300];
    moose__status_format(f->reg, line, sizeof line);
    /* Back to the line's start, erase it, draw; the terminal adds \r to the final newline. */
    snprintf(want, sizeof want, "\r\033[K%s\r\n", line);
    assert_string_equal(got, want);
}

#define T(fn) cmocka_unit_test(fn)

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        T(test_port_zero_picks_a_port),   T(test_bad_addresses_are_refused),
        T(test_metrics_endpoint),         T(test_promtool_accepts_the_exposition),
        T(test_labels_from_user_data),
        T(test_health_endpoint_codes),    T(test_streams_endpoint),
        T(test_validation_endpoint),      T(test_other_paths_and_methods),
        T(test_cli_metrics_table),        T(test_cli_health),
        T(test_cli_unreachable),          T(test_status_line),
        T(test_status_line_on_a_terminal),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
