/*
 * A small schema written by hand the way moosec generates one (structs,
 * descriptors, codecs built on moose/json.h), so the engine's tests do not
 * depend on the generator:
 *
 *   model RawEvent       { id: Key<String>, data: String @length(1, 64) }
 *   model ProcessedEvent { id: Key<String>, value: Float64 @range(0, 1e9) }
 *   stream raw: RawEvent { parallelism: N }
 *   stream out: ProcessedEvent;  stream audit: ProcessedEvent
 *   transform T: raw -> out [, audit]
 */
#ifndef MOOSE_TEST_FIXTURE_H
#define MOOSE_TEST_FIXTURE_H

#include <stdio.h>

#include <moose/app.h>
#include <moose/schema.h>
#include <moose/transform.h>

typedef struct RawEvent {
    moose_str id;
    moose_str data;
} RawEvent;

typedef struct ProcessedEvent {
    moose_str id;
    double value;
} ProcessedEvent;

extern const moose_model_desc RawEvent_desc;
extern const moose_model_desc ProcessedEvent_desc;

/* The transforms under test. */
typedef enum fixture_transform {
    FIXTURE_TO_FLOAT, /* 1 -> 1: value = data as a number; fails when it is not one;
                         data "neg" emits -1, which fails the output's range */
    FIXTURE_SPLIT,    /* 1 -> 2: "<id>-1" with value, "<id>-2" with 2 * value */
    FIXTURE_FILTER,   /* keeps values above 100 */
    FIXTURE_FANOUT,   /* to out and to audit (value + 1) */
    FIXTURE_TAG,      /* 1 -> 1: value = data, id = "<id>@<partition>:<offset>" */
    FIXTURE_OWNER,    /* 1 -> 1: id = "<id> <partition> <offset> <pid>.<thread> <monotonic ns>",
                         who processed what and when, to check partition ownership */
} fixture_transform;

typedef struct fixture_app {
    moose_app_desc app;
    moose_stream_desc raw, out, audit;
    const moose_stream_desc *streams[3];
    const moose_stream_desc *dests[2];
    moose_transform_desc transform;
    const moose_transform_desc *transforms[1];
    const moose_model_desc *models[2];
    char names[4][128];
} fixture_app;

/*
 * Fills F: app NAME, topics "<NAME>-raw", "<NAME>-out", "<NAME>-audit";
 * RAW_PARTITIONS partitions on raw; WHICH transform.
 */
/* Sleeps MS milliseconds. */
void fixture_sleep_ms(int ms);
/* Everything written to LOG (a tmpfile) so far, as one string (caller frees); NULL on failure. */
char *fixture_read_log(FILE *log);

void fixture_app_init(fixture_app *f, const char *name, fixture_transform which,
                      int32_t raw_partitions);

#endif
