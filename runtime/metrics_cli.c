/*
 * `APP metrics [--json]` and `APP health`: read a running app's HTTP
 * endpoint and print what a person takes in at a glance.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

typedef struct body {
    char *data;
    size_t len;
    bool failed;
} body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *opaque) {
    body *b = opaque;
    size_t n = size * nmemb;
    char *data = realloc(b->data, b->len + n + 1);
    if (data == NULL) {
        b->failed = true;
        return 0;
    }
    memcpy(data + b->len, ptr, n);
    b->data = data;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* GETs http://ADDR/PATH into B; the HTTP status, or -1 with a message on ERR. */
static long fetch(const char *addr, const char *path, body *b, FILE *err) {
    char url[512];
    snprintf(url, sizeof url, "http://%s%s", addr, path);
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        fprintf(err, "error: cannot reach %s: libcurl failed to start\n", url);
        return -1;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*"); /* the app is local: never via a proxy */
    CURLcode rc = curl_easy_perform(curl);
    long status = -1;
    if (rc == CURLE_OK && !b->failed) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    } else {
        fprintf(err, "error: cannot reach the app at %s: %s (is it running with --http %s?)\n",
                url, b->failed ? "out of memory" : curl_err[0] ? curl_err : curl_easy_strerror(rc),
                addr);
    }
    curl_easy_cleanup(curl);
    return status;
}

static uint64_t num(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static const char *text(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "?";
}

static double real(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* "1.2ms", "850us", "3.4s": the p99 that matters for a component's kind. */
static void format_ms(char *out, size_t size, double ms) {
    if (ms <= 0)
        snprintf(out, size, "-");
    else if (ms < 1)
        snprintf(out, size, "%.0fus", ms * 1000);
    else if (ms < 1000)
        snprintf(out, size, "%.1fms", ms);
    else
        snprintf(out, size, "%.1fs", ms / 1000);
}

static void print_group(json_t *root, const char *group, const char *kind, const char *latency,
                        FILE *out) {
    json_t *items = json_object_get(root, group), *c;
    size_t i;
    json_array_foreach(items, i, c) {
        const char *name = text(c, "name");
        json_t *rates = json_object_get(c, "rates");
        json_t *lat = json_object_get(json_object_get(c, "latency"), latency);
        char p99[16];
        format_ms(p99, sizeof p99, real(lat, "p99_ms"));
        fprintf(out,
                "%-9s %-22s %10" PRIu64 " %10" PRIu64 " %8.1f %8.1f %8" PRIu64 " %8" PRIu64
                " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8s  %s\n",
                kind, name, num(c, "records_in"), num(c, "records_out"),
                real(rates, "in_per_s"), real(rates, "out_per_s"), num(c, "filtered"),
                num(c, "invalid"), num(c, "transform_errors"), num(c, "dlq"),
                num(json_object_get(c, "lag"), "total"), p99, text(c, "health"));
    }
}

int moose__cli_metrics(const char *http_addr, bool json, FILE *out, FILE *err) {
    body b = {0};
    long status = fetch(http_addr, "/streams", &b, err);
    int exit_status = 2;
    if (status == 200 && json) {
        fputs(b.data ? b.data : "", out);
        exit_status = 0;
    } else if (status == 200) {
        json_error_t jerr;
        json_t *root = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
        if (root == NULL) {
            fprintf(err, "error: %s/streams answered with invalid JSON: %s\n", http_addr,
                    jerr.text);
        } else {
            fprintf(out, "%-9s %-22s %10s %10s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n", "KIND",
                    "NAME", "IN", "OUT", "IN/s", "OUT/s", "FILTERED", "INVALID", "ERRORS", "DLQ",
                    "LAG", "P99", "HEALTH");
            print_group(root, "streams", "stream", "write_ack", out);
            print_group(root, "transforms", "transform", "transform", out);
            print_group(root, "sinks", "sink", "end_to_end", out);
            json_decref(root);
            exit_status = 0;
        }
    } else if (status > 0) {
        fprintf(err, "error: %s/streams answered HTTP %ld\n", http_addr, status);
    }
    free(b.data);
    return exit_status;
}

int moose__cli_health(const char *http_addr, bool json, FILE *out, FILE *err) {
    body b = {0};
    long status = fetch(http_addr, "/health", &b, err);
    if (status != 200 && status != 503) {
        if (status > 0)
            fprintf(err, "error: %s/health answered HTTP %ld\n", http_addr, status);
        free(b.data);
        return 2;
    }
    int exit_status = status == 503 ? 1 : 0;
    if (json) {
        fputs(b.data ? b.data : "", out);
        free(b.data);
        return exit_status;
    }
    json_error_t jerr;
    json_t *root = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
    free(b.data);
    if (root == NULL) {
        fprintf(err, "error: %s/health answered with invalid JSON: %s\n", http_addr, jerr.text);
        return 2;
    }
    fprintf(out, "%s\n", text(root, "status"));
    json_t *r;
    size_t i;
    json_array_foreach(json_object_get(root, "reasons"), i, r) {
        const char *kind = json_string_value(json_object_get(r, "kind"));
        const char *component = json_string_value(json_object_get(r, "component"));
        char who[96] = "broker";
        if (component)
            snprintf(who, sizeof who, "%s %s", kind ? kind : "", component);
        fprintf(out, "  %-9s %-12s %-28s %s\n", text(r, "severity"), text(r, "reason"), who,
                text(r, "message"));
    }
    if (num(root, "dropped"))
        fprintf(out, "  (%" PRIu64 " more reasons not shown)\n", num(root, "dropped"));
    json_decref(root);
    return exit_status;
}
