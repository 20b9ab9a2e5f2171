#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "moose/app.h"
#include "moose/error.h"

typedef struct cli_command {
    const char *name;
    const char *synopsis;
    const char *help;
    int (*run)(const moose__cli *cli);
    int min_args, max_args;
} cli_command;

static const cli_command commands[] = {
    {"run", "run [--batch-rows N] [--batch-bytes N] [--batch-ms N]",
     "Runs every transform and table sink until SIGINT or SIGTERM, then stops fetching,\n"
     "finishes the records in flight, commits and exits 0. stderr shows the live status.\n"
     "\n"
     "  --batch-rows N          a table sink inserts at most N rows at once\n"
     "  --batch-bytes N         ... at most N bytes of records (512k, 16M)\n"
     "  --batch-ms N            ... after at most N ms of gathering\n"
     "                          For every table, over MOOSE_BATCH_ROWS, MOOSE_BATCH_BYTES,\n"
     "                          MOOSE_BATCH_MS and the schema's batch_* settings.\n",
     moose__cli_run, 0, 0},
    {"write", "write STREAM [FILE|-]",
     "Reads newline-delimited JSON records (from FILE, or stdin), validates each and\n"
     "writes it to STREAM. Rejected lines are reported as 'LINE: error: FIELD: message'\n"
     "(and kept in the dead letter queue when the stream says on_invalid: dead_letter).\n"
     "Exit status 1 if any record was refused.\n",
     moose__cli_write, 1, 2},
    {"validate", "validate STREAM [FILE|-]",
     "Checks newline-delimited JSON records (from FILE, or stdin) against STREAM's model\n"
     "without a broker: one line per failing field, 'LINE: error: FIELD.PATH: message',\n"
     "then 'N valid, M invalid'. Exit status 0 only if every record is valid.\n",
     moose__cli_validate, 1, 2},
    {"tail", "tail STREAM",
     "Prints STREAM's records, from the oldest kept, as 'PARTITION:OFFSET KEY VALUE',\n"
     "and the new ones as they arrive, until Ctrl-C.\n",
     moose__cli_admin, 1, 1},
    {"dlq", "dlq STREAM", "Shows the records in STREAM's dead letter queue, with their reasons.\n",
     moose__cli_admin, 1, 1},
    {"replay", "replay STREAM",
     "Sends the records in STREAM's dead letter queue through STREAM again (each entry\n"
     "once: a second replay sends only entries added since).\n",
     moose__cli_admin, 1, 1},
    {"metrics", "metrics [--json] --http ADDR:PORT",
     "Prints the counters of the app running with --http ADDR:PORT, as text or JSON.\n",
     moose__cli_admin, 0, 0},
    {"health", "health [--json] --http ADDR:PORT",
     "Prints the health of the app running with --http ADDR:PORT, with reasons.\n"
     "Exit status 0 healthy or degraded, 1 unhealthy, 2 unreachable.\n",
     moose__cli_admin, 0, 0},
    {"ddl", "ddl [--dialect sqlite|clickhouse]",
     "Prints the CREATE TABLE statements of every table, in the dialect of --tables\n"
     "(or the one --dialect names).\n",
     moose__cli_ddl, 0, 0},
    {"broker", "broker",
     "Runs a standalone embedded broker and prints its address, so other processes\n"
     "(other app commands, kcat) can use it.\n",
     moose__cli_admin, 0, 0},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static const char options_help[] =
    "Options:\n"
    "  --brokers LIST          Kafka bootstrap servers, or 'embedded' (the default;\n"
    "                          environment: MOOSE_BROKERS)\n"
    "  --tables URL            sqlite:FILE (default sqlite:moose.db) or\n"
    "                          clickhouse://user:pass@host:8123/db (environment: MOOSE_TABLES)\n"
    "  -X key=value            a librdkafka property, passed through\n"
    "  --http ADDR:PORT        serve /metrics, /health and /validation there\n"
    "  --log-level LEVEL       debug, info (default), warn or error (environment:\n"
    "                          MOOSE_LOG_LEVEL)\n"
    "  --max-record-bytes N    longest record accepted (default 1M)\n"
    "  --max-depth N           deepest JSON nesting accepted in a record (default 64)\n"
    "  --help                  this help; 'COMMAND --help' for one command\n";

static void print_usage(const moose__cli *cli, FILE *out) {
    fprintf(out, "usage: %s [OPTIONS] COMMAND [ARGS]\n\nCommands:\n", cli->prog);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %s\n", commands[i].synopsis);
    fprintf(out, "\nStreams:");
    for (uint32_t i = 0; i < cli->desc->nstreams; i++)
        fprintf(out, " %s", cli->desc->streams[i]->name);
    fprintf(out, "\n\n%s", options_help);
}

int moose__cli_usage_error(const moose__cli *cli, const char *fmt, ...) {
    fprintf(stderr, "%s: ", cli->prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", cli->prog);
    return MOOSE__EXIT_USAGE;
}

const moose_stream_desc *moose__cli_stream(const moose__cli *cli, const char *name) {
    for (uint32_t i = 0; i < cli->desc->nstreams; i++) {
        const moose_stream_desc *s = cli->desc->streams[i];
        if (strcmp(s->name, name) == 0 || (s->topic && strcmp(s->topic, name) == 0))
            return s;
    }
    fprintf(stderr, "%s: no stream named '%s'; the streams are:", cli->prog, name);
    for (uint32_t i = 0; i < cli->desc->nstreams; i++)
        fprintf(stderr, " %s", cli->desc->streams[i]->name);
    fputc('\n', stderr);
    return NULL;
}

FILE *moose__cli_open_input(const moose__cli *cli, const char *path) {
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fprintf(stderr, "%s: cannot open '%s': %s\n", cli->prog, path, strerror(errno));
    return fp;
}

int moose_main(const moose_app_desc *desc, int argc, char **argv) {
    const char *prog = argc > 0 && argv[0] ? argv[0] : "app";
    const char *slash = strrchr(prog, '/');
    if (slash)
        prog = slash + 1;
    if (!desc) {
        fprintf(stderr, "%s: no app description was given to moose_main\n", prog);
        return MOOSE__EXIT_USAGE;
    }
    if (desc->abi_version != MOOSE_ABI_VERSION) {
        fprintf(stderr,
                "%s: the generated code is for libmoose ABI %u but this libmoose is ABI %d: "
                "regenerate it with this version of moosec\n",
                prog, desc->abi_version, MOOSE_ABI_VERSION);
        return MOOSE__EXIT_USAGE;
    }

    moose__options opts;
    char err[512];
    moose__cli cli = {.desc = desc, .opts = &opts, .prog = prog};
    int status;
    if (moose__options_parse(&opts, argc, argv, err, sizeof err) != 0) {
        status = moose__cli_usage_error(&cli, "%s", err);
        goto done;
    }
    if (!opts.command) {
        if (opts.help) {
            print_usage(&cli, stdout);
            status = MOOSE__EXIT_OK;
        } else {
            status = moose__cli_usage_error(&cli, "which command? (run, write, validate, ...)");
        }
        goto done;
    }
    const cli_command *cmd = NULL;
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, opts.command) == 0)
            cmd = &commands[i];
    if (!cmd) {
        status = moose__cli_usage_error(&cli, "unknown command '%s'", opts.command);
        goto done;
    }
    if (opts.help) {
        printf("usage: %s [OPTIONS] %s\n\n%s\n%s", prog, cmd->synopsis, cmd->help, options_help);
        status = MOOSE__EXIT_OK;
        goto done;
    }
    if (opts.nargs < cmd->min_args || opts.nargs > cmd->max_args) {
        status = moose__cli_usage_error(&cli, "usage: %s %s", prog, cmd->synopsis);
        goto done;
    }
    if (opts.json && strcmp(cmd->name, "metrics") != 0 && strcmp(cmd->name, "health") != 0) {
        status = moose__cli_usage_error(&cli, "--json is an option of 'metrics' and 'health' only");
        goto done;
    }
    if ((opts.batch_rows || opts.batch_bytes || opts.batch_ms) && strcmp(cmd->name, "run") != 0) {
        status = moose__cli_usage_error(
            &cli, "--batch-rows, --batch-bytes and --batch-ms are options of 'run' only");
        goto done;
    }
    if (opts.dialect && strcmp(cmd->name, "ddl") != 0) {
        status = moose__cli_usage_error(&cli, "--dialect is an option of 'ddl' only");
        goto done;
    }
    status = cmd->run(&cli);
done:
    moose__options_free(&opts);
    return status;
}
