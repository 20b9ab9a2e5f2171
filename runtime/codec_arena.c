/*
 * The arena that decoded records live in, the output buffer encoders append
 * to, and the list of field errors. Decoding a record in steady state must
 * not call malloc: an arena keeps its largest chunk across resets.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moose/codec.h"

struct moose_arena_chunk {
    moose_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    max_align_t data[];
};

enum { ARENA_FIRST_CHUNK = 4096 };

void moose_arena_init(moose_arena *arena) {
    arena->head = NULL;
    arena->cur = arena->end = NULL;
}

static void arena_use(moose_arena *arena, moose_arena_chunk *c) {
    arena->head = c;
    arena->cur = (char *)c->data;
    arena->end = (char *)c->data + c->size;
}

void moose_arena_reset(moose_arena *arena) {
    /* keep the largest chunk: it is the one that fits a whole record */
    moose_arena_chunk *keep = NULL;
    for (moose_arena_chunk *c = arena->head; c; c = c->next)
        if (!keep || c->size > keep->size)
            keep = c;
    moose_arena_chunk *c = arena->head;
    while (c) {
        moose_arena_chunk *next = c->next;
        if (c != keep)
            free(c);
        c = next;
    }
    if (keep) {
        keep->next = NULL;
        arena_use(arena, keep);
    } else {
        moose_arena_init(arena);
    }
}

void moose_arena_free(moose_arena *arena) {
    moose_arena_chunk *c = arena->head;
    while (c) {
        moose_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    moose_arena_init(arena);
}

void *moose_arena_alloc(moose_arena *arena, size_t size, size_t align) {
    if (align == 0)
        align = 1;
    uintptr_t cur = (uintptr_t)arena->cur;
    uintptr_t aligned = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
    if (arena->cur && aligned <= (uintptr_t)arena->end &&
        size <= (uintptr_t)arena->end - aligned) {
        arena->cur = (char *)(aligned + size);
        return (void *)aligned;
    }
    /* a new chunk twice the size of the current one, and big enough for SIZE */
    size_t want = arena->head ? arena->head->size * 2 : ARENA_FIRST_CHUNK;
    if (size > SIZE_MAX / 2 - align)
        return NULL;
    while (want < size + align)
        want *= 2;
    moose_arena_chunk *c = malloc(sizeof(*c) + want);
    if (!c)
        return NULL;
    c->size = want;
    c->next = arena->head;
    arena_use(arena, c);
    aligned = ((uintptr_t)arena->cur + (align - 1)) & ~(uintptr_t)(align - 1);
    arena->cur = (char *)(aligned + size);
    return (void *)aligned;
}

/* ---- output buffer ---- */

void moose_buf_init(moose_buf *buf) {
    buf->data = NULL;
    buf->len = buf->cap = 0;
    buf->failed = false;
}

void moose_buf_free(moose_buf *buf) {
    free(buf->data);
    moose_buf_init(buf);
}

void moose_buf_reset(moose_buf *buf) {
    buf->len = 0;
    buf->failed = false;
}

bool moose_buf_reserve(moose_buf *buf, size_t n) {
    if (buf->failed)
        return false;
    if (n <= buf->cap - buf->len)
        return true;
    if (n > SIZE_MAX / 2 - buf->len) {
        buf->failed = true;
        return false;
    }
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap - buf->len < n)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (!data) {
        buf->failed = true;
        return false;
    }
    buf->data = data;
    buf->cap = cap;
    return true;
}

void moose_buf_append(moose_buf *buf, const void *data, size_t n) {
    if (!moose_buf_reserve(buf, n))
        return;
    if (n)
        memcpy(buf->data + buf->len, data, n);
    buf->len += n;
}

/* ---- field errors ---- */

void moose_errors_init(moose_errors *errs) {
    errs->items = NULL;
    errs->len = errs->cap = 0;
    errs->dropped = 0;
    errs->max = 0;
}

void moose_errors_free(moose_errors *errs) {
    free(errs->items);
    errs->items = NULL;
    errs->len = errs->cap = 0;
    errs->dropped = 0;
}

void moose_errors_clear(moose_errors *errs) {
    errs->len = 0;
    errs->dropped = 0;
}

void moose_errors_add(moose_errors *errs, const char *path, const char *rule, int64_t offset,
                      const char *fmt, ...) {
    if (!errs)
        return;
    size_t max = errs->max ? errs->max : 64;
    if (errs->len >= max) {
        errs->dropped++;
        return;
    }
    if (errs->len == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 4;
        if (cap > max)
            cap = max;
        moose_field_error *items = realloc(errs->items, cap * sizeof(*items));
        if (!items) {
            /* the count still tells the caller something failed */
            errs->dropped++;
            return;
        }
        errs->items = items;
        errs->cap = cap;
    }
    moose_field_error *e = &errs->items[errs->len++];
    snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    e->rule = rule;
    e->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}
