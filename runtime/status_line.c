/*
 * The live status of `APP run`: totals and rates across every component,
 * refreshed in place on a terminal, or a plain log line through the logger
 * (`time level component message key=value`) when the output is a file or
 * a pipe, where carriage returns would only garble it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "metrics_component.h"

struct moose__status {
    moose_metrics_registry *reg;
    FILE *out;
    bool tty;
    int interval_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

typedef struct totals {
    moose_metrics_registry *reg;
    double in_per_s, out_per_s;
    uint64_t in, out, errors, dlq;
    int64_t lag;
} totals;

static void add_up(moose_component_kind kind, const char *name, moose__component *c, void *opaque) {
    (void)kind;
    (void)name;
    totals *t = opaque;
    moose_metrics m;
    moose__component_snapshot(t->reg, c, &m);
    t->in += m.records_in;
    t->out += m.records_out;
    t->in_per_s += m.in_per_s_now;
    t->out_per_s += m.out_per_s_now;
    t->errors += moose__component_errors(c);
    t->dlq += m.dlq;
    t->lag += m.lag_total;
}

static void gather(moose_metrics_registry *reg, totals *t, moose_health *h) {
    memset(t, 0, sizeof *t);
    t->reg = reg;
    moose__metrics_each(reg, add_up, t);
    moose_metrics_registry_health(reg, MOOSE_COMPONENT_STREAM, NULL, h);
}

void moose__status_format(moose_metrics_registry *reg, char *buf, size_t size) {
    totals t;
    moose_health h;
    gather(reg, &t, &h);
    snprintf(buf, size,
             "in %.0f/s out %.0f/s | total in %" PRIu64 " out %" PRIu64 " | lag %" PRId64
             " | errors %" PRIu64 " dlq %" PRIu64 " | %s",
             t.in_per_s, t.out_per_s, t.in, t.out, t.lag, t.errors, t.dlq,
             moose_health_status_name(h.status));
}

static void log_line(moose__status *st) {
    totals t;
    moose_health h;
    gather(st->reg, &t, &h);
    moose__log(MOOSE__LOG_INFO, "status", NULL,
               "running in_per_s=%.1f out_per_s=%.1f records_in=%" PRIu64 " records_out=%" PRIu64
               " lag=%" PRId64 " errors=%" PRIu64 " dlq=%" PRIu64 " health=%s",
               t.in_per_s, t.out_per_s, t.in, t.out, t.lag, t.errors, t.dlq,
               moose_health_status_name(h.status));
}

static void show(moose__status *st) {
    if (!st->tty) {
        log_line(st);
        return;
    }
    char line[256];
    moose__status_format(st->reg, line, sizeof line);
    /* Drawn by the logger, which erases it before a log line and redraws it after. */
    moose__log_status_show(st->out, line);
}

static void *status_main(void *arg) {
    moose__status *st = arg;
    pthread_mutex_lock(&st->lock);
    while (!st->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += st->interval_ms / 1000;
        until.tv_nsec += (long)(st->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!st->stopping &&
               pthread_cond_timedwait(&st->wake, &st->lock, &until) != ETIMEDOUT)
            ;
        if (st->stopping)
            break;
        pthread_mutex_unlock(&st->lock);
        show(st);
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

moose__status *moose__status_start(moose_metrics_registry *reg, FILE *out, int interval_ms) {
    if (reg == NULL || out == NULL)
        return NULL;
    /* The rates shown come from the sampler's ticks. */
    if (moose__metrics_start_sampler(reg) != 0)
        return NULL;
    moose__status *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->reg = reg;
    st->out = out;
    st->tty = isatty(fileno(out)) == 1;
    st->interval_ms = interval_ms > 0 ? interval_ms : (st->tty ? 1000 : 10000);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->wake, NULL);
    if (pthread_create(&st->thread, NULL, status_main, st) != 0) {
        pthread_cond_destroy(&st->wake);
        pthread_mutex_destroy(&st->lock);
        free(st);
        return NULL;
    }
    return st;
}

void moose__status_stop(moose__status *st) {
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->lock);
    st->stopping = true;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->thread, NULL);
    /* The final figures, and the terminal's cursor back on a line of its own. */
    show(st);
    if (st->tty)
        moose__log_status_end(st->out);
    fflush(st->out);
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->lock);
    free(st);
}
