/*
 * moosec: the command line. Exit status 0: fine (warnings allowed);
 * 1: errors in the schema; 2: usage or I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "parse.h"
#include "sema.h"
#include "version.h"

enum { EXIT_SCHEMA = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: moosec COMMAND [OPTIONS] FILE...\n"
    "\n"
    "Commands:\n"
    "  check [--summary] FILE...         parse and check schemas, print diagnostics\n"
    "  gen [-o DIR] FILE...              write <base>.moose.h and <base>.moose.c\n"
    "  stubs [-o DIR] FILE               write <base>_transforms.c (never overwrites)\n"
    "  ddl --dialect clickhouse|sqlite FILE\n"
    "                                    print CREATE TABLE statements\n"
    "\n"
    "Options:\n"
    "  --version                         print the version and exit\n"
    "  --help                            print this help and exit\n"
    "\n"
    "Exit status: 0 fine (warnings allowed), 1 errors in a schema, 2 usage or I/O.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    fputs("moosec: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'moosec --help'.\n", stderr);
    return EXIT_USAGE;
}

/* Reads, parses and checks FILES into SCHEMA. Returns an exit status. */
static int load_schema(moosec_schema *schema, moosec_diag *diag, char **files, int nfiles) {
    for (int i = 0; i < nfiles; i++) {
        char err[512];
        moosec_source *src = moosec_source_read(files[i], err, sizeof err);
        if (!src) {
            fprintf(stderr, "moosec: %s\n", err);
            return EXIT_USAGE;
        }
        moosec_parse(schema, src, diag);
    }
    if (diag->errors == 0)
        moosec_sema_check(schema, diag);
    return diag->errors ? EXIT_SCHEMA : 0;
}

static void print_summary(const moosec_schema *schema) {
    size_t implied = 0;
    for (size_t i = 0; i < schema->tables.len; i++)
        implied += schema->tables.items[i]->implied;
    printf("%zu model%s, %zu table%s (%zu implied by a destination), %zu stream%s, "
           "%zu transform%s\n",
           schema->models.len, schema->models.len == 1 ? "" : "s", schema->tables.len,
           schema->tables.len == 1 ? "" : "s", implied, schema->streams.len,
           schema->streams.len == 1 ? "" : "s", schema->transforms.len,
           schema->transforms.len == 1 ? "" : "s");
    for (size_t i = 0; i < schema->streams.len; i++) {
        const moosec_stream *s = schema->streams.items[i];
        printf("  stream %s: %s -> topic \"%s\" (%lld partition%s)%s%s\n", s->name,
               s->model_name, s->topic ? s->topic : s->name, (long long)s->parallelism,
               s->parallelism == 1 ? "" : "s", s->destination ? " -> table " : "",
               s->destination ? s->destination->name : "");
    }
    for (size_t i = 0; i < schema->transforms.len; i++) {
        const moosec_transform *t = schema->transforms.items[i];
        printf("  transform %s: %s ->", t->name, t->source.name);
        for (size_t j = 0; j < t->destinations.len; j++)
            printf("%s %s", j ? "," : "", t->destinations.items[j].name);
        putchar('\n');
    }
}

static int cmd_check(int argc, char **argv) {
    int summary = 0, first = 0;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (strcmp(argv[first], "--summary") == 0)
            summary = 1;
        else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else
            return usage_error("check: unknown option '%s'", argv[first]);
    }
    if (first == argc)
        return usage_error("%s", "check: no schema file given");
    int status = 0;
    for (int i = first; i < argc; i++) {
        /* each file on its own: `check a.moose b.moose` checks two schemas */
        moosec_schema schema;
        moosec_schema_init(&schema);
        moosec_diag diag;
        moosec_diag_init(&diag, stderr);
        int st = load_schema(&schema, &diag, &argv[i], 1);
        if (st == 0 && summary) {
            printf("%s: ", argv[i]);
            print_summary(&schema);
        }
        if (st > status)
            status = st;
        moosec_schema_free(&schema);
    }
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("moosec %s\n", MOOSE_VERSION_STRING);
        return 0;
    }
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "gen") == 0 || strcmp(cmd, "stubs") == 0 || strcmp(cmd, "ddl") == 0) {
        fprintf(stderr, "moosec: %s: not yet implemented\n", cmd);
        return EXIT_USAGE;
    }
    return usage_error("unknown command '%s'", cmd);
}
