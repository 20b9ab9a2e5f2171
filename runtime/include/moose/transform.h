/*
 * The runtime side of a transform call, used by the typed wrappers that
 * moosec generates (`<transform>_emit`, `<transform>_emit_<stream>`).
 *
 * A user's transform looks like:
 *
 *   int transform_record(const RawEvent *in, transform_record_out *out) {
 *       char *end;
 *       double v = strtod(in->data.ptr, &end);
 *       if (*end != '\0')
 *           return moose_transform_fail(out->ctx, "data '%s' is not a number", in->data.ptr);
 *       ProcessedEvent rec = ProcessedEvent_INIT;
 *       rec.id = in->id;
 *       rec.value = v;
 *       rec.timestamp = in->timestamp;
 *       return transform_record_emit(out, &rec);
 *   }
 *
 * Returning 0 without emitting filters the record out.
 */
#ifndef MOOSE_TRANSFORM_H
#define MOOSE_TRANSFORM_H

#include <stdint.h>

#include "moose/codec.h"
#include "moose/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Validates REC against destination DEST_INDEX's model, encodes it and queues
 * it; it is produced once the transform returns 0. REC is copied: it may live
 * on the caller's stack. Returns 0, or MOOSE_EVALIDATION (the input then goes
 * to the DLQ with the output's errors, and the transform's other outputs are
 * dropped).
 */
int moose_transform_emit(moose_transform_ctx *ctx, uint32_t dest_index, const void *rec);

/* Records why the transform failed; returns MOOSE_ETRANSFORM to be returned. */
int moose_transform_fail(moose_transform_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Text that lives until the transform call ends (in the call's arena). */
moose_str moose_transform_printf(moose_transform_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
moose_str moose_transform_strdup(moose_transform_ctx *ctx, const char *s, size_t len);

/* Memory that lives until the transform call ends; NULL when out of memory. */
void *moose_transform_alloc(moose_transform_ctx *ctx, size_t size);

/* Where the input record was read from: its partition and offset (-1 outside a call). */
int32_t moose_transform_partition(const moose_transform_ctx *ctx);
int64_t moose_transform_offset(const moose_transform_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
