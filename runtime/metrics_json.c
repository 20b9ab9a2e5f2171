/*
 * The JSON documents of /streams, /health and /validation (jansson: these
 * are cold paths, read by people and dashboards a few times a minute).
 * Latencies are in milliseconds, times in RFC 3339 UTC.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "metrics_component.h"

typedef struct json_walk {
    moose_metrics_registry *reg;
    moose_health_thresholds thresholds; /* read before the walk: it holds the registry */
    uint64_t now_ms;
    json_t *groups[3]; /* by moose_component_kind */
    moose_validation_stats *vs;
    bool failed;
} json_walk;

static const char *group_name(moose_component_kind kind) {
    switch (kind) {
    case MOOSE_COMPONENT_STREAM:
        return "streams";
    case MOOSE_COMPONENT_TRANSFORM:
        return "transforms";
    case MOOSE_COMPONENT_SINK:
        return "sinks";
    }
    return "components";
}

/* Adds VALUE under KEY, remembering a failure (jansson returns -1 when out of memory). */
static void put(json_walk *w, json_t *obj, const char *key, json_t *value) {
    if (value == NULL || json_object_set_new(obj, key, value) != 0)
        w->failed = true;
}

static json_t *ms(uint64_t ns) {
    return json_real((double)ns / 1e6);
}

static json_t *latency_json(json_walk *w, const moose_latency_summary *s) {
    json_t *o = json_object();
    if (o == NULL) {
        w->failed = true;
        return NULL;
    }
    put(w, o, "count", json_integer((json_int_t)s->count));
    put(w, o, "p50_ms", ms(s->p50_ns));
    put(w, o, "p95_ms", ms(s->p95_ns));
    put(w, o, "p99_ms", ms(s->p99_ns));
    put(w, o, "max_ms", ms(s->max_ns));
    put(w, o, "mean_ms", ms(s->count ? s->sum_ns / s->count : 0));
    return o;
}

static json_t *metrics_json(json_walk *w, const char *name, const moose_metrics *m) {
    json_t *o = json_object();
    if (o == NULL) {
        w->failed = true;
        return NULL;
    }
    put(w, o, "name", json_string(name));
    put(w, o, "records_in", json_integer((json_int_t)m->records_in));
    put(w, o, "records_out", json_integer((json_int_t)m->records_out));
    put(w, o, "bytes_in", json_integer((json_int_t)m->bytes_in));
    put(w, o, "bytes_out", json_integer((json_int_t)m->bytes_out));
    put(w, o, "filtered", json_integer((json_int_t)m->filtered));
    put(w, o, "invalid", json_integer((json_int_t)m->invalid));
    put(w, o, "transform_errors", json_integer((json_int_t)m->transform_errors));
    put(w, o, "dlq", json_integer((json_int_t)m->dlq));
    put(w, o, "retries", json_integer((json_int_t)m->retries));
    put(w, o, "batches", json_integer((json_int_t)m->batches));
    json_t *rates = json_object();
    if (rates) {
        put(w, rates, "in_per_s", json_real(m->in_per_s));
        put(w, rates, "out_per_s", json_real(m->out_per_s));
        put(w, rates, "errors_per_s", json_real(m->errors_per_s));
        put(w, rates, "in_per_s_now", json_real(m->in_per_s_now));
        put(w, rates, "out_per_s_now", json_real(m->out_per_s_now));
    }
    put(w, o, "rates", rates);
    json_t *lat = json_object();
    if (lat) {
        put(w, lat, "write_ack", latency_json(w, &m->write_ack));
        put(w, lat, "transform", latency_json(w, &m->transform));
        put(w, lat, "end_to_end", latency_json(w, &m->end_to_end));
    }
    put(w, o, "latency", lat);
    json_t *lag = json_object(), *parts = json_array();
    if (lag && parts) {
        for (uint32_t p = 0; p < m->npartitions; p++)
            if (json_array_append_new(parts, m->lag[p] < 0 ? json_null()
                                                           : json_integer(m->lag[p])) != 0)
                w->failed = true;
        put(w, lag, "total", json_integer(m->lag_total));
        put(w, lag, "partitions", parts);
        parts = NULL;
    }
    json_decref(parts);
    put(w, o, "lag", lag);
    put(w, o, "uptime_ms", json_integer((json_int_t)m->uptime_ms));
    return o;
}

static void add_to_group(json_walk *w, moose_component_kind kind, json_t *item) {
    if (item == NULL || json_array_append_new(w->groups[kind], item) != 0)
        w->failed = true;
}

static void visit_metrics(moose_component_kind kind, const char *name, moose__component *c,
                          void *opaque) {
    json_walk *w = opaque;
    moose_metrics m;
    moose__component_snapshot(w->reg, c, &m);
    json_t *o = metrics_json(w, name, &m);
    moose_health h;
    moose__component_health(c, &w->thresholds, w->now_ms, &h);
    if (o)
        put(w, o, "health", json_string(moose_health_status_name(h.status)));
    add_to_group(w, kind, o);
}

static json_t *rfc3339_ms(int64_t ms_since_epoch) {
    time_t secs = (time_t)(ms_since_epoch / 1000);
    struct tm tm;
    char text[40];
    if (gmtime_r(&secs, &tm) == NULL)
        return json_null();
    size_t n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text + n, sizeof text - n, ".%03dZ", (int)(ms_since_epoch % 1000));
    return json_string(text);
}

/*
 * Samples hold what producers sent, cut at a byte limit: bytes that are not
 * UTF-8 become '?', so one bad record cannot make the whole document fail.
 */
static json_t *text_json(const char *text) {
    size_t len = strlen(text);
    char *clean = malloc(len + 1);
    if (clean == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = moose__metrics_utf8_seq(s + i, len - i);
        if (n == 0) {
            clean[o++] = '?';
            i++;
        } else {
            memcpy(clean + o, s + i, n);
            o += n;
            i += n;
        }
    }
    json_t *j = json_stringn_nocheck(clean, o);
    free(clean);
    return j;
}

static json_t *validation_json(json_walk *w, const char *name, const moose_validation_stats *vs) {
    json_t *o = json_object(), *failures = json_array(), *samples = json_array();
    if (o == NULL || failures == NULL || samples == NULL) {
        json_decref(o);
        json_decref(failures);
        json_decref(samples);
        w->failed = true;
        return NULL;
    }
    put(w, o, "name", json_string(name));
    put(w, o, "checked", json_integer((json_int_t)vs->checked));
    put(w, o, "passed", json_integer((json_int_t)vs->passed));
    put(w, o, "failed", json_integer((json_int_t)vs->failed));
    for (uint32_t i = 0; i < vs->nfailures; i++) {
        json_t *f = json_object();
        if (f == NULL || json_array_append_new(failures, f) != 0) {
            w->failed = true;
            continue;
        }
        put(w, f, "field", text_json(vs->failures[i].path));
        put(w, f, "rule", text_json(vs->failures[i].rule));
        put(w, f, "count", json_integer((json_int_t)vs->failures[i].count));
    }
    put(w, o, "failures", failures);
    put(w, o, "other_failures", json_integer((json_int_t)vs->other_failures));
    for (uint32_t i = 0; i < vs->nsamples; i++) {
        const moose_validation_sample *s = &vs->samples[i];
        json_t *j = json_object(), *reasons = json_array();
        if (j == NULL || reasons == NULL || json_array_append_new(samples, j) != 0) {
            json_decref(reasons);
            w->failed = true;
            continue;
        }
        put(w, j, "seq", json_integer((json_int_t)s->seq));
        put(w, j, "time", rfc3339_ms(s->time_ms));
        put(w, j, "record", text_json(s->record));
        put(w, j, "record_len", json_integer((json_int_t)s->record_len));
        put(w, j, "truncated", json_boolean(s->truncated));
        for (uint32_t r = 0; r < s->nreasons; r++)
            if (json_array_append_new(reasons, text_json(s->reasons[r])) != 0)
                w->failed = true;
        put(w, j, "reasons", reasons);
        put(w, j, "more_reasons", json_integer(s->more_reasons));
    }
    put(w, o, "samples", samples);
    return o;
}

static void visit_validation(moose_component_kind kind, const char *name, moose__component *c,
                             void *opaque) {
    json_walk *w = opaque;
    moose__component_validation(c, w->vs);
    add_to_group(w, kind, validation_json(w, name, w->vs));
}

static char *document(moose_metrics_registry *reg, moose__component_visit_fn visit) {
    json_walk w = {.reg = reg, .thresholds = moose__metrics_thresholds(reg),
                   .now_ms = moose__metrics_now_ms()};
    json_t *root = json_object();
    w.vs = malloc(sizeof *w.vs);
    for (int k = 0; k < 3; k++) {
        w.groups[k] = json_array();
        if (root && w.groups[k])
            put(&w, root, group_name((moose_component_kind)k), json_incref(w.groups[k]));
    }
    char *text = NULL;
    if (root && w.vs && w.groups[0] && w.groups[1] && w.groups[2] && !w.failed) {
        moose__metrics_each(reg, visit, &w);
        if (!w.failed)
            text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    for (int k = 0; k < 3; k++)
        json_decref(w.groups[k]);
    json_decref(root);
    free(w.vs);
    return text;
}

char *moose__metrics_streams_json(moose_metrics_registry *reg) {
    return reg ? document(reg, visit_metrics) : NULL;
}

char *moose__metrics_validation_json(moose_metrics_registry *reg) {
    return reg ? document(reg, visit_validation) : NULL;
}

char *moose__metrics_health_json(moose_metrics_registry *reg, moose_health_status *status) {
    moose_health h;
    if (moose_metrics_registry_health(reg, MOOSE_COMPONENT_STREAM, NULL, &h) != 0)
        return NULL;
    if (status)
        *status = h.status;
    json_walk w = {.reg = reg};
    json_t *root = json_object(), *reasons = json_array();
    char *text = NULL;
    if (root && reasons) {
        put(&w, root, "status", json_string(moose_health_status_name(h.status)));
        for (uint32_t i = 0; i < h.nreasons; i++) {
            const moose_health_reason *r = &h.reasons[i];
            json_t *o = json_object();
            if (o == NULL || json_array_append_new(reasons, o) != 0) {
                w.failed = true;
                continue;
            }
            put(&w, o, "reason", json_string(moose_health_reason_name(r->code)));
            put(&w, o, "severity", json_string(moose_health_status_name(r->severity)));
            if (r->component[0]) {
                put(&w, o, "kind", json_string(moose_component_kind_name(r->kind)));
                put(&w, o, "component", text_json(r->component));
            }
            put(&w, o, "message", text_json(r->message));
        }
        put(&w, root, "reasons", json_incref(reasons));
        put(&w, root, "dropped", json_integer(h.dropped));
        if (!w.failed)
            text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    json_decref(reasons);
    json_decref(root);
    return text;
}
