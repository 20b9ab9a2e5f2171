/*
 * `moosec gen [-o DIR] FILE...`: each schema file on its own becomes
 * DIR/<base>.moose.h and DIR/<base>.moose.c. Files are written whole or not
 * at all (a temporary file renamed into place), so a build never compiles a
 * half-written header.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "parse.h"
#include "sema.h"

enum { EXIT_SCHEMA = 1, EXIT_USAGE = 2 };

/* "dir/app.moose" -> "app"; a name without ".moose" is kept whole. */
static char *schema_base(moosec_arena *arena, const char *path) {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t len = strlen(name);
    static const char ext[] = ".moose";
    if (len > sizeof ext - 1 && strcmp(name + len - (sizeof ext - 1), ext) == 0)
        len -= sizeof ext - 1;
    return moosec_arena_strndup(arena, name, len);
}

typedef void (*gen_fn)(FILE *out, const moosec_schema *schema, const char *base);

static int write_file(const char *path, gen_fn fn, const moosec_schema *schema, const char *base,
                      char *errstr, size_t errstr_size) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        snprintf(errstr, errstr_size, "out of memory writing %s", path);
        return -1;
    }
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *out = fopen(tmp, "w");
    if (!out) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fn(out, schema, base);
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", tmp, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(errstr, errstr_size, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int moosec_gen_write(const moosec_schema *schema, const char *schema_path, const char *dir,
                     char *errstr, size_t errstr_size) {
    moosec_arena arena;
    moosec_arena_init(&arena);
    int status = -1;
    const char *base = schema_base(&arena, schema_path);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create directory %s: %s", dir, strerror(errno));
        goto done;
    }
    const char *h = moosec_arena_printf(&arena, "%s/%s.moose.h", dir, base);
    const char *c = moosec_arena_printf(&arena, "%s/%s.moose.c", dir, base);
    if (write_file(h, moosec_gen_header, schema, base, errstr, errstr_size) != 0 ||
        write_file(c, moosec_gen_source, schema, base, errstr, errstr_size) != 0)
        goto done;
    status = 0;
done:
    moosec_arena_free(&arena);
    return status;
}

static int gen_usage(const char *what, const char *arg) {
    fprintf(stderr, "moosec: gen: %s%s%s", what, arg ? arg : "", arg ? "'" : "");
    fputs("\nTry 'moosec --help'.\n", stderr);
    return EXIT_USAGE;
}

int moosec_gen_main(int argc, char **argv) {
    const char *dir = ".";
    int first = 0;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (strcmp(argv[first], "-o") == 0) {
            if (first + 1 >= argc)
                return gen_usage("-o needs a directory", NULL);
            dir = argv[++first];
        } else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else {
            return gen_usage("unknown option '", argv[first]);
        }
    }
    if (first == argc)
        return gen_usage("no schema file given", NULL);
    int status = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0)
            return gen_usage("the schema must be a file: its name names the output", NULL);
        moosec_schema schema;
        moosec_schema_init(&schema);
        moosec_diag diag;
        moosec_diag_init(&diag, stderr);
        char err[512];
        int st = 0;
        moosec_source *src = moosec_source_read(argv[i], err, sizeof err);
        if (!src) {
            fprintf(stderr, "moosec: %s\n", err);
            st = EXIT_USAGE;
        } else {
            moosec_parse(&schema, src, &diag);
            if (diag.errors == 0)
                moosec_sema_check(&schema, &diag);
            if (diag.errors == 0)
                moosec_ddl_check(&schema, &diag);
            if (diag.errors)
                st = EXIT_SCHEMA;
            else if (moosec_gen_write(&schema, argv[i], dir, err, sizeof err) != 0) {
                fprintf(stderr, "moosec: gen: %s\n", err);
                st = EXIT_USAGE;
            }
        }
        if (st > status)
            status = st;
        moosec_schema_free(&schema);
    }
    return status;
}
