/*
 * The broker probe: whether the Kafka cluster answers a metadata request.
 * librdkafka reports "all brokers down" but never "back up", so health asks
 * instead of listening.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>

#include "kafka.h"
#include "metrics.h"
#include "metrics_component.h"

bool moose__metrics_kafka_probe(void *opaque, char *why, size_t why_size) {
    rd_kafka_t *rk = opaque;
    const struct rd_kafka_metadata *md = NULL;
    /* Locally known topics only: enough to make a broker answer, cheap for the cluster. */
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, 2000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, why_size, "metadata request failed: %s", rd_kafka_err2str(err));
        return false;
    }
    bool any = md->broker_cnt > 0;
    /* The cluster answers; whether it answers with errors is health's too. */
    moose__kafka_judge_metadata(rk, md);
    rd_kafka_metadata_destroy(md);
    if (!any)
        snprintf(why, why_size, "the cluster lists no brokers");
    return any;
}

/* Lag of every partition RK is assigned; SEEN marks them. */
static void consumer_lag(moose__component *c, rd_kafka_t *rk, bool *seen) {
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || parts == NULL)
        return;
    if (parts->cnt > 0 && rd_kafka_position(rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < parts->cnt; i++) {
            const rd_kafka_topic_partition_t *p = &parts->elems[i];
            int64_t low, high;
            if (p->partition < 0 || p->partition >= MOOSE_METRICS_MAX_PARTITIONS ||
                rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &low, &high) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR ||
                high < 0)
                continue; /* no fetch answered yet: unknown */
            /* No position yet: nothing consumed, everything retained is pending. */
            int64_t from = p->offset >= 0 ? p->offset : (low >= 0 ? low : 0);
            moose__metrics_set_lag(c, p->partition, high > from ? high - from : 0);
            seen[p->partition] = true;
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

void moose__component_sample_lag(moose__component *c) {
    pthread_mutex_lock(&c->consumers_lock);
    if (c->nconsumers > 0) {
        bool seen[MOOSE_METRICS_MAX_PARTITIONS] = {false};
        for (uint32_t i = 0; i < c->nconsumers; i++)
            consumer_lag(c, c->consumers[i], seen);
        /* Partitions that moved to another process: their lag is not ours to tell. */
        uint32_t n = atomic_load(&c->npartitions);
        for (uint32_t p = 0; p < n; p++)
            if (!seen[p])
                atomic_store_explicit(&c->lag[p], -1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&c->consumers_lock);
}
