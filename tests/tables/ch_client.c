#include "ch_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct body {
    char *data;
    size_t len;
} body;

static size_t on_data(char *data, size_t size, size_t nmemb, void *opaque) {
    body *b = opaque;
    char *grown = realloc(b->data, b->len + size * nmemb + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, data, size * nmemb);
    b->data = grown;
    b->len += size * nmemb;
    b->data[b->len] = '\0';
    return size * nmemb;
}

const char *ch_address(void) {
    return getenv("MOOSE_TEST_CLICKHOUSE");
}

char *ch_run(const char *sql, long *status) {
    char url[256];
    snprintf(url, sizeof url, "http://%s/", ch_address());
    CURL *c = curl_easy_init();
    assert_non_null(c);
    body b = {calloc(1, 1), 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, sql);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s: %s", url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return b.data;
}

char *ch_ok(const char *sql) {
    long status = 0;
    char *out = ch_run(sql, &status);
    if (status != 200)
        fail_msg("%s -> HTTP %ld: %s", sql, status, out);
    return out;
}
