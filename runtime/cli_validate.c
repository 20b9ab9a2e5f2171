#include <string.h>

#include "cli.h"
#include "moose/error.h"

typedef struct validate_state {
    const moose__cli *cli;
    const moose_stream_desc *stream;
    moose_arena arena;
    moose_errors errs;
    size_t nvalid, ninvalid;
} validate_state;

static int validate_line(long lineno, const char *line, size_t len, void *opaque) {
    validate_state *v = opaque;
    moose_arena_reset(&v->arena);
    moose_errors_clear(&v->errs);
    void *rec;
    int rc = moose__cli_check_record(v->stream, line, len, v->cli->opts->cfg.max_depth, &v->arena,
                                     &v->errs, &rec);
    if (rc == 0) {
        v->nvalid++;
    } else {
        v->ninvalid++;
        moose__cli_print_errors(stdout, lineno, &v->errs, rc);
    }
    return 0;
}

int moose__cli_validate(const moose__cli *cli) {
    const moose_stream_desc *stream;
    const char *path;
    FILE *fp = moose__cli_stream_input(cli, &stream, &path);
    if (!fp)
        return MOOSE__EXIT_USAGE;

    validate_state v = {.cli = cli, .stream = stream};
    moose_arena_init(&v.arena);
    moose_errors_init(&v.errs);
    size_t too_long = 0;
    int status = moose__cli_each_line(cli, fp, path, stdout, validate_line, &v, &too_long);
    if (status == 0) {
        v.ninvalid += too_long;
        printf("%zu valid, %zu invalid\n", v.nvalid, v.ninvalid);
        status = v.ninvalid ? MOOSE__EXIT_FAILED : MOOSE__EXIT_OK;
    }
    if (fflush(stdout) != 0 && status == MOOSE__EXIT_OK)
        status = MOOSE__EXIT_USAGE;
    moose_errors_free(&v.errs);
    moose_arena_free(&v.arena);
    if (fp != stdin)
        fclose(fp);
    return status;
}
