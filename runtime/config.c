#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linereader.h"
#include "moose/error.h"

bool moose__log_level_valid(const char *level) {
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(level, levels[i]) == 0)
            return true;
    return false;
}

void moose__config_defaults(moose_config *cfg) {
    if (!cfg->brokers || !*cfg->brokers)
        cfg->brokers = "embedded";
    if (!cfg->tables || !*cfg->tables)
        cfg->tables = "sqlite:moose.db";
    if (!cfg->log_level || !*cfg->log_level)
        cfg->log_level = "info";
    if (!cfg->max_record_bytes)
        cfg->max_record_bytes = MOOSE__LINE_MAX_DEFAULT;
}

/* "--name=value" or "--name value": the value, or NULL when it is missing. */
static const char *option_value(const char *arg, const char *name, int argc, char **argv,
                                int *i, bool *matched) {
    size_t n = strlen(name);
    *matched = false;
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=') {
        *matched = true;
        return arg + n + 1;
    }
    if (arg[n] != '\0')
        return NULL;
    *matched = true;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int parse_size(const char *text, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *text == '-' || v == 0)
        return MOOSE_EINVAL;
    if (*end == 'k' || *end == 'K')
        v <<= 10, end++;
    else if (*end == 'm' || *end == 'M')
        v <<= 20, end++;
    if (*end != '\0')
        return MOOSE_EINVAL;
    *out = (size_t)v;
    return 0;
}

/* A whole number from 1 to LIMIT, nothing else. */
static int parse_positive(const char *text, int64_t limit, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || *text == '-' || *text == '+' || v <= 0 || v > limit)
        return MOOSE_EINVAL;
    *out = v;
    return 0;
}

int moose__options_parse(moose__options *opts, int argc, char **argv, char *err, size_t errsize) {
    memset(opts, 0, sizeof *opts);
    opts->cfg.brokers = getenv("MOOSE_BROKERS");
    opts->cfg.tables = getenv("MOOSE_TABLES");
    opts->cfg.log_level = getenv("MOOSE_LOG_LEVEL");
    opts->args = calloc((size_t)argc + 1, sizeof *opts->args);
    opts->kafka_props = calloc((size_t)argc + 1, sizeof *opts->kafka_props);
    if (!opts->args || !opts->kafka_props) {
        snprintf(err, errsize, "out of memory parsing the command line");
        return MOOSE_ENOMEM;
    }
    opts->cfg.kafka_props = (const char *const *)opts->kafka_props;

    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (!opts->command)
                opts->command = arg;
            else
                opts->args[opts->nargs++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            opts->help = true;
            continue;
        }
        if (strcmp(arg, "--json") == 0) {
            opts->json = true;
            continue;
        }
        bool matched;
        const char *v;
        if ((v = option_value(arg, "--brokers", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            opts->cfg.brokers = v;
        } else if ((v = option_value(arg, "--tables", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            opts->cfg.tables = v;
        } else if ((v = option_value(arg, "--http", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            const char *colon = strrchr(v, ':');
            if (!colon || colon == v || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
                snprintf(err, errsize, "--http wants ADDR:PORT (like 127.0.0.1:9090), not '%s'", v);
                return MOOSE_EINVAL;
            }
            opts->cfg.http = v;
        } else if ((v = option_value(arg, "--log-level", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            opts->cfg.log_level = v;
        } else if ((v = option_value(arg, "--dialect", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            if (strcmp(v, "sqlite") != 0 && strcmp(v, "clickhouse") != 0) {
                snprintf(err, errsize, "--dialect is sqlite or clickhouse, not '%s'", v);
                return MOOSE_EINVAL;
            }
            opts->dialect = v;
        } else if ((v = option_value(arg, "--max-record-bytes", argc, argv, &i, &matched)) ||
                   matched) {
            if (!v || !*v)
                goto missing;
            if (parse_size(v, &opts->cfg.max_record_bytes) != 0) {
                snprintf(err, errsize,
                         "--max-record-bytes wants a positive size (like 1048576, 512k or 4M), "
                         "not '%s'",
                         v);
                return MOOSE_EINVAL;
            }
        } else if ((v = option_value(arg, "--max-depth", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            char *end;
            errno = 0;
            unsigned long depth = strtoul(v, &end, 10);
            if (errno || end == v || *end || *v == '-' || depth == 0 || depth > 100000) {
                snprintf(err, errsize,
                         "--max-depth wants a nesting depth from 1 to 100000 (like 64), not '%s'",
                         v);
                return MOOSE_EINVAL;
            }
            opts->cfg.max_depth = (unsigned)depth;
        } else if ((v = option_value(arg, "--batch-rows", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            if (parse_positive(v, INT32_MAX, &opts->batch_rows) != 0) {
                snprintf(err, errsize,
                         "--batch-rows wants a positive number of rows (like 10000), not '%s'", v);
                return MOOSE_EINVAL;
            }
        } else if ((v = option_value(arg, "--batch-bytes", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            size_t bytes;
            if (parse_size(v, &bytes) != 0 || bytes > INT32_MAX) {
                snprintf(err, errsize,
                         "--batch-bytes wants a positive size up to 2G (like 1048576, 512k or "
                         "16M), not '%s'",
                         v);
                return MOOSE_EINVAL;
            }
            opts->batch_bytes = (int64_t)bytes;
        } else if ((v = option_value(arg, "--batch-ms", argc, argv, &i, &matched)) || matched) {
            if (!v || !*v)
                goto missing;
            if (parse_positive(v, 24 * 3600 * 1000, &opts->batch_ms) != 0) {
                snprintf(err, errsize,
                         "--batch-ms wants a positive number of milliseconds up to a day "
                         "(like 1000), not '%s'",
                         v);
                return MOOSE_EINVAL;
            }
        } else if (strncmp(arg, "-X", 2) == 0) {
            v = arg[2] ? arg + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                snprintf(err, errsize, "-X wants key=value");
                return MOOSE_EINVAL;
            }
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) {
                snprintf(err, errsize, "-X wants key=value, not '%s'", v);
                return MOOSE_EINVAL;
            }
            opts->kafka_props[opts->nprops++] = (char *)v;
        } else {
            snprintf(err, errsize, "unknown option '%s'", arg);
            return MOOSE_EINVAL;
        }
        continue;
    missing:
        snprintf(err, errsize, "option '%s' wants a value", arg);
        return MOOSE_EINVAL;
    }
    if (opts->cfg.log_level && !moose__log_level_valid(opts->cfg.log_level)) {
        snprintf(err, errsize, "log level is debug, info, warn or error, not '%s'",
                 opts->cfg.log_level);
        return MOOSE_EINVAL;
    }
    moose__config_defaults(&opts->cfg);
    return 0;
}

void moose__options_free(moose__options *opts) {
    free(opts->args);
    free(opts->kafka_props);
    opts->args = NULL;
    opts->kafka_props = NULL;
}
