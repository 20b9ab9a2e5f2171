#include "cli.h"

#include "linereader.h"
#include "moose/error.h"

bool moose__cli_blank(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

FILE *moose__cli_stream_input(const moose__cli *cli, const moose_stream_desc **stream,
                              const char **path) {
    *stream = moose__cli_stream(cli, cli->opts->args[0]);
    if (!*stream)
        return NULL;
    *path = cli->opts->nargs > 1 ? cli->opts->args[1] : "-";
    return moose__cli_open_input(cli, *path);
}

int moose__cli_each_line(const moose__cli *cli, FILE *fp, const char *path, FILE *out,
                         moose__cli_line_fn each, void *opaque, size_t *too_long) {
    moose__linereader lr;
    if (moose__linereader_init(&lr, fp, cli->opts->cfg.max_record_bytes) != 0) {
        fprintf(stderr, "%s: out of memory reading '%s'\n", cli->prog, path);
        return MOOSE__EXIT_USAGE;
    }
    int stop = 0;
    while (stop == 0) {
        char *line;
        size_t len;
        int rc = moose__linereader_next(&lr, &line, &len);
        if (rc == 0)
            break;
        if (rc == MOOSE_ETOOBIG) {
            fprintf(out, "%ld: error: record is longer than the limit of %zu bytes\n", lr.lineno,
                    lr.max);
            (*too_long)++;
        } else if (rc < 0) {
            fprintf(stderr, "%s: reading '%s' after line %ld: %s\n", cli->prog, path, lr.lineno,
                    moose_strerror(rc));
            stop = MOOSE__EXIT_USAGE;
        } else if (!moose__cli_blank(line, len)) {
            stop = each(lr.lineno, line, len, opaque);
        }
    }
    moose__linereader_free(&lr);
    return stop;
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
