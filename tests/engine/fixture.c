#include "fixture.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <moose/codec.h>
#include <moose/error.h>
#include <moose/json.h>

/* ---- RawEvent ---- */

static void RawEvent_init(void *rec) {
    memset(rec, 0, sizeof(RawEvent));
}

static int read_field_str(moose_json_reader *r, const char *name, moose_str *out) {
    moose_path p = {r->path, name, 0};
    const moose_path *saved = r->path;
    r->path = &p;
    int rc = moose_json_null(r) ? moose_json_null_not_allowed(r) : moose_json_read_str(r, out);
    r->path = saved;
    return rc;
}

static int read_field_f64(moose_json_reader *r, const char *name, double *out) {
    moose_path p = {r->path, name, 0};
    const moose_path *saved = r->path;
    r->path = &p;
    int rc = moose_json_null(r) ? moose_json_null_not_allowed(r) : moose_json_read_f64(r, out);
    r->path = saved;
    return rc;
}

static int RawEvent_decode(void *rec, const char *json, size_t len, moose_arena *arena,
                           const moose_decode_options *opts, moose_errors *errs) {
    RawEvent *e = rec;
    moose_json_reader r;
    int rc = moose_json_start(&r, json, len, arena, opts, errs);
    if (rc)
        return rc;
    moose_json_ws(&r);
    const char *at = r.p;
    if ((rc = moose_json_object_begin(&r)))
        return rc;
    bool first = true, has_id = false, has_data = false;
    const char *key;
    size_t klen;
    while ((rc = moose_json_object_next(&r, &first, &key, &klen)) == 1) {
        if (klen == 2 && memcmp(key, "id", 2) == 0) {
            if (has_id && (rc = moose_json_duplicate_field(&r, key, klen)))
                return rc;
            if ((rc = read_field_str(&r, "id", &e->id)))
                return rc;
            has_id = true;
        } else if (klen == 4 && memcmp(key, "data", 4) == 0) {
            if (has_data && (rc = moose_json_duplicate_field(&r, key, klen)))
                return rc;
            if ((rc = read_field_str(&r, "data", &e->data)))
                return rc;
            has_data = true;
        } else if ((rc = moose_json_unknown_field(&r, key, klen))) {
            return rc;
        }
    }
    if (rc < 0)
        return rc;
    if (!has_id)
        moose_json_missing_field(&r, at, "id");
    if (!has_data)
        moose_json_missing_field(&r, at, "data");
    if (!has_id || !has_data)
        return MOOSE_EDECODE;
    return moose_json_finish(&r);
}

static int RawEvent_validate(const void *rec, moose_errors *errs) {
    const RawEvent *e = rec;
    int64_t n = moose_utf8_length(e->data.ptr ? e->data.ptr : "", e->data.len);
    if (n < 1 || n > 64) {
        moose_errors_add(errs, "data", "length", -1, "length %lld is outside [1, 64]",
                         (long long)n);
        return MOOSE_EVALIDATION;
    }
    return 0;
}

static int RawEvent_encode(const void *rec, moose_buf *out) {
    const RawEvent *e = rec;
    moose_json_put(out, "{\"id\":", 6);
    moose_json_write_str(out, e->id);
    moose_json_put(out, ",\"data\":", 8);
    moose_json_write_str(out, e->data);
    moose_json_put(out, "}", 1);
    return out->failed ? MOOSE_ENOMEM : 0;
}

static const moose_field_desc RawEvent_fields[] = {
    {.name = "id",
     .name_len = 2,
     .type = MOOSE_TYPE_STRING,
     .flags = MOOSE_FIELD_KEY,
     .offset = offsetof(RawEvent, id),
     .elem_size = sizeof(moose_str)},
    {.name = "data",
     .name_len = 4,
     .type = MOOSE_TYPE_STRING,
     .flags = MOOSE_FIELD_HAS_LENGTH,
     .offset = offsetof(RawEvent, data),
     .elem_size = sizeof(moose_str),
     .length_min = 1,
     .length_max = 64},
};

const moose_model_desc RawEvent_desc = {
    .name = "RawEvent",
    .size = sizeof(RawEvent),
    .align = _Alignof(RawEvent),
    .fields = RawEvent_fields,
    .nfields = 2,
    .key_field = 0,
    .init = RawEvent_init,
    .decode = RawEvent_decode,
    .validate = RawEvent_validate,
    .encode = RawEvent_encode,
};

/* ---- ProcessedEvent ---- */

static void ProcessedEvent_init(void *rec) {
    memset(rec, 0, sizeof(ProcessedEvent));
}

static int ProcessedEvent_decode(void *rec, const char *json, size_t len, moose_arena *arena,
                                 const moose_decode_options *opts, moose_errors *errs) {
    ProcessedEvent *e = rec;
    moose_json_reader r;
    int rc = moose_json_start(&r, json, len, arena, opts, errs);
    if (rc)
        return rc;
    moose_json_ws(&r);
    const char *at = r.p;
    if ((rc = moose_json_object_begin(&r)))
        return rc;
    bool first = true, has_id = false, has_value = false;
    const char *key;
    size_t klen;
    while ((rc = moose_json_object_next(&r, &first, &key, &klen)) == 1) {
        if (klen == 2 && memcmp(key, "id", 2) == 0) {
            if ((rc = read_field_str(&r, "id", &e->id)))
                return rc;
            has_id = true;
        } else if (klen == 5 && memcmp(key, "value", 5) == 0) {
            if ((rc = read_field_f64(&r, "value", &e->value)))
                return rc;
            has_value = true;
        } else if ((rc = moose_json_unknown_field(&r, key, klen))) {
            return rc;
        }
    }
    if (rc < 0)
        return rc;
    if (!has_id)
        moose_json_missing_field(&r, at, "id");
    if (!has_value)
        moose_json_missing_field(&r, at, "value");
    if (!has_id || !has_value)
        return MOOSE_EDECODE;
    return moose_json_finish(&r);
}

static int ProcessedEvent_validate(const void *rec, moose_errors *errs) {
    const ProcessedEvent *e = rec;
    if (!(e->value >= 0 && e->value <= 1e9)) {
        moose_errors_add(errs, "value", "range", -1, "%g is outside [0, 1e+09]", e->value);
        return MOOSE_EVALIDATION;
    }
    return 0;
}

static int ProcessedEvent_encode(const void *rec, moose_buf *out) {
    const ProcessedEvent *e = rec;
    moose_json_put(out, "{\"id\":", 6);
    moose_json_write_str(out, e->id);
    moose_json_put(out, ",\"value\":", 9);
    if (moose_json_write_f64(out, e->value) != 0)
        return MOOSE_EINVAL;
    moose_json_put(out, "}", 1);
    return out->failed ? MOOSE_ENOMEM : 0;
}

static const moose_field_desc ProcessedEvent_fields[] = {
    {.name = "id",
     .name_len = 2,
     .type = MOOSE_TYPE_STRING,
     .flags = MOOSE_FIELD_KEY,
     .offset = offsetof(ProcessedEvent, id),
     .elem_size = sizeof(moose_str)},
    {.name = "value",
     .name_len = 5,
     .type = MOOSE_TYPE_FLOAT64,
     .flags = MOOSE_FIELD_HAS_RANGE,
     .offset = offsetof(ProcessedEvent, value),
     .elem_size = sizeof(double),
     .range_min = 0,
     .range_max = 1e9},
};

const moose_model_desc ProcessedEvent_desc = {
    .name = "ProcessedEvent",
    .size = sizeof(ProcessedEvent),
    .align = _Alignof(ProcessedEvent),
    .fields = ProcessedEvent_fields,
    .nfields = 2,
    .key_field = 0,
    .init = ProcessedEvent_init,
    .decode = ProcessedEvent_decode,
    .validate = ProcessedEvent_validate,
    .encode = ProcessedEvent_encode,
};

/* ---- transforms ---- */

/* data as a number, or a failure that says why. */
static int parse_value(const RawEvent *in, moose_transform_ctx *ctx, double *v) {
    char *end;
    *v = strtod(in->data.ptr, &end);
    if (end == in->data.ptr || *end != '\0')
        return moose_transform_fail(ctx, "data '%s' is not a number", in->data.ptr);
    return 0;
}

static int to_float(const void *rec, moose_transform_ctx *ctx) {
    const RawEvent *in = rec;
    ProcessedEvent out = {.id = in->id};
    if (strcmp(in->data.ptr, "neg") == 0) {
        out.value = -1;
        return moose_transform_emit(ctx, 0, &out);
    }
    int rc = parse_value(in, ctx, &out.value);
    return rc ? rc : moose_transform_emit(ctx, 0, &out);
}

static int split(const void *rec, moose_transform_ctx *ctx) {
    const RawEvent *in = rec;
    double v;
    int rc = parse_value(in, ctx, &v);
    if (rc)
        return rc;
    ProcessedEvent a = {moose_transform_printf(ctx, "%s-1", in->id.ptr), v};
    ProcessedEvent b = {moose_transform_printf(ctx, "%s-2", in->id.ptr), 2 * v};
    if ((rc = moose_transform_emit(ctx, 0, &a)))
        return rc;
    return moose_transform_emit(ctx, 0, &b);
}

static int filter(const void *rec, moose_transform_ctx *ctx) {
    const RawEvent *in = rec;
    ProcessedEvent out = {.id = in->id};
    int rc = parse_value(in, ctx, &out.value);
    if (rc)
        return rc;
    return out.value > 100 ? moose_transform_emit(ctx, 0, &out) : 0;
}

static int fanout(const void *rec, moose_transform_ctx *ctx) {
    const RawEvent *in = rec;
    ProcessedEvent out = {.id = in->id};
    int rc = parse_value(in, ctx, &out.value);
    if (rc || (rc = moose_transform_emit(ctx, 0, &out)))
        return rc;
    out.value += 1;
    return moose_transform_emit(ctx, 1, &out);
}

static int tag(const void *rec, moose_transform_ctx *ctx) {
    const RawEvent *in = rec;
    ProcessedEvent out;
    int rc = parse_value(in, ctx, &out.value);
    if (rc)
        return rc;
    out.id =
        moose_transform_printf(ctx, "%s@%d:%lld", in->id.ptr, (int)moose_transform_partition(ctx),
                               (long long)moose_transform_offset(ctx));
    return moose_transform_emit(ctx, 0, &out);
}

static int owner(const void *rec, moose_transform_ctx *ctx) {
    const RawEvent *in = rec;
    ProcessedEvent out;
    int rc = parse_value(in, ctx, &out.value);
    if (rc)
        return rc;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    out.id = moose_transform_printf(
        ctx, "%s %d %lld %ld.%lu %lld", in->id.ptr, (int)moose_transform_partition(ctx),
        (long long)moose_transform_offset(ctx), (long)getpid(), (unsigned long)pthread_self(),
        (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    return moose_transform_emit(ctx, 0, &out);
}

void fixture_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *fixture_read_log(FILE *log) {
    fflush(log);
    long size = ftell(log);
    char *text = size >= 0 ? calloc(1, (size_t)size + 1) : NULL;
    if (!text)
        return NULL;
    rewind(log);
    if (fread(text, 1, (size_t)size, log) != (size_t)size) {
        free(text);
        text = NULL;
    }
    fseek(log, 0, SEEK_END);
    return text;
}

void fixture_app_init(fixture_app *f, const char *name, fixture_transform which,
                      int32_t raw_partitions) {
    static const char *const tnames[] = {"to_float", "split", "filter", "fanout", "tag", "owner"};
    static const moose_transform_fn fns[] = {to_float, split, filter, fanout, tag, owner};
    memset(f, 0, sizeof *f);
    snprintf(f->names[0], sizeof f->names[0], "%s-raw", name);
    snprintf(f->names[1], sizeof f->names[1], "%s-out", name);
    snprintf(f->names[2], sizeof f->names[2], "%s-audit", name);
    snprintf(f->names[3], sizeof f->names[3], "%s", name);
    f->raw = (moose_stream_desc){.name = "raw",
                                 .topic = f->names[0],
                                 .model = &RawEvent_desc,
                                 .parallelism = raw_partitions};
    f->out = (moose_stream_desc){
        .name = "out", .topic = f->names[1], .model = &ProcessedEvent_desc, .parallelism = 1};
    f->audit = (moose_stream_desc){
        .name = "audit", .topic = f->names[2], .model = &ProcessedEvent_desc, .parallelism = 1};
    f->streams[0] = &f->raw;
    f->streams[1] = &f->out;
    f->streams[2] = &f->audit;
    f->dests[0] = &f->out;
    f->dests[1] = &f->audit;
    f->transform = (moose_transform_desc){.name = tnames[which],
                                          .source = &f->raw,
                                          .destinations = f->dests,
                                          .ndestinations = which == FIXTURE_FANOUT ? 2 : 1,
                                          .fn = fns[which]};
    f->transforms[0] = &f->transform;
    f->models[0] = &RawEvent_desc;
    f->models[1] = &ProcessedEvent_desc;
    f->app = (moose_app_desc){.abi_version = MOOSE_ABI_VERSION,
                              .name = f->names[3],
                              .models = f->models,
                              .nmodels = 2,
                              .streams = f->streams,
                              .nstreams = 3,
                              .transforms = f->transforms,
                              .ntransforms = 1};
}
