/*
 * Latency histograms: log-linear buckets (16 linear steps per power of two,
 * so a bucket is at most 6.25 % wide), recorded with relaxed atomics into
 * the recording thread's stripe and merged only when someone reads them.
 */
#include <string.h>

#include "metrics.h"
#include "metrics_component.h"

#define SUB_COUNT (1u << MOOSE__HIST_SUB_BITS)

static unsigned bucket_of(uint64_t ns) {
    if (ns < SUB_COUNT)
        return (unsigned)ns;
    unsigned exp = 63u - (unsigned)__builtin_clzll(ns);
    if (exp > MOOSE__HIST_MAX_EXP)
        return MOOSE__HIST_BUCKETS - 1;
    unsigned shift = exp - MOOSE__HIST_SUB_BITS;
    unsigned sub = (unsigned)(ns >> shift) & (SUB_COUNT - 1);
    return ((shift + 1) << MOOSE__HIST_SUB_BITS) + sub;
}

/* The largest value that lands in bucket IDX. */
static uint64_t bucket_upper(unsigned idx) {
    if (idx < SUB_COUNT)
        return idx;
    unsigned shift = (idx >> MOOSE__HIST_SUB_BITS) - 1;
    uint64_t sub = idx & (SUB_COUNT - 1);
    return ((SUB_COUNT + sub + 1) << shift) - 1;
}

void moose__latency_record(moose__component *c, moose__latency which, uint64_t ns) {
    if (c == NULL)
        return;
    moose__hist_stripe *s = &c->hist[which].stripes[moose__metrics_stripe() % MOOSE__HIST_STRIPES];
    atomic_fetch_add_explicit(&s->buckets[bucket_of(ns)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ns, ns, memory_order_relaxed);
    uint64_t max = atomic_load_explicit(&s->max_ns, memory_order_relaxed);
    while (ns > max && !atomic_compare_exchange_weak_explicit(&s->max_ns, &max, ns,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed))
        ;
}

static uint64_t percentile(const uint64_t *buckets, uint64_t count, uint64_t max, double q) {
    /* The smallest value with at least Q of the records at or below it. */
    uint64_t rank = (uint64_t)(q * (double)count);
    if ((double)rank < q * (double)count)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < MOOSE__HIST_BUCKETS; i++) {
        seen += buckets[i];
        if (seen >= rank) {
            if (i == MOOSE__HIST_BUCKETS - 1)
                return max; /* the overflow bucket has no upper bound but the max */
            uint64_t upper = bucket_upper(i);
            return upper < max ? upper : max;
        }
    }
    return max;
}

void moose__hist_summary(moose__hist *h, moose_latency_summary *out) {
    uint64_t buckets[MOOSE__HIST_BUCKETS];
    memset(buckets, 0, sizeof buckets);
    memset(out, 0, sizeof *out);
    for (unsigned s = 0; s < MOOSE__HIST_STRIPES; s++) {
        moose__hist_stripe *st = &h->stripes[s];
        for (unsigned i = 0; i < MOOSE__HIST_BUCKETS; i++) {
            uint64_t n = atomic_load_explicit(&st->buckets[i], memory_order_relaxed);
            buckets[i] += n;
            out->count += n;
        }
        out->sum_ns += atomic_load_explicit(&st->sum_ns, memory_order_relaxed);
        uint64_t max = atomic_load_explicit(&st->max_ns, memory_order_relaxed);
        if (max > out->max_ns)
            out->max_ns = max;
    }
    if (out->count == 0)
        return;
    out->p50_ns = percentile(buckets, out->count, out->max_ns, 0.50);
    out->p95_ns = percentile(buckets, out->count, out->max_ns, 0.95);
    out->p99_ns = percentile(buckets, out->count, out->max_ns, 0.99);
}
