/*
 * Health: components and transports report facts (broker up or down, sink
 * failing, heartbeats, lag, counters); this file alone decides what those
 * facts mean against the configured thresholds, so every reader (C API,
 * /health, `APP health`, the status line) agrees.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "metrics_component.h"
#include "moose/error.h"

/* Ticks come once a second; older than this, the sampler is not running. */
#define STALE_TICK_S 5

const char *moose_health_status_name(moose_health_status status) {
    switch (status) {
    case MOOSE_HEALTHY:
        return "healthy";
    case MOOSE_DEGRADED:
        return "degraded";
    case MOOSE_UNHEALTHY:
        return "unhealthy";
    }
    return "unknown";
}

const char *moose_health_reason_name(moose_health_reason_code code) {
    switch (code) {
    case MOOSE_HEALTH_BROKER_DOWN:
        return "broker_down";
    case MOOSE_HEALTH_LAG:
        return "lag";
    case MOOSE_HEALTH_ERROR_RATE:
        return "error_rate";
    case MOOSE_HEALTH_SINK_FAILING:
        return "sink_failing";
    case MOOSE_HEALTH_STALLED:
        return "stalled";
    case MOOSE_HEALTH_BROKER_ERRORS:
        return "broker_errors";
    case MOOSE_HEALTH_COMMIT_FAILING:
        return "commit_failing";
    case MOOSE_HEALTH_GROUP_JOIN_FAILING:
        return "group_join_failing";
    case MOOSE_HEALTH_METADATA_ERRORS:
        return "metadata_errors";
    case MOOSE_HEALTH_NO_LEADER:
        return "no_leader";
    case MOOSE_HEALTH_SLOW_BROKER:
        return "slow_broker";
    }
    return "unknown";
}

static void add_reason(moose_health *h, moose_health_reason_code code, moose_health_status severity,
                       moose_component_kind kind, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add_reason(moose_health *h, moose_health_reason_code code, moose_health_status severity,
                       moose_component_kind kind, const char *component, const char *fmt, ...) {
    if (severity > h->status)
        h->status = severity;
    if (h->nreasons == MOOSE_HEALTH_MAX_REASONS) {
        h->dropped++;
        return;
    }
    moose_health_reason *r = &h->reasons[h->nreasons++];
    r->code = code;
    r->severity = severity;
    r->kind = kind;
    snprintf(r->component, sizeof r->component, "%s", component);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

static uint64_t elapsed_s(uint64_t now_ms, uint64_t since_ms) {
    return now_ms > since_ms ? (now_ms - since_ms) / 1000 : 0;
}

static void check_lag(moose_health *h, const moose_health_thresholds *t, moose__component *c,
                      int64_t *lag_total) {
    int64_t total = 0, worst = -1;
    uint32_t worst_partition = 0, n = atomic_load(&c->npartitions);
    for (uint32_t p = 0; p < n; p++) {
        int64_t lag = atomic_load_explicit(&c->lag[p], memory_order_relaxed);
        if (lag > 0)
            total += lag;
        if (lag > worst) {
            worst = lag;
            worst_partition = p;
        }
    }
    *lag_total = total;
    moose_health_status severity = MOOSE_HEALTHY;
    int64_t limit = 0;
    if (t->lag_unhealthy > 0 && total > t->lag_unhealthy) {
        severity = MOOSE_UNHEALTHY;
        limit = t->lag_unhealthy;
    } else if (t->lag_degraded > 0 && total > t->lag_degraded) {
        severity = MOOSE_DEGRADED;
        limit = t->lag_degraded;
    }
    if (severity != MOOSE_HEALTHY)
        add_reason(h, MOOSE_HEALTH_LAG, severity, c->kind, c->name,
                   "lag %" PRId64 " above %" PRId64 " (partition %" PRIu32 ": %" PRId64 ")", total,
                   limit, worst_partition, worst);
}

static void check_errors(moose_health *h, const moose_health_thresholds *t, moose__component *c) {
    moose__rates rates;
    if (!moose__component_rates(c, &rates) || rates.window_in == 0 ||
        rates.window_in < t->error_min_records)
        return;
    double rate = (double)rates.window_errors / (double)rates.window_in;
    moose_health_status severity = MOOSE_HEALTHY;
    double limit = 0;
    if (t->error_rate_unhealthy > 0 && rate >= t->error_rate_unhealthy) {
        severity = MOOSE_UNHEALTHY;
        limit = t->error_rate_unhealthy;
    } else if (t->error_rate_degraded > 0 && rate >= t->error_rate_degraded) {
        severity = MOOSE_DEGRADED;
        limit = t->error_rate_degraded;
    }
    if (severity != MOOSE_HEALTHY)
        add_reason(h, MOOSE_HEALTH_ERROR_RATE, severity, c->kind, c->name,
                   "%" PRIu64 " errors in %" PRIu64 " records in the last minute (%.1f%%, limit %.1f%%)",
                   rates.window_errors, rates.window_in, rate * 100.0, limit * 100.0);
}

static void check_component(moose_health *h, const moose_health_thresholds *t,
                            moose__component *c, uint64_t now_ms) {
    char why[160];
    uint64_t failing_since;
    if (moose__component_sink_failing_since(c, why, sizeof why, &failing_since)) {
        /* Nothing is lost while a table is down (commits wait): degraded, unless it lasts. */
        uint64_t failing_s = elapsed_s(now_ms, failing_since);
        if (t->sink_failing_unhealthy_s > 0 && failing_s >= t->sink_failing_unhealthy_s)
            add_reason(h, MOOSE_HEALTH_SINK_FAILING, MOOSE_UNHEALTHY, c->kind, c->name,
                       "table inserts failing for %" PRIu64 " s: %s", failing_s,
                       why[0] ? why : "no reason given");
        else
            add_reason(h, MOOSE_HEALTH_SINK_FAILING, MOOSE_DEGRADED, c->kind, c->name,
                       "table inserts failing: %s", why[0] ? why : "no reason given");
    }

    int64_t lag_total;
    check_lag(h, t, c, &lag_total);
    check_errors(h, t, c);

    if (t->stall_s == 0)
        return;
    uint64_t hb = atomic_load_explicit(&c->heartbeat_ms, memory_order_relaxed);
    uint64_t last_tick;
    uint64_t quiet = elapsed_s(now_ms, moose__component_progress_ms(c, &last_tick));
    /* Progress is only known from recent ticks: without a sampler, say nothing rather than cry wolf. */
    bool progress_known = last_tick != 0 && elapsed_s(now_ms, last_tick) <= STALE_TICK_S;
    if (hb != 0 && elapsed_s(now_ms, hb) >= t->stall_s)
        add_reason(h, MOOSE_HEALTH_STALLED, MOOSE_UNHEALTHY, c->kind, c->name,
                   "workers stalled: no heartbeat for %" PRIu64 " s", elapsed_s(now_ms, hb));
    else if (progress_known && lag_total > 0 && quiet >= t->stall_s)
        add_reason(h, MOOSE_HEALTH_STALLED, MOOSE_UNHEALTHY, c->kind, c->name,
                   "workers stalled: no progress for %" PRIu64 " s with lag %" PRId64, quiet,
                   lag_total);
}

void moose__component_health(moose__component *c, const moose_health_thresholds *t,
                             uint64_t now_ms, moose_health *out) {
    memset(out, 0, sizeof *out);
    check_component(out, t, c, now_ms);
}

typedef struct health_walk {
    moose_health *h;
    const moose_health_thresholds *t;
    uint64_t now_ms;
} health_walk;

static void visit(moose_component_kind kind, const char *name, moose__component *c, void *opaque) {
    (void)kind;
    (void)name;
    health_walk *w = opaque;
    check_component(w->h, w->t, c, w->now_ms);
}

/*
 * What the Kafka clients observed of the brokers over the last window: each
 * kind of symptom seen often enough, and round trips slow on average. Each
 * clears by itself once its symptom has not been seen for the window.
 */
static void check_broker_symptoms(moose_health *h, const moose_health_thresholds *t,
                                  moose_metrics_registry *reg, uint64_t now_ms) {
    static const struct {
        moose__broker_symptom symptom;
        moose_health_reason_code code;
        bool state; /* seen once is enough: it was polled, not counted */
        const char *what;
    } kinds[] = {
        {MOOSE__BROKER_REQUEST_ERRORS, MOOSE_HEALTH_BROKER_ERRORS, false,
         "broker requests retried or failed"},
        {MOOSE__BROKER_COMMIT_FAILED, MOOSE_HEALTH_COMMIT_FAILING, false, "offset commits failed"},
        {MOOSE__BROKER_JOIN_FAILED, MOOSE_HEALTH_GROUP_JOIN_FAILING, false,
         "consumer group joins refused"},
        {MOOSE__BROKER_METADATA_ERRORS, MOOSE_HEALTH_METADATA_ERRORS, true, "metadata errors"},
        {MOOSE__BROKER_NO_LEADER, MOOSE_HEALTH_NO_LEADER, true,
         "reports of partitions without a leader"},
    };
    if (t->broker_window_s == 0)
        return;
    uint32_t w = t->broker_window_s;
    char why[160];
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        uint64_t n =
            moose__metrics_broker_symptoms_in(reg, kinds[i].symptom, now_ms, w, why, sizeof why);
        uint64_t limit = kinds[i].state ? 1 : t->broker_symptoms_degraded;
        if (limit > 0 && n >= limit)
            add_reason(h, kinds[i].code, MOOSE_DEGRADED, MOOSE_COMPONENT_STREAM, "",
                       "%" PRIu64 " %s in the last %" PRIu32 " s; the latest: %s", n,
                       kinds[i].what, w, why);
    }
    if (t->broker_symptoms_degraded == 0)
        return;
    uint64_t worst_us;
    uint32_t slow;
    if (t->broker_produce_wait_degraded_ms > 0 &&
        (slow = moose__metrics_broker_slow_seconds(
             reg, true, now_ms, w, (uint64_t)t->broker_produce_wait_degraded_ms * 1000, &worst_us,
             why, sizeof why)) >= t->broker_symptoms_degraded)
        add_reason(h, MOOSE_HEALTH_BROKER_ERRORS, MOOSE_DEGRADED, MOOSE_COMPONENT_STREAM, "",
                   "records waited up to %" PRIu64 " ms on average before their produce request "
                   "in %" PRIu32 " of the last %" PRIu32 " s (limit %" PRIu32
                   " ms: produce requests retried, or the producer cannot keep up; %s)",
                   worst_us / 1000, slow, w, t->broker_produce_wait_degraded_ms, why);
    if (t->broker_rtt_degraded_ms > 0 &&
        (slow = moose__metrics_broker_slow_seconds(reg, false, now_ms, w,
                                                   (uint64_t)t->broker_rtt_degraded_ms * 1000,
                                                   &worst_us, why, sizeof why)) >=
            t->broker_symptoms_degraded)
        add_reason(h, MOOSE_HEALTH_SLOW_BROKER, MOOSE_DEGRADED, MOOSE_COMPONENT_STREAM, "",
                   "broker round trips averaged up to %" PRIu64 " ms in %" PRIu32
                   " of the last %" PRIu32 " s (limit %" PRIu32 " ms; the latest: %s)",
                   worst_us / 1000, slow, w, t->broker_rtt_degraded_ms,
                   why[0] ? why : "unknown broker");
}

int moose__metrics_health_at(moose_metrics_registry *reg, moose_component_kind kind,
                             const char *name, uint64_t now_ms, moose_health *out) {
    if (reg == NULL || out == NULL)
        return MOOSE_EINVAL;
    memset(out, 0, sizeof *out);
    moose__component *c = NULL;
    if (name != NULL && (c = moose__metrics_find(reg, kind, name)) == NULL)
        return MOOSE_ENOTFOUND;

    moose_health_thresholds t = moose__metrics_thresholds(reg);
    char why[160];
    if (moose__metrics_broker_down(reg, why, sizeof why))
        add_reason(out, MOOSE_HEALTH_BROKER_DOWN, MOOSE_UNHEALTHY, MOOSE_COMPONENT_STREAM, "",
                   "Kafka cluster unreachable: %s", why[0] ? why : "no reason given");
    check_broker_symptoms(out, &t, reg, now_ms);
    if (c != NULL) {
        check_component(out, &t, c, now_ms);
    } else {
        health_walk w = {out, &t, now_ms};
        moose__metrics_each(reg, visit, &w);
    }
    return 0;
}

int moose_metrics_registry_health(moose_metrics_registry *reg, moose_component_kind kind,
                                  const char *name, moose_health *out) {
    return moose__metrics_health_at(reg, kind, name, moose__metrics_now_ms(), out);
}
