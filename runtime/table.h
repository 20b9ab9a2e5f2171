/*
 * Table delivery, independent of Kafka: open a destination table by URL,
 * make sure it exists and fits the model, and insert batches of decoded
 * records idempotently by their Key. A batch the table rejects is bisected so
 * that only the rows the table refuses come back (with the table's own
 * message) for the dead letter queue; everything else lands.
 *
 * URLs:  sqlite:PATH                    (the default is sqlite:moose.db)
 *        clickhouse://[USER[:PASS]@]HOST[:PORT][/DB]
 *
 * One moose__table is used by one thread at a time; open one per sink worker.
 */
#ifndef MOOSE__TABLE_H
#define MOOSE__TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moose/schema.h"

#define MOOSE__TABLES_DEFAULT_URL "sqlite:moose.db"

/* Room for a server's message about one rejected row. */
#define MOOSE__TABLE_MESSAGE_MAX 512

typedef struct moose__table moose__table;

/* A row the table refused: its index in the batch and the table's words. */
typedef struct moose__table_reject {
    size_t index;
    char message[MOOSE__TABLE_MESSAGE_MAX];
} moose__table_reject;

typedef struct moose__table_rejects {
    moose__table_reject *items;
    size_t len, cap;
} moose__table_rejects;

void moose__table_rejects_init(moose__table_rejects *rejects);
void moose__table_rejects_clear(moose__table_rejects *rejects);
void moose__table_rejects_free(moose__table_rejects *rejects);

/* Where table messages go; NULL means the runtime's log (log.h). LEVEL is "info", "warn" or
 * "error". */
typedef void (*moose__table_log_fn)(void *opaque, const char *level, const char *message);

typedef struct moose__table_options {
    moose__table_log_fn log;
    void *log_opaque;
    int connect_timeout_ms; /* 0: 2000 */
    int request_timeout_ms; /* 0: 120000 */
} moose__table_options;

/*
 * Opens DESC's table at URL (NULL: the default), creating it from the DDL when
 * it is missing and adding new optional columns (said in the log). OPTIONS may
 * be NULL. Returns 0 with *OUT set, or:
 *   MOOSE_EINVAL      the URL is malformed or names an unknown kind of store;
 *   MOOSE_ETABLEDOWN  the store cannot be reached now (worth retrying);
 *   MOOSE_ESCHEMA     the existing table does not fit the model (ERRSTR names
 *                     the difference);
 *   MOOSE_ENOMEM.
 * ERRSTR never contains a password.
 */
int moose__table_open(const char *url, const moose_table_desc *desc,
                      const moose__table_options *options, moose__table **out, char *errstr,
                      size_t errstr_size);

/* Accepts NULL. */
void moose__table_close(moose__table *table);

/*
 * Inserts N records (each a pointer to DESC's model struct) as one batch,
 * replacing rows with the same Key. Rows the table refuses are bisected out
 * and appended to REJECTS; the others are stored. Returns:
 *   0                 every row is stored or listed in REJECTS;
 *   MOOSE_ETABLEDOWN  the store is unreachable or refused for a reason that
 *                     is not about the rows: retry the whole batch later
 *                     (some rows may already be stored: inserting is idempotent);
 *   MOOSE_ENOMEM.
 */
int moose__table_insert(moose__table *table, const void *const *recs, size_t n,
                        moose__table_rejects *rejects, char *errstr, size_t errstr_size);

/* The URL with any password replaced by "***": safe for logs. */
const char *moose__table_display_url(const moose__table *table);

/* "sqlite" or "clickhouse". */
const char *moose__table_kind(const moose__table *table);

/* Counters since open (one thread: no locking needed by the owner). */
typedef struct moose__table_stats {
    uint64_t batches;       /* insert requests sent to the store, bisection halves included */
    uint64_t rows_stored;   /* rows accepted by the store */
    uint64_t rows_rejected; /* rows isolated as poison */
    uint64_t bisections;    /* batches split to isolate a rejected row */
} moose__table_stats;

void moose__table_get_stats(const moose__table *table, moose__table_stats *stats);

#endif
