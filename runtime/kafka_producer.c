/*
 * The producer: idempotent, acks=all, keyed (murmur2), with a delivery
 * thread that reports each record's fate, a synchronous form built on the
 * asynchronous one, and back-pressure for the embedded broker.
 *
 * Back-pressure (see docs/runtime.md, "Back-pressure"): the mock cluster
 * silently drops the oldest data of a partition past about 5 MB or 100k
 * batches. For each watched topic and partition the producer keeps the
 * offsets and sizes of what it delivered, learns the committed offset of
 * the slowest reading group (and the log end, for other producers), and
 * makes a send wait while the partition holds more than max.records /
 * max.bytes beyond that offset. Committed offsets are fetched with one
 * non-joining consumer handle per group (OffsetFetch, no rebalance).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "kafka_internal.h"
#include "log.h"

/* How often a waiting send refreshes committed offsets, and how often it says it waits. */
#define BP_REFRESH_MS 50

/* The Java client's partitioner: a key lands where any Kafka client puts it. */
#define MOOSE__PARTITIONER "murmur2_random"
#define BP_WARN_EVERY_MS 5000

typedef struct bp_partition {
    int64_t log_end;         /* next offset of the partition, as far as we know */
    int64_t committed;       /* slowest group's committed offset (or the log start) */
    const char *slowest;     /* that group's name (owned by the topic), NULL until known */
    int64_t pending_records; /* queued here, not yet delivered */
    int64_t pending_bytes;
    /* Delivered records still ahead of COMMITTED: a ring of (offset, bytes). */
    int64_t *offs, *sizes;
    size_t head, len, cap;
    int64_t ring_bytes;
} bp_partition;

typedef struct prod_topic {
    char *name;
    rd_kafka_topic_t *rkt;
    int32_t nparts;      /* 0 until known */
    atomic_bool watched; /* set once, before sends (see moose__producer_watch) */
    char **groups;
    rd_kafka_t **group_rk; /* committed-offset readers, one per group */
    size_t ngroups;
    /* Each group's committed offset as far as we know, [group * nparts + partition]. */
    int64_t *group_committed;
    bp_partition *parts;
    int64_t last_refresh_ms;
    struct prod_topic *next;
} prod_topic;

/*
 * Records sent and not yet reported are counted apart: each sending thread
 * adds to its own shard of SENT, on a cache line of its own, and delivery
 * reports add to DONE. One counter written by every sender and by the
 * delivery thread moved its cache line between cores twice a record.
 */
enum { SEND_SHARDS = 8 };

typedef struct shard_count {
    _Alignas(64) atomic_int_fast64_t n;
} shard_count;

/* This thread's shard of SENT, the same in every producer. */
static int send_shard(void) {
    static atomic_int next;
    static _Thread_local int mine = -1;
    if (mine < 0)
        mine = atomic_fetch_add(&next, 1) % SEND_SHARDS;
    return mine;
}

struct moose__producer {
    moose__kafka *kafka;
    rd_kafka_t *rk;
    char *name;
    pthread_mutex_t lock; /* adding topics, and back-pressure state */
    pthread_cond_t cond;  /* signalled by delivery reports someone waits for */
    /* Prepended under the lock, read without it; entries live until close. */
    prod_topic *_Atomic topics;
    pthread_t poller;
    atomic_int stop;
    atomic_int closing;
    atomic_int no_waiting; /* moose__producer_stop_waiting: sends refuse rather than wait */
    shard_count sent[SEND_SHARDS];
    shard_count done;
    atomic_int waiters; /* threads in flush or back-pressure waits */
    /* Sends with this callback carry their opaque as is, tagged, with no send_ctx (set once). */
    moose__delivery_cb shared_cb;
};

typedef struct send_ctx {
    moose__delivery_cb cb;
    void *opaque;
} send_ctx;

/*
 * A record's librdkafka opaque is either a send_ctx (malloc'd, so its low bit
 * is clear) or, for the producer's shared callback, the caller's own opaque
 * with the low bit set: the hot path allocates nothing per record, and no
 * memory goes from a sending thread to the delivery thread to be freed there.
 */
#define SHARED_TAG ((uintptr_t)1)

/* Closing, or told to stop waiting: a send that would wait returns instead. */
static bool refuses_waits(moose__producer *p) {
    return atomic_load(&p->closing) || atomic_load(&p->no_waiting);
}

/* ---- back-pressure ring ---- */

static int ring_push(bp_partition *bp, int64_t offset, int64_t bytes) {
    if (bp->len == bp->cap) {
        size_t ncap = bp->cap ? bp->cap * 2 : 1024;
        int64_t *no = malloc(ncap * sizeof(int64_t)), *ns = malloc(ncap * sizeof(int64_t));
        if (!no || !ns) {
            free(no);
            free(ns);
            return -1;
        }
        for (size_t i = 0; i < bp->len; i++) {
            no[i] = bp->offs[(bp->head + i) % bp->cap];
            ns[i] = bp->sizes[(bp->head + i) % bp->cap];
        }
        free(bp->offs);
        free(bp->sizes);
        bp->offs = no;
        bp->sizes = ns;
        bp->head = 0;
        bp->cap = ncap;
    }
    size_t at = (bp->head + bp->len) % bp->cap;
    bp->offs[at] = offset;
    bp->sizes[at] = bytes;
    bp->len++;
    bp->ring_bytes += bytes;
    return 0;
}

static void ring_trim(bp_partition *bp) {
    while (bp->len > 0 && bp->offs[bp->head] < bp->committed) {
        bp->ring_bytes -= bp->sizes[bp->head];
        bp->head = (bp->head + 1) % bp->cap;
        bp->len--;
    }
}

/* What the back-pressure counts for one record: the same measure the sinks batch by. */
static int64_t bp_record_bytes(size_t key_len, size_t value_len) {
    return (int64_t)(key_len + value_len) + MOOSE__BACKPRESSURE_RECORD_OVERHEAD;
}

/* Records and bytes partition BP holds beyond the slowest reader, ours in flight included. */
static void bp_ahead(const bp_partition *bp, int64_t *records, int64_t *bytes) {
    int64_t delivered = bp->log_end - bp->committed;
    if (delivered < 0)
        delivered = 0;
    *records = delivered + bp->pending_records;
    *bytes = bp->ring_bytes + bp->pending_bytes;
}

/*
 * Moves partition I of T on to the slowest group's committed offset, as far
 * as we know it (p->lock held). Offsets only grow here: what a group has
 * committed stays done.
 */
static void bp_settle(prod_topic *t, int32_t i) {
    bp_partition *bp = &t->parts[i];
    int64_t slowest = INT64_MAX;
    size_t who = 0;
    for (size_t g = 0; g < t->ngroups; g++) {
        int64_t off = t->group_committed[g * (size_t)t->nparts + (size_t)i];
        if (off < slowest) {
            slowest = off;
            who = g;
        }
    }
    if (slowest == INT64_MAX)
        return;
    if (slowest > bp->committed)
        bp->committed = slowest;
    bp->slowest = t->groups[who];
    ring_trim(bp);
}

static prod_topic *topic_find(moose__producer *p, const char *name) {
    for (prod_topic *t = atomic_load(&p->topics); t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

void moose__producer_saw_commits(moose__producer *p, const char *group,
                                 const rd_kafka_topic_partition_list_t *offsets) {
    bool moved = false;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
        if (tp->err || tp->offset < 0)
            continue;
        prod_topic *t = topic_find(p, tp->topic);
        if (!t || !atomic_load(&t->watched) || tp->partition < 0 || tp->partition >= t->nparts)
            continue;
        for (size_t g = 0; g < t->ngroups; g++) {
            if (strcmp(t->groups[g], group) != 0)
                continue;
            int64_t *at = &t->group_committed[g * (size_t)t->nparts + (size_t)tp->partition];
            if (tp->offset > *at) {
                *at = tp->offset;
                int64_t before = t->parts[tp->partition].committed;
                bp_settle(t, tp->partition);
                moved |= t->parts[tp->partition].committed > before;
            }
        }
    }
    if (moved)
        pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* ---- delivery ---- */

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    moose__producer *p = opaque;
    prod_topic *t = rd_kafka_topic_opaque(m->rkt);
    /* Unwatched topics (and real clusters) take no lock here: this runs once per record. */
    bool watched = t && atomic_load(&t->watched) && m->partition >= 0 && m->partition < t->nparts;
    if (watched) {
        pthread_mutex_lock(&p->lock);
        bp_partition *bp = &t->parts[m->partition];
        int64_t bytes = bp_record_bytes(m->key_len, m->len);
        /* Only a waiting writer needs to know whether this delivery made room. */
        bool waiting = atomic_load(&p->waiters) > 0;
        int64_t records_before = 0, bytes_before = 0, records_after, bytes_after;
        if (waiting)
            bp_ahead(bp, &records_before, &bytes_before);
        /* Clamped: a record sent before the topic was watched was never counted. */
        bp->pending_records = bp->pending_records > 0 ? bp->pending_records - 1 : 0;
        bp->pending_bytes = bp->pending_bytes > bytes ? bp->pending_bytes - bytes : 0;
        if (!m->err) {
            if (m->offset + 1 > bp->log_end)
                bp->log_end = m->offset + 1;
            if (m->offset >= bp->committed && ring_push(bp, m->offset, bytes) != 0)
                MOOSE__LOG_WARN("producer", "out of memory tracking back-pressure topic=%s",
                                t->name);
        }
        /*
         * A delivery usually only moves a record from pending to delivered,
         * which frees no room: waking every waiting writer once per record
         * would cost a futex call each. Only room made (a failed record, one
         * already committed, one counted ahead by the log end) wakes them.
         */
        if (waiting) {
            bp_ahead(bp, &records_after, &bytes_after);
            if (records_after < records_before || bytes_after < bytes_before)
                pthread_cond_broadcast(&p->cond);
        }
        pthread_mutex_unlock(&p->lock);
    }

    send_ctx shared, *ctx = m->_private;
    if ((uintptr_t)ctx & SHARED_TAG) {
        shared.cb = p->shared_cb;
        shared.opaque = (void *)((uintptr_t)ctx & ~SHARED_TAG);
        ctx = &shared;
    }
    if (ctx) {
        if (m->err) {
            char msg[512];
            snprintf(
                msg, sizeof(msg), "broker did not acknowledge the record on topic '%s': %s: %s",
                rd_kafka_topic_name(m->rkt), rd_kafka_err2name(m->err), rd_kafka_err2str(m->err));
            int status = m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                                 m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT ||
                                 m->err == RD_KAFKA_RESP_ERR__DESTROY
                             ? MOOSE_ECLOSED
                             : MOOSE_EDELIVERY;
            ctx->cb(status, m->partition, -1, msg, ctx->opaque);
        } else {
            ctx->cb(0, m->partition, m->offset, NULL, ctx->opaque);
        }
        if (ctx != &shared)
            free(ctx);
    }

    /*
     * Counted only after the callback ran: a flush that returns means every
     * callback did. The last one wakes a flush (it counts as a waiter before
     * it looks at what is in flight, under the lock taken here).
     */
    atomic_fetch_add(&p->done.n, 1);
    if (atomic_load(&p->waiters) > 0 && moose__producer_in_flight(p) == 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
}

static void *poller_main(void *arg) {
    moose__producer *p = arg;
    /* Named in top -H and perf, so delivery reports are told apart from the writers. */
    prctl(PR_SET_NAME, "moose:delivery", 0, 0, 0);
    while (!p->stop)
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

moose__producer *moose__producer_new(moose__kafka *kafka, const char *name, char *errstr,
                                     size_t errstr_size) {
    /* Aligned for its send counters' cache lines (sizeof is a multiple of that alignment). */
    moose__producer *p = aligned_alloc(_Alignof(moose__producer), sizeof(*p));
    if (p)
        memset(p, 0, sizeof(*p));
    if (!p || !(p->name = strdup(name ? name : "producer"))) {
        free(p);
        snprintf(errstr, errstr_size, "out of memory creating a producer");
        return NULL;
    }
    p->kafka = kafka;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    rd_kafka_conf_t *conf = moose__kafka_conf(kafka, errstr, errstr_size);
    if (!conf)
        goto fail;
    char why[512];
    if (rd_kafka_conf_set(conf, "enable.idempotence", "true", why, sizeof(why)) ||
        rd_kafka_conf_set(conf, "acks", "all", why, sizeof(why)) ||
        rd_kafka_conf_set(conf, "partitioner", MOOSE__PARTITIONER, why, sizeof(why))) {
        snprintf(errstr, errstr_size, "cannot configure the producer: %s", why);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    /*
     * The embedded broker lives in another process that may stop: a record
     * then fails after 30 s instead of librdkafka's 5 minutes.
     */
    if (moose__kafka_embedded(kafka) && !moose__kafka_user_set(kafka, "message.timeout.ms"))
        rd_kafka_conf_set(conf, "message.timeout.ms", "30000", why, sizeof(why));
    /*
     * The embedded broker (librdkafka's mock cluster) does not check an
     * idempotent producer's sequence numbers: a produce request sent behind
     * one it refused with a retriable error (NOT_ENOUGH_REPLICAS) is stored,
     * and librdkafka then takes the refused records as implicitly
     * acknowledged (no error, offset -1) though they were never stored. With
     * one request in flight nothing overtakes a refused request.
     */
    if (moose__kafka_embedded(kafka) &&
        !moose__kafka_user_set(kafka, "max.in.flight.requests.per.connection"))
        rd_kafka_conf_set(conf, "max.in.flight.requests.per.connection", "1", why, sizeof(why));
    if (!moose__kafka_user_set(kafka, "message.max.bytes")) {
        char limit[32];
        snprintf(limit, sizeof(limit), "%" PRId64, kafka->max_message_bytes);
        rd_kafka_conf_set(conf, "message.max.bytes", limit, why, sizeof(why));
    }
    rd_kafka_conf_set_opaque(conf, p);
    moose__kafka_conf_polled(kafka, conf);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why)))) {
        snprintf(errstr, errstr_size, "cannot create a producer for %s: %s",
                 moose__kafka_bootstrap(kafka), why);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    if (pthread_create(&p->poller, NULL, poller_main, p) != 0) {
        snprintf(errstr, errstr_size, "cannot start the producer's delivery thread");
        rd_kafka_destroy(p->rk);
        p->rk = NULL;
        goto fail;
    }
    return p;
fail:
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->name);
    free(p);
    return NULL;
}

void moose__producer_share_cb(moose__producer *p, moose__delivery_cb cb) {
    p->shared_cb = cb;
}

rd_kafka_t *moose__producer_handle(moose__producer *p) {
    return p->rk;
}

/* The topic's state, created on first use. Called with p->lock held. */
static prod_topic *topic_get(moose__producer *p, const char *name) {
    prod_topic *t = topic_find(p, name);
    if (t)
        return t;
    t = calloc(1, sizeof(*t));
    if (!t || !(t->name = strdup(name))) {
        free(t);
        return NULL;
    }
    /*
     * A copy of the producer's default topic configuration: a fresh one would
     * replace it, losing the murmur2 partitioner (keys would be spread by
     * librdkafka's CRC32 default, not where the Java client puts them),
     * message.timeout.ms and any topic property given with -X.
     */
    rd_kafka_topic_conf_t *tconf = rd_kafka_default_topic_conf_dup(p->rk);
    if (!tconf) {
        free(t->name);
        free(t);
        return NULL;
    }
    rd_kafka_topic_conf_set_opaque(tconf, t);
    if (!(t->rkt = rd_kafka_topic_new(p->rk, name, tconf))) {
        free(t->name);
        free(t);
        return NULL;
    }
    t->next = atomic_load(&p->topics);
    atomic_store(&p->topics, t); /* published complete: readers walk without the lock */
    return t;
}

int moose__producer_watch(moose__producer *p, const char *topic, const char *const *groups,
                          size_t ngroups) {
    if (!moose__kafka_embedded(p->kafka) || ngroups == 0)
        return 0;
    char err[512];
    int nparts = moose__kafka_partition_count(p->kafka, topic, err, sizeof(err));
    if (nparts < 0) {
        MOOSE__LOG_ERROR("producer", "cannot watch readers of topic %s: %s", topic, err);
        return nparts;
    }
    rd_kafka_t **rks = calloc(ngroups, sizeof(*rks));
    if (!rks)
        return MOOSE_ENOMEM;
    /* Readers are made before taking the lock: creating a client takes a while. */
    for (size_t i = 0; i < ngroups; i++) {
        rd_kafka_conf_t *conf = moose__kafka_conf(p->kafka, err, sizeof(err));
        char why[512];
        if (conf && rd_kafka_conf_set(conf, "group.id", groups[i], why, sizeof(why)) == 0)
            rks[i] = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
        if (!rks[i]) {
            if (conf)
                rd_kafka_conf_destroy(conf);
            for (size_t j = 0; j < i; j++)
                rd_kafka_destroy(rks[j]);
            free(rks);
            MOOSE__LOG_ERROR("producer", "cannot read committed offsets of group %s", groups[i]);
            return MOOSE_ETRANSPORT;
        }
    }
    pthread_mutex_lock(&p->lock);
    prod_topic *t = topic_get(p, topic);
    int rc = 0;
    if (!t) {
        rc = MOOSE_ENOMEM;
    } else {
        if (!t->parts) {
            t->parts = calloc((size_t)nparts, sizeof(bp_partition));
            if (t->parts)
                t->nparts = nparts;
        }
        char **ng = realloc(t->groups, (t->ngroups + ngroups) * sizeof(char *));
        if (ng)
            t->groups = ng;
        rd_kafka_t **nr = realloc(t->group_rk, (t->ngroups + ngroups) * sizeof(rd_kafka_t *));
        if (nr)
            t->group_rk = nr;
        size_t cells = (t->ngroups + ngroups) * (size_t)t->nparts;
        int64_t *nc = t->parts ? realloc(t->group_committed, cells * sizeof(int64_t)) : NULL;
        if (nc)
            t->group_committed = nc;
        if (!t->parts || !ng || !nr || !nc) {
            rc = MOOSE_ENOMEM;
        } else {
            for (size_t i = 0; i < ngroups; i++) {
                if (!(t->groups[t->ngroups] = strdup(groups[i]))) {
                    rc = MOOSE_ENOMEM;
                    break;
                }
                /* Nothing known yet: 0 until the first OffsetFetch or commit says more. */
                for (int32_t j = 0; j < t->nparts; j++)
                    t->group_committed[t->ngroups * (size_t)t->nparts + (size_t)j] = 0;
                t->group_rk[t->ngroups++] = rks[i];
                rks[i] = NULL;
            }
        }
        if (rc == 0) {
            atomic_store(&t->watched, true);
            t->last_refresh_ms = 0;
        }
    }
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < ngroups; i++)
        if (rks[i])
            rd_kafka_destroy(rks[i]);
    free(rks);
    /* Commits made in this process move the window at once (moose__producer_saw_commits). */
    if (rc == 0)
        rc = moose__kafka_listen_commits(p->kafka, p);
    return rc;
}

/*
 * Learns the slowest group's committed offset and the log's ends for every
 * partition of T. Network calls are made without the lock; the results are
 * stored under it.
 */
static void bp_refresh(moose__producer *p, prod_topic *t) {
    int32_t n = t->nparts;
    pthread_mutex_lock(&p->lock);
    size_t ngroups = t->ngroups;
    pthread_mutex_unlock(&p->lock);
    int64_t *fetched = malloc((ngroups ? ngroups : 1) * (size_t)n * sizeof(int64_t));
    int64_t *low = malloc((size_t)n * sizeof(int64_t));
    int64_t *high = malloc((size_t)n * sizeof(int64_t));
    if (!fetched || !low || !high)
        goto out;
    int timeout = p->kafka->admin_timeout_ms;
    /*
     * The log's ends of every partition in one request, within the timeout
     * even when the broker stops answering; a producer told to stop waiting
     * learns nothing this time.
     */
    bool answered = false;
    for (int32_t i = 0; i < n; i++)
        low[i] = high[i] = -1;
    if (!refuses_waits(p)) {
        rd_kafka_resp_err_t err = moose__kafka_watermarks(p->rk, t->name, n, low, high, timeout);
        answered = err != RD_KAFKA_RESP_ERR__TIMED_OUT && err != RD_KAFKA_RESP_ERR__TRANSPORT;
    }
    for (size_t g = 0; g < ngroups; g++) {
        if (!answered) {
            for (int32_t i = 0; i < n; i++)
                fetched[g * (size_t)n + (size_t)i] = -1; /* offsets only grow: no change */
            continue;
        }
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
        for (int32_t i = 0; i < n; i++)
            rd_kafka_topic_partition_list_add(parts, t->name, i);
        rd_kafka_resp_err_t err = rd_kafka_committed(t->group_rk[g], parts, timeout);
        for (int32_t i = 0; i < n; i++) {
            int64_t off = err ? -1 : parts->elems[i].offset;
            /* A group that never committed will start at the log start. */
            if (off < 0)
                off = low[i] >= 0 ? low[i] : 0;
            fetched[g * (size_t)n + (size_t)i] = off;
        }
        rd_kafka_topic_partition_list_destroy(parts);
    }
    pthread_mutex_lock(&p->lock);
    for (int32_t i = 0; i < n; i++) {
        bp_partition *bp = &t->parts[i];
        for (size_t g = 0; g < ngroups; g++) {
            int64_t *at = &t->group_committed[g * (size_t)n + (size_t)i];
            if (fetched[g * (size_t)n + (size_t)i] > *at)
                *at = fetched[g * (size_t)n + (size_t)i];
        }
        if (high[i] > bp->log_end)
            bp->log_end = high[i];
        bp_settle(t, i);
    }
    t->last_refresh_ms = moose__kafka_now_ms();
    pthread_mutex_unlock(&p->lock);
out:
    free(fetched);
    free(low);
    free(high);
}

/*
 * Waits (p->lock held, released while refreshing) until PARTITION of T can
 * take one more record of BYTES. 0, or MOOSE_EQUEUEFULL after the timeout.
 */
static int bp_wait(moose__producer *p, prod_topic *t, int32_t partition, int64_t bytes) {
    moose__kafka *k = p->kafka;
    int64_t start = moose__kafka_now_ms(), last_warn = start;
    for (;;) {
        bp_partition *bp = &t->parts[partition];
        int64_t records, held;
        bp_ahead(bp, &records, &held);
        bool nothing_ahead = records == 0;
        if (nothing_ahead || (records + 1 <= k->bp_max_records && held + bytes <= k->bp_max_bytes))
            return 0;
        if (refuses_waits(p))
            return MOOSE_ECLOSED;
        int64_t now = moose__kafka_now_ms();
        atomic_store_explicit(&k->held_back_ms, now, memory_order_relaxed);
        if (k->bp_timeout_ms > 0 && now - start >= k->bp_timeout_ms) {
            moose__log(MOOSE__LOG_WARN, "producer", "backpressure",
                       "gave up waiting for the slowest reader to commit topic=%s partition=%d "
                       "group=%s records_ahead=%" PRId64 " bytes_ahead=%" PRId64
                       " waited_ms=%" PRId64,
                       t->name, (int)partition, bp->slowest ? bp->slowest : "?", records, held,
                       now - start);
            return MOOSE_EQUEUEFULL;
        }
        if (now - last_warn >= BP_WARN_EVERY_MS) {
            last_warn = now;
            moose__log(MOOSE__LOG_WARN, "producer", "backpressure",
                       "writes wait for the slowest reader to commit (the embedded broker keeps "
                       "~5 MB per partition; is `%s run` running?) topic=%s partition=%d "
                       "group=%s records_ahead=%" PRId64 " bytes_ahead=%" PRId64,
                       k->prog, t->name, (int)partition, bp->slowest ? bp->slowest : "?", records,
                       held);
        }
        if (now - t->last_refresh_ms >= BP_REFRESH_MS) {
            t->last_refresh_ms = now; /* one refresher at a time */
            pthread_mutex_unlock(&p->lock);
            bp_refresh(p, t);
            pthread_mutex_lock(&p->lock);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 10 * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&p->cond, &p->lock, &ts);
        }
    }
}

/* Set on every refusal of moose__producer_send, so the hot path writes nothing. */
static _Thread_local char refusal[320];

const char *moose__producer_refusal(void) {
    return refusal;
}

static int refuse(int rc) {
    snprintf(refusal, sizeof refusal, "%s", moose_strerror(rc));
    return rc;
}

/*
 * Waits for room for one record of BYTES at PARTITION of watched topic T and
 * counts it pending there (p->lock held, released while waiting). 0, or why not.
 */
static int bp_hold(moose__producer *p, prod_topic *t, int32_t partition, int64_t bytes) {
    int rc = bp_wait(p, t, partition, bytes);
    if (rc == 0) {
        t->parts[partition].pending_records++;
        t->parts[partition].pending_bytes += bytes;
    }
    return rc;
}

/* Gives back what bp_hold counted for a record that was not queued (p->lock held). */
static void bp_release(prod_topic *t, int32_t partition, int64_t bytes) {
    t->parts[partition].pending_records--;
    t->parts[partition].pending_bytes -= bytes;
}

/*
 * librdkafka's queue was full: true after a pause of 1 ms, to try again
 * (it drains as deliveries come back); false when the send gives up instead:
 * closing, or moose.send.timeout.ms past the first full queue (*DEADLINE).
 */
static bool wait_for_room(moose__producer *p, int64_t *deadline) {
    if (refuses_waits(p))
        return false;
    int64_t now = moose__kafka_now_ms();
    if (*deadline < 0)
        *deadline = now + p->kafka->send_timeout_ms;
    if (now >= *deadline)
        return false;
    moose__kafka_sleep_ms(1);
    return true;
}

/* Gives back what moose__producer_send counted for a record that was not queued. */
static void send_undo(moose__producer *p, prod_topic *t, int32_t partition, int64_t bytes,
                      bool counted) {
    atomic_fetch_sub_explicit(&p->sent[send_shard()].n, 1, memory_order_relaxed);
    if (counted) {
        pthread_mutex_lock(&p->lock);
        bp_release(t, partition, bytes);
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
}

/* TOPIC's state; the hot path (a known topic) takes no lock. NULL: out of memory. */
static prod_topic *topic_for_send(moose__producer *p, const char *topic) {
    prod_topic *t = topic_find(p, topic);
    if (!t) {
        pthread_mutex_lock(&p->lock);
        t = topic_get(p, topic);
        pthread_mutex_unlock(&p->lock);
    }
    return t;
}

/* What a send returns for librdkafka's refusal ERR to queue a record: a timeout is a full queue. */
static int queue_refusal(rd_kafka_resp_err_t err) {
    int rc = moose__kafka_map_error(err);
    return rc == MOOSE_ETIMEDOUT ? MOOSE_EQUEUEFULL : rc;
}

int moose__producer_send(moose__producer *p, const char *topic, int32_t partition, const void *key,
                         size_t key_len, const void *value, size_t value_len, moose__delivery_cb cb,
                         void *opaque) {
    if (!p || !topic)
        return refuse(MOOSE_EINVAL);
    if (atomic_load(&p->closing))
        return refuse(MOOSE_ECLOSED);
    prod_topic *t = topic_for_send(p, topic);
    if (!t)
        return refuse(MOOSE_ENOMEM);
    int64_t bytes = bp_record_bytes(key_len, value_len);
    bool counted = false;
    if (atomic_load(&t->watched)) {
        if (partition < 0)
            partition = rd_kafka_msg_partitioner_murmur2_random(t->rkt, key, key_len, t->nparts,
                                                                NULL, NULL);
        if (partition >= t->nparts)
            return refuse(MOOSE_EINVAL);
        pthread_mutex_lock(&p->lock);
        atomic_fetch_add(&p->waiters, 1);
        int rc = bp_hold(p, t, partition, bytes);
        atomic_fetch_sub(&p->waiters, 1);
        pthread_mutex_unlock(&p->lock);
        if (rc)
            return refuse(rc);
        counted = true;
    }
    atomic_fetch_add_explicit(&p->sent[send_shard()].n, 1, memory_order_relaxed);

    send_ctx *ctx = NULL;
    if (cb && cb == p->shared_cb && !((uintptr_t)opaque & SHARED_TAG)) {
        ctx = (send_ctx *)((uintptr_t)opaque | SHARED_TAG);
    } else if (cb) {
        if (!(ctx = malloc(sizeof(*ctx)))) {
            send_undo(p, t, partition, bytes, counted);
            return refuse(MOOSE_ENOMEM);
        }
        ctx->cb = cb;
        ctx->opaque = opaque;
    }
    int64_t deadline = -1;
    for (;;) {
        /* The array form: rd_kafka_producev's variable arguments cost ~150 instructions. */
        const rd_kafka_vu_t vus[] = {
            {.vtype = RD_KAFKA_VTYPE_RKT, .u.rkt = t->rkt},
            {.vtype = RD_KAFKA_VTYPE_PARTITION,
             .u.i32 = partition < 0 ? RD_KAFKA_PARTITION_UA : partition},
            {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
            {.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {(void *)value, value_len}},
            {.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {(void *)key, key_len}},
            {.vtype = RD_KAFKA_VTYPE_OPAQUE, .u.ptr = ctx},
        };
        rd_kafka_error_t *error = rd_kafka_produceva(p->rk, vus, sizeof vus / sizeof *vus);
        if (!error)
            return 0;
        rd_kafka_resp_err_t err = rd_kafka_error_code(error);
        rd_kafka_error_destroy(error);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && wait_for_room(p, &deadline))
            continue;
        if (!((uintptr_t)ctx & SHARED_TAG))
            free(ctx);
        send_undo(p, t, partition, bytes, counted);
        int rc = queue_refusal(err);
        moose__log(MOOSE__LOG_WARN, "producer", "produce", "cannot queue a record topic=%s: %s",
                   topic, rd_kafka_err2str(err));
        /* The queue's own limits say it in our words; anything else is librdkafka's error. */
        if (rc == MOOSE_EQUEUEFULL)
            return refuse(rc);
        snprintf(refusal, sizeof refusal, "%s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
        return rc;
    }
}

/* ---- batches ---- */

/* Records handed to librdkafka at once: their array lives on the sending thread's stack. */
enum { SEND_CHUNK = 128 };

/* Gives back what a batch counted for MSGS[FROM..TO), which were not queued. */
static void batch_undo(moose__producer *p, prod_topic *t, const rd_kafka_message_t *msgs,
                       size_t from, size_t to, bool counted) {
    if (from >= to)
        return;
    atomic_fetch_sub_explicit(&p->sent[send_shard()].n, (int_fast64_t)(to - from),
                              memory_order_relaxed);
    if (!counted)
        return;
    pthread_mutex_lock(&p->lock);
    for (size_t i = from; i < to; i++)
        bp_release(t, msgs[i].partition, bp_record_bytes(msgs[i].key_len, msgs[i].len));
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/*
 * Counts MSGS[0..N) as pending at their key's partitions of watched topic T,
 * waiting on back-pressure before each as moose__producer_send does. Returns
 * how many were counted; *REFUSED says why the rest were not.
 */
static size_t batch_hold(moose__producer *p, prod_topic *t, rd_kafka_message_t *msgs, size_t n,
                         int *refused) {
    size_t i = 0;
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->waiters, 1);
    for (; i < n; i++) {
        int64_t bytes = bp_record_bytes(msgs[i].key_len, msgs[i].len);
        int32_t part = rd_kafka_msg_partitioner_murmur2_random(t->rkt, msgs[i].key,
                                                               msgs[i].key_len, t->nparts, NULL,
                                                               NULL);
        int rc = bp_hold(p, t, part, bytes);
        if (rc) {
            *refused = rc;
            break;
        }
        msgs[i].partition = part;
    }
    atomic_fetch_sub(&p->waiters, 1);
    pthread_mutex_unlock(&p->lock);
    return i;
}

/*
 * Sends ITEMS[0..N), N <= SEND_CHUNK, to T; returns how many were queued.
 * *REFUSED becomes the reason the records after the last one queued were
 * refused for want of room (0: none was), which refuses the rest of the batch.
 */
static size_t send_chunk(moose__producer *p, prod_topic *t, moose__send_item *items, size_t n,
                         int64_t *deadline, int *refused) {
    rd_kafka_message_t msgs[SEND_CHUNK];
    for (size_t i = 0; i < n; i++)
        msgs[i] = (rd_kafka_message_t){
            .partition = RD_KAFKA_PARTITION_UA,
            .payload = (void *)items[i].value,
            .len = items[i].value_len,
            .key = (void *)items[i].key,
            .key_len = items[i].key_len,
            ._private = (void *)((uintptr_t)items[i].opaque | SHARED_TAG),
        };
    bool watched = atomic_load(&t->watched);
    size_t limit = watched ? batch_hold(p, t, msgs, n, refused) : n;
    atomic_fetch_add_explicit(&p->sent[send_shard()].n, (int_fast64_t)limit, memory_order_relaxed);

    /* Watched records go to the partitions they were counted at; the others by key, as sent. */
    int flags = RD_KAFKA_MSG_F_COPY | (watched ? RD_KAFKA_MSG_F_PARTITION : 0);
    size_t queued = 0, from = 0;
    rd_kafka_resp_err_t last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    size_t failed = 0;
    while (from < limit) {
        rd_kafka_produce_batch(t->rkt, RD_KAFKA_PARTITION_UA, flags, msgs + from,
                               (int)(limit - from));
        /* librdkafka refuses every record after the first that met a full queue. */
        size_t full = limit;
        for (size_t i = from; i < limit; i++) {
            rd_kafka_resp_err_t err = msgs[i].err;
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                full = i;
                break;
            }
            items[i].rc = err ? queue_refusal(err) : 0;
            if (err) {
                batch_undo(p, t, msgs, i, i + 1, watched);
                last_err = err;
                failed++;
            } else {
                queued++;
            }
        }
        from = full;
        if (from == limit || !wait_for_room(p, deadline))
            break;
    }
    if (from < limit) {
        batch_undo(p, t, msgs, from, limit, watched);
        last_err = RD_KAFKA_RESP_ERR__QUEUE_FULL;
        failed += limit - from;
        *refused = MOOSE_EQUEUEFULL;
    }
    for (size_t i = from; i < n; i++)
        items[i].rc = *refused;
    if (failed)
        moose__log(MOOSE__LOG_WARN, "producer", "produce",
                   "cannot queue %zu of %zu records topic=%s: %s", failed, n, t->name,
                   rd_kafka_err2str(last_err));
    return queued;
}

size_t moose__producer_send_batch(moose__producer *p, const char *topic, moose__send_item *items,
                                  size_t n) {
    int refused = 0;
    prod_topic *t = NULL;
    if (!p || !topic || !p->shared_cb)
        refused = MOOSE_EINVAL;
    else if (atomic_load(&p->closing))
        refused = MOOSE_ECLOSED;
    else if (!(t = topic_for_send(p, topic)))
        refused = MOOSE_ENOMEM;
    size_t queued = 0;
    int64_t deadline = -1;
    for (size_t at = 0; at < n; at += SEND_CHUNK) {
        size_t m = n - at < SEND_CHUNK ? n - at : SEND_CHUNK;
        if (refused) {
            for (size_t i = 0; i < m; i++)
                items[at + i].rc = refused;
            continue;
        }
        queued += send_chunk(p, t, items + at, m, &deadline, &refused);
    }
    return queued;
}

typedef struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int status;
    int32_t partition;
    int64_t offset;
    char message[512];
} sync_wait;

static void sync_cb(int status, int32_t partition, int64_t offset, const char *message,
                    void *opaque) {
    sync_wait *w = opaque;
    pthread_mutex_lock(&w->mu);
    w->status = status;
    w->partition = partition;
    w->offset = offset;
    if (message)
        snprintf(w->message, sizeof(w->message), "%s", message);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int moose__producer_send_sync(moose__producer *p, const char *topic, const void *key,
                              size_t key_len, const void *value, size_t value_len,
                              int32_t *partition, int64_t *offset, char *errstr,
                              size_t errstr_size) {
    sync_wait w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = moose__producer_send(p, topic, -1, key, key_len, value, value_len, sync_cb, &w);
    if (rc) {
        snprintf(errstr, errstr_size, "cannot send a record to topic '%s': %s", topic,
                 moose__producer_refusal());
    } else {
        /*
         * The delivery report always comes (librdkafka's message.timeout.ms
         * bounds it), and W lives on this stack: wait for it without a limit.
         */
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        rc = w.status;
        if (rc)
            snprintf(errstr, errstr_size, "%s", w.message);
        if (partition)
            *partition = w.partition;
        if (offset)
            *offset = w.offset;
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

int moose__producer_flush(moose__producer *p, int timeout_ms) {
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
        return MOOSE_ETIMEDOUT;
    /* rd_kafka_flush returns once queues are empty; the callbacks may still be running. */
    int64_t deadline = moose__kafka_now_ms() + timeout_ms;
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->waiters, 1);
    while (moose__producer_in_flight(p) > 0 && moose__kafka_now_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 5 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    }
    atomic_fetch_sub(&p->waiters, 1);
    int rc = moose__producer_in_flight(p) > 0 ? MOOSE_ETIMEDOUT : 0;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void moose__producer_stop_waiting(moose__producer *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->no_waiting, 1);
    pthread_cond_broadcast(&p->cond); /* a writer waiting now sees it */
    pthread_mutex_unlock(&p->lock);
}

int64_t moose__producer_in_flight(const moose__producer *p) {
    moose__producer *q = (moose__producer *)p;
    /* DONE first: a record sent meanwhile makes this more, never less, than what is pending. */
    int64_t n = -(int64_t)atomic_load_explicit(&q->done.n, memory_order_acquire);
    for (int i = 0; i < SEND_SHARDS; i++)
        n += (int64_t)atomic_load_explicit(&q->sent[i].n, memory_order_acquire);
    return n;
}

void moose__producer_close(moose__producer *p) {
    if (!p)
        return;
    moose__kafka_unlisten_commits(p->kafka, p);
    if (moose__producer_flush(p, p->kafka->send_timeout_ms) != 0)
        MOOSE__LOG_WARN("producer", "closing with %" PRId64 " records unacknowledged name=%s",
                        moose__producer_in_flight(p), p->name);
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->closing, 1);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    /* What is still queued is reported ECLOSED to its callback, never dropped in silence. */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(p->rk, 1000);
    p->stop = 1;
    rd_kafka_yield(p->rk); /* wakes the delivery thread out of its poll at once */
    pthread_join(p->poller, NULL);
    rd_kafka_poll(p->rk, 0);
    prod_topic *t = atomic_load(&p->topics);
    while (t) {
        prod_topic *next = t->next;
        rd_kafka_topic_destroy(t->rkt);
        for (size_t g = 0; g < t->ngroups; g++) {
            free(t->groups[g]);
            rd_kafka_destroy(t->group_rk[g]);
        }
        free(t->groups);
        free(t->group_rk);
        free(t->group_committed);
        for (int32_t i = 0; t->parts && i < t->nparts; i++) {
            free(t->parts[i].offs);
            free(t->parts[i].sizes);
        }
        free(t->parts);
        free(t->name);
        free(t);
        t = next;
    }
    rd_kafka_destroy(p->rk);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->name);
    free(p);
}
