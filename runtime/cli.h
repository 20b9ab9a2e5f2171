/*
 * The app command line's commands; cli.c parses the options and calls one.
 * Each returns the process's exit status: 0 fine, 1 some records were
 * refused (write, validate) or the app failed, 2 usage, I/O or a command
 * that is not available.
 */
#ifndef MOOSE__CLI_H
#define MOOSE__CLI_H

#include <stdio.h>

#include "config.h"
#include "moose/schema.h"

enum { MOOSE__EXIT_OK = 0, MOOSE__EXIT_FAILED = 1, MOOSE__EXIT_USAGE = 2 };

typedef struct moose__cli {
    const moose_app_desc *desc;
    moose__options *opts;
    const char *prog; /* argv[0]'s last component, for messages */
} moose__cli;

/* Prints "PROG: message" and a hint to stderr; returns MOOSE__EXIT_USAGE. */
int moose__cli_usage_error(const moose__cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The stream named NAME (its identifier or its topic), or NULL after a message. */
const moose_stream_desc *moose__cli_stream(const moose__cli *cli, const char *name);

/* Opens PATH for reading ("-" or NULL: stdin), or NULL after a message. */
FILE *moose__cli_open_input(const moose__cli *cli, const char *path);

int moose__cli_validate(const moose__cli *cli);
int moose__cli_write(const moose__cli *cli);
int moose__cli_ddl(const moose__cli *cli);
int moose__cli_run(const moose__cli *cli);
/* tail, dlq, replay, metrics, health and broker, by cli->opts->command. */
int moose__cli_admin(const moose__cli *cli);

#endif

/* ---- shared by write and validate (cli_records.c) ---- */

#include "moose/codec.h"

/*
 * Decodes LINE (nested at most MAX_DEPTH deep; 0: the decoder's default of
 * 64) into a record of STREAM's model allocated in ARENA and, when
 * that worked, validates it. Returns 0 with *REC set, or a negative code with
 * every failure in ERRS (*REC is set too when only validation failed).
 */
int moose__cli_check_record(const moose_stream_desc *stream, const char *line, size_t len,
                            unsigned max_depth, moose_arena *arena, moose_errors *errs,
                            void **rec);

/* Prints "LINE: error: PATH: message" for every error in ERRS (or CODE's text if none). */
void moose__cli_print_errors(FILE *out, long lineno, const moose_errors *errs, int code);

/* True for a line of nothing but blanks: skipped, not a record. */
bool moose__cli_blank(const char *line, size_t len);

/*
 * Calls EACH with every line of FP (opened from PATH) that is not blank, and
 * its number. A line longer than --max-record-bytes is no record: it is
 * reported on OUT ("N: error: record is longer than ...") and counted in
 * *TOO_LONG. Returns 0 at the end of the input, MOOSE__EXIT_USAGE when FP
 * cannot be read (said on stderr), or the nonzero value EACH returned to stop.
 */
/*
 * For `APP validate|write STREAM [FILE|-]`: *STREAM named by the first
 * argument and the input named by the second (*PATH; "-" or none: stdin),
 * opened; NULL after a message.
 */
FILE *moose__cli_stream_input(const moose__cli *cli, const moose_stream_desc **stream,
                              const char **path);

typedef int (*moose__cli_line_fn)(long lineno, const char *line, size_t len, void *opaque);
int moose__cli_each_line(const moose__cli *cli, FILE *fp, const char *path, FILE *out,
                         moose__cli_line_fn each, void *opaque, size_t *too_long);
