/*
 * Models: field names, field types (references to other models resolved),
 * the Key field, constraints, and models that would contain themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_c.h"
#include "sema_internal.h"

static bool key_kind_ok(moosec_type_kind k) {
    switch (k) {
    case MOOSEC_TYPE_STRING:
    case MOOSEC_TYPE_INT8:
    case MOOSEC_TYPE_INT16:
    case MOOSEC_TYPE_INT32:
    case MOOSEC_TYPE_INT64:
    case MOOSEC_TYPE_UINT8:
    case MOOSEC_TYPE_UINT16:
    case MOOSEC_TYPE_UINT32:
    case MOOSEC_TYPE_UINT64:
    case MOOSEC_TYPE_UUID:
        return true;
    default:
        return false;
    }
}

static void check_field_name(moosec_sema *s, moosec_model *m, moosec_field *f) {
    const char *n = f->name;
    /* C keywords are fine JSON keys: the generator spells the member `default_` */
    bool c_word = moosec__c_reserved_word(n);
    const char *member = c_word ? moosec_c_member(s->arena, f) : n;
    if (member != n && strcmp(member, n) != 0) {
        moosec_field *other = moosec__model_field(s, m, member);
        if (other) {
            moosec_error(s->diag, f->loc,
                         "field '%s' is a C keyword, so its C member is '%s': the name of "
                         "another field",
                         n, member);
            moosec_note(s->diag, other->loc, "'%s' is declared here", other->name);
        }
    } else if (c_word) {
        moosec_error(s->diag, f->loc,
                     "field name '%s' is a keyword or macro in C that generated code cannot "
                     "use as a member",
                     n);
    } else if (n[0] == '_') {
        /* `_x` is legal C but `_X`/`__x` are reserved, and generated names append to it */
        moosec_error(s->diag, f->loc, "field name '%s' starts with '_', which generated C reserves",
                     n);
    } else if (strncmp(n, "has_", 4) == 0) {
        moosec_field *other = moosec__model_field(s, m, n + 4);
        /* an optional nested model is a pointer; every other optional has a flag */
        if (other && other->type.optional &&
            !(other->type.kind == MOOSEC_TYPE_MODEL && !other->type.array)) {
            moosec_error(s->diag, f->loc,
                         "field name '%s' clashes with the presence flag of optional field '%s'",
                         n, other->name);
            moosec_note(s->diag, other->loc, "'%s' is declared here", other->name);
        }
    }
}

static void resolve_field_type(moosec_sema *s, moosec_model *m, moosec_field *f) {
    moosec_type *t = &f->type;
    if (t->kind == MOOSEC_TYPE_MODEL) {
        t->model = moosec_symtab_get(&s->models, t->model_name);
        if (t->model) {
            if (t->model != m)
                s->model_used[t->model->index] = true;
        } else if (moosec_symtab_get(&s->streams, t->model_name)) {
            moosec_error(s->diag, t->loc, "'%s' is a stream, not a model", t->model_name);
        } else if (moosec_symtab_get(&s->tables, t->model_name)) {
            moosec_error(s->diag, t->loc, "'%s' is a table, not a model", t->model_name);
        } else {
            moosec_error(s->diag, t->loc, "unknown type '%s'%s", t->model_name,
                         moosec__did_you_mean(
                             s, moosec__suggest_in_table(s, &s->models, t->model_name)));
        }
    }
    if (t->elem_optional)
        moosec_error(s->diag, t->loc,
                     "arrays of optional elements (T?[]) are not supported: use T[] (an array "
                     "holds no missing values) or T[]? (an optional array)");
    if (t->kind == MOOSEC_TYPE_ENUM) {
        moosec_symtab seen;
        moosec_symtab_init(&seen, s->arena);
        for (size_t i = 0; i < t->members.len; i++) {
            moosec_enum_member *mem = &t->members.items[i];
            if (mem->name[0] == '\0') {
                moosec_error(s->diag, mem->loc, "an Enum member cannot be empty");
                continue;
            }
            moosec_enum_member *first = moosec_symtab_put(&seen, mem->name, mem);
            if (first)
                moosec__sema_duplicate(s, "Enum member", mem->name, mem->loc, first->loc);
        }
    }
}

static void check_key(moosec_sema *s, moosec_model *m, moosec_field *f) {
    moosec_type *t = &f->type;
    if (!t->key)
        return;
    if (m->key) {
        moosec_error(s->diag, t->loc, "model '%s' has a second Key field '%s' (one Key per model)",
                     m->name, f->name);
        moosec_note(s->diag, m->key->loc, "'%s' is its Key", m->key->name);
        return;
    }
    m->key = f;
    if (t->kind == MOOSEC_TYPE_MODEL)
        moosec_error(s->diag, t->loc,
                     "a nested model cannot be a Key: use String, an integer type or UUID");
    else if (!key_kind_ok(t->kind))
        moosec_error(s->diag, t->loc,
                     "Key<%s> cannot be a Kafka key: use String, an integer type or UUID",
                     moosec_type_kind_name(t->kind));
}

static void check_model(moosec_sema *s, moosec_model *m) {
    moosec_symtab names;
    moosec_symtab_init_sized(&names, s->arena, m->fields.len);
    if (m->fields.len == 0)
        moosec_error(s->diag, m->loc, "model '%s' has no fields", m->name);
    for (size_t i = 0; i < m->fields.len; i++) {
        moosec_field *f = m->fields.items[i];
        moosec_field *first = moosec_symtab_put(&names, f->name, f);
        if (first) {
            moosec__sema_duplicate(s, "field", f->name, f->loc, first->loc);
            continue;
        }
        check_field_name(s, m, f);
        resolve_field_type(s, m, f);
        if (f->type.kind == MOOSEC_TYPE_ENUM) {
            const char *what =
                moosec_arena_printf(s->arena, "the Enum type of field '%s.%s'", m->name, f->name);
            const char *type = moosec_c_enum_type(s->arena, m, f);
            moosec__sema_claim_symbol(s, type, what, f->loc);
            moosec__sema_claim_symbol(s, moosec_arena_printf(s->arena, "%s_names", type), what,
                                      f->loc);
        }
        check_key(s, m, f);
        moosec__sema_field_constraints(s, m, f);
    }
}

/* A field that embeds its model by value: without `?` or `[]` it has a fixed size. */
static moosec_model *embedded_model(const moosec_field *f) {
    const moosec_type *t = &f->type;
    if (t->kind != MOOSEC_TYPE_MODEL || t->optional || t->array)
        return NULL;
    return t->model;
}

typedef struct dfs_frame {
    moosec_model *model;
    size_t next; /* next field to follow */
} dfs_frame;

/*
 * Finds models that contain themselves by value (A { b: B } B { a: A }): such
 * a struct has no finite size. Iterative depth-first search, because a
 * generated schema may chain thousands of models.
 */
static void check_recursion(moosec_sema *s) {
    moosec_schema *sc = s->schema;
    size_t n = sc->models.len;
    unsigned char *state = moosec_arena_alloc(s->arena, n + 1); /* 0 new, 1 open, 2 done */
    dfs_frame *stack = moosec_arena_alloc(s->arena, (n + 1) * sizeof(*stack));
    for (size_t root = 0; root < n; root++) {
        if (state[root])
            continue;
        size_t depth = 0;
        stack[depth++] = (dfs_frame){sc->models.items[root], 0};
        state[root] = 1;
        while (depth) {
            dfs_frame *fr = &stack[depth - 1];
            if (fr->next == fr->model->fields.len) {
                state[fr->model->index] = 2;
                depth--;
                continue;
            }
            moosec_field *f = fr->model->fields.items[fr->next++];
            moosec_model *to = embedded_model(f);
            if (!to)
                continue;
            if (state[to->index] == 0) {
                state[to->index] = 1;
                stack[depth++] = (dfs_frame){to, 0};
                continue;
            }
            if (state[to->index] != 1)
                continue;
            /* the path from TO's frame to here is the cycle */
            size_t from = depth - 1;
            while (stack[from].model != to)
                from--;
            size_t cap = 64, len = 0;
            for (size_t i = from; i < depth; i++)
                cap += strlen(stack[i].model->name) + 8 +
                       strlen(stack[i].model->fields.items[stack[i].next - 1]->name);
            char *path = moosec_arena_alloc(s->arena, cap);
            for (size_t i = from; i < depth; i++) {
                const moosec_field *via = stack[i].model->fields.items[stack[i].next - 1];
                len += (size_t)snprintf(path + len, cap - len, "%s.%s -> ",
                                        stack[i].model->name, via->name);
            }
            snprintf(path + len, cap - len, "%s", to->name);
            moosec_error(s->diag, f->type.loc,
                         "model '%s' contains itself (%s): make one of these fields optional "
                         "(?) or an array ([])",
                         to->name, path);
        }
    }
}

void moosec__sema_models(moosec_sema *s) {
    for (size_t i = 0; i < s->schema->models.len; i++) {
        moosec_model *m = s->schema->models.items[i];
        if (moosec_symtab_get(&s->models, m->name) != m)
            continue; /* a duplicate, already reported */
        check_model(s, m);
    }
    check_recursion(s);
}
