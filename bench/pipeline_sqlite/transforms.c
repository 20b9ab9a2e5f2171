/* The seed's transform_record: the record's data, a number in text, parsed into value. */
#include <stdlib.h>

#include "pipeline_sqlite.moose.h"

int transform_record(const RawEvent *in, transform_record_out *out) {
    char *end;
    double v = strtod(in->data.ptr, &end);
    if (end == in->data.ptr || *end != '\0')
        return moose_transform_fail(out->ctx, "data '%s' is not a number", in->data.ptr);
    ProcessedEvent rec = ProcessedEvent_INIT;
    rec.id = in->id;
    rec.value = v;
    rec.timestamp = in->timestamp;
    return transform_record_emit(out, &rec);
}
