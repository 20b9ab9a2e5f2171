/*
 * "Did you mean" for unknown names: the closest known name by edit distance,
 * offered only when it is near enough to be a typo. Runs only on errors.
 */
#include <string.h>

#include "sema_internal.h"

enum { SUGGEST_MAX_LEN = 64 };

/* Levenshtein distance with adjacent transpositions counted as one edit. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb) {
    size_t prev2[SUGGEST_MAX_LEN + 1], prev[SUGGEST_MAX_LEN + 1], cur[SUGGEST_MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        memcpy(prev2, prev, (lb + 1) * sizeof(size_t));
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

typedef struct best_match {
    const char *name;
    size_t distance;
} best_match;

static void consider(best_match *best, const char *name, const char *candidate) {
    size_t la = strlen(name), lb = strlen(candidate);
    /* a one- or two-letter name is as near to every other short name: no guess */
    if (la < 3 || lb < 3 || la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN ||
        strcmp(name, candidate) == 0)
        return;
    /* a third of the name may be wrong, at least one character */
    size_t limit = la / 3 > 1 ? la / 3 : 1;
    /* the lengths alone differ by more edits than allowed */
    if ((la > lb ? la - lb : lb - la) > limit)
        return;
    size_t d = edit_distance(name, la, candidate, lb);
    if (d <= limit && (!best->name || d < best->distance)) {
        best->name = candidate;
        best->distance = d;
    }
}

const char *moosec__suggest_in_table(const moosec_sema *s, const moosec_symtab *tab,
                                     const char *name) {
    best_match best = {NULL, 0};
    if (!moosec_diag_error_shown(s->diag))
        return NULL;
    for (size_t i = 0; i < tab->cap; i++)
        if (tab->slots[i].name)
            consider(&best, name, tab->slots[i].name);
    return best.name;
}

const char *moosec__suggest_in_list(const moosec_sema *s, const char *const *candidates, size_t n,
                                    const char *name) {
    best_match best = {NULL, 0};
    if (!moosec_diag_error_shown(s->diag))
        return NULL;
    for (size_t i = 0; i < n; i++)
        consider(&best, name, candidates[i]);
    return best.name;
}

const char *moosec__did_you_mean(moosec_sema *s, const char *suggestion) {
    if (!suggestion)
        return "";
    return moosec_arena_printf(s->arena, " (did you mean '%s'?)", suggestion);
}
