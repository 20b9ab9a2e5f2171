/*
 * Consumer groups: manual commits only (at least once), earliest for a new
 * group, an owner callback before partitions are revoked, and gap
 * detection. A gap is a record whose offset is past the next one expected
 * for its partition: the group's committed offset when the partition was
 * assigned, then the last record's offset + 1. Offsets of a topic written
 * without transactions are dense, so a jump means records were lost (the
 * embedded broker's size limit, or retention deleting unread data). In
 * embedded mode a group that never committed expects offset 0, so data the
 * broker dropped before the group's first read is reported too.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"
#include "log.h"

/* How long a fetch may wait for data at the embedded broker (see moose__consumer_new). */
#define MOOSE__EMBEDDED_FETCH_WAIT_MS "25"

typedef struct expect {
    char *topic;
    int32_t partition;
    int64_t next; /* -1: unknown, take the first record's offset */
} expect;

struct moose__consumer {
    moose__kafka *kafka;
    rd_kafka_t *rk;
    char *group;
    char *name;
    moose__revoke_cb on_revoke;
    moose__assign_cb on_assign;
    void *opaque;
    /* Expected offsets: touched only on the polling thread (poll and rebalance callbacks). */
    expect *exp;
    size_t nexp, capexp;
    size_t last_exp; /* where the last lookup found its partition: records come in runs of one */
    atomic_uint_fast64_t gaps;
    atomic_uint_fast64_t lost;
    atomic_int closed;
};

static expect *expect_find(moose__consumer *c, const char *topic, int32_t partition) {
    if (c->last_exp < c->nexp && c->exp[c->last_exp].partition == partition &&
        strcmp(c->exp[c->last_exp].topic, topic) == 0)
        return &c->exp[c->last_exp];
    for (size_t i = 0; i < c->nexp; i++)
        if (c->exp[i].partition == partition && strcmp(c->exp[i].topic, topic) == 0) {
            c->last_exp = i;
            return &c->exp[i];
        }
    return NULL;
}

static void expect_set(moose__consumer *c, const char *topic, int32_t partition, int64_t next) {
    expect *e = expect_find(c, topic, partition);
    if (!e) {
        if (c->nexp == c->capexp) {
            size_t ncap = c->capexp ? c->capexp * 2 : 16;
            expect *n = realloc(c->exp, ncap * sizeof(*n));
            if (!n)
                return; /* without an expectation the partition is simply not checked */
            c->exp = n;
            c->capexp = ncap;
        }
        e = &c->exp[c->nexp];
        if (!(e->topic = strdup(topic)))
            return;
        c->nexp++;
        e->partition = partition;
    }
    e->next = next;
}

static void expect_remove(moose__consumer *c, const char *topic, int32_t partition) {
    expect *e = expect_find(c, topic, partition);
    if (!e)
        return;
    free(e->topic);
    *e = c->exp[--c->nexp];
}

static void on_assigned(moose__consumer *c, rd_kafka_topic_partition_list_t *parts) {
    /* The committed offsets are where reading resumes: the first expected offsets. */
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t err = rd_kafka_committed(c->rk, committed, c->kafka->admin_timeout_ms);
    for (int i = 0; i < committed->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &committed->elems[i];
        parts->elems[i].offset =
            !err && !tp->err && tp->offset >= 0 ? tp->offset : RD_KAFKA_OFFSET_INVALID;
    }
    if (err)
        MOOSE__LOG_WARN("consumer",
                        "cannot read committed offsets, gaps at the start of these "
                        "partitions go unchecked group=%s: %s",
                        c->group, rd_kafka_err2str(err));
    /* Before fetching: the owner may start a partition past what it knows is done. */
    if (c->on_assign)
        c->on_assign(c, parts, c->opaque);
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t next = -1;
        if (tp->offset >= 0)
            next = tp->offset;
        else if (!err && !committed->elems[i].err && c->kafka->embedded)
            next = 0;
        expect_set(c, tp->topic, tp->partition, next);
        MOOSE__LOG_DEBUG("consumer", "assigned group=%s topic=%s partition=%d next_offset=%" PRId64,
                         c->group, tp->topic, (int)tp->partition, next);
    }
    rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_assign(c->rk, parts);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    moose__consumer *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assigned(c, parts);
        return;
    }
    /* Revoked (or an error): let the owner drain and commit while the partitions are still ours. */
    if (c->on_revoke)
        c->on_revoke(c, parts, c->opaque);
    for (int i = 0; i < parts->cnt; i++)
        expect_remove(c, parts->elems[i].topic, parts->elems[i].partition);
    MOOSE__LOG_DEBUG("consumer", "revoked group=%s partitions=%d", c->group, parts->cnt);
    rd_kafka_assign(rk, NULL);
}

rd_kafka_conf_t *moose__kafka_consumer_conf(const moose__kafka *kafka, const char *group,
                                            char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = moose__kafka_conf(kafka, errstr, errstr_size);
    if (!conf)
        return NULL;
    char why[512];
    if (rd_kafka_conf_set(conf, "group.id", group, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "bad consumer group name '%s': %s", group, why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /*
     * The embedded broker waits session.timeout.ms - 1 s for every member to
     * rejoin when one more joins a running group: with the 45 s default a
     * second worker would stall the group for 44 s.
     */
    if (kafka->embedded && !moose__kafka_user_set(kafka, "session.timeout.ms")) {
        rd_kafka_conf_set(conf, "session.timeout.ms", "6000", why, sizeof(why));
        rd_kafka_conf_set(conf, "heartbeat.interval.ms", "500", why, sizeof(why));
    }
    /*
     * librdkafka stops fetching a partition while the consumer's queue holds
     * queued.min.messages (100000 by default). All of a consumer's partitions
     * feed that one queue, so with many partitions fetching stopped and started
     * in bursts and the reader ran dry in between: on 64 partitions a transform
     * and a raw passthrough both moved about twice as many records a second
     * with 500000. The price is memory while a reader is behind: each queued
     * record costs its bytes and about 300 bytes of librdkafka's own, which
     * queued.max.messages.kbytes does not count (docs/runtime.md, Consuming).
     */
    if (!moose__kafka_user_set(kafka, "queued.min.messages"))
        rd_kafka_conf_set(conf, "queued.min.messages", "500000", why, sizeof(why));
    return conf;
}

moose__consumer *moose__consumer_new(moose__kafka *kafka, const moose__consumer_opts *opts,
                                     char *errstr, size_t errstr_size) {
    if (!opts->group || !*opts->group || opts->ntopics == 0) {
        snprintf(errstr, errstr_size, "a consumer needs a group id and at least one topic");
        return NULL;
    }
    moose__consumer *c = calloc(1, sizeof(*c));
    if (!c || !(c->group = strdup(opts->group)) ||
        !(c->name = strdup(opts->name ? opts->name : opts->group))) {
        if (c)
            free(c->group);
        free(c);
        snprintf(errstr, errstr_size, "out of memory creating a consumer");
        return NULL;
    }
    c->kafka = kafka;
    c->on_revoke = opts->on_revoke;
    c->on_assign = opts->on_assign;
    c->opaque = opts->opaque;
    rd_kafka_conf_t *conf = moose__kafka_consumer_conf(kafka, opts->group, errstr, errstr_size);
    if (!conf)
        goto fail;
    char why[512];
    if (rd_kafka_conf_set(conf, "enable.auto.commit", "false", why, sizeof(why)) ||
        rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", why, sizeof(why)) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "false", why, sizeof(why))) {
        snprintf(errstr, errstr_size, "cannot configure consumer group '%s': %s", opts->group, why);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    /*
     * The embedded broker answers a fetch that finds nothing only after the
     * whole fetch.wait.max.ms (500 ms by default): it does not cut the wait
     * short when data arrives. A reader that has caught up would then sit out
     * half a second per fetch while its writers wait on it (back-pressure), so
     * in embedded mode a fetch waits at most MOOSE__EMBEDDED_FETCH_WAIT_MS.
     */
    if (kafka->embedded && !moose__kafka_user_set(kafka, "fetch.wait.max.ms"))
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", MOOSE__EMBEDDED_FETCH_WAIT_MS, why,
                          sizeof(why));
    /* earliest for a new group, unless the user chose another policy with -X. */
    if (!moose__kafka_user_set(kafka, "auto.offset.reset"))
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", why, sizeof(why));
    rd_kafka_conf_set_opaque(conf, c);
    moose__kafka_conf_polled(kafka, conf);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why)))) {
        snprintf(errstr, errstr_size, "cannot create consumer group '%s' at %s: %s", opts->group,
                 moose__kafka_bootstrap(kafka), why);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)opts->ntopics);
    for (size_t i = 0; i < opts->ntopics; i++)
        rd_kafka_topic_partition_list_add(subs, opts->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        snprintf(errstr, errstr_size, "consumer group '%s' cannot subscribe: %s", opts->group,
                 rd_kafka_err2str(err));
        rd_kafka_destroy(c->rk);
        c->rk = NULL;
        goto fail;
    }
    return c;
fail:
    free(c->group);
    free(c->name);
    free(c);
    return NULL;
}

/*
 * Checks M against its partition's expected offset. 0 for a record in
 * order, MOOSE_EGAP after a jump, MOOSE_ETIMEDOUT for an event that is not
 * a record (handled here), another negative code for an error to report.
 */
static int check_message(moose__consumer *c, rd_kafka_message_t *m) {
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return MOOSE_ETIMEDOUT;
        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";
        if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
            m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
            atomic_fetch_add(&c->gaps, 1);
            moose__log(MOOSE__LOG_ERROR, "consumer", "gap",
                       "records were lost: the committed offset is no longer in the log "
                       "group=%s topic=%s partition=%d: %s",
                       c->group, topic, (int)m->partition, rd_kafka_message_errstr(m));
            return MOOSE_EGAP;
        }
        moose__log(MOOSE__LOG_WARN, "consumer", "error", "consumer error group=%s topic=%s: %s",
                   c->group, topic, rd_kafka_message_errstr(m));
        return rd_kafka_fatal_error(c->rk, NULL, 0) ? MOOSE_ECLOSED : MOOSE_ETRANSPORT;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    expect *e = expect_find(c, topic, m->partition);
    int rc = 0;
    if (e && e->next >= 0 && m->offset > e->next) {
        uint64_t lost = (uint64_t)(m->offset - e->next);
        atomic_fetch_add(&c->gaps, 1);
        atomic_fetch_add(&c->lost, lost);
        moose__log(MOOSE__LOG_ERROR, "consumer", "gap",
                   "records were lost between producer and consumer group=%s topic=%s "
                   "partition=%d expected_offset=%" PRId64 " got_offset=%" PRId64 " lost=%" PRIu64,
                   c->group, topic, (int)m->partition, e->next, m->offset, lost);
        rc = MOOSE_EGAP;
    }
    if (e)
        e->next = m->offset + 1;
    else
        expect_set(c, topic, m->partition, m->offset + 1);
    return rc;
}

int moose__consumer_poll(moose__consumer *c, int timeout_ms, rd_kafka_message_t **msg) {
    *msg = NULL;
    if (atomic_load(&c->closed))
        return MOOSE_ECLOSED;
    int64_t deadline = moose__kafka_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - moose__kafka_now_ms();
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, left > 0 ? (int)left : 0);
        if (!m)
            return MOOSE_ETIMEDOUT;
        int rc = check_message(c, m);
        if (rc == 0 || (rc == MOOSE_EGAP && !m->err)) {
            *msg = m;
            return rc;
        }
        rd_kafka_message_destroy(m);
        if (rc != MOOSE_ETIMEDOUT)
            return rc;
        if (left <= 0)
            return MOOSE_ETIMEDOUT;
    }
}

int moose__consumer_poll_batch(moose__consumer *c, int timeout_ms, rd_kafka_message_t **msgs,
                               size_t max, size_t *gaps) {
    if (gaps)
        *gaps = 0;
    if (atomic_load(&c->closed))
        return MOOSE_ECLOSED;
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c->rk);
    /*
     * librdkafka's batch call waits until the batch is full or the timeout
     * passes: a reader would sit on a few records waiting for more. Take what
     * is there; only when nothing is, wait for one record, then take what
     * came with it.
     */
    ssize_t n = rd_kafka_consume_batch_queue(q, 0, msgs, max);
    if (n == 0 && timeout_ms != 0 && max > 0) {
        n = rd_kafka_consume_batch_queue(q, timeout_ms, msgs, 1);
        if (n == 1 && max > 1) {
            ssize_t more = rd_kafka_consume_batch_queue(q, 0, msgs + 1, max - 1);
            if (more > 0)
                n += more;
        }
    }
    rd_kafka_queue_destroy(q);
    if (n < 0)
        return MOOSE_ETRANSPORT;
    size_t kept = 0;
    int error = 0;
    for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = msgs[i];
        int rc = check_message(c, m);
        if (m->err) {
            if (rc != MOOSE_ETIMEDOUT && rc != MOOSE_EGAP)
                error = rc;
            rd_kafka_message_destroy(m);
            continue;
        }
        if (rc == MOOSE_EGAP && gaps)
            (*gaps)++;
        msgs[kept++] = m;
    }
    if (kept == 0 && error)
        return error;
    return (int)kept;
}

static int map_commit_error(moose__consumer *c, rd_kafka_resp_err_t err) {
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
    case RD_KAFKA_RESP_ERR__NO_OFFSET:
        return 0;
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        moose__log(MOOSE__LOG_WARN, "consumer", "commit",
                   "commit refused, the partition moved to another member (its records will be "
                   "read again there) group=%s: %s",
                   c->group, rd_kafka_err2str(err));
        return MOOSE_ECLOSED;
    default:
        moose__log(MOOSE__LOG_ERROR, "consumer", "commit", "commit failed group=%s: %s", c->group,
                   rd_kafka_err2str(err));
        return MOOSE_ETRANSPORT;
    }
}

/*
 * librdkafka's synchronous commit waits without a limit, and while the group
 * coordinator cannot be reached it keeps the commit waiting for one: a
 * stopping app would hang on a broker that is gone. So the answer is awaited
 * on a queue of our own, for at most TIMEOUT_MS; an answer that comes later
 * lands in the destroyed queue and is dropped.
 */
int moose__consumer_commit_within(moose__consumer *c,
                                  const rd_kafka_topic_partition_list_t *offsets, int timeout_ms) {
    if (!offsets || offsets->cnt == 0)
        return 0;
    rd_kafka_queue_t *answers = rd_kafka_queue_new(c->rk);
    if (!answers)
        return MOOSE_ENOMEM;
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(c->rk, offsets, answers, NULL, NULL);
    if (err) {
        rd_kafka_queue_destroy(answers);
        return map_commit_error(c, err);
    }
    int rc = 0;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(answers, timeout_ms);
    if (!ev) {
        moose__log(MOOSE__LOG_WARN, "consumer", "commit",
                   "commit not answered within %d ms group=%s (the broker is unreachable): its "
                   "records will be read again (at least once)",
                   timeout_ms, c->group);
        rc = MOOSE_ETIMEDOUT;
    } else {
        err = rd_kafka_event_error(ev);
        const rd_kafka_topic_partition_list_t *taken = rd_kafka_event_topic_partition_list(ev);
        if (err)
            rc = map_commit_error(c, err);
        for (int i = 0; !rc && taken && i < taken->cnt; i++)
            if (taken->elems[i].err)
                rc = map_commit_error(c, taken->elems[i].err);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(answers);
    return rc;
}

int moose__consumer_commit_list(moose__consumer *c, const rd_kafka_topic_partition_list_t *offsets,
                                bool sync) {
    if (!offsets || offsets->cnt == 0)
        return 0;
    if (sync)
        return moose__consumer_commit_within(c, offsets, MOOSE__COMMIT_TIMEOUT_MS);
    return map_commit_error(c, rd_kafka_commit(c->rk, offsets, 1));
}

int moose__consumer_commit(moose__consumer *c, const char *topic, int32_t partition,
                           int64_t next_offset, bool sync) {
    if (next_offset < 0)
        return MOOSE_EINVAL;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = next_offset;
    int rc = moose__consumer_commit_list(c, l, sync);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

void moose__kafka_backpressure_window(const moose__kafka *kafka, int64_t *records, int64_t *bytes) {
    *records = kafka->embedded ? kafka->bp_max_records : 0;
    *bytes = kafka->embedded ? kafka->bp_max_bytes : 0;
}

uint64_t moose__consumer_gaps(const moose__consumer *c) {
    return atomic_load(&((moose__consumer *)c)->gaps);
}
uint64_t moose__consumer_lost_records(const moose__consumer *c) {
    return atomic_load(&((moose__consumer *)c)->lost);
}

rd_kafka_topic_partition_list_t *moose__consumer_assignment(moose__consumer *c) {
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts))
        return NULL;
    return parts;
}

rd_kafka_t *moose__consumer_handle(moose__consumer *c) {
    return c->rk;
}

void moose__consumer_close(moose__consumer *c) {
    if (!c)
        return;
    atomic_store(&c->closed, 1);
    /*
     * Leaving the group runs the revoke callback, so the owner commits what it
     * finished. librdkafka's close also waits for every commit sent to leave,
     * and while the coordinator cannot be reached it retries one without end:
     * so the close is served here for at most MOOSE__CLOSE_TIMEOUT_MS, and a
     * consumer that could not leave is destroyed without leaving (the group
     * gives its partitions away after its session timeout).
     */
    rd_kafka_queue_t *events = rd_kafka_queue_new(c->rk);
    rd_kafka_error_t *error = events ? rd_kafka_consumer_close_queue(c->rk, events) : NULL;
    bool closed = false;
    if (events && !error) {
        int64_t deadline = moose__kafka_now_ms() + MOOSE__CLOSE_TIMEOUT_MS;
        /*
         * Served as events, as librdkafka's own close does: the queue may also
         * hold ops no callback takes (a consumer error, say), which
         * rd_kafka_queue_poll_callback() cannot hand back and aborts on. A
         * rebalance comes back as an event, so the revoke runs here.
         */
        while (!(closed = rd_kafka_consumer_closed(c->rk)) && moose__kafka_now_ms() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(events, 100);
            if (!ev)
                continue;
            if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                rebalance_cb(c->rk, rd_kafka_event_error(ev),
                             rd_kafka_event_topic_partition_list(ev), c);
            rd_kafka_event_destroy(ev);
        }
    }
    if (error)
        rd_kafka_error_destroy(error);
    if (events)
        rd_kafka_queue_destroy(events);
    if (closed) {
        rd_kafka_destroy(c->rk);
    } else {
        moose__log(MOOSE__LOG_WARN, "consumer", NULL,
                   "consumer %s of group %s did not leave the group within %d ms (the broker is "
                   "unreachable): closed without leaving",
                   c->name, c->group, MOOSE__CLOSE_TIMEOUT_MS);
        rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    for (size_t i = 0; i < c->nexp; i++)
        free(c->exp[i].topic);
    free(c->exp);
    free(c->group);
    free(c->name);
    free(c);
}
