/*
 * The registry of components (streams, transforms, table sinks), their
 * counters, lags and facts, and the once-a-second sampler that turns totals
 * into rates and progress. The registry's lock is only taken on set-up, on
 * ticks and on reads: recording never takes it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "metrics_component.h"
#include "moose/error.h"

struct moose_metrics_registry {
    bool disabled; /* MOOSE_METRICS=off: no components, so recording is a NULL check */
    pthread_mutex_t lock; /* guards items, thresholds, broker_why and the sampler fields */
    moose__component **items;
    size_t len, cap;
    moose_health_thresholds thresholds;

    _Atomic bool broker_down;
    char broker_why[160];

    /* What the Kafka clients observed of the brokers, per second (see broker_symptoms_in). */
    pthread_mutex_t symptoms_lock;
    moose__symptom_ring symptoms[MOOSE__BROKER_SYMPTOMS];
    moose__symptom_ring rtt; /* count: requests; sum: their round trips in microseconds */
    moose__symptom_ring produce_wait; /* count: reports; sum: their average waits (microseconds) */

    pthread_t sampler;
    pthread_cond_t wake;
    bool sampler_running, stopping;

    /* Held while a probe runs, so clearing the probe waits for it. */
    pthread_mutex_t probe_lock;
    moose__broker_probe_fn probe;
    void *probe_opaque;
    uint32_t probe_interval_ms;
    uint64_t probe_last_ms;
};

_Thread_local unsigned moose__metrics_tls_stripe;

unsigned moose__metrics_stripe_assign(void) {
    /* Round robin, so two threads share a stripe only beyond STRIPES threads. */
    static _Atomic unsigned next_stripe;
    unsigned s = atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed);
    moose__metrics_tls_stripe = s % MOOSE__METRICS_STRIPES + 1;
    return moose__metrics_tls_stripe;
}

uint64_t moose__metrics_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t moose__metrics_now_ms(void) {
    return moose__metrics_now_ns() / 1000000u;
}

int64_t moose__metrics_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *moose_component_kind_name(moose_component_kind kind) {
    switch (kind) {
    case MOOSE_COMPONENT_STREAM:
        return "stream";
    case MOOSE_COMPONENT_TRANSFORM:
        return "transform";
    case MOOSE_COMPONENT_SINK:
        return "sink";
    }
    return "unknown";
}

moose_health_thresholds moose_health_thresholds_default(void) {
    return (moose_health_thresholds){
        .lag_degraded = 10000,
        .lag_unhealthy = 0,
        .error_rate_degraded = 0.05,
        .error_rate_unhealthy = 0.5,
        .error_min_records = 20,
        .stall_s = 30,
        .sink_failing_unhealthy_s = 60,
        .broker_window_s = 10,
        .broker_symptoms_degraded = 3,
        .broker_rtt_degraded_ms = 200,
        .broker_produce_wait_degraded_ms = 500,
    };
}

/* ---- broker symptoms ---- */

static void ring_add(moose__symptom_ring *r, uint64_t now_ms, uint64_t n, uint64_t value,
                     const char *why) {
    uint64_t sec = now_ms / 1000;
    size_t slot = sec % MOOSE__SYMPTOM_SLOTS;
    if (r->sec[slot] != sec) {
        r->sec[slot] = sec;
        r->count[slot] = 0;
        r->sum[slot] = 0;
    }
    r->count[slot] += n;
    r->sum[slot] += value;
    if (why)
        snprintf(r->why, sizeof r->why, "%s", why);
}

/* Totals of R over the WINDOW_S seconds up to NOW_MS (this second included). */
static void ring_window(const moose__symptom_ring *r, uint64_t now_ms, uint32_t window_s,
                        uint64_t *count, uint64_t *sum) {
    uint64_t sec = now_ms / 1000;
    *count = *sum = 0;
    if (window_s > MOOSE__SYMPTOM_SLOTS)
        window_s = MOOSE__SYMPTOM_SLOTS;
    for (size_t i = 0; i < MOOSE__SYMPTOM_SLOTS; i++) {
        if (r->sec[i] == 0 || r->sec[i] > sec || sec - r->sec[i] >= window_s)
            continue;
        *count += r->count[i];
        *sum += r->sum[i];
    }
}

void moose__metrics_broker_symptom_at(moose_metrics_registry *reg, moose__broker_symptom s,
                                      uint64_t n, const char *why, uint64_t now_ms) {
    if (reg == NULL || (unsigned)s >= MOOSE__BROKER_SYMPTOMS || n == 0)
        return;
    pthread_mutex_lock(&reg->symptoms_lock);
    ring_add(&reg->symptoms[s], now_ms, n, 0, why);
    pthread_mutex_unlock(&reg->symptoms_lock);
}

void moose__metrics_broker_symptom(moose_metrics_registry *reg, moose__broker_symptom s,
                                   uint64_t n, const char *why) {
    moose__metrics_broker_symptom_at(reg, s, n, why, moose__metrics_now_ms());
}

void moose__metrics_broker_rtt_at(moose_metrics_registry *reg, int64_t rtt_us, const char *broker,
                                  uint64_t now_ms) {
    if (reg == NULL || rtt_us < 0)
        return;
    pthread_mutex_lock(&reg->symptoms_lock);
    ring_add(&reg->rtt, now_ms, 1, (uint64_t)rtt_us, broker);
    pthread_mutex_unlock(&reg->symptoms_lock);
}

void moose__metrics_broker_rtt(moose_metrics_registry *reg, int64_t rtt_us, const char *broker) {
    moose__metrics_broker_rtt_at(reg, rtt_us, broker, moose__metrics_now_ms());
}

uint64_t moose__metrics_broker_symptoms_in(moose_metrics_registry *reg, moose__broker_symptom s,
                                           uint64_t now_ms, uint32_t window_s, char *why,
                                           size_t why_size) {
    uint64_t count, sum;
    pthread_mutex_lock(&reg->symptoms_lock);
    ring_window(&reg->symptoms[s], now_ms, window_s, &count, &sum);
    snprintf(why, why_size, "%s", count ? reg->symptoms[s].why : "");
    pthread_mutex_unlock(&reg->symptoms_lock);
    return count;
}

void moose__metrics_broker_produce_wait_at(moose_metrics_registry *reg, int64_t wait_us,
                                           const char *client, uint64_t now_ms) {
    if (reg == NULL || wait_us < 0)
        return;
    pthread_mutex_lock(&reg->symptoms_lock);
    ring_add(&reg->produce_wait, now_ms, 1, (uint64_t)wait_us, client);
    pthread_mutex_unlock(&reg->symptoms_lock);
}

void moose__metrics_broker_produce_wait(moose_metrics_registry *reg, int64_t wait_us,
                                        const char *client) {
    moose__metrics_broker_produce_wait_at(reg, wait_us, client, moose__metrics_now_ms());
}

/*
 * Seconds of R within the window whose average (sum / count) is at least
 * LIMIT_US; *WORST_US gets the highest such average.
 */
static uint32_t ring_slow_seconds(const moose__symptom_ring *r, uint64_t now_ms,
                                  uint32_t window_s, uint64_t limit_us, uint64_t *worst_us) {
    uint64_t sec = now_ms / 1000;
    uint32_t slow = 0;
    *worst_us = 0;
    if (window_s > MOOSE__SYMPTOM_SLOTS)
        window_s = MOOSE__SYMPTOM_SLOTS;
    for (size_t i = 0; i < MOOSE__SYMPTOM_SLOTS; i++) {
        if (r->sec[i] == 0 || r->sec[i] > sec || sec - r->sec[i] >= window_s || r->count[i] == 0)
            continue;
        uint64_t avg = r->sum[i] / r->count[i];
        if (avg < limit_us)
            continue;
        slow++;
        if (avg > *worst_us)
            *worst_us = avg;
    }
    return slow;
}

uint32_t moose__metrics_broker_slow_seconds(moose_metrics_registry *reg, bool produce_wait,
                                            uint64_t now_ms, uint32_t window_s,
                                            uint64_t limit_us, uint64_t *worst_us, char *who,
                                            size_t who_size) {
    pthread_mutex_lock(&reg->symptoms_lock);
    const moose__symptom_ring *r = produce_wait ? &reg->produce_wait : &reg->rtt;
    uint32_t n = ring_slow_seconds(r, now_ms, window_s, limit_us, worst_us);
    snprintf(who, who_size, "%s", n ? r->why : "");
    pthread_mutex_unlock(&reg->symptoms_lock);
    return n;
}

/* ---- components ---- */

static void component_free(moose__component *c) {
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->consumers_lock);
    moose__validation_destroy(&c->validation);
    free(c->name);
    free(c);
}

static moose__component *component_new(moose_component_kind kind, const char *name) {
    /* Cache-line aligned, so each stripe owns its line. */
    size_t size = (sizeof(moose__component) + 63) & ~(size_t)63;
    moose__component *c = aligned_alloc(64, size);
    if (c == NULL)
        return NULL;
    memset(c, 0, size);
    c->name = strdup(name);
    if (c->name == NULL) {
        free(c);
        return NULL;
    }
    c->kind = kind;
    c->created_ms = moose__metrics_now_ms();
    c->progress_ms = c->created_ms;
    for (size_t i = 0; i < MOOSE_METRICS_MAX_PARTITIONS; i++)
        atomic_init(&c->lag[i], -1);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->consumers_lock, NULL);
    moose__validation_init(&c->validation);
    return c;
}

uint64_t moose__component_total(moose__component *c, moose__counter which) {
    uint64_t sum = 0;
    for (size_t i = 0; i < MOOSE__METRICS_STRIPES; i++)
        sum += atomic_load_explicit(&c->stripes[i].v[which], memory_order_relaxed);
    return sum;
}

uint64_t moose__component_errors(moose__component *c) {
    /*
     * A failed record is counted where it failed (invalid, transform error)
     * and again in the DLQ when the policy keeps it there; a table's
     * rejections are only in the DLQ. The larger of the two counts each
     * failure once whichever way it went.
     */
    uint64_t failed = moose__component_total(c, MOOSE__C_INVALID) +
                      moose__component_total(c, MOOSE__C_TRANSFORM_ERRORS);
    uint64_t dlq = moose__component_total(c, MOOSE__C_DLQ);
    return failed > dlq ? failed : dlq;
}

static moose__component *find_locked(moose_metrics_registry *reg, moose_component_kind kind,
                                     const char *name) {
    for (size_t i = 0; i < reg->len; i++) {
        moose__component *c = reg->items[i];
        if (c->kind == kind && strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

moose__component *moose__metrics_find(moose_metrics_registry *reg, moose_component_kind kind,
                                      const char *name) {
    if (reg == NULL || name == NULL)
        return NULL;
    pthread_mutex_lock(&reg->lock);
    moose__component *c = find_locked(reg, kind, name);
    pthread_mutex_unlock(&reg->lock);
    return c;
}

moose__component *moose__metrics_component(moose_metrics_registry *reg, moose_component_kind kind,
                                           const char *name) {
    if (reg == NULL || name == NULL || reg->disabled)
        return NULL;
    pthread_mutex_lock(&reg->lock);
    moose__component *c = find_locked(reg, kind, name);
    if (c != NULL)
        goto out;
    if (reg->len == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        moose__component **items = realloc(reg->items, cap * sizeof *items);
        if (items == NULL)
            goto out;
        reg->items = items;
        reg->cap = cap;
    }
    c = component_new(kind, name);
    if (c != NULL)
        reg->items[reg->len++] = c;
out:
    pthread_mutex_unlock(&reg->lock);
    return c;
}

int moose__metrics_registry_add_app(moose_metrics_registry *reg, const moose_app_desc *desc) {
    if (reg == NULL || desc == NULL)
        return MOOSE_EINVAL;
    if (reg->disabled)
        return 0;
    for (uint32_t i = 0; i < desc->nstreams; i++)
        if (!moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, desc->streams[i]->name))
            return MOOSE_ENOMEM;
    for (uint32_t i = 0; i < desc->ntransforms; i++)
        if (!moose__metrics_component(reg, MOOSE_COMPONENT_TRANSFORM, desc->transforms[i]->name))
            return MOOSE_ENOMEM;
    for (uint32_t i = 0; i < desc->ntables; i++)
        if (!moose__metrics_component(reg, MOOSE_COMPONENT_SINK, desc->tables[i]->name))
            return MOOSE_ENOMEM;
    return 0;
}

void moose__metrics_each(moose_metrics_registry *reg, moose__component_visit_fn fn, void *opaque) {
    if (reg == NULL)
        return;
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->len; i++)
        fn(reg->items[i]->kind, reg->items[i]->name, reg->items[i], opaque);
    pthread_mutex_unlock(&reg->lock);
}

/* ---- facts ---- */

void moose__metrics_set_lag(moose__component *c, int32_t partition, int64_t lag) {
    if (c == NULL || partition < 0 || partition >= MOOSE_METRICS_MAX_PARTITIONS)
        return;
    atomic_store_explicit(&c->lag[partition], lag < 0 ? 0 : lag, memory_order_relaxed);
    uint32_t n = atomic_load_explicit(&c->npartitions, memory_order_relaxed);
    while ((uint32_t)partition + 1 > n &&
           !atomic_compare_exchange_weak(&c->npartitions, &n, (uint32_t)partition + 1))
        ;
}

/*
 * The same clock at tick resolution (a few ms): a fifth of the cost of a
 * precise read, and plenty for heartbeats judged in tens of seconds.
 */
static uint64_t coarse_now_ms(void) {
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void moose__metrics_heartbeat(moose__component *c) {
    if (c == NULL)
        return;
    atomic_store_explicit(&c->heartbeat_ms, coarse_now_ms(), memory_order_relaxed);
}

void moose__metrics_sink_failing(moose__component *c, bool failing, const char *why) {
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    snprintf(c->sink_why, sizeof c->sink_why, "%s", failing && why ? why : "");
    /* Since the first failure of a run of them: how long decides between degraded and unhealthy. */
    if (!failing)
        c->sink_failing_since_ms = 0;
    else if (c->sink_failing_since_ms == 0)
        c->sink_failing_since_ms = moose__metrics_now_ms();
    atomic_store(&c->sink_failing, failing);
    pthread_mutex_unlock(&c->lock);
}

void moose__metrics_set_broker_up(moose_metrics_registry *reg, bool up, const char *why) {
    if (reg == NULL)
        return;
    pthread_mutex_lock(&reg->lock);
    snprintf(reg->broker_why, sizeof reg->broker_why, "%s", !up && why ? why : "");
    atomic_store(&reg->broker_down, !up);
    pthread_mutex_unlock(&reg->lock);
}

bool moose__metrics_broker_down(moose_metrics_registry *reg, char *why, size_t size) {
    pthread_mutex_lock(&reg->lock);
    bool down = atomic_load(&reg->broker_down);
    snprintf(why, size, "%s", down ? reg->broker_why : "");
    pthread_mutex_unlock(&reg->lock);
    return down;
}

moose_health_thresholds moose__metrics_thresholds(moose_metrics_registry *reg) {
    pthread_mutex_lock(&reg->lock);
    moose_health_thresholds t = reg->thresholds;
    pthread_mutex_unlock(&reg->lock);
    return t;
}

int moose_metrics_registry_set_thresholds(moose_metrics_registry *reg,
                                          const moose_health_thresholds *t) {
    if (reg == NULL || t == NULL || t->lag_degraded < 0 || t->lag_unhealthy < 0 ||
        t->error_rate_degraded < 0 || t->error_rate_unhealthy < 0)
        return MOOSE_EINVAL;
    if (t->lag_unhealthy > 0 && t->lag_degraded > 0 && t->lag_unhealthy < t->lag_degraded)
        return MOOSE_EINVAL;
    if (t->error_rate_unhealthy > 0 && t->error_rate_degraded > 0 &&
        t->error_rate_unhealthy < t->error_rate_degraded)
        return MOOSE_EINVAL;
    /* Symptoms are kept per second for a minute: a longer window would silently shrink. */
    if (t->broker_window_s > MOOSE__SYMPTOM_SLOTS - 1)
        return MOOSE_EINVAL;
    pthread_mutex_lock(&reg->lock);
    reg->thresholds = *t;
    pthread_mutex_unlock(&reg->lock);
    return 0;
}

void moose__metrics_heartbeat_end(moose__component *c) {
    if (c == NULL)
        return;
    atomic_store_explicit(&c->heartbeat_ms, 0, memory_order_relaxed);
}

void moose__metrics_set_broker_probe(moose_metrics_registry *reg, moose__broker_probe_fn fn,
                                     void *opaque, uint32_t interval_ms) {
    if (reg == NULL)
        return;
    pthread_mutex_lock(&reg->probe_lock);
    reg->probe = fn;
    reg->probe_opaque = opaque;
    reg->probe_interval_ms = interval_ms ? interval_ms : 5000;
    reg->probe_last_ms = 0;
    pthread_mutex_unlock(&reg->probe_lock);
}

static int probe_locked(moose_metrics_registry *reg, uint64_t now_ms) {
    if (reg->probe == NULL)
        return MOOSE_ENOTFOUND;
    char why[160] = "";
    bool up = reg->probe(reg->probe_opaque, why, sizeof why);
    reg->probe_last_ms = now_ms;
    moose__metrics_set_broker_up(reg, up, why);
    return 0;
}

int moose__metrics_probe_broker(moose_metrics_registry *reg) {
    if (reg == NULL)
        return MOOSE_EINVAL;
    pthread_mutex_lock(&reg->probe_lock);
    int rc = probe_locked(reg, moose__metrics_now_ms());
    pthread_mutex_unlock(&reg->probe_lock);
    return rc;
}

/* The sampler's probe: only when one is set and its interval has passed. */
static void probe_if_due(moose_metrics_registry *reg, uint64_t now_ms) {
    pthread_mutex_lock(&reg->probe_lock);
    if (reg->probe && now_ms - reg->probe_last_ms >= reg->probe_interval_ms)
        probe_locked(reg, now_ms);
    pthread_mutex_unlock(&reg->probe_lock);
}

/* ---- sampling: rates and progress ---- */

int moose__metrics_add_consumer(moose__component *c, void *rk) {
    if (c == NULL || rk == NULL)
        return MOOSE_EINVAL;
    int rc = MOOSE_ENOMEM;
    pthread_mutex_lock(&c->consumers_lock);
    if (c->nconsumers < MOOSE__METRICS_MAX_CONSUMERS) {
        c->consumers[c->nconsumers++] = rk;
        rc = 0;
    }
    pthread_mutex_unlock(&c->consumers_lock);
    return rc;
}

void moose__metrics_remove_consumer(moose__component *c, void *rk) {
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->consumers_lock);
    for (uint32_t i = 0; i < c->nconsumers; i++) {
        if (c->consumers[i] == rk) {
            c->consumers[i] = c->consumers[--c->nconsumers];
            break;
        }
    }
    pthread_mutex_unlock(&c->consumers_lock);
}

static void component_tick(moose__component *c, uint64_t now_ms) {
    moose__component_sample_lag(c);
    uint64_t in = moose__component_total(c, MOOSE__C_RECORDS_IN);
    uint64_t out = moose__component_total(c, MOOSE__C_RECORDS_OUT);
    uint64_t errors = moose__component_errors(c);
    pthread_mutex_lock(&c->lock);
    c->ring[c->ring_next] = (moose__rate_sample){now_ms, in, out, errors};
    c->ring_next = (c->ring_next + 1) % MOOSE__RATE_SLOTS;
    if (c->ring_len < MOOSE__RATE_SLOTS)
        c->ring_len++;
    if (in + out != c->progress_total) {
        c->progress_total = in + out;
        c->progress_ms = now_ms;
    }
    pthread_mutex_unlock(&c->lock);
}

void moose__metrics_tick(moose_metrics_registry *reg, uint64_t now_ms) {
    if (reg == NULL)
        return;
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->len; i++)
        component_tick(reg->items[i], now_ms);
    pthread_mutex_unlock(&reg->lock);
}

static const moose__rate_sample *ring_at(const moose__component *c, uint32_t age) {
    /* AGE 0: the newest sample. */
    return &c->ring[(c->ring_next + MOOSE__RATE_SLOTS - 1 - age) % MOOSE__RATE_SLOTS];
}

static double per_s(uint64_t delta, uint64_t ms) {
    return ms ? (double)delta * 1000.0 / (double)ms : 0.0;
}

bool moose__component_rates(moose__component *c, moose__rates *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->lock);
    bool ok = c->ring_len >= 2;
    if (ok) {
        const moose__rate_sample *newest = ring_at(c, 0), *prev = ring_at(c, 1);
        const moose__rate_sample *oldest = prev;
        for (uint32_t age = 2; age < c->ring_len; age++) {
            const moose__rate_sample *s = ring_at(c, age);
            if (newest->t_ms - s->t_ms > MOOSE__RATE_WINDOW_MS)
                break;
            oldest = s;
        }
        uint64_t span = newest->t_ms - oldest->t_ms, last = newest->t_ms - prev->t_ms;
        out->window_in = newest->in - oldest->in;
        out->window_errors = newest->errors - oldest->errors;
        out->in_per_s = per_s(out->window_in, span);
        out->out_per_s = per_s(newest->out - oldest->out, span);
        out->errors_per_s = per_s(out->window_errors, span);
        out->in_per_s_now = per_s(newest->in - prev->in, last);
        out->out_per_s_now = per_s(newest->out - prev->out, last);
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

uint64_t moose__component_progress_ms(moose__component *c, uint64_t *last_tick_ms) {
    pthread_mutex_lock(&c->lock);
    uint64_t ms = c->progress_ms;
    *last_tick_ms = c->ring_len ? ring_at(c, 0)->t_ms : 0;
    pthread_mutex_unlock(&c->lock);
    return ms;
}

bool moose__component_sink_failing(moose__component *c, char *why, size_t size) {
    return moose__component_sink_failing_since(c, why, size, NULL);
}

bool moose__component_sink_failing_since(moose__component *c, char *why, size_t size,
                                         uint64_t *since_ms) {
    pthread_mutex_lock(&c->lock);
    bool failing = atomic_load(&c->sink_failing);
    snprintf(why, size, "%s", failing ? c->sink_why : "");
    if (since_ms)
        *since_ms = failing ? c->sink_failing_since_ms : 0;
    pthread_mutex_unlock(&c->lock);
    return failing;
}

/* ---- reading ---- */

void moose__component_snapshot(moose_metrics_registry *reg, moose__component *c,
                               moose_metrics *out) {
    (void)reg;
    memset(out, 0, sizeof *out);
    out->records_in = moose__component_total(c, MOOSE__C_RECORDS_IN);
    out->records_out = moose__component_total(c, MOOSE__C_RECORDS_OUT);
    out->bytes_in = moose__component_total(c, MOOSE__C_BYTES_IN);
    out->bytes_out = moose__component_total(c, MOOSE__C_BYTES_OUT);
    out->filtered = moose__component_total(c, MOOSE__C_FILTERED);
    out->invalid = moose__component_total(c, MOOSE__C_INVALID);
    out->transform_errors = moose__component_total(c, MOOSE__C_TRANSFORM_ERRORS);
    out->dlq = moose__component_total(c, MOOSE__C_DLQ);
    out->retries = moose__component_total(c, MOOSE__C_RETRIES);
    out->batches = moose__component_total(c, MOOSE__C_BATCHES);

    moose__rates rates;
    moose__component_rates(c, &rates);
    out->in_per_s = rates.in_per_s;
    out->out_per_s = rates.out_per_s;
    out->errors_per_s = rates.errors_per_s;
    out->in_per_s_now = rates.in_per_s_now;
    out->out_per_s_now = rates.out_per_s_now;

    moose__hist_summary(&c->hist[MOOSE__L_WRITE_ACK], &out->write_ack);
    moose__hist_summary(&c->hist[MOOSE__L_TRANSFORM], &out->transform);
    moose__hist_summary(&c->hist[MOOSE__L_END_TO_END], &out->end_to_end);

    out->npartitions = atomic_load_explicit(&c->npartitions, memory_order_relaxed);
    for (uint32_t p = 0; p < out->npartitions; p++) {
        out->lag[p] = atomic_load_explicit(&c->lag[p], memory_order_relaxed);
        if (out->lag[p] > 0)
            out->lag_total += out->lag[p];
    }
    out->uptime_ms = moose__metrics_now_ms() - c->created_ms;
}

int moose_metrics_registry_get(moose_metrics_registry *reg, moose_component_kind kind,
                               const char *name, moose_metrics *out) {
    if (reg == NULL || name == NULL || out == NULL)
        return MOOSE_EINVAL;
    moose__component *c = moose__metrics_find(reg, kind, name);
    if (c == NULL)
        return MOOSE_ENOTFOUND;
    moose__component_snapshot(reg, c, out);
    return 0;
}

int moose_metrics_registry_validation(moose_metrics_registry *reg, moose_component_kind kind,
                                      const char *name, moose_validation_stats *out) {
    if (reg == NULL || name == NULL || out == NULL)
        return MOOSE_EINVAL;
    moose__component *c = moose__metrics_find(reg, kind, name);
    if (c == NULL)
        return MOOSE_ENOTFOUND;
    moose__component_validation(c, out);
    return 0;
}

/* ---- life cycle ---- */

moose_metrics_registry *moose__metrics_registry_new(char *errstr, size_t errstr_size) {
    moose_metrics_registry *reg = calloc(1, sizeof *reg);
    if (reg == NULL) {
        snprintf(errstr, errstr_size, "metrics registry: out of memory");
        return NULL;
    }
    pthread_mutex_init(&reg->lock, NULL);
    pthread_cond_init(&reg->wake, NULL);
    pthread_mutex_init(&reg->probe_lock, NULL);
    pthread_mutex_init(&reg->symptoms_lock, NULL);
    reg->thresholds = moose_health_thresholds_default();
    /* Measuring what metrics cost needs a way to run without them; health stays. */
    const char *setting = getenv("MOOSE_METRICS");
    reg->disabled = setting && strcmp(setting, "off") == 0;
    return reg;
}

static void *sampler_main(void *arg) {
    moose_metrics_registry *reg = arg;
    pthread_mutex_lock(&reg->lock);
    while (!reg->stopping) {
        pthread_mutex_unlock(&reg->lock);
        moose__metrics_tick(reg, moose__metrics_now_ms());
        probe_if_due(reg, moose__metrics_now_ms());
        pthread_mutex_lock(&reg->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!reg->stopping &&
               pthread_cond_timedwait(&reg->wake, &reg->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&reg->lock);
    return NULL;
}

int moose__metrics_start_sampler(moose_metrics_registry *reg) {
    if (reg == NULL)
        return MOOSE_EINVAL;
    pthread_mutex_lock(&reg->lock);
    int rc = 0;
    if (!reg->sampler_running) {
        if (pthread_create(&reg->sampler, NULL, sampler_main, reg) == 0)
            reg->sampler_running = true;
        else
            rc = MOOSE_ENOMEM;
    }
    pthread_mutex_unlock(&reg->lock);
    return rc;
}

void moose__metrics_registry_free(moose_metrics_registry *reg) {
    if (reg == NULL)
        return;
    pthread_mutex_lock(&reg->lock);
    reg->stopping = true;
    bool joined = reg->sampler_running;
    pthread_cond_broadcast(&reg->wake);
    pthread_mutex_unlock(&reg->lock);
    if (joined)
        pthread_join(reg->sampler, NULL);
    for (size_t i = 0; i < reg->len; i++)
        component_free(reg->items[i]);
    free(reg->items);
    pthread_cond_destroy(&reg->wake);
    pthread_mutex_destroy(&reg->probe_lock);
    pthread_mutex_destroy(&reg->symptoms_lock);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}
