/*
 * The public getters that take an app: each reaches the app's registry
 * through moose__app_metrics() (implemented by the app) and delegates.
 */
#include "metrics.h"
#include "moose/error.h"

static moose_metrics_registry *registry_of(moose_app *app) {
    return app ? moose__app_metrics(app) : NULL;
}

int moose_stream_metrics(moose_app *app, const char *stream, moose_metrics *out) {
    if (registry_of(app) == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_get(registry_of(app), MOOSE_COMPONENT_STREAM, stream, out);
}

int moose_transform_metrics(moose_app *app, const char *transform, moose_metrics *out) {
    if (registry_of(app) == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_get(registry_of(app), MOOSE_COMPONENT_TRANSFORM, transform, out);
}

int moose_sink_metrics(moose_app *app, const char *table, moose_metrics *out) {
    if (registry_of(app) == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_get(registry_of(app), MOOSE_COMPONENT_SINK, table, out);
}

int moose_app_health(moose_app *app, moose_health *out) {
    if (registry_of(app) == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_health(registry_of(app), MOOSE_COMPONENT_STREAM, NULL, out);
}

int moose_stream_health(moose_app *app, const char *stream, moose_health *out) {
    if (registry_of(app) == NULL || stream == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_health(registry_of(app), MOOSE_COMPONENT_STREAM, stream, out);
}

int moose_transform_health(moose_app *app, const char *transform, moose_health *out) {
    if (registry_of(app) == NULL || transform == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_health(registry_of(app), MOOSE_COMPONENT_TRANSFORM, transform,
                                         out);
}

int moose_sink_health(moose_app *app, const char *table, moose_health *out) {
    if (registry_of(app) == NULL || table == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_health(registry_of(app), MOOSE_COMPONENT_SINK, table, out);
}

int moose_app_set_health_thresholds(moose_app *app, const moose_health_thresholds *t) {
    if (registry_of(app) == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_set_thresholds(registry_of(app), t);
}

int moose_stream_validation_stats(moose_app *app, const char *stream,
                                  moose_validation_stats *out) {
    if (registry_of(app) == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_validation(registry_of(app), MOOSE_COMPONENT_STREAM, stream,
                                             out);
}

int moose_transform_validation_stats(moose_app *app, const char *transform,
                                     moose_validation_stats *out) {
    if (registry_of(app) == NULL)
        return MOOSE_EINVAL;
    return moose_metrics_registry_validation(registry_of(app), MOOSE_COMPONENT_TRANSFORM,
                                             transform, out);
}
