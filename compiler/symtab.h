/*
 * A string-keyed hash table in an arena, for name lookups in sema: a schema of
 * thousands of models must resolve each name in constant time, not by a walk
 * over every declaration.
 */
#ifndef MOOSEC_SYMTAB_H
#define MOOSEC_SYMTAB_H

#include <stddef.h>

#include "arena.h"

typedef struct moosec_sym {
    const char *name; /* NULL: empty slot */
    size_t hash;
    void *value;
} moosec_sym;

typedef struct moosec_symtab {
    moosec_arena *arena;
    moosec_sym *slots;
    size_t cap, len; /* cap is 0 or a power of two */
} moosec_symtab;

void moosec_symtab_init(moosec_symtab *tab, moosec_arena *arena);

/* The same, with room for N names up front (no regrowth, no garbage in the arena). */
void moosec_symtab_init_sized(moosec_symtab *tab, moosec_arena *arena, size_t n);

/* The value stored under NAME, or NULL. */
void *moosec_symtab_get(const moosec_symtab *tab, const char *name);

/*
 * Stores VALUE under NAME unless NAME is present already. Returns NULL when
 * stored, or the value already there (which is kept): the first definition
 * wins, so a duplicate can point back at it.
 */
void *moosec_symtab_put(moosec_symtab *tab, const char *name, void *value);

#endif
