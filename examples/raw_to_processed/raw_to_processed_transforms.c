/*
 * The transforms of raw_to_processed.moose, the three of the original
 * description, written into the stubs `moosec stubs` made.
 *
 * moosec wrote this file once and never overwrites it: it is yours. The
 * signatures must match the ones raw_to_processed.moose.h declares; when the schema
 * changes, the compiler says which function no longer fits.
 */

#include <moose/codec.h>
#include <moose/transform.h>

#include "raw_to_processed.moose.h"

/*
 * float(data) of the original: the whole text must be one finite decimal
 * number (spaces around it allowed). moose_float64_parse reads it in the
 * "C" number format whatever the program's locale, and refuses what float()
 * refuses (and "inf" and "nan", which no JSON can carry), where strtod()
 * would take "0x1A" or stop at a comma. A failure names the record's text,
 * so the dead letter queue says exactly what was wrong. 0, or the code to
 * return.
 */
static int parse_data(const RawEvent *in, moose_transform_ctx *ctx, double *value) {
    const char *why;
    if (moose_float64_parse(in->data.ptr, in->data.len, value, &why) != 0)
        return moose_transform_fail(ctx, "data '%s' is not a number: %s", in->data.ptr, why);
    return 0;
}

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
    double value;
    int rc = parse_data(in, out->ctx, &value);
    if (rc != 0)
        return rc;
    ProcessedEvent rec = ProcessedEvent_INIT;
    rec.id = in->id;
    rec.value = value;
    rec.timestamp = in->timestamp;
    return transform_record_emit(out, &rec);
}

/*
 * transform_multiple: raw_stream (RawEvent) -> multiplied_stream (ProcessedEvent)
 *
 * Emit zero, one or many records, then return 0:
 *     ProcessedEvent rec = ProcessedEvent_INIT;
 *     rec.id = in->id;
 *     rec.value = ...;
 *     rec.timestamp = in->timestamp;
 *     int rc = transform_multiple_emit(out, &rec);
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
int transform_multiple(const RawEvent *in, transform_multiple_out *out) {
    double value;
    int rc = parse_data(in, out->ctx, &value);
    if (rc != 0)
        return rc;
    /* Each output needs a Key of its own, or the table would keep only one of them. */
    static const struct {
        const char *suffix;
        double factor;
    } outputs[] = {{"1", 2.0}, {"2", 3.0}};
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        ProcessedEvent rec = ProcessedEvent_INIT;
        rec.id = moose_transform_printf(out->ctx, "%s-%s", in->id.ptr, outputs[i].suffix);
        if (!rec.id.ptr)
            return moose_transform_fail(out->ctx, "out of memory for the key %s-%s", in->id.ptr,
                                        outputs[i].suffix);
        rec.value = value * outputs[i].factor;
        rec.timestamp = in->timestamp;
        rc = transform_multiple_emit(out, &rec);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/*
 * transform_filter: raw_stream (RawEvent) -> filtered_stream (ProcessedEvent)
 *
 * Emit zero, one or many records, then return 0:
 *     ProcessedEvent rec = ProcessedEvent_INIT;
 *     rec.id = in->id;
 *     rec.value = ...;
 *     rec.timestamp = in->timestamp;
 *     int rc = transform_filter_emit(out, &rec);
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
int transform_filter(const RawEvent *in, transform_filter_out *out) {
    double value;
    int rc = parse_data(in, out->ctx, &value);
    if (rc != 0)
        return rc;
    if (!(value > 100))
        return 0; /* filtered out: nothing emitted, nothing in the dead letter queue */
    ProcessedEvent rec = ProcessedEvent_INIT;
    rec.id = in->id;
    rec.value = value;
    rec.timestamp = in->timestamp;
    return transform_filter_emit(out, &rec);
}
