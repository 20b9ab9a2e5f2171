/*
 * The broker probe: whether the Kafka cluster answers a metadata request.
 * librdkafka reports "all brokers down" but never "back up", so health asks
 * instead of listening.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>

#include "metrics.h"

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
    rd_kafka_metadata_destroy(md);
    if (!any)
        snprintf(why, why_size, "the cluster lists no brokers");
    return any;
}
