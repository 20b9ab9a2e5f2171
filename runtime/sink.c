#include "sink.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "dlq.h"
#include "log.h"
#include "moose/codec.h"
#include "table.h"

/* A record that goes to the DLQ with the batch: its message and why. */
typedef struct dead_record {
    size_t msg; /* index into the batch's messages */
    moose__dlq_error_type type;
    char message[MOOSE__TABLE_MESSAGE_MAX];
    moose_errors errors; /* field errors of an invalid record */
} dead_record;

/* What a batch holds of one partition, against the writers' back-pressure window. */
typedef struct partition_load {
    const rd_kafka_topic_t *rkt;
    int32_t partition;
    int64_t records, bytes;
} partition_load;

/* Records gathered for one insert, with what came with them. */
typedef struct batch {
    rd_kafka_message_t **msgs;
    size_t nmsgs, cap_msgs;
    char *recs;      /* nrecs records of model->size bytes */
    size_t *rec_msg; /* the message each record came from */
    const void **ptrs;
    size_t nrecs, cap_recs;
    dead_record *dead;
    size_t ndead, cap_dead;
    size_t bytes;
    int64_t deadline_ms;
    partition_load *loads;
    size_t nloads, cap_loads;
    bool window_full; /* a partition holds half of what its writers may get ahead */
    moose_arena arena;
} batch;

/*
 * Two threads and two batches: the gathering thread polls and decodes into
 * one batch while the delivery thread inserts and commits the other, so on
 * two cores decoding overlaps with the table's work. The gathering thread
 * hands a batch over only when the delivery thread is idle, so at most two
 * batches are ever held: when the table is down, fetching stops there.
 */
struct moose__sink {
    moose__sink_config cfg;
    const moose_stream_desc **streams; /* a copy of cfg.streams */
    const moose_model_desc *model;
    char name[160]; /* "table <name>" for logs */
    char group[256];
    char url[1024];
    moose__table *table; /* used by whichever thread delivers (never both at once) */
    moose__consumer *consumer;
    moose__producer *dlq;
    bool own_dlq;
    int64_t rows_max, bytes_max, ms_max;
    /*
     * Half the back-pressure window per partition (0: unbounded). Writers wait
     * once a partition holds a whole window uncommitted; the delivery thread's
     * batch and the one being gathered each get half, so a batch is handed
     * over before it could stall the writers that would fill it.
     */
    int64_t part_records_max, part_bytes_max;

    pthread_t gather_thread, deliver_thread;
    bool gather_started, deliver_started;
    atomic_bool stopping;
    atomic_bool abandon; /* the delivery thread gives up its batch (partitions revoked) */

    pthread_mutex_t lock; /* guards handed, delivering, deliver_exit */
    pthread_cond_t cond;
    batch *handed;   /* waiting for the delivery thread */
    bool delivering; /* the delivery thread works on a batch */
    bool deliver_exit;

    pthread_mutex_t stats_lock;
    moose__sink_stats stats;

    batch batches[2];
    batch *gathering;             /* the gathering thread's */
    moose_errors errs;            /* the gathering thread's, for decoding */
    moose__table_rejects rejects; /* the delivering thread's */
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void table_log(void *opaque, const char *level, const char *message) {
    (void)opaque;
    moose__log_level lvl = strcmp(level, "error") == 0  ? MOOSE__LOG_ERROR
                           : strcmp(level, "warn") == 0 ? MOOSE__LOG_WARN
                                                        : MOOSE__LOG_INFO;
    /* Warnings are per rejected row: rate-limit them so a flood cannot fill the disk. */
    moose__log(lvl, "table", lvl == MOOSE__LOG_WARN ? "reject" : NULL, "%s", message);
}

static void set_down(moose__sink *s, bool down, const char *why) {
    pthread_mutex_lock(&s->stats_lock);
    bool was = s->stats.table_down;
    s->stats.table_down = down;
    if (down) {
        snprintf(s->stats.last_error, sizeof s->stats.last_error, "%s", why);
        s->stats.retries++;
    }
    pthread_mutex_unlock(&s->stats_lock);
    if (down)
        moose__count(s->cfg.metrics, MOOSE__C_RETRIES, 1);
    if (down != was) {
        moose__metrics_sink_failing(s->cfg.metrics, down, why);
        if (down)
            moose__log(MOOSE__LOG_ERROR, "sink", NULL,
                       "%s is down, holding the batch and its offsets, retrying: %s", s->name, why);
        else
            moose__log(MOOSE__LOG_INFO, "sink", NULL, "%s is back: delivery goes on", s->name);
    }
}

static void add_stat(moose__sink *s, uint64_t *field, uint64_t n) {
    pthread_mutex_lock(&s->stats_lock);
    *field += n;
    pthread_mutex_unlock(&s->stats_lock);
}

/* Sleeps MS in short slices; false when a stop or a revocation came meanwhile. */
static bool nap(moose__sink *s, int64_t ms) {
    int64_t until = now_ms() + ms;
    while (!atomic_load(&s->stopping) && !atomic_load(&s->abandon)) {
        int64_t left = until - now_ms();
        if (left <= 0)
            return true;
        struct timespec ts = {0, (left > 50 ? 50 : left) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

static const moose_stream_desc *stream_of(const moose__sink *s, const char *topic) {
    for (size_t i = 0; i < s->cfg.nstreams; i++)
        if (strcmp(s->cfg.streams[i]->topic, topic) == 0)
            return s->cfg.streams[i];
    return s->cfg.nstreams ? s->cfg.streams[0] : NULL;
}

static void clear_batch(batch *b) {
    for (size_t i = 0; i < b->nmsgs; i++)
        rd_kafka_message_destroy(b->msgs[i]);
    for (size_t i = 0; i < b->ndead; i++)
        moose_errors_free(&b->dead[i].errors);
    b->nmsgs = b->nrecs = b->ndead = b->bytes = b->nloads = 0;
    b->deadline_ms = 0;
    b->window_full = false;
    moose_arena_reset(&b->arena);
}

static void free_batch(batch *b) {
    clear_batch(b);
    moose_arena_free(&b->arena);
    free(b->msgs);
    free(b->recs);
    free(b->rec_msg);
    free(b->ptrs);
    free(b->dead);
    free(b->loads);
}

static dead_record *add_dead(batch *b, size_t msg, moose__dlq_error_type type,
                             const char *message) {
    if (b->ndead == b->cap_dead) {
        size_t cap = b->cap_dead ? b->cap_dead * 2 : 16;
        dead_record *grown = realloc(b->dead, cap * sizeof *grown);
        if (!grown)
            return NULL;
        b->dead = grown;
        b->cap_dead = cap;
    }
    dead_record *d = &b->dead[b->ndead++];
    d->msg = msg;
    d->type = type;
    snprintf(d->message, sizeof d->message, "%s", message);
    moose_errors_init(&d->errors);
    return d;
}

/* Counts M against its partition's window, as the back-pressure counts it; false when out of
 * memory. */
static bool count_load(const moose__sink *s, batch *b, const rd_kafka_message_t *m) {
    partition_load *l = NULL;
    for (size_t i = b->nloads; i-- > 0;)
        if (b->loads[i].partition == m->partition && b->loads[i].rkt == m->rkt) {
            l = &b->loads[i];
            break;
        }
    if (!l) {
        if (b->nloads == b->cap_loads) {
            size_t cap = b->cap_loads ? b->cap_loads * 2 : 16;
            partition_load *grown = realloc(b->loads, cap * sizeof *grown);
            if (!grown)
                return false;
            b->loads = grown;
            b->cap_loads = cap;
        }
        l = &b->loads[b->nloads++];
        *l = (partition_load){.rkt = m->rkt, .partition = m->partition};
    }
    l->records++;
    l->bytes += (int64_t)(m->len + m->key_len) + MOOSE__BACKPRESSURE_RECORD_OVERHEAD;
    if ((s->part_records_max && l->records >= s->part_records_max) ||
        (s->part_bytes_max && l->bytes >= s->part_bytes_max))
        b->window_full = true;
    return true;
}

/* Takes M into batch B: decoded and validated, or set aside for the DLQ. False: no memory. */
static bool take(moose__sink *s, batch *b, rd_kafka_message_t *m) {
    if (b->nmsgs == b->cap_msgs) {
        size_t cap = b->cap_msgs ? b->cap_msgs * 2 : 1024;
        rd_kafka_message_t **grown = realloc(b->msgs, cap * sizeof *grown);
        if (!grown)
            return false;
        b->msgs = grown;
        b->cap_msgs = cap;
    }
    if (b->nrecs == b->cap_recs) {
        size_t cap = b->cap_recs ? b->cap_recs * 2 : 1024;
        char *recs = realloc(b->recs, cap * s->model->size);
        if (recs)
            b->recs = recs;
        size_t *rec_msg = realloc(b->rec_msg, cap * sizeof *rec_msg);
        if (rec_msg)
            b->rec_msg = rec_msg;
        const void **ptrs = realloc(b->ptrs, cap * sizeof *ptrs);
        if (ptrs)
            b->ptrs = ptrs;
        if (!recs || !rec_msg || !ptrs)
            return false;
        b->cap_recs = cap;
    }
    if ((s->part_records_max || s->part_bytes_max) && !count_load(s, b, m))
        return false;
    size_t mi = b->nmsgs++;
    b->msgs[mi] = m;
    b->bytes += m->len;
    if (b->deadline_ms == 0)
        b->deadline_ms = now_ms() + s->ms_max;

    const moose_stream_desc *stream = stream_of(s, rd_kafka_topic_name(m->rkt));
    moose_decode_options opts = {.allow_extra_fields = stream && stream->allow_extra_fields,
                                 .max_bytes = s->cfg.max_record_bytes,
                                 .max_depth = s->cfg.max_depth};
    void *rec = b->recs + b->nrecs * s->model->size;
    moose_errors_clear(&s->errs);
    int rc =
        s->model->decode(rec, m->payload ? m->payload : "", m->len, &b->arena, &opts, &s->errs);
    if (rc == 0 && s->model->validate)
        rc = s->model->validate(rec, &s->errs);
    if (rc == 0) {
        b->rec_msg[b->nrecs++] = mi;
        return true;
    }
    char message[MOOSE__TABLE_MESSAGE_MAX];
    snprintf(message, sizeof message, "%s read by the sink of table %.100s: %.120s%s%.200s",
             rc == MOOSE_EVALIDATION ? "record failed validation" : "record does not decode",
             s->cfg.table->name, s->errs.len ? s->errs.items[0].path : "",
             s->errs.len && s->errs.items[0].path[0] ? ": " : "",
             s->errs.len ? s->errs.items[0].message : moose_strerror(rc));
    dead_record *d = add_dead(b, mi, MOOSE__DLQ_VALIDATION_ERROR, message);
    if (!d)
        return false;
    for (size_t i = 0; i < s->errs.len; i++)
        moose_errors_add(&d->errors, s->errs.items[i].path, s->errs.items[i].rule,
                         s->errs.items[i].offset, "%s", s->errs.items[i].message);
    add_stat(s, &s->stats.invalid, 1);
    return true;
}

/* Sends every dead record of the batch to its stream's DLQ, each acknowledged. */
static int send_dead(moose__sink *s, batch *b, char *errstr, size_t errstr_size) {
    for (size_t i = 0; i < b->ndead; i++) {
        dead_record *d = &b->dead[i];
        rd_kafka_message_t *m = b->msgs[d->msg];
        moose__dlq_entry entry = {
            .type = d->type,
            .source = MOOSE__DLQ_FROM_TABLE,
            .message = d->message,
            .errors = d->errors.len ? &d->errors : NULL,
            .topic = rd_kafka_topic_name(m->rkt),
            .partition = m->partition,
            .offset = m->offset,
            .key = m->key,
            .key_len = m->key_len,
            .original = m->payload ? m->payload : "",
            .original_len = m->len,
        };
        int rc = moose__dlq_send(s->dlq, &entry, true, NULL, NULL, errstr, errstr_size);
        if (rc)
            return rc;
    }
    moose__count(s->cfg.metrics, MOOSE__C_DLQ, b->ndead);
    return 0;
}

static int commit_batch(moose__sink *s, batch *b) {
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(8);
    if (!offsets)
        return MOOSE_ENOMEM;
    for (size_t i = 0; i < b->nmsgs; i++) {
        rd_kafka_message_t *m = b->msgs[i];
        const char *topic = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(offsets, topic, m->partition);
        if (!p)
            p = rd_kafka_topic_partition_list_add(offsets, topic, m->partition);
        if (m->offset + 1 > p->offset)
            p->offset = m->offset + 1;
    }
    int rc = moose__consumer_commit_list(s->consumer, offsets, true);
    rd_kafka_topic_partition_list_destroy(offsets);
    return rc;
}

/*
 * Delivers batch B: insert, DLQ for refused and invalid rows, commit. While
 * the table is down, retries with back-off until it is back; gives up
 * (nothing committed, nothing lost: the records come again) only when the sink
 * stops, its partitions are revoked, or ONE_TRY is set. Returns true when the
 * batch was delivered and committed. B is empty afterwards either way.
 */
static bool deliver(moose__sink *s, batch *b, bool one_try) {
    if (b->nmsgs == 0)
        return true;
    for (size_t i = 0; i < b->nrecs; i++)
        b->ptrs[i] = b->recs + i * s->model->size;
    char errstr[1024];
    int64_t backoff = 100;
    size_t ndead_before = b->ndead;
    for (;;) {
        int rc = 0;
        b->ndead = ndead_before; /* rows refused by an earlier try are found again */
        moose__table_rejects_clear(&s->rejects);
        if (!s->table) {
            moose__table_options options = {.log = table_log};
            rc =
                moose__table_open(s->url, s->cfg.table, &options, &s->table, errstr, sizeof errstr);
        }
        if (rc == 0)
            rc = moose__table_insert(s->table, b->ptrs, b->nrecs, &s->rejects, errstr,
                                     sizeof errstr);
        for (size_t i = 0; rc == 0 && i < s->rejects.len; i++)
            if (!add_dead(b, b->rec_msg[s->rejects.items[i].index], MOOSE__DLQ_TABLE_ERROR,
                          s->rejects.items[i].message)) {
                rc = MOOSE_ENOMEM;
                snprintf(errstr, sizeof errstr, "out of memory");
            }
        if (rc == 0)
            rc = send_dead(s, b, errstr, sizeof errstr);
        if (rc == 0) {
            int crc = commit_batch(s, b);
            if (crc)
                moose__log(MOOSE__LOG_INFO, "sink", NULL,
                           "%s: committing %zu records failed (%s): the partitions' next owner "
                           "delivers them again, idempotently",
                           s->name, b->nmsgs, moose_strerror(crc));
            uint64_t stored = b->nrecs - s->rejects.len;
            pthread_mutex_lock(&s->stats_lock);
            s->stats.rows_stored += stored;
            s->stats.rows_rejected += s->rejects.len;
            s->stats.batches++;
            pthread_mutex_unlock(&s->stats_lock);
            moose__count(s->cfg.metrics, MOOSE__C_RECORDS_OUT, stored);
            moose__count(s->cfg.metrics, MOOSE__C_BATCHES, 1);
            int64_t wall_ms = moose__metrics_wall_us() / 1000;
            for (size_t i = 0; i < b->nrecs && s->cfg.metrics; i++) {
                rd_kafka_timestamp_type_t tstype;
                int64_t ts = rd_kafka_message_timestamp(b->msgs[b->rec_msg[i]], &tstype);
                if (ts > 0 && wall_ms >= ts)
                    moose__latency_record(s->cfg.metrics, MOOSE__L_END_TO_END,
                                          (uint64_t)(wall_ms - ts) * 1000000u);
            }
            set_down(s, false, NULL);
            clear_batch(b);
            return true;
        }
        set_down(s, true, errstr);
        if (one_try || atomic_load(&s->abandon) || !nap(s, backoff)) {
            moose__log(MOOSE__LOG_WARN, "sink", NULL,
                       "%s: %zu records left uncommitted; they are delivered again later", s->name,
                       b->nmsgs);
            clear_batch(b);
            return false;
        }
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
}

static void *deliver_main(void *opaque) {
    moose__sink *s = opaque;
    /* Named in top -H and perf, so the sink's CPU is told apart from librdkafka's. */
    prctl(PR_SET_NAME, "moose:deliver", 0, 0, 0);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->handed && !s->deliver_exit)
            pthread_cond_wait(&s->cond, &s->lock);
        if (!s->handed)
            break;
        batch *b = s->handed;
        s->handed = NULL;
        s->delivering = true;
        pthread_mutex_unlock(&s->lock);
        deliver(s, b, false);
        pthread_mutex_lock(&s->lock);
        s->delivering = false;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Waits until the delivery thread holds no batch; returns the free batch. */
static batch *wait_idle(moose__sink *s) {
    pthread_mutex_lock(&s->lock);
    while (s->handed || s->delivering)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return s->gathering == &s->batches[0] ? &s->batches[1] : &s->batches[0];
}

/* Gives the gathered batch to the delivery thread (once it is idle) and starts the other. */
static void hand_over(moose__sink *s) {
    batch *next = wait_idle(s);
    pthread_mutex_lock(&s->lock);
    s->handed = s->gathering;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    s->gathering = next;
}

/*
 * Partitions are taken away (on the gathering thread, inside poll): what the
 * delivery thread holds is delivered if the table takes it at once, else
 * abandoned; the same for the batch being gathered. The new owner reads
 * whatever was not committed.
 */
static void on_revoke(moose__consumer *c, const rd_kafka_topic_partition_list_t *parts,
                      void *opaque) {
    (void)c;
    (void)parts;
    moose__sink *s = opaque;
    atomic_store(&s->abandon, true);
    wait_idle(s);
    atomic_store(&s->abandon, false);
    deliver(s, s->gathering, true);
}

static void *gather_main(void *opaque) {
    moose__sink *s = opaque;
    prctl(PR_SET_NAME, "moose:gather", 0, 0, 0);
    rd_kafka_message_t *got[1024];
    while (!atomic_load(&s->stopping)) {
        moose__metrics_heartbeat(s->cfg.metrics);
        batch *b = s->gathering;
        int64_t now = now_ms();
        if (b->nmsgs && ((int64_t)b->nrecs >= s->rows_max || (int64_t)b->bytes >= s->bytes_max ||
                         b->window_full || now >= b->deadline_ms)) {
            hand_over(s);
            continue;
        }
        int timeout = 100;
        if (b->nmsgs && b->deadline_ms - now < timeout)
            timeout = (int)(b->deadline_ms - now);
        size_t room = (size_t)(s->rows_max - (int64_t)b->nrecs);
        if (room > sizeof got / sizeof got[0])
            room = sizeof got / sizeof got[0];
        /* A small window is not overshot by a whole poll. */
        if (s->part_records_max && room > (size_t)s->part_records_max)
            room = (size_t)s->part_records_max;
        int n = moose__consumer_poll_batch(s->consumer, timeout, got, room, NULL);
        if (n < 0) {
            if (n == MOOSE_ECLOSED)
                break;
            nap(s, 100);
            continue;
        }
        b = s->gathering; /* a revocation inside poll may have emptied it */
        uint64_t bytes = 0;
        for (int i = 0; i < n; i++) {
            bytes += got[i]->len;
            if (!take(s, b, got[i])) {
                moose__log(MOOSE__LOG_ERROR, "sink", NULL,
                           "%s: out of memory holding a batch of %zu records", s->name, b->nmsgs);
                rd_kafka_message_destroy(got[i]);
            }
        }
        if (n > 0) {
            add_stat(s, &s->stats.records_in, (uint64_t)n);
            moose__count(s->cfg.metrics, MOOSE__C_RECORDS_IN, (uint64_t)n);
            moose__count(s->cfg.metrics, MOOSE__C_BYTES_IN, bytes);
        }
    }
    /* Stopping: the delivery thread finishes (or gives up) its batch, then the last one goes. */
    wait_idle(s);
    deliver(s, s->gathering, true);
    return NULL;
}

static void sink_free(moose__sink *s) {
    if (s->deliver_started) {
        pthread_mutex_lock(&s->lock);
        s->deliver_exit = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->deliver_thread, NULL);
    }
    free_batch(&s->batches[0]);
    free_batch(&s->batches[1]);
    if (s->consumer)
        moose__metrics_remove_consumer(s->cfg.metrics, moose__consumer_handle(s->consumer));
    moose__consumer_close(s->consumer);
    if (s->own_dlq)
        moose__producer_close(s->dlq);
    moose__table_close(s->table);
    moose_errors_free(&s->errs);
    moose__table_rejects_free(&s->rejects);
    free(s->streams);
    pthread_mutex_destroy(&s->stats_lock);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

static int64_t pick(int64_t run_time, int64_t schema, int64_t fallback) {
    return run_time > 0 ? run_time : schema > 0 ? schema : fallback;
}

moose__sink *moose__sink_start(const moose__sink_config *cfg, char *errstr, size_t errstr_size) {
    if (!cfg || !cfg->kafka || !cfg->app || !cfg->table || !cfg->table->model ||
        cfg->nstreams == 0 || !cfg->streams) {
        snprintf(errstr, errstr_size,
                 "table sink: a Kafka connection, the app, the table and its streams are needed");
        return NULL;
    }
    const moose_table_desc *table = cfg->table;
    if (!table->model->decode) {
        snprintf(errstr, errstr_size, "table sink %s: model %s has no decoder", table->name,
                 table->model->name);
        return NULL;
    }
    moose__sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(errstr, errstr_size, "table sink %s: out of memory", table->name);
        return NULL;
    }
    s->cfg = *cfg;
    s->model = table->model;
    pthread_mutex_init(&s->stats_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    moose_arena_init(&s->batches[0].arena);
    moose_arena_init(&s->batches[1].arena);
    s->gathering = &s->batches[0];
    moose_errors_init(&s->errs);
    /* The caller's array of streams may not outlive this call. */
    s->streams = calloc(cfg->nstreams, sizeof *s->streams);
    if (!s->streams) {
        snprintf(errstr, errstr_size, "table sink %s: out of memory", table->name);
        sink_free(s);
        return NULL;
    }
    for (size_t i = 0; i < cfg->nstreams; i++)
        s->streams[i] = cfg->streams[i];
    s->cfg.streams = s->streams;
    moose__table_rejects_init(&s->rejects);
    snprintf(s->name, sizeof s->name, "table %s", table->name);
    snprintf(s->url, sizeof s->url, "%s",
             cfg->tables_url ? cfg->tables_url : MOOSE__TABLES_DEFAULT_URL);
    s->rows_max = pick(cfg->batch_rows, table->batch_rows, MOOSE__SINK_DEFAULT_BATCH_ROWS);
    s->bytes_max = pick(cfg->batch_bytes, table->batch_bytes, MOOSE__SINK_DEFAULT_BATCH_BYTES);
    s->ms_max = pick(cfg->batch_ms, table->batch_ms, MOOSE__SINK_DEFAULT_BATCH_MS);
    moose__kafka_backpressure_window(cfg->kafka, &s->part_records_max, &s->part_bytes_max);
    if (s->part_records_max > 0)
        s->part_records_max = s->part_records_max > 1 ? s->part_records_max / 2 : 1;
    if (s->part_bytes_max > 0)
        s->part_bytes_max = s->part_bytes_max > 1 ? s->part_bytes_max / 2 : 1;

    if (cfg->group)
        snprintf(s->group, sizeof s->group, "%s", cfg->group);
    else if (!moose__group_for_table(cfg->app, table, s->group, sizeof s->group)) {
        snprintf(errstr, errstr_size, "table sink %s: consumer group name too long", table->name);
        sink_free(s);
        return NULL;
    }

    /* A table that does not fit is an error now; one that is only down is retried later. */
    moose__table_options options = {.log = table_log};
    char why[1024];
    int rc = moose__table_open(s->url, table, &options, &s->table, why, sizeof why);
    if (rc == MOOSE_ETABLEDOWN) {
        set_down(s, true, why);
    } else if (rc) {
        snprintf(errstr, errstr_size, "%s", why);
        sink_free(s);
        return NULL;
    }

    if (cfg->dlq_producer) {
        s->dlq = cfg->dlq_producer;
    } else {
        char pname[200];
        snprintf(pname, sizeof pname, "dlq of table %s", table->name);
        s->dlq = moose__producer_new(cfg->kafka, pname, errstr, errstr_size);
        if (!s->dlq) {
            sink_free(s);
            return NULL;
        }
        s->own_dlq = true;
    }

    const char *topics[64];
    size_t ntopics = cfg->nstreams < 64 ? cfg->nstreams : 64;
    for (size_t i = 0; i < ntopics; i++)
        topics[i] = cfg->streams[i]->topic;
    moose__consumer_opts copts = {
        .group = s->group,
        .topics = topics,
        .ntopics = ntopics,
        .on_revoke = on_revoke,
        .opaque = s,
        .name = s->name,
    };
    s->consumer = moose__consumer_new(cfg->kafka, &copts, errstr, errstr_size);
    if (!s->consumer) {
        sink_free(s);
        return NULL;
    }
    /* Lag is read from the consumer itself; without a component (metrics off), none. */
    if (cfg->metrics &&
        moose__metrics_add_consumer(cfg->metrics, moose__consumer_handle(s->consumer)) != 0)
        moose__log(MOOSE__LOG_WARN, "sink", NULL,
                   "%s: too many consumers to measure the lag of all", s->name);
    if (pthread_create(&s->deliver_thread, NULL, deliver_main, s) != 0) {
        snprintf(errstr, errstr_size, "table sink %s: cannot start its threads", table->name);
        sink_free(s);
        return NULL;
    }
    s->deliver_started = true;
    if (pthread_create(&s->gather_thread, NULL, gather_main, s) != 0) {
        snprintf(errstr, errstr_size, "table sink %s: cannot start its threads", table->name);
        sink_free(s);
        return NULL;
    }
    s->gather_started = true;
    moose__log(MOOSE__LOG_INFO, "sink", NULL,
               "%s (%s): group %s, batches of %lld rows / %lld bytes / %lld ms", s->name,
               s->table ? moose__table_display_url(s->table) : "not reachable yet", s->group,
               (long long)s->rows_max, (long long)s->bytes_max, (long long)s->ms_max);
    return s;
}

void moose__sink_stop(moose__sink *s) {
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    if (s->gather_started)
        pthread_join(s->gather_thread, NULL);
    /* Stopped on purpose: a silent sink from now on is not stalled. */
    moose__metrics_heartbeat_end(s->cfg.metrics);
    sink_free(s);
}

void moose__sink_get_stats(moose__sink *s, moose__sink_stats *stats) {
    pthread_mutex_lock(&s->stats_lock);
    *stats = s->stats;
    pthread_mutex_unlock(&s->stats_lock);
}
