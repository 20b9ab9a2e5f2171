/*
 * What metrics cost a whole pipeline: the same app (the engine's fixture,
 * raw (2 partitions) -> to_float -> out, embedded Kafka cluster) pushes N
 * records from moose_write_async() through the transform into the output
 * topic, with metrics on and with MOOSE_METRICS=off, in alternating rounds.
 *
 *   bench_pipeline_metrics [N] [ROUNDS]   prints a Markdown table
 *
 * Throughput is the median of the rounds; CPU time per record (every thread
 * of the process, the embedded broker's included) is shown as the median and
 * the lowest, since other work on the machine can only add to it.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "app_internal.h"
#include "fixture.h"
#include "metrics.h"
#include "moose/error.h"

static double now_s(void) {
    return (double)moose__metrics_now_ns() / 1e9;
}

/* CPU seconds of the whole process (every thread: ours, librdkafka's, the embedded broker's). */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_pipeline_metrics: %s: %s\n", what, why);
    exit(1);
}

/* Records in TOPIC (the sum of its partitions' high watermarks), or -1. */
static int64_t topic_size(rd_kafka_t *rk, const char *topic, int32_t partitions) {
    int64_t total = 0;
    for (int32_t p = 0; p < partitions; p++) {
        int64_t low = 0, high = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 5000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
        total += high;
    }
    return total;
}

/* Waits until TOPIC holds WANT records; gives up after a minute without progress. */
static void wait_for(rd_kafka_t *rk, const char *topic, int32_t partitions, int64_t want) {
    int64_t seen = -1;
    double since = now_s();
    for (;;) {
        int64_t size = topic_size(rk, topic, partitions);
        if (size >= want)
            return;
        if (size != seen) {
            seen = size;
            since = now_s();
        } else if (now_s() - since > 60) {
            fprintf(stderr, "bench_pipeline_metrics: %s holds %" PRId64 " of %" PRId64
                            " records and stopped growing\n",
                    topic, size, want);
            exit(1);
        }
        nanosleep(&(struct timespec){0, 5 * 1000000L}, NULL);
    }
}

typedef struct round_result {
    double write_s; /* N writes acknowledged */
    double total_s; /* N records in the output topic */
    double cpu_s;   /* CPU time the process spent meanwhile */
} round_result;

static round_result run_round(int n, bool metrics, int round) {
    if (metrics)
        unsetenv("MOOSE_METRICS");
    else
        setenv("MOOSE_METRICS", "off", 1);
    char name[64], err[512];
    snprintf(name, sizeof name, "bpm%ld-%d-%s", (long)getpid(), round, metrics ? "on" : "off");
    fixture_app f;
    fixture_app_init(&f, name, FIXTURE_TO_FLOAT, 2);
    moose_config cfg = {.brokers = "embedded", .log_level = "warn"};
    moose_app *app = moose_app_open(&f.app, &cfg, err, sizeof err);
    if (app == NULL)
        die("moose_app_open", err);
    if ((moose__metrics_find(app->metrics, MOOSE_COMPONENT_TRANSFORM, "to_float") != NULL) !=
        metrics)
        die("MOOSE_METRICS", "the switch did not take effect");
    if (moose_app_start(app, err, sizeof err) != 0)
        die("moose_app_start", err);
    rd_kafka_conf_t *conf = moose__kafka_conf(app->kafka, err, sizeof err);
    rd_kafka_t *rk = conf ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err) : NULL;
    if (rk == NULL)
        die("watermark reader", err);
    int32_t out_partitions = moose__kafka_partition_count(app->kafka, f.out.topic, err, sizeof err);
    if (out_partitions <= 0)
        die(f.out.topic, err);

    /* One record first: the consumer group's join (seconds) stays out of the figure. */
    RawEvent warm = {{"warm", 4}, {"1", 1}};
    if (moose_write(app, &f.raw, &warm, NULL) != 0)
        die("moose_write", "the warm-up record was refused");
    wait_for(rk, f.out.topic, out_partitions, 1);

    char id[32], data[32];
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < n; i++) {
        int idn = snprintf(id, sizeof id, "k%d", i);
        int dn = snprintf(data, sizeof data, "%d", i % 100000);
        RawEvent e = {{id, (size_t)idn}, {data, (size_t)dn}};
        int rc;
        while ((rc = moose_write_async(app, &f.raw, &e, NULL, NULL, NULL)) == MOOSE_EQUEUEFULL)
            nanosleep(&(struct timespec){0, 1000000L}, NULL);
        if (rc != 0)
            die("moose_write_async", moose_strerror(rc));
    }
    if (moose_app_flush(app, 120000) != 0)
        die("moose_app_flush", "writes were not acknowledged");
    round_result r = {.write_s = now_s() - t0};
    wait_for(rk, f.out.topic, out_partitions, (int64_t)n + 1);
    r.total_s = now_s() - t0;
    r.cpu_s = cpu_s() - c0;
    rd_kafka_destroy(rk);
    moose_app_stop(app);
    moose_app_close(app);
    return r;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double lowest(const double *v, int n) {
    double low = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < low)
            low = v[i];
    return low;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 50000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (n <= 0 || rounds <= 0 || rounds > 32) {
        fprintf(stderr, "usage: bench_pipeline_metrics [N records] [ROUNDS (1-32)]\n");
        return 2;
    }
    double write_rate[2][32], total_rate[2][32], cpu_us[2][32];
    for (int r = 0; r < rounds; r++) {
        /* Alternate which goes first, so drift on a shared machine hits both alike. */
        for (int k = 0; k < 2; k++) {
            bool metrics = (r + k) % 2 == 0;
            round_result res = run_round(n, metrics, r);
            write_rate[metrics][r] = n / res.write_s;
            total_rate[metrics][r] = n / res.total_s;
            cpu_us[metrics][r] = res.cpu_s / n * 1e6;
            fprintf(stderr,
                    "round %d metrics %s: writes %.0f/s, through the transform %.0f/s, "
                    "CPU %.2f us/record\n",
                    r + 1, metrics ? "on" : "off", write_rate[metrics][r], total_rate[metrics][r],
                    cpu_us[metrics][r]);
        }
    }
    double w_on = median(write_rate[1], rounds), w_off = median(write_rate[0], rounds);
    double t_on = median(total_rate[1], rounds), t_off = median(total_rate[0], rounds);
    /* Other work on the machine only adds CPU time: the lowest round is the truest. */
    double c_on = lowest(cpu_us[1], rounds), c_off = lowest(cpu_us[0], rounds);
    double cm_on = median(cpu_us[1], rounds), cm_off = median(cpu_us[0], rounds);
    printf("| %d rounds of %d records | metrics on | metrics off | change |\n", rounds, n);
    printf("|---|---:|---:|---:|\n");
    printf("| records/s (median), moose_write_async() until acknowledged | %.0f | %.0f | %+.1f%% "
           "|\n",
           w_on, w_off, (w_on / w_off - 1) * 100);
    printf("| records/s (median), written until in the output topic | %.0f | %.0f | %+.1f%% |\n",
           t_on,
           t_off, (t_on / t_off - 1) * 100);
    printf("| CPU µs per record (median), whole process | %.2f | %.2f | %+.1f%% |\n", cm_on,
           cm_off, (cm_on / cm_off - 1) * 100);
    printf("| CPU µs per record (lowest), whole process | %.2f | %.2f | %+.1f%% |\n", c_on, c_off,
           (c_on / c_off - 1) * 100);
    return 0;
}
