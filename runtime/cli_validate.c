#include <string.h>

#include "cli.h"
#include "linereader.h"
#include "moose/error.h"

int moose__cli_validate(const moose__cli *cli) {
    const moose_stream_desc *stream = moose__cli_stream(cli, cli->opts->args[0]);
    if (!stream)
        return MOOSE__EXIT_USAGE;
    const char *path = cli->opts->nargs > 1 ? cli->opts->args[1] : "-";
    FILE *fp = moose__cli_open_input(cli, path);
    if (!fp)
        return MOOSE__EXIT_USAGE;

    moose__linereader lr;
    moose_arena arena;
    moose_errors errs;
    moose_arena_init(&arena);
    moose_errors_init(&errs);
    int status = MOOSE__EXIT_OK;
    size_t nvalid = 0, ninvalid = 0;
    if (moose__linereader_init(&lr, fp, cli->opts->cfg.max_record_bytes) != 0) {
        fprintf(stderr, "%s: out of memory reading '%s'\n", cli->prog, path);
        status = MOOSE__EXIT_USAGE;
        goto done;
    }
    for (;;) {
        char *line;
        size_t len;
        int rc = moose__linereader_next(&lr, &line, &len);
        if (rc == 0)
            break;
        if (rc == MOOSE_ETOOBIG) {
            printf("%ld: error: record is longer than the limit of %zu bytes\n", lr.lineno,
                   lr.max);
            ninvalid++;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: reading '%s' after line %ld: %s\n", cli->prog, path, lr.lineno,
                    moose_strerror(rc));
            status = MOOSE__EXIT_USAGE;
            goto done;
        }
        if (moose__cli_blank(line, len))
            continue;
        moose_arena_reset(&arena);
        moose_errors_clear(&errs);
        void *rec;
        rc = moose__cli_check_record(stream, line, len, cli->opts->cfg.max_depth, &arena, &errs,
                                     &rec);
        if (rc == 0) {
            nvalid++;
        } else {
            ninvalid++;
            moose__cli_print_errors(stdout, lr.lineno, &errs, rc);
        }
    }
    printf("%zu valid, %zu invalid\n", nvalid, ninvalid);
    status = ninvalid ? MOOSE__EXIT_FAILED : MOOSE__EXIT_OK;
done:
    if (fflush(stdout) != 0 && status == MOOSE__EXIT_OK)
        status = MOOSE__EXIT_USAGE;
    moose__linereader_free(&lr);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
    if (fp != stdin)
        fclose(fp);
    return status;
}
