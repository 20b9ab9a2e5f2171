/*
 * The Prometheus text exposition format (version 0.0.4) of a registry:
 * one family per counter or latency, each with HELP and TYPE, a sample per
 * component labelled stream="...", transform="..." or table="...".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_component.h"
#include "moose/error.h"

typedef struct entry {
    moose_component_kind kind;
    const char *name; /* owned by the component, which lives as long as the registry */
    moose__component *c;
    moose_metrics m;
} entry;

typedef struct entries {
    entry *items;
    size_t len, cap;
    bool failed;
} entries;

static void collect(moose_component_kind kind, const char *name, moose__component *c,
                    void *opaque) {
    entries *list = opaque;
    if (list->len == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        entry *items = realloc(list->items, cap * sizeof *items);
        if (items == NULL) {
            list->failed = true;
            return;
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->len++] = (entry){.kind = kind, .name = name, .c = c};
}

/* Every component with a fresh snapshot; false when memory runs out. */
static bool snapshot_all(moose_metrics_registry *reg, entries *list) {
    memset(list, 0, sizeof *list);
    moose__metrics_each(reg, collect, list);
    if (list->failed) {
        free(list->items);
        return false;
    }
    for (size_t i = 0; i < list->len; i++)
        moose__component_snapshot(reg, list->items[i].c, &list->items[i].m);
    return true;
}

static const char *label_of(moose_component_kind kind) {
    switch (kind) {
    case MOOSE_COMPONENT_STREAM:
        return "stream";
    case MOOSE_COMPONENT_TRANSFORM:
        return "transform";
    case MOOSE_COMPONENT_SINK:
        return "table";
    }
    return "component";
}

/*
 * A label value with \, " and newline escaped, as the format requires;
 * bytes that are not UTF-8 (a field name a producer made up) become '?'.
 */
static void put_label_value(FILE *out, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text);
    for (size_t i = 0; i < len;) {
        size_t n = moose__metrics_utf8_seq(s + i, len - i);
        if (n == 0) {
            fputc('?', out);
            i++;
        } else if (s[i] == '\\') {
            fputs("\\\\", out);
            i++;
        } else if (s[i] == '"') {
            fputs("\\\"", out);
            i++;
        } else if (s[i] == '\n') {
            fputs("\\n", out);
            i++;
        } else {
            fwrite(s + i, 1, n, out);
            i += n;
        }
    }
}

static void put_labels(FILE *out, const entry *e) {
    fprintf(out, "{%s=\"", label_of(e->kind));
    put_label_value(out, e->name);
    fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type, const char *help) {
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef struct counter_family {
    const char *name;
    const char *help;
    size_t offset; /* of the uint64_t in moose_metrics */
} counter_family;

static const counter_family counters[] = {
    {"moose_records_in_total", "Records that reached the component, valid or not.",
     offsetof(moose_metrics, records_in)},
    {"moose_records_out_total", "Records the component passed on (acknowledged or inserted).",
     offsetof(moose_metrics, records_out)},
    {"moose_bytes_in_total", "Bytes of the records in.", offsetof(moose_metrics, bytes_in)},
    {"moose_bytes_out_total", "Bytes of the records out.", offsetof(moose_metrics, bytes_out)},
    {"moose_records_filtered_total", "Records a transform returned without emitting.",
     offsetof(moose_metrics, filtered)},
    {"moose_records_invalid_total", "Records that failed validation.",
     offsetof(moose_metrics, invalid)},
    {"moose_transform_errors_total", "Records whose transform returned an error.",
     offsetof(moose_metrics, transform_errors)},
    {"moose_dlq_records_total", "Records sent to the dead letter queue.",
     offsetof(moose_metrics, dlq)},
    {"moose_retries_total", "Produce or insert attempts that were repeated.",
     offsetof(moose_metrics, retries)},
    {"moose_batches_total", "Batches produced or inserted.", offsetof(moose_metrics, batches)},
};

typedef struct latency_family {
    const char *name;
    const char *help;
    size_t offset; /* of the moose_latency_summary in moose_metrics */
    moose_component_kind kind; /* where it is always shown, recorded or not */
} latency_family;

static const latency_family latencies[] = {
    {"moose_write_ack_seconds", "Time from a write to the broker's acknowledgement.",
     offsetof(moose_metrics, write_ack), MOOSE_COMPONENT_STREAM},
    {"moose_transform_seconds", "Time spent in the transform function per record.",
     offsetof(moose_metrics, transform), MOOSE_COMPONENT_TRANSFORM},
    {"moose_end_to_end_seconds", "Time from a record's timestamp to its table insert.",
     offsetof(moose_metrics, end_to_end), MOOSE_COMPONENT_SINK},
};

static void put_seconds(FILE *out, uint64_t ns, bool known) {
    if (known)
        fprintf(out, "%.9g\n", (double)ns / 1e9);
    else
        fputs("NaN\n", out);
}

static void put_summary(FILE *out, const latency_family *f, const entry *e) {
    const moose_latency_summary *s =
        (const moose_latency_summary *)(const void *)((const char *)&e->m + f->offset);
    if (s->count == 0 && e->kind != f->kind)
        return;
    static const struct {
        const char *q;
        size_t offset;
    } quantiles[] = {
        {"0.5", offsetof(moose_latency_summary, p50_ns)},
        {"0.95", offsetof(moose_latency_summary, p95_ns)},
        {"0.99", offsetof(moose_latency_summary, p99_ns)},
        {"1", offsetof(moose_latency_summary, max_ns)},
    };
    for (size_t q = 0; q < sizeof quantiles / sizeof quantiles[0]; q++) {
        fputs(f->name, out);
        put_labels(out, e);
        fprintf(out, ",quantile=\"%s\"} ", quantiles[q].q);
        put_seconds(out, *(const uint64_t *)(const void *)((const char *)s + quantiles[q].offset),
                    s->count > 0);
    }
    fprintf(out, "%s_sum", f->name);
    put_labels(out, e);
    fputs("} ", out);
    put_seconds(out, s->sum_ns, true);
    fprintf(out, "%s_count", f->name);
    put_labels(out, e);
    fprintf(out, "} %" PRIu64 "\n", s->count);
}

static void put_validation(FILE *out, const entries *list) {
    family(out, "moose_validation_checked_total", "counter",
           "Records validated (passed or failed).");
    for (size_t i = 0; i < list->len; i++) {
        fputs("moose_validation_checked_total", out);
        put_labels(out, &list->items[i]);
        fprintf(out, "} %" PRIu64 "\n",
                moose__component_total(list->items[i].c, MOOSE__C_VALID) +
                    moose__component_total(list->items[i].c, MOOSE__C_INVALID));
    }
    family(out, "moose_validation_failures_total", "counter",
           "Validation failures per field and rule (array indices folded to []).");
    moose_validation_stats *vs = malloc(sizeof *vs);
    if (vs == NULL)
        return;
    for (size_t i = 0; i < list->len; i++) {
        moose__component_validation(list->items[i].c, vs);
        for (uint32_t f = 0; f < vs->nfailures; f++) {
            fputs("moose_validation_failures_total", out);
            put_labels(out, &list->items[i]);
            fputs(",field=\"", out);
            put_label_value(out, vs->failures[f].path);
            fputs("\",rule=\"", out);
            put_label_value(out, vs->failures[f].rule);
            fprintf(out, "\"} %" PRIu64 "\n", vs->failures[f].count);
        }
        if (vs->other_failures) {
            fputs("moose_validation_failures_total", out);
            put_labels(out, &list->items[i]);
            fprintf(out, ",field=\"\",rule=\"other\"} %" PRIu64 "\n", vs->other_failures);
        }
    }
    free(vs);
}

int moose__metrics_prometheus(moose_metrics_registry *reg, FILE *out) {
    entries list;
    if (reg == NULL || out == NULL)
        return MOOSE_EINVAL;
    if (!snapshot_all(reg, &list))
        return MOOSE_ENOMEM;

    for (size_t f = 0; f < sizeof counters / sizeof counters[0]; f++) {
        family(out, counters[f].name, "counter", counters[f].help);
        for (size_t i = 0; i < list.len; i++) {
            const entry *e = &list.items[i];
            fputs(counters[f].name, out);
            put_labels(out, e);
            fprintf(out, "} %" PRIu64 "\n",
                    *(const uint64_t *)(const void *)((const char *)&e->m + counters[f].offset));
        }
    }
    for (size_t f = 0; f < sizeof latencies / sizeof latencies[0]; f++) {
        family(out, latencies[f].name, "summary", latencies[f].help);
        for (size_t i = 0; i < list.len; i++)
            put_summary(out, &latencies[f], &list.items[i]);
    }
    family(out, "moose_consumer_lag", "gauge",
           "Messages behind the high watermark, per partition, as last seen by the consumer.");
    for (size_t i = 0; i < list.len; i++) {
        const entry *e = &list.items[i];
        for (uint32_t p = 0; p < e->m.npartitions; p++) {
            if (e->m.lag[p] < 0)
                continue;
            fputs("moose_consumer_lag", out);
            put_labels(out, e);
            fprintf(out, ",partition=\"%" PRIu32 "\"} %" PRId64 "\n", p, e->m.lag[p]);
        }
    }
    put_validation(out, &list);

    moose_health health;
    moose_metrics_registry_health(reg, MOOSE_COMPONENT_STREAM, NULL, &health);
    family(out, "moose_health_status", "gauge", "0 healthy, 1 degraded, 2 unhealthy.");
    fprintf(out, "moose_health_status %d\n", (int)health.status);
    char why[8];
    family(out, "moose_broker_up", "gauge", "1 when the Kafka cluster answers, 0 when not.");
    fprintf(out, "moose_broker_up %d\n", moose__metrics_broker_down(reg, why, sizeof why) ? 0 : 1);

    free(list.items);
    return ferror(out) ? MOOSE_EIO : 0;
}
