/*
 * What the parts of the semantic checker share. sema.c runs the passes in
 * order; each sema_*.c file checks one kind of declaration.
 */
#ifndef MOOSEC_SEMA_INTERNAL_H
#define MOOSEC_SEMA_INTERNAL_H

#include "ast.h"
#include "diag.h"
#include "symtab.h"

typedef struct moosec_sema {
    moosec_schema *schema;
    moosec_diag *diag;
    moosec_arena *arena;
    moosec_symtab models, tables, streams, transforms;
    /*
     * C symbols the generated code will define, mapped to the declaration
     * they come from, so two declarations that would collide in C are caught
     * here and not by the user's C compiler.
     */
    moosec_symtab c_symbols;
    bool *model_used; /* by model->index */
    /* each model's fields by name (by model->index), built on first lookup */
    moosec_symtab **model_fields;
    bool *table_used; /* by position in schema->tables */
} moosec_sema;

/* "an integer", "a string literal": what a user wrote, for "expected X, found Y". */
const char *moosec__value_desc(const moosec_value *v);

/* Reports a duplicate NAME of KIND at LOC with a note at the first definition. */
void moosec__sema_duplicate(moosec_sema *s, const char *kind, const char *name, moosec_loc loc,
                            moosec_loc first);

/* sema_names.c: identifiers that would break the generated C. */
bool moosec__c_reserved_word(const char *name);
bool moosec__c_standard_type(const char *name);
bool moosec__builtin_type_name(const char *name);
/* Claims the C symbol SYM for the declaration WHAT (e.g. "model 'A'") at LOC. */
void moosec__sema_claim_symbol(moosec_sema *s, const char *sym, const char *what, moosec_loc loc);
/* Claims every C symbol generated for declaration NAME of KIND ("model", "table", ...). */
void moosec__sema_claim_symbols(moosec_sema *s, const char *kind, const char *name,
                                moosec_loc loc);
void moosec__sema_check_decl_name(moosec_sema *s, const char *kind, const char *name,
                                  moosec_loc loc);

/* sema_models.c */
void moosec__sema_models(moosec_sema *s);
/* sema_constraints.c: the @attributes of one field (its type already resolved). */
void moosec__sema_field_constraints(moosec_sema *s, moosec_model *m, moosec_field *f);
/* sema_tables.c / sema_streams.c / sema_transforms.c */
void moosec__sema_tables(moosec_sema *s);
/* After the streams (implied tables exist): names SQLite would confuse, ignoring case. */
void moosec__sema_sql_names(moosec_sema *s);
void moosec__sema_streams(moosec_sema *s);
void moosec__sema_transforms(moosec_sema *s);

/*
 * Property lists: checks for duplicates and unknown names against KNOWN
 * (NULL-terminated), reporting in the words of WHERE ("table property").
 * Returns the property named NAME, or NULL.
 */
void moosec__sema_check_props(moosec_sema *s, const moosec_prop *const *props, size_t n,
                              const char *const *known, const char *where);
const moosec_prop *moosec__sema_prop(const moosec_prop *const *props, size_t n,
                                     const char *name);

/*
 * The name closest to NAME (by edit distance, close enough to be a typo) among
 * the keys of TAB, or among CANDIDATES (N of them); NULL when none is. For
 * "unknown type 'Adress' (did you mean 'Address'?)". Also NULL, without a
 * search, when the error it is for will not be printed (past the error limit
 * of S's diagnostics): a search per error over every name is quadratic.
 */
const char *moosec__suggest_in_table(const moosec_sema *s, const moosec_symtab *tab,
                                     const char *name);
const char *moosec__suggest_in_list(const moosec_sema *s, const char *const *candidates, size_t n,
                                    const char *name);
/* " (did you mean 'X'?)" or "", for the end of a message. */
const char *moosec__did_you_mean(moosec_sema *s, const char *suggestion);

/*
 * The field named NAME in M (the first, if declared twice), or NULL. A hash
 * lookup: a walk over the fields per lookup made order_by lists and has_
 * fields quadratic in the size of the model.
 */
moosec_field *moosec__model_field(moosec_sema *s, const moosec_model *m, const char *name);

#endif
