/*
 * The transforms of raw_to_processed.moose: write each function's body.
 *
 * moosec wrote this file once and never overwrites it: it is yours. The
 * signatures must match the ones raw_to_processed.moose.h declares; when the schema
 * changes, the compiler says which function no longer fits.
 */
#include <moose/transform.h>

#include "raw_to_processed.moose.h"

/*
 * transform_record: raw_stream (RawEvent) -> processed_stream (ProcessedEvent)
 *
 * Emit zero, one or many records, then return 0:
 *     ProcessedEvent rec = ProcessedEvent_INIT;
 *     rec.id = in->id;
 *     rec.value = ...;
 *     rec.timestamp = in->timestamp;
 *     int rc = transform_record_emit(out, &rec);
 *     if (rc != 0)
 *         return rc;
 * (rc != 0: the record failed its stream's validation; returning rc sends
 * the input to the dead letter queue with the reasons.)
 * Filter the record out: return 0 without emitting.
 * Fail (the input goes to the dead letter queue with the reason):
 *     return moose_transform_fail(out->ctx, "amount %f is negative", x);
 * Text or memory that must outlive a local variable:
 *     moose_transform_printf(out->ctx, ...), moose_transform_alloc(out->ctx, n).
 */
int transform_record(const RawEvent *in, transform_record_out *out) {
    (void)in;
    return moose_transform_fail(out->ctx, "transform transform_record is not implemented");
}
