/*
 * Streams: the model (which must have a Key: it is the Kafka message key),
 * the topic, the destination table (declared, or implied and created here),
 * parallelism, retention and the validation policy.
 */
#include <string.h>

#include "sema_internal.h"

static const char *const stream_props[] = {
    "name", "destination", "parallelism", "retention_period", "validation", NULL,
};
static const char *const validation_props[] = {"on_invalid", "allow_extra_fields", NULL};

#define PARALLELISM_MAX 1024
#define KAFKA_TOPIC_MAX 249
/* every stream also has a dead letter queue topic "<topic>.dlq", which Kafka must accept too */
#define DLQ_SUFFIX ".dlq"
#define TOPIC_MAX (KAFKA_TOPIC_MAX - (int)(sizeof DLQ_SUFFIX - 1))

static const moosec_prop *prop(const moosec_stream *st, const char *name) {
    return moosec__sema_prop((const moosec_prop *const *)st->props.items, st->props.len, name);
}

static void wrong_kind(moosec_sema *s, const char *name, const moosec_value *v,
                       const char *expected) {
    moosec_error(s->diag, v->loc, "%s must be %s, found %s", name, expected,
                 moosec__value_desc(v));
}

/* Kafka's rule for topic names (kafka.common.internals.Topic). */
static bool check_topic(moosec_sema *s, moosec_stream *st, moosec_loc loc) {
    const char *t = st->topic;
    size_t len = strlen(t);
    if (len == 0) {
        moosec_error(s->diag, loc, "topic name cannot be empty");
        return false;
    }
    if (len > TOPIC_MAX) {
        moosec_error(s->diag, loc,
                     "topic name is %zu characters long; at most %d leave room for its dead "
                     "letter queue \"<topic>%s\" within Kafka's %d",
                     len, TOPIC_MAX, DLQ_SUFFIX, KAFKA_TOPIC_MAX);
        return false;
    }
    if (strncmp(t, "__", 2) == 0)
        moosec_warning(s->diag, loc,
                       "topic name \"%s\" starts with '__', which Kafka keeps for its internal "
                       "topics",
                       t);
    if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0) {
        moosec_error(s->diag, loc, "topic name cannot be '%s'", t);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
                moosec_error(s->diag, loc,
                             "topic name \"%s\" contains '%c': Kafka allows only letters, "
                             "digits, '.', '_' and '-'",
                             t, c);
            else if ((unsigned char)c >= 0x80)
                moosec_error(s->diag, loc,
                             "topic name \"%s\" contains a non-ASCII character: Kafka allows "
                             "only letters, digits, '.', '_' and '-'",
                             t);
            else
                moosec_error(s->diag, loc,
                             "topic name contains control character 0x%02x: Kafka allows only "
                             "letters, digits, '.', '_' and '-'",
                             (unsigned char)c);
            return false;
        }
    }
    return true;
}

/*
 * Kafka's metrics turn '.' into '_', so "a.b" and "a_b" collide there (the
 * broker warns on creation); the schema still works, hence a warning.
 */
static void check_metric_collision(moosec_sema *s, moosec_stream *st, moosec_loc loc,
                                   moosec_symtab *metric_names) {
    char *norm = moosec_arena_strdup(s->arena, st->topic);
    for (char *p = norm; *p; p++)
        if (*p == '.')
            *p = '_';
    moosec_stream *first = moosec_symtab_put(metric_names, norm, st);
    if (first && strcmp(first->topic, st->topic) != 0) {
        moosec_warning(s->diag, loc,
                       "topics \"%s\" and \"%s\" differ only in '.' and '_', which collide in "
                       "Kafka's metric names",
                       first->topic, st->topic);
        moosec_note(s->diag, first->loc, "stream '%s' is declared here", first->name);
    }
}

static void check_name(moosec_sema *s, moosec_stream *st, moosec_symtab *topics,
                       moosec_symtab *metric_names) {
    const moosec_prop *p = prop(st, "name");
    moosec_loc loc = st->loc;
    st->topic = st->name;
    if (p) {
        if (p->value->kind != MOOSEC_VALUE_STRING) {
            wrong_kind(s, "name", p->value, "the topic name as a string literal");
            return;
        }
        st->topic = p->value->text;
        loc = p->value->loc;
        if (strlen(st->topic) != p->value->text_len) {
            moosec_error(s->diag, loc, "topic name cannot contain a NUL character");
            return;
        }
    }
    if (!check_topic(s, st, loc))
        return;
    moosec_stream *first = moosec_symtab_put(topics, st->topic, st);
    if (first) {
        moosec_error(s->diag, loc, "streams '%s' and '%s' use the same topic \"%s\"", first->name,
                     st->name, st->topic);
        moosec_note(s->diag, first->loc, "stream '%s' is declared here", first->name);
        return;
    }
    check_metric_collision(s, st, loc, metric_names);
}

static moosec_table *implied_table(moosec_sema *s, moosec_stream *st, const moosec_value *v) {
    moosec_table *t = moosec_arena_alloc(s->arena, sizeof(*t));
    t->name = v->text;
    t->loc = v->loc;
    t->model_name = st->model_name;
    t->model_loc = st->model_loc;
    t->implied = true;
    t->model = st->model;
    if (st->model->key)
        MOOSEC_VEC_PUSH(s->arena, t->order_by, st->model->key);
    MOOSEC_VEC_PUSH(s->arena, s->schema->tables, t);
    moosec_symtab_put(&s->tables, t->name, t);
    moosec__sema_check_decl_name(s, "table", t->name, t->loc);
    return t;
}

static void check_destination(moosec_sema *s, moosec_stream *st, moosec_symtab *used_tables) {
    const moosec_prop *p = prop(st, "destination");
    if (!p)
        return;
    const moosec_value *v = p->value;
    if (v->kind != MOOSEC_VALUE_IDENT) {
        wrong_kind(s, "destination", v, "a table name");
        return;
    }
    moosec_table *t = moosec_symtab_get(&s->tables, v->text);
    if (!t) {
        if (moosec_symtab_get(&s->streams, v->text)) {
            moosec_error(s->diag, v->loc,
                         "destination '%s' is a stream; a destination is a table (streams are "
                         "joined by a transform)",
                         v->text);
            return;
        }
        if (st->model)
            st->destination = implied_table(s, st, v);
        return;
    }
    moosec_symtab_put(used_tables, t->name, t);
    if (t->model && st->model && t->model != st->model) {
        moosec_error(s->diag, v->loc,
                     "destination table '%s' holds model '%s', but stream '%s' carries model '%s'",
                     t->name, t->model->name, st->name, st->model->name);
        if (t->implied)
            moosec_note(s->diag, t->loc, "table '%s' is implied here, for model '%s'", t->name,
                        t->model->name);
        else
            moosec_note(s->diag, t->loc, "table '%s' is declared here", t->name);
        return;
    }
    st->destination = t;
}

static void check_parallelism(moosec_sema *s, moosec_stream *st) {
    const moosec_prop *p = prop(st, "parallelism");
    if (!p)
        return;
    const moosec_value *v = p->value;
    if (v->kind != MOOSEC_VALUE_INT) {
        wrong_kind(s, "parallelism", v, "an integer");
        return;
    }
    if (v->int_overflow || v->i < 1 || v->i > PARALLELISM_MAX) {
        moosec_error(s->diag, v->loc, "parallelism must be from 1 to %d, not %s",
                     PARALLELISM_MAX, v->text);
        return;
    }
    st->parallelism = v->i;
}

static void check_retention(moosec_sema *s, moosec_stream *st) {
    const moosec_prop *p = prop(st, "retention_period");
    if (!p)
        return;
    const moosec_value *v = p->value;
    if (v->kind != MOOSEC_VALUE_INT && v->kind != MOOSEC_VALUE_DURATION) {
        wrong_kind(s, "retention_period", v, "seconds or a duration (30s, 15m, 12h, 7d)");
        return;
    }
    if (v->int_overflow) {
        moosec_error(s->diag, v->loc, "retention_period %s is too long", v->text);
        return;
    }
    if (v->i <= 0) {
        moosec_error(s->diag, v->loc, "retention_period must be positive, not %s", v->text);
        return;
    }
    st->retention_s = v->i;
}

static void check_validation(moosec_sema *s, moosec_stream *st) {
    const moosec_prop *p = prop(st, "validation");
    if (!p)
        return;
    const moosec_value *v = p->value;
    if (v->kind != MOOSEC_VALUE_OBJECT) {
        wrong_kind(s, "validation", v,
                   "an object: { on_invalid: dead_letter, allow_extra_fields: false }");
        return;
    }
    const moosec_prop *const *props = (const moosec_prop *const *)v->props.items;
    moosec__sema_check_props(s, props, v->props.len, validation_props, "validation property");
    const moosec_prop *oi = moosec__sema_prop(props, v->props.len, "on_invalid");
    if (oi) {
        const moosec_value *o = oi->value;
        if (o->kind == MOOSEC_VALUE_IDENT && strcmp(o->text, "dead_letter") == 0)
            st->on_invalid = MOOSEC_ON_INVALID_DEAD_LETTER;
        else if (o->kind == MOOSEC_VALUE_IDENT && strcmp(o->text, "reject") == 0)
            st->on_invalid = MOOSEC_ON_INVALID_REJECT;
        else if (o->kind == MOOSEC_VALUE_IDENT)
            moosec_error(s->diag, o->loc,
                         "unknown on_invalid policy '%s' (known: dead_letter, reject)", o->text);
        else
            wrong_kind(s, "on_invalid", o, "dead_letter or reject");
    }
    const moosec_prop *ae = moosec__sema_prop(props, v->props.len, "allow_extra_fields");
    if (ae) {
        if (ae->value->kind == MOOSEC_VALUE_BOOL)
            st->allow_extra_fields = ae->value->b;
        else
            wrong_kind(s, "allow_extra_fields", ae->value, "true or false");
    }
}

void moosec__sema_streams(moosec_sema *s) {
    moosec_symtab topics, metric_names, used_tables;
    moosec_symtab_init(&topics, s->arena);
    moosec_symtab_init(&metric_names, s->arena);
    moosec_symtab_init(&used_tables, s->arena);
    size_t declared_tables = s->schema->tables.len;
    for (size_t i = 0; i < s->schema->streams.len; i++) {
        moosec_stream *st = s->schema->streams.items[i];
        if (moosec_symtab_get(&s->streams, st->name) != st)
            continue;
        moosec__sema_check_props(s, (const moosec_prop *const *)st->props.items, st->props.len,
                                 stream_props, "stream property");
        st->model = moosec_symtab_get(&s->models, st->model_name);
        if (!st->model) {
            if (moosec_symtab_get(&s->tables, st->model_name))
                moosec_error(s->diag, st->model_loc, "'%s' is a table, not a model",
                             st->model_name);
            else
                moosec_error(s->diag, st->model_loc, "unknown model '%s'%s", st->model_name,
                             moosec__did_you_mean(
                                 s, moosec__suggest_in_table(s, &s->models, st->model_name)));
        } else {
            s->model_used[st->model->index] = true;
            if (!st->model->key) {
                moosec_error(s->diag, st->model_loc,
                             "stream '%s' needs a Key: model '%s' has no Key field (its value "
                             "is the Kafka message key)",
                             st->name, st->model->name);
                moosec_note(s->diag, st->model->loc, "model '%s' is declared here",
                            st->model->name);
            }
        }
        check_name(s, st, &topics, &metric_names);
        check_destination(s, st, &used_tables);
        check_parallelism(s, st);
        check_retention(s, st);
        check_validation(s, st);
    }
    /* a topic that is another stream's dead letter queue would mix the two */
    for (size_t i = 0; i < s->schema->streams.len; i++) {
        moosec_stream *st = s->schema->streams.items[i];
        if (!st->topic || moosec_symtab_get(&topics, st->topic) != st)
            continue;
        const char *dlq = moosec_arena_printf(s->arena, "%s%s", st->topic, DLQ_SUFFIX);
        moosec_stream *other = moosec_symtab_get(&topics, dlq);
        if (!other)
            continue;
        const moosec_prop *p = prop(other, "name");
        moosec_error(s->diag, p ? p->value->loc : other->loc,
                     "topic \"%s\" of stream '%s' is the dead letter queue of stream '%s'",
                     other->topic, other->name, st->name);
        moosec_note(s->diag, st->loc, "stream '%s' is declared here", st->name);
    }
    for (size_t i = 0; i < declared_tables; i++) {
        moosec_table *t = s->schema->tables.items[i];
        if (moosec_symtab_get(&s->tables, t->name) == t && !moosec_symtab_get(&used_tables, t->name))
            moosec_warning(s->diag, t->loc, "table '%s' is not the destination of any stream",
                           t->name);
    }
}
