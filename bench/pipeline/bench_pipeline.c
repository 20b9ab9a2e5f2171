/*
 * The engine's throughput against a raw librdkafka baseline, in one run, on
 * the embedded cluster, both over the same input already loaded:
 *
 *   raw:   two consumers in a group poll records and one producer sends the
 *          same key and bytes on (no parsing, offsets auto-committed: the
 *          ceiling);
 *   moose: the transform's two workers decode each record with the generated
 *          codec, validate it, call the seed's transform_record (parse a
 *          string to a float), validate and encode the output, produce it
 *          keyed, and commit only what was acknowledged.
 *
 * The N records are loaded first into the input topic, spread over enough
 * partitions (the schema's parallelism, 64) that none reaches the embedded
 * broker's 5 MiB per partition, past which it drops the oldest data; the
 * load is checked to have lost nothing. Each stage then reads the whole
 * topic from the start in its own consumer group, so it runs as fast as its
 * CPU lets it. Throughput counts from the first output to the N-th on the
 * output topic (its high watermarks), so group joins are not measured.
 *
 * --rss runs the engine alone over more records than the broker can hold:
 * a feeder thread writes them while the transform runs, held back by its
 * commits, and the resident set size is sampled along the way.
 *
 *   bench_pipeline [--records N] [--only raw|moose] [--moose-first] [--rss] [-X key=value]...
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
#include "thread_cpu.h"

/* Stage workers: one per core of the machine the figures are taken on, the same on both sides. */
enum { WORKERS = 2 };

static const char *const RAW_OUT = "passthrough-out";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process used (every thread: stage, broker): less disturbed by other work on a
 * shared machine than the wall clock. */
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

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the input ---- */

/* Record I of the input: the seed's RawEvent, its data a number in text. */
static void make_record(long i, char *key, int *klen, char *value, int *vlen) {
    *klen = snprintf(key, 32, "e%ld", i);
    *vlen = snprintf(value, 160,
                     "{\"id\":\"e%ld\",\"data\":\"%ld.%02ld\","
                     "\"timestamp\":\"2024-03-20T12:00:00Z\"}",
                     i, i % 100000, i % 100);
}

/* Sends records FIRST..FIRST+N-1 to TOPIC through P, waiting whenever P says its queue is full. */
static void send_records(moose__producer *p, const char *topic, long first, long n) {
    char key[32], value[160];
    for (long i = first; i < first + n; i++) {
        int klen, vlen, rc;
        make_record(i, key, &klen, value, &vlen);
        while ((rc = moose__producer_send(p, topic, -1, key, (size_t)klen, value, (size_t)vlen,
                                          NULL, NULL)) == MOOSE_EQUEUEFULL)
            sleep_ms(1);
        if (rc != 0)
            die("loading the input", moose_strerror(rc));
    }
}

/* Sum of TOPIC's high watermarks over NPARTS partitions; -1 when the broker does not answer. With
 * LOW_SUM, also the sum of the low ones (what the broker dropped). */
static int64_t watermarks(rd_kafka_t *rk, const char *topic, int32_t nparts, int64_t *low_sum) {
    int64_t sum = 0, lows = 0;
    for (int32_t p = 0; p < nparts; p++) {
        int64_t low = 0, high = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 5000) != 0)
            return -1;
        sum += high;
        lows += low;
    }
    if (low_sum)
        *low_sum = lows;
    return sum;
}

/*
 * Loads N records into the input topic before any stage runs, through a
 * producer of its own that no reader holds back, and checks the broker kept
 * every one of them.
 */
static void load_input(moose_app *app, long n) {
    char err[512];
    const char *topic = raw_stream_stream.topic;
    moose__producer *p = moose__producer_new(app->kafka, "loader", err, sizeof err);
    if (!p)
        die("loader", err);
    double t0 = now_s();
    send_records(p, topic, 0, n);
    if (moose__producer_flush(p, 600000) != 0)
        die("loading the input", "not every record was acknowledged within 10 minutes");
    int64_t low = 0, high = watermarks(moose__producer_handle(p), topic,
                                       raw_stream_stream.parallelism, &low);
    if (high != n || low != 0) {
        snprintf(err, sizeof err,
                 "the broker holds offsets %" PRId64 "..%" PRId64 " of %ld records: it dropped "
                 "data past its per-partition limit; give raw_stream more partitions",
                 low, high, n);
        die("loading the input", err);
    }
    printf("input: %ld records loaded into %d partitions in %.1f s\n", n,
           raw_stream_stream.parallelism, now_s() - t0);
    moose__producer_close(p);
}

/* ---- the output's progress ---- */

typedef struct result {
    long records; /* timed: those out after the stage's workers all held partitions */
    double seconds, per_s;
    double cpu_us; /* process CPU time per record, from the first output to the last */
    long rss_first, rss_max, rss_last; /* KiB, sampled once a second after the first output */
    long rss_at[10];                   /* KiB when each tenth of the records was out */
} result;

/*
 * Waits until TOPIC (NPARTS partitions) holds N records. Times from the first
 * one that comes out once READY (may be NULL) says every worker of the stage
 * holds partitions: a worker that joins its group late makes the group
 * rebalance, and the records the first one processed alone before are left
 * out of the figures.
 */
static result measure(moose__kafka *kafka, const char *topic, int32_t nparts, long n, bool rss,
                      bool (*ready)(void *), void *ready_arg) {
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_conf(kafka, err, sizeof err);
    if (!conf)
        die("watermarks", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("watermarks", err);
    result r = {0};
    static thread_cpu before[MAX_THREADS], after[MAX_THREADS];
    int nbefore = 0;
    double t0 = 0, c0 = 0, last_sample = 0, deadline = now_s() + 1200, last_report = now_s();
    int64_t base = -1;
    for (;;) {
        int64_t done = watermarks(rk, topic, nparts, NULL);
        double t = now_s();
        if (base < 0 && (!ready || ready(ready_arg)))
            base = done;
        if (base >= 0 && done > base && t0 == 0) {
            t0 = t;
            c0 = cpu_s();
            nbefore = threads_cpu(before, MAX_THREADS);
            base = done;
            if (base > n / 2)
                die("measuring", "the stage's workers held their partitions only after half "
                                 "the records were out: give it more records");
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
        if (done >= n && t0 > 0) {
            r.records = n - (long)base;
            r.seconds = t - t0;
            r.per_s = (double)r.records / r.seconds;
            r.cpu_us = (cpu_s() - c0) * 1e6 / (double)r.records;
            print_threads_cpu(topic, before, nbefore, after, threads_cpu(after, MAX_THREADS),
                              r.records);
            /* For profiles: `perf report --time` takes these (perf's clock is CLOCK_MONOTONIC). */
            fprintf(stderr, "bench_pipeline: measured %s from %.6f to %.6f (CLOCK_MONOTONIC)\n",
                    topic, t0, t);
            break;
        }
        if (t > deadline)
            die("measuring", "no progress for 20 minutes");
        if (t - last_report >= 10.0) {
            last_report = t;
            fprintf(stderr, "bench_pipeline: %s holds %" PRId64 " of %ld records\n", topic, done,
                    n);
        }
        sleep_ms(10);
    }
    rd_kafka_destroy(rk);
    return r;
}

/* ---- raw librdkafka passthrough ---- */

typedef struct passthrough {
    moose__kafka *kafka;
    rd_kafka_t *producer;
    rd_kafka_t *_Atomic consumers[WORKERS];
    atomic_bool stop;
    atomic_int next_index;
    atomic_long passed[WORKERS]; /* records each consumer passed on: did both share the work? */
} passthrough;

/* What a careful user writes by hand: a consumer in a group with offsets committed for it, and
 * the same key and bytes sent on through one idempotent producer. */
static void *pass_records(void *arg) {
    passthrough *pt = arg;
    int index = atomic_fetch_add(&pt->next_index, 1);
    long passed = 0;
    char err[512];
    rd_kafka_conf_t *conf =
        moose__kafka_consumer_conf(pt->kafka, "bench.passthrough", err, sizeof err);
    if (!conf || rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err) ||
        rd_kafka_conf_set(conf, "auto.commit.interval.ms", "50", err, sizeof err))
        die("passthrough consumer", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("passthrough consumer", err);
    rd_kafka_poll_set_consumer(rk);
    atomic_store(&pt->consumers[index], rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, raw_stream_stream.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    while (!atomic_load(&pt->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            while (rd_kafka_producev(pt->producer, RD_KAFKA_V_TOPIC(RAW_OUT),
                                     RD_KAFKA_V_KEY(m->key, m->key_len),
                                     RD_KAFKA_V_VALUE(m->payload, m->len),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(pt->producer, 1);
            passed++;
        }
        rd_kafka_message_destroy(m);
    }
    atomic_store(&pt->passed[index], passed);
    atomic_store(&pt->consumers[index], NULL);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

static bool raw_ready(void *arg) {
    passthrough *pt = arg;
    for (int i = 0; i < WORKERS; i++) {
        rd_kafka_t *rk = atomic_load(&pt->consumers[i]);
        rd_kafka_topic_partition_list_t *parts = NULL;
        if (!rk || rd_kafka_assignment(rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return false;
        bool holds = parts && parts->cnt > 0;
        if (parts)
            rd_kafka_topic_partition_list_destroy(parts);
        if (!holds)
            return false;
    }
    return true;
}

static void *poll_producer(void *arg) {
    passthrough *pt = arg;
    while (!atomic_load(&pt->stop))
        rd_kafka_poll(pt->producer, 100);
    return NULL;
}

static result run_raw(moose_app *app, long n) {
    char err[512];
    int32_t out_parts = processed_stream_stream.parallelism;
    if (moose__kafka_ensure_topic(app->kafka, RAW_OUT, out_parts, 0, err, sizeof err))
        die("passthrough topic", err);
    /* The producer libmoose makes, by hand: idempotent, acks=all, the Java client's partitioner. */
    rd_kafka_conf_t *conf = moose__kafka_conf(app->kafka, err, sizeof err);
    if (!conf || rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err) ||
        rd_kafka_conf_set(conf, "acks", "all", err, sizeof err) ||
        rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof err))
        die("passthrough producer", err);
    passthrough pt = {.kafka = app->kafka};
    pt.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!pt.producer)
        die("passthrough producer", err);
    pthread_t workers[WORKERS], poller;
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&workers[i], NULL, pass_records, &pt);
    pthread_create(&poller, NULL, poll_producer, &pt);
    result r = measure(app->kafka, RAW_OUT, out_parts, n, false, raw_ready, &pt);
    atomic_store(&pt.stop, true);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i], NULL);
    pthread_join(poller, NULL);
    rd_kafka_flush(pt.producer, 10000);
    rd_kafka_destroy(pt.producer);
    printf("raw consumers passed on:");
    for (int i = 0; i < WORKERS; i++)
        printf(" %ld", atomic_load(&pt.passed[i]));
    printf(" records\n");
    return r;
}

/* ---- the engine ---- */

static moose__transform_runner *start_transform(moose_app *app) {
    char err[512];
    moose__transform_runner *r =
        moose__transform_start(app, pipeline_app.transforms[0], WORKERS, err, sizeof err);
    if (!r)
        die("starting the transform", err);
    return r;
}

static bool moose_ready(void *arg) {
    return moose__transform_workers_assigned(arg) == WORKERS;
}

static result run_moose(moose_app *app, long n) {
    moose__transform_runner *r = start_transform(app);
    result res = measure(app->kafka, processed_stream_stream.topic,
                         processed_stream_stream.parallelism, n, false, moose_ready, r);
    moose__transform_join(r);
    return res;
}

/* ---- resident set size over a long run ---- */

typedef struct feeder {
    moose__producer *producer;
    long records;
    pthread_t thread;
} feeder;

static void *feed(void *arg) {
    feeder *f = arg;
    send_records(f->producer, raw_stream_stream.topic, 0, f->records);
    moose__producer_flush(f->producer, 600000);
    return NULL;
}

/*
 * The engine over N records written while it runs, by a feeder held back by
 * the transform's commits (the app's producer watches its group), once its
 * workers have joined the group: a member joining late pauses the group.
 */
static result run_moose_fed(moose_app *app, long n) {
    moose__transform_runner *r = start_transform(app);
    sleep_ms(8000);
    feeder f = {app->producer, n, 0};
    pthread_create(&f.thread, NULL, feed, &f);
    result res = measure(app->kafka, processed_stream_stream.topic,
                         processed_stream_stream.parallelism, n, true, NULL, NULL);
    pthread_join(f.thread, NULL);
    moose__transform_join(r);
    return res;
}

int main(int argc, char **argv) {
    long n = 2000000;
    const char *only = NULL;
    bool rss = false, moose_first = false;
    /* Fed mode: readers may fall up to ~40k records (2 MiB) behind in a partition, under the
     * broker's 5 MiB. -X adds librdkafka properties, for both stages alike. */
    enum { MAX_PROPS = 32 };
    const char *props[MAX_PROPS + 3] = {"moose.backpressure.max.records=40000",
                                        "moose.backpressure.max.bytes=2097152"};
    int nprops = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--moose-first") == 0)
            moose_first = true;
        else if (strcmp(argv[i], "--rss") == 0)
            rss = true;
        else if (strcmp(argv[i], "-X") == 0 && i + 1 < argc && nprops < MAX_PROPS + 2)
            props[nprops++] = argv[++i];
        else {
            fprintf(stderr, "usage: bench_pipeline [--records N] [--only raw|moose] "
                            "[--moose-first] [--rss] [-X key=value]...\n");
            return 2;
        }
    }
    /* BENCH_LOG=debug shows the groups' assignments and commits. */
    const char *log_level = getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "warn";
    moose_config cfg = {.brokers = "embedded", .log_level = log_level, .kafka_props = props};
    char err[512];
    moose_app *app = moose_app_open(&pipeline_app, &cfg, err, sizeof err);
    if (!app)
        die("moose_app_open", err);
    printf("records: %ld, input partitions: %d, output partitions: %d, workers: %d\n", n,
           raw_stream_stream.parallelism, processed_stream_stream.parallelism, WORKERS);
    result raw = {0}, moose = {0};
    if (rss) {
        moose = run_moose_fed(app, n);
        printf("moose transform:  %8.3f s  %10.0f records/s  %6.2f us CPU/record\n", moose.seconds,
               moose.per_s, moose.cpu_us);
        printf("rss: first %ld KiB, max %ld KiB, last %ld KiB\n", moose.rss_first, moose.rss_max,
               moose.rss_last);
        printf("rss by tenths of the run (KiB):");
        for (int i = 0; i < 10; i++)
            printf(" %ld", moose.rss_at[i]);
        printf("\n");
    } else {
        load_input(app, n);
        bool do_raw = !only || strcmp(only, "raw") == 0;
        bool do_moose = !only || strcmp(only, "moose") == 0;
        for (int turn = 0; turn < 2; turn++) {
            if (do_raw && turn == (moose_first ? 1 : 0)) {
                raw = run_raw(app, n);
                printf("raw passthrough:  %8.3f s  %10.0f records/s  %6.2f us CPU/record  (%ld "
                       "timed)\n",
                       raw.seconds, raw.per_s, raw.cpu_us, raw.records);
            }
            if (do_moose && turn == (moose_first ? 0 : 1)) {
                moose = run_moose(app, n);
                printf("moose transform:  %8.3f s  %10.0f records/s  %6.2f us CPU/record  (%ld "
                       "timed)\n",
                       moose.seconds, moose.per_s, moose.cpu_us, moose.records);
            }
            fflush(stdout);
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
