/* The seed's transform_record: the record's data, a number in text, parsed into value. */
#include <moose/codec.h>

#include "pipeline.moose.h"

int transform_record(const RawEvent *in, transform_record_out *out) {
    double v;
    const char *why;
    if (moose_float64_parse(in->data.ptr, in->data.len, &v, &why) != 0)
        return moose_transform_fail(out->ctx, "data '%s' is not a number: %s", in->data.ptr, why);
    ProcessedEvent rec = {.id = in->id, .value = v, .timestamp = in->timestamp};
    return transform_record_emit(out, &rec);
}
