/* Starting and stopping the sinks of a whole app: one per destination table. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sink.h"

/*
 * A run-time override from the environment (MOOSE_BATCH_ROWS, ...): 0 when
 * unset; -1 (ERRSTR filled) when it is not a positive integer.
 */
static int64_t env_override(const char *name, char *errstr, size_t errstr_size) {
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n <= 0) {
        snprintf(errstr, errstr_size, "%s=%s: a positive whole number is needed", name, v);
        return -1;
    }
    return n;
}

struct moose__sinks {
    moose__sink **items;
    size_t len;
};

static void *stop_one(void *sink) {
    moose__sink_stop(sink);
    return NULL;
}

void moose__sinks_stop(moose__sinks *sinks) {
    if (!sinks)
        return;
    /*
     * Each sink stops in a thread of its own: its last delivery, its commit
     * and its consumer's leaving the group each wait for the broker (up to
     * seconds when it is gone), and those waits overlap instead of adding up.
     */
    pthread_t *threads = calloc(sinks->len ? sinks->len : 1, sizeof *threads);
    bool *started = calloc(sinks->len ? sinks->len : 1, sizeof *started);
    for (size_t i = 0; i < sinks->len; i++) {
        if (!sinks->items[i])
            continue;
        bool own = threads && started &&
                   pthread_create(&threads[i], NULL, stop_one, sinks->items[i]) == 0;
        if (started)
            started[i] = own;
        if (!own)
            moose__sink_stop(sinks->items[i]); /* no thread to spare: here, one after another */
    }
    for (size_t i = 0; started && i < sinks->len; i++)
        if (started[i])
            pthread_join(threads[i], NULL);
    free(threads);
    free(started);
    free(sinks->items);
    free(sinks);
}

size_t moose__sinks_count(const moose__sinks *sinks) {
    return sinks ? sinks->len : 0;
}

moose__sink *moose__sinks_get(moose__sinks *sinks, size_t i) {
    return sinks && i < sinks->len ? sinks->items[i] : NULL;
}

moose__sinks *moose__sinks_start(const moose__sinks_config *cfg, char *errstr, size_t errstr_size) {
    if (!cfg || !cfg->kafka || !cfg->app) {
        snprintf(errstr, errstr_size, "table sinks: a Kafka connection and the app are needed");
        return NULL;
    }
    const moose_app_desc *app = cfg->app;
    /* The configuration wins over the environment, which wins over the schema. */
    int64_t rows = cfg->batch_rows, bytes = cfg->batch_bytes, ms = cfg->batch_ms;
    if ((!rows && (rows = env_override("MOOSE_BATCH_ROWS", errstr, errstr_size)) < 0) ||
        (!bytes && (bytes = env_override("MOOSE_BATCH_BYTES", errstr, errstr_size)) < 0) ||
        (!ms && (ms = env_override("MOOSE_BATCH_MS", errstr, errstr_size)) < 0))
        return NULL;
    moose__sinks *sinks = calloc(1, sizeof *sinks);
    const moose_stream_desc **feeding = calloc(app->nstreams ? app->nstreams : 1, sizeof *feeding);
    if (sinks)
        sinks->items = calloc(app->ntables ? app->ntables : 1, sizeof *sinks->items);
    if (!sinks || !feeding || !sinks->items) {
        snprintf(errstr, errstr_size, "table sinks of app %s: out of memory", app->name);
        free(feeding);
        moose__sinks_stop(sinks);
        return NULL;
    }
    for (uint32_t t = 0; t < app->ntables; t++) {
        const moose_table_desc *table = app->tables[t];
        size_t nfeeding = 0;
        for (uint32_t s = 0; s < app->nstreams; s++)
            if (app->streams[s]->destination == table)
                feeding[nfeeding++] = app->streams[s];
        if (nfeeding == 0)
            continue; /* a table nothing delivers into needs no sink */
        moose__sink_config sc = {
            .kafka = cfg->kafka,
            .app = app,
            .table = table,
            .streams = feeding,
            .nstreams = nfeeding,
            .tables_url = cfg->tables_url,
            .batch_rows = rows,
            .batch_bytes = bytes,
            .batch_ms = ms,
            .dlq_producer = cfg->dlq_producer,
            .max_record_bytes = cfg->max_record_bytes,
            .max_depth = cfg->max_depth,
            .metrics = cfg->metrics ? moose__metrics_component(cfg->metrics, MOOSE_COMPONENT_SINK,
                                                               table->name)
                                    : NULL,
        };
        moose__sink *sink = moose__sink_start(&sc, errstr, errstr_size);
        if (!sink) {
            free(feeding);
            moose__sinks_stop(sinks);
            return NULL;
        }
        sinks->items[sinks->len++] = sink;
    }
    free(feeding);
    return sinks;
}
