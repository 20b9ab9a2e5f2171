#include "cli.h"

#include "moose/error.h"

bool moose__cli_blank(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

int moose__cli_check_record(const moose_stream_desc *stream, const char *line, size_t len,
                            unsigned max_depth, moose_arena *arena, moose_errors *errs,
                            void **rec) {
    const moose_model_desc *model = stream->model;
    *rec = NULL;
    void *r = moose_arena_alloc(arena, model->size, model->align);
    if (!r) {
        moose_errors_add(errs, "", "memory", -1, "out of memory decoding the record");
        return MOOSE_ENOMEM;
    }
    model->init(r);
    moose_decode_options dopts = {
        .allow_extra_fields = stream->allow_extra_fields,
        .max_bytes = len + 1, /* the line reader already enforced the limit */
        .max_depth = max_depth,
    };
    int rc = model->decode(r, line, len, arena, &dopts, errs);
    if (rc != 0)
        return rc;
    *rec = r;
    return model->validate(r, errs);
}

void moose__cli_print_errors(FILE *out, long lineno, const moose_errors *errs, int code) {
    for (size_t i = 0; i < errs->len; i++) {
        const moose_field_error *e = &errs->items[i];
        if (e->path[0])
            fprintf(out, "%ld: error: %s: %s\n", lineno, e->path, e->message);
        else
            fprintf(out, "%ld: error: %s\n", lineno, e->message);
    }
    if (errs->dropped)
        fprintf(out, "%ld: error: %zu more error%s not shown\n", lineno, errs->dropped,
                errs->dropped == 1 ? "" : "s");
    if (errs->len == 0 && !errs->dropped)
        fprintf(out, "%ld: error: %s\n", lineno, moose_strerror(code));
}
