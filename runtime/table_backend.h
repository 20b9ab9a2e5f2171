/*
 * What a kind of table store (SQLite, ClickHouse) implements for table.c,
 * which owns what is common: URLs, bisection of rejected batches, counters.
 */
#ifndef MOOSE__TABLE_BACKEND_H
#define MOOSE__TABLE_BACKEND_H

#include <stdarg.h>

#include "table.h"

typedef struct moose__table_url {
    char scheme[16];
    char path[1024]; /* sqlite: the file */
    char user[128];  /* clickhouse: decoded from the URL */
    char password[256];
    char host[256];
    int port;
    char database[128];
    char display[1024]; /* the URL with the password replaced by *** */
} moose__table_url;

/* Parses URL; EINVAL with ERRSTR naming the problem (never the password). */
int moose__table_url_parse(const char *url, moose__table_url *out, char *errstr,
                           size_t errstr_size);

typedef struct moose__table_backend {
    const char *kind;
    int (*open)(moose__table *table, const moose__table_url *url, char *errstr, size_t errstr_size);
    /*
     * Stores RECS[0..N) as one request. Returns 0; MOOSE_ETABLEDOWN; MOOSE_ENOMEM;
     * or MOOSE_ETABLE when the store refused the request because of its rows,
     * with the store's message in ERRSTR and *BAD_ROW set to the refused row
     * when the store names it (SIZE_MAX otherwise). A store that learns each
     * row's fate by itself (SQLite) may instead return 0 and append the refused
     * rows to REJECTS, their indexes offset by BASE.
     */
    int (*insert)(moose__table *table, const void *const *recs, size_t n, size_t base,
                  moose__table_rejects *rejects, size_t *bad_row, char *errstr, size_t errstr_size);
    void (*close)(moose__table *table);
} moose__table_backend;

struct moose__table {
    const moose__table_backend *backend;
    const moose_table_desc *desc;
    const moose_model_desc *model;
    moose__table_options options;
    moose__table_stats stats;
    char display_url[1024];
    void *impl;
};

extern const moose__table_backend moose__sqlite_backend;
extern const moose__table_backend moose__clickhouse_backend;

/* Logs through the table's options (stderr by default). */
void moose__table_log(const moose__table *table, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf into ERRSTR that tolerates a NULL or empty buffer. */
void moose__table_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool moose__table_rejects_add(moose__table_rejects *rejects, size_t index, const char *message);

#endif
