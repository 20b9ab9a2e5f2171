/*
 * A bump allocator: the schema's nodes and strings live here and are freed
 * together. Allocation failure aborts with a message (moosec is a compiler:
 * there is nothing sensible to salvage when memory runs out).
 */
#ifndef MOOSEC_ARENA_H
#define MOOSEC_ARENA_H

#include <stddef.h>

typedef struct moosec_arena_block moosec_arena_block;

typedef struct moosec_arena {
    moosec_arena_block *head;
} moosec_arena;

void moosec_arena_init(moosec_arena *arena);
void moosec_arena_free(moosec_arena *arena);

/* Zeroed memory aligned for any type. */
void *moosec_arena_alloc(moosec_arena *arena, size_t size);

/* A NUL-terminated copy of the LEN bytes at S. */
char *moosec_arena_strndup(moosec_arena *arena, const char *s, size_t len);
char *moosec_arena_strdup(moosec_arena *arena, const char *s);

/* printf into the arena. */
char *moosec_arena_printf(moosec_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
