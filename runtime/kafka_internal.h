/*
 * What the transport's own files share (kafka_*.c, embedded_*.c); nothing
 * outside them includes this.
 */
#ifndef MOOSE__KAFKA_INTERNAL_H
#define MOOSE__KAFKA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "kafka.h"

#include <librdkafka/rdkafka_mock.h>

typedef struct moose__embedded moose__embedded;

struct moose__kafka {
    char *bootstrap;
    bool embedded; /* the mock cluster, in this process or another */
    char **props;  /* librdkafka "key=value" (ours removed), NULL-terminated */
    size_t nprops;
    char *dir; /* where MOOSE__BROKER_FILE lives */
    char *prog;

    /* moose.* settings */
    int64_t bp_max_bytes;
    int64_t bp_max_records;
    int64_t bp_timeout_ms;
    int admin_timeout_ms;
    int send_timeout_ms;
    int64_t max_message_bytes; /* what a message of a record within the record limit can take */

    moose__embedded *owned; /* the mock cluster when this process runs it */
    char *remote_control;   /* "127.0.0.1:PORT" of the owner's control socket */

    pthread_mutex_t lock;        /* guards admin_rk creation */
    pthread_mutex_t topics_lock; /* one topic check-and-create at a time */
    rd_kafka_t *admin_rk;        /* metadata and Admin requests, made on first use */

    /* Where the clients' statistics, errors and commits go (kafka_health.c). */
    pthread_mutex_t health_lock; /* held while HEALTH is used, so clearing it waits */
    struct moose_metrics_registry *health;
    _Atomic bool closing; /* the app is closing its own connections: no alarm */

    /*
     * Producers told at once of this process's successful offset commits, so
     * a writer held back by back-pressure goes on as soon as a reader in the
     * same process commits, not at its next OffsetFetch (kafka_producer.c).
     */
    pthread_mutex_t commit_listeners_lock;
    struct moose__producer **commit_listeners;
    size_t ncommit_listeners;
    /* When a writer of this process last waited on back-pressure (moose__kafka_now_ms), or 0. */
    _Atomic int64_t held_back_ms;
};

/* ---- commits seen in this process (kafka_conn.c, kafka_producer.c) ---- */

/* Adds P to the producers told of commits (idempotent); 0 or MOOSE_ENOMEM. */
int moose__kafka_listen_commits(moose__kafka *k, struct moose__producer *p);
/* Removes P; once this returns P is not called again. */
void moose__kafka_unlisten_commits(moose__kafka *k, struct moose__producer *p);
/* Tells every listening producer that GROUP committed OFFSETS (entries with .err are skipped). */
void moose__kafka_commits_seen(moose__kafka *k, const char *group,
                               const rd_kafka_topic_partition_list_t *offsets);
/* One producer's share of moose__kafka_commits_seen (kafka_producer.c). */
void moose__producer_saw_commits(struct moose__producer *p, const char *group,
                                 const rd_kafka_topic_partition_list_t *offsets);

/* ---- embedded broker (embedded_broker.c) ---- */

/*
 * Finds a live broker published in DIR: 0 with *BOOTSTRAP and *CONTROL
 * (malloc'ed) and *PID, MOOSE_ENOTFOUND when there is none (a stale file of a
 * dead process is removed first), MOOSE_ETRANSPORT with *BOOTSTRAP and *PID
 * when the process lives but its broker does not answer.
 */
int moose__embedded_find(const char *dir, char **bootstrap, char **control, long *pid);

/*
 * Starts a mock cluster in this process and publishes it in DIR. When
 * another process published one first, returns MOOSE_ECLOSED (the caller
 * then uses that one). The control socket creates topics for other processes
 * through KAFKA (moose__kafka_ensure_topic), so KAFKA's bootstrap and *OUT are
 * set before it starts (and cleared again on failure).
 */
int moose__embedded_start(moose__kafka *kafka, const char *dir, moose__embedded **out, char *errstr,
                          size_t errstr_size);
const char *moose__embedded_bootstrap(const moose__embedded *e);
rd_kafka_mock_cluster_t *moose__embedded_cluster(moose__embedded *e);
/* Unpublishes (only if the file is still ours), stops the control socket and the mock. */
void moose__embedded_stop(moose__embedded *e);

/* Asks the owner at CONTROL to create TOPIC; 0 or a negative code with ERRSTR. */
int moose__embedded_request_topic(const char *control, const char *topic, int32_t partitions,
                                  int64_t retention_ms, int timeout_ms, char *errstr,
                                  size_t errstr_size);

/* ---- health (kafka_health.c) ---- */

/* How often every client reports its statistics, unless the user set statistics.interval.ms. */
#define MOOSE__KAFKA_STATS_INTERVAL_MS "1000"

/*
 * Hooks CONF's client to health: the error and statistics callbacks and the
 * commit and response interceptors. 0, or MOOSE_EINVAL with ERRSTR.
 */
int moose__kafka_conf_health(const moose__kafka *kafka, rd_kafka_conf_t *conf, char *errstr,
                             size_t errstr_size);

/* What one client counted at its previous statistics, to report only what is new. */
typedef struct moose__kafka_client_totals {
    int64_t retries, errors, timeouts; /* summed over its brokers */
    int64_t metadata_requests;
    uint32_t metadata_streak; /* consecutive reports with metadata requests in them */
    int64_t streak_lookups;   /* the metadata requests of those reports */
} moose__kafka_client_totals;

/*
 * Judges one statistics report (librdkafka's JSON) of client NAME against
 * its previous one in *PREV (meaningful when SEEN), reports what it shows to
 * KAFKA's health and leaves this report's totals in *PREV.
 */
void moose__kafka_judge_stats(moose__kafka *kafka, const char *name,
                              moose__kafka_client_totals *prev, bool seen, const char *json,
                              size_t json_len);

/* True when RK belongs to a connection the app is closing (moose__kafka_closing). */
bool moose__kafka_client_closing(const rd_kafka_t *rk);

/* ---- shared helpers (kafka_conn.c) ---- */

/* The handle for metadata and Admin requests (created on first use), or NULL with ERRSTR. */
rd_kafka_t *moose__kafka_admin_handle(moose__kafka *kafka, char *errstr, size_t errstr_size);
/* Maps a librdkafka error to a moose code. */
int moose__kafka_map_error(rd_kafka_resp_err_t err);
int64_t moose__kafka_now_ms(void);
/* True when the user passed NAME with -X. */
bool moose__kafka_user_set(const moose__kafka *kafka, const char *name);
void moose__kafka_sleep_ms(int ms);

#endif
