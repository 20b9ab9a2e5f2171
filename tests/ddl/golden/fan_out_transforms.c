/*
 * The transforms of fan_out.moose: write each function's body.
 *
 * moosec wrote this file once and never overwrites it: it is yours. The
 * signatures must match the ones fan_out.moose.h declares; when the schema
 * changes, the compiler says which function no longer fits.
 */
#include <moose/transform.h>

#include "fan_out.moose.h"

/*
 * bill: orders (Order) -> invoices (Invoice), audits (Audit)
 *
 * Emit zero, one or many records, then return 0:
 *     {
 *         Invoice rec = Invoice_INIT;
 *         rec.id = in->id;
 *         rec.long_ = in->long_;
 *         rec.tags = in->tags;
 *         rec.has_tags = in->has_tags;
 *         rec.customer = in->customer;
 *         rec.total = in->total;
 *         rec.note = in->note;
 *         rec.has_note = in->has_note;
 *         rec.status = ...;
 *         int rc = bill_emit_invoices(out, &rec);
 *         if (rc != 0)
 *             return rc;
 *     }
 *     {
 *         Audit rec = Audit_INIT;
 *         rec.id = in->id;
 *         rec.message = ...;
 *         rec.at = ...;
 *         rec.has_at = true;
 *         int rc = bill_emit_audits(out, &rec);
 *         if (rc != 0)
 *             return rc;
 *     }
 * (rc != 0: the record failed its stream's validation; returning rc sends
 * the input to the dead letter queue with the reasons.)
 * Filter the record out: return 0 without emitting.
 * Fail (the input goes to the dead letter queue with the reason):
 *     return moose_transform_fail(out->ctx, "amount %f is negative", x);
 * Text or memory that must outlive a local variable:
 *     moose_transform_printf(out->ctx, ...), moose_transform_alloc(out->ctx, n).
 */
int bill(const Order *in, bill_out *out) {
    (void)in;
    return moose_transform_fail(out->ctx, "transform bill is not implemented");
}

/*
 * trace: invoices (Invoice) -> audits (Audit)
 *
 * Emit zero, one or many records, then return 0:
 *     Audit rec = Audit_INIT;
 *     rec.id = in->id;
 *     rec.message = ...;
 *     rec.at = ...;
 *     rec.has_at = true;
 *     int rc = trace_emit(out, &rec);
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
int trace(const Invoice *in, trace_out *out) {
    (void)in;
    return moose_transform_fail(out->ctx, "transform trace is not implemented");
}
