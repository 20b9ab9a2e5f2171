/*
 * Topics: each stream's topic with its declared partitions and retention.
 * Embedded: rd_kafka_mock_topic_create in the owning process (others ask it
 * over the control socket). Real cluster: the Admin API, every request with
 * a timeout, because a broker that does not answer must end in a sentence,
 * not a hang.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_internal.h"
#include "log.h"

/* Partitions of TOPIC from a metadata request for all topics (asking for one could auto-create it).
 */
static int lookup_partitions(moose__kafka *k, const char *topic, char *errstr, size_t errstr_size) {
    rd_kafka_t *rk = moose__kafka_admin_handle(k, errstr, errstr_size);
    if (!rk)
        return MOOSE_ETRANSPORT;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, k->admin_timeout_ms);
    if (err) {
        snprintf(errstr, errstr_size, "no metadata from Kafka at %s within %d ms: %s", k->bootstrap,
                 k->admin_timeout_ms, rd_kafka_err2str(err));
        return err == RD_KAFKA_RESP_ERR__TIMED_OUT ? MOOSE_ETIMEDOUT : MOOSE_ETRANSPORT;
    }
    int rc = MOOSE_ENOTFOUND;
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, topic) != 0)
            continue;
        if (md->topics[i].err && md->topics[i].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
            snprintf(errstr, errstr_size, "topic '%s' is unusable: %s", topic,
                     rd_kafka_err2str(md->topics[i].err));
            rc = MOOSE_ETRANSPORT;
        } else {
            rc = md->topics[i].partition_cnt;
        }
        break;
    }
    rd_kafka_metadata_destroy(md);
    if (rc == MOOSE_ENOTFOUND)
        snprintf(errstr, errstr_size, "topic '%s' does not exist at %s", topic, k->bootstrap);
    return rc;
}

int moose__kafka_partition_count(moose__kafka *k, const char *topic, char *errstr,
                                 size_t errstr_size) {
    return lookup_partitions(k, topic, errstr, errstr_size);
}

/* One end (RD_KAFKA_OFFSET_BEGINNING or _END) of every partition into OUT. */
static rd_kafka_resp_err_t partition_ends(rd_kafka_t *rk, const char *topic, int32_t nparts,
                                          int64_t end, int64_t *out, int timeout_ms) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
    if (!parts)
        return RD_KAFKA_RESP_ERR__FAIL;
    for (int32_t i = 0; i < nparts; i++)
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = end;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, parts, timeout_ms);
    for (int32_t i = 0; i < nparts; i++)
        out[i] = -1;
    for (int i = 0; !err && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (!tp->err && tp->partition >= 0 && tp->partition < nparts)
            out[tp->partition] = tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return err;
}

rd_kafka_resp_err_t moose__kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t nparts,
                                            int64_t *low, int64_t *high, int timeout_ms) {
    if (nparts <= 0)
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    int64_t deadline = moose__kafka_now_ms() + timeout_ms;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (low)
        err = partition_ends(rk, topic, nparts, RD_KAFKA_OFFSET_BEGINNING, low, timeout_ms);
    if (high) {
        int64_t left = deadline - moose__kafka_now_ms();
        if (err || left <= 0) {
            for (int32_t i = 0; i < nparts; i++)
                high[i] = -1;
            return err ? err : RD_KAFKA_RESP_ERR__TIMED_OUT;
        }
        err = partition_ends(rk, topic, nparts, RD_KAFKA_OFFSET_END, high, (int)left);
    }
    return err;
}

/* Waits for one Admin result event; no event within the timeout is a clear MOOSE_ETIMEDOUT. */
static int admin_wait(moose__kafka *k, rd_kafka_queue_t *q, const char *what, const char *topic,
                      rd_kafka_event_t **ev_out, char *errstr, size_t errstr_size) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, k->admin_timeout_ms + 1000);
    if (!ev) {
        snprintf(errstr, errstr_size,
                 "Kafka at %s gave no answer to %s for topic '%s' within %d ms (does the broker "
                 "support the Admin API? raise moose.admin.timeout.ms if it is slow)",
                 k->bootstrap, what, topic, k->admin_timeout_ms);
        return MOOSE_ETIMEDOUT;
    }
    if (rd_kafka_event_error(ev)) {
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
        snprintf(errstr, errstr_size, "%s for topic '%s' at %s failed: %s", what, topic,
                 k->bootstrap, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return err == RD_KAFKA_RESP_ERR__TIMED_OUT ? MOOSE_ETIMEDOUT : MOOSE_ETRANSPORT;
    }
    *ev_out = ev;
    return 0;
}

static rd_kafka_AdminOptions_t *admin_options(moose__kafka *k, rd_kafka_t *rk,
                                              rd_kafka_admin_op_t op) {
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, op);
    char why[256];
    rd_kafka_AdminOptions_set_request_timeout(ao, k->admin_timeout_ms, why, sizeof(why));
    rd_kafka_AdminOptions_set_operation_timeout(ao, k->admin_timeout_ms, why, sizeof(why));
    return ao;
}

static int topic_result(const rd_kafka_topic_result_t *const *res, size_t n, const char *what,
                        const char *topic, char *errstr, size_t errstr_size) {
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            snprintf(errstr, errstr_size, "%s for topic '%s' failed: %s", what, topic,
                     msg ? msg : rd_kafka_err2str(err));
            return moose__kafka_map_error(err);
        }
    }
    return 0;
}

static int admin_create_topic(moose__kafka *k, const char *topic, int32_t partitions,
                              int64_t retention_ms, char *errstr, size_t errstr_size) {
    rd_kafka_t *rk = moose__kafka_admin_handle(k, errstr, errstr_size);
    if (!rk)
        return MOOSE_ETRANSPORT;
    char why[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, -1, why, sizeof(why));
    if (!nt) {
        snprintf(errstr, errstr_size, "cannot describe topic '%s' for CreateTopics: %s", topic,
                 why);
        return MOOSE_EINVAL;
    }
    if (retention_ms > 0) {
        char value[32];
        snprintf(value, sizeof(value), "%" PRId64, retention_ms);
        rd_kafka_NewTopic_set_config(nt, "retention.ms", value);
    }
    /* Kafka's own default (1 MB) would refuse what the producer is allowed to send. */
    if (k->max_message_bytes > 1048588) {
        char value[32];
        snprintf(value, sizeof(value), "%" PRId64, k->max_message_bytes);
        rd_kafka_NewTopic_set_config(nt, "max.message.bytes", value);
    }
    rd_kafka_AdminOptions_t *ao = admin_options(k, rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = NULL;
    int rc = admin_wait(k, q, "CreateTopics", topic, &ev, errstr, errstr_size);
    if (rc == 0) {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rc = topic_result(res, n, "CreateTopics", topic, errstr, errstr_size);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    if (rc == 0)
        MOOSE__LOG_INFO("kafka", "created topic topic=%s partitions=%d retention_ms=%" PRId64,
                        topic, (int)partitions, retention_ms);
    return rc;
}

static int admin_add_partitions(moose__kafka *k, const char *topic, int32_t partitions,
                                char *errstr, size_t errstr_size) {
    rd_kafka_t *rk = moose__kafka_admin_handle(k, errstr, errstr_size);
    if (!rk)
        return MOOSE_ETRANSPORT;
    char why[256];
    rd_kafka_NewPartitions_t *np =
        rd_kafka_NewPartitions_new(topic, (size_t)partitions, why, sizeof(why));
    if (!np) {
        snprintf(errstr, errstr_size, "cannot describe partitions of '%s': %s", topic, why);
        return MOOSE_EINVAL;
    }
    rd_kafka_AdminOptions_t *ao = admin_options(k, rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreatePartitions(rk, &np, 1, ao, q);
    rd_kafka_event_t *ev = NULL;
    int rc = admin_wait(k, q, "CreatePartitions", topic, &ev, errstr, errstr_size);
    if (rc == 0) {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
        rc = topic_result(res, n, "CreatePartitions", topic, errstr, errstr_size);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewPartitions_destroy(np);
    if (rc == 0)
        MOOSE__LOG_INFO("kafka", "increased partitions topic=%s partitions=%d", topic,
                        (int)partitions);
    return rc;
}

/* The mock creates a topic on its own thread: wait until metadata shows it. */
static int mock_create_topic(moose__kafka *k, const char *topic, int32_t partitions,
                             int64_t retention_ms, char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(moose__embedded_cluster(k->owned), topic, partitions, 1);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        snprintf(errstr, errstr_size, "the embedded broker could not create topic '%s': %s", topic,
                 rd_kafka_err2str(err));
        return MOOSE_ETRANSPORT;
    }
    int64_t deadline = moose__kafka_now_ms() + k->admin_timeout_ms;
    for (;;) {
        int n = lookup_partitions(k, topic, errstr, errstr_size);
        if (n >= 0)
            break;
        if (n != MOOSE_ENOTFOUND || moose__kafka_now_ms() > deadline)
            return n == MOOSE_ENOTFOUND ? MOOSE_ETIMEDOUT : n;
        moose__kafka_sleep_ms(20);
    }
    /* The mock keeps everything in memory until its size limit: retention has nothing to do. */
    MOOSE__LOG_DEBUG("kafka",
                     "created topic in the embedded broker topic=%s partitions=%d "
                     "retention_ms=%" PRId64 " (not applied in embedded mode)",
                     topic, (int)partitions, retention_ms);
    return 0;
}

int moose__kafka_ensure_topic(moose__kafka *k, const char *topic, int32_t partitions,
                              int64_t retention_ms, char *errstr, size_t errstr_size) {
    if (!topic || !*topic || partitions < 1) {
        snprintf(errstr, errstr_size, "cannot create topic '%s' with %d partitions",
                 topic ? topic : "(null)", (int)partitions);
        return MOOSE_EINVAL;
    }
    if (k->embedded && !k->owned)
        return moose__embedded_request_topic(k->remote_control, topic, partitions, retention_ms,
                                             k->admin_timeout_ms, errstr, errstr_size);

    pthread_mutex_lock(&k->topics_lock);
    int rc = lookup_partitions(k, topic, errstr, errstr_size);
    if (rc == MOOSE_ENOTFOUND) {
        rc = k->owned ? mock_create_topic(k, topic, partitions, retention_ms, errstr, errstr_size)
                      : admin_create_topic(k, topic, partitions, retention_ms, errstr, errstr_size);
    } else if (rc >= 0) {
        int have = rc;
        rc = 0;
        if (have > partitions) {
            snprintf(errstr, errstr_size,
                     "topic '%s' has %d partitions but the schema declares %d: more partitions "
                     "would spread keys differently from the declared parallelism; raise "
                     "`parallelism` to %d or recreate the topic",
                     topic, have, (int)partitions, have);
            rc = MOOSE_ESCHEMA;
        } else if (have < partitions) {
            if (k->owned) {
                snprintf(errstr, errstr_size,
                         "topic '%s' has %d partitions in the embedded broker, the schema declares "
                         "%d: the embedded broker cannot add partitions; restart it",
                         topic, have, (int)partitions);
                rc = MOOSE_ESCHEMA;
            } else {
                rc = admin_add_partitions(k, topic, partitions, errstr, errstr_size);
            }
        }
    }
    pthread_mutex_unlock(&k->topics_lock);
    return rc;
}

int moose__kafka_ensure_app_topics(moose__kafka *k, const moose_app_desc *desc, char *errstr,
                                   size_t errstr_size) {
    for (uint32_t i = 0; i < desc->nstreams; i++) {
        const moose_stream_desc *s = desc->streams[i];
        int32_t parts = s->parallelism > 0 ? s->parallelism : 1;
        int64_t retention_ms = s->retention_s > 0 ? s->retention_s * 1000 : 0;
        char dlq[512];
        if (!moose__dlq_topic_name(s->topic, dlq, sizeof(dlq))) {
            snprintf(errstr, errstr_size, "topic name '%s' is too long", s->topic);
            return MOOSE_EINVAL;
        }
        int rc = moose__kafka_ensure_topic(k, s->topic, parts, retention_ms, errstr, errstr_size);
        if (rc == 0)
            rc = moose__kafka_ensure_topic(k, dlq, parts, retention_ms, errstr, errstr_size);
        if (rc)
            return rc;
    }
    return 0;
}
