#include "symtab.h"

#include <stdint.h>
#include <string.h>

/* FNV-1a: short names, no adversary worth a keyed hash in a compiler. */
static size_t symtab_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

void moosec_symtab_init(moosec_symtab *tab, moosec_arena *arena) {
    memset(tab, 0, sizeof(*tab));
    tab->arena = arena;
}

void moosec_symtab_init_sized(moosec_symtab *tab, moosec_arena *arena, size_t n) {
    moosec_symtab_init(tab, arena);
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    tab->slots = moosec_arena_alloc(arena, cap * sizeof(*tab->slots));
    tab->cap = cap;
}

static moosec_sym *symtab_slot(moosec_sym *slots, size_t cap, const char *name, size_t hash) {
    size_t i = hash & (cap - 1);
    for (;;) {
        moosec_sym *s = &slots[i];
        if (!s->name || (s->hash == hash && strcmp(s->name, name) == 0))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

void *moosec_symtab_get(const moosec_symtab *tab, const char *name) {
    if (tab->cap == 0)
        return NULL;
    moosec_sym *s = symtab_slot(tab->slots, tab->cap, name, symtab_hash(name));
    return s->name ? s->value : NULL;
}

static void symtab_grow(moosec_symtab *tab) {
    size_t ncap = tab->cap ? tab->cap * 2 : 16;
    moosec_sym *nslots = moosec_arena_alloc(tab->arena, ncap * sizeof(*nslots));
    for (size_t i = 0; i < tab->cap; i++) {
        moosec_sym *old = &tab->slots[i];
        if (old->name)
            *symtab_slot(nslots, ncap, old->name, old->hash) = *old;
    }
    tab->slots = nslots;
    tab->cap = ncap;
}

void *moosec_symtab_put(moosec_symtab *tab, const char *name, void *value) {
    /* at most half full, so probes stay short */
    if ((tab->len + 1) * 2 > tab->cap)
        symtab_grow(tab);
    size_t hash = symtab_hash(name);
    moosec_sym *s = symtab_slot(tab->slots, tab->cap, name, hash);
    if (s->name)
        return s->value;
    s->name = name;
    s->hash = hash;
    s->value = value;
    tab->len++;
    return NULL;
}
