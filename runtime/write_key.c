#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "moose/error.h"
#include "transform_internal.h"

static int append_text(moose_buf *out, const char *text, size_t len) {
    moose_buf_append(out, text, len);
    return out->failed ? MOOSE_ENOMEM : 1;
}

int moose__key_append(const moose_model_desc *model, const void *rec, moose_buf *out) {
    if (model->key_field < 0)
        return 0;
    const moose_field_desc *f = &model->fields[model->key_field];
    const char *p = (const char *)rec + f->offset;
    char text[48];
    int n;
    switch (f->type) {
    case MOOSE_TYPE_STRING: {
        const moose_str *s = (const moose_str *)(const void *)p;
        return append_text(out, s->ptr ? s->ptr : "", s->ptr ? s->len : 0);
    }
    case MOOSE_TYPE_INT8:
        n = snprintf(text, sizeof text, "%d", (int)*(const int8_t *)p);
        break;
    case MOOSE_TYPE_INT16:
        n = snprintf(text, sizeof text, "%d", (int)*(const int16_t *)(const void *)p);
        break;
    case MOOSE_TYPE_INT32:
        n = snprintf(text, sizeof text, "%" PRId32, *(const int32_t *)(const void *)p);
        break;
    case MOOSE_TYPE_INT64:
        n = snprintf(text, sizeof text, "%" PRId64, *(const int64_t *)(const void *)p);
        break;
    case MOOSE_TYPE_UINT8:
        n = snprintf(text, sizeof text, "%u", (unsigned)*(const uint8_t *)p);
        break;
    case MOOSE_TYPE_UINT16:
        n = snprintf(text, sizeof text, "%u", (unsigned)*(const uint16_t *)(const void *)p);
        break;
    case MOOSE_TYPE_UINT32:
        n = snprintf(text, sizeof text, "%" PRIu32, *(const uint32_t *)(const void *)p);
        break;
    case MOOSE_TYPE_UINT64:
        n = snprintf(text, sizeof text, "%" PRIu64, *(const uint64_t *)(const void *)p);
        break;
    case MOOSE_TYPE_UUID:
        n = (int)moose_uuid_format((const moose_uuid *)(const void *)p, text);
        break;
    default:
        /* The compiler only accepts String, integer and UUID keys. */
        return MOOSE_EINVAL;
    }
    return append_text(out, text, (size_t)n);
}

int moose__key_from_json(const moose_model_desc *model, const char *json, size_t len,
                         moose_buf *out) {
    if (model->key_field < 0 || json == NULL)
        return 0;
    const moose_field_desc *f = &model->fields[model->key_field];
    json_t *doc = json_loadb(json, len, 0, NULL);
    if (doc == NULL)
        return 0;
    int rc = 0;
    /* Field names are not NUL-terminated in every descriptor: look the key up by its length. */
    const char *name;
    json_t *value;
    json_object_foreach(doc, name, value) {
        if (strlen(name) != f->name_len || memcmp(name, f->name, f->name_len) != 0)
            continue;
        if (json_is_string(value)) {
            rc = append_text(out, json_string_value(value), json_string_length(value));
        } else if (json_is_integer(value)) {
            char text[32];
            int n = snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
            rc = append_text(out, text, (size_t)n);
        }
        break;
    }
    json_decref(doc);
    return rc;
}
