/*
 * Transforms: the source and destination streams, fan-out lists, and cycles
 * (a record that would flow round the same streams for ever).
 */
#include <stdint.h>
#include <string.h>

#include "sema_internal.h"

static moosec_stream *resolve_stream(moosec_sema *s, moosec_stream_ref *r) {
    r->stream = moosec_symtab_get(&s->streams, r->name);
    if (r->stream)
        return r->stream;
    if (moosec_symtab_get(&s->tables, r->name))
        moosec_error(s->diag, r->loc, "'%s' is a table; a transform reads and writes streams",
                     r->name);
    else if (moosec_symtab_get(&s->models, r->name))
        moosec_error(s->diag, r->loc, "'%s' is a model; a transform reads and writes streams",
                     r->name);
    else
        moosec_error(s->diag, r->loc, "unknown stream '%s'%s", r->name,
                     moosec__did_you_mean(s,
                                          moosec__suggest_in_table(s, &s->streams, r->name)));
    return NULL;
}

typedef struct edge {
    size_t to;
    const moosec_transform *via;
    moosec_loc loc; /* the destination as written */
} edge;

typedef struct frame {
    size_t node, next;
} frame;

/* Iterative depth-first search over streams; an edge back to an open stream closes a cycle. */
static void check_cycles(moosec_sema *s, const size_t *first, const edge *edges, size_t n) {
    unsigned char *state = moosec_arena_alloc(s->arena, n + 1);
    frame *stack = moosec_arena_alloc(s->arena, (n + 1) * sizeof(*stack));
    const edge **via = moosec_arena_alloc(s->arena, (n + 1) * sizeof(*via));
    moosec_stream **streams = s->schema->streams.items;
    for (size_t root = 0; root < n; root++) {
        if (state[root])
            continue;
        size_t depth = 0;
        stack[depth++] = (frame){root, first[root]};
        state[root] = 1;
        while (depth) {
            frame *fr = &stack[depth - 1];
            if (fr->next == first[fr->node + 1]) {
                state[fr->node] = 2;
                depth--;
                continue;
            }
            const edge *e = &edges[fr->next++];
            via[depth - 1] = e;
            if (state[e->to] == 0) {
                state[e->to] = 1;
                stack[depth++] = (frame){e->to, first[e->to]};
                continue;
            }
            if (state[e->to] != 1)
                continue;
            size_t from = depth - 1;
            while (stack[from].node != e->to)
                from--;
            size_t cap = 64, len = 0;
            for (size_t i = from; i < depth; i++)
                cap += strlen(streams[stack[i].node]->name) + strlen(via[i]->via->name) + 8;
            char *path = moosec_arena_alloc(s->arena, cap);
            for (size_t i = from; i < depth; i++)
                len += (size_t)snprintf(path + len, cap - len, "%s -(%s)-> ",
                                        streams[stack[i].node]->name, via[i]->via->name);
            snprintf(path + len, cap - len, "%s", streams[e->to]->name);
            moosec_error(s->diag, e->loc,
                         "transforms form a cycle: %s; a record would flow round it for ever",
                         path);
        }
    }
}

void moosec__sema_transforms(moosec_sema *s) {
    moosec_schema *sc = s->schema;
    size_t n = sc->streams.len;
    moosec_symtab index;
    moosec_symtab_init(&index, s->arena);
    for (size_t i = 0; i < n; i++)
        moosec_symtab_put(&index, sc->streams.items[i]->name, (void *)(uintptr_t)(i + 1));

    /* edges grouped by source stream (counting sort): first[i]..first[i+1] */
    size_t nedges = 0;
    for (size_t i = 0; i < sc->transforms.len; i++)
        nedges += sc->transforms.items[i]->destinations.len;
    size_t *first = moosec_arena_alloc(s->arena, (n + 2) * sizeof(*first));
    edge *edges = moosec_arena_alloc(s->arena, (nedges + 1) * sizeof(*edges));
    size_t *src_of = moosec_arena_alloc(s->arena, (nedges + 1) * sizeof(*src_of));
    edge *pending = moosec_arena_alloc(s->arena, (nedges + 1) * sizeof(*pending));
    size_t npending = 0;

    for (size_t i = 0; i < sc->transforms.len; i++) {
        moosec_transform *t = sc->transforms.items[i];
        if (moosec_symtab_get(&s->transforms, t->name) != t)
            continue;
        moosec_stream *src = resolve_stream(s, &t->source);
        /* destinations named so far: a hash, as a fan-out may name every stream */
        moosec_symtab named;
        moosec_symtab_init_sized(&named, s->arena, t->destinations.len);
        for (size_t j = 0; j < t->destinations.len; j++) {
            moosec_stream_ref *d = &t->destinations.items[j];
            moosec_stream *dst = resolve_stream(s, d);
            const moosec_stream_ref *earlier = moosec_symtab_put(&named, d->name, d);
            if (earlier) {
                moosec_error(s->diag, d->loc, "transform '%s' names destination '%s' twice",
                             t->name, d->name);
                moosec_note(s->diag, earlier->loc, "'%s' is first named here", d->name);
                continue;
            }
            if (t->destinations.len > 1)
                moosec__sema_claim_symbol(
                    s, moosec_arena_printf(s->arena, "%s_emit_%s", t->name, d->name),
                    moosec_arena_printf(s->arena, "transform '%s'", t->name), d->loc);
            if (!src || !dst)
                continue;
            if (src == dst) {
                moosec_error(s->diag, d->loc,
                             "transform '%s' reads and writes the same stream '%s'", t->name,
                             d->name);
                continue;
            }
            size_t from = (size_t)(uintptr_t)moosec_symtab_get(&index, src->name) - 1;
            size_t to = (size_t)(uintptr_t)moosec_symtab_get(&index, dst->name) - 1;
            pending[npending] = (edge){to, t, d->loc};
            src_of[npending++] = from;
        }
    }
    for (size_t i = 0; i < npending; i++)
        first[src_of[i] + 1]++;
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    size_t *fill = moosec_arena_alloc(s->arena, (n + 1) * sizeof(*fill));
    memcpy(fill, first, (n + 1) * sizeof(*fill));
    for (size_t i = 0; i < npending; i++)
        edges[fill[src_of[i]]++] = pending[i];
    check_cycles(s, first, edges, n);
}
