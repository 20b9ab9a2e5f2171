/* Reading topics back and waiting, for the pipeline tests (against the embedded broker). */
#ifndef MOOSE_TEST_PIPELINE_UTIL_H
#define MOOSE_TEST_PIPELINE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "kafka.h"

/* One record read back: "KEY VALUE" (key "-" when there is none), and where it was. */
typedef struct util_record {
    char *text;
    int32_t partition;
    int64_t offset;
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

#endif
