/* Reading topics back and waiting, for the pipeline tests (against the embedded broker). */
#ifndef MOOSE_TEST_PIPELINE_UTIL_H
#define MOOSE_TEST_PIPELINE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kafka.h"

/* One record read back: "KEY VALUE" (key "-" when there is none), and where it was. */
typedef struct util_record {
    char *text;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* its Kafka CreateTime; -1: none, or another kind */
} util_record;

typedef struct util_records {
    util_record *items;
    size_t len;
} util_records;

/*
 * Reads TOPIC from the beginning of every partition until WANT records were
 * seen or TIMEOUT_MS passed, then QUIET_MS more to catch any extra. Sorted
 * by text.
 */
util_records util_read_topic(moose__kafka *kafka, const char *topic, size_t want, int timeout_ms,
                             int quiet_ms);
void util_records_free(util_records *r);

/* The offset committed by GROUP for TOPIC/PARTITION (-1001: none). */
int64_t util_committed(moose__kafka *kafka, const char *group, const char *topic,
                       int32_t partition);
/* The high watermark of TOPIC/PARTITION. */
int64_t util_end_offset(moose__kafka *kafka, const char *topic, int32_t partition);

/* ---- processes of an app, as a shell starts them ---- */

/*
 * Starts ARGV (ARGV[0] a path) with stderr, and stdout unless STDOUT_FD, into
 * LOG_PATH (truncated); with STDOUT_FD, *STDOUT_FD reads its stdout. The
 * child's pid, or -1.
 */
pid_t util_spawn(const char *const argv[], const char *log_path, int *stdout_fd);
/* Sends PID SIGTERM and returns its exit status (128 + the signal if one ended it). */
int util_stop(pid_t pid);
/*
 * Starts `APP --log-level warn broker`, its log in LOG_PATH, and waits for the
 * address it prints into BOOTSTRAP; *OUT keeps its stdout open (fclose it
 * after stopping the broker). The pid, or -1 when the broker printed nothing.
 */
pid_t util_start_broker(const char *app, const char *log_path, FILE **out, char *bootstrap,
                        size_t size);

#endif
