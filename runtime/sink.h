/*
 * A table sink: one consumer group per destination table ("<app>.table.<name>",
 * see moose__group_for_table) reading the topics of the streams that deliver
 * into it, batching by rows, bytes and time, inserting each batch into the
 * table (table.h), then committing its offsets. At least once, and idempotent
 * by Key, so a replay after a crash leaves no duplicates.
 *
 *   - A row the table refuses goes to its stream's DLQ as TableError with the
 *     table's message (acknowledged before the batch is committed); a record
 *     that does not decode or validate goes there as ValidationError.
 *   - When the table is down (unreachable, or refusing for reasons not about
 *     the rows) the sink keeps the batch, commits nothing, fetches nothing more,
 *     reports itself failing (health: degraded) and retries with back-off
 *     (100 ms doubling to 5 s) until the table is back; then it goes on by itself.
 *     The embedded broker's back-pressure (kafka.h) then holds the writers.
 *   - Stopping inserts and commits what is held when the table is up, and
 *     otherwise leaves it uncommitted for the next run: nothing is lost.
 *
 * In embedded mode a batch also ends once it holds half of what the writers
 * of one of its partitions may get ahead of the sink's commit
 * (moose.backpressure.max.*, kafka.h): a larger batch could only end by its
 * timer, the writers that would fill it waiting on it meanwhile.
 *
 * Two threads per sink (sink.c). The engine starts one per destination table with
 * moose__sink_start() and stops it with moose__sink_stop().
 */
#ifndef MOOSE__SINK_H
#define MOOSE__SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka.h"
#include "metrics.h"
#include "moose/schema.h"

/* Defaults when neither the schema nor the run time says otherwise. */
#define MOOSE__SINK_DEFAULT_BATCH_ROWS 100000
#define MOOSE__SINK_DEFAULT_BATCH_BYTES (64 * 1024 * 1024)
#define MOOSE__SINK_DEFAULT_BATCH_MS 1000

typedef struct moose__sink_config {
    moose__kafka *kafka;           /* required */
    const moose_app_desc *app;     /* required: names the consumer group */
    const moose_table_desc *table; /* required */
    /* The streams whose destination is TABLE (their topics are read; DLQ entries go to theirs). */
    const moose_stream_desc *const *streams;
    size_t nstreams;
    const char *tables_url; /* NULL: sqlite:moose.db */
    /* Run-time overrides; 0 takes the table's batch_* from the schema, then the defaults. */
    int64_t batch_rows, batch_bytes, batch_ms;
    moose__producer *dlq_producer; /* NULL: the sink makes its own */
    moose__component *metrics;     /* the sink's component (NULL: no metrics) */
    const char *group;             /* NULL: moose__group_for_table() */
    size_t max_record_bytes;       /* longest record read (0: 1 MiB) */
    unsigned max_depth;            /* deepest nesting in a record (0: 64) */
} moose__sink_config;

typedef struct moose__sink moose__sink;

/*
 * Opens the table (creating it, checking its columns) and the consumer, then
 * starts the sink's thread. NULL with ERRSTR filled when the table does not
 * fit the model (MOOSE_ESCHEMA), the URL is wrong, or Kafka refuses; a table
 * that is only unreachable now is not an error: the sink retries it.
 */
moose__sink *moose__sink_start(const moose__sink_config *cfg, char *errstr, size_t errstr_size);

/* Stops fetching, delivers and commits what is held (when the table is up), leaves the group,
 * frees. NULL ok. */
void moose__sink_stop(moose__sink *sink);

typedef struct moose__sink_stats {
    uint64_t records_in;    /* records fetched */
    uint64_t rows_stored;   /* rows the table accepted */
    uint64_t rows_rejected; /* rows the table refused (sent to the DLQ as TableError) */
    uint64_t invalid;       /* records that did not decode or validate (DLQ, ValidationError) */
    uint64_t batches;       /* batches committed */
    uint64_t retries;       /* inserts retried because the table was down */
    bool table_down;        /* the table refuses now */
    char last_error[512];   /* the last reason the table was down ("" if never) */
} moose__sink_stats;

void moose__sink_get_stats(moose__sink *sink, moose__sink_stats *stats);

/* ---- every table of an app at once (what `APP run` needs) ---- */

typedef struct moose__sinks moose__sinks;

typedef struct moose__sinks_config {
    moose__kafka *kafka;       /* required */
    const moose_app_desc *app; /* required */
    const char *tables_url;    /* NULL: sqlite:moose.db */
    /*
     * Run-time overrides for every table; 0 takes MOOSE_BATCH_ROWS, MOOSE_BATCH_BYTES,
     * MOOSE_BATCH_MS from the environment, then each table's batch_* from the schema,
     * then the defaults above. A malformed variable is an error at start.
     */
    int64_t batch_rows, batch_bytes, batch_ms;
    moose__producer *dlq_producer; /* shared by the sinks; NULL: each makes its own */
    moose_metrics_registry
        *metrics;            /* each sink reports as MOOSE_COMPONENT_SINK <table>; may be NULL */
    size_t max_record_bytes; /* longest record read (0: 1 MiB) */
    unsigned max_depth;      /* deepest nesting in a record (0: 64) */
} moose__sinks_config;

/*
 * Starts one sink for every table that is some stream's destination (reading
 * all of those streams). NULL with ERRSTR filled when one cannot start (the
 * ones already started are stopped); an app without destination tables gets
 * an empty, valid set.
 */
moose__sinks *moose__sinks_start(const moose__sinks_config *cfg, char *errstr, size_t errstr_size);
/* Stops and frees every sink (each delivers and commits what it holds). NULL ok. */
void moose__sinks_stop(moose__sinks *sinks);
size_t moose__sinks_count(const moose__sinks *sinks);
moose__sink *moose__sinks_get(moose__sinks *sinks, size_t i);

#endif
