/*
 * The dead letter queue: a topic per stream (`<topic>.dlq`, see
 * moose__dlq_topic_name in kafka.h) whose records are JSON envelopes:
 *
 *   {"error_type":"ValidationError","source":"write","message":"...",
 *    "errors":[{"path":"amount","rule":"range","message":"..."}],
 *    "topic":"raw-stream","partition":-1,"offset":-1,"time":"2026-11-27T15:40:01.123Z",
 *    "transform":null,"key":"a1","original":"{...}"}
 *
 * `original` is the record's bytes as a JSON string when they are valid
 * UTF-8; otherwise `original_base64` holds them base64-encoded (and
 * `original` is absent). `key` and `key_base64` work the same way. An entry
 * is keyed by the original record's key, so entries of a key keep their order.
 */
#ifndef MOOSE__DLQ_H
#define MOOSE__DLQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka.h"
#include "moose/codec.h"

typedef enum moose__dlq_error_type {
    MOOSE__DLQ_VALIDATION_ERROR = 0, /* "ValidationError" */
    MOOSE__DLQ_TRANSFORM_ERROR,      /* "TransformError" */
    MOOSE__DLQ_DELIVERY_ERROR,       /* "DeliveryError" */
    MOOSE__DLQ_TABLE_ERROR,          /* "TableError" */
} moose__dlq_error_type;

typedef enum moose__dlq_source {
    MOOSE__DLQ_FROM_WRITE = 0, /* "write" */
    MOOSE__DLQ_FROM_TRANSFORM, /* "transform" */
    MOOSE__DLQ_FROM_TABLE,     /* "table" */
} moose__dlq_source;

const char *moose__dlq_error_type_name(moose__dlq_error_type type);
const char *moose__dlq_source_name(moose__dlq_source source);
/* 0 and *OUT for a known name, -1 otherwise. */
int moose__dlq_error_type_parse(const char *name, moose__dlq_error_type *out);
int moose__dlq_source_parse(const char *name, moose__dlq_source *out);

/* What goes into an envelope; nothing here is owned. */
typedef struct moose__dlq_entry {
    moose__dlq_error_type type;
    moose__dlq_source source;
    const char *message;        /* a sentence for a person */
    const moose_errors *errors; /* failing field paths and rules; may be NULL */
    const char *topic;          /* where the record was (or was to be) written */
    int32_t partition;          /* -1 when it never reached a topic (write) */
    int64_t offset;             /* -1 likewise */
    int64_t time_ms;            /* when it failed; 0: now */
    const char *transform;      /* the transform's name, or NULL */
    const void *key;            /* the original key, or NULL */
    size_t key_len;
    const void *original; /* the original record's bytes */
    size_t original_len;
} moose__dlq_entry;

/* Appends the envelope's JSON to OUT. 0, MOOSE_ENOMEM or MOOSE_EINVAL. */
int moose__dlq_encode(const moose__dlq_entry *entry, moose_buf *out);

/* A decoded envelope; every pointer is owned by it (moose__dlq_record_free). */
typedef struct moose__dlq_record {
    moose__dlq_error_type type;
    moose__dlq_source source;
    char *message;
    moose_field_error *errors; /* paths, rules (static strings or "other") and messages */
    size_t nerrors;
    char *topic;
    int32_t partition;
    int64_t offset;
    int64_t time_ms;
    char *transform; /* or NULL */
    char *key;       /* raw bytes, NUL-terminated for convenience; NULL: no key */
    size_t key_len;
    char *original; /* raw bytes, NUL-terminated for convenience */
    size_t original_len;
    /* Where the envelope itself was read from (set by moose__dlq_read). */
    int32_t dlq_partition;
    int64_t dlq_offset;
} moose__dlq_record;

/* Parses an envelope. 0, or MOOSE_EDECODE with ERRSTR naming what is wrong. */
int moose__dlq_decode(const void *json, size_t len, moose__dlq_record *out, char *errstr,
                      size_t errstr_size);
void moose__dlq_record_free(moose__dlq_record *rec);

/*
 * Encodes ENTRY and produces it to `<entry->topic>.dlq` keyed by the
 * original key. SYNC waits for the acknowledgement (otherwise CB reports it,
 * and may be NULL). Returns 0 or a negative code with ERRSTR filled.
 */
int moose__dlq_send(moose__producer *p, const moose__dlq_entry *entry, bool sync,
                    moose__delivery_cb cb, void *opaque, char *errstr, size_t errstr_size);

/*
 * Reads every envelope now in `<topic>.dlq`, from the oldest to the end as
 * it was when called, without a consumer group (nothing is committed), and
 * calls CB for each in partition order; a CB returning non-zero stops the
 * read. An envelope that cannot be decoded is logged and skipped (counted in
 * *UNREADABLE, may be NULL). Returns how many envelopes were passed to CB, or
 * a negative code with ERRSTR filled.
 */
typedef int (*moose__dlq_read_cb)(const moose__dlq_record *rec, void *opaque);
int64_t moose__dlq_read(moose__kafka *kafka, const char *topic, moose__dlq_read_cb cb, void *opaque,
                        size_t *unreadable, char *errstr, size_t errstr_size);

/*
 * Replays `<topic>.dlq`: each entry's original bytes go back onto its
 * original topic with the original key (through P, synchronously), so the
 * record runs through validation and transforms again. Progress is kept in
 * the consumer group "<topic>.dlq.replay": each entry is replayed once, and
 * a second replay only sends entries added since. Returns how many were
 * replayed, or a negative code with ERRSTR filled.
 */
int64_t moose__dlq_replay(moose__kafka *kafka, moose__producer *p, const char *topic, char *errstr,
                          size_t errstr_size);

#endif
