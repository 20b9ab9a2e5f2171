#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "moose/error.h"
#include "table_backend.h"

void moose__table_errf(char *errstr, size_t errstr_size, const char *fmt, ...) {
    if (!errstr || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

void moose__table_log(const moose__table *table, const char *level, const char *fmt, ...) {
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (table->options.log) {
        table->options.log(table->options.log_opaque, level, message);
        return;
    }
    moose__log_level lvl = strcmp(level, "error") == 0  ? MOOSE__LOG_ERROR
                           : strcmp(level, "warn") == 0 ? MOOSE__LOG_WARN
                                                        : MOOSE__LOG_INFO;
    /* Warnings are per rejected row: rate-limited, so a flood cannot fill the disk. */
    moose__log(lvl, "table", lvl == MOOSE__LOG_WARN ? "reject" : NULL, "%s", message);
}

void moose__table_rejects_init(moose__table_rejects *rejects) {
    rejects->items = NULL;
    rejects->len = rejects->cap = 0;
}

void moose__table_rejects_clear(moose__table_rejects *rejects) {
    rejects->len = 0;
}

void moose__table_rejects_free(moose__table_rejects *rejects) {
    free(rejects->items);
    moose__table_rejects_init(rejects);
}

bool moose__table_rejects_add(moose__table_rejects *rejects, size_t index, const char *message) {
    if (rejects->len == rejects->cap) {
        size_t cap = rejects->cap ? rejects->cap * 2 : 8;
        moose__table_reject *items = realloc(rejects->items, cap * sizeof *items);
        if (!items)
            return false;
        rejects->items = items;
        rejects->cap = cap;
    }
    moose__table_reject *r = &rejects->items[rejects->len++];
    r->index = index;
    snprintf(r->message, sizeof r->message, "%s", message);
    return true;
}

int moose__table_open(const char *url, const moose_table_desc *desc,
                      const moose__table_options *options, moose__table **out, char *errstr,
                      size_t errstr_size) {
    *out = NULL;
    if (!desc || !desc->name || !desc->model) {
        moose__table_errf(errstr, errstr_size,
                          "table: a table description with a name and a "
                          "model is needed");
        return MOOSE_EINVAL;
    }
    moose__table_url parsed;
    int rc = moose__table_url_parse(url, &parsed, errstr, errstr_size);
    if (rc)
        return rc;
    const moose__table_backend *backend =
        strcmp(parsed.scheme, "sqlite") == 0 ? &moose__sqlite_backend : &moose__clickhouse_backend;
    moose__table *table = calloc(1, sizeof *table);
    if (!table) {
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", desc->name);
        return MOOSE_ENOMEM;
    }
    table->backend = backend;
    table->desc = desc;
    table->model = desc->model;
    if (options)
        table->options = *options;
    if (table->options.connect_timeout_ms <= 0)
        table->options.connect_timeout_ms = 2000;
    if (table->options.request_timeout_ms <= 0)
        table->options.request_timeout_ms = 120000;
    snprintf(table->display_url, sizeof table->display_url, "%s", parsed.display);
    rc = backend->open(table, &parsed, errstr, errstr_size);
    /* The password lived on the stack only; do not leave it there. */
    memset(parsed.password, 0, sizeof parsed.password);
    if (rc) {
        free(table);
        return rc;
    }
    *out = table;
    return MOOSE_OK;
}

void moose__table_close(moose__table *table) {
    if (!table)
        return;
    table->backend->close(table);
    free(table);
}

const char *moose__table_display_url(const moose__table *table) {
    return table->display_url;
}

const char *moose__table_kind(const moose__table *table) {
    return table->backend->kind;
}

void moose__table_get_stats(const moose__table *table, moose__table_stats *stats) {
    *stats = table->stats;
}

/*
 * Stores RECS[0..N) (batch positions BASE..), isolating refused rows: when the
 * store names the refused row it goes straight to REJECTS, otherwise the range
 * is halved until each refused row stands alone. A batch with k poison rows
 * costs O(k log n) requests, and the good rows of every half still land.
 */
static int insert_range(moose__table *table, const void *const *recs, size_t n, size_t base,
                        moose__table_rejects *rejects, char *errstr, size_t errstr_size) {
    if (n == 0)
        return MOOSE_OK;
    char message[MOOSE__TABLE_MESSAGE_MAX] = "";
    size_t bad_row = SIZE_MAX;
    size_t rejected_before = rejects->len;
    table->stats.batches++;
    int rc =
        table->backend->insert(table, recs, n, base, rejects, &bad_row, message, sizeof message);
    if (rc == MOOSE_OK) {
        size_t refused = rejects->len - rejected_before;
        table->stats.rows_stored += n - refused;
        table->stats.rows_rejected += refused;
        return MOOSE_OK;
    }
    if (rc != MOOSE_ETABLE) {
        moose__table_errf(errstr, errstr_size, "%s", message);
        return rc;
    }
    if (n == 1 || bad_row < n) {
        size_t row = n == 1 ? 0 : bad_row;
        if (!moose__table_rejects_add(rejects, base + row, message)) {
            moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
            return MOOSE_ENOMEM;
        }
        table->stats.rows_rejected++;
        moose__table_log(table, "warn", "table %s (%s): row %zu of the batch rejected: %s",
                         table->desc->name, table->display_url, base + row, message);
        if (n == 1)
            return MOOSE_OK;
        rc = insert_range(table, recs, row, base, rejects, errstr, errstr_size);
        if (rc)
            return rc;
        return insert_range(table, recs + row + 1, n - row - 1, base + row + 1, rejects, errstr,
                            errstr_size);
    }
    table->stats.bisections++;
    size_t half = n / 2;
    rc = insert_range(table, recs, half, base, rejects, errstr, errstr_size);
    if (rc)
        return rc;
    return insert_range(table, recs + half, n - half, base + half, rejects, errstr, errstr_size);
}

int moose__table_insert(moose__table *table, const void *const *recs, size_t n,
                        moose__table_rejects *rejects, char *errstr, size_t errstr_size) {
    if (!table || (!recs && n) || !rejects) {
        moose__table_errf(errstr, errstr_size, "table insert: missing table, rows or reject list");
        return MOOSE_EINVAL;
    }
    size_t rejected_before = rejects->len;
    int rc = insert_range(table, recs, n, 0, rejects, errstr, errstr_size);
    /* The whole batch will be retried: rows refused so far will be refused again. */
    if (rc)
        rejects->len = rejected_before;
    return rc;
}
