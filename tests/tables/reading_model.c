#include "reading_model.h"

#include <stddef.h>
#include <string.h>

#include "moose/codec.h"
#include "moose/error.h"
#include "moose/json.h"

static void Reading_init(void *rec) {
    memset(rec, 0, sizeof(Reading));
}

static int read_named(moose_json_reader *r, const char *name, Reading *e, bool is_id) {
    moose_path p = {r->path, name, 0};
    const moose_path *saved = r->path;
    r->path = &p;
    int rc = moose_json_null(r) ? moose_json_null_not_allowed(r)
             : is_id            ? moose_json_read_str(r, &e->id)
                                : moose_json_read_f64(r, &e->value);
    r->path = saved;
    return rc;
}

static int Reading_decode(void *rec, const char *json, size_t len, moose_arena *arena,
                          const moose_decode_options *opts, moose_errors *errs) {
    Reading *e = rec;
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
            if ((rc = read_named(&r, "id", e, true)))
                return rc;
            has_id = true;
        } else if (klen == 5 && memcmp(key, "value", 5) == 0) {
            if ((rc = read_named(&r, "value", e, false)))
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

static int Reading_encode(const void *rec, moose_buf *out) {
    const Reading *e = rec;
    moose_json_put(out, "{\"id\":", 6);
    moose_json_write_str(out, e->id);
    moose_json_put(out, ",\"value\":", 9);
    if (moose_json_write_f64(out, e->value) != 0)
        return MOOSE_EINVAL;
    moose_json_put(out, "}", 1);
    return out->failed ? MOOSE_ENOMEM : 0;
}

static const moose_field_desc Reading_fields[] = {
    {.name = "id",
     .name_len = 2,
     .type = MOOSE_TYPE_STRING,
     .flags = MOOSE_FIELD_KEY,
     .offset = offsetof(Reading, id),
     .elem_size = sizeof(moose_str)},
    {.name = "value",
     .name_len = 5,
     .type = MOOSE_TYPE_FLOAT64,
     .offset = offsetof(Reading, value),
     .elem_size = sizeof(double)},
};

const moose_model_desc Reading_desc = {
    .name = "Reading",
    .size = sizeof(Reading),
    .align = _Alignof(Reading),
    .fields = Reading_fields,
    .nfields = 2,
    .key_field = 0,
    .init = Reading_init,
    .decode = Reading_decode,
    .validate = NULL,
    .encode = Reading_encode,
};
