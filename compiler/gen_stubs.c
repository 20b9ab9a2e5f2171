/*
 * `moosec stubs`: the file where a user writes the transforms. Written once
 * and then owned by the user, so it is never overwritten. Every stub fails
 * with "not implemented" until filled in: a forgotten transform must send its
 * records to the dead letter queue, not pass them on silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "gen_c.h"

/* True when the two fields hold the same kind of value, so `rec.x = in->x;` compiles. */
static bool same_shape(const moosec_field *a, const moosec_field *b) {
    const moosec_type *x = &a->type, *y = &b->type;
    if (x->kind != y->kind || x->optional != y->optional || x->array != y->array)
        return false;
    switch (x->kind) {
    case MOOSEC_TYPE_DECIMAL:
        return x->decimal_precision == y->decimal_precision &&
               x->decimal_scale == y->decimal_scale;
    case MOOSEC_TYPE_MODEL:
        return x->model == y->model;
    case MOOSEC_TYPE_ENUM:
        return false; /* each Enum(...) is its own C enum type */
    default:
        return true;
    }
}

static const moosec_field *find_field(const moosec_model *model, const char *name) {
    for (size_t i = 0; model && i < model->fields.len; i++)
        if (strcmp(model->fields.items[i]->name, name) == 0)
            return model->fields.items[i];
    return NULL;
}

/* How to build and emit one record of DEST's model, as comment lines. */
static void put_emit_example(FILE *out, const moosec_transform *t, const moosec_stream *src,
                             const moosec_stream *dest, bool fan_out) {
    const moosec_model *m = dest->model;
    const char *name = m ? m->name : dest->model_name;
    /* fan-out: one block per destination, so the example can be pasted whole */
    const char *ind = fan_out ? " *         " : " *     ";
    if (fan_out)
        fputs(" *     {\n", out);
    fprintf(out, "%s%s rec = %s_INIT;\n", ind, name, name);
    moosec_arena names;
    moosec_arena_init(&names);
    for (size_t i = 0; m && i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        const moosec_field *same = find_field(src->model, f->name);
        /* the generated struct's spelling: a C keyword gets a '_' (gen_c.h) */
        const char *mem = moosec_c_member(&names, f);
        /* a presence flag, except for an optional nested model (a pointer) */
        bool has_flag = f->type.optional && !(f->type.kind == MOOSEC_TYPE_MODEL && !f->type.array);
        if (same && same_shape(f, same) && has_flag)
            fprintf(out, "%srec.%s = in->%s;\n%srec.has_%s = in->has_%s;\n", ind, mem, mem, ind,
                    f->name, f->name);
        else if (same && same_shape(f, same))
            fprintf(out, "%srec.%s = in->%s;\n", ind, mem, mem);
        else if (has_flag)
            fprintf(out, "%srec.%s = ...;\n%srec.has_%s = true;\n", ind, mem, ind, f->name);
        else
            fprintf(out, "%srec.%s = ...;\n", ind, mem);
    }
    moosec_arena_free(&names);
    if (fan_out)
        fprintf(out, "%sint rc = %s_emit_%s(out, &rec);\n", ind, t->name, dest->name);
    else
        fprintf(out, "%sint rc = %s_emit(out, &rec);\n", ind, t->name);
    fprintf(out, "%sif (rc != 0)\n%s    return rc;\n", ind, ind);
    if (fan_out)
        fputs(" *     }\n", out);
}

static void put_transform(FILE *out, const moosec_transform *t) {
    const moosec_stream *src = t->source.stream;
    const char *in_type = src && src->model ? src->model->name : src ? src->model_name : "?";
    bool fan_out = t->destinations.len > 1;

    fprintf(out, "/*\n * %s: %s (%s) ->", t->name, t->source.name, in_type);
    for (size_t i = 0; i < t->destinations.len; i++) {
        const moosec_stream *d = t->destinations.items[i].stream;
        fprintf(out, "%s %s (%s)", i ? "," : "", t->destinations.items[i].name,
                d && d->model ? d->model->name : d ? d->model_name : "?");
    }
    fputs("\n *\n * Emit zero, one or many records, then return 0:\n", out);
    for (size_t i = 0; i < t->destinations.len; i++) {
        const moosec_stream *d = t->destinations.items[i].stream;
        if (d && src)
            put_emit_example(out, t, src, d, fan_out);
    }
    fputs(" * (rc != 0: the record failed its stream's validation; returning rc sends\n"
          " * the input to the dead letter queue with the reasons.)\n"
          " * Filter the record out: return 0 without emitting.\n"
          " * Fail (the input goes to the dead letter queue with the reason):\n"
          " *     return moose_transform_fail(out->ctx, \"amount %f is negative\", x);\n"
          " * Text or memory that must outlive a local variable:\n"
          " *     moose_transform_printf(out->ctx, ...), moose_transform_alloc(out->ctx, n).\n"
          " */\n",
          out);
    fprintf(out,
            "int %s(const %s *in, %s_out *out) {\n"
            "    (void)in;\n"
            "    return moose_transform_fail(out->ctx, \"transform %s is not implemented\");\n"
            "}\n",
            t->name, in_type, t->name, t->name);
}

char *moosec_stubs_source(moosec_arena *arena, const moosec_schema *schema, const char *base) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        fputs("moosec: out of memory writing the transform stubs\n", stderr);
        exit(2);
    }
    fprintf(out,
            "/*\n"
            " * The transforms of %s.moose: write each function's body.\n"
            " *\n"
            " * moosec wrote this file once and never overwrites it: it is yours. The\n"
            " * signatures must match the ones %s.moose.h declares; when the schema\n"
            " * changes, the compiler says which function no longer fits.\n"
            " */\n"
            "#include <moose/transform.h>\n"
            "\n"
            "#include \"%s.moose.h\"\n",
            base, base, base);
    for (size_t i = 0; i < schema->transforms.len; i++) {
        fputc('\n', out);
        put_transform(out, schema->transforms.items[i]);
    }
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed || !text) {
        fputs("moosec: out of memory writing the transform stubs\n", stderr);
        exit(2);
    }
    char *copy = moosec_arena_strndup(arena, text, len);
    free(text);
    return copy;
}

/* "dir/app.moose" -> "app"; a name without ".moose" is kept whole. */
static char *base_name(moosec_arena *arena, const char *path) {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t len = strlen(name);
    static const char ext[] = ".moose";
    if (len > sizeof ext - 1 && strcmp(name + len - (sizeof ext - 1), ext) == 0)
        len -= sizeof ext - 1;
    return moosec_arena_strndup(arena, name, len);
}

int moosec_stubs_write(const moosec_schema *schema, const char *schema_path, const char *dir,
                       char *errstr, size_t errstr_size) {
    if (schema->transforms.len == 0) {
        fprintf(stderr, "moosec: note: %s declares no transform: no stubs written\n",
                schema_path);
        return 0;
    }
    moosec_arena arena;
    moosec_arena_init(&arena);
    const char *base = base_name(&arena, schema_path);
    const char *path = moosec_arena_printf(&arena, "%s/%s_transforms.c", dir, base);
    int status = -1;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create directory %s: %s", dir, strerror(errno));
        goto done;
    }
    /* O_EXCL: the file is the user's code from the moment it exists */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            snprintf(errstr, errstr_size,
                     "%s already exists; it holds your transforms, so it is not overwritten "
                     "(move it away to get fresh stubs)",
                     path);
        else
            snprintf(errstr, errstr_size, "cannot create %s: %s", path, strerror(errno));
        goto done;
    }
    const char *text = moosec_stubs_source(&arena, schema, base);
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(errstr, errstr_size, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            unlink(path);
            goto done;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        goto done;
    }
    status = 0;
done:
    moosec_arena_free(&arena);
    return status;
}
