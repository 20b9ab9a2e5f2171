/*
 * The layout of one component's metrics block, shared by the files that
 * implement recording, sampling, health and validation statistics. Nothing
 * outside runtime/metrics*.c, health*.c and validation_stats*.c includes it.
 */
#ifndef MOOSE__METRICS_COMPONENT_H
#define MOOSE__METRICS_COMPONENT_H

#include <pthread.h>

#include "metrics.h"

/* One sample per second; 61 of them span the last minute. */
#define MOOSE__RATE_SLOTS 64
#define MOOSE__RATE_WINDOW_MS 60000u
/* Distinct (path, rule) pairs kept per component; the rest are counted as "other". */
#define MOOSE__VALIDATION_SLOTS 64

typedef struct moose__rate_sample {
    uint64_t t_ms;
    uint64_t in, out, errors;
} moose__rate_sample;

typedef struct moose__validation {
    pthread_mutex_t lock;
    moose_validation_failure failures[MOOSE__VALIDATION_SLOTS];
    uint32_t nfailures;
    uint64_t other_failures;
    moose_validation_sample samples[MOOSE_VALIDATION_MAX_SAMPLES]; /* a ring */
    uint32_t sample_next, nsamples;
    uint64_t seq;
} moose__validation;

struct moose__component {
    /* First, so moose__component_stripes() reaches it without the layout. */
    moose__counter_stripe stripes[MOOSE__METRICS_STRIPES];
    moose__hist hist[MOOSE__L_COUNT];

    _Atomic int64_t lag[MOOSE_METRICS_MAX_PARTITIONS];
    _Atomic uint32_t npartitions;
    _Atomic uint64_t heartbeat_ms; /* monotonic; 0: never */
    _Atomic bool sink_failing;

    moose_component_kind kind;
    char *name;
    uint64_t created_ms;

    pthread_mutex_t lock; /* guards what follows */
    char sink_why[160];
    uint64_t sink_failing_since_ms; /* moose__metrics_now_ms() of the first failure; 0: none */
    moose__rate_sample ring[MOOSE__RATE_SLOTS];
    uint32_t ring_next, ring_len;
    uint64_t progress_total, progress_ms; /* in + out at the last change, and when */

    moose__validation validation;

    /* Consumers whose positions give the lag; the lock is held while sampling them. */
    pthread_mutex_t consumers_lock;
    void *consumers[MOOSE__METRICS_MAX_CONSUMERS];
    uint32_t nconsumers;
};

/* Sets C's lag from its consumers (metrics_kafka.c); the sampler calls it every tick. */
void moose__component_sample_lag(moose__component *c);

/* Sums counter WHICH over the stripes. */
uint64_t moose__component_total(moose__component *c, moose__counter which);
/* Records that failed here, counted once (see metrics_registry.c). */
uint64_t moose__component_errors(moose__component *c);
/* Merges the stripes of histogram WHICH into percentiles. */
void moose__hist_summary(moose__hist *h, moose_latency_summary *out);

void moose__validation_init(moose__validation *v);
void moose__validation_destroy(moose__validation *v);

/* CLOCK_MONOTONIC in milliseconds: the clock of ticks, heartbeats and health. */
uint64_t moose__metrics_now_ms(void);

/*
 * Rates from C's ring as of its newest sample: per second over the last
 * minute and over the last second. false when fewer than two samples exist.
 */
typedef struct moose__rates {
    double in_per_s, out_per_s, errors_per_s;
    double in_per_s_now, out_per_s_now;
    uint64_t window_in, window_errors; /* deltas over the minute window */
} moose__rates;
bool moose__component_rates(moose__component *c, moose__rates *out);

/*
 * C's own health (the broker left out) against T as of NOW_MS; takes no
 * registry lock, so a walk over the registry may call it.
 */
void moose__component_health(moose__component *c, const moose_health_thresholds *t,
                             uint64_t now_ms, moose_health *out);

/* Length of the valid UTF-8 sequence at S (at most LEFT bytes), or 0 if none starts there. */
size_t moose__metrics_utf8_seq(const unsigned char *s, size_t left);

/* What health is evaluated from (WHY gets "" when all is well). */
bool moose__metrics_broker_down(moose_metrics_registry *reg, char *why, size_t size);
moose_health_thresholds moose__metrics_thresholds(moose_metrics_registry *reg);
/*
 * When C's records in + out last changed, as seen by the ticks (monotonic
 * ms); *LAST_TICK_MS gets the time of the newest tick (0: never ticked).
 */
uint64_t moose__component_progress_ms(moose__component *c, uint64_t *last_tick_ms);
bool moose__component_sink_failing(moose__component *c, char *why, size_t size);
/* The same, and since when (moose__metrics_now_ms()) it has been failing without a break. */
bool moose__component_sink_failing_since(moose__component *c, char *why, size_t size,
                                         uint64_t *since_ms);

#endif
