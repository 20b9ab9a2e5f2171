/*
 * Observability: what every stream (write side), transform and table sink
 * did, how fast, how healthy it is and what fails validation.
 *
 * Everything here returns plain structs filled by value: nothing to parse and
 * nothing to free. A caller may poll them from any thread while the app runs.
 *
 * The same figures are served over HTTP (`/metrics` in the Prometheus text
 * format, `/health`, `/validation`, `/streams` as JSON) and printed by
 * `APP metrics [--json]` and `APP health`.
 */
#ifndef MOOSE_METRICS_H
#define MOOSE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct moose_app;

/* The metrics of one app; the app owns it (moose__app_metrics() reaches it). */
typedef struct moose_metrics_registry moose_metrics_registry;

typedef enum moose_component_kind {
    MOOSE_COMPONENT_STREAM = 0, /* the write side of a stream: moose_write(), APP write */
    MOOSE_COMPONENT_TRANSFORM,  /* a transform's consumers and producers */
    MOOSE_COMPONENT_SINK,       /* a table sink, named after its table */
} moose_component_kind;

/* "stream", "transform", "sink" */
const char *moose_component_kind_name(moose_component_kind kind);

/* ---- metrics ---- */

#define MOOSE_METRICS_MAX_PARTITIONS 64

/* Percentiles of a latency, in nanoseconds (within 6 % of the exact value). */
typedef struct moose_latency_summary {
    uint64_t count;
    uint64_t p50_ns, p95_ns, p99_ns, max_ns;
    uint64_t sum_ns;
} moose_latency_summary;

typedef struct moose_metrics {
    /* Totals since the app started. */
    uint64_t records_in, records_out;
    uint64_t bytes_in, bytes_out;
    uint64_t filtered;         /* transform returned without emitting */
    uint64_t invalid;          /* failed validation (write side, consumer or transform output) */
    uint64_t transform_errors; /* transform returned an error */
    uint64_t dlq;              /* records sent to the dead letter queue */
    uint64_t retries;          /* produce or insert attempts repeated */
    uint64_t batches;          /* table inserts, produce batches */

    /* Per second, averaged over the last minute (or since start, if shorter). */
    double in_per_s, out_per_s, errors_per_s;
    /* Per second over the last completed second: what a live status shows. */
    double in_per_s_now, out_per_s_now;

    moose_latency_summary write_ack;  /* moose_write() to the broker's acknowledgement */
    moose_latency_summary transform;  /* time inside the user's transform */
    moose_latency_summary end_to_end; /* record timestamp to table insert */

    /* Consumer lag (messages behind the high watermark) per partition, as set by consumers. */
    uint32_t npartitions; /* partitions[0..npartitions) are meaningful */
    int64_t lag[MOOSE_METRICS_MAX_PARTITIONS]; /* -1: not known yet */
    int64_t lag_total;                         /* sum of the known lags */

    uint64_t uptime_ms; /* since the component was registered */
} moose_metrics;

/*
 * Fill OUT with the metrics of the stream, transform or table sink called NAME.
 * Return 0, MOOSE_ENOTFOUND (no such component) or MOOSE_EINVAL.
 */
int moose_stream_metrics(struct moose_app *app, const char *stream, moose_metrics *out);
int moose_transform_metrics(struct moose_app *app, const char *transform, moose_metrics *out);
int moose_sink_metrics(struct moose_app *app, const char *table, moose_metrics *out);

/* ---- health ---- */

typedef enum moose_health_status {
    MOOSE_HEALTHY = 0,
    MOOSE_DEGRADED = 1,
    MOOSE_UNHEALTHY = 2,
} moose_health_status;

/* "healthy", "degraded", "unhealthy" */
const char *moose_health_status_name(moose_health_status status);

typedef enum moose_health_reason_code {
    MOOSE_HEALTH_BROKER_DOWN = 0, /* the Kafka cluster cannot be reached */
    MOOSE_HEALTH_LAG,             /* consumer lag above a threshold */
    MOOSE_HEALTH_ERROR_RATE,      /* errors / records in, over the last minute, above a threshold */
    MOOSE_HEALTH_SINK_FAILING,    /* the table store refuses inserts */
    MOOSE_HEALTH_STALLED,         /* lag > 0 and no progress (or no heartbeat) for a while */
    /* What Kafka clients see of the brokers while they retry (moose_health_thresholds.broker_*). */
    MOOSE_HEALTH_BROKER_ERRORS,   /* requests retried, failed or timed out */
    MOOSE_HEALTH_COMMIT_FAILING,  /* offset commits fail */
    MOOSE_HEALTH_GROUP_JOIN_FAILING, /* a consumer group cannot be joined */
    MOOSE_HEALTH_METADATA_ERRORS, /* metadata requests answered with errors */
    MOOSE_HEALTH_NO_LEADER,       /* partitions without a leader */
    MOOSE_HEALTH_SLOW_BROKER,     /* request round trips above a threshold */
} moose_health_reason_code;

/*
 * "broker_down", "lag", "error_rate", "sink_failing", "stalled",
 * "broker_errors", "commit_failing", "group_join_failing", "metadata_errors",
 * "no_leader", "slow_broker"
 */
const char *moose_health_reason_name(moose_health_reason_code code);

#define MOOSE_HEALTH_MAX_REASONS 16

typedef struct moose_health_reason {
    moose_health_reason_code code;
    moose_health_status severity;
    moose_component_kind kind; /* of the component concerned (the broker: MOOSE_COMPONENT_STREAM) */
    char component[64];        /* its name; "" for the broker */
    char message[192];         /* a sentence: "lag 12000 above 10000 (partition 3: 9000)" */
} moose_health_reason;

typedef struct moose_health {
    moose_health_status status; /* the worst severity among the reasons; healthy when none */
    uint32_t nreasons;
    uint32_t dropped; /* reasons beyond MOOSE_HEALTH_MAX_REASONS */
    moose_health_reason reasons[MOOSE_HEALTH_MAX_REASONS];
} moose_health;

/* When a fact turns into a reason. A threshold of 0 turns that check off. */
typedef struct moose_health_thresholds {
    int64_t lag_degraded;        /* total lag of a component (default 10000) */
    int64_t lag_unhealthy;       /* (default 0: off) */
    double error_rate_degraded;  /* errors per record in, over the last minute (default 0.05) */
    double error_rate_unhealthy; /* (default 0.5) */
    uint64_t error_min_records;  /* ignore error rates over fewer records in (default 20) */
    uint32_t stall_s;            /* no progress with lag > 0 for this long (default 30) */
    /*
     * A table refusing inserts makes its sink degraded (nothing is lost: the
     * records wait in Kafka, uncommitted); failing for this long makes it
     * unhealthy (default 60; 0: degraded however long).
     */
    uint32_t sink_failing_unhealthy_s;
    /*
     * What Kafka clients observe of the brokers while librdkafka retries
     * (docs/observability.md lists what is watched). Everything is judged
     * over the last broker_window_s seconds (default 10; at most 63), so a
     * reason clears that long after its symptom was last seen; 0 turns these
     * checks off. Events (broker_errors, commit_failing, group_join_failing)
     * degrade once seen broker_symptoms_degraded times in the window (default
     * 3); states (metadata_errors, no_leader) once seen at all.
     */
    uint32_t broker_window_s;
    uint32_t broker_symptoms_degraded;
    /*
     * slow_broker: requests' average round trip at or above this many ms
     * (default 200; fetches and group joins, which wait at the broker on
     * purpose, left out) in broker_symptoms_degraded seconds of the window.
     */
    uint32_t broker_rtt_degraded_ms;
    /*
     * broker_errors: records waiting in a producer at least this many ms on
     * average before their produce request (default 500: retried produce
     * requests, or a producer that cannot keep up), in
     * broker_symptoms_degraded seconds of the window.
     */
    uint32_t broker_produce_wait_degraded_ms;
} moose_health_thresholds;

/* The defaults above. */
moose_health_thresholds moose_health_thresholds_default(void);

/* The whole app: every component and the broker. */
int moose_app_health(struct moose_app *app, moose_health *out);
/* One component, plus the broker it depends on. 0, MOOSE_ENOTFOUND or MOOSE_EINVAL. */
int moose_stream_health(struct moose_app *app, const char *stream, moose_health *out);
int moose_transform_health(struct moose_app *app, const char *transform, moose_health *out);
int moose_sink_health(struct moose_app *app, const char *table, moose_health *out);
/* Replaces the thresholds; 0 or MOOSE_EINVAL (negative or unhealthy below degraded). */
int moose_app_set_health_thresholds(struct moose_app *app, const moose_health_thresholds *t);

/* ---- validation statistics ---- */

#define MOOSE_VALIDATION_MAX_FAILURES 32
#define MOOSE_VALIDATION_MAX_SAMPLES 8
#define MOOSE_VALIDATION_SAMPLE_BYTES 256
#define MOOSE_VALIDATION_SAMPLE_REASONS 4

/* Failures of one rule on one field; array indices are folded: "items[].price". */
typedef struct moose_validation_failure {
    char path[128]; /* "" for the whole record (syntax errors) */
    char rule[32];  /* "length", "range", "pattern", "type", "required", ... */
    uint64_t count;
} moose_validation_failure;

typedef struct moose_validation_sample {
    uint64_t seq;       /* 1 for the first failure ever recorded, and so on */
    int64_t time_ms;    /* wall clock, milliseconds since 1970 */
    char record[MOOSE_VALIDATION_SAMPLE_BYTES + 1]; /* the input, truncated, '\0'-terminated */
    size_t record_len;  /* the input's full length */
    bool truncated;
    uint32_t nreasons;  /* reasons[0..nreasons) */
    uint32_t more_reasons; /* failing fields not kept here */
    char reasons[MOOSE_VALIDATION_SAMPLE_REASONS][160]; /* "amount: range: 2e9 above 1e9" */
} moose_validation_sample;

typedef struct moose_validation_stats {
    uint64_t checked, passed, failed;
    /* Most frequent first; other_failures counts those beyond the table's capacity. */
    uint32_t nfailures;
    moose_validation_failure failures[MOOSE_VALIDATION_MAX_FAILURES];
    uint64_t other_failures;
    /* Most recent first. */
    uint32_t nsamples;
    moose_validation_sample samples[MOOSE_VALIDATION_MAX_SAMPLES];
} moose_validation_stats;

/*
 * Validation of records written to (or consumed from) STREAM, or of the
 * outputs of TRANSFORM. 0, MOOSE_ENOTFOUND or MOOSE_EINVAL.
 */
int moose_stream_validation_stats(struct moose_app *app, const char *stream,
                                  moose_validation_stats *out);
int moose_transform_validation_stats(struct moose_app *app, const char *transform,
                                     moose_validation_stats *out);

/* ---- the same, straight from a registry (the functions above wrap these) ---- */

int moose_metrics_registry_get(moose_metrics_registry *reg, moose_component_kind kind,
                               const char *name, moose_metrics *out);
/* NAME NULL: the whole registry. */
int moose_metrics_registry_health(moose_metrics_registry *reg, moose_component_kind kind,
                                  const char *name, moose_health *out);
int moose_metrics_registry_validation(moose_metrics_registry *reg, moose_component_kind kind,
                                      const char *name, moose_validation_stats *out);
int moose_metrics_registry_set_thresholds(moose_metrics_registry *reg,
                                          const moose_health_thresholds *t);

#ifdef __cplusplus
}
#endif

#endif
