/*
 * Everything between libmoose and Kafka: the connection settings, the
 * embedded broker, topics, the producer (with back-pressure) and consumer
 * groups (with manual commits and gap detection).
 *
 * One moose__kafka per process (or per app): it resolves "embedded" to a
 * running embedded broker (ours or another process's, found through the
 * `.moose-broker` file) or to the bootstrap list, and checks the librdkafka
 * properties once, so a bad `-X` fails at start-up with a clear message.
 *
 * Producers and consumers are made from it and use librdkafka types
 * directly (rd_kafka_message_t, rd_kafka_topic_partition_list_t): this
 * header is internal to libmoose.
 *
 * Every function that can fail returns 0 or a negative moose error code
 * (error.h) and, where it takes ERRSTR, fills it with a sentence naming what
 * and where.
 */
#ifndef MOOSE__KAFKA_H
#define MOOSE__KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "moose/error.h"
#include "moose/schema.h"

/* The file (in the working directory) that tells other processes where the embedded broker is. */
#define MOOSE__BROKER_FILE ".moose-broker"

/* ---- connection ---- */

typedef struct moose__kafka moose__kafka;

typedef enum moose__embedded_mode {
    /* Use a running embedded broker; none running is MOOSE_ENOBROKER (`APP write`, `tail`, ...). */
    MOOSE__EMBEDDED_FIND = 0,
    /* Use a running one, or start one in this process and publish it (`APP run`). */
    MOOSE__EMBEDDED_FIND_OR_START,
    /* Start one and publish it; one already running is an error (`APP broker`). */
    MOOSE__EMBEDDED_START,
} moose__embedded_mode;

typedef struct moose__kafka_opts {
    const char *brokers;           /* "embedded" (or NULL) or a bootstrap list "host:port,..." */
    const char *const *props;      /* "key=value", NULL-terminated; may be NULL */
    moose__embedded_mode embedded; /* how "embedded" is resolved */
    const char *dir;               /* where MOOSE__BROKER_FILE lives (NULL: ".") */
    const char *prog;              /* the app's name, for "start one with `PROG broker`" */
    size_t max_record_bytes;       /* the app's record limit (0: 1 MiB): Kafka messages are sized
                                      to carry any record within it */
} moose__kafka_opts;

/*
 * Properties in the "moose." namespace are ours (everything else goes to
 * librdkafka, checked by librdkafka itself at open):
 *   moose.backpressure.max.bytes    bytes a partition may hold beyond the slowest reader's
 *                                   committed offset, embedded mode (default 2 MiB)
 *   moose.backpressure.max.records  the same in records (default 40000)
 *   moose.backpressure.timeout.ms   how long a write waits for readers before
 *                                   MOOSE_EQUEUEFULL (default 0: wait, warning every 5 s)
 *   moose.admin.timeout.ms          every Admin request and metadata call (default 10000)
 *   moose.send.timeout.ms           a synchronous send's wait for its ack (default 30000)
 */
int moose__kafka_open(const moose__kafka_opts *opts, moose__kafka **out, char *errstr,
                      size_t errstr_size);
/* Stops the embedded broker if this process owns it (and removes MOOSE__BROKER_FILE). NULL ok. */
void moose__kafka_close(moose__kafka *kafka);

/*
 * Every client of KAFKA reports what it observes of the brokers (requests
 * retried or failed, commits failing, partitions without a leader, slow
 * round trips) to REG's health; NULL stops it, waiting for a report in
 * progress, so REG may then be freed.
 */
struct moose_metrics_registry;
void moose__kafka_set_health(moose__kafka *kafka, struct moose_metrics_registry *reg);
/* The app is closing its own connections: brokers going away from now on are no alarm. */
void moose__kafka_closing(moose__kafka *kafka);
/*
 * For a client whose owner polls it (a producer's delivery thread, a
 * consumer's poll): errors and statistics are served by that poll, so they
 * reach health. A client nobody polls must not get them: they would pile up
 * in its queue.
 */
void moose__kafka_conf_polled(const moose__kafka *kafka, rd_kafka_conf_t *conf);
/*
 * Metadata MD that client RK (of a connection with health set) received:
 * topics answered with errors and partitions without a leader are reported.
 */
void moose__kafka_judge_metadata(rd_kafka_t *rk, const struct rd_kafka_metadata *md);

const char *moose__kafka_bootstrap(const moose__kafka *kafka); /* "127.0.0.1:PORT,..." */
bool moose__kafka_embedded(const moose__kafka *kafka);    /* the mock cluster, here or elsewhere */
bool moose__kafka_owns_broker(const moose__kafka *kafka); /* the mock runs in this process */
/*
 * True when a writer of this process waited on back-pressure within the last
 * WITHIN_MS: readers then commit sooner, since their commits are what lets it on.
 */
bool moose__kafka_writers_held_back(const moose__kafka *kafka, int64_t within_ms);

/*
 * A librdkafka configuration with the bootstrap servers, the user's
 * properties and the settings every client needs; the caller owns it.
 * NULL with ERRSTR filled when a property is refused.
 */
rd_kafka_conf_t *moose__kafka_conf(const moose__kafka *kafka, char *errstr, size_t errstr_size);

/*
 * moose__kafka_conf plus what a consumer of GROUP needs on this cluster:
 * group.id, and in embedded mode session.timeout.ms=6000 (unless set with
 * -X): the embedded broker makes a running group wait session.timeout.ms - 1 s
 * for a new member, 44 s with the default. Any raw librdkafka consumer of a
 * group (benchmarks, tools) should start from this.
 */
rd_kafka_conf_t *moose__kafka_consumer_conf(const moose__kafka *kafka, const char *group,
                                            char *errstr, size_t errstr_size);

/* ---- topics ---- */

/*
 * Makes sure TOPIC exists with PARTITIONS partitions (retention RETENTION_MS,
 * 0: the broker's default). Embedded: created in the mock (by the owning
 * process, asked over its control socket when that is another process).
 * Real cluster: Admin CreateTopics, CreatePartitions when it has fewer. More
 * partitions than PARTITIONS is MOOSE_ESCHEMA. An Admin request with no
 * answer within moose.admin.timeout.ms is MOOSE_ETIMEDOUT, with a sentence.
 */
int moose__kafka_ensure_topic(moose__kafka *kafka, const char *topic, int32_t partitions,
                              int64_t retention_ms, char *errstr, size_t errstr_size);

/* Every stream's topic and its `<topic>.dlq` (same partitions). */
int moose__kafka_ensure_app_topics(moose__kafka *kafka, const moose_app_desc *desc, char *errstr,
                                   size_t errstr_size);

/* The number of partitions of TOPIC, or a negative code (MOOSE_ENOTFOUND). */
int moose__kafka_partition_count(moose__kafka *kafka, const char *topic, char *errstr,
                                 size_t errstr_size);

/*
 * The first and the next offset of each of TOPIC's partitions 0..NPARTS-1,
 * into LOW and HIGH (either may be NULL; -1 where the broker gave none), in
 * one request for all partitions each, within TIMEOUT_MS. Through
 * rd_kafka_offsets_for_times, which keeps to its timeout when a broker stops
 * answering; rd_kafka_query_watermark_offsets waits out socket timeouts and
 * retries, minutes past its own. 0, or librdkafka's error (_TIMED_OUT).
 */
rd_kafka_resp_err_t moose__kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t nparts,
                                            int64_t *low, int64_t *high, int timeout_ms);

/* "<topic>.dlq" into OUT; false when it does not fit. */
bool moose__dlq_topic_name(const char *topic, char *out, size_t out_size);

/*
 * Consumer group names, one spelling for every part: "<app>.transform.<name>"
 * and "<app>.table.<name>". The producer's back-pressure watches them.
 */
bool moose__group_for_transform(const moose_app_desc *app, const moose_transform_desc *t, char *out,
                                size_t out_size);
bool moose__group_for_table(const moose_app_desc *app, const moose_table_desc *table, char *out,
                            size_t out_size);

/* ---- producer ---- */

typedef struct moose__producer moose__producer;

/*
 * Outcome of one asynchronous send, called once per record from the
 * producer's delivery thread: STATUS 0 (PARTITION and OFFSET set) or
 * MOOSE_EDELIVERY / MOOSE_ETRANSPORT / MOOSE_ECLOSED, with a sentence in
 * MESSAGE (NULL when STATUS is 0).
 */
typedef void (*moose__delivery_cb)(int status, int32_t partition, int64_t offset,
                                   const char *message, void *opaque);

/*
 * Idempotent, acks=all, partitioner murmur2_random (the Java client's, so a
 * key lands on the same partition whoever produced it: kcat needs
 * `-X partitioner=murmur2_random` to agree). NAME is for logs ("write",
 * "transform t", ...).
 */
moose__producer *moose__producer_new(moose__kafka *kafka, const char *name, char *errstr,
                                     size_t errstr_size);

/*
 * Back-pressure (embedded mode; a no-op against a real cluster, whose
 * retention does not drop unread data by size): a send to TOPIC waits while
 * its partition holds more than moose.backpressure.max.* beyond the offset
 * committed by the slowest of GROUPS. Register the groups that read TOPIC
 * (transforms and table sinks of the app) before sending; a topic with no
 * registered group is not bounded. Callable more than once (adds), but
 * not while sends to TOPIC are in progress.
 */
int moose__producer_watch(moose__producer *p, const char *topic, const char *const *groups,
                          size_t ngroups);

/*
 * Queues one record; CB (may be NULL) reports its fate. Returns 0, or
 * MOOSE_EQUEUEFULL (librdkafka's queue or back-pressure timed out),
 * MOOSE_ECLOSED (closing), MOOSE_ETRANSPORT (unknown topic, ...), MOOSE_ETOOBIG.
 * KEY may be NULL (no key: spread over partitions). PARTITION -1: by key.
 */
int moose__producer_send(moose__producer *p, const char *topic, int32_t partition, const void *key,
                         size_t key_len, const void *value, size_t value_len, moose__delivery_cb cb,
                         void *opaque);
/* One record of moose__producer_send_batch. */
typedef struct moose__send_item {
    const void *key; /* NULL: no key (spread over partitions) */
    size_t key_len;
    const void *value;
    size_t value_len;
    void *opaque; /* for the producer's shared callback: lowest address bit clear */
    int rc;       /* set by the send: 0 queued, or why not (as moose__producer_send returns) */
} moose__send_item;

/*
 * Queues N records for TOPIC, each to its key's partition, in order, and
 * reports each to the producer's shared callback (moose__producer_share_cb,
 * which must be set) with its OPAQUE. Waits for room as moose__producer_send
 * does, and sets every item's RC. Returns how many were queued. Once a
 * record is refused for want of room (back-pressure, a full queue, closing),
 * every record after it is refused too: what is queued of a key is always
 * its first records, in order. librdkafka reads the clock once for the batch
 * where it would read it for every record sent alone.
 */
size_t moose__producer_send_batch(moose__producer *p, const char *topic, moose__send_item *items,
                                  size_t n);
/*
 * Why this thread's last moose__producer_send was refused, for the caller's
 * errors: the broker's error by name and its words when librdkafka refused
 * it ("TOPIC_AUTHORIZATION_FAILED: Broker: Topic authorization failed"),
 * otherwise the code's message. Meaningful only right after a refusal.
 */
const char *moose__producer_refusal(void);

/*
 * Makes CB the producer's shared delivery callback: a send with this CB and
 * an OPAQUE whose lowest address bit is clear (any object of alignment 2 or
 * more) needs no per-record allocation. Set it once, before the first send;
 * sends with other callbacks still work as before.
 */
void moose__producer_share_cb(moose__producer *p, moose__delivery_cb cb);

/* Like moose__producer_send but waits for the broker's acknowledgement. PARTITION/OFFSET may be
 * NULL. */
int moose__producer_send_sync(moose__producer *p, const char *topic, const void *key,
                              size_t key_len, const void *value, size_t value_len,
                              int32_t *partition, int64_t *offset, char *errstr,
                              size_t errstr_size);

/* Waits until every queued record got its delivery report; MOOSE_ETIMEDOUT otherwise. */
int moose__producer_flush(moose__producer *p, int timeout_ms);
/* Records queued and not yet reported. */
int64_t moose__producer_in_flight(const moose__producer *p);
/*
 * From now on a send that would wait on back-pressure returns MOOSE_ECLOSED
 * at once (waiting ones too), and one that would wait for room in
 * librdkafka's full queue MOOSE_EQUEUEFULL; sends with room still go. For an owner that is
 * stopping: the readers it would wait for may never commit again (they stop
 * too, or the broker is gone), and what it could not send is read again.
 */
void moose__producer_stop_waiting(moose__producer *p);
/* Flushes (up to moose.send.timeout.ms), then frees; records still queued are reported ECLOSED.
 * NULL ok. */
void moose__producer_close(moose__producer *p);
/* The librdkafka handle, for what this header does not wrap. */
rd_kafka_t *moose__producer_handle(moose__producer *p);

/* ---- consumer ---- */

typedef struct moose__consumer moose__consumer;

/*
 * Called on the polling thread, inside moose__consumer_poll, before PARTS
 * are taken away: finish (or drop) in-flight work for them and commit what
 * is done with moose__consumer_commit(..., true); after return they are gone.
 */
typedef void (*moose__revoke_cb)(moose__consumer *c, const rd_kafka_topic_partition_list_t *parts,
                                 void *opaque);
/*
 * Called on the polling thread when PARTS are assigned, before anything is
 * fetched from them. Each element's offset is where reading starts: the
 * group's committed offset, or RD_KAFKA_OFFSET_INVALID when there is none
 * (or it could not be read). The owner may move an offset forward, past
 * records it knows were finished by an earlier owner whose commit was
 * refused, and reading then starts there.
 */
typedef void (*moose__assign_cb)(moose__consumer *c, rd_kafka_topic_partition_list_t *parts,
                                 void *opaque);

typedef struct moose__consumer_opts {
    const char *group;         /* consumer group id (required) */
    const char *const *topics; /* subscribed topics */
    size_t ntopics;
    moose__revoke_cb on_revoke; /* may be NULL: then nothing in flight is assumed */
    moose__assign_cb on_assign; /* may be NULL */
    void *opaque;
    const char *name; /* for logs (NULL: the group) */
} moose__consumer_opts;

/*
 * Joins GROUP (the first join on the embedded broker takes about 3 s) with
 * manual commits only, auto.offset.reset=earliest for a group that never
 * committed, and gap detection: a record whose offset is past the next one
 * expected (the committed offset, or 0 in embedded mode for a new group) is
 * a gap, logged at error level, counted, and reported by poll.
 */
moose__consumer *moose__consumer_new(moose__kafka *kafka, const moose__consumer_opts *opts,
                                     char *errstr, size_t errstr_size);

/*
 * Waits up to TIMEOUT_MS for one record. Returns 0 with *MSG set (release it
 * with rd_kafka_message_destroy), MOOSE_EGAP with *MSG set (records were lost
 * just before it: process it, the loss is already logged and counted),
 * MOOSE_EGAP with *MSG NULL (the broker said the committed offset is gone and
 * no record follows: only with -X auto.offset.reset=error), MOOSE_ETIMEDOUT
 * with *MSG NULL, or MOOSE_ETRANSPORT / MOOSE_ECLOSED with *MSG NULL and a
 * logged reason. Partition EOF events are not returned.
 */
int moose__consumer_poll(moose__consumer *c, int timeout_ms, rd_kafka_message_t **msg);

/*
 * Up to MAX records at once (the fast path). Returns how many were stored
 * in MSGS (0 on timeout) or a negative code; *GAPS (may be NULL) gets how
 * many of them follow a gap.
 */
int moose__consumer_poll_batch(moose__consumer *c, int timeout_ms, rd_kafka_message_t **msgs,
                               size_t max, size_t *gaps);

/*
 * Commits NEXT_OFFSET (the offset of the next record to read: last done + 1)
 * for TOPIC/PARTITION. Only what the caller says is done is ever committed.
 * SYNC waits for the broker. Committing on a partition no longer owned
 * returns MOOSE_ECLOSED (the new owner will redo it: at least once).
 */
int moose__consumer_commit(moose__consumer *c, const char *topic, int32_t partition,
                           int64_t next_offset, bool sync);
/*
 * The same for many partitions at once (offsets in .offset). A SYNC commit
 * waits at most MOOSE__COMMIT_TIMEOUT_MS for the broker's answer.
 */
int moose__consumer_commit_list(moose__consumer *c, const rd_kafka_topic_partition_list_t *offsets,
                                bool sync);
enum { MOOSE__COMMIT_TIMEOUT_MS = 5000 };
/* How long moose__consumer_close waits to leave the group before it gives up. */
enum { MOOSE__CLOSE_TIMEOUT_MS = 10000 };
/*
 * A synchronous commit that waits at most TIMEOUT_MS for the broker's answer:
 * MOOSE_ETIMEDOUT (logged) when none came, and the records are read again
 * by the next owner (at least once). Codes as moose__consumer_commit.
 */
int moose__consumer_commit_within(moose__consumer *c,
                                  const rd_kafka_topic_partition_list_t *offsets, int timeout_ms);

/*
 * What a consumer group may leave uncommitted on one partition before the
 * writers of that partition wait for it (moose.backpressure.max.*, embedded
 * mode): a reader that holds records back for batching must commit before
 * then, or its batches only ever end by their timer. 0 for both against a
 * real cluster, which does not bound writers.
 */
void moose__kafka_backpressure_window(const moose__kafka *kafka, int64_t *records, int64_t *bytes);
/* What the back-pressure counts for a record beyond its key and value bytes. */
#define MOOSE__BACKPRESSURE_RECORD_OVERHEAD 64

/* Gaps seen since start, and records known lost in them. */
uint64_t moose__consumer_gaps(const moose__consumer *c);
uint64_t moose__consumer_lost_records(const moose__consumer *c);
/* Partitions assigned now (a copy to destroy), or NULL. */
rd_kafka_topic_partition_list_t *moose__consumer_assignment(moose__consumer *c);
/* Leaves the group (revoke callback runs first), frees. NULL ok. */
void moose__consumer_close(moose__consumer *c);
rd_kafka_t *moose__consumer_handle(moose__consumer *c);

/* ---- `APP broker` ---- */

/*
 * A standalone embedded broker for DESC's app: starts the mock cluster,
 * publishes MOOSE__BROKER_FILE in the working directory, creates every
 * stream's topic and DLQ topic, prints its bootstrap address on stdout, and
 * serves until SIGINT or SIGTERM. Returns the exit status (0, 1 on failure).
 */
struct moose_config;
int moose__broker_main(const moose_app_desc *desc, const struct moose_config *cfg,
                       const char *prog);

#endif
