/* Starting and stopping the sinks of a whole app: one per destination table. */
#include <stdio.h>
#include <stdlib.h>

#include "sink.h"

struct moose__sinks {
    moose__sink **items;
    size_t len;
};

void moose__sinks_stop(moose__sinks *sinks) {
    if (!sinks)
        return;
    for (size_t i = 0; i < sinks->len; i++)
        moose__sink_stop(sinks->items[i]);
    free(sinks->items);
    free(sinks);
}

size_t moose__sinks_count(const moose__sinks *sinks) {
    return sinks ? sinks->len : 0;
}

moose__sink *moose__sinks_get(moose__sinks *sinks, size_t i) {
    return sinks && i < sinks->len ? sinks->items[i] : NULL;
}

moose__sinks *moose__sinks_start(const moose__sinks_config *cfg, char *errstr,
                                 size_t errstr_size) {
    if (!cfg || !cfg->kafka || !cfg->app) {
        snprintf(errstr, errstr_size, "table sinks: a Kafka connection and the app are needed");
        return NULL;
    }
    const moose_app_desc *app = cfg->app;
    moose__sinks *sinks = calloc(1, sizeof *sinks);
    const moose_stream_desc **feeding = calloc(app->nstreams ? app->nstreams : 1,
                                               sizeof *feeding);
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
            .batch_rows = cfg->batch_rows,
            .batch_bytes = cfg->batch_bytes,
            .batch_ms = cfg->batch_ms,
            .dlq_producer = cfg->dlq_producer,
            .metrics = cfg->metrics
                           ? moose__metrics_component(cfg->metrics, MOOSE_COMPONENT_SINK, table->name)
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
