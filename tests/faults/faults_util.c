#include "faults_util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void faults_order_id(char *out, size_t out_size, int64_t i) {
    snprintf(out, out_size, "k%05lld", (long long)i);
}

bool faults_is_filtered(int64_t i) { return i % 10 == 9; }
bool faults_is_refused(int64_t i) { return i % 10 == 8; }

int64_t faults_expected_rows(int64_t n) {
    int64_t rows = 0;
    for (int64_t i = 0; i < n; i++)
        rows += !faults_is_filtered(i) && !faults_is_refused(i);
    return rows;
}

int64_t faults_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void faults_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static sqlite3 *open_db(const char *db) {
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h, 2000);
    return h;
}

int64_t faults_table_count(const char *db) {
    sqlite3 *h = open_db(db);
    if (!h)
        return -1;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(h, "SELECT COUNT(*) FROM \"DeliveryTable\"", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

int faults_table_has(const char *db, const char *id) {
    sqlite3 *h = open_db(db);
    if (!h)
        return -1;
    sqlite3_stmt *st = NULL;
    int found = -1;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM \"DeliveryTable\" WHERE id = ?", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return found;
}

int64_t faults_wait_rows(const char *db, int64_t want, int timeout_ms) {
    int64_t deadline = faults_now_ms() + timeout_ms;
    int64_t n;
    while ((n = faults_table_count(db)) < want && faults_now_ms() < deadline)
        faults_sleep_ms(100);
    return n;
}

bool faults_table_exact(const char *db, int64_t n, char *why, size_t why_size) {
    sqlite3 *h = open_db(db);
    if (!h) {
        snprintf(why, why_size, "cannot open %s", db);
        return false;
    }
    sqlite3_stmt *st = NULL;
    bool ok = true;
    if (sqlite3_prepare_v2(h,
                           "SELECT id, amount, doubled FROM \"DeliveryTable\" ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, why_size, "%s: %s", db, sqlite3_errmsg(h));
        sqlite3_close(h);
        return false;
    }
    int64_t i = 0;
    for (;;) {
        while (i < n && (faults_is_filtered(i) || faults_is_refused(i)))
            i++;
        int rc = sqlite3_step(st);
        char want[32];
        faults_order_id(want, sizeof want, i);
        if (rc != SQLITE_ROW) {
            if (i < n) {
                snprintf(why, why_size, "%s is missing from the table (%s)", want,
                         rc == SQLITE_DONE ? "no more rows" : sqlite3_errmsg(h));
                ok = false;
            }
            break;
        }
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int64_t amount = sqlite3_column_int64(st, 1), doubled = sqlite3_column_int64(st, 2);
        if (i >= n || !id || strcmp(id, want) != 0 || amount != i || doubled != 2 * i) {
            snprintf(why, why_size, "row %s|%lld|%lld where %s|%lld|%lld was expected",
                     id ? id : "(null)", (long long)amount, (long long)doubled,
                     i < n ? want : "no row", (long long)i, (long long)(2 * i));
            ok = false;
            break;
        }
        i++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return ok;
}
