/*
 * What every Kafka client of a connection tells health while it works.
 *
 * librdkafka retries most broker trouble out of sight: a produce, fetch,
 * commit, join or metadata request refused by the broker is simply sent
 * again. What a client can still observe, and what this file turns into
 * facts for the metrics registry (health.c judges them):
 *   - the statistics callback (JSON every statistics.interval.ms): per
 *     broker the requests retried, failed and timed out, per partition
 *     whether it has a leader, per consumer group its state;
 *   - the on_response_received interceptor: each request's round trip;
 *   - the on_commit interceptor: each offset commit's outcome;
 *   - the error callback: errors librdkafka could not hide (all brokers
 *     down, a connection refused, a fatal error).
 * Every client is built from moose__kafka_conf(), which hooks these in; the
 * app hands its registry over with moose__kafka_set_health().
 *
 * All of it is a cold path: statistics are parsed with jansson.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"
#include "log.h"
#include "metrics.h"

/* Kafka protocol API keys (librdkafka keeps its names for them private). */
enum {
    API_FETCH = 1,
    API_METADATA = 3,
    API_OFFSET_COMMIT = 8,
    API_JOIN_GROUP = 11,
    API_SYNC_GROUP = 14,
};

/* Names for the requests a message may mention. */
static const char *api_name(int16_t api_key) {
    switch (api_key) {
    case 0:
        return "Produce";
    case API_FETCH:
        return "Fetch";
    case API_METADATA:
        return "Metadata";
    case API_OFFSET_COMMIT:
        return "OffsetCommit";
    case API_JOIN_GROUP:
        return "JoinGroup";
    case API_SYNC_GROUP:
        return "SyncGroup";
    case 12:
        return "Heartbeat";
    default:
        return "a";
    }
}

/*
 * Clients by handle: the statistics and error callbacks only get the handle
 * (their opaque belongs to the producer or consumer), the interceptors get
 * the connection. A handle is listed from its creation to its destruction.
 */
typedef struct client {
    rd_kafka_t *rk;
    moose__kafka *kafka;
    moose__kafka_client_totals prev;
    bool seen; /* PREV holds a first statistics */
    char group[256]; /* group.id of a consumer, "" for other clients */
    struct client *next;
} client;

static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static client *clients;

static client *client_find_locked(const rd_kafka_t *rk) {
    for (client *c = clients; c; c = c->next)
        if (c->rk == rk)
            return c;
    return NULL;
}

static moose__kafka *kafka_of(const rd_kafka_t *rk) {
    pthread_mutex_lock(&clients_lock);
    client *c = client_find_locked(rk);
    moose__kafka *k = c ? c->kafka : NULL;
    pthread_mutex_unlock(&clients_lock);
    return k;
}

bool moose__kafka_client_closing(const rd_kafka_t *rk) {
    pthread_mutex_lock(&clients_lock);
    client *c = client_find_locked(rk);
    bool closing = c && atomic_load(&c->kafka->closing);
    pthread_mutex_unlock(&clients_lock);
    return closing;
}

/* ---- handing facts to the registry ---- */

static void symptom(moose__kafka *k, moose__broker_symptom s, uint64_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void symptom(moose__kafka *k, moose__broker_symptom s, uint64_t n, const char *fmt, ...) {
    if (n == 0)
        return;
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    /* The lock keeps the registry alive while it is used: set_health(NULL) waits for it. */
    pthread_mutex_lock(&k->health_lock);
    if (k->health)
        moose__metrics_broker_symptom(k->health, s, n, why);
    pthread_mutex_unlock(&k->health_lock);
}

/* A producer's records waited WAIT_US on average before their request went out. */
static void produce_wait(moose__kafka *k, int64_t wait_us, const char *name) {
    pthread_mutex_lock(&k->health_lock);
    if (k->health)
        moose__metrics_broker_produce_wait(k->health, wait_us, name);
    pthread_mutex_unlock(&k->health_lock);
}

void moose__kafka_set_health(moose__kafka *k, moose_metrics_registry *reg) {
    if (!k)
        return;
    pthread_mutex_lock(&k->health_lock);
    k->health = reg;
    pthread_mutex_unlock(&k->health_lock);
}

void moose__kafka_closing(moose__kafka *k) {
    if (k)
        atomic_store(&k->closing, true);
}

/* ---- statistics ---- */

static int64_t json_int(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static const char *json_str(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/*
 * Retried, failed and timed-out requests and metadata requests, summed over
 * the brokers; the first broker's name; the worst average wait of records
 * in the producer before their produce request (int_latency, microseconds).
 */
static moose__kafka_client_totals broker_totals(json_t *brokers, char *first, size_t first_size,
                                                int64_t *produce_wait_us) {
    moose__kafka_client_totals t = {0};
    const char *name;
    json_t *b;
    first[0] = '\0';
    *produce_wait_us = 0;
    json_object_foreach(brokers, name, b) {
        t.retries += json_int(b, "txretries");
        t.errors += json_int(b, "txerrs") + json_int(b, "rxerrs");
        t.timeouts += json_int(b, "req_timeouts");
        t.metadata_requests += json_int(json_object_get(b, "req"), "Metadata");
        json_t *wait = json_object_get(b, "int_latency");
        if (json_int(wait, "cnt") > 0 && json_int(wait, "avg") > *produce_wait_us)
            *produce_wait_us = json_int(wait, "avg");
        if (!first[0])
            snprintf(first, first_size, "%s", name);
    }
    return t;
}

/* Partitions whose leader is not known; the first one named in FIRST. */
static int64_t leaderless(json_t *topics, char *first, size_t first_size) {
    int64_t n = 0;
    const char *topic;
    json_t *t;
    json_object_foreach(topics, topic, t) {
        const char *pname;
        json_t *p;
        json_object_foreach(json_object_get(t, "partitions"), pname, p) {
            /* -1 is librdkafka's queue for records not yet given a partition. */
            if (json_int(p, "partition") < 0 || json_int(p, "leader") >= 0)
                continue;
            if (n++ == 0)
                snprintf(first, first_size, "%s [%s]", topic, pname);
        }
    }
    return n;
}

static int64_t positive(int64_t v) {
    return v > 0 ? v : 0;
}

static void judge_stats(moose__kafka *k, const char *name, moose__kafka_client_totals *prev,
                        bool seen, json_t *root) {
    char broker[96], part[128] = "";
    int64_t produce_wait_us;
    moose__kafka_client_totals now =
        broker_totals(json_object_get(root, "brokers"), broker, sizeof broker, &produce_wait_us);
    if (seen) {
        int64_t retries = positive(now.retries - prev->retries),
                errors = positive(now.errors - prev->errors),
                timeouts = positive(now.timeouts - prev->timeouts);
        if (retries + errors + timeouts > 0)
            symptom(k, MOOSE__BROKER_REQUEST_ERRORS, (uint64_t)(retries + errors + timeouts),
                    "%s: %" PRId64 " requests retried, %" PRId64 " failed, %" PRId64
                    " timed out (%s)",
                    name, retries, errors, timeouts, broker);
        /*
         * A client asks for metadata on start (for each topic it meets, so
         * over a report or two), every few minutes, and when a broker refused
         * a request because it does not lead the partition: asking again in
         * three reports in a row means its fetches or produces keep being
         * refused.
         */
        int64_t lookups = positive(now.metadata_requests - prev->metadata_requests);
        now.metadata_streak = lookups > 0 ? prev->metadata_streak + 1 : 0;
        now.streak_lookups = lookups > 0 ? prev->streak_lookups + lookups : 0;
        /* The streak's own lookups count once it is one: each later report adds its own. */
        if (now.metadata_streak >= 3)
            symptom(k, MOOSE__BROKER_REQUEST_ERRORS,
                    (uint64_t)(now.metadata_streak == 3 ? now.streak_lookups : lookups),
                    "%s: requests refused by their partition's leader: %" PRId64
                    " leader lookups in %" PRIu32 " reports in a row (%s)",
                    name, now.streak_lookups, now.metadata_streak, broker);
    }
    *prev = now;

    if (produce_wait_us > 0)
        produce_wait(k, produce_wait_us, name);

    int64_t nl = leaderless(json_object_get(root, "topics"), part, sizeof part);
    if (nl > 0)
        symptom(k, MOOSE__BROKER_NO_LEADER, 1, "%s: %" PRId64 " partitions without a leader (%s)",
                name, nl, part);

    /*
     * A consumer whose group coordinator answers but who is back at the
     * start of a join: its last JoinGroup failed (on a healthy cluster that
     * state lasts a moment and is rarely caught by a report).
     */
    json_t *cgrp = json_object_get(root, "cgrp");
    if (cgrp && strcmp(json_str(cgrp, "state"), "up") == 0 &&
        strcmp(json_str(cgrp, "join_state"), "init") == 0)
        symptom(k, MOOSE__BROKER_JOIN_FAILED, 1,
                "%s: not a member of its consumer group: its join was refused, retrying", name);
}

void moose__kafka_judge_stats(moose__kafka *k, const char *name, moose__kafka_client_totals *prev,
                              bool seen, const char *json, size_t json_len) {
    json_t *root = json_loadb(json, json_len, 0, NULL);
    if (!root)
        return;
    judge_stats(k, name, prev, seen, root);
    json_decref(root);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
    (void)opaque;
    pthread_mutex_lock(&clients_lock);
    client *c = client_find_locked(rk);
    moose__kafka_client_totals prev = c ? c->prev : (moose__kafka_client_totals){0};
    bool seen = c && c->seen;
    moose__kafka *k = c ? c->kafka : NULL;
    pthread_mutex_unlock(&clients_lock);
    if (!k)
        return 0;
    moose__kafka_judge_stats(k, rd_kafka_name(rk), &prev, seen, json, json_len);
    pthread_mutex_lock(&clients_lock);
    if ((c = client_find_locked(rk)) != NULL) {
        c->prev = prev;
        c->seen = true;
    }
    pthread_mutex_unlock(&clients_lock);
    return 0; /* librdkafka frees JSON */
}

/* ---- errors ---- */

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    moose__kafka *k = kafka_of(rk);
    /* Closing its own connections is no news: the app is shutting down. */
    bool closing = k && atomic_load(&k->closing);
    if (closing && (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                    err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__DESTROY))
        return;
    bool grave = err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
    moose__log(grave ? MOOSE__LOG_ERROR : MOOSE__LOG_WARN, "kafka", "error", "%s: %s",
               rd_kafka_name(rk), reason);
    /*
     * A connection closing is not counted here: brokers close idle ones on
     * purpose, and a request it cost is counted where its response failed;
     * all brokers gone is the probe's broker_down.
     */
    if (k && err != RD_KAFKA_RESP_ERR__TRANSPORT && err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        symptom(k, MOOSE__BROKER_REQUEST_ERRORS, 1, "%s: %s", rd_kafka_name(rk), reason);
}

/* ---- the health probe's metadata ---- */

void moose__kafka_judge_metadata(rd_kafka_t *rk, const struct rd_kafka_metadata *md) {
    moose__kafka *k = kafka_of(rk);
    if (!k || !md)
        return;
    int errors = 0, leaderless_parts = 0;
    char first_error[128] = "", first_part[128] = "";
    for (int t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *topic = &md->topics[t];
        if (topic->err && errors++ == 0)
            snprintf(first_error, sizeof first_error, "%s: %s", topic->topic,
                     rd_kafka_err2str(topic->err));
        for (int p = 0; p < topic->partition_cnt; p++)
            if (topic->partitions[p].leader < 0 && leaderless_parts++ == 0)
                snprintf(first_part, sizeof first_part, "%s [%d]", topic->topic,
                         (int)topic->partitions[p].id);
    }
    if (errors)
        symptom(k, MOOSE__BROKER_METADATA_ERRORS, (uint64_t)errors,
                "metadata for %d topics answered with an error (%s)", errors, first_error);
    if (leaderless_parts)
        symptom(k, MOOSE__BROKER_NO_LEADER, 1, "metadata: %d partitions without a leader (%s)",
                leaderless_parts, first_part);
}

/* ---- interceptors ---- */

static rd_kafka_resp_err_t on_commit(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
                                     rd_kafka_resp_err_t err, void *ic_opaque) {
    moose__kafka *k = ic_opaque;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && offsets && k->embedded) {
        char group[sizeof ((client *)0)->group] = "";
        pthread_mutex_lock(&clients_lock);
        client *c = client_find_locked(rk);
        if (c)
            memcpy(group, c->group, sizeof group);
        pthread_mutex_unlock(&clients_lock);
        if (group[0])
            moose__kafka_commits_seen(k, group, offsets);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && offsets)
        for (int i = 0; i < offsets->cnt && !err; i++)
            err = offsets->elems[i].err;
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
    case RD_KAFKA_RESP_ERR__NO_OFFSET: /* nothing to commit */
    /* The group moved the partition: the new owner reads it again, as designed. */
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        break;
    default:
        symptom(k, MOOSE__BROKER_COMMIT_FAILED, 1, "%s: offset commit failed: %s",
                rd_kafka_name(rk), rd_kafka_err2str(err));
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_response_received(rd_kafka_t *rk, int sockfd, const char *brokername,
                                                int32_t brokerid, int16_t api_key,
                                                int16_t api_version, int32_t corr_id, size_t size,
                                                int64_t rtt_us, rd_kafka_resp_err_t err,
                                                void *ic_opaque) {
    (void)sockfd, (void)brokerid, (void)api_version, (void)corr_id, (void)size;
    moose__kafka *k = ic_opaque;
    if (err)
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /*
             * Only a request the broker did not answer in time, or whose
             * connection broke, is news: other local codes are librdkafka's own
             * bookkeeping (no offset to fetch, the client closing).
             */
            bool lost = err > 0 || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                        err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                        err == RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE;
            if (lost && !atomic_load(&k->closing))
                symptom(k,
                        api_key == API_OFFSET_COMMIT ? MOOSE__BROKER_COMMIT_FAILED
                                                     : MOOSE__BROKER_REQUEST_ERRORS,
                        1, "%s: %s request to %s failed: %s", rd_kafka_name(rk), api_name(api_key),
                        brokername && brokername[0] ? brokername : "a broker",
                        rd_kafka_err2str(err));
            return RD_KAFKA_RESP_ERR_NO_ERROR;
        }
    /* A fetch or a group join waits at the broker on purpose: its time is not the network's. */
    if (rtt_us < 0 || api_key == API_FETCH || api_key == API_JOIN_GROUP ||
        api_key == API_SYNC_GROUP)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    pthread_mutex_lock(&k->health_lock);
    if (k->health)
        moose__metrics_broker_rtt(k->health, rtt_us, brokername ? brokername : "");
    pthread_mutex_unlock(&k->health_lock);
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_destroy(rd_kafka_t *rk, void *ic_opaque) {
    (void)ic_opaque;
    pthread_mutex_lock(&clients_lock);
    for (client **p = &clients; *p; p = &(*p)->next) {
        if ((*p)->rk == rk) {
            client *gone = *p;
            *p = gone->next;
            free(gone);
            break;
        }
    }
    pthread_mutex_unlock(&clients_lock);
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *ic_opaque,
                                  char *errstr, size_t errstr_size) {
    client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(errstr, errstr_size, "out of memory registering a Kafka client");
        return RD_KAFKA_RESP_ERR__FAIL;
    }
    c->rk = rk;
    c->kafka = ic_opaque;
    size_t group_size = sizeof c->group;
    if (rd_kafka_conf_get(conf, "group.id", c->group, &group_size) != RD_KAFKA_CONF_OK)
        c->group[0] = '\0';
    pthread_mutex_lock(&clients_lock);
    c->next = clients;
    clients = c;
    pthread_mutex_unlock(&clients_lock);
    rd_kafka_interceptor_add_on_destroy(rk, "moose.health", on_destroy, ic_opaque);
    rd_kafka_interceptor_add_on_commit(rk, "moose.health", on_commit, ic_opaque);
    rd_kafka_interceptor_add_on_response_received(rk, "moose.health", on_response_received,
                                                  ic_opaque);
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

int moose__kafka_conf_health(const moose__kafka *k, rd_kafka_conf_t *conf, char *errstr,
                             size_t errstr_size) {
    if (rd_kafka_conf_interceptor_add_on_new(conf, "moose.health", on_new, (void *)k) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "cannot add the health interceptor to a Kafka client");
        return MOOSE_EINVAL;
    }
    return 0;
}

void moose__kafka_conf_polled(const moose__kafka *k, rd_kafka_conf_t *conf) {
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_stats_cb(conf, stats_cb);
    char why[512];
    if (!moose__kafka_user_set(k, "statistics.interval.ms"))
        rd_kafka_conf_set(conf, "statistics.interval.ms", MOOSE__KAFKA_STATS_INTERVAL_MS, why,
                          sizeof why);
}
