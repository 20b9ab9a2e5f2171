/*
 * The app command line's options and environment, parsed into a
 * moose_config plus the command and its arguments.
 */
#ifndef MOOSE__CONFIG_H
#define MOOSE__CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moose/app.h"

typedef struct moose__options {
    moose_config cfg;
    const char *command; /* NULL when none was given */
    char **args;         /* the command's positional arguments */
    int nargs;
    bool help;
    bool json;           /* metrics --json */
    const char *dialect; /* ddl --dialect */
    char **kafka_props;  /* -X values, NULL-terminated (cfg.kafka_props points here) */
    int nprops;
    /* run --batch-rows / --batch-bytes / --batch-ms: every sink's batches (0: not given) */
    int64_t batch_rows, batch_bytes, batch_ms;
} moose__options;

/*
 * Options may come before or after the command; "--" ends them. The command
 * line wins over MOOSE_BROKERS, MOOSE_TABLES and MOOSE_LOG_LEVEL. Returns 0,
 * or MOOSE_EINVAL / MOOSE_ENOMEM with ERR saying which option is wrong.
 */
int moose__options_parse(moose__options *opts, int argc, char **argv, char *err, size_t errsize);
void moose__options_free(moose__options *opts);

/* Fills the defaults (embedded, sqlite:moose.db, info, 1 MiB) left unset in CFG. */
void moose__config_defaults(moose_config *cfg);

/* True for "debug", "info", "warn" and "error". */
bool moose__log_level_valid(const char *level);

#endif
