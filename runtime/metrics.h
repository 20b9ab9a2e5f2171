/*
 * The runtime's side of observability: how streams, transforms and sinks
 * record what they do, and how the app owns, serves and shows it.
 *
 * Recording is lock-free: counters live in per-thread stripes of atomics
 * (each thread adds to its own cache line, reads sum the stripes), latency
 * histograms have log-linear buckets incremented atomically and merged on
 * read. A NULL component is accepted everywhere and records nothing, so
 * metrics can be switched off by not registering components.
 *
 * Set-up (cold): the app creates a registry, registers its components once
 * (moose__metrics_registry_add_app() does it from the app descriptor) and
 * keeps the moose__component pointers next to the workers that use them.
 */
#ifndef MOOSE__METRICS_H
#define MOOSE__METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "moose/codec.h"
#include "moose/metrics.h"
#include "moose/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct moose_app moose_app;

/* Implemented by the app (runtime/app*.c): the registry it owns, or NULL. */
moose_metrics_registry *moose__app_metrics(moose_app *app);

/* ---- counters ---- */

/*
 * RECORDS_IN counts every record offered to a component, valid or not, so
 * that in = out + filtered + failed holds for each stage and error rates
 * have the right denominator.
 */
typedef enum moose__counter {
    MOOSE__C_RECORDS_IN = 0,
    MOOSE__C_RECORDS_OUT,
    MOOSE__C_BYTES_IN,
    MOOSE__C_BYTES_OUT,
    MOOSE__C_FILTERED,
    MOOSE__C_TRANSFORM_ERRORS,
    MOOSE__C_DLQ,
    MOOSE__C_RETRIES,
    MOOSE__C_BATCHES,
    /* Only moose__metrics_validated() touches these two. */
    MOOSE__C_VALID,
    MOOSE__C_INVALID,
    MOOSE__C_COUNT
} moose__counter;

typedef enum moose__latency {
    MOOSE__L_WRITE_ACK = 0, /* moose_write() called -> broker acknowledged */
    MOOSE__L_TRANSFORM,     /* inside the user's transform function */
    MOOSE__L_END_TO_END,    /* the record's timestamp -> inserted into its table */
    MOOSE__L_COUNT
} moose__latency;

#define MOOSE__METRICS_STRIPES 8
#define MOOSE__HIST_STRIPES 4
/* 16 linear sub-buckets per power of two (<= 6.25 % error), up to 2^40 ns (18 min). */
#define MOOSE__HIST_SUB_BITS 4
#define MOOSE__HIST_MAX_EXP 40
#define MOOSE__HIST_BUCKETS ((MOOSE__HIST_MAX_EXP - MOOSE__HIST_SUB_BITS + 2) << MOOSE__HIST_SUB_BITS)

typedef struct moose__counter_stripe {
    _Alignas(64) _Atomic uint64_t v[MOOSE__C_COUNT];
} moose__counter_stripe;

typedef struct moose__hist_stripe {
    _Alignas(64) _Atomic uint64_t sum_ns;
    _Atomic uint64_t max_ns;
    _Atomic uint64_t buckets[MOOSE__HIST_BUCKETS];
} moose__hist_stripe;

typedef struct moose__hist {
    moose__hist_stripe stripes[MOOSE__HIST_STRIPES];
} moose__hist;

typedef struct moose__component moose__component;

/* A thread's stripe, 1-based (0: not assigned yet). */
extern _Thread_local unsigned moose__metrics_tls_stripe;
unsigned moose__metrics_stripe_assign(void);

static inline unsigned moose__metrics_stripe(void) {
    unsigned s = moose__metrics_tls_stripe;
    if (s == 0)
        s = moose__metrics_stripe_assign();
    return s - 1;
}

/* The component's counter stripes (the first member of moose__component). */
static inline moose__counter_stripe *moose__component_stripes(moose__component *c) {
    return (moose__counter_stripe *)(void *)c;
}

/* Adds N to counter WHICH of component C (NULL: nothing). */
static inline void moose__count(moose__component *c, moose__counter which, uint64_t n) {
    if (c == NULL)
        return;
    moose__counter_stripe *s = moose__component_stripes(c) + moose__metrics_stripe();
    atomic_fetch_add_explicit(&s->v[which], n, memory_order_relaxed);
}

/* Records one latency of NS nanoseconds (NULL component: nothing). */
void moose__latency_record(moose__component *c, moose__latency which, uint64_t ns);

/* CLOCK_MONOTONIC, nanoseconds: what latencies are measured with. */
uint64_t moose__metrics_now_ns(void);
/* CLOCK_REALTIME, microseconds since 1970: to compare with moose_datetime stamps. */
int64_t moose__metrics_wall_us(void);

/* Consumer lag of PARTITION (messages behind the high watermark); set by consumers. */
void moose__metrics_set_lag(moose__component *c, int32_t partition, int64_t lag);

/*
 * The outcome of one validation of RECORD (LEN bytes, may be NULL) on C:
 * ERRS NULL or empty counts a pass; otherwise a failure, with every field
 * error counted per path and rule and the record kept among the samples.
 * This is the only way to count invalid records (moose_metrics.invalid).
 */
void moose__metrics_validated(moose__component *c, const char *record, size_t len,
                              const moose_errors *errs);

/* ---- facts that health is evaluated from ---- */

/* The component is alive (workers call it at least once per poll loop). */
void moose__metrics_heartbeat(moose__component *c);
/* The table store refuses inserts (WHY: a sentence), or works again (FAILING false). */
void moose__metrics_sink_failing(moose__component *c, bool failing, const char *why);
/* The Kafka cluster answers, or not (WHY: what failed). */
void moose__metrics_set_broker_up(moose_metrics_registry *reg, bool up, const char *why);

/*
 * What Kafka clients observe of the brokers while librdkafka retries out of
 * sight (runtime/kafka_health.c reports them). Health counts each kind over
 * the last broker_window_s seconds (moose_health_thresholds).
 */
typedef enum moose__broker_symptom {
    MOOSE__BROKER_REQUEST_ERRORS = 0, /* requests retried, failed or timed out */
    MOOSE__BROKER_COMMIT_FAILED,      /* an offset commit failed */
    MOOSE__BROKER_JOIN_FAILED,        /* a consumer group could not be joined */
    MOOSE__BROKER_METADATA_ERRORS,    /* metadata answered with errors */
    MOOSE__BROKER_NO_LEADER,          /* partitions without a leader, seen once */
    MOOSE__BROKER_SYMPTOMS
} moose__broker_symptom;

/* Per-second counts of one symptom over the last minute, and the latest sentence. */
#define MOOSE__SYMPTOM_SLOTS 64
typedef struct moose__symptom_ring {
    uint64_t sec[MOOSE__SYMPTOM_SLOTS]; /* the monotonic second a slot counts (0: never) */
    uint64_t count[MOOSE__SYMPTOM_SLOTS];
    uint64_t sum[MOOSE__SYMPTOM_SLOTS];
    char why[160];
} moose__symptom_ring;

/* N more of symptom S, WHY the latest one in a sentence. */
void moose__metrics_broker_symptom(moose_metrics_registry *reg, moose__broker_symptom s,
                                   uint64_t n, const char *why);
/* The same at NOW_MS (the clock of moose__metrics_health_at), for tests. */
void moose__metrics_broker_symptom_at(moose_metrics_registry *reg, moose__broker_symptom s,
                                      uint64_t n, const char *why, uint64_t now_ms);
/*
 * How many of symptom S were seen in the WINDOW_S seconds up to NOW_MS, and
 * the latest one's sentence in WHY ("" when none).
 */
uint64_t moose__metrics_broker_symptoms_in(moose_metrics_registry *reg, moose__broker_symptom s,
                                           uint64_t now_ms, uint32_t window_s, char *why,
                                           size_t why_size);
/*
 * Seconds within the window whose requests' average round trip (or, with
 * PRODUCE_WAIT, whose producers' reported average wait before sending) was
 * at least LIMIT_US; the worst such average, and the latest broker (client)
 * named in WHO.
 */
uint32_t moose__metrics_broker_slow_seconds(moose_metrics_registry *reg, bool produce_wait,
                                            uint64_t now_ms, uint32_t window_s,
                                            uint64_t limit_us, uint64_t *worst_us, char *who,
                                            size_t who_size);
/* A producer CLIENT's records waited WAIT_US on average before their produce request went out. */
void moose__metrics_broker_produce_wait(moose_metrics_registry *reg, int64_t wait_us,
                                        const char *client);
void moose__metrics_broker_produce_wait_at(moose_metrics_registry *reg, int64_t wait_us,
                                           const char *client, uint64_t now_ms);
/* One request to BROKER took RTT_US microseconds there and back. */
void moose__metrics_broker_rtt(moose_metrics_registry *reg, int64_t rtt_us, const char *broker);
void moose__metrics_broker_rtt_at(moose_metrics_registry *reg, int64_t rtt_us, const char *broker,
                                  uint64_t now_ms);

/*
 * Whether the Kafka cluster answers, asked by the sampler every INTERVAL_MS
 * (0: every 5 s): FN returns true when it does, or false with WHY filled.
 * moose__metrics_kafka_probe() is such a function for an rd_kafka_t handle.
 * Setting FN NULL waits for a probe in progress, so OPAQUE may then be freed.
 */
typedef bool (*moose__broker_probe_fn)(void *opaque, char *why, size_t why_size);
void moose__metrics_set_broker_probe(moose_metrics_registry *reg, moose__broker_probe_fn fn,
                                     void *opaque, uint32_t interval_ms);
/* Runs the probe now and records its verdict. 0, or MOOSE_ENOTFOUND when no probe is set. */
int moose__metrics_probe_broker(moose_metrics_registry *reg);
/*
 * A probe for moose__metrics_set_broker_probe(): RK (an rd_kafka_t *) asks
 * for the cluster's metadata, waiting at most 2 s.
 */
bool moose__metrics_kafka_probe(void *rk, char *why, size_t why_size);

/*
 * Consumer RK (an rd_kafka_t * of a transform's or sink's consumer) feeds
 * C's lag: on every tick the sampler reads RK's assigned partitions, its
 * positions and the high watermarks librdkafka cached from fetches (no
 * request goes to the broker) and sets lag = high watermark - position.
 * Partitions assigned to none of C's consumers read -1 (unknown: another
 * process owns them). A component takes up to MOOSE__METRICS_MAX_CONSUMERS.
 * 0, MOOSE_ENOMEM (full) or MOOSE_EINVAL. Remove RK before destroying it:
 * removal waits for a sample in progress.
 */
#define MOOSE__METRICS_MAX_CONSUMERS 32
int moose__metrics_add_consumer(moose__component *c, void *rk);
void moose__metrics_remove_consumer(moose__component *c, void *rk);

/* The workers of C stopped on purpose: no more heartbeats are expected. */
void moose__metrics_heartbeat_end(moose__component *c);

/* ---- registry (cold path) ---- */

/*
 * NULL with ERRSTR filled on failure. With MOOSE_METRICS=off in the
 * environment the registry registers no components: recording costs one
 * NULL check, the getters answer MOOSE_ENOTFOUND, health still judges the
 * broker.
 */
moose_metrics_registry *moose__metrics_registry_new(char *errstr, size_t errstr_size);
/* Stops the sampler, frees every component. Accepts NULL. */
void moose__metrics_registry_free(moose_metrics_registry *reg);

/* Registers every stream, transform and table sink of DESC. 0 or MOOSE_ENOMEM. */
int moose__metrics_registry_add_app(moose_metrics_registry *reg, const moose_app_desc *desc);

/* The component KIND/NAME, created when missing. NULL when memory runs out. */
moose__component *moose__metrics_component(moose_metrics_registry *reg, moose_component_kind kind,
                                           const char *name);
/* The component KIND/NAME, or NULL. */
moose__component *moose__metrics_find(moose_metrics_registry *reg, moose_component_kind kind,
                                      const char *name);

/*
 * Samples every component's totals into its per-second ring (rates, progress
 * for stall detection). The sampler thread calls it once a second; tests call
 * it with their own clock (NOW_MS: any monotonic milliseconds).
 */
void moose__metrics_tick(moose_metrics_registry *reg, uint64_t now_ms);
/*
 * Starts a thread that ticks once a second until the registry is freed
 * (a second call does nothing). 0 or MOOSE_ENOMEM. The app calls it when it
 * opens; moose__http_start() and moose__status_start() call it too. Without
 * ticks, rates read 0 and "stalled" is judged from heartbeats only.
 */
int moose__metrics_start_sampler(moose_metrics_registry *reg);

/* Health as of NOW_MS (the clock moose__metrics_tick() was given). NAME NULL: everything. */
int moose__metrics_health_at(moose_metrics_registry *reg, moose_component_kind kind,
                             const char *name, uint64_t now_ms, moose_health *out);

/* Visits every component in registration order (under the registry's lock: no registering). */
typedef void (*moose__component_visit_fn)(moose_component_kind kind, const char *name,
                                          moose__component *c, void *opaque);
void moose__metrics_each(moose_metrics_registry *reg, moose__component_visit_fn fn, void *opaque);

/* A component's metrics and validation statistics (what the public getters return). */
void moose__component_snapshot(moose_metrics_registry *reg, moose__component *c,
                               moose_metrics *out);
void moose__component_validation(moose__component *c, moose_validation_stats *out);

/* ---- exposition ---- */

/* The Prometheus text format (version 0.0.4) of every component. 0 or MOOSE_ENOMEM. */
int moose__metrics_prometheus(moose_metrics_registry *reg, FILE *out);
/* JSON documents served at /health, /streams and /validation (malloc'd; NULL: no memory). */
char *moose__metrics_health_json(moose_metrics_registry *reg, moose_health_status *status);
char *moose__metrics_streams_json(moose_metrics_registry *reg);
char *moose__metrics_validation_json(moose_metrics_registry *reg);

/* ---- HTTP server (libmicrohttpd) ---- */

typedef struct moose__http moose__http;

/*
 * Serves /metrics, /health, /validation and /streams of REG on ADDR
 * ("127.0.0.1:9464", "0.0.0.0:0", ":8080" = 127.0.0.1; port 0 picks a free
 * one). NULL with ERRSTR filled on failure.
 */
moose__http *moose__http_start(moose_metrics_registry *reg, const char *addr, char *errstr,
                               size_t errstr_size);
/* The port actually bound (useful with port 0). */
uint16_t moose__http_port(const moose__http *http);
/* "127.0.0.1:40123": what a client connects to. */
const char *moose__http_address(const moose__http *http);
/* Accepts NULL. */
void moose__http_stop(moose__http *http);

/* ---- command line: `APP metrics [--json]`, `APP health` against a running app ---- */

/*
 * Fetches HTTP_ADDR's /streams and prints a compact table (JSON as served
 * with JSON true) to OUT; problems go to ERR. Returns the exit status: 0, or
 * 2 when the app cannot be reached (the message names the address).
 */
int moose__cli_metrics(const char *http_addr, bool json, FILE *out, FILE *err);
/* Prints HTTP_ADDR's /health; exit status 0 healthy or degraded, 1 unhealthy, 2 unreachable. */
int moose__cli_health(const char *http_addr, bool json, FILE *out, FILE *err);

/* ---- status line of `APP run` ---- */

typedef struct moose__status moose__status;

/*
 * Every INTERVAL_MS (0: 1 s on a terminal, 10 s otherwise), shows totals and
 * rates (records/s in and out, lag, errors, health): one line refreshed in
 * place on OUT when OUT is a terminal; otherwise an info line through the
 * logger (log.h), which goes where the other log lines go. NULL when memory
 * runs out.
 */
moose__status *moose__status_start(moose_metrics_registry *reg, FILE *out, int interval_ms);
/* Stops the thread; on a terminal, ends the line. Accepts NULL. */
void moose__status_stop(moose__status *st);
/* The status as one line of text (no newline): what the two forms above print. */
void moose__status_format(moose_metrics_registry *reg, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
