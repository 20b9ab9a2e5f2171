/*
 * The app object: one schema's connection to Kafka, its producer for writes
 * and dead letters, its metrics and its running transforms. Shared by
 * app.c, write.c, transform_worker.c and the command line.
 */
#ifndef MOOSE__APP_INTERNAL_H
#define MOOSE__APP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "dlq.h"
#include "kafka.h"
#include "metrics.h"
#include "moose/app.h"

typedef struct moose__transform_runner moose__transform_runner;

struct moose_app {
    const moose_app_desc *desc;
    moose_config cfg;    /* strings owned by the app (copied at open) */
    char **kafka_props;  /* cfg.kafka_props points here */
    moose__kafka *kafka;
    moose__producer *producer; /* writes and dead letters from writes */
    moose_metrics_registry *metrics;
    moose__component **stream_metrics; /* per desc->streams index; entries may be NULL */
    moose__http *http;
    _Atomic bool closed;
    /* APP run --batch-rows / --batch-bytes / --batch-ms for every sink; 0: not given. */
    int64_t sink_batch_rows, sink_batch_bytes, sink_batch_ms;

    pthread_mutex_t lock; /* guards what follows */
    moose__transform_runner **runners; /* one per transform while started */
    size_t nrunners;
    struct moose__sinks *sinks; /* one table sink per destination table while started */
    bool started;
};

/* How "embedded" is resolved; moose_app_open() uses FIND_OR_START. */
moose_app *moose__app_open(const moose_app_desc *desc, const moose_config *cfg,
                           moose__embedded_mode mode, const char *prog, char *errstr,
                           size_t errstr_size);

/*
 * The delivery report of moose_write_async() (write.c): the app's producer
 * shares it, so an asynchronous write allocates its report once, not twice.
 */
void moose__write_async_delivered(int status, int32_t partition, int64_t offset,
                                  const char *message, void *opaque);

/* The index of STREAM in the app's descriptor, or -1 when it is not one of its streams. */
int moose__app_stream_index(const moose_app *app, const moose_stream_desc *stream);

/*
 * Keeps a record refused at write time in STREAM's DLQ (synchronously):
 * ORIGINAL is what the caller offered (the JSON line, or the encoded
 * record). Returns 0 or a negative code with ERRSTR filled.
 */
int moose__app_dead_letter(moose_app *app, const moose_stream_desc *stream,
                           moose__dlq_error_type type, const char *message,
                           const moose_errors *errs, const void *key, size_t key_len,
                           const void *original, size_t original_len, char *errstr,
                           size_t errstr_size);

/*
 * Tells PRODUCER which consumer groups read each stream's topic (ONLY: just
 * that stream's; NULL: every stream), so its sends never run ahead of them.
 */
int moose__app_watch_readers(moose_app *app, moose__producer *producer,
                             const moose_stream_desc *only, char *errstr, size_t errstr_size);

/* ---- transforms (transform_worker.c) ---- */

/* Starts T's workers (parallelism of its source stream). NULL with ERRSTR filled. */
moose__transform_runner *moose__transform_start(moose_app *app, const moose_transform_desc *t,
                                                int workers, char *errstr, size_t errstr_size);
/* Asks the workers to stop fetching (safe from any thread, no waiting). */
void moose__transform_request_stop(moose__transform_runner *r);
/* Waits until they drained what is in flight and committed, then frees. NULL ok. */
void moose__transform_join(moose__transform_runner *r);
/* How many of R's workers hold partitions now (a benchmark waits for all before it times). */
int moose__transform_workers_assigned(moose__transform_runner *r);

#endif
