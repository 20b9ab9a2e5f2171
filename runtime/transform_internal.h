/*
 * The runtime side of one transform: the per-call context the user's
 * function writes into (transform.c), and the workers that feed it from
 * Kafka (transform_worker.c).
 */
#ifndef MOOSE__TRANSFORM_INTERNAL_H
#define MOOSE__TRANSFORM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moose/codec.h"
#include "moose/schema.h"
#include "moose/transform.h"

/* One emitted record, encoded in the context's buffer. */
typedef struct moose__output {
    uint32_t dest;
    size_t value_off, value_len;
    size_t key_off, key_len;
    bool has_key;
} moose__output;

/* Why a record went wrong, for the DLQ entry and the log. */
typedef enum moose__failure {
    MOOSE__FAIL_NONE = 0,
    MOOSE__FAIL_DECODE,    /* the input is not JSON of the source model: ValidationError */
    MOOSE__FAIL_INPUT,     /* the input failed the source model's validation: ValidationError */
    MOOSE__FAIL_TRANSFORM, /* the user's function failed: TransformError */
    MOOSE__FAIL_OUTPUT,    /* an emitted record failed its destination's validation: ValidationError */
} moose__failure;

struct moose_transform_ctx {
    const moose_transform_desc *desc;
    moose_arena arena; /* the decoded input and the user's allocations; reset per record */
    moose_buf out;     /* encoded outputs and their keys */
    moose__output *outputs;
    size_t noutputs, cap;
    /*
     * With KEEP_OUTPUTS, a record's outputs are added after those of the
     * records before it, which stay until moose__transform_drop_outputs: a
     * worker sends a whole batch's outputs at once. The last record's own
     * are outputs[first_output .. noutputs).
     */
    bool keep_outputs;
    size_t first_output;
    moose_errors errs;  /* field errors of a failed input or output */
    moose__failure failure;
    char reason[512];   /* a sentence for the DLQ and the log */
    int32_t partition;  /* of the input record */
    int64_t offset;
    size_t max_bytes;   /* input record size limit */
    unsigned max_depth; /* input nesting limit (0: the decoder's default) */
};

/* 0 or MOOSE_ENOMEM. */
int moose__transform_ctx_init(moose_transform_ctx *ctx, const moose_transform_desc *desc,
                              size_t max_bytes);
void moose__transform_ctx_free(moose_transform_ctx *ctx);

/*
 * Decodes and validates one input record of DESC's source stream, runs the
 * user's function and keeps what it emitted in ctx->outputs. Returns 0
 * (zero outputs: filtered), or a negative code with ctx->failure and
 * ctx->reason saying why (the input then belongs in the DLQ, and none of
 * its outputs are kept).
 */
int moose__transform_record(moose_transform_ctx *ctx, const void *value, size_t len,
                            int32_t partition, int64_t offset);

/* Forgets every output kept (see keep_outputs). */
void moose__transform_drop_outputs(moose_transform_ctx *ctx);

/* The DLQ error type name of a failure: "ValidationError" or "TransformError". */
bool moose__failure_is_validation(moose__failure f);

/* ---- keys (write_key.c) ---- */

/*
 * Appends REC's Key (text for String, decimal for integers, canonical text
 * for UUID) to OUT. Returns 1 when appended, 0 when MODEL has no Key, or
 * MOOSE_ENOMEM.
 */
int moose__key_append(const moose_model_desc *model, const void *rec, moose_buf *out);

/*
 * The Key of a record that did not decode, read from its JSON text (LEN
 * bytes) when that is an object whose Key field is a string (appended as is)
 * or an integer (in decimal), so a refused record is filed in the dead
 * letter queue under the key it was meant to have. Returns 1 when appended,
 * 0 when there is no such Key to read, or MOOSE_ENOMEM. A cold path: it
 * parses the whole text again with jansson.
 */
int moose__key_from_json(const moose_model_desc *model, const char *json, size_t len,
                         moose_buf *out);

#endif
