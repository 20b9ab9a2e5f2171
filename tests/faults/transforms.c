/*
 * deliver: what the fault and crash tests run. The amount decides each
 * record's fate, so the test knows what every stage must count:
 *   amount % 10 == 9   filtered (no output)
 *   amount % 10 == 8   fails (the order goes to the dead letter queue)
 *   otherwise          one delivery with the same id, doubled = 2 * amount
 */
#include <moose/transform.h>

#include "faults.moose.h"

int deliver(const Order *in, deliver_out *out) {
    if (in->amount % 10 == 9)
        return 0;
    if (in->amount % 10 == 8)
        return moose_transform_fail(out->ctx, "amount %lld is refused on purpose",
                                    (long long)in->amount);
    Delivery rec = Delivery_INIT;
    rec.id = in->id;
    rec.amount = in->amount;
    rec.doubled = 2 * in->amount;
    return deliver_emit(out, &rec);
}
