/*
 * Transform workers: each one a thread with its own consumer in the
 * transform's group, so Kafka gives every partition to one worker at a time
 * (and more processes of the app share the partitions the same way).
 *
 * A fetched batch's outputs are produced asynchronously, all at once after
 * the batch was transformed (one librdkafka call per destination, not one
 * per record: about 320 instructions a record less); a record's offset may be
 * committed only once every output (or its dead letter) was acknowledged, and
 * only after every earlier record of its partition. Each partition keeps a
 * ring of the records in flight, in offset order: delivery reports count a
 * slot's pending outputs down from the producer's thread, and the worker
 * retires finished slots from the head and commits the offset after them.
 * The ring is bounded, which is also the worker's back-pressure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "app_internal.h"
#include "log.h"
#include "moose/error.h"
#include "transform_internal.h"

enum {
    RING_SLOTS = 8192, /* records in flight per partition */
    BATCH_MAX = 256,   /* records fetched at once */
    /* Outputs held for a batch's send beyond this many bytes are sent at once: records
     * of up to a megabyte each must not hold hundreds of megabytes back. */
    HELD_BYTES_MAX = 1 << 20,
    POLL_MS = 100,     /* how long a fetch waits, so a stop request is seen soon */
    /*
     * Asynchronous commits of finished work, every COMMIT_EVERY_MS, and every
     * COMMIT_HELD_BACK_MS while a writer of this process waits on
     * back-pressure: then a commit is what lets it on. Each commit is a request
     * through librdkafka's main thread to the broker and back; at 5 ms they
     * cost a transform that no writer waits on about 3 % of its CPU.
     */
    COMMIT_EVERY_MS = 50,
    COMMIT_HELD_BACK_MS = 5,
    HELD_BACK_WITHIN_MS = 1000, /* how recent a writer's wait counts */
    CONFIRM_EVERY_MS = 1000,    /* synchronous ones, which say whether the broker took them */
    DRAIN_TIMEOUT_MS = 60000, /* for all of a worker's partitions together */
    /*
     * How long a record whose output failed waits before its dead letter is
     * tried again, when the dead letter queue did not take it either (the
     * broker is away): it stays at the head of its partition, uncommitted.
     */
    DLQ_RETRY_MS = 1000,
    FINAL_COMMIT_MS = 15000, /* how long a stopping worker retries a refused commit */
};

typedef struct slot {
    int64_t offset;
    _Atomic int32_t pending; /* outputs (and dead letters) not yet acknowledged */
    _Atomic int status;      /* the first failed delivery, or 0 */
    char *fail_message;      /* its words (set by whoever set status) */
    bool unfiled;            /* failed, and its dead letter was refused: kept, and tried again */
    /* The dead letter sent without waiting for the broker (a failed record), to send the same
     * again if it is lost; its field paths are not kept. NULL: none was sent. */
    char *dead_reason;
    moose__dlq_error_type dead_type;
    rd_kafka_message_t *msg; /* the input, kept for a dead letter until the slot retires */
    /* Outputs queued, and their bytes: counted out only when the slot retires acknowledged. */
    uint32_t outputs;
    uint64_t out_bytes;
} slot;

typedef struct partq {
    bool owned;
    slot *slots; /* RING_SLOTS of them, allocated when first owned */
    uint64_t head, tail;
    int64_t done_next;      /* offset after the last retired record; -1: none */
    int64_t committed_next; /* what the broker confirmed it took */
    int64_t sent_next;      /* what was last sent without waiting for an answer */
} partq;

/* A record of the batch in hand whose outputs wait to be sent: ctx.outputs[first .. end). */
typedef struct held_record {
    slot *s;
    size_t first, end;
} held_record;

typedef struct worker {
    moose__transform_runner *runner;
    int index;
    pthread_t thread;
    bool started;
    moose__consumer *consumer;
    moose_transform_ctx ctx;
    partq *parts; /* indexed by partition */
    size_t nparts;
    uint64_t last_commit_ms, last_confirm_ms;
    /* The batch's records with outputs, sent together once the batch is transformed. */
    held_record held[BATCH_MAX];
    size_t nheld;
    moose__send_item *items; /* one destination's outputs, for the producer */
    size_t items_cap;
    int last_sync_rc; /* what the last synchronous commit got back */
    uint64_t dlq_retry_ms; /* when a refused dead letter is tried again */
    /* The common counters of the batch in hand, added to the metrics once per batch: each
     * addition is an atomic operation on memory that readers share. OUT and BYTES_OUT are
     * the outputs of records retired with every output acknowledged, not merely queued. */
    uint64_t in, bytes_in, out, bytes_out, valid, filtered;
    char name[160];
} worker;

struct moose__transform_runner {
    moose_app *app;
    const moose_transform_desc *desc;
    moose__producer *producer;
    moose__component *metrics;
    char group[256];
    _Atomic bool stop;
    worker *workers;
    int nworkers;
    /* Stopping workers wait until all running ones have committed, then leave the group. */
    pthread_mutex_t lock;
    pthread_cond_t all_committed;
    int running, committed;
    /*
     * Per partition, the offset below which a worker that lost the partition
     * had finished everything (-1: none). The broker may refuse the commit a
     * worker makes on revoke (the embedded broker refuses every commit while
     * its group rebalances), so the worker of this process that gets the
     * partition next starts there rather than at the stale commit. Under lock.
     */
    int64_t *handed_over;
    size_t nhanded_over;
};

/* Waits until every running worker of R reached this point. */
static void wait_all_committed(moose__transform_runner *r) {
    pthread_mutex_lock(&r->lock);
    r->committed++;
    pthread_cond_broadcast(&r->all_committed);
    while (r->committed < r->running)
        pthread_cond_wait(&r->all_committed, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void pause_briefly(void) {
    struct timespec ts = {0, 500 * 1000};
    nanosleep(&ts, NULL);
}

/* ---- delivery reports (the producer's thread) ---- */

static void slot_failed(slot *s, int status, const char *message) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&s->status, &expected, status))
        s->fail_message = strdup(message ? message : moose_strerror(status));
}

static void output_delivered(int status, int32_t partition, int64_t offset, const char *message,
                             void *opaque) {
    (void)partition;
    (void)offset;
    slot *s = opaque;
    if (status != 0)
        slot_failed(s, status, message);
    /* The last touch of the slot: after this the worker may reuse it. */
    atomic_fetch_sub_explicit(&s->pending, 1, memory_order_release);
}

/* ---- partitions ---- */

static partq *partq_get(worker *w, int32_t partition) {
    if (partition < 0)
        return NULL;
    if ((size_t)partition >= w->nparts) {
        size_t n = (size_t)partition + 1;
        partq *grown = realloc(w->parts, n * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + w->nparts, 0, (n - w->nparts) * sizeof *grown);
        for (size_t i = w->nparts; i < n; i++)
            grown[i].done_next = grown[i].committed_next = grown[i].sent_next = -1;
        w->parts = grown;
        w->nparts = n;
    }
    partq *p = &w->parts[partition];
    if (!p->slots) {
        p->slots = calloc(RING_SLOTS, sizeof *p->slots);
        if (!p->slots)
            return NULL;
    }
    return p;
}

static void log_failure(worker *w, const rd_kafka_message_t *msg, const char *what,
                        const char *reason) {
    char key[160], why[600];
    moose__log_quote(key, sizeof key, msg->key ? msg->key : "", msg->key ? msg->key_len : 0);
    moose__log_quote(why, sizeof why, reason, strlen(reason));
    moose__log(MOOSE__LOG_WARN, "transform", w->runner->desc->name,
               "%s transform=%s key=%s partition=%" PRId32 " offset=%" PRId64 " reason=%s", what,
               w->runner->desc->name, key, msg->partition, msg->offset, why);
}

/*
 * After a send: true to send again (the queue was full, and it drains as
 * deliveries come back), false otherwise. A stopping worker does not wait
 * out a full queue: *RC becomes MOOSE_ECLOSED and the record is read again.
 */
static bool again_when_full(worker *w, int *rc) {
    if (*rc != MOOSE_EQUEUEFULL)
        return false;
    if (atomic_load(&w->runner->stop)) {
        *rc = MOOSE_ECLOSED;
        return false;
    }
    pause_briefly();
    return true;
}

/* Sends the input of S to the DLQ; with CB the slot waits for its acknowledgement. */
static int dead_letter(worker *w, slot *s, const rd_kafka_message_t *msg,
                       moose__dlq_error_type type, const char *reason, const moose_errors *errs,
                       bool sync) {
    const moose_transform_desc *t = w->runner->desc;
    moose__dlq_entry entry = {
        .type = type,
        .source = MOOSE__DLQ_FROM_TRANSFORM,
        .message = reason,
        .errors = errs,
        .topic = t->source->topic,
        .partition = msg->partition,
        .offset = msg->offset,
        .transform = t->name,
        .key = msg->key,
        .key_len = msg->key ? msg->key_len : 0,
        .original = msg->payload ? msg->payload : "",
        .original_len = msg->payload ? msg->len : 0,
    };
    char errstr[256];
    int rc;
    if (sync) {
        rc = moose__dlq_send(w->runner->producer, &entry, true, NULL, NULL, errstr, sizeof errstr);
    } else {
        atomic_fetch_add_explicit(&s->pending, 1, memory_order_relaxed);
        do
            rc = moose__dlq_send(w->runner->producer, &entry, false, output_delivered, s, errstr,
                                 sizeof errstr);
        while (again_when_full(w, &rc));
        if (rc == MOOSE_ECLOSED)
            slot_failed(s, rc, errstr); /* stopping: the record is read again, not lost */
        if (rc != 0)
            atomic_fetch_sub_explicit(&s->pending, 1, memory_order_relaxed);
        if (rc == 0) {
            s->dead_type = type;
            s->dead_reason = strdup(reason); /* NULL: a loss is filed as a DeliveryError */
        }
    }
    if (rc != 0)
        moose__log(MOOSE__LOG_ERROR, "transform", "dlq",
                   "record could not be kept in the dead letter queue transform=%s "
                   "partition=%" PRId32 " offset=%" PRId64 " reason=\"%s\" error=\"%s\"",
                   t->name, msg->partition, msg->offset, reason, errstr);
    return rc;
}

/*
 * A record whose output was given up because the runtime is closing (a send
 * refused while stopping, or purged by the producer's close): not a delivery
 * failure for the dead letter queue, but work left undone. It is never
 * retired, so no commit passes it, and it is read again at the next start.
 * So is a record whose output failed and whose dead letter was refused too:
 * while running it is tried again (reap), and a partition revoked or stopped
 * meanwhile leaves it to be read again.
 */
static bool abandoned(slot *s) {
    return atomic_load_explicit(&s->pending, memory_order_acquire) == 0 &&
           (s->unfiled ||
            atomic_load_explicit(&s->status, memory_order_relaxed) == MOOSE_ECLOSED);
}

/*
 * Files the input of S, whose output failed, in the dead letter queue and
 * waits for the broker to take it: true when it did. A stopping worker does
 * not wait (the record is read again at the next start), and one that was
 * refused waits DLQ_RETRY_MS before trying again: the record stays, so no
 * commit passes it, until it is kept somewhere.
 */
static bool file_failed(worker *w, slot *s, int status) {
    if (atomic_load(&w->runner->stop) || (s->unfiled && now_ms() < w->dlq_retry_ms)) {
        s->unfiled = true;
        return false;
    }
    /* A lost dead letter is sent again as it was: the failure it files is the record's. */
    moose__dlq_error_type type = s->dead_reason ? s->dead_type : MOOSE__DLQ_DELIVERY_ERROR;
    char reason[512];
    if (s->dead_reason)
        snprintf(reason, sizeof reason, "%s", s->dead_reason);
    else
        snprintf(reason, sizeof reason, "an output was not acknowledged: %s",
                 s->fail_message ? s->fail_message : moose_strerror(status));
    if (!s->unfiled)
        log_failure(w, s->msg, s->dead_reason ? "dead letter lost, sent again" : "delivery failed",
                    s->dead_reason ? (s->fail_message ? s->fail_message : "") : reason);
    if (dead_letter(w, s, s->msg, type, reason, NULL, true) != 0) {
        s->unfiled = true;
        w->dlq_retry_ms = now_ms() + DLQ_RETRY_MS;
        return false;
    }
    if (!s->dead_reason)
        moose__count(w->runner->metrics, MOOSE__C_DLQ, 1); /* a lost one was counted when sent */
    s->unfiled = false;
    free(s->fail_message);
    s->fail_message = NULL;
    return true;
}

/* Retires finished records at the head of P's ring; returns how many. */
static size_t reap(worker *w, partq *p) {
    size_t n = 0;
    while (p->head < p->tail) {
        slot *s = &p->slots[p->head % RING_SLOTS];
        if (atomic_load_explicit(&s->pending, memory_order_acquire) != 0)
            break;
        int status = atomic_load_explicit(&s->status, memory_order_relaxed);
        if (status == MOOSE_ECLOSED)
            break; /* abandoned: read again at the next start */
        if (status != 0) {
            if (!file_failed(w, s, status))
                break;
        } else {
            w->out += s->outputs;
            w->bytes_out += s->out_bytes;
        }
        p->done_next = s->offset + 1;
        rd_kafka_message_destroy(s->msg);
        s->msg = NULL;
        free(s->dead_reason);
        s->dead_reason = NULL;
        p->head++;
        n++;
    }
    return n;
}

/*
 * Commits what retired since the last commit. SYNC waits for the broker's
 * answer: true when every owned partition is then committed up to its last
 * retired record, and a commit it refused (during a rebalance) is tried again
 * next time. Asynchronous commits keep the committed offset close behind the
 * work without stalling the worker; a synchronous one every CONFIRM_EVERY_MS
 * (and on revoke and stop) makes sure none was lost.
 */
static bool commit(worker *w, bool sync) {
    const char *topic = w->runner->desc->source->topic;
    bool all = true;
    /* One request for every partition that moved: a worker may own dozens of them. */
    rd_kafka_topic_partition_list_t *list = NULL;
    for (size_t i = 0; i < w->nparts; i++) {
        partq *p = &w->parts[i];
        if (!p->owned || p->done_next <= (sync ? p->committed_next : p->sent_next))
            continue;
        if (!list && !(list = rd_kafka_topic_partition_list_new(8))) {
            all = false;
            break; /* out of memory: tried again next time */
        }
        rd_kafka_topic_partition_list_add(list, topic, (int32_t)i)->offset = p->done_next;
    }
    if (sync)
        w->last_sync_rc = 0;
    if (list) {
        int rc = moose__consumer_commit_list(w->consumer, list, sync);
        if (sync)
            w->last_sync_rc = rc;
        for (int k = 0; k < list->cnt; k++) {
            partq *p = &w->parts[list->elems[k].partition];
            if (!sync) {
                p->sent_next = list->elems[k].offset;
            } else if (rc == 0) {
                p->committed_next = p->sent_next = list->elems[k].offset;
            } else {
                all = false;
                moose__log(MOOSE__LOG_DEBUG, "transform", NULL,
                           "commit not taken transform=%s partition=%" PRId32 " offset=%" PRId64
                           " error=%s",
                           w->runner->desc->name, list->elems[k].partition, list->elems[k].offset,
                           moose_err_name(rc));
            }
        }
        rd_kafka_topic_partition_list_destroy(list);
    }
    uint64_t now = now_ms();
    w->last_commit_ms = now;
    if (sync)
        w->last_confirm_ms = now;
    return all;
}

/* Waits until every record of P in flight retired; false after DEADLINE (now_ms) or at a record
 * given up (abandoned). */
static bool drain(worker *w, partq *p, uint64_t deadline) {
    for (;;) {
        reap(w, p);
        if (p->head == p->tail)
            return true;
        if (abandoned(&p->slots[p->head % RING_SLOTS]) || now_ms() > deadline)
            return false;
        pause_briefly();
    }
}

/* Records that everything of PARTITION below NEXT is done, for its next owner here. */
static void hand_over(moose__transform_runner *r, int32_t partition, int64_t next) {
    pthread_mutex_lock(&r->lock);
    if ((size_t)partition >= r->nhanded_over) {
        size_t n = (size_t)partition + 1;
        int64_t *grown = realloc(r->handed_over, n * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&r->lock);
            return; /* the next owner starts at the last commit: processed again, not lost */
        }
        for (size_t i = r->nhanded_over; i < n; i++)
            grown[i] = -1;
        r->handed_over = grown;
        r->nhanded_over = n;
    }
    if (next > r->handed_over[partition])
        r->handed_over[partition] = next;
    pthread_mutex_unlock(&r->lock);
}

static int64_t handed_over(moose__transform_runner *r, int32_t partition) {
    pthread_mutex_lock(&r->lock);
    int64_t next = (size_t)partition < r->nhanded_over ? r->handed_over[partition] : -1;
    pthread_mutex_unlock(&r->lock);
    return next;
}

static void tally_flush(worker *w);

static void on_revoke(moose__consumer *c, const rd_kafka_topic_partition_list_t *parts,
                      void *opaque) {
    (void)c;
    worker *w = opaque;
    uint64_t drain_deadline = now_ms() + DRAIN_TIMEOUT_MS;
    for (int i = 0; i < parts->cnt; i++) {
        int32_t part = parts->elems[i].partition;
        if (part < 0 || (size_t)part >= w->nparts || !w->parts[part].owned)
            continue;
        if (!drain(w, &w->parts[part], drain_deadline))
            moose__log(MOOSE__LOG_ERROR, "transform", NULL,
                       "transform=%s partition=%" PRId32
                       " was revoked with records still unacknowledged; they will be processed "
                       "again by the next owner",
                       w->runner->desc->name, part);
        /* Even after a failed drain: every record below done_next is finished. */
        if (w->parts[part].done_next >= 0)
            hand_over(w->runner, part, w->parts[part].done_next);
    }
    /* Leaving after the stop's commit went unanswered: the broker is gone, asking again waits. */
    bool broker_gone = atomic_load(&w->runner->stop) && w->last_sync_rc == MOOSE_ETIMEDOUT;
    tally_flush(w); /* the outputs the drain saw acknowledged, before their commit */
    if (!broker_gone)
        commit(w, true);
    for (int i = 0; i < parts->cnt; i++) {
        int32_t part = parts->elems[i].partition;
        if (part >= 0 && (size_t)part < w->nparts) {
            partq *p = &w->parts[part];
            /* Refused during a rebalance is usual (logged as such); unanswered is not. Said
             * once: a stop that found the broker gone has named the partitions already. */
            if (p->owned && p->done_next > p->committed_next && !broker_gone &&
                w->last_sync_rc == MOOSE_ETIMEDOUT)
                moose__log(MOOSE__LOG_WARN, "transform", NULL,
                           "revoked without committing transform=%s partition=%" PRId32
                           " offset=%" PRId64 ": its records after the last commit are processed "
                           "again (at least once)",
                           w->runner->desc->name, part, p->done_next);
            p->owned = false;
            p->done_next = p->committed_next = p->sent_next = -1;
        }
    }
}

/*
 * Starts each assigned partition after what an earlier owner in this process
 * finished, when that is past the group's commit, and commits it from there.
 */
static void on_assign(moose__consumer *c, rd_kafka_topic_partition_list_t *parts, void *opaque) {
    (void)c;
    worker *w = opaque;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        partq *p = partq_get(w, tp->partition);
        if (!p) {
            moose__log(MOOSE__LOG_ERROR, "transform", NULL,
                       "out of memory tracking partition %" PRId32 " of transform %s; its "
                       "records are skipped until it is assigned again",
                       tp->partition, w->runner->desc->name);
            continue;
        }
        p->owned = true;
        p->done_next = p->committed_next = p->sent_next = tp->offset >= 0 ? tp->offset : -1;
        int64_t next = handed_over(w->runner, tp->partition);
        if (next >= 0 && next > tp->offset) {
            moose__log(MOOSE__LOG_DEBUG, "transform", NULL,
                       "transform=%s partition=%" PRId32 " starts at offset %" PRId64
                       ", finished here before its commit at %" PRId64 " was taken",
                       w->runner->desc->name, tp->partition, next, tp->offset);
            tp->offset = next;
            p->done_next = next; /* committed with the next commit */
        }
    }
}

/* ---- one record ---- */

/* An output of S that could not be queued: the slot fails with RC, and expects one output less. */
static void output_refused(worker *w, slot *s, uint32_t dest, int rc) {
    char message[256];
    snprintf(message, sizeof message, "producing to %s failed: %s",
             w->runner->desc->destinations[dest]->topic, moose_strerror(rc));
    slot_failed(s, rc, message);
    atomic_fetch_sub_explicit(&s->pending, 1, memory_order_release);
}

/* Room for N items; false when out of memory. */
static bool items_reserve(worker *w, size_t n) {
    if (n <= w->items_cap)
        return true;
    moose__send_item *grown = realloc(w->items, n * sizeof *grown);
    if (!grown)
        return false;
    w->items = grown;
    w->items_cap = n;
    return true;
}

/*
 * Sends the outputs the batch's records emitted to destination DEST, in the
 * records' order: one call to the producer for all of them. Records after
 * one refused for want of room are refused too, so a full queue is waited
 * out from the first of them on, which keeps each key's outputs in order.
 */
static void send_to(worker *w, uint32_t dest) {
    moose_transform_ctx *ctx = &w->ctx;
    const char *base = ctx->out.data;
    size_t n = 0;
    for (size_t h = 0; h < w->nheld; h++)
        for (size_t i = w->held[h].first; i < w->held[h].end; i++) {
            const moose__output *o = &ctx->outputs[i];
            if (o->dest != dest)
                continue;
            w->items[n++] = (moose__send_item){
                .key = o->has_key ? base + o->key_off : NULL,
                .key_len = o->key_len,
                .value = base + o->value_off,
                .value_len = o->value_len,
                .opaque = w->held[h].s,
            };
        }
    const char *topic = w->runner->desc->destinations[dest]->topic;
    size_t from = 0;
    while (from < n) {
        moose__producer_send_batch(w->runner->producer, topic, w->items + from, n - from);
        size_t again = n;
        for (size_t i = from; i < n; i++) {
            moose__send_item *it = &w->items[i];
            slot *s = it->opaque;
            if (it->rc == 0) {
                s->outputs++;
                s->out_bytes += it->value_len;
            } else if (again_when_full(w, &it->rc)) {
                again = i; /* this one and every one after it: the queue was full */
                break;
            } else {
                output_refused(w, s, dest, it->rc);
            }
        }
        from = again;
    }
}

/* Sends the outputs of the batch's records, and forgets them. */
static void send_held(worker *w) {
    if (w->nheld == 0)
        return;
    moose_transform_ctx *ctx = &w->ctx;
    if (!items_reserve(w, ctx->noutputs)) {
        for (size_t h = 0; h < w->nheld; h++)
            for (size_t i = w->held[h].first; i < w->held[h].end; i++)
                output_refused(w, w->held[h].s, ctx->outputs[i].dest, MOOSE_ENOMEM);
    } else {
        for (uint32_t d = 0; d < w->runner->desc->ndestinations; d++)
            send_to(w, d);
    }
    moose__transform_drop_outputs(ctx);
    w->nheld = 0;
}

/* Adds the batch's counters to the metrics. */
static void tally_flush(worker *w) {
    moose__component *m = w->runner->metrics;
    moose__count(m, MOOSE__C_RECORDS_IN, w->in);
    moose__count(m, MOOSE__C_BYTES_IN, w->bytes_in);
    moose__count(m, MOOSE__C_VALID, w->valid);
    moose__count(m, MOOSE__C_FILTERED, w->filtered);
    moose__count(m, MOOSE__C_RECORDS_OUT, w->out);
    moose__count(m, MOOSE__C_BYTES_OUT, w->bytes_out);
    w->in = w->bytes_in = w->valid = w->filtered = w->out = w->bytes_out = 0;
}

/*
 * The time inside the function is measured on every record, except in a
 * batch of TIMED_BATCH records or more, where one in TIMED_EVERY is: at that
 * pace the percentiles come from thousands of records a second either way,
 * and two clock reads a record were about 2 % of the transform's CPU.
 */
enum { TIMED_BATCH = 32, TIMED_EVERY = 8 };

static void process(worker *w, rd_kafka_message_t *msg, bool timed) {
    moose__component *m = w->runner->metrics;
    /*
     * Stopping: nothing more is started; what was fetched is read again at
     * the next start. Each record after the first one left is left too (the
     * flag stays set), so no commit passes a record left undone.
     */
    if (atomic_load_explicit(&w->runner->stop, memory_order_relaxed)) {
        rd_kafka_message_destroy(msg);
        return;
    }
    partq *p = partq_get(w, msg->partition);
    if (!p || !p->owned) {
        /* Not owned: fetched before its partition was revoked; its next owner reads it. */
        if (!p)
            moose__log(MOOSE__LOG_ERROR, "transform", NULL,
                       "out of memory tracking partition %" PRId32 " of transform %s; record at "
                       "offset %" PRId64 " will be processed again after a restart",
                       msg->partition, w->runner->desc->name, msg->offset);
        rd_kafka_message_destroy(msg);
        return;
    }
    if (p->tail - p->head >= RING_SLOTS)
        send_held(w); /* the ring's oldest records may be waiting on them */
    while (p->tail - p->head >= RING_SLOTS) {
        if (atomic_load(&w->runner->stop)) {
            rd_kafka_message_destroy(msg); /* as above: read again at the next start */
            return;
        }
        if (reap(w, p) == 0)
            pause_briefly();
    }
    slot *s = &p->slots[p->tail % RING_SLOTS];
    s->offset = msg->offset;
    s->msg = msg;
    s->fail_message = NULL;
    s->dead_reason = NULL;
    s->unfiled = false;
    s->outputs = 0;
    s->out_bytes = 0;
    atomic_store_explicit(&s->status, 0, memory_order_relaxed);
    atomic_store_explicit(&s->pending, 0, memory_order_relaxed);
    p->tail++;

    w->in++;
    w->bytes_in += msg->len;
    uint64_t t0 = timed ? moose__metrics_now_ns() : 0;
    int rc = moose__transform_record(&w->ctx, msg->payload, msg->payload ? msg->len : 0,
                                     msg->partition, msg->offset);
    if (timed)
        moose__latency_record(m, MOOSE__L_TRANSFORM, moose__metrics_now_ns() - t0);
    moose_transform_ctx *ctx = &w->ctx;
    if (ctx->failure == MOOSE__FAIL_DECODE || ctx->failure == MOOSE__FAIL_INPUT)
        moose__metrics_validated(m, msg->payload, msg->payload ? msg->len : 0, &ctx->errs);
    else
        w->valid++; /* what moose__metrics_validated(m, NULL, 0, NULL) counts */
    if (rc == 0) {
        if (ctx->noutputs == ctx->first_output)
            w->filtered++;
        /*
         * Counted all at once before the first send (no report can come
         * before it): only this thread retires slots, so the count need not
         * be held up while sending, and a send that fails counts its own out.
         * The outputs are sent with the rest of the batch's (send_held).
         */
        size_t emitted = ctx->noutputs - ctx->first_output;
        atomic_store_explicit(&s->pending, (int32_t)emitted, memory_order_relaxed);
        if (emitted > 0)
            w->held[w->nheld++] = (held_record){s, ctx->first_output, ctx->noutputs};
    } else {
        bool validation = moose__failure_is_validation(ctx->failure);
        if (ctx->failure == MOOSE__FAIL_TRANSFORM)
            moose__count(m, MOOSE__C_TRANSFORM_ERRORS, 1);
        log_failure(w, msg, validation ? "record rejected" : "transform failed", ctx->reason);
        if (dead_letter(w, s, msg,
                        validation ? MOOSE__DLQ_VALIDATION_ERROR : MOOSE__DLQ_TRANSFORM_ERROR,
                        ctx->reason, validation ? &ctx->errs : NULL, false) == 0)
            moose__count(m, MOOSE__C_DLQ, 1);
    }
}

/*
 * Lets go of the records still in the rings (given up, or not acknowledged
 * within the drain): they were not committed and are read again. librdkafka
 * destroys a consumer only once every message it handed out is destroyed,
 * so a record kept here would hold the close up. Their slots stay allocated
 * (a late delivery report may still count one down) until the runner is
 * freed.
 */
static void release_unfinished(worker *w) {
    for (size_t i = 0; i < w->nparts; i++) {
        partq *p = &w->parts[i];
        for (; p->slots && p->head < p->tail; p->head++) {
            slot *s = &p->slots[p->head % RING_SLOTS];
            if (s->msg)
                rd_kafka_message_destroy(s->msg);
            s->msg = NULL;
            free(s->fail_message);
            s->fail_message = NULL;
            free(s->dead_reason);
            s->dead_reason = NULL;
        }
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    moose__transform_runner *r = w->runner;
    /* "moose:t<N>" in top -H and perf, so a transform's CPU is told apart from librdkafka's. */
    char thread_name[16];
    snprintf(thread_name, sizeof thread_name, "moose:t%d", w->index);
    prctl(PR_SET_NAME, thread_name, 0, 0, 0);
    rd_kafka_message_t *batch[BATCH_MAX];
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        moose__metrics_heartbeat(r->metrics);
        int n = moose__consumer_poll_batch(w->consumer, POLL_MS, batch, BATCH_MAX, NULL);
        if (n < 0) {
            if (n == MOOSE_ECLOSED)
                break;
            pause_briefly(); /* the consumer logged why; it reconnects by itself */
            continue;
        }
        for (int i = 0; i < n; i++) {
            process(w, batch[i], n < TIMED_BATCH || i % TIMED_EVERY == 0);
            if (w->ctx.out.len >= HELD_BYTES_MAX)
                send_held(w);
        }
        send_held(w);
        for (size_t i = 0; i < w->nparts; i++)
            if (w->parts[i].owned)
                reap(w, &w->parts[i]);
        tally_flush(w);
        uint64_t now = now_ms();
        if (now - w->last_confirm_ms >= CONFIRM_EVERY_MS)
            commit(w, true);
        else if (now - w->last_commit_ms >= COMMIT_HELD_BACK_MS &&
                 (now - w->last_commit_ms >= COMMIT_EVERY_MS ||
                  moose__kafka_writers_held_back(r->app->kafka, HELD_BACK_WITHIN_MS)))
            commit(w, false);
    }
    /* Stop: nothing more is fetched; finish what is in flight and commit it. */
    uint64_t drain_deadline = now_ms() + DRAIN_TIMEOUT_MS;
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].owned && !drain(w, &w->parts[i], drain_deadline))
            moose__log(MOOSE__LOG_ERROR, "transform", NULL,
                       "transform=%s partition=%zu stopped with records still unacknowledged; "
                       "they will be processed again",
                       r->desc->name, i);
    tally_flush(w);
    /*
     * A commit refused because the group is rebalancing succeeds once the
     * rebalance is over, and that needs this consumer to poll: poll (handing
     * back nothing: what it fetches is read again by the next owner) until the
     * commit goes through or the partitions are taken away.
     */
    uint64_t deadline = now_ms() + FINAL_COMMIT_MS;
    /* An unanswered commit is not tried again: the broker is gone, and stopping must not wait. */
    while (!commit(w, true) && w->last_sync_rc != MOOSE_ETIMEDOUT && now_ms() < deadline) {
        rd_kafka_message_t *m = NULL;
        int rc = moose__consumer_poll(w->consumer, POLL_MS, &m);
        if (m)
            rd_kafka_message_destroy(m);
        if (rc == MOOSE_ECLOSED)
            break; /* the consumer is gone: nothing more can be committed through it */
    }
    /*
     * Leave only when every worker has committed: the first one to leave
     * starts a rebalance, and the broker refuses commits during one. Then
     * all leave at once, not one rebalance after another.
     */
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].owned && w->parts[i].done_next > w->parts[i].committed_next)
            moose__log(MOOSE__LOG_WARN, "transform", NULL,
                       "stopping without committing transform=%s partition=%zu offset=%" PRId64
                       ": its records after the last commit are processed again on restart or by "
                       "the next owner (at least once)",
                       r->desc->name, i, w->parts[i].done_next);
    wait_all_committed(r);
    release_unfinished(w);
    moose__metrics_remove_consumer(r->metrics, moose__consumer_handle(w->consumer));
    moose__consumer_close(w->consumer);
    w->consumer = NULL;
    return NULL;
}

/* ---- runner ---- */

static void runner_free(moose__transform_runner *r) {
    for (int i = 0; i < r->nworkers; i++) {
        worker *w = &r->workers[i];
        if (w->consumer)
            moose__metrics_remove_consumer(r->metrics, moose__consumer_handle(w->consumer));
        moose__consumer_close(w->consumer);
        w->consumer = NULL;
    }
    /* Every delivery report has arrived once the producer is closed: the rings may go. */
    moose__producer_close(r->producer);
    for (int i = 0; i < r->nworkers; i++) {
        worker *w = &r->workers[i];
        for (size_t j = 0; j < w->nparts; j++) {
            partq *p = &w->parts[j];
            for (uint64_t k = p->head; p->slots && k < p->tail; k++) {
                slot *s = &p->slots[k % RING_SLOTS];
                if (s->msg)
                    rd_kafka_message_destroy(s->msg);
                free(s->fail_message);
                free(s->dead_reason);
            }
            free(p->slots);
        }
        free(w->parts);
        free(w->items);
        moose__transform_ctx_free(&w->ctx);
    }
    free(r->workers);
    free(r->handed_over);
    pthread_cond_destroy(&r->all_committed);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

moose__transform_runner *moose__transform_start(moose_app *app, const moose_transform_desc *t,
                                                int workers, char *errstr, size_t errstr_size) {
    moose__transform_runner *r = calloc(1, sizeof *r);
    if (!r || !(r->workers = calloc((size_t)workers, sizeof *r->workers))) {
        free(r);
        snprintf(errstr, errstr_size, "out of memory starting transform %s", t->name);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->all_committed, NULL);
    r->app = app;
    r->desc = t;
    r->metrics = moose__metrics_find(app->metrics, MOOSE_COMPONENT_TRANSFORM, t->name);
    if (!t->fn) {
        snprintf(errstr, errstr_size, "transform %s has no function", t->name);
        goto fail;
    }
    if (!moose__group_for_transform(app->desc, t, r->group, sizeof r->group)) {
        snprintf(errstr, errstr_size, "the consumer group name of transform %s is too long",
                 t->name);
        goto fail;
    }
    char name[200];
    snprintf(name, sizeof name, "transform %s", t->name);
    r->producer = moose__producer_new(app->kafka, name, errstr, errstr_size);
    if (!r->producer)
        goto fail;
    /* Every output and dead letter reports to its slot: no allocation per record for it. */
    moose__producer_share_cb(r->producer, output_delivered);
    for (uint32_t i = 0; i < t->ndestinations; i++)
        if (moose__app_watch_readers(app, r->producer, t->destinations[i], errstr, errstr_size) !=
            0)
            goto fail;

    const char *topics[1] = {t->source->topic};
    for (int i = 0; i < workers; i++) {
        worker *w = &r->workers[i];
        w->runner = r;
        w->index = i;
        snprintf(w->name, sizeof w->name, "transform %s worker %d", t->name, i);
        r->nworkers = i + 1;
        if (moose__transform_ctx_init(&w->ctx, t, app->cfg.max_record_bytes) != 0) {
            snprintf(errstr, errstr_size, "out of memory starting transform %s", t->name);
            goto fail;
        }
        w->ctx.max_depth = app->cfg.max_depth;
        w->ctx.keep_outputs = true; /* a batch's outputs are sent together */
        moose__consumer_opts copts = {
            .group = r->group,
            .topics = topics,
            .ntopics = 1,
            .on_revoke = on_revoke,
            .on_assign = on_assign,
            .opaque = w,
            .name = w->name,
        };
        w->consumer = moose__consumer_new(app->kafka, &copts, errstr, errstr_size);
        if (!w->consumer)
            goto fail;
        /* Lag is read from the consumers themselves; without a component (metrics off), none. */
        if (r->metrics &&
            moose__metrics_add_consumer(r->metrics, moose__consumer_handle(w->consumer)) != 0)
            moose__log(MOOSE__LOG_WARN, "transform", NULL,
                       "transform=%s worker=%d: too many consumers to measure the lag of all",
                       t->name, i);
    }
    r->running = workers;
    for (int i = 0; i < workers; i++) {
        worker *w = &r->workers[i];
        int err = pthread_create(&w->thread, NULL, worker_main, w);
        if (err != 0) {
            snprintf(errstr, errstr_size, "cannot start a worker thread of transform %s: %s",
                     t->name, strerror(err));
            pthread_mutex_lock(&r->lock);
            r->running = i; /* the ones started do not wait for this one */
            pthread_cond_broadcast(&r->all_committed);
            pthread_mutex_unlock(&r->lock);
            moose__transform_request_stop(r);
            moose__transform_join(r);
            return NULL;
        }
        w->started = true;
    }
    moose__log(MOOSE__LOG_INFO, "transform", NULL, "started transform=%s workers=%d group=%s",
               t->name, workers, r->group);
    return r;
fail:
    runner_free(r);
    return NULL;
}

int moose__transform_workers_assigned(moose__transform_runner *r) {
    int n = 0;
    for (int i = 0; r && i < r->nworkers; i++) {
        rd_kafka_topic_partition_list_t *parts =
            r->workers[i].consumer ? moose__consumer_assignment(r->workers[i].consumer) : NULL;
        if (parts && parts->cnt > 0)
            n++;
        if (parts)
            rd_kafka_topic_partition_list_destroy(parts);
    }
    return n;
}

void moose__transform_request_stop(moose__transform_runner *r) {
    if (!r)
        return;
    atomic_store(&r->stop, true);
    /*
     * A worker waiting on back-pressure waits for readers to commit, and they
     * may never again: they stop too, or the broker is gone. It gives up its
     * record instead, which is read again at the next start.
     */
    moose__producer_stop_waiting(r->producer);
}

void moose__transform_join(moose__transform_runner *r) {
    if (!r)
        return;
    moose__transform_request_stop(r);
    for (int i = 0; i < r->nworkers; i++)
        if (r->workers[i].started)
            pthread_join(r->workers[i].thread, NULL);
    /* Stopped on purpose: silent workers from now on are not stalled. */
    moose__metrics_heartbeat_end(r->metrics);
    runner_free(r);
}
