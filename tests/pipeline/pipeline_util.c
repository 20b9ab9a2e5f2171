#include "pipeline_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static rd_kafka_t *reader(moose__kafka *kafka, const char *group) {
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_conf(kafka, err, sizeof err);
    if (!conf) {
        fprintf(stderr, "reader conf: %s\n", err);
        abort();
    }
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "reader: %s\n", err);
        abort();
    }
    return rk;
}

static int by_text(const void *a, const void *b) {
    return strcmp(((const util_record *)a)->text, ((const util_record *)b)->text);
}

util_records util_read_topic(moose__kafka *kafka, const char *topic, size_t want, int timeout_ms,
                             int quiet_ms) {
    char err[512];
    int n = moose__kafka_partition_count(kafka, topic, err, sizeof err);
    util_records out = {0};
    if (n <= 0) {
        fprintf(stderr, "partition count of %s: %s\n", topic, err);
        return out;
    }
    rd_kafka_t *rk = reader(kafka, "moose.test.reader");
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    size_t cap = 0;
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    bool quiet = false;
    for (;;) {
        uint64_t t = now_ms();
        if (t > deadline) {
            if (quiet || out.len < want)
                break;
        }
        if (!quiet && out.len >= want) {
            quiet = true;
            deadline = t + (uint64_t)quiet_ms;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (!m)
            continue;
        if (!m->err) {
            if (out.len == cap) {
                cap = cap ? cap * 2 : 64;
                out.items = realloc(out.items, cap * sizeof *out.items);
            }
            size_t sz = m->len + m->key_len + 4;
            char *text = malloc(sz);
            snprintf(text, sz, "%.*s %.*s", m->key ? (int)m->key_len : 1,
                     m->key ? (const char *)m->key : "-", (int)m->len, (const char *)m->payload);
            rd_kafka_timestamp_type_t kind;
            int64_t ts = rd_kafka_message_timestamp(m, &kind);
            out.items[out.len++] = (util_record){text, m->partition, m->offset,
                                                 kind == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ts : -1};
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (out.len)
        qsort(out.items, out.len, sizeof *out.items, by_text);
    return out;
}

void util_records_free(util_records *r) {
    for (size_t i = 0; i < r->len; i++)
        free(r->items[i].text);
    free(r->items);
    r->items = NULL;
    r->len = 0;
}

int64_t util_committed(moose__kafka *kafka, const char *group, const char *topic,
                       int32_t partition) {
    rd_kafka_t *rk = reader(kafka, group);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, partition);
    int64_t off = -1;
    if (rd_kafka_committed(rk, parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        off = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return off;
}

int64_t util_end_offset(moose__kafka *kafka, const char *topic, int32_t partition) {
    rd_kafka_t *rk = reader(kafka, "moose.test.watermarks");
    int64_t low = 0, high = -1;
    rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, 10000);
    rd_kafka_destroy(rk);
    return high;
}

/* ---- processes ---- */

pid_t util_spawn(const char *const argv[], const char *log_path, int *stdout_fd) {
    int pipefd[2] = {-1, -1};
    if (stdout_fd && pipe(pipefd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log < 0)
            _exit(127);
        dup2(log, 2);
        dup2(stdout_fd ? pipefd[1] : log, 1);
        if (stdout_fd)
            close(pipefd[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (stdout_fd) {
        close(pipefd[1]);
        *stdout_fd = pipefd[0];
    }
    return pid;
}

int util_stop(pid_t pid) {
    kill(pid, SIGTERM);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

pid_t util_start_broker(const char *app, const char *log_path, FILE **out, char *bootstrap,
                        size_t size) {
    const char *argv[] = {app, "--log-level", "warn", "broker", NULL};
    int fd;
    pid_t pid = util_spawn(argv, log_path, &fd);
    if (pid < 0)
        return -1;
    *out = fdopen(fd, "r");
    bootstrap[0] = '\0';
    if (!*out || !fgets(bootstrap, (int)size, *out)) {
        util_stop(pid);
        return -1;
    }
    return pid;
}
