#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE (64 * 1024)

struct moosec_arena_block {
    moosec_arena_block *next;
    size_t used, size;
    max_align_t data[];
};

static void *arena_oom(void) {
    fputs("moosec: out of memory\n", stderr);
    abort();
}

void moosec_arena_init(moosec_arena *arena) { arena->head = NULL; }

void moosec_arena_free(moosec_arena *arena) {
    moosec_arena_block *b = arena->head;
    while (b) {
        moosec_arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena->head = NULL;
}

void *moosec_arena_alloc(moosec_arena *arena, size_t size) {
    const size_t align = sizeof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    moosec_arena_block *b = arena->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > ARENA_BLOCK_SIZE / 2 ? size : ARENA_BLOCK_SIZE;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return arena_oom();
        b->size = cap;
        b->used = 0;
        if (size > ARENA_BLOCK_SIZE / 2 && arena->head) {
            /* keep the current block as head: it still has room */
            b->next = arena->head->next;
            arena->head->next = b;
        } else {
            b->next = arena->head;
            arena->head = b;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *moosec_arena_strndup(moosec_arena *arena, const char *s, size_t len) {
    char *p = moosec_arena_alloc(arena, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *moosec_arena_strdup(moosec_arena *arena, const char *s) {
    return moosec_arena_strndup(arena, s, strlen(s));
}

char *moosec_arena_printf(moosec_arena *arena, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return moosec_arena_strdup(arena, "");
    char *p = moosec_arena_alloc(arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
