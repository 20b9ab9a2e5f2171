/*
 * The engine's throughput against a raw librdkafka baseline, in one run, on
 * the embedded cluster:
 *
 *   raw:   consumers poll records and a producer sends the same bytes on
 *          (no parsing, offsets auto-committed: the ceiling);
 *   moose: the transform workers decode each record with the generated
 *          codec, validate it, call the seed's transform_record (parse a
 *          string to a float), validate and encode the output, produce it
 *          keyed, and commit only what was acknowledged.
 *
 * A feeder thread writes the same N records into each stage's input while it
 * runs (the embedded broker keeps only ~5 MB per partition, so the input
 * cannot be loaded beforehand; the feeder is held back by the stage's
 * commits), once the stage's consumers have joined their group.
 * Throughput counts from the first output to the N-th on the output topic
 * (its high watermarks), so group joins are not measured.
 *
 *   bench_pipeline [--records N] [--only raw|moose] [--rss]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app_internal.h"
#include "kafka.h"
#include "pipeline.moose.h"

enum { PARTITIONS = 2 };

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process used (every thread: stage, feeder, broker): less disturbed by
 * other work on a shared machine than the wall clock. */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_kib(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (fp)
        fclose(fp);
    return kib;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_pipeline: %s: %s\n", what, why);
    exit(2);
}

/* ---- feeder ---- */

typedef struct feeder {
    moose__producer *producer;
    const char *topic;
    long records;
    pthread_t thread;
} feeder;

static void *feed(void *arg) {
    feeder *f = arg;
    char key[32], value[160];
    for (long i = 0; i < f->records; i++) {
        int klen = snprintf(key, sizeof key, "e%ld", i);
        int vlen = snprintf(value, sizeof value,
                            "{\"id\":\"e%ld\",\"data\":\"%ld.%02ld\","
                            "\"timestamp\":\"2024-03-20T12:00:00Z\"}",
                            i, i % 100000, i % 100);
        int rc;
        while ((rc = moose__producer_send(f->producer, f->topic, -1, key, (size_t)klen, value,
                                          (size_t)vlen, NULL, NULL)) == MOOSE_EQUEUEFULL) {
            struct timespec ts = {0, 200 * 1000};
            nanosleep(&ts, NULL);
        }
        if (rc != 0)
            die("feeding", moose_strerror(rc));
    }
    moose__producer_flush(f->producer, 600000);
    return NULL;
}

/*
 * Lets a stage's consumers join their group before any record comes: a member
 * joining late makes the group rebalance, which pauses it for seconds and
 * would be counted as the stage's slowness.
 */
static void let_the_group_settle(void) {
    struct timespec ts = {8, 0};
    nanosleep(&ts, NULL);
}

/* ---- the output's progress ---- */

static int64_t produced(rd_kafka_t *rk, const char *topic) {
    int64_t sum = 0;
    for (int32_t p = 0; p < PARTITIONS; p++) {
        int64_t low = 0, high = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 5000) != 0)
            return -1;
        sum += high;
    }
    return sum;
}

typedef struct result {
    double seconds, per_s;
    double cpu_us; /* process CPU time per record, from the first output to the last */
    long rss_first, rss_max, rss_last; /* KiB, sampled once a second after the first output */
    long rss_at[10];                   /* KiB when each tenth of the records was out */
} result;

/* Waits until TOPIC holds N more records than BASE; times from the first one. */
static result measure(moose__kafka *kafka, const char *topic, int64_t base, long n, bool rss) {
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_conf(kafka, err, sizeof err);
    if (!conf)
        die("watermarks", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("watermarks", err);
    result r = {0};
    double t0 = 0, c0 = 0, last_sample = 0, deadline = now_s() + 1200;
    for (;;) {
        int64_t done = produced(rk, topic) - base;
        double t = now_s();
        if (done > 0 && t0 == 0) {
            t0 = t;
            c0 = cpu_s();
        }
        if (rss && t0 && t - last_sample >= 1.0) {
            long kib = rss_kib();
            if (!r.rss_first)
                r.rss_first = kib;
            if (kib > r.rss_max)
                r.rss_max = kib;
            r.rss_last = kib;
            last_sample = t;
        }
        for (int tenth = 0; rss && tenth < 10; tenth++)
            if (!r.rss_at[tenth] && done >= n / 10 * (tenth + 1))
                r.rss_at[tenth] = rss_kib();
        if (done >= n) {
            r.seconds = t - t0;
            r.per_s = (double)n / r.seconds;
            r.cpu_us = (cpu_s() - c0) * 1e6 / (double)n;
            break;
        }
        if (t > deadline)
            die("measuring", "no progress for 20 minutes");
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    rd_kafka_destroy(rk);
    return r;
}

/* ---- raw librdkafka passthrough ---- */

typedef struct passthrough {
    moose__kafka *kafka;
    rd_kafka_t *producer;
    atomic_bool stop;
} passthrough;

static void *pass_records(void *arg) {
    passthrough *pt = arg;
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_conf(pt->kafka, err, sizeof err);
    if (!conf)
        die("passthrough consumer", err);
    rd_kafka_conf_set(conf, "group.id", "bench.passthrough", err, sizeof err);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_conf_set(conf, "auto.commit.interval.ms", "50", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("passthrough consumer", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, "passthrough-in", RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    while (!atomic_load(&pt->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            while (rd_kafka_producev(pt->producer, RD_KAFKA_V_TOPIC("passthrough-out"),
                                     RD_KAFKA_V_KEY(m->key, m->key_len),
                                     RD_KAFKA_V_VALUE(m->payload, m->len),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(pt->producer, 1);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

static void *poll_producer(void *arg) {
    passthrough *pt = arg;
    while (!atomic_load(&pt->stop))
        rd_kafka_poll(pt->producer, 100);
    return NULL;
}

static result run_raw(moose_app *app, long n) {
    char err[512];
    const char *in = "passthrough-in", *out = "passthrough-out";
    if (moose__kafka_ensure_topic(app->kafka, in, PARTITIONS, 0, err, sizeof err) ||
        moose__kafka_ensure_topic(app->kafka, out, PARTITIONS, 0, err, sizeof err))
        die("passthrough topics", err);
    rd_kafka_conf_t *conf = moose__kafka_conf(app->kafka, err, sizeof err);
    if (!conf || rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err))
        die("passthrough producer", err);
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof err);
    passthrough pt = {.kafka = app->kafka};
    pt.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!pt.producer)
        die("passthrough producer", err);
    /* Fed like the moose stage: held back by the reader's commits. */
    moose__producer *fp = moose__producer_new(app->kafka, "feeder", err, sizeof err);
    const char *group = "bench.passthrough";
    if (!fp || moose__producer_watch(fp, in, &group, 1) != 0)
        die("feeder", err);
    feeder f = {fp, in, n, 0};
    pthread_t workers[PARTITIONS], poller;
    for (int i = 0; i < PARTITIONS; i++)
        pthread_create(&workers[i], NULL, pass_records, &pt);
    pthread_create(&poller, NULL, poll_producer, &pt);
    let_the_group_settle();
    pthread_create(&f.thread, NULL, feed, &f);
    result r = measure(app->kafka, out, 0, n, false);
    pthread_join(f.thread, NULL);
    atomic_store(&pt.stop, true);
    for (int i = 0; i < PARTITIONS; i++)
        pthread_join(workers[i], NULL);
    pthread_join(poller, NULL);
    rd_kafka_flush(pt.producer, 10000);
    rd_kafka_destroy(pt.producer);
    moose__producer_close(fp);
    return r;
}

/* ---- the engine ---- */

static result run_moose(moose_app *app, long n, bool rss) {
    char err[512];
    feeder f = {app->producer, raw_stream_stream.topic, n, 0};
    if (moose_app_start(app, err, sizeof err) != 0)
        die("moose_app_start", err);
    let_the_group_settle();
    pthread_create(&f.thread, NULL, feed, &f);
    result r = measure(app->kafka, processed_stream_stream.topic, 0, n, rss);
    pthread_join(f.thread, NULL);
    moose_app_stop(app);
    return r;
}

int main(int argc, char **argv) {
    long n = 2000000;
    const char *only = NULL;
    bool rss = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--rss") == 0)
            rss = true;
        else {
            fprintf(stderr, "usage: bench_pipeline [--records N] [--only raw|moose] [--rss]\n");
            return 2;
        }
    }
    /* Readers may fall up to ~80k records (4 MiB) behind: under the mock's 5 MB per partition. */
    static const char *const props[] = {"moose.backpressure.max.records=80000",
                                        "moose.backpressure.max.bytes=4194304", NULL};
    moose_config cfg = {.brokers = "embedded", .log_level = "warn", .kafka_props = props};
    char err[512];
    moose_app *app = moose_app_open(&pipeline_app, &cfg, err, sizeof err);
    if (!app)
        die("moose_app_open", err);
    printf("records: %ld, partitions: %d, transform workers: %d\n", n, PARTITIONS,
           raw_stream_stream.parallelism);
    result raw = {0}, moose = {0};
    if (!only || strcmp(only, "raw") == 0) {
        raw = run_raw(app, n);
        printf("raw passthrough:  %8.3f s  %10.0f records/s  %6.2f us CPU/record\n",
               raw.seconds, raw.per_s, raw.cpu_us);
        fflush(stdout);
    }
    if (!only || strcmp(only, "moose") == 0) {
        moose = run_moose(app, n, rss);
        printf("moose transform:  %8.3f s  %10.0f records/s  %6.2f us CPU/record\n",
               moose.seconds, moose.per_s, moose.cpu_us);
        if (rss) {
            printf("rss: first %ld KiB, max %ld KiB, last %ld KiB\n", moose.rss_first,
                   moose.rss_max, moose.rss_last);
            printf("rss by tenths of the run (KiB):");
            for (int i = 0; i < 10; i++)
                printf(" %ld", moose.rss_at[i]);
            printf("\n");
        }
    }
    if (raw.per_s > 0 && moose.per_s > 0)
        printf("moose / raw: %.1f %% of the throughput, %.1f %% of the CPU per record\n",
               100.0 * moose.per_s / raw.per_s, 100.0 * moose.cpu_us / raw.cpu_us);
    moose_metrics m;
    if (moose_transform_metrics(app, "transform_record", &m) == 0 && moose.per_s > 0)
        printf("transform: in %" PRIu64 ", out %" PRIu64 ", errors %" PRIu64 ", dlq %" PRIu64
               ", p99 inside the function %.2f us\n",
               m.records_in, m.records_out, m.transform_errors, m.dlq,
               (double)m.transform.p99_ns / 1000.0);
    moose_app_close(app);
    return 0;
}
