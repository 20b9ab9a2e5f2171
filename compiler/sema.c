/*
 * The semantic checker's driver: declares every name, then checks models,
 * tables, streams and transforms in that order (each pass may rely on the
 * resolved parts filled by the ones before), then warns about what is
 * declared but never used.
 */
#include "sema.h"

#include <string.h>

#include "sema_internal.h"

const char *moosec__value_desc(const moosec_value *v) {
    switch (v->kind) {
    case MOOSEC_VALUE_INT:
        return "an integer";
    case MOOSEC_VALUE_FLOAT:
        return "a number";
    case MOOSEC_VALUE_STRING:
        return "a string literal";
    case MOOSEC_VALUE_BOOL:
        return "a boolean";
    case MOOSEC_VALUE_IDENT:
        return "a name";
    case MOOSEC_VALUE_DURATION:
        return "a duration";
    case MOOSEC_VALUE_LIST:
        return "a list";
    case MOOSEC_VALUE_OBJECT:
        return "an object";
    }
    return "a value";
}

void moosec__sema_duplicate(moosec_sema *s, const char *kind, const char *name, moosec_loc loc,
                            moosec_loc first) {
    moosec_error(s->diag, loc, "duplicate %s '%s'", kind, name);
    moosec_note(s->diag, first, "'%s' is first defined here", name);
}

const moosec_prop *moosec__sema_prop(const moosec_prop *const *props, size_t n,
                                     const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(props[i]->name, name) == 0)
            return props[i];
    return NULL;
}

void moosec__sema_check_props(moosec_sema *s, const moosec_prop *const *props, size_t n,
                              const char *const *known, const char *where) {
    for (size_t i = 0; i < n; i++) {
        const moosec_prop *p = props[i];
        bool ok = false;
        for (size_t k = 0; known[k]; k++)
            ok |= strcmp(known[k], p->name) == 0;
        if (!ok) {
            size_t nknown = 0;
            while (known[nknown])
                nknown++;
            const char *near = moosec__suggest_in_list(s, known, nknown, p->name);
            if (near) {
                moosec_error(s->diag, p->loc, "unknown %s '%s' (did you mean '%s'?)", where,
                             p->name, near);
                continue;
            }
            char list[256];
            size_t off = 0;
            for (size_t k = 0; known[k] && off < sizeof list; k++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                        k == 0 ? "" : ", ", known[k]);
            moosec_error(s->diag, p->loc, "unknown %s '%s' (known: %s)", where, p->name, list);
            continue;
        }
        const moosec_prop *first = moosec__sema_prop(props, i, p->name);
        if (first)
            moosec__sema_duplicate(s, where, p->name, p->loc, first->loc);
    }
}

moosec_field *moosec__model_field(moosec_sema *s, const moosec_model *m, const char *name) {
    moosec_symtab *fields = s->model_fields[m->index];
    if (!fields) {
        fields = moosec_arena_alloc(s->arena, sizeof(*fields));
        moosec_symtab_init_sized(fields, s->arena, m->fields.len);
        for (size_t i = 0; i < m->fields.len; i++)
            moosec_symtab_put(fields, m->fields.items[i]->name, m->fields.items[i]);
        s->model_fields[m->index] = fields;
    }
    return moosec_symtab_get(fields, name);
}

/* Enters every declaration's name; a duplicate keeps the first. */
static void sema_declare(moosec_sema *s) {
    moosec_schema *sc = s->schema;
    for (size_t i = 0; i < sc->models.len; i++) {
        moosec_model *m = sc->models.items[i];
        moosec_model *first = moosec_symtab_put(&s->models, m->name, m);
        if (first)
            moosec__sema_duplicate(s, "model", m->name, m->loc, first->loc);
        else
            moosec__sema_check_decl_name(s, "model", m->name, m->loc);
    }
    for (size_t i = 0; i < sc->tables.len; i++) {
        moosec_table *t = sc->tables.items[i];
        moosec_table *first = moosec_symtab_put(&s->tables, t->name, t);
        if (first)
            moosec__sema_duplicate(s, "table", t->name, t->loc, first->loc);
        else
            moosec__sema_check_decl_name(s, "table", t->name, t->loc);
    }
    for (size_t i = 0; i < sc->streams.len; i++) {
        moosec_stream *st = sc->streams.items[i];
        moosec_stream *first = moosec_symtab_put(&s->streams, st->name, st);
        if (first)
            moosec__sema_duplicate(s, "stream", st->name, st->loc, first->loc);
        else
            moosec__sema_check_decl_name(s, "stream", st->name, st->loc);
    }
    for (size_t i = 0; i < sc->transforms.len; i++) {
        moosec_transform *t = sc->transforms.items[i];
        moosec_transform *first = moosec_symtab_put(&s->transforms, t->name, t);
        if (first)
            moosec__sema_duplicate(s, "transform", t->name, t->loc, first->loc);
        else
            moosec__sema_check_decl_name(s, "transform", t->name, t->loc);
    }
}

static void sema_warn_unused(moosec_sema *s) {
    moosec_schema *sc = s->schema;
    for (size_t i = 0; i < sc->models.len; i++) {
        moosec_model *m = sc->models.items[i];
        if (!s->model_used[i] && moosec_symtab_get(&s->models, m->name) == m)
            moosec_warning(s->diag, m->loc,
                           "model '%s' is not used by any stream, table or other model",
                           m->name);
    }
}

unsigned moosec_sema_check(moosec_schema *schema, moosec_diag *diag) {
    unsigned errors_before = diag->errors;
    moosec_sema s;
    memset(&s, 0, sizeof s);
    s.schema = schema;
    s.diag = diag;
    s.arena = &schema->arena;
    moosec_symtab_init(&s.models, s.arena);
    moosec_symtab_init(&s.tables, s.arena);
    moosec_symtab_init(&s.streams, s.arena);
    moosec_symtab_init(&s.transforms, s.arena);
    moosec_symtab_init(&s.c_symbols, s.arena);
    s.model_used = moosec_arena_alloc(s.arena, (schema->models.len + 1) * sizeof(bool));
    s.model_fields =
        moosec_arena_alloc(s.arena, (schema->models.len + 1) * sizeof(*s.model_fields));

    sema_declare(&s);
    moosec__sema_models(&s);
    moosec__sema_tables(&s);
    moosec__sema_streams(&s);
    moosec__sema_sql_names(&s);
    moosec__sema_transforms(&s);
    sema_warn_unused(&s);
    return diag->errors - errors_before;
}
