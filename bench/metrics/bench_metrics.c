/*
 * What recording a metric costs: ns of CPU per counter increment and per
 * latency record, on one thread and on two at once, beside a plain
 * non-atomic increment (the floor) and a single shared atomic (what striping
 * avoids).
 *
 *   bench_metrics [OPS]     prints a Markdown table (OPS per thread, default 50M)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

typedef enum op {
    OP_PLAIN,        /* volatile uint64_t += 1: no atomicity, the floor */
    OP_SHARED_ATOMIC, /* one atomic counter every thread adds to */
    OP_COUNT,        /* moose__count() */
    OP_LATENCY,      /* moose__latency_record() */
    OP_VALIDATED,    /* moose__metrics_validated() of a passing record */
    OP_HEARTBEAT,    /* moose__metrics_heartbeat(): once per worker loop */
    OP_CLOCK,        /* moose__metrics_now_ns(): what timing a latency adds, per read */
} op;

static const char *op_names[] = {
    "plain increment (non-atomic, baseline)",
    "one shared atomic counter (fetch_add)",
    "moose__count (striped atomic counter)",
    "moose__latency_record (histogram)",
    "moose__metrics_validated (pass)",
    "moose__metrics_heartbeat",
    "moose__metrics_now_ns (clock read)",
};

typedef struct job {
    op op;
    uint64_t ops;
    moose__component *c;
    volatile uint64_t *plain;
    _Atomic uint64_t *shared;
    pthread_barrier_t *start;
    uint64_t ns;
    uint64_t sink;
} job;

/*
 * The thread's own CPU time, not the wall clock: on a machine shared with
 * other work, time spent waiting for a core is not a cost of the operation.
 */
static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->start);
    uint64_t t0 = thread_cpu_ns(), acc = 0;
    switch (j->op) {
    case OP_PLAIN:
        for (uint64_t i = 0; i < j->ops; i++)
            *j->plain += 1;
        break;
    case OP_SHARED_ATOMIC:
        for (uint64_t i = 0; i < j->ops; i++)
            atomic_fetch_add_explicit(j->shared, 1, memory_order_relaxed);
        break;
    case OP_COUNT:
        for (uint64_t i = 0; i < j->ops; i++)
            moose__count(j->c, MOOSE__C_RECORDS_IN, 1);
        break;
    case OP_LATENCY:
        /* Values spread over many buckets, as real latencies are. */
        for (uint64_t i = 0; i < j->ops; i++)
            moose__latency_record(j->c, MOOSE__L_TRANSFORM, 500 + (i * 7919) % 2000000);
        break;
    case OP_VALIDATED:
        for (uint64_t i = 0; i < j->ops; i++)
            moose__metrics_validated(j->c, NULL, 0, NULL);
        break;
    case OP_HEARTBEAT:
        for (uint64_t i = 0; i < j->ops; i++)
            moose__metrics_heartbeat(j->c);
        break;
    case OP_CLOCK:
        for (uint64_t i = 0; i < j->ops; i++)
            acc += moose__metrics_now_ns();
        break;
    }
    j->ns = thread_cpu_ns() - t0;
    j->sink = acc;
    return NULL;
}

/* ns per operation per thread, with NTHREADS threads working at once. */
static double measure(op o, int nthreads, uint64_t ops, moose__component *c) {
    static volatile uint64_t plain[2 * 8]; /* one cache line apart per thread */
    static _Atomic uint64_t shared;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads);
    job jobs[2];
    pthread_t th[2];
    for (int t = 0; t < nthreads; t++) {
        jobs[t] = (job){.op = o, .ops = ops, .c = c, .plain = &plain[t * 8], .shared = &shared,
                        .start = &start};
        if (pthread_create(&th[t], NULL, run, &jobs[t]) != 0) {
            fprintf(stderr, "bench_metrics: cannot start a thread\n");
            exit(1);
        }
    }
    double worst = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(th[t], NULL);
        double per_op = (double)jobs[t].ns / (double)ops;
        if (per_op > worst)
            worst = per_op;
    }
    pthread_barrier_destroy(&start);
    return worst;
}

int main(int argc, char **argv) {
    uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 50000000u;
    if (ops == 0) {
        fprintf(stderr, "usage: bench_metrics [OPS per thread]\n");
        return 2;
    }
    char err[128];
    moose_metrics_registry *reg = moose__metrics_registry_new(err, sizeof err);
    moose__component *c = reg ? moose__metrics_component(reg, MOOSE_COMPONENT_STREAM, "s") : NULL;
    if (c == NULL) {
        fprintf(stderr, "bench_metrics: %s\n", reg ? "out of memory" : err);
        return 1;
    }
    printf("| operation | 1 thread (ns/op) | 2 threads (ns/op, each) |\n");
    printf("|---|---:|---:|\n");
    for (op o = OP_PLAIN; o <= OP_CLOCK; o++) {
        /* A warm-up pass so page faults and frequency ramps do not land in the figure. */
        measure(o, 1, ops / 10, c);
        double one = measure(o, 1, ops, c);
        double two = measure(o, 2, ops, c);
        printf("| %s | %.2f | %.2f |\n", op_names[o], one, two);
    }
    /* The totals must be exact, or the figures above measured a broken counter. */
    moose_metrics m;
    moose_metrics_registry_get(reg, MOOSE_COMPONENT_STREAM, "s", &m);
    uint64_t want = ops / 10 + ops + 2 * ops;
    if (m.records_in != want || m.transform.count != want) {
        fprintf(stderr, "bench_metrics: counted %" PRIu64 " and %" PRIu64 ", expected %" PRIu64 "\n",
                m.records_in, m.transform.count, want);
        return 1;
    }
    moose__metrics_registry_free(reg);
    return 0;
}
