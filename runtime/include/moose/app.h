/*
 * An app: one schema's streams, transforms and table sinks, running against a
 * Kafka cluster (or the embedded one) and a table store.
 *
 * Generated headers wrap moose_write() in a typed function per stream
 * (`raw_stream_write(app, &rec, &errs)`), so a RawEvent cannot be written to a
 * ProcessedEvent stream: the compiler refuses.
 */
#ifndef MOOSE_APP_H
#define MOOSE_APP_H

#include <stddef.h>

#include "moose/codec.h"
#include "moose/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct moose_app moose_app;

typedef struct moose_config {
    const char *brokers;      /* "embedded" (default) or a bootstrap list */
    const char *tables;       /* "sqlite:moose.db" (default) or "clickhouse://..." */
    const char *const *kafka_props; /* "key=value" pairs passed to librdkafka, NULL-terminated */
    const char *http;         /* "127.0.0.1:PORT" for /metrics, /health; NULL: off */
    const char *log_level;    /* "debug", "info" (default), "warn", "error" */
    size_t max_record_bytes;  /* longest record accepted from a file or a topic (0: 1 MiB) */
    unsigned max_depth;       /* deepest JSON nesting accepted in a record, the record's own
                                 object included (0: 64) */
} moose_config;

/* Connects (or starts / finds the embedded broker). NULL with ERRSTR filled on failure. */
moose_app *moose_app_open(const moose_app_desc *desc, const moose_config *cfg, char *errstr,
                          size_t errstr_size);

/* Flushes what was written, stops workers, commits, frees. Accepts NULL. */
void moose_app_close(moose_app *app);

/*
 * Validates, encodes and produces REC to STREAM (the Key as the message key)
 * and waits for the broker's acknowledgement. Returns 0, MOOSE_EVALIDATION
 * (ERRS lists every failing field), MOOSE_ETRANSPORT, MOOSE_EQUEUEFULL,
 * MOOSE_ECLOSED or MOOSE_EDELIVERY. ERRS may be NULL.
 */
int moose_write(moose_app *app, const moose_stream_desc *stream, const void *rec,
                moose_errors *errs);

/* Called once per asynchronous write with its outcome (from a runtime thread). */
typedef void (*moose_write_cb)(int status, const moose_errors *errs, void *opaque);

/*
 * Like moose_write() but returns once the record is queued; CB reports the
 * acknowledgement. Validation errors are returned at once (and CB is not called).
 */
int moose_write_async(moose_app *app, const moose_stream_desc *stream, const void *rec,
                      moose_errors *errs, moose_write_cb cb, void *opaque);

/* Waits until every queued write was acknowledged or TIMEOUT_MS passed. */
int moose_app_flush(moose_app *app, int timeout_ms);

/*
 * Starts every transform's workers (what `APP run` does) and returns; they
 * run until moose_app_stop() or moose_app_close(). 0, or a negative code with
 * ERRSTR filled.
 */
int moose_app_start(moose_app *app, char *errstr, size_t errstr_size);

/* Stops fetching, finishes the records in flight, commits, and returns. Accepts NULL. */
void moose_app_stop(moose_app *app);

/* The app command line (`APP run`, `APP write`, ...): what moose_add_app()'s main calls. */
int moose_main(const moose_app_desc *desc, int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
