/*
 * `<base>.moose.h`: the types and declarations a user's code sees. Every
 * name here is spelled by gen_c_names.c, so the source, the stubs and the
 * user's code agree on them.
 */
#include <string.h>

#include "gen.h"
#include "gen_c.h"

#define E moosec_c_emit

/* The zero (or default) initialiser of one value of F (not an array). */
static const char *value_zero(moosec_arena *a, const moosec_model *m, const moosec_field *f) {
    switch (f->type.kind) {
    case MOOSEC_TYPE_STRING:
        return "{\"\", 0}";
    case MOOSEC_TYPE_BOOL:
        return "false";
    case MOOSEC_TYPE_FLOAT32:
        return "0.0f";
    case MOOSEC_TYPE_FLOAT64:
        return "0.0";
    case MOOSEC_TYPE_UUID:
        return "{{0}}";
    case MOOSEC_TYPE_ENUM:
        return moosec_c_enum_const(a, m, f, 0);
    case MOOSEC_TYPE_MODEL:
        return f->type.optional ? "NULL" : moosec_arena_printf(a, "%s_INIT", f->type.model->name);
    default:
        return "0";
    }
}

static void put_field_comment(FILE *out, const moosec_field *f) {
    bool any = f->type.key || f->has_length || f->has_range || f->pattern || f->default_value;
    if (!any)
        return;
    fputs(" /*", out);
    if (f->type.key)
        fputs(" Key", out);
    if (f->has_length)
        fprintf(out, " @length(%lld, %lld)", (long long)f->length_min, (long long)f->length_max);
    if (f->has_range)
        fprintf(out, " @range(%s, %s)", f->range_min_value->text, f->range_max_value->text);
    if (f->pattern)
        fputs(" @pattern", out);
    if (f->default_value)
        fputs(" @default", out);
    fputs(" */", out);
}

static void put_model(FILE *out, moosec_arena *a, const moosec_model *m) {
    E(out, 0, "/* ---- model %s ---- */\n\n", m->name);
    for (size_t i = 0; i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        if (f->type.kind != MOOSEC_TYPE_ENUM)
            continue;
        const char *et = moosec_c_enum_type(a, m, f);
        E(out, 0, "typedef enum %s {\n", et);
        for (size_t k = 0; k < f->type.members.len; k++)
            E(out, 1, "%s%s\n", moosec_c_enum_const(a, m, f, k),
              k + 1 < f->type.members.len ? "," : "");
        E(out, 0, "} %s;\n", et);
        E(out, 0, "/* The members as they are written in JSON, by value. */\n");
        E(out, 0, "extern const char *const %s_names[%zu];\n\n", et, f->type.members.len);
    }
    E(out, 0, "struct %s {\n", m->name);
    if (m->fields.len == 0)
        E(out, 1, "char moose_empty_; /* C has no empty structs */\n");
    for (size_t i = 0; i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        const char *mem = moosec_c_member(a, f);
        const char *vt = moosec_c_value_type(a, m, f);
        bool nested = f->type.kind == MOOSEC_TYPE_MODEL;
        if (f->type.optional && !(nested && !f->type.array))
            E(out, 1, "bool has_%s;\n", f->name);
        if (f->type.array)
            E(out, 1, "MOOSE_ARRAY(%s) %s;", vt, mem);
        else if (nested && f->type.optional)
            E(out, 1, "%s *%s; /* NULL when absent */", vt, mem);
        else
            E(out, 1, "%s %s;", vt, mem);
        put_field_comment(out, f);
        fputc('\n', out);
    }
    E(out, 0, "};\n\n");

    /* defaults applied; arrays with a default list point at constant data */
    for (size_t i = 0; i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        if (f->type.array && f->default_value && f->default_value->items.len)
            E(out, 0, "extern const %s %s_%s_default_items[%zu];\n",
              moosec_c_value_type(a, m, f), m->name, f->name, f->default_value->items.len);
    }
    E(out, 0, "/* A record with every default applied (zero for fields without one). */\n");
    E(out, 0, "#define %s_INIT {", m->name);
    if (m->fields.len == 0)
        fputs("0", out);
    for (size_t i = 0; i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        const moosec_value *d = f->default_value;
        bool nested = f->type.kind == MOOSEC_TYPE_MODEL;
        fputs(i ? ", " : "", out);
        if (f->type.optional && !(nested && !f->type.array))
            fprintf(out, "%s, ", d ? "true" : "false");
        if (f->type.array) {
            if (d && d->items.len)
                fprintf(out, "{(%s *)%s_%s_default_items, %zu}", moosec_c_value_type(a, m, f),
                        m->name, f->name, d->items.len);
            else
                fputs("{NULL, 0}", out);
        } else if (d) {
            const char *init = moosec_c_value_init(a, m, f, d);
            fputs(init ? init : value_zero(a, m, f), out);
        } else {
            fputs(value_zero(a, m, f), out);
        }
    }
    fputs("}\n\n", out);

    E(out, 0, "/* Sets REC to %s_INIT. */\n", m->name);
    E(out, 0, "void %s_init(%s *rec);\n", m->name, m->name);
    E(out, 0,
      "/*\n"
      " * Parses one JSON object (strict RFC 8259) into REC. Strings, arrays and\n"
      " * optional nested records are allocated in ARENA and live as long as it does.\n"
      " * Returns 0, or a negative moose error code with the reason, its byte offset\n"
      " * and field path in ERRS (may be NULL). OPTS may be NULL (the defaults).\n"
      " */\n");
    E(out, 0,
      "int %s_from_json(%s *rec, const char *json, size_t len, moose_arena *arena,\n"
      "    const moose_decode_options *opts, moose_errors *errs);\n",
      m->name, m->name);
    E(out, 0, "/* Appends REC as one JSON object, fields in declared order. Returns 0 or a negative code. */\n");
    E(out, 0, "int %s_to_json(const %s *rec, moose_buf *out);\n", m->name, m->name);
    E(out, 0, "/* Checks every constraint; records every failure. Returns 0 or MOOSE_EVALIDATION. */\n");
    E(out, 0, "int %s_validate(const %s *rec, moose_errors *errs);\n", m->name, m->name);
    E(out, 0, "extern const moose_model_desc %s_desc;\n\n", m->name);
}

static void put_transform(FILE *out, const moosec_transform *t) {
    const moosec_stream *src = t->source.stream;
    E(out, 0, "/* ---- transform %s: %s ->", t->name, t->source.name);
    for (size_t j = 0; j < t->destinations.len; j++)
        fprintf(out, "%s %s", j ? "," : "", t->destinations.items[j].name);
    fputs(" ---- */\n\n", out);
    E(out, 0, "typedef struct %s_out {\n", t->name);
    E(out, 1, "moose_transform_ctx *ctx;\n");
    E(out, 0, "} %s_out;\n\n", t->name);
    if (t->destinations.len == 1) {
        const moosec_stream *d = t->destinations.items[0].stream;
        E(out, 0, "/* Queues REC for %s (validated, copied); call it zero, one or many times. */\n",
          d->name);
        E(out, 0, "static inline int %s_emit(%s_out *out, const %s *rec) {\n", t->name, t->name,
          d->model->name);
        E(out, 1, "return moose_transform_emit(out->ctx, 0, rec);\n");
        E(out, 0, "}\n\n");
    } else {
        for (size_t j = 0; j < t->destinations.len; j++) {
            const moosec_stream *d = t->destinations.items[j].stream;
            E(out, 0, "static inline int %s_emit_%s(%s_out *out, const %s *rec) {\n", t->name,
              d->name, t->name, d->model->name);
            E(out, 1, "return moose_transform_emit(out->ctx, %zuu, rec);\n", j);
            E(out, 0, "}\n");
        }
        fputc('\n', out);
    }
    E(out, 0, "/* Written by you (see moosec stubs): 0, or moose_transform_fail(out->ctx, ...). */\n");
    E(out, 0, "int %s(const %s *in, %s_out *out);\n", t->name, src->model->name, t->name);
    E(out, 0, "extern const moose_transform_desc %s_transform;\n\n", t->name);
}

void moosec_gen_header(FILE *out, const moosec_schema *schema, const char *base) {
    moosec_arena arena;
    moosec_arena_init(&arena);
    moosec_arena *a = &arena;
    const char *ident = moosec_c_ident(a, base);
    const char *guard = moosec_c_upper(a, ident);

    E(out, 0, "/*\n * Generated by moosec from %s.moose. Do not edit: change the schema and\n"
              " * run `moosec gen` again.\n *\n"
              " * Ownership: a decoded record owns nothing. Its strings, arrays and optional\n"
              " * nested records live in the moose_arena given to <Model>_from_json(), and\n"
              " * are released by resetting or freeing that arena.\n */\n",
      base);
    E(out, 0, "#ifndef %s_MOOSE_H\n#define %s_MOOSE_H\n\n", guard, guard);
    E(out, 0, "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n\n");
    E(out, 0, "#include \"moose/app.h\"\n#include \"moose/codec.h\"\n#include \"moose/schema.h\"\n"
              "#include \"moose/transform.h\"\n\n");
    E(out, 0, "#if MOOSE_ABI_VERSION != 1\n"
              "#error \"%s.moose.h was generated for libmoose ABI 1; regenerate it with moosec gen\"\n"
              "#endif\n\n",
      base);
    E(out, 0, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");

    for (size_t i = 0; i < schema->models.len; i++)
        E(out, 0, "typedef struct %s %s;\n", schema->models.items[i]->name,
          schema->models.items[i]->name);
    if (schema->models.len)
        fputc('\n', out);
    const moosec_model **order = moosec_c_model_order(a, schema);
    for (size_t i = 0; i < schema->models.len; i++)
        put_model(out, a, order[i]);

    if (schema->tables.len) {
        E(out, 0, "/* ---- tables ---- */\n\n");
        for (size_t i = 0; i < schema->tables.len; i++)
            E(out, 0, "extern const moose_table_desc %s_table;\n", schema->tables.items[i]->name);
        fputc('\n', out);
    }
    for (size_t i = 0; i < schema->streams.len; i++) {
        const moosec_stream *s = schema->streams.items[i];
        const char *mn = s->model->name;
        E(out, 0, "/* ---- stream %s (topic \"%s\") of %s ---- */\n\n", s->name, s->topic, mn);
        E(out, 0, "extern const moose_stream_desc %s_stream;\n\n", s->name);
        E(out, 0, "/* Validates, encodes and produces REC; waits for the acknowledgement. */\n");
        E(out, 0, "static inline int %s_write(moose_app *app, const %s *rec, moose_errors *errs) {\n",
          s->name, mn);
        E(out, 1, "return moose_write(app, &%s_stream, rec, errs);\n", s->name);
        E(out, 0, "}\n\n");
        E(out, 0, "/* Like %s_write() but returns once queued; CB reports the acknowledgement. */\n",
          s->name);
        E(out, 0,
          "static inline int %s_write_async(moose_app *app, const %s *rec, moose_errors *errs,\n"
          "    moose_write_cb cb, void *opaque) {\n",
          s->name, mn);
        E(out, 1, "return moose_write_async(app, &%s_stream, rec, errs, cb, opaque);\n", s->name);
        E(out, 0, "}\n\n");
    }
    for (size_t i = 0; i < schema->transforms.len; i++)
        put_transform(out, schema->transforms.items[i]);

    E(out, 0, "/* ---- the app: every model, table, stream and transform above ---- */\n\n");
    E(out, 0, "extern const moose_app_desc %s_app;\n\n", ident);
    E(out, 0, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    moosec_arena_free(&arena);
}
