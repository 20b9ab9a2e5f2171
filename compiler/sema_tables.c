/*
 * Tables: the model, the sort key (order_by, the Key by default), the engine
 * and the batch sizes of the table sink.
 */
#include <stdint.h>
#include <string.h>

#include "sema_internal.h"

static const char *const table_props[] = {
    "order_by", "engine", "batch_rows", "batch_bytes", "batch_ms", NULL,
};

#define BATCH_ROWS_MAX 10000000
#define BATCH_BYTES_MAX (4LL * 1024 * 1024 * 1024)
#define BATCH_MS_MAX 3600000

static const moosec_prop *prop(const moosec_table *t, const char *name) {
    return moosec__sema_prop((const moosec_prop *const *)t->props.items, t->props.len, name);
}

static void check_order_by(moosec_sema *s, moosec_table *t) {
    const moosec_prop *p = prop(t, "order_by");
    moosec_model *m = t->model;
    if (!p) {
        if (m->key)
            MOOSEC_VEC_PUSH(s->arena, t->order_by, m->key);
        else
            moosec_error(s->diag, t->loc,
                         "table '%s' needs an order_by: its model '%s' has no Key field", t->name,
                         m->name);
        return;
    }
    const moosec_value *v = p->value;
    const moosec_value *const *cols = (const moosec_value *const *)&v;
    size_t ncols = 1;
    if (v->kind == MOOSEC_VALUE_LIST) {
        cols = (const moosec_value *const *)v->items.items;
        ncols = v->items.len;
        if (ncols == 0) {
            moosec_error(s->diag, v->loc, "order_by needs at least one column");
            return;
        }
    }
    /* the columns seen so far: a hash, as the list may be as long as the model */
    moosec_symtab seen;
    moosec_symtab_init_sized(&seen, s->arena, ncols);
    for (size_t i = 0; i < ncols; i++) {
        const moosec_value *c = cols[i];
        if (c->kind != MOOSEC_VALUE_IDENT) {
            moosec_error(s->diag, c->loc, "order_by takes column names: [id, timestamp], found %s",
                         moosec__value_desc(c));
            continue;
        }
        moosec_field *f = moosec__model_field(s, m, c->text);
        if (!f) {
            const char *near = NULL;
            /* past the error limit the message is not printed: no list, no search */
            if (moosec_diag_error_shown(s->diag)) {
                const char **names =
                    moosec_arena_alloc(s->arena, (m->fields.len + 1) * sizeof(char *));
                for (size_t k = 0; k < m->fields.len; k++)
                    names[k] = m->fields.items[k]->name;
                near = moosec__suggest_in_list(s, names, m->fields.len, c->text);
            }
            moosec_error(s->diag, c->loc, "order_by names unknown column '%s' of model '%s'%s",
                         c->text, m->name, moosec__did_you_mean(s, near));
            continue;
        }
        if (moosec_symtab_put(&seen, c->text, (void *)(uintptr_t)(i + 1))) {
            moosec_error(s->diag, c->loc, "order_by names column '%s' twice", c->text);
            continue;
        }
        if (f->type.optional || f->type.array || f->type.kind == MOOSEC_TYPE_MODEL) {
            moosec_error(s->diag, c->loc,
                         "order_by column '%s' is %s: a sort key needs a plain value in every row",
                         c->text,
                         f->type.kind == MOOSEC_TYPE_MODEL ? "a nested model"
                         : f->type.array                   ? "an array"
                                                           : "optional");
            continue;
        }
        MOOSEC_VEC_PUSH(s->arena, t->order_by, f);
    }
    if (t->engine == MOOSEC_ENGINE_MERGE_TREE || !m->key || t->order_by.len != ncols)
        return;
    for (size_t i = 0; i < t->order_by.len; i++)
        if (t->order_by.items[i] == m->key)
            return;
    /* ReplacingMergeTree deduplicates rows equal in the sort key */
    moosec_error(s->diag, p->loc,
                 "order_by of table '%s' leaves out the Key '%s': rows with different keys "
                 "would replace each other (add '%s', or use engine: MergeTree)",
                 t->name, m->key->name, m->key->name);
}

static void check_engine(moosec_sema *s, moosec_table *t) {
    const moosec_prop *p = prop(t, "engine");
    if (!p)
        return;
    const moosec_value *v = p->value;
    if (v->kind != MOOSEC_VALUE_IDENT && v->kind != MOOSEC_VALUE_STRING) {
        moosec_error(s->diag, v->loc, "engine must be ReplacingMergeTree or MergeTree, found %s",
                     moosec__value_desc(v));
    } else if (strcmp(v->text, "ReplacingMergeTree") == 0) {
        t->engine = MOOSEC_ENGINE_REPLACING_MERGE_TREE;
    } else if (strcmp(v->text, "MergeTree") == 0) {
        t->engine = MOOSEC_ENGINE_MERGE_TREE;
    } else {
        moosec_error(s->diag, v->loc,
                     "unknown engine '%s' (known: ReplacingMergeTree, MergeTree)", v->text);
    }
}

/* An integer property from 1 to MAX; DURATION_MS accepts `5s` as 5000. */
static int64_t batch_prop(moosec_sema *s, moosec_table *t, const char *name, int64_t max,
                          bool duration_ms) {
    const moosec_prop *p = prop(t, name);
    if (!p)
        return 0;
    const moosec_value *v = p->value;
    int64_t n;
    if (v->kind == MOOSEC_VALUE_INT && !v->int_overflow) {
        n = v->i;
    } else if (duration_ms && v->kind == MOOSEC_VALUE_DURATION) {
        n = v->i > INT64_MAX / 1000 ? INT64_MAX : v->i * 1000;
    } else {
        moosec_error(s->diag, v->loc, "%s must be %s, found %s", name,
                     duration_ms ? "an integer (milliseconds) or a duration" : "an integer",
                     v->kind == MOOSEC_VALUE_INT ? "a number too large"
                                                 : moosec__value_desc(v));
        return 0;
    }
    if (n < 1 || n > max) {
        moosec_error(s->diag, v->loc, "%s must be from 1 to %lld, not %s", name, (long long)max,
                     v->text);
        return 0;
    }
    return n;
}

static char *lower(moosec_arena *arena, const char *name) {
    char *l = moosec_arena_strdup(arena, name);
    for (char *p = l; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return l;
}

/*
 * SQLite compares table and column names without case ("Name" and "name"
 * are one column there, even quoted), so names that differ only in case
 * would fail at CREATE TABLE, far from the schema.
 */
void moosec__sema_sql_names(moosec_sema *s) {
    moosec_symtab tables, checked_models;
    moosec_symtab_init(&tables, s->arena);
    moosec_symtab_init(&checked_models, s->arena);
    for (size_t i = 0; i < s->schema->tables.len; i++) {
        moosec_table *t = s->schema->tables.items[i];
        if (moosec_symtab_get(&s->tables, t->name) != t)
            continue;
        moosec_table *first = moosec_symtab_put(&tables, lower(s->arena, t->name), t);
        if (first) {
            moosec_error(s->diag, t->loc,
                         "tables '%s' and '%s' differ only in case, which SQLite ignores",
                         first->name, t->name);
            moosec_note(s->diag, first->loc, "table '%s' is declared here", first->name);
        }
        moosec_model *m = t->model;
        if (!m || moosec_symtab_put(&checked_models, m->name, m))
            continue;
        moosec_symtab columns;
        moosec_symtab_init_sized(&columns, s->arena, m->fields.len);
        for (size_t j = 0; j < m->fields.len; j++) {
            moosec_field *f = m->fields.items[j];
            moosec_field *other = moosec_symtab_put(&columns, lower(s->arena, f->name), f);
            if (other && strcmp(other->name, f->name) != 0) {
                moosec_error(s->diag, f->loc,
                             "fields '%s' and '%s' of model '%s' differ only in case: as "
                             "columns of table '%s' SQLite would take them for one",
                             other->name, f->name, m->name, t->name);
                moosec_note(s->diag, other->loc, "'%s' is declared here", other->name);
            }
        }
    }
}

void moosec__sema_tables(moosec_sema *s) {
    for (size_t i = 0; i < s->schema->tables.len; i++) {
        moosec_table *t = s->schema->tables.items[i];
        if (moosec_symtab_get(&s->tables, t->name) != t)
            continue;
        moosec__sema_check_props(s, (const moosec_prop *const *)t->props.items, t->props.len,
                                 table_props, "table property");
        t->model = moosec_symtab_get(&s->models, t->model_name);
        if (!t->model) {
            if (moosec_symtab_get(&s->streams, t->model_name))
                moosec_error(s->diag, t->model_loc, "'%s' is a stream, not a model",
                             t->model_name);
            else
                moosec_error(s->diag, t->model_loc, "unknown model '%s'%s", t->model_name,
                             moosec__did_you_mean(
                                 s, moosec__suggest_in_table(s, &s->models, t->model_name)));
            continue;
        }
        s->model_used[t->model->index] = true;
        check_engine(s, t);
        check_order_by(s, t);
        t->batch_rows = batch_prop(s, t, "batch_rows", BATCH_ROWS_MAX, false);
        t->batch_bytes = batch_prop(s, t, "batch_bytes", BATCH_BYTES_MAX, false);
        t->batch_ms = batch_prop(s, t, "batch_ms", BATCH_MS_MAX, true);
    }
}
