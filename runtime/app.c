/*
 * Opening and closing an app: the Kafka connection (or the embedded broker),
 * the topics, the producer every write goes through, metrics and the HTTP
 * endpoints; starting and stopping its transforms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "sink.h"
#include "config.h"
#include "log.h"
#include "moose/error.h"

moose_metrics_registry *moose__app_metrics(moose_app *app) {
    return app ? app->metrics : NULL;
}

int moose__app_stream_index(const moose_app *app, const moose_stream_desc *stream) {
    for (uint32_t i = 0; i < app->desc->nstreams; i++)
        if (app->desc->streams[i] == stream)
            return (int)i;
    return -1;
}

static char *dup_or_null(const char *s, bool *failed) {
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = true;
    return d;
}

static bool copy_config(moose_app *app, const moose_config *cfg) {
    bool failed = false;
    moose_config in = cfg ? *cfg : (moose_config){0};
    moose__config_defaults(&in);
    app->cfg.brokers = dup_or_null(in.brokers, &failed);
    app->cfg.tables = dup_or_null(in.tables, &failed);
    app->cfg.http = dup_or_null(in.http, &failed);
    app->cfg.log_level = dup_or_null(in.log_level, &failed);
    app->cfg.max_record_bytes = in.max_record_bytes;
    app->cfg.max_depth = in.max_depth;
    size_t n = 0;
    while (in.kafka_props && in.kafka_props[n])
        n++;
    app->kafka_props = calloc(n + 1, sizeof *app->kafka_props);
    if (!app->kafka_props)
        return false;
    for (size_t i = 0; i < n; i++)
        app->kafka_props[i] = dup_or_null(in.kafka_props[i], &failed);
    app->cfg.kafka_props = (const char *const *)app->kafka_props;
    return !failed;
}

static void free_config(moose_app *app) {
    free((char *)app->cfg.brokers);
    free((char *)app->cfg.tables);
    free((char *)app->cfg.http);
    free((char *)app->cfg.log_level);
    for (size_t i = 0; app->kafka_props && app->kafka_props[i]; i++)
        free(app->kafka_props[i]);
    free(app->kafka_props);
}

int moose__app_watch_readers(moose_app *app, moose__producer *producer,
                             const moose_stream_desc *only, char *errstr, size_t errstr_size) {
    const moose_app_desc *d = app->desc;
    const char **groups = calloc(d->ntransforms + 1, sizeof *groups);
    char (*names)[256] = calloc(d->ntransforms + 1, sizeof *names);
    int rc = 0;
    if (!groups || !names) {
        rc = MOOSE_ENOMEM;
        snprintf(errstr, errstr_size, "out of memory opening app %s", d->name);
        goto done;
    }
    for (uint32_t s = 0; s < d->nstreams && rc == 0; s++) {
        const moose_stream_desc *stream = d->streams[s];
        if (only && stream != only)
            continue;
        size_t n = 0;
        for (uint32_t t = 0; t < d->ntransforms; t++)
            if (d->transforms[t]->source == stream &&
                moose__group_for_transform(d, d->transforms[t], names[n], sizeof names[n]))
                groups[n] = names[n], n++;
        if (stream->destination &&
            moose__group_for_table(d, stream->destination, names[n], sizeof names[n]))
            groups[n] = names[n], n++;
        if (n) {
            rc = moose__producer_watch(producer, stream->topic, groups, n);
            if (rc != 0)
                snprintf(errstr, errstr_size, "cannot watch the readers of topic %s: %s",
                         stream->topic, moose_strerror(rc));
        }
    }
done:
    free(groups);
    free(names);
    return rc;
}

moose_app *moose__app_open(const moose_app_desc *desc, const moose_config *cfg,
                           moose__embedded_mode mode, const char *prog, char *errstr,
                           size_t errstr_size) {
    if (!desc) {
        snprintf(errstr, errstr_size, "moose_app_open: no app description");
        return NULL;
    }
    if (desc->abi_version != MOOSE_ABI_VERSION) {
        snprintf(errstr, errstr_size,
                 "app %s was generated for libmoose ABI %u but this libmoose is ABI %d: "
                 "regenerate it with this moosec",
                 desc->name, desc->abi_version, MOOSE_ABI_VERSION);
        return NULL;
    }
    moose_app *app = calloc(1, sizeof *app);
    if (!app || pthread_mutex_init(&app->lock, NULL) != 0) {
        free(app);
        snprintf(errstr, errstr_size, "out of memory opening app %s", desc->name);
        return NULL;
    }
    app->desc = desc;
    if (!copy_config(app, cfg)) {
        snprintf(errstr, errstr_size, "out of memory opening app %s", desc->name);
        goto fail;
    }
    moose__log_level level;
    if (moose__log_parse_level(app->cfg.log_level, &level) != 0) {
        snprintf(errstr, errstr_size, "log level is debug, info, warn or error, not '%s'",
                 app->cfg.log_level);
        goto fail;
    }
    moose__log_set_level(level);

    moose__kafka_opts kopts = {
        .brokers = app->cfg.brokers,
        .props = app->cfg.kafka_props,
        .embedded = mode,
        .prog = prog ? prog : desc->name,
        .max_record_bytes = app->cfg.max_record_bytes,
    };
    if (moose__kafka_open(&kopts, &app->kafka, errstr, errstr_size) != 0)
        goto fail;
    if (moose__kafka_ensure_app_topics(app->kafka, desc, errstr, errstr_size) != 0)
        goto fail;

    app->metrics = moose__metrics_registry_new(errstr, errstr_size);
    if (!app->metrics)
        goto fail;
    app->stream_metrics = calloc(desc->nstreams + 1, sizeof *app->stream_metrics);
    if (!app->stream_metrics || moose__metrics_registry_add_app(app->metrics, desc) != 0) {
        snprintf(errstr, errstr_size, "out of memory registering the metrics of app %s",
                 desc->name);
        goto fail;
    }
    for (uint32_t i = 0; i < desc->nstreams; i++)
        app->stream_metrics[i] =
            moose__metrics_find(app->metrics, MOOSE_COMPONENT_STREAM, desc->streams[i]->name);
    /* What the clients see of the brokers while librdkafka retries is health's to judge. */
    moose__kafka_set_health(app->kafka, app->metrics);

    app->producer = moose__producer_new(app->kafka, "write", errstr, errstr_size);
    if (!app->producer)
        goto fail;
    moose__producer_share_cb(app->producer, moose__write_async_delivered);
    if (moose__app_watch_readers(app, app->producer, NULL, errstr, errstr_size) != 0)
        goto fail;
    /* Health says broker_down only if someone asks the broker: the sampler does, every 5 s. */
    moose__metrics_set_broker_probe(app->metrics, moose__metrics_kafka_probe,
                                    moose__producer_handle(app->producer), 0);
    if (moose__metrics_start_sampler(app->metrics) != 0) {
        snprintf(errstr, errstr_size, "app %s: cannot start the metrics sampler", desc->name);
        goto fail;
    }
    if (app->cfg.http) {
        app->http = moose__http_start(app->metrics, app->cfg.http, errstr, errstr_size);
        if (!app->http)
            goto fail;
    }
    return app;
fail:
    moose_app_close(app);
    return NULL;
}

moose_app *moose_app_open(const moose_app_desc *desc, const moose_config *cfg, char *errstr,
                          size_t errstr_size) {
    return moose__app_open(desc, cfg, MOOSE__EMBEDDED_FIND_OR_START, NULL, errstr, errstr_size);
}

int moose_app_start(moose_app *app, char *errstr, size_t errstr_size) {
    if (!app)
        return MOOSE_EINVAL;
    if (atomic_load(&app->closed)) {
        snprintf(errstr, errstr_size, "app %s is closed", app->desc->name);
        return MOOSE_ECLOSED;
    }
    pthread_mutex_lock(&app->lock);
    int rc = 0;
    if (app->started) {
        snprintf(errstr, errstr_size, "app %s is already running", app->desc->name);
        rc = MOOSE_EINVAL;
        goto done;
    }
    const moose_app_desc *d = app->desc;
    app->runners = calloc(d->ntransforms + 1, sizeof *app->runners);
    if (!app->runners) {
        snprintf(errstr, errstr_size, "out of memory starting app %s", d->name);
        rc = MOOSE_ENOMEM;
        goto done;
    }
    for (uint32_t i = 0; i < d->ntransforms; i++) {
        const moose_transform_desc *t = d->transforms[i];
        int workers = t->source->parallelism > 0 ? t->source->parallelism : 1;
        moose__transform_runner *r = moose__transform_start(app, t, workers, errstr, errstr_size);
        if (!r) {
            rc = MOOSE_ETRANSPORT;
            break;
        }
        app->runners[app->nrunners++] = r;
    }
    if (rc == 0) {
        /* Sinks last: what the transforms produce has somewhere to go as soon as it exists. */
        moose__sinks_config sc = {.kafka = app->kafka,
                                  .app = d,
                                  .tables_url = app->cfg.tables,
                                  .batch_rows = app->sink_batch_rows,
                                  .batch_bytes = app->sink_batch_bytes,
                                  .batch_ms = app->sink_batch_ms,
                                  .dlq_producer = app->producer,
                                  .metrics = app->metrics,
                                  .max_record_bytes = app->cfg.max_record_bytes,
                                  .max_depth = app->cfg.max_depth};
        app->sinks = moose__sinks_start(&sc, errstr, errstr_size);
        if (!app->sinks)
            rc = MOOSE_ESCHEMA;
    }
    app->started = true;
done:
    pthread_mutex_unlock(&app->lock);
    if (rc != 0 && rc != MOOSE_EINVAL)
        moose_app_stop(app);
    return rc;
}

void moose_app_stop(moose_app *app) {
    if (!app)
        return;
    pthread_mutex_lock(&app->lock);
    /* Every worker stops fetching first, so none waits on another while draining. */
    for (size_t i = 0; i < app->nrunners; i++)
        moose__transform_request_stop(app->runners[i]);
    for (size_t i = 0; i < app->nrunners; i++)
        moose__transform_join(app->runners[i]);
    /* After the transforms: their last outputs are in the topics, and the sinks deliver them. */
    moose__sinks_stop(app->sinks);
    app->sinks = NULL;
    free(app->runners);
    app->runners = NULL;
    app->nrunners = 0;
    app->started = false;
    pthread_mutex_unlock(&app->lock);
}

void moose_app_close(moose_app *app) {
    if (!app)
        return;
    moose_app_stop(app);
    atomic_store(&app->closed, true);
    /* Closing our own clients takes brokers away from them: no alarm from here on. */
    moose__kafka_closing(app->kafka);
    /* The probe uses the producer's handle: it must be gone before the producer. */
    moose__metrics_set_broker_probe(app->metrics, NULL, NULL, 0);
    moose__producer_close(app->producer);
    moose__http_stop(app->http);
    moose__kafka_set_health(app->kafka, NULL);
    moose__metrics_registry_free(app->metrics);
    free(app->stream_metrics);
    moose__kafka_close(app->kafka);
    free_config(app);
    pthread_mutex_destroy(&app->lock);
    free(app);
}
