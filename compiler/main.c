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
#include "gen.h"
#include "parse.h"
#include "sema.h"
#include "version.h"

enum { EXIT_SCHEMA = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: moosec COMMAND [OPTIONS] FILE...\n"
    "\n"
    "Commands:\n"
    "  check [--summary] FILE...         parse and check schemas, print diagnostics\n"
    "                                    (- reads standard input)\n"
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
    for (size_t i = 0; i < schema->models.len; i++) {
        const moosec_model *m = schema->models.items[i];
        printf("  model %s: %zu field%s, key %s\n", m->name, m->fields.len,
               m->fields.len == 1 ? "" : "s", m->key ? m->key->name : "(none)");
    }
    for (size_t i = 0; i < schema->tables.len; i++) {
        const moosec_table *t = schema->tables.items[i];
        printf("  table %s: %s%s, order by", t->name, t->model_name,
               t->implied ? " (implied)" : "");
        for (size_t j = 0; j < t->order_by.len; j++)
            printf("%s %s", j ? "," : "", t->order_by.items[j]->name);
        printf(", engine %s",
               t->engine == MOOSEC_ENGINE_MERGE_TREE ? "MergeTree" : "ReplacingMergeTree");
        if (t->batch_rows)
            printf(", batch_rows %lld", (long long)t->batch_rows);
        if (t->batch_bytes)
            printf(", batch_bytes %lld", (long long)t->batch_bytes);
        if (t->batch_ms)
            printf(", batch_ms %lld", (long long)t->batch_ms);
        putchar('\n');
    }
    for (size_t i = 0; i < schema->streams.len; i++) {
        const moosec_stream *s = schema->streams.items[i];
        printf("  stream %s: %s -> topic \"%s\" (%lld partition%s)%s%s\n", s->name,
               s->model_name, s->topic ? s->topic : s->name, (long long)s->parallelism,
               s->parallelism == 1 ? "" : "s", s->destination ? " -> table " : "",
               s->destination ? s->destination->name : "");
        if (s->retention_s)
            printf("    retention %lld s", (long long)s->retention_s);
        else
            printf("    retention: broker default");
        printf(", invalid records: %s, extra fields %s\n",
               s->on_invalid == MOOSEC_ON_INVALID_REJECT ? "reject" : "dead_letter",
               s->allow_extra_fields ? "allowed" : "refused");
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
        /* the table checks `gen` and `ddl` make, so a schema that checks also generates */
        if (st == 0 && moosec_ddl_check(&schema, &diag) != 0)
            st = EXIT_SCHEMA;
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

/* `moosec ddl --dialect clickhouse|sqlite FILE...`: one schema, its CREATE TABLEs on stdout. */
static int cmd_ddl(int argc, char **argv) {
    const char *dialect = NULL;
    int first = 0;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (strcmp(argv[first], "--dialect") == 0) {
            if (++first == argc)
                return usage_error("%s", "ddl: --dialect needs a value: clickhouse or sqlite");
            dialect = argv[first];
        } else if (strncmp(argv[first], "--dialect=", 10) == 0) {
            dialect = argv[first] + 10;
        } else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else {
            return usage_error("ddl: unknown option '%s'", argv[first]);
        }
    }
    if (!dialect)
        return usage_error("%s", "ddl: --dialect clickhouse|sqlite is required");
    if (!moosec_ddl_dialect_known(dialect))
        return usage_error("ddl: unknown dialect '%s' (expected clickhouse or sqlite)", dialect);
    if (first == argc)
        return usage_error("%s", "ddl: no schema file given");
    moosec_schema schema;
    moosec_schema_init(&schema);
    moosec_diag diag;
    moosec_diag_init(&diag, stderr);
    int status = load_schema(&schema, &diag, &argv[first], argc - first);
    if (status == 0 && moosec_ddl_check(&schema, &diag) != 0)
        status = EXIT_SCHEMA;
    if (status == 0) {
        if (schema.tables.len == 0)
            fprintf(stderr, "moosec: note: %s declares no table and no stream destination\n",
                    argv[first]);
        moosec_ddl_print(stdout, &schema, dialect);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fputs("moosec: ddl: cannot write to standard output\n", stderr);
            status = EXIT_USAGE;
        }
    }
    moosec_schema_free(&schema);
    return status;
}

/* `moosec stubs [-o DIR] FILE`: the user's transform file, written once. */
static int cmd_stubs(int argc, char **argv) {
    const char *dir = ".";
    int first = 0;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (strcmp(argv[first], "-o") == 0) {
            if (++first == argc)
                return usage_error("%s", "stubs: -o needs a directory");
            dir = argv[first];
        } else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else {
            return usage_error("stubs: unknown option '%s'", argv[first]);
        }
    }
    if (first == argc)
        return usage_error("%s", "stubs: no schema file given");
    if (argc - first > 1)
        return usage_error("stubs: one schema file at a time (got %d)", argc - first);
    if (strcmp(argv[first], "-") == 0)
        return usage_error("%s", "stubs: the schema must be a file: its name names the output");
    moosec_schema schema;
    moosec_schema_init(&schema);
    moosec_diag diag;
    moosec_diag_init(&diag, stderr);
    int status = load_schema(&schema, &diag, &argv[first], 1);
    if (status == 0) {
        char err[1024];
        if (moosec_stubs_write(&schema, argv[first], dir, err, sizeof err) != 0) {
            fprintf(stderr, "moosec: stubs: %s\n", err);
            status = EXIT_USAGE;
        }
    }
    moosec_schema_free(&schema);
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
    if (strcmp(cmd, "ddl") == 0)
        return cmd_ddl(argc - 2, argv + 2);
    if (strcmp(cmd, "stubs") == 0)
        return cmd_stubs(argc - 2, argv + 2);
    if (strcmp(cmd, "gen") == 0)
        return moosec_gen_main(argc - 2, argv + 2);
    if (strcmp(cmd, "gen") == 0 || strcmp(cmd, "stubs") == 0 || strcmp(cmd, "ddl") == 0) {
        fprintf(stderr, "moosec: %s: not yet implemented\n", cmd);
        return EXIT_USAGE;
    }
    return usage_error("unknown command '%s'", cmd);
}
